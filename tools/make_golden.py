"""Write ``polytorch/conformance/golden_training.json``: PyTorch's losses for the training layer.

The conformance kit's training layer (``polytorch/conformance/_training.py``)
trains small models on the device under test and compares their losses with
these, which PyTorch (the independent reference; never imported by polytorch)
computes here from the same initial weights and data (``_training.problem``, plain
NumPy) with its own modules, ``torch.optim.SGD`` and ``F.cross_entropy``.

Usage (after changing ``MODELS`` or the problems)::

    python tools/make_golden.py            # rewrite the golden file
    python tools/make_golden.py --check    # exit 1 if the file is not what torch computes
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from polytorch.conformance import _training

OUT = Path(_training.__file__).with_name(_training.GOLDEN_FILE)


def build(name: str) -> torch.nn.Sequential:
    layers = []
    for kind, args in _training.MODELS[name]["layers"]:
        if kind == "Conv2d":
            cin, cout, k, stride, padding = args
            layers.append(torch.nn.Conv2d(cin, cout, k, stride=stride, padding=padding))
        else:
            layers.append(getattr(torch.nn, kind)(*args))
    return torch.nn.Sequential(*layers)


def train(name: str) -> list[float]:
    """PyTorch's losses for ``name``: one per SGD step, then the loss after the last."""
    p = _training.problem(name)
    model = build(name)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in p["state"].items()})
    opt = torch.optim.SGD(model.parameters(), lr=p["lr"], momentum=p["momentum"])
    x, y = torch.from_numpy(p["x"]), torch.from_numpy(p["y"])
    losses = []
    for _ in range(p["steps"]):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    with torch.no_grad():
        losses.append(torch.nn.functional.cross_entropy(model(x), y).item())
    return losses


def golden() -> dict:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one summation order, whatever the machine
    try:
        models = {name: {"losses": train(name)} for name in _training.MODELS}
    finally:
        torch.set_num_threads(threads)
    return {"generator": "tools/make_golden.py", "torch": torch.__version__,
            "dtype": "float32", "models": models}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the stored file instead of writing it")
    args = parser.parse_args(argv)
    data = golden()
    if args.check:
        stored = json.loads(OUT.read_text())
        ok = stored["models"] == data["models"]
        print(f"{OUT}: {'up to date' if ok else 'differs from what torch computes'}")
        return 0 if ok else 1
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
