"""The device layer: placement, transfers, cross-device errors, in-place semantics.

Test ids: ``device/CHECK`` (``device/placement/creation``, ``device/to/cpu_roundtrip``,
``device/inplace/version``, ...). Each check is a user-visible contract of
ARCHITECTURE §1-§3 that must hold identically on every backend, mutable or not
(Note [In-place ops on immutable arrays] in polytorch/_tensor.py). Values are
compared bit for bit with NumPy on the host; a check raises ``AssertionError``
with what differed, which the runner reports as the case's failure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

import numpy as np

import polytorch

from .. import _dtype as D
from ._core import PASS, UNSUPPORTED, Case, Outcome, Target


def cases(target: Target) -> Iterator[Case]:
    """The device layer's cases for ``target``."""
    for name, check in CHECKS.items():
        yield Case(f"device/{name}", partial(check, target))


# -- helpers shared with the dtypes, dlpack and rng layers ------------------------------


def host(t) -> np.ndarray:
    """A host copy of a tensor's values, through the tensor's own backend (not ``.to``)."""
    backend = t._device._impl[1]
    return np.array(backend.to_numpy(t._data), copy=True)


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal shape, dtype and bytes (so NaN payloads, -0.0 and subnormals count)."""
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def expect(cond: bool, message: str) -> None:
    if not cond:
        raise AssertionError(message)


def expect_raises(exc_type, fn: Callable, what: str, *needles: str) -> BaseException:
    """``fn()`` must raise ``exc_type`` with each of ``needles`` in its message."""
    try:
        out = fn()
    except exc_type as e:
        for needle in needles:
            expect(needle in str(e), f"{what}: the error does not name {needle!r}: {e}")
        return e
    raise AssertionError(f"{what}: expected {exc_type.__name__}, got {out!r}")


def on_device(t, target: Target, what: str) -> None:
    """``t`` is on the target device, by its ``.device`` and by its array's own device."""
    expect(t.device == target.device,
           f"{what}: result on {t.device}, expected {target.device}")
    native = target.device._native
    array_device = getattr(t._data, "device", None)
    if native is not None and array_device is not None and not callable(array_device):
        expect(array_device == native,
               f"{what}: the backend array lives on {array_device!r}, expected {native!r}")


def specials(dtype: D.dtype) -> np.ndarray:
    """Host values of ``dtype`` that a transfer must keep bit for bit."""
    if dtype.kind == "b":
        return np.array([True, False, True])
    if dtype.kind in "iu":
        info = np.iinfo(dtype.name)
        return np.array([info.min, info.max, 0, 1, info.min + 1, info.max - 1], dtype.name)
    if dtype is D.bfloat16:
        return np.array([0.0, -0.0, 1.5, -2.25, np.inf, -np.inf, 3.0e38], np.float32)
    if dtype.kind == "f":
        info = np.finfo(dtype.name)
        return np.array([0.0, -0.0, np.nan, np.inf, -np.inf, info.max, info.min,
                         info.smallest_subnormal, -info.smallest_normal, np.pi, 1 / 3],
                        dtype.name)
    real = specials(D.float32 if dtype is D.complex64 else D.float64)
    out = np.empty(real.shape, dtype.name)
    out.real, out.imag = real, real[::-1]
    return out


def _tensor(values: np.ndarray, dtype: D.dtype, device):
    return polytorch.tensor(values, dtype=dtype, device=device)


def _float(target: Target) -> D.dtype:
    return D.float32 if target.has(D.float32) else D.float64


def _other_device(target: Target):
    """A device of another backend or index than the target's, or None."""
    here = target.device
    candidates = ["cpu"] + polytorch.backends.available_devices()
    for spec in candidates:
        try:
            dev = polytorch.device(spec)
        except Exception:  # noqa: S112 (an unusable listing entry: try the next)
            continue
        if dev != here:
            return dev
    return None


# -- placement --------------------------------------------------------------------------


