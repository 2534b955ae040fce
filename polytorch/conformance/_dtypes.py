"""The dtypes layer: what a device declares is what works; what it does not is refused.

Test ids, for every polytorch dtype: ``dtypes/DTYPE/create``, ``dtypes/DTYPE/move``
and ``dtypes/DTYPE/compute`` where the device declares the dtype
(``backend.supported_dtypes``), ``dtypes/DTYPE/refused`` where it does not: a
device must raise a clear error (naming the dtype and the device) rather than
silently hold another dtype. Values are compared with NumPy on the host in the
same dtype (bit for bit for creation and transfers; within the dtype's
tolerance for arithmetic).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import numpy as np

import polytorch

from .. import _dtype as D
from ._core import PASS, Case, Outcome, Target
from ._device import expect, expect_raises, host, on_device, same_bits, specials


def cases(target: Target) -> Iterator[Case]:
    """The dtypes layer's cases for ``target``."""
    for dt in D.ALL_DTYPES:
        if target.has(dt):
            yield Case(f"dtypes/{dt.name}/create", partial(create, dt, target))
            yield Case(f"dtypes/{dt.name}/move", partial(move, dt, target))
            yield Case(f"dtypes/{dt.name}/compute", partial(compute, dt, target))
        else:
            yield Case(f"dtypes/{dt.name}/refused", partial(refused, dt, target))


def _np(dt: D.dtype) -> str:
    # bfloat16 values are compared through float32 (NumPy has no bfloat16 of its own).
    return "float32" if dt is D.bfloat16 else dt.name


def _host(t) -> np.ndarray:
    return host(t.float()) if t.dtype is D.bfloat16 else host(t)


def _values(dt: D.dtype) -> np.ndarray:
    """Small values exactly representable in ``dt``."""
    if dt.kind == "b":
        return np.array([True, False, True, True])
    base = np.array([0, 1, 2, 5, 3, 7], dtype=np.int64)
    if dt.kind == "f" or dt is D.bfloat16:
        return (base * 0.5 - 1).astype(_np(dt))
    if dt.kind == "c":
        return (base * 0.5 + 1j * base[::-1]).astype(dt.name)
    return base.astype(dt.name)


def create(dt: D.dtype, target: Target) -> Outcome:
    dev = target.device
    made = {
        "zeros": (polytorch.zeros(3, dtype=dt, device=dev), np.zeros(3, _np(dt))),
        "ones": (polytorch.ones(3, dtype=dt, device=dev), np.ones(3, _np(dt))),
        "full": (polytorch.full((2,), 1, dtype=dt, device=dev), np.full(2, 1, _np(dt))),
        "empty": (polytorch.empty(2, dtype=dt, device=dev), None),
        "tensor": (polytorch.tensor(_values(dt), dtype=dt, device=dev), _values(dt)),
    }
    if dt.kind not in "bc":
        made["arange"] = (polytorch.arange(4, dtype=dt, device=dev), np.arange(4, dtype=_np(dt)))
    for name, (t, expected) in made.items():
        expect(t.dtype is dt, f"{name}(dtype={dt}) gave {t.dtype}")
        on_device(t, target, f"{name}(dtype={dt})")
        if expected is not None:
            expect(same_bits(_host(t), expected), f"{name}: {_host(t)}, expected {expected}")
    return Outcome(PASS, ", ".join(made))


def move(dt: D.dtype, target: Target) -> Outcome:
    """To ``cpu`` and back with the same bits (bfloat16 through a float32 view of its values)."""
    cpu = polytorch.device("cpu@numpy")
    values = specials(dt)
    t = polytorch.tensor(values, dtype=dt, device=target.device)
    if dt not in polytorch._device.resolve(cpu)[0]._dtypes:
        expect_raises(TypeError, lambda: t.to(cpu), f"{dt} to a cpu without it", dt.name)
        return Outcome(PASS, f"cpu has no {dt.name}: refused, as it should")
    c = t.to(cpu)
    expect(c.dtype is dt, f".to(cpu) gave {c.dtype}")
    expect(same_bits(_host(c), _host(t)), f".to(cpu) changed the bits: {_host(c)}")
    back = c.to(target.device)
    expect(back.dtype is dt, f".to(device) gave {back.dtype}")
    expect(same_bits(_host(back), _host(t)), f"cpu -> device changed the bits: {_host(back)}")
    return Outcome(PASS)


def _close(got: np.ndarray, expected: np.ndarray, dt: D.dtype, what: str) -> None:
    expect(got.shape == expected.shape, f"{what}: shape {got.shape}, expected {expected.shape}")
    if dt.kind in "fc" or dt is D.bfloat16:
        tol = {D.float16: 1e-3, D.bfloat16: 1e-2}.get(dt, 1e-6)
        ok = np.allclose(got.astype(np.complex128), expected.astype(np.complex128),
                         rtol=tol, atol=tol, equal_nan=True)
    else:
        ok = np.array_equal(got, expected)
    expect(ok, f"{what} in {dt}: {got}, expected {expected}")


