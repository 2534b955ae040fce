"""The main job trains: its loss goes down on the default device."""

import re
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "train_mlp.py"


def test_main_job_loss_goes_down():
    out = subprocess.run([sys.executable, str(EXAMPLE), "--steps", "400"],
                         capture_output=True, text=True, timeout=300, check=True).stdout
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