def placement_creation(target: Target) -> Outcome:
    dev, f = target.device, _float(target)
    made = {
        "zeros": polytorch.zeros(2, 3, dtype=f, device=dev),
        "ones": polytorch.ones(4, dtype=f, device=dev),
        "full": polytorch.full((2,), 7, dtype=f, device=dev),
        "empty": polytorch.empty(3, dtype=f, device=dev),
        "arange": polytorch.arange(5, dtype=f, device=dev),
        "linspace": polytorch.linspace(0, 1, 5, dtype=f, device=dev),
        "eye": polytorch.eye(3, dtype=f, device=dev),
        "tensor": polytorch.tensor([[1.0, 2.0]], dtype=f, device=dev),
        "zeros_like": polytorch.zeros_like(polytorch.ones(2, dtype=f, device=dev)),
        "rand": polytorch.rand(3, dtype=f, device=dev),
    }
    for name, t in made.items():
        on_device(t, target, name)
        expect(t.dtype is f, f"{name}: dtype {t.dtype}, expected {f}")
    with dev:
        on_device(polytorch.zeros(2, dtype=f), target, "zeros under `with device`")
    return Outcome(PASS, f"{len(made) + 1} creation functions")


def placement_ops(target: Target) -> Outcome:
    f = _float(target)
    x = polytorch.arange(12, dtype=f, device=target.device).reshape(3, 4)
    y = polytorch.ones(4, dtype=f, device=target.device)
    results = {
        "unary": x.exp(), "binary": x + y, "scalar": x * 2, "reverse scalar": 1 - x,
        "compare": x > 3, "reduction": x.sum(1), "matmul": x @ y, "view": x[1:, ::2],
        "transpose": x.T, "index": x[polytorch.tensor([0, 2], device=target.device)],
        "where": polytorch.where(x > 3, x, y), "cat": polytorch.cat([x, x]),
        "item tensor": x.max(),
    }
    for name, t in results.items():
        on_device(t, target, name)
    return Outcome(PASS, f"{len(results)} ops")


def placement_grad(target: Target) -> Outcome:
    f = _float(target)
    x = polytorch.arange(4, dtype=f, device=target.device).requires_grad_()
    (x * x).sum().backward()
    on_device(x.grad, target, "x.grad")
    expect(same_bits(host(x.grad), (2 * np.arange(4)).astype(f.name)),
           f"x.grad = {host(x.grad)}, expected 2 * x")
    return Outcome(PASS)


# -- transfers ----------------------------------------------------------------------------


def to_cpu_roundtrip(target: Target) -> Outcome:
    """Every declared dtype goes to ``cpu`` and back with the same bits."""
    cpu = polytorch.device("cpu@numpy")
    checked = []
    for dt in sorted(target.dtypes, key=lambda d: d.name):
        if dt is D.bfloat16:
            continue  # NumPy has no bfloat16 of its own: covered by the dtypes layer
        values = specials(dt)
        t = _tensor(values, dt, target.device)
        expect(same_bits(host(t), values), f"{dt}: creation changed the bits: {host(t)}")
        c = t.to(cpu)
        expect(c.device == cpu and c.dtype is dt, f"{dt}: .to(cpu) gave {c.device}, {c.dtype}")
        expect(same_bits(c.numpy(), values), f"{dt}: .to(cpu) changed the bits: {c.numpy()}")
        back = c.to(target.device)
        on_device(back, target, f"{dt}: .to(device)")
        expect(same_bits(host(back), values), f"{dt}: cpu -> device changed the bits")
        if c is not t:  # (on cpu itself, .to(cpu) is the tensor)
            c.fill_(0)
            expect(same_bits(host(t), values), f"{dt}: the cpu copy aliases the device tensor")
        checked.append(dt.name)
    return Outcome(PASS, f"dtypes: {', '.join(checked)}")


def to_same_device(target: Target) -> Outcome:
    t = polytorch.ones(3, dtype=_float(target), device=target.device)
    expect(t.to(target.device) is t, ".to(its own device) must return the tensor itself")
    expect(t.to(str(target.device)) is t, ".to(str(device)) must return the tensor itself")
    c = t.to(target.device, copy=True)
    expect(c is not t and same_bits(host(c), host(t)), ".to(device, copy=True) must copy")
    c.add_(1)
    expect(same_bits(host(t), np.ones(3, t.dtype.name)), "the copy aliases the original")
    return Outcome(PASS)


