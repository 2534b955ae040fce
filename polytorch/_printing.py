"""A PyTorch-like ``repr`` for tensors."""

from __future__ import annotations

import numpy as np

from . import _dtype as D


def _float_formatter(values: np.ndarray):
    finite = values[np.isfinite(values)] if values.size else values
    if finite.size == 0 or np.all(finite == np.round(finite)):
        if finite.size and np.max(np.abs(finite)) >= 1e8:
            return lambda v: f"{v:.4e}"
        return lambda v: _int_like(v)
    amax, amin = np.max(np.abs(finite)), np.min(np.abs(finite))
    if amax >= 1e8 or (amin > 0 and (amin < 1e-4 or amax / amin > 1e3)):
        return lambda v: f"{v:.4e}"
    return lambda v: f"{v:.4f}"


def _int_like(v) -> str:
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{int(v)}."


def _format(values: np.ndarray, dtype: D.dtype) -> str:
    if dtype.kind == "c":
        fmt = {"float_kind": lambda v: f"{v:.4f}", "complex_kind": lambda v: f"{v:.4f}"}
    elif dtype.kind == "f":
        f = _float_formatter(values.astype(np.float64))
        fmt = {"float_kind": f}
    else:
        fmt = None
    if dtype.kind == "b":
        fmt = {"bool": lambda v: "True" if v else "False"}
    return np.array2string(values, separator=", ", formatter=fmt, prefix="tensor(",
                           threshold=1000, edgeitems=3, max_line_width=80)


def tensor_repr(t) -> str:
    host = np.asarray(t._device._impl[1].to_numpy(t._data))
    if t._dtype is D.bfloat16:
        host = host.astype(np.float32)
    body = _format(host, t._dtype)
    extras = []
    if t._device.type != "cpu" or str(t._device) != "cpu":
        extras.append(f"device='{t._device}'")
    default_dtypes = (D.get_default_dtype(), D.int64, D.bool)
    if t._dtype not in default_dtypes or host.size == 0:
        if not (host.size == 0 and t._dtype is D.get_default_dtype()):
            extras.append(f"dtype={t._dtype!r}")
    if t._grad_fn is not None:
        extras.append(f"grad_fn=<{t._grad_fn[0].name()}>")
    elif t._requires_grad:
        extras.append("requires_grad=True")
    if host.size == 0 and host.ndim != 1:
        extras.insert(0, f"size={tuple(host.shape)}")
    return "tensor(" + ", ".join([body] + extras) + ")"
