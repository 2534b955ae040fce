"""The training layer: small models trained on the device give PyTorch's losses (golden values).

Test ids: ``training/mlp`` (Linear, ReLU, Linear) and ``training/cnn`` (Conv2d,
ReLU, MaxPool2d, Conv2d, ReLU, AvgPool2d, Flatten, Linear). Each model starts
from float32 weights drawn with a fixed NumPy seed, trains for a few steps of
SGD with momentum on fixed data with ``F.cross_entropy``, and its losses (one
per step, then the loss after the last step) must match the golden losses that
PyTorch computed from the same weights and data (``golden_training.json``,
written by ``tools/make_golden.py``; polytorch never imports torch) within
``RTOL``. The problems are plain NumPy (``problem``), shared with the
generator, so both sides train exactly the same thing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache, partial
from importlib import resources

import numpy as np

import polytorch

from .. import _dtype as D
from ._core import FAIL, PASS, UNSUPPORTED, Case, Outcome, Target

GOLDEN_FILE = "golden_training.json"
# float32 losses after a few steps differ from PyTorch's by rounding only (about
# 1e-6 relative: other summation orders in matmul and conv); a wrong gradient or
# update rule moves them by far more.
RTOL = 1e-4

# name -> (layers as (kind, args), input shape, classes, seed, lr, momentum, steps).
# Each side builds its own modules from this description.
MODELS: dict[str, dict] = {
    "mlp": {
        "layers": [("Linear", (10, 16)), ("ReLU", ()), ("Linear", (16, 3))],
        "input": (24, 10), "classes": 3, "seed": 0, "lr": 0.5, "momentum": 0.9, "steps": 5,
    },
    "cnn": {
        "layers": [("Conv2d", (1, 4, 3, 1, 1)), ("ReLU", ()), ("MaxPool2d", (2,)),
                   ("Conv2d", (4, 8, 3, 1, 1)), ("ReLU", ()), ("AvgPool2d", (2,)),
                   ("Flatten", ()), ("Linear", (32, 3))],
        "input": (6, 1, 8, 8), "classes": 3, "seed": 1, "lr": 0.3, "momentum": 0.9,
        "steps": 5,
    },
}


def cases(target: Target) -> Iterator[Case]:
    """The training layer's cases for ``target``."""
    for name in MODELS:
        yield Case(f"training/{name}", partial(train_case, name, target))


def problem(name: str) -> dict:
    """The model's initial ``state`` (PyTorch state_dict keys -> float32 arrays) and data.

    Weights are uniform in +-1/sqrt(fan_in) (PyTorch's default scale), drawn in
    the order of the layers from ``np.random.RandomState(seed)``.
    """
    spec = MODELS[name]
    rng = np.random.RandomState(spec["seed"])
    state = {}
    for i, (kind, args) in enumerate(spec["layers"]):
        if kind == "Linear":
            fan_in, fan_out = args
            shapes = {"weight": (fan_out, fan_in), "bias": (fan_out,)}
        elif kind == "Conv2d":
            cin, cout, k = args[:3]
            fan_in = cin * k * k
            shapes = {"weight": (cout, cin, k, k), "bias": (cout,)}
        else:
            continue
        bound = 1.0 / np.sqrt(fan_in)
        for key, shape in shapes.items():
            state[f"{i}.{key}"] = rng.uniform(-bound, bound, size=shape).astype(np.float32)
    x = rng.standard_normal(spec["input"]).astype(np.float32)
    y = (np.arange(spec["input"][0]) + rng.randint(0, 2)) % spec["classes"]
    return {"state": state, "x": x, "y": y.astype(np.int64), "lr": spec["lr"],
            "momentum": spec["momentum"], "steps": spec["steps"]}


@cache
def golden() -> dict:
    """The golden file: ``{"models": {name: {"losses": [...]}}, ...}``."""
    text = resources.files(__package__).joinpath(GOLDEN_FILE).read_text()
    return json.loads(text)


def _build(name: str):
    """The polytorch model for ``MODELS[name]`` (missing modules: a clear AttributeError)."""
    nn = polytorch.nn
    missing = [f"polytorch.nn.{kind}" for kind, _ in MODELS[name]["layers"]
               if not hasattr(nn, kind)]
    missing += [f"polytorch.{n}" for n in ("nn.Sequential", "optim.SGD",
                                           "nn.functional.cross_entropy")
                if not _has(n)]
    if missing:
        raise AttributeError(f"training/{name} needs {', '.join(dict.fromkeys(missing))}, "
                             f"which polytorch does not have (yet)")
    layers = []
    for kind, args in MODELS[name]["layers"]:
        if kind == "Conv2d":
            cin, cout, k, stride, padding = args
            layers.append(nn.Conv2d(cin, cout, k, stride=stride, padding=padding))
        else:
            layers.append(getattr(nn, kind)(*args))
    return nn.Sequential(*layers)


def _has(dotted: str) -> bool:
    obj = polytorch
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return False
    return True


def train(name: str, device) -> list[float]:
    """Train ``MODELS[name]`` on ``device``; the loss of every step, then the final loss."""
    p = problem(name)
    F = polytorch.nn.functional
    model = _build(name).to(device)
    model.load_state_dict({k: polytorch.tensor(v, device=device) for k, v in p["state"].items()})
    opt = polytorch.optim.SGD(model.parameters(), lr=p["lr"], momentum=p["momentum"])
    x = polytorch.tensor(p["x"], device=device)
    y = polytorch.tensor(p["y"], device=device)
    losses = []
    for _ in range(p["steps"]):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        if loss.device != polytorch.device(device) or loss.dtype is not D.float32:
            raise AssertionError(f"the loss is a {loss.dtype} on {loss.device}, expected "
                                 f"float32 on {device}")
        loss.backward()
        opt.step()
        losses.append(loss.item())
    with polytorch.no_grad():
        losses.append(F.cross_entropy(model(x), y).item())
    return losses


def train_case(name: str, target: Target) -> Outcome:
    """Train on the device and compare the losses with the golden ones."""
    needs = [d for d in (D.float32, D.int64) if not target.has(d)]
    if needs:
        return Outcome(UNSUPPORTED, f"{target.device} does not support "
                                    f"{', '.join(d.name for d in needs)} (float32 weights, "
                                    f"int64 class targets)")
    want = np.asarray(golden()["models"][name]["losses"], np.float64)
    got = np.asarray(train(name, target.device), np.float64)
    if got.shape != want.shape:
        return Outcome(FAIL, f"{got.size} losses, the golden run has {want.size}")
    diff = np.abs(got - want)
    rel = diff / np.abs(want)
    max_abs, max_rel = float(np.nan_to_num(diff, nan=np.inf).max()), float(
        np.nan_to_num(rel, nan=np.inf).max())
    shown = ", ".join(f"{v:.7g}" for v in got)
    if not np.all(rel <= RTOL):  # (NaN fails too)
        step = int(np.argmax(~(rel <= RTOL)))
        return Outcome(FAIL, f"losses differ from PyTorch's (rtol={RTOL}) first at step {step}: "
                             f"got {got[step]:.7g}, golden {want[step]:.7g}; losses: {shown}",
                       max_abs, max_rel)
    return Outcome(PASS, f"{got.size - 1} SGD steps, losses {shown} match PyTorch's",
                   max_abs, max_rel)