def to_sibling_device(target: Target) -> Outcome:
    """Between two devices of the target's backend and type (e.g. ``strict:1`` -> ``strict:2``)."""
    dev, backend = target.device, target.backend
    n = backend.device_count(dev.type)
    if n < 2:
        return Outcome(UNSUPPORTED, f"one {dev.type!r} device only")
    index = dev.index or 0
    other = polytorch.device(dev.type, (index + 1) % n, backend=dev.backend)
    values = specials(D.int32 if D.int32 in target.dtypes else D.int64)
    t = polytorch.tensor(values, device=dev)
    u = t.to(other)
    expect(u.device == other, f".to({other}) gave {u.device}")
    expect(same_bits(host(u), host(t)), f"{dev} -> {other} changed the values")
    expect(same_bits(host(u.to(dev)), host(t)), f"{other} -> {dev} changed the values")
    expect_raises(RuntimeError, lambda: t + u, "an op on two devices", str(dev), str(other))
    return Outcome(PASS, f"with {other}")


def to_grad(target: Target) -> Outcome:
    """Gradients flow back through ``.to()`` to the device."""
    f = _float(target)
    x = polytorch.tensor([1.0, 2.0, 3.0], dtype=f, device=target.device, requires_grad=True)
    y = x.to("cpu@numpy") * polytorch.tensor([4.0, 5.0, 6.0], dtype=f, device="cpu@numpy")
    y.sum().backward()
    on_device(x.grad, target, "x.grad after .to(cpu)")
    expect(same_bits(host(x.grad), np.array([4, 5, 6], f.name)), f"x.grad = {host(x.grad)}")
    return Outcome(PASS)


def cross_device_errors(target: Target) -> Outcome:
    other = _other_device(target)
    if other is None:
        return Outcome(UNSUPPORTED, "no second device to mix with")
    f = _float(target)
    a = polytorch.ones(3, dtype=f, device=target.device)
    b = polytorch.ones(3, dtype=f, device=other)
    names = (str(target.device), str(other))
    attempts = {
        "a + b": lambda: a + b, "b * a": lambda: b * a,
        "where": lambda: polytorch.where(a > 0, a, b), "cat": lambda: polytorch.cat([a, b]),
        "matmul": lambda: a @ b, "a.add_(b)": lambda: a.add_(b),
        "a[0] = b[0]": lambda: a.__setitem__(0, b[0]),
    }
    for what, fn in attempts.items():
        expect_raises(RuntimeError, fn, what, *names)
    expect(same_bits(host(a), np.ones(3, f.name)), "a failed in-place op modified its input")
    return Outcome(PASS, f"with {other}")


# -- in-place semantics ---------------------------------------------------------------------


def inplace_ops(target: Target) -> Outcome:
    f = _float(target)
    x = polytorch.arange(4, dtype=f, device=target.device)
    ref = np.arange(4, dtype=f.name)
    v0 = x._version
    out = x.add_(1)
    expect(out is x, "add_ must return the tensor itself")
    ref += 1
    x.mul_(polytorch.full((4,), 2, dtype=f, device=target.device))
    ref *= 2
    x.clamp_(max=6.0)
    ref = np.minimum(ref, 6)
    x.neg_()
    ref = -ref
    expect(same_bits(host(x), ref.astype(f.name)), f"in-place results {host(x)}, expected {ref}")
    expect(x._version == v0 + 4, f"4 in-place ops moved the version from {v0} to {x._version}")
    on_device(x, target, "after in-place ops")
    i = polytorch.arange(3, device=target.device)
    expect_raises(RuntimeError, lambda: i.add_(0.5), "int64.add_(0.5)", "Long")
    expect(i._version == 0, "a refused in-place op bumped the version")
    return Outcome(PASS)


