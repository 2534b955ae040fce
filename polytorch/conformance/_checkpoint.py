"""The checkpoint layer: ``polytorch.save`` on the device, ``load`` to cpu and back, bit for bit.

Test ids: ``checkpoint/DTYPE/roundtrip`` for every polytorch dtype (unsupported
where the device lacks it), ``checkpoint/nested`` (dicts, lists, tuples,
numbers, strings, shared tensors, ``requires_grad``), ``checkpoint/module``
(an ``nn.Module`` state dict, PyTorch's keys, and a fresh model loaded from it),
``checkpoint/optimizer`` (SGD with momentum and Adam state dicts, and training
resumed from them), ``checkpoint/corrupted`` (a flipped or truncated file raises
``CheckpointError``) and ``checkpoint/atomic`` (a failed save keeps the old file).
Checkpoints record no device (ARCHITECTURE §7): what is saved on the device
loads on ``cpu`` (``map_location="cpu"``) and back on the device with the same
bits, dtypes and placement.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from functools import partial

import numpy as np

import polytorch

from .. import _dtype as D
from .._tensor import Tensor
from ..serialization import CheckpointError
from ._core import PASS, UNSUPPORTED, Case, Outcome, Target, open_target
from ._device import expect, expect_raises, host, on_device, same_bits, specials

CPU = "cpu"


def cases(target: Target) -> Iterator[Case]:
    """The checkpoint layer's cases for ``target``."""
    for dt in D.ALL_DTYPES:
        yield Case(f"checkpoint/{dt.name}/roundtrip", partial(roundtrip, dt, target))
    for name, check in CHECKS.items():
        yield Case(f"checkpoint/{name}", partial(check, target))


# -- comparing what was saved with what was loaded ---------------------------------------


def _same(saved, loaded, device, path: str = "obj") -> int:
    """Raise AssertionError where ``loaded`` differs from ``saved``; the number of tensors.

    Tensors must be on ``device`` with the saved dtype, ``requires_grad`` and bits;
    containers keep their type, keys and order; numbers keep their type and value.
    """
    if isinstance(saved, Tensor):
        expect(isinstance(loaded, Tensor), f"{path}: loaded a {type(loaded).__name__}, "
                                           f"saved a Tensor")
        expect(loaded.device == polytorch.device(device),
               f"{path}: loaded on {loaded.device}, expected {device}")
        expect(loaded.dtype is saved.dtype,
               f"{path}: loaded as {loaded.dtype}, saved as {saved.dtype}")
        expect(tuple(loaded.shape) == tuple(saved.shape),
               f"{path}: loaded shape {list(loaded.shape)}, saved {list(saved.shape)}")
        expect(loaded.requires_grad == saved.requires_grad,
               f"{path}: requires_grad {loaded.requires_grad}, saved {saved.requires_grad}")
        a, b = host(saved.detach()), host(loaded.detach())
        if not same_bits(a, b):
            ab, bb = (np.frombuffer(np.ascontiguousarray(v).tobytes(), np.uint8) for v in (a, b))
            where = f" ({int((ab != bb).sum())} bytes differ)" if ab.size == bb.size else ""
            raise AssertionError(f"{path}: the loaded bits differ from the saved ones{where}: "
                                 f"saved {a!r}, loaded {b!r}")
        return 1
    expect(type(loaded) is type(saved),
           f"{path}: loaded a {type(loaded).__name__}, saved a {type(saved).__name__}")
    if isinstance(saved, dict):
        expect(list(loaded) == list(saved),
               f"{path}: keys {list(loaded)!r}, saved {list(saved)!r}")
        return sum(_same(v, loaded[k], device, f"{path}[{k!r}]") for k, v in saved.items())
    if isinstance(saved, (list, tuple)):
        expect(len(loaded) == len(saved), f"{path}: {len(loaded)} items, saved {len(saved)}")
        return sum(_same(v, w, device, f"{path}[{i}]")
                   for i, (v, w) in enumerate(zip(saved, loaded)))
    if isinstance(saved, float) and math.isnan(saved):
        expect(math.isnan(loaded), f"{path}: loaded {loaded!r}, saved nan")
    else:
        expect(loaded == saved, f"{path}: loaded {loaded!r}, saved {saved!r}")
    return 0


