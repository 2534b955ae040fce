"""Tensor creation: ``tensor``, ``zeros``, ``arange``... and the ``*_like`` forms."""

from __future__ import annotations

import numbers

import numpy as np

from . import _dtype as D
from ._device import resolve
from ._tensor import Size, Tensor, _wrap
from .ops.transfer import _check_dtype_supported

__all__ = [
    "tensor", "as_tensor", "from_numpy", "from_dlpack", "zeros", "ones", "full", "empty",
    "arange", "linspace", "eye", "zeros_like", "ones_like", "full_like", "empty_like",
]


def _finish(data, dev, dtype, requires_grad) -> Tensor:
    t = _wrap(data, dev, dtype)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _place(dtype, device):
    dev, backend = resolve(device)
    _check_dtype_supported(dtype, dev)
    return dev, backend


def _infer_dtype(host: np.ndarray, from_python: bool) -> D.dtype:
    kind = host.dtype.kind
    if from_python:
        # Python numbers take the default dtype of their category.
        if kind == "b":
            return D.bool
        if kind in "iu":
            return D.int64
        if kind == "f":
            return D.get_default_dtype()
        if kind == "c":
            return D.scalar_dtype(0j)
    name = host.dtype.name
    if name not in D.BY_NAME:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{name}. The only supported types are: "
            f"float64, float32, float16, complex64, complex128, int64, int32, int16, int8, "
            f"uint8, and bool."
        )
    return D.BY_NAME[name]


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, numbers, arrays or tensors).

    Example:
        >>> polytorch.tensor([[1., 2.], [3., 4.]], device="cpu@jax")
        tensor([[1., 2.],
                [3., 4.]], device='cpu@jax')
    """
    dtype = D.as_dtype(dtype)
    if isinstance(data, Tensor):
        out = data.detach().to(device=device if device is not None else data.device,
                               dtype=dtype or data.dtype, copy=True)
        return _finish(out._data, out._device, out._dtype, requires_grad)
    host, from_python = _to_host(data)
    if not from_python:
        host = np.array(host, copy=True)  # tensor() always copies, as in PyTorch
    dt = dtype or _infer_dtype(host, from_python)
    dev, backend = _place(dt, device)
    if host.dtype.kind == "c" and dt.kind != "c":
        raise TypeError(f"cannot convert complex data to {dt}")
    return _finish(backend.asarray(host, dt, dev._native), dev, dt, requires_grad)


def _to_host(data):
    if isinstance(data, np.ndarray):
        return data, False
    if isinstance(data, np.generic):
        return np.asarray(data), False
    if hasattr(data, "__dlpack__") and not isinstance(data, (list, tuple)):
        return np.asarray(data), False
    if isinstance(data, (list, tuple)) and _contains_tensors(data):
        data = _tensors_to_lists(data)
    try:
        host = np.asarray(data)
    except ValueError as e:
        raise ValueError(f"tensor(): data is not a rectangular nested sequence: {e}") from None
    if host.dtype == object:
        raise TypeError(
            f"tensor(): could not infer dtype of {type(data).__name__}; expected numbers or "
            f"(nested) sequences of numbers"
        )
    return host, True


def _contains_tensors(seq) -> bool:
    for x in seq:
        if isinstance(x, Tensor):
            return True
        if isinstance(x, (list, tuple)):
            return _contains_tensors(x)
        return False
    return False


def _tensors_to_lists(seq):
    return [x.tolist() if isinstance(x, Tensor) else
            _tensors_to_lists(x) if isinstance(x, (list, tuple)) else x for x in seq]


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with ``data`` where dtype and device allow."""
    dtype = D.as_dtype(dtype)
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype) if (device or dtype) else data
    if isinstance(data, np.ndarray):
        dt = dtype or _infer_dtype(data, False)
        if dt.name != data.dtype.name:
            return tensor(data, dtype=dt, device=device)
        dev, backend = _place(dt, device)
        return _wrap(backend.from_numpy(data, dev._native), dev, dt)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A CPU tensor sharing memory with ``ndarray`` (on the NumPy backend).

    Example:
        >>> a = np.zeros(3); t = polytorch.from_numpy(a); a[0] = 1; t[0].item()
        1.0
    """
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    dt = _infer_dtype(ndarray, False)
    dev, backend = _place(dt, "cpu")
    return _wrap(backend.from_numpy(ndarray, dev._native), dev, dt)


_DLPACK_TYPES = {1: "cpu", 2: "cuda", 3: "cpu", 10: "cuda", 13: "cpu"}


def from_dlpack(ext) -> Tensor:
    """A tensor sharing memory with any object that implements ``__dlpack__``.

    The device type comes from ``__dlpack_device__``; the backend serving that type
    by default receives it (e.g. a CUDA array goes to ``cuda``).
    """
    if isinstance(ext, Tensor):
        return ext
    if not hasattr(ext, "__dlpack__"):
        raise TypeError(f"from_dlpack: {type(ext).__name__} does not implement __dlpack__")
    code, index = ext.__dlpack_device__()
    type_ = _DLPACK_TYPES.get(int(code))
    if type_ is None:
        raise RuntimeError(f"from_dlpack: unsupported DLPack device type {int(code)}")
    spec = type_ if type_ == "cpu" else f"{type_}:{index}"
    dev, backend = resolve(spec)
    data = backend.from_dlpack(ext, dev._native)
    return _wrap(data, dev, backend.dtype_of(data))


def _size_arg(size, fn) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, numbers.Integral) or isinstance(s, bool):
            raise TypeError(f"{fn}(): size must be a tuple of ints, but got {size!r}")
        if s < 0:
            raise RuntimeError(
                f"{fn}(): Trying to create tensor with negative dimension {s}: {list(size)}"
            )
    return tuple(int(s) for s in size)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _filled(_size_arg(size, "zeros"), 0, dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return _filled(_size_arg(size, "ones"), 1, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor; polytorch fills it with zeros (uninitialized memory is never exposed)."""
    return _filled(_size_arg(size, "empty"), 0, dtype, device, requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``; the dtype follows the value, as in PyTorch."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    dtype = D.as_dtype(dtype) or D.scalar_dtype(fill_value)
    return _filled(_size_arg((size,) if not isinstance(size, int) else (size,), "full"),
                   fill_value, dtype, device, requires_grad)


def _filled(shape, value, dtype, device, requires_grad) -> Tensor:
    dt = D.as_dtype(dtype) or D.get_default_dtype()
    dev, backend = _place(dt, device)
    xp = backend.xp
    nd = backend.native_dtype(dt)
    if value == 0:
        data = xp.zeros(shape, dtype=nd, device=dev._native)
    elif value == 1:
        data = xp.ones(shape, dtype=nd, device=dev._native)
    else:
        data = xp.full(shape, value, dtype=nd, device=dev._native)
    return _finish(data, dev, dt, requires_grad)


def _like(input: Tensor, dtype, device):
    return (D.as_dtype(dtype) or input._dtype), (device if device is not None else input._device)


def _filled_as(input: Tensor, value) -> Tensor:
    """Zeros or ones of ``input``'s shape, dtype and device, without argument parsing.

    (The autograd engine seeds and pads gradients with these.)
    """
    dev = input._device
    backend = dev._impl[1]
    make = backend.xp.zeros if value == 0 else backend.xp.ones
    data = make(input._data.shape, dtype=backend.native_dtype(input._dtype), device=dev._native)
    return _wrap(data, dev, input._dtype)


def zeros_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    if dtype is None and device is None and not requires_grad:
        return _filled_as(input, 0)
    dt, dev = _like(input, dtype, device)
    return _filled(tuple(input.shape), 0, dt, dev, requires_grad)


def ones_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    if dtype is None and device is None and not requires_grad:
        return _filled_as(input, 1)
    dt, dev = _like(input, dtype, device)
    return _filled(tuple(input.shape), 1, dt, dev, requires_grad)


def empty_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    dt, dev = _like(input, dtype, device)
    return _filled(tuple(input.shape), 0, dt, dev, requires_grad)


def full_like(input: Tensor, fill_value, *, dtype=None, device=None,
              requires_grad: bool = False) -> Tensor:
    dt, dev = _like(input, dtype, device)
    return _filled(tuple(input.shape), fill_value, dt, dev, requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 unless a bound is a float.

    Example:
        >>> polytorch.arange(5)
        tensor([0, 1, 2, 3, 4])
    """
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    if step == 0:
        raise RuntimeError("arange(): step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(
            f"arange(): upper bound and larger bound inconsistent with step sign "
            f"(start={start}, end={end}, step={step})"
        )
    if dtype is None:
        dtype = D.get_default_dtype() if any(isinstance(v, float) for v in vals) else D.int64
    dt = D.as_dtype(dtype)
    dev, backend = _place(dt, device)
    # Computed on the host in float64/int64 so every backend gets the same values.
    host = np.arange(start, end, step)
    return _finish(backend.asarray(host, dt, dev._native), dev, dt, requires_grad)


def linspace(start, end, steps: int, *, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if not isinstance(steps, numbers.Integral) or steps < 0:
        raise RuntimeError(f"linspace(): number of steps must be non-negative, got {steps!r}")
    dt = D.as_dtype(dtype) or D.get_default_dtype()
    dev, backend = _place(dt, device)
    host = np.linspace(float(start), float(end), int(steps))
    return _finish(backend.asarray(host, dt, dev._native), dev, dt, requires_grad)


def eye(n: int, m: int | None = None, *, dtype=None, device=None,
        requires_grad: bool = False) -> Tensor:
    """A 2-D tensor with ones on the diagonal."""
    dt = D.as_dtype(dtype) or D.get_default_dtype()
    dev, backend = _place(dt, device)
    data = backend.xp.eye(n, m, dtype=backend.native_dtype(dt), device=dev._native)
    return _finish(data, dev, dt, requires_grad)