def setitem(target: Target) -> Outcome:
    f = _float(target)
    x = polytorch.zeros(3, 4, dtype=f, device=target.device)
    ref = np.zeros((3, 4), f.name)
    steps = [
        ((1,), 5.0), ((slice(None), 0), 2.0),
        ((0, slice(1, 3)), polytorch.tensor([7.0, 8.0], dtype=f, device=target.device)),
        ((Ellipsis, -1), polytorch.tensor([1.0, 2.0, 3.0], dtype=f, device=target.device)),
        ((slice(None, None, 2), 2), 9.0),
    ]
    for n, (key, value) in enumerate(steps, 1):
        x[key] = value
        ref[key] = host(value) if isinstance(value, polytorch.Tensor) else value
        expect(same_bits(host(x), ref), f"x[{key}] = {value}: got {host(x)}, expected {ref}")
        expect(x._version == n, f"after {n} writes the version is {x._version}")
    mask = x > 4
    x[mask] = 0.0
    ref[ref > 4] = 0
    expect(same_bits(host(x), ref), f"x[mask] = 0: got {host(x)}, expected {ref}")
    idx = polytorch.tensor([2, 0], device=target.device)
    x[idx] = -1.0
    ref[[2, 0]] = -1
    expect(same_bits(host(x), ref), f"x[index tensor] = -1: got {host(x)}, expected {ref}")
    on_device(x, target, "after __setitem__")
    return Outcome(PASS)


def views_see_writes(target: Target) -> Outcome:
    f = _float(target)
    x = polytorch.arange(12, dtype=f, device=target.device).reshape(3, 4)
    ref = np.arange(12, dtype=f.name).reshape(3, 4)
    row, col, t, flat = x[1], x[:, 2], x.T, x.view(12)
    x.add_(1)
    ref += 1
    for name, v, r in (("x[1]", row, ref[1]), ("x[:, 2]", col, ref[:, 2]), ("x.T", t, ref.T),
                       ("x.view(12)", flat, ref.reshape(12))):
        expect(same_bits(host(v), np.ascontiguousarray(r)),
               f"{name} does not see x.add_(1): {host(v)}")
    row.mul_(10)
    ref[1] *= 10
    expect(same_bits(host(x), ref), f"x does not see x[1].mul_(10): {host(x)}")
    t[0, 2] = -5.0
    ref.T[0, 2] = -5
    expect(same_bits(host(x), ref), f"x does not see x.T[0, 2] = -5: {host(x)}")
    expect(same_bits(host(col), np.ascontiguousarray(ref[:, 2])),
           f"x[:, 2] does not see a write through x.T: {host(col)}")
    expect(x._version == row._version == t._version == 3,
           f"views share the base's version counter: {x._version}, {row._version}, "
           f"{t._version}")
    return Outcome(PASS)


def version_counter_guards_backward(target: Target) -> Outcome:
    f = _float(target)
    x = polytorch.tensor([0.5, 1.0], dtype=f, device=target.device, requires_grad=True)
    a = x * 1
    b = a.exp()  # saves its result
    b.add_(1)
    expect_raises(RuntimeError, lambda: b.sum().backward(),
                  "backward through a saved tensor modified in place", "inplace")
    leaf = polytorch.ones(2, dtype=f, device=target.device, requires_grad=True)
    expect_raises(RuntimeError, lambda: leaf.add_(1), "in-place on a leaf requiring grad",
                  "leaf")
    with polytorch.no_grad():
        leaf.add_(1)
    expect(same_bits(host(leaf), np.full(2, 2, f.name)), "no_grad in-place on a leaf failed")
    return Outcome(PASS)


def scalars_and_host(target: Target) -> Outcome:
    f = _float(target)
    x = polytorch.tensor([[1.5, -2.0], [0.25, 4.0]], dtype=f, device=target.device)
    expect(x.tolist() == [[1.5, -2.0], [0.25, 4.0]], f"tolist() = {x.tolist()}")
    expect(x[1, 1].item() == 4.0, f"item() = {x[1, 1].item()}")
    expect(same_bits(np.asarray(x), np.array([[1.5, -2.0], [0.25, 4.0]], f.name)),
           "np.asarray(tensor) differs")
    expect(bool(x[0, 0] > 1) is True, "bool(0-d comparison)")
    return Outcome(PASS)


CHECKS: dict[str, Callable[[Target], Outcome]] = {
    "placement/creation": placement_creation,
    "placement/ops": placement_ops,
    "placement/grad": placement_grad,
    "to/cpu_roundtrip": to_cpu_roundtrip,
    "to/same_device": to_same_device,
    "to/sibling_device": to_sibling_device,
    "to/grad": to_grad,
    "cross_device_errors": cross_device_errors,
    "inplace/ops": inplace_ops,
    "inplace/setitem": setitem,
    "inplace/views": views_see_writes,
    "inplace/version_guard": version_counter_guards_backward,
    "host/scalars": scalars_and_host,
}
