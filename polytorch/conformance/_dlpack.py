"""The dlpack layer: exchange with NumPy through DLPack, both ways.

Test ids: ``dlpack/DTYPE/export`` (``np.from_dlpack(tensor)`` sees the tensor's
values; a tensor that requires grad refuses with ``BufferError``, as in PyTorch),
``dlpack/DTYPE/import`` (the backend's ``from_dlpack`` of a NumPy array gives the
same values and dtype on the device) and ``dlpack/roundtrip`` (NumPy -> DLPack ->
the device -> DLPack -> NumPy, and ``polytorch.from_dlpack`` of a tensor). A
backend that declares ``dlpack = False``, or a device whose memory NumPy cannot
reach (a GPU), reports these as unsupported.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import numpy as np

import polytorch

from .. import _dtype as D
from .._tensor import _wrap
from ._core import PASS, UNSUPPORTED, Case, Outcome, Target
from ._device import expect, expect_raises, host, on_device, same_bits, specials

# The dtypes NumPy exchanges through DLPack (it has no bfloat16).
_EXCHANGED = (D.bool, D.uint8, D.int8, D.int16, D.int32, D.int64, D.float16, D.float32,
              D.float64, D.complex64, D.complex128)


def cases(target: Target) -> Iterator[Case]:
    """The dlpack layer's cases for ``target``."""
    for dt in _EXCHANGED:
        if target.has(dt):
            yield Case(f"dlpack/{dt.name}/export", partial(export, dt, target))
            yield Case(f"dlpack/{dt.name}/import", partial(import_, dt, target))
    yield Case("dlpack/roundtrip", partial(roundtrip, target))
    yield Case("dlpack/requires_grad", partial(requires_grad, target))


def _unsupported(target: Target) -> Outcome | None:
    if not getattr(target.backend, "dlpack", True):
        return Outcome(UNSUPPORTED, f"backend {target.backend.name!r} declares dlpack = False")
    probe = polytorch.zeros(1, device=target.device, dtype=next(iter(_usable(target))))
    code, _ = probe.__dlpack_device__()
    if int(code) not in (1, 3):  # kDLCPU, kDLCUDAHost: memory NumPy can read
        return Outcome(UNSUPPORTED, f"DLPack device type {int(code)}: not host memory")
    return None


def _usable(target: Target):
    return [dt for dt in _EXCHANGED if target.has(dt)]


def export(dt: D.dtype, target: Target) -> Outcome:
    skip = _unsupported(target)
    if skip is not None:
        return skip
    values = specials(dt)
    t = polytorch.tensor(values, dtype=dt, device=target.device)
    out = np.from_dlpack(t)
    expect(same_bits(np.asarray(out), values), f"np.from_dlpack(tensor) = {out}")
    view = polytorch.tensor(values, dtype=dt, device=target.device)[::2]
    out = np.from_dlpack(view)
    expect(same_bits(np.asarray(out), values[::2]),
           f"np.from_dlpack(strided view) = {out}, expected {values[::2]}")
    return Outcome(PASS)


def import_(dt: D.dtype, target: Target) -> Outcome:
    skip = _unsupported(target)
    if skip is not None:
        return skip
    values = specials(dt)
    dev, backend = target.device, target.backend
    data = backend.from_dlpack(values, dev._native)
    expect(backend.dtype_of(data) is dt, f"from_dlpack gave {backend.dtype_of(data)}")
    t = _wrap(data, dev, dt)
    on_device(t, target, "backend.from_dlpack")
    expect(same_bits(host(t), values), f"backend.from_dlpack(numpy) = {host(t)}")
    return Outcome(PASS)


def roundtrip(target: Target) -> Outcome:
    skip = _unsupported(target)
    if skip is not None:
        return skip
    dt = D.float32 if target.has(D.float32) else _usable(target)[0]
    values = specials(dt)
    t = _wrap(target.backend.from_dlpack(values, target.device._native), target.device, dt)
    expect(same_bits(np.from_dlpack(t), values), "NumPy -> device -> NumPy changed the values")
    expect(polytorch.from_dlpack(t) is t, "polytorch.from_dlpack(a tensor) must return it")
    # Any DLPack producer on the host becomes a cpu tensor with the same values.
    c = polytorch.from_dlpack(t._data)
    expect(c.dtype is dt and same_bits(c.numpy(), values),
           f"polytorch.from_dlpack(the device array) = {c.numpy()} ({c.dtype})")
    return Outcome(PASS)


def requires_grad(target: Target) -> Outcome:
    skip = _unsupported(target)
    if skip is not None:
        return skip
    dt = D.float32 if target.has(D.float32) else D.float64
    t = polytorch.ones(2, dtype=dt, device=target.device, requires_grad=True)
    expect_raises(BufferError, lambda: np.from_dlpack(t), "exporting a tensor requiring grad",
                  "detach")
    expect(same_bits(np.from_dlpack(t.detach()), np.ones(2, dt.name)), "t.detach() exports")
    return Outcome(PASS)
