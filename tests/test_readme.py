"""The README's commands are the ones CI and users run, and its model code runs as printed."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci in README
    assert "pytest" in ci


def test_readme_main_job_command_runs_the_digits_example():
    commands = README.split("## The two commands", 1)[1].split("## ", 1)[0]
    first = re.search(r"```sh\n(.*?)\n```", commands, re.S).group(1)
    assert first.endswith(".venv/bin/python examples/train_digits.py"), first
    assert (ROOT / "examples" / "train_digits.py").exists()
    # The MLP example stays: the other tests and the conformance docs use it.
    assert (ROOT / "examples" / "train_mlp.py").exists()


def test_readme_model_code_gives_the_same_losses_on_every_device():
    section = README.split("## PyTorch code, any device", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    # Run the definitions; the final loop prints, which is not what we check.
    namespace: dict = {}
    exec(code.split("\nfor device in", 1)[0], namespace)
    losses = [namespace["fit"](device) for device in ("cpu", "cpu@jax")]
    assert losses[0] == pytest.approx(losses[1], rel=1e-5)
    assert losses[0] < 1.0  # trained: cross-entropy of 3 classes starts near log(3) = 1.1
