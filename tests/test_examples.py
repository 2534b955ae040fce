"""The examples run: the main job (digits) reaches its accuracy, the others train and print."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EXAMPLE = EXAMPLES / "train_mlp.py"
# One BLAS thread: CI's two cores are shared with pytest, and oversubscribed BLAS threads
# make small matmuls a hundred times slower.
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
SLOW = os.environ.get("POLYTORCH_SLOW_TESTS") == "1"


def _run(script, *args, timeout=300):
    proc = subprocess.run([sys.executable, str(EXAMPLES / script), *args], capture_output=True,
                          text=True, timeout=timeout, env=ENV)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_digits_reaches_95_percent_held_out_accuracy():
    out = _run("train_digits.py", "--epochs", "3")
    assert len(re.findall(r"^epoch +\d+/3 \[#+\] +23/23 loss", out, re.M)) == 3, out
    accuracy = float(re.search(r"^test accuracy: ([0-9.]+)%$", out, re.M).group(1))
    assert accuracy >= 95.0, out


@pytest.mark.slow
@pytest.mark.skipif(not SLOW, reason="cpu@jax compiles every op: set POLYTORCH_SLOW_TESTS=1")
def test_digits_runs_on_jax():
    out = _run("train_digits.py", "--epochs", "1", "--device", "cpu@jax", timeout=900)
    assert "device cpu@jax" in out and "test accuracy:" in out, out


def test_char_gpt_loss_goes_down_and_it_samples():
    out = _run("char_gpt.py", "--steps", "40", "--eval-every", "20", "--block-size", "32",
               "--batch-size", "8", "--sample-chars", "60")
    losses = [float(x) for x in re.findall(r"train loss ([0-9.]+)", out)]
    val = [float(x) for x in re.findall(r"val loss ([0-9.]+)", out)]
    assert len(losses) == 3 and losses[-1] < losses[0] - 0.5 and val[-1] < val[0], out
    sample = out.split("--- sample ---\n", 1)[1]
    text = (EXAMPLES / "data" / "tiny_text.txt").read_text()
    assert len(sample.rstrip("\n")) >= 60 and set(sample) <= set(text) | {"\n"}, out


def test_main_job_loss_goes_down():
    out = subprocess.run([sys.executable, str(EXAMPLE), "--steps", "400"],
                         capture_output=True, text=True, timeout=300, check=True, env=ENV).stdout
    losses = [float(m) for m in re.findall(r"loss ([0-9.]+)", out)]
    assert len(losses) >= 5, out
    assert losses[-1] < 0.5 * losses[0], out


def test_overhead_benchmark_runs_and_prints_its_table():
    """A smoke run (no timing is asserted): every backend row and the ratio columns appear."""
    script = EXAMPLE.parents[1] / "benchmarks" / "overhead.py"
    out = subprocess.run([sys.executable, str(script), "--repeat", "1", "--number", "3"],
                         capture_output=True, text=True, timeout=300, check=True).stdout
    assert "x fwd+bwd" in out, out
    rows = [line for line in out.splitlines() if line.startswith(("torch", "polytorch"))]
    labels = [line.split(")")[0] + ")" for line in rows]
    assert "torch (cpu)" in labels and "polytorch (cpu)" in labels, out
    for line in rows:
        assert len(re.findall(r"\d+\.\d\d", line)) == 6, line
