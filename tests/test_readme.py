"""The README's commands are the ones CI and users run."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci in (ROOT / "README.md").read_text()
    assert "pytest" in ci


def test_readme_main_job_command_runs_the_example():
    readme = (ROOT / "README.md").read_text()
    assert "examples/train_mlp.py" in readme
    assert (ROOT / "examples" / "train_mlp.py").exists()