def _save_load(obj, target: Target, check: Callable | None = None) -> int:
    """Save ``obj`` to a file; load it on cpu and on the device and compare both with ``obj``.

    ``check(loaded, device)`` runs extra checks on each loaded copy. Returns the
    number of tensors compared per load.
    """
    with tempfile.TemporaryDirectory(prefix="polytorch-conformance-") as tmp:
        path = os.path.join(tmp, "ckpt.safetensors")
        polytorch.save(obj, path)
        n = 0
        for device in (CPU, target.device):
            loaded = polytorch.load(path, map_location=device)
            n = _same(obj, loaded, device)
            if check is not None:
                check(loaded, device)
        return n


# -- every dtype ---------------------------------------------------------------------------


def roundtrip(dt: D.dtype, target: Target) -> Outcome:
    """Special values (NaN, -0.0, subnormals, extremes), a 0-d, an empty and a strided tensor.

    Loaded values are compared with the NumPy arrays the tensors were made from,
    so bits lost on the way out of the device count too.
    """
    if not target.has(dt):
        return Outcome(UNSUPPORTED, f"{target.device} does not support {dt.name}")
    values = specials(dt)
    wide = np.stack([values, values[::-1]])
    expected = {"values": values, "scalar": values[1], "empty": values[:0].reshape(0, 3),
                "transposed": wide.T}
    dev = target.device
    obj = {k: polytorch.tensor(v, dtype=dt, device=dev) for k, v in expected.items()}
    # non-contiguous on the device: saved as its values, not its storage
    obj["transposed"] = polytorch.tensor(wide, dtype=dt, device=dev).T
    for name, t in obj.items():
        on_device(t, target, name)
    loads = [target.device]
    if open_target(CPU).has(dt):
        loads.insert(0, CPU)
    with tempfile.TemporaryDirectory(prefix="polytorch-conformance-") as tmp:
        path = os.path.join(tmp, "ckpt.safetensors")
        polytorch.save(obj, path)
        for device in loads:
            loaded = polytorch.load(path, map_location=device)
            _same(obj, loaded, device)
            for name, t in loaded.items():
                got, want = host(t), np.asarray(expected[name])
                if dt is D.bfloat16:  # NumPy has no bfloat16: compare exact float32 values
                    got, want = got.astype(np.float32), _bfloat16(want)
                expect(same_bits(got, want),
                       f"{name} loaded on {device}: {got!r}, saved from {expected[name]!r}")
                if device == target.device:
                    on_device(t, target, f"{name} loaded on the device")
    note = "" if CPU in loads else f" ({CPU} has no {dt.name}: loaded on the device only)"
    return Outcome(PASS, f"{len(obj)} tensors saved, loaded on {' and '.join(map(str, loads))}, "
                         f"bit for bit{note}")


def _bfloat16(values: np.ndarray) -> np.ndarray:
    """float32 ``values`` rounded to bfloat16 (and back to float32)."""
    import ml_dtypes  # installed wherever a backend has bfloat16 (JAX depends on it)

    return values.astype(ml_dtypes.bfloat16).astype(np.float32)


# -- structure ---------------------------------------------------------------------------


def _float(target: Target) -> D.dtype:
    return D.float32 if target.has(D.float32) else D.float64


