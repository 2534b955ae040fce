"""Casts and device transfers, as ops so that gradients flow through ``.to()``."""

from __future__ import annotations

from .. import _dtype as D
from .._tensor import Tensor, _wrap
from ..autograd import _grad_mode
from ._registry import REGISTRY, Op, _record


def _check_dtype_supported(dtype: D.dtype, device) -> None:
    """Refuse a dtype the device does not declare (never truncate silently)."""
    dev, backend = device._impl
    if dtype not in dev._dtypes:
        raise TypeError(
            f"dtype {dtype} is not supported on device '{dev}' (backend {backend.name!r}); "
            f"it supports: {', '.join(sorted(d.name for d in dev._dtypes))}"
        )


def _cast_forward(xp, x, *, dtype):
    return xp.astype(x, dtype)


def _complex_to_real(xp, x, dtype: D.dtype):
    """PyTorch's complex -> real cast: nonzero-ness for bool, else the real part, with a warning.

    (The array API refuses ``astype`` from complex to real.)
    """
    if dtype is D.bool:
        return xp.not_equal(x, 0)
    import warnings

    warnings.warn("Casting complex values to real discards the imaginary part", UserWarning,
                  stacklevel=4)
    return xp.real(x)


cast_op = Op("cast", _cast_forward, promote=None, family="transfer")
REGISTRY["cast"] = cast_op


@cast_op.defvjp
def _(ctx, grad):
    return (grad,)  # the engine casts the gradient back to the input's dtype


def cast(x: Tensor, dtype: D.dtype) -> Tensor:
    """``x`` converted to ``dtype`` (the gradient flows back, cast to ``x``'s dtype)."""
    _check_dtype_supported(dtype, x._device)
    backend = x._device._impl[1]
    data = x._data
    if x._dtype.kind == "c" and dtype.kind != "c":
        data = _complex_to_real(backend.xp, data, dtype)
    out = _wrap(backend.xp.astype(data, backend.native_dtype(dtype)), x._device, dtype)
    if _grad_mode.state.enabled and x._requires_grad and dtype.kind in "fc":
        _record(cast_op, {}, (x,), (out,))
    return out


def _transfer_forward(xp, x):
    raise AssertionError("transfer runs through transfer(), not the generic dispatch")


transfer_op = Op("to_device", _transfer_forward, promote=None, family="transfer")
REGISTRY["to_device"] = transfer_op


@transfer_op.defvjp
def _(ctx, grad):
    return (transfer(grad, ctx.params["source"]),)


def transfer(x: Tensor, device) -> Tensor:
    """``x`` copied to ``device`` (a canonical device), through the host when backends differ."""
    src_dev, src = x._device._impl
    dst_dev, dst = device._impl
    _check_dtype_supported(x._dtype, device)
    if src is dst:
        data = dst.move(x._data, dst_dev._native)
    else:
        # A fresh copy: the result must not alias the source library's buffer.
        data = dst.from_numpy(src.to_numpy(x._data), dst_dev._native, copy=True)
    out = _wrap(data, dst_dev, x._dtype)
    if _grad_mode.state.enabled and x._requires_grad:
        _record(transfer_op, {"source": src_dev}, (x,), (out,))
    return out
