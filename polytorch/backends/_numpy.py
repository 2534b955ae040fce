"""NumPy on the CPU: the reference backend."""

from __future__ import annotations

import numpy as np

from .. import _dtype as D
from ._base import Backend


class NumpyLikeBackend(Backend):
    """Shared bindings for libraries whose dtypes are NumPy dtypes (NumPy, CuPy, JAX)."""

    has_bfloat16 = False

    def _native_dtype_or_none(self, d: D.dtype):
        if d is D.bfloat16:
            if not self.has_bfloat16:
                return None
            import ml_dtypes

            return np.dtype(ml_dtypes.bfloat16)
        return np.dtype(d.name)

    def scalar(self, value, dtype, native_device):
        # These libraries treat Python numbers as weakly typed (NEP 50), so the
        # frontend's already-cast array operand fixes the result dtype.
        return value


class NumpyBackend(NumpyLikeBackend):
    name = "numpy"
    device_types = ("cpu",)
    mutable = True
    # Native kernels for what the array API lacks (polytorch/ops/conv.py has the references).
    kernels = {}  # filled below the class

    @staticmethod
    def quiet_context():
        return np.errstate(all="ignore")

    def _quiet_kernel(self, forward):
        # np.errstate costs about 1.5 us a call, more than a tiny op; setting
        # the context variable it sets, with a prebuilt value, costs a quarter.
        try:
            from numpy._core.umath import _extobj_contextvar, _make_extobj

            quiet = _make_extobj(all="ignore")
        except ImportError:  # another NumPy layout: the public, slower way
            return super()._quiet_kernel(forward)
        set_, reset = _extobj_contextvar.set, _extobj_contextvar.reset
        ndarray, asarray = np.ndarray, np.asarray

        def kernel(xp, *args, **params):
            token = set_(quiet)
            try:
                out = forward(xp, *args, **params)
            finally:
                reset(token)
            # NumPy gives scalars, not 0-d arrays, for 0-d results; a tensor
            # holds an array (in-place writes need one).
            if type(out) is not ndarray:
                out = tuple(map(asarray, out)) if type(out) is tuple else asarray(out)
            return out

        return kernel

    def _load_namespace(self):
        import types

        import array_api_compat.numpy as compat

        # NumPy 2 implements these as the standard says; array-api-compat wraps
        # them for older NumPy at a few microseconds a call, which is most of a
        # tiny op's cost, so the hot ones are bound directly.
        xp = types.SimpleNamespace(**vars(compat))
        for name in ("astype", "zeros", "ones", "full", "matmul", "permute_dims", "empty",
                     "zeros_like", "ones_like", "asarray"):
            setattr(xp, name, getattr(np, name))
        xp.sum = _reduction(np.add, compat.sum)
        xp.prod = _reduction(np.multiply, compat.prod)
        xp.max = _extremum(np.maximum, compat.max)
        xp.min = _extremum(np.minimum, compat.min)
        return xp

    def asarray(self, obj, dtype, native_device):
        return np.asarray(obj, dtype=self._to_native[dtype])

    def from_numpy(self, array, native_device, copy=False):
        return array.copy() if copy else array

    def to_numpy(self, array):
        return array

    def move(self, array, native_device):
        return array.copy()

    def from_dlpack(self, obj, native_device):
        return np.from_dlpack(obj)


def _reduction(ufunc, general):
    """``xp.sum``-style reduction: the ufunc's own ``reduce`` (a third of ``np.sum``'s cost,
    which goes through several Python layers) where it gives the standard's answer,
    that is for floating and complex arrays without a ``dtype`` argument."""
    reduce = ufunc.reduce

    def fn(x, /, *, axis=None, dtype=None, keepdims=False, **kwargs):
        if dtype is None and not kwargs and x.dtype.kind in "fc":
            return reduce(x, axis=axis, keepdims=keepdims)
        if dtype is not None:  # xp.max and xp.min take no dtype
            kwargs["dtype"] = dtype
        return general(x, axis=axis, keepdims=keepdims, **kwargs)

    return fn


def _extremum(ufunc, general):
    """``xp.max``/``xp.min`` (no ``dtype`` argument), fast for floating arrays as above."""
    reduce = ufunc.reduce

    def fn(x, /, *, axis=None, keepdims=False):
        if x.dtype.kind in "fc":
            return reduce(x, axis=axis, keepdims=keepdims)
        return general(x, axis=axis, keepdims=keepdims)

    return fn



# -- native kernels of the conv family (Note [Convolution as im2col] in polytorch/ops/conv.py)


def _crop_key(shape, padding):
    """The slices that cut the negative amounts of ``padding`` off the trailing dims."""
    lead = len(shape) - len(padding)
    return (slice(None),) * lead + tuple(
        slice(max(-lo, 0), shape[lead + i] - max(-hi, 0)) for i, (lo, hi) in enumerate(padding))


def _im2col(xp, x, *, kernel_size, dilation, padding, stride, fill):
    """``im2col`` as one strided window view and one copy (no per-offset slices)."""
    from ..ops.conv import _fill_value

    nd = len(kernel_size)
    if any(lo < 0 or hi < 0 for lo, hi in padding):
        x = x[_crop_key(x.shape, padding)]
    pads = [(max(lo, 0), max(hi, 0)) for lo, hi in padding]
    if any(lo or hi for lo, hi in pads):
        x = np.pad(x, [(0, 0)] * (x.ndim - nd) + pads,
                   constant_values=_fill_value(xp, x.dtype, fill))
    extents = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel_size))
    axes = tuple(range(2, 2 + nd))
    win = np.lib.stride_tricks.sliding_window_view(x, extents, axis=axes)
    win = win[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride)
              + tuple(slice(None, None, d) for d in dilation)]
    blocks = win.shape[2:2 + nd]
    perm = (0, 1) + tuple(range(2 + nd, 2 + 2 * nd)) + axes
    k = 1
    for v in kernel_size:
        k *= v
    return win.transpose(perm).reshape(x.shape[:2] + (k,) + blocks)


def _col2im(backend, cols, *, output_size, kernel_size, dilation, padding, stride):
    """``col2im`` with in-place adds of each kernel offset's slice."""
    import itertools

    blocks = cols.shape[3:]
    padded = tuple(o + lo + hi for o, (lo, hi) in zip(output_size, padding))
    out = np.zeros(cols.shape[:2] + padded, dtype=cols.dtype)
    for j, off in enumerate(itertools.product(*(range(k) for k in kernel_size))):
        key = (slice(None), slice(None)) + tuple(
            slice(o * d, o * d + s * (n - 1) + 1, s)
            for o, d, s, n in zip(off, dilation, stride, blocks))
        out[key] += cols[:, :, j]
    # Cut the padding off; a negative amount (output padding) adds zeros instead.
    out = out[_crop_key(out.shape, [(-max(lo, 0), -max(hi, 0)) for lo, hi in padding])]
    grow = [(max(-lo, 0), max(-hi, 0)) for lo, hi in padding]
    if any(a or b for a, b in grow):
        out = np.pad(out, [(0, 0), (0, 0)] + grow)
    return np.ascontiguousarray(out)


NumpyBackend.kernels = {"im2col": _im2col, "col2im": _col2im}