def nested(target: Target) -> Outcome:
    f, dev = _float(target), target.device
    a = polytorch.tensor([[1.5, -2.0], [0.25, 3.0]], dtype=f, device=dev)
    w = polytorch.tensor([0.5, -0.125], dtype=f, device=dev, requires_grad=True)
    obj = {
        "step": 7, "lr": 0.001, "eps": 1e-8, "name": "run-1", "none": None, "flag": True,
        "inf": math.inf, "nan": math.nan, "big": 2**62, "dtype": f,
        "tensors": [a, (w, polytorch.tensor([True, False], device=dev))],
        "nested": {"a": {"b": [a[1], {3: "int key"}]}, "empty": [], "tuple": ()},
        "again": a,  # the same tensor twice: loaded as one tensor
    }
    if target.has(D.int64):
        obj["nested"]["ints"] = polytorch.tensor([2**40, -1], dtype=D.int64, device=dev)

    def shared(loaded, device):
        expect(loaded["again"] is loaded["tensors"][0],
               f"loaded on {device}: a tensor saved twice came back as two tensors")
        expect(loaded["tensors"][1][0].is_leaf, "a leaf requiring grad came back as a non-leaf")

    n = _save_load(obj, target, shared)
    return Outcome(PASS, f"{n} tensors in nested containers, numbers and strings")


def _need(*names: str) -> None:
    """Fail with a clear message when a part of polytorch the check uses is missing."""
    missing = []
    for name in names:
        obj = polytorch
        for part in name.split("."):
            obj = getattr(obj, part, None)
        if obj is None:
            missing.append(f"polytorch.{name}")
    if missing:
        raise AssertionError(f"this check needs {', '.join(missing)}, which polytorch does not "
                             f"have (yet)")


def _mlp(dev, f):
    nn = polytorch.nn
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)).to(device=dev, dtype=f)


def module(target: Target) -> Outcome:
    """A state dict with parameters and buffers (BatchNorm's, where the device has int64)."""
    _need("nn.Sequential", "nn.Linear", "nn.ReLU", "nn.BatchNorm1d")
    nn, f, dev = polytorch.nn, _float(target), target.device
    norm = target.has(D.int64)  # BatchNorm counts batches in an int64 buffer

    def make():
        model = _mlp(dev, f)
        if norm:
            model.append(nn.BatchNorm1d(2).to(device=dev, dtype=f))
        return model

    model = make()
    x = polytorch.tensor(np.linspace(-1, 1, 20).reshape(5, 4), dtype=f, device=dev)
    model.train()
    model(x)  # updates the running statistics, so the buffers are not their initial values
    model.eval()
    sd = model.state_dict()
    keys = ["0.weight", "0.bias", "2.weight", "2.bias"]
    if norm:
        keys += ["3.weight", "3.bias", "3.running_mean", "3.running_var",
                 "3.num_batches_tracked"]
    expect(list(sd) == keys, f"state_dict keys {list(sd)}, PyTorch's are {keys}")
    n = _save_load(sd, target)
    fresh = make()
    fresh.load_state_dict(polytorch.load(_bytes(sd), map_location=dev))
    fresh.eval()
    with polytorch.no_grad():
        expect(same_bits(host(fresh(x)), host(model(x))),
               "a model loaded from the checkpoint computes other outputs than the saved one")
    note = "" if norm else f" (no BatchNorm: {dev} has no int64 for its batch counter)"
    return Outcome(PASS, f"state_dict of {n} tensors; the reloaded model gives the same "
                         f"bits{note}")


def _bytes(obj) -> io.BytesIO:
    buf = io.BytesIO()
    polytorch.save(obj, buf)
    buf.seek(0)
    return buf


def _train(model, opt, x, steps: int) -> None:
    for _ in range(steps):
        opt.zero_grad()
        (model(x) ** 2).mean().backward()
        opt.step()