def compute(dt: D.dtype, target: Target) -> Outcome:
    """A few ops in ``dt``: results keep PyTorch's dtype and NumPy's values."""
    dev = target.device
    a_np, b_np = _values(dt), _values(dt)[::-1].copy()
    a = polytorch.tensor(a_np, dtype=dt, device=dev)
    b = polytorch.tensor(b_np, dtype=dt, device=dev)
    checks = {}
    if dt.kind == "b":
        checks["logical_and"] = (a & b, a_np & b_np, dt)
        checks["logical_not"] = (~a, ~a_np, dt)
        checks["eq"] = (a == b, a_np == b_np, D.bool)
    else:
        checks["add"] = (a + b, a_np + b_np, dt)
        checks["mul"] = (a * b, a_np * b_np, dt)
        checks["eq"] = (a == b, a_np == b_np, D.bool)
        checks["where"] = (polytorch.where(a == b, a, b), np.where(a_np == b_np, a_np, b_np), dt)
        checks["getitem"] = (a[1:4], a_np[1:4], dt)
        if dt.kind not in "uc":
            checks["maximum"] = (polytorch.maximum(a, b), np.maximum(a_np, b_np), dt)
        if dt.kind in "fc" or dt is D.bfloat16:
            checks["div"] = (a / (b + 3), a_np / (b_np + 3), dt)
    if dt.kind == "b" and target.has(D.int64):
        checks["sum"] = (a.sum(), np.asarray(a_np.sum()), D.int64)
    elif dt.kind in "iu" and target.has(D.int64):
        checks["sum"] = (a.sum(), np.asarray(a_np.sum()), D.int64)
    elif dt.kind in "fc" or dt is D.bfloat16:
        checks["sum"] = (a.sum(), np.asarray(a_np.sum()), dt)
    for name, (t, expected, out_dt) in checks.items():
        expect(t.dtype is out_dt, f"{name} in {dt} gave {t.dtype}, expected {out_dt}")
        on_device(t, target, f"{name} in {dt}")
        _close(_host(t), np.asarray(expected).astype(_np(out_dt)), dt, name)
    if target.has(D.float32) and dt is not D.float32:
        if dt.kind == "c":  # complex -> real discards the imaginary part (PyTorch warns)
            real = np.array([0.5, -1.0, 2.0], np.float32)
            c = polytorch.tensor(real, device=dev).to(dt)
            expect(c.dtype is dt, f"float32 -> {dt} gave {c.dtype}")
            _close(host(c), real.astype(dt.name), dt, f"cast float32 -> {dt}")
        else:
            f = a.to(D.float32)
            expect(f.dtype is D.float32, f"{dt} -> float32 gave {f.dtype}")
            _close(host(f), a_np.astype(np.float32), D.float32, f"cast {dt} -> float32")
            _close(_host(f.to(dt)), a_np, dt, f"cast float32 -> {dt}")
        checks["cast"] = None
    return Outcome(PASS, ", ".join(checks))


def refused(dt: D.dtype, target: Target) -> Outcome:
    """Every way of making a ``dt`` tensor on the device raises a clear error."""
    dev = target.device
    where = str(dev)
    attempts = {
        "zeros": lambda: polytorch.zeros(2, dtype=dt, device=dev),
        "ones": lambda: polytorch.ones(2, dtype=dt, device=dev),
        "full": lambda: polytorch.full((2,), 1, dtype=dt, device=dev),
        "tensor": lambda: polytorch.tensor([1, 0], dtype=dt, device=dev),
    }
    if dt.kind not in "bc":
        attempts["arange"] = lambda: polytorch.arange(3, dtype=dt, device=dev)
    for other in (D.float32, D.int32, D.bool):
        if target.has(other):
            x = polytorch.ones(2, dtype=other, device=dev)
            attempts[f"{other.name} tensor .to({dt.name})"] = partial(x.to, dt)
            break
    cpu_dev = polytorch._device.resolve("cpu@numpy")[0]
    if dt in cpu_dev._dtypes:
        c = polytorch.ones(2, dtype=dt, device=cpu_dev)
        attempts[f"a cpu {dt.name} tensor .to(device)"] = partial(c.to, dev)
    for what, fn in attempts.items():
        expect_raises(TypeError, fn, f"{what} on {where} (which does not declare {dt.name})",
                      dt.name, where)
    return Outcome(PASS, f"refused by {len(attempts)} routes")
