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