def optimizer(target: Target) -> Outcome:
    _need("nn.Sequential", "nn.Linear", "nn.ReLU", "optim.SGD", "optim.Adam")
    f, dev = _float(target), target.device
    x = polytorch.tensor(np.linspace(-1, 1, 20).reshape(5, 4), dtype=f, device=dev)
    made = {"SGD": lambda p: polytorch.optim.SGD(p, lr=0.1, momentum=0.9),
            "Adam": lambda p: polytorch.optim.Adam(p, lr=0.01)}
    total = 0
    for name, make in made.items():
        model = _mlp(dev, f)
        opt = make(model.parameters())
        _train(model, opt, x, 2)
        sd = opt.state_dict()
        expect(len(sd.get("state", {})) == 4, f"{name}: state for {len(sd.get('state', {}))} "
                                              f"parameters after two steps, expected 4")
        total += _save_load(sd, target)
        # Resume: a copy of the model and a fresh optimizer loaded from the checkpoint
        # must take the same next step as the original.
        twin = _mlp(dev, f)
        twin.load_state_dict(model.state_dict())
        opt2 = make(twin.parameters())
        opt2.load_state_dict(polytorch.load(_bytes(sd), map_location=dev))
        _train(model, opt, x, 1)
        _train(twin, opt2, x, 1)
        for (key, p), q in zip(model.state_dict().items(), twin.state_dict().values()):
            expect(same_bits(host(p), host(q)),
                   f"{name}: after resuming from the checkpoint, {key} differs from the "
                   f"uninterrupted run")
    return Outcome(PASS, f"SGD (momentum) and Adam state dicts ({total} tensors); resumed "
                         f"training matches bit for bit")


# -- bad files ---------------------------------------------------------------------------


def corrupted(target: Target) -> Outcome:
    f, dev = _float(target), target.device
    obj = {"w": polytorch.tensor(np.linspace(-1, 1, 64).reshape(8, 8), dtype=f, device=dev),
           "step": 3}
    data = _bytes(obj).getvalue()
    header = 8 + int.from_bytes(data[:8], "little")
    bad = {
        "a flipped data byte": _flip(data, header + (len(data) - header) // 2),
        "a flipped header byte": _flip(data, 8 + (header - 8) // 2),
        "a truncated file": data[: len(data) - 7],
        "a truncated header": data[: header // 2],
        "an empty file": b"",
    }
    with tempfile.TemporaryDirectory(prefix="polytorch-conformance-") as tmp:
        for what, blob in bad.items():
            path = os.path.join(tmp, "bad.safetensors")
            with open(path, "wb") as fh:
                fh.write(blob)
            err = expect_raises(CheckpointError, lambda p=path: polytorch.load(p, map_location=dev),
                                f"loading {what} on {dev}")
            expect("bad.safetensors" in str(err), f"loading {what}: the error does not name "
                                                 f"the file: {err}")
    _same(obj, polytorch.load(io.BytesIO(data), map_location=dev), dev)  # the intact one loads
    return Outcome(PASS, f"{len(bad)} damaged files refused with CheckpointError")


def _flip(data: bytes, i: int) -> bytes:
    return data[:i] + bytes([data[i] ^ 0x20]) + data[i + 1:]


def atomic(target: Target) -> Outcome:
    """A save that fails (an object that cannot be stored) leaves the previous file intact."""
    f, dev = _float(target), target.device
    good = {"w": polytorch.tensor([1.0, 2.0], dtype=f, device=dev)}
    with tempfile.TemporaryDirectory(prefix="polytorch-conformance-") as tmp:
        path = os.path.join(tmp, "ckpt.safetensors")
        polytorch.save(good, path)
        before = _read(path)
        broken = {"w": polytorch.tensor([3.0], dtype=f, device=dev), "bad": object()}
        expect_raises(TypeError, lambda: polytorch.save(broken, path), "saving an object()")
        expect(_read(path) == before, "a failed save changed the existing file")
        expect(os.listdir(tmp) == ["ckpt.safetensors"],
               f"a failed save left files behind: {sorted(os.listdir(tmp))}")
        _same(good, polytorch.load(path, map_location=dev), dev)
    return Outcome(PASS, "the failed save left the old checkpoint intact")


def _read(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


CHECKS: dict[str, Callable[[Target], Outcome]] = {
    "nested": nested,
    "module": module,
    "optimizer": optimizer,
    "corrupted": corrupted,
    "atomic": atomic,
}
