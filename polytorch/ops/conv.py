"""Convolution primitives (family ``conv``) and the convolutions and pools built on them.

Note [Convolution as im2col]
Two primitives carry every gradient of this family. ``im2col`` gathers, for
each kernel offset, a strided slice of the (padded) input: from ``(N, C, *S)``
it makes ``(N, C, K, *L)``, K the number of kernel offsets (row-major, the
order PyTorch scans a window in) and L the output positions. ``col2im`` is its
adjoint: it adds those slices back into place. Each is the other's gradient,
so double backward needs nothing more. A convolution is ``im2col`` and one
matmul (groups as a batch dimension), a transposed convolution a matmul and
``col2im``, a max or average pool ``im2col`` and a reduction over K. Padding is
``((lo, hi), ...)`` per spatial dim; a negative amount crops (transposed
convolutions crop where output padding ends past the last window), and
``fill`` is the padding value (``-inf`` for max pools).

The forwards below, over ``xp``, are the reference every backend inherits;
NumPy and JAX register faster kernels (polytorch/backends/_numpy.py, _jax.py)
that tests/test_nn_conv.py checks against them.

Why not a convolution primitive with a native kernel per backend: measured with
benchmarks/conv.py (LeNet-style forward and backward at batch 64; a 3x3, 32-channel
convolution on 16x32x32), NumPy's im2col plus one BLAS GEMM runs at PyTorch's speed on
the large convolution and about 2x it on LeNet, where per-op overhead dominates; on
JAX the cost is eager dispatch of the surrounding ops, which a lax.conv forward
would not remove (its gradients would still be composites). The GEMM is one plain
2-D product per group over the whole batch: NumPy runs a matmul that broadcasts the
weight over the batch without BLAS, several times slower.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ._registry import defop

__all__ = [  # exported as polytorch.NAME, as PyTorch exports them
    "adaptive_avg_pool1d", "adaptive_max_pool1d", "avg_pool1d", "conv1d", "conv2d", "conv3d",
    "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "max_pool1d", "max_pool2d",
    "max_pool3d", "pixel_shuffle", "pixel_unshuffle",
]

TENSOR_METHODS: dict = {}
INPLACE_METHODS: dict = {}


# -- the primitives -------------------------------------------------------------------------


def _pad_array(xp, x, padding, fill, full):
    """``x`` padded (or cropped, where negative) by ``padding`` over its trailing dims."""
    lead = x.ndim - len(padding)
    if any(lo < 0 or hi < 0 for lo, hi in padding):
        key = tuple(slice(max(-lo, 0), x.shape[lead + i] - max(-hi, 0))
                    for i, (lo, hi) in enumerate(padding))
        x = x[(slice(None),) * lead + key]
    for i, (lo, hi) in enumerate(padding):
        lo, hi = max(lo, 0), max(hi, 0)
        if lo == hi == 0:
            continue
        ax = lead + i
        shape = list(x.shape)
        parts = []
        if lo:
            shape[ax] = lo
            parts.append(full(tuple(shape), fill, x))
        parts.append(x)
        if hi:
            shape[ax] = hi
            parts.append(full(tuple(shape), fill, x))
        x = xp.concat(parts, axis=ax)
    return x


def _blocks(size, k, d, s):
    """How many windows of ``k`` taps ``d`` apart, ``s`` apart, fit in ``size``."""
    return (size - d * (k - 1) - 1) // s + 1


def _window_key(offset, dilation, stride, blocks):
    return tuple(slice(o * d, o * d + s * (n - 1) + 1, s)
                 for o, d, s, n in zip(offset, dilation, stride, blocks))


def _fill_value(xp, dtype, fill):
    if xp.isdtype(dtype, "integral"):
        return int(max(fill, -(2**63))) if fill != -math.inf else int(xp.iinfo(dtype).min)
    return float(fill)


def _full_like_device(xp):
    """``full(shape, value, like)``: an array of ``value`` on ``like``'s device."""
    def full(shape, value, like):
        return xp.full(shape, value, dtype=like.dtype, device=like.device)

    return full


def im2col_array(xp, x, *, kernel_size, dilation, padding, stride, fill, full=None):
    """The reference ``im2col`` over ``xp`` (``full(shape, value, like)`` makes padding;
    a traced kernel passes one that needs no ``like.device``)."""
    full = full or _full_like_device(xp)
    x = _pad_array(xp, x, padding, _fill_value(xp, x.dtype, fill), full)
    blocks = [_blocks(n, k, d, s)
              for n, k, d, s in zip(x.shape[2:], kernel_size, dilation, stride)]
    pieces = [x[(slice(None), slice(None)) + _window_key(off, dilation, stride, blocks)]
              for off in itertools.product(*(range(k) for k in kernel_size))]
    return xp.stack(pieces, axis=2)


@defop("im2col", promote=None, quiet=False)
def im2col_op(xp, x, *, kernel_size, dilation, padding, stride, fill):
    """``(N, C, *S)`` -> ``(N, C, K, *L)``: every kernel offset's strided slice of the padded
    input (Note [Convolution as im2col])."""
    return im2col_array(xp, x, kernel_size=kernel_size, dilation=dilation, padding=padding,
                        stride=stride, fill=fill)


@im2col_op.defvjp
def _(ctx, grad):
    p = ctx.params
    return (col2im_op(grad, output_size=tuple(ctx.node.in_meta[0][0][2:]),
                      kernel_size=p["kernel_size"], dilation=p["dilation"],
                      padding=p["padding"], stride=p["stride"]),)


@defop("col2im", promote=None, needs_backend=True, quiet=False)
def col2im_op(backend, cols, *, output_size, kernel_size, dilation, padding, stride):
    """``(N, C, K, *L)`` -> ``(N, C, *output_size)``: the sum of the windows put back in
    place, then the padding cut off (the adjoint of ``im2col``)."""
    return col2im_array(backend.xp, cols, output_size=output_size, kernel_size=kernel_size,
                        dilation=dilation, padding=padding, stride=stride,
                        setitem=backend.setitem)


def col2im_array(xp, cols, *, output_size, kernel_size, dilation, padding, stride, setitem,
                 full=None):
    """The reference ``col2im`` over ``xp``; ``setitem(array, key, value)`` returns the
    written array (in place or functionally), ``full`` as in ``im2col_array``."""
    full = full or _full_like_device(xp)
    blocks = tuple(cols.shape[3:])
    padded = tuple(o + lo + hi for o, (lo, hi) in zip(output_size, padding))
    out = full(tuple(cols.shape[:2]) + padded, 0, cols)
    for j, off in enumerate(itertools.product(*(range(k) for k in kernel_size))):
        key = (slice(None), slice(None)) + _window_key(off, dilation, stride, blocks)
        out = setitem(out, key, out[key] + cols[:, :, j, ...])
    return _pad_array(xp, out, tuple((-lo, -hi) for lo, hi in padding), 0, full)


@col2im_op.defvjp
def _(ctx, grad):
    p = ctx.params
    return (im2col_op(grad, kernel_size=p["kernel_size"], dilation=p["dilation"],
                      padding=p["padding"], stride=p["stride"], fill=0.0),)


# -- argument checks ----------------------------------------------------------------------


def _ntuple(value, n: int, name: str, fn: str) -> tuple:
    """``value`` (an int or a sequence of one or ``n`` ints) as a tuple of ``n`` ints."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    try:
        out = tuple(int(v) for v in value)
    except TypeError:
        raise TypeError(f"{fn}(): argument '{name}' must be an int or a tuple of ints, "
                        f"not {type(value).__name__}") from None
    if len(out) == 1:
        return out * n
    if len(out) != n:
        raise RuntimeError(f"{fn}: expected {name} to be a single integer value or a list of "
                           f"{n} values to match the convolution dimensions, but got "
                           f"{name}={list(out)}")
    return out


def _check_params(input, weight, bias, fn: str) -> None:
    """PyTorch's error for operands of different dtypes (matmul's would not name the conv)."""
    for what, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype is not input.dtype:
            raise RuntimeError(f"{fn}: Input type ({input.dtype}) and {what} type ({t.dtype}) "
                               f"should be the same")


def _check_input(input, nd: int, fn: str) -> bool:
    """Raise unless ``input`` is ``(C, *S)`` or ``(N, C, *S)``; True when it is batched."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                           f"{fn}, but got input of size: {list(input.shape)}")
    return input.ndim == nd + 2


def _sizes(t) -> str:
    return " x ".join(str(n) for n in t)


def _prod(values) -> int:
    out = 1
    for v in values:
        out *= v
    return out


def _const(arr: np.ndarray, like: Tensor, dtype=None) -> Tensor:
    """A host-built constant table on ``like``'s device."""
    from .._creation import as_tensor

    return as_tensor(arr, dtype=like._dtype if dtype is None else dtype, device=like.device)


# -- convolutions ---------------------------------------------------------------------------


def _conv(input, weight, bias, stride, padding, dilation, groups, nd: int, fn: str):
    batched = _check_input(input, nd, fn)
    _check_params(input, weight, bias, fn)
    if weight.ndim != nd + 2:
        raise RuntimeError(f"{fn}: expected weight to be {nd + 2}-dimensional "
                           f"(out_channels, in_channels / groups, *kernel_size), but got "
                           f"weight of size {list(weight.shape)}")
    x = input if batched else input.unsqueeze(0)
    stride = _ntuple(stride, nd, "stride", fn)
    dilation = _ntuple(dilation, nd, "dilation", fn)
    ksize = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError(f"{fn}: padding='same' is not supported for strided "
                                   f"convolutions")
            # The extra tap of an even kernel goes on the right, as in PyTorch.
            totals = [d * (k - 1) for d, k in zip(dilation, ksize)]
            pads = tuple((t // 2, t - t // 2) for t in totals)
        else:
            raise ValueError(f"{fn}: invalid padding string {padding!r}, should be one of "
                             f"'valid' or 'same'")
    else:
        pads = tuple((p, p) for p in _ntuple(padding, nd, "padding", fn))
    if any(s <= 0 for s in stride) or any(d <= 0 for d in dilation) or \
            any(lo < 0 for lo, _ in pads):
        raise RuntimeError(f"{fn}: expected positive stride and dilation and non-negative "
                           f"padding, got stride={list(stride)}, dilation={list(dilation)}, "
                           f"padding={[lo for lo, _ in pads]}")
    if groups <= 0:
        raise RuntimeError(f"{fn}: non-positive groups is not supported (groups={groups})")
    n, c = x.shape[:2]
    o, cg = weight.shape[:2]
    if c != cg * groups:
        raise RuntimeError(
            f"{fn}: Given groups={groups}, weight of size {list(weight.shape)}, expected "
            f"input{list(x.shape)} to have {cg * groups} channels, but got {c} channels instead")
    if o % groups:
        raise RuntimeError(f"{fn}: Given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size "
                           f"{list(weight.shape)} instead")
    if bias is not None and tuple(bias.shape) != (o,):
        raise RuntimeError(f"{fn}: expected bias to be 1-dimensional with {o} elements, but "
                           f"got bias of size {list(bias.shape)}")
    padded = [s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pads)]
    extent = [d * (k - 1) + 1 for d, k in zip(dilation, ksize)]
    if any(p < e for p, e in zip(padded, extent)):
        raise RuntimeError(
            f"{fn}: Calculated padded input size per channel: ({_sizes(padded)}). Kernel "
            f"size: ({_sizes(extent)}). Kernel size can't be greater than actual input size")
    cols = im2col_op(x, kernel_size=ksize, dilation=dilation, padding=pads, stride=stride,
                     fill=0.0)
    blocks = tuple(cols.shape[3:])
    k = _prod(ksize)
    length = _prod(blocks)
    # One plain GEMM (per group) over the whole batch: (O, C K) @ (C K, N L). NumPy runs a
    # matmul that broadcasts the weight over N without BLAS, several times slower than
    # the copy that moves N next to L.
    cols = cols.reshape(n, groups, cg * k, length)
    if n > 1:
        cols = cols.permute(1, 2, 0, 3)
    cols = cols.reshape(groups, cg * k, n * length)
    if groups == 1:
        out = weight.reshape(o, c * k) @ cols.reshape(c * k, n * length)
    else:
        out = weight.reshape(groups, o // groups, cg * k) @ cols
    if n > 1:
        out = out.reshape(o, n, length).permute(1, 0, 2)
    out = out.reshape((n, o) + blocks)
    if bias is not None:
        out = out + bias.reshape((o,) + (1,) * nd)
    return out if batched else out.squeeze(0)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """1-D convolution (cross-correlation) over ``(N, C, L)`` or ``(C, L)``.

    Example:
        >>> F.conv1d(polytorch.ones(1, 2, 5), polytorch.ones(3, 2, 3)).shape
        polytorch.Size([1, 3, 3])
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation) over ``(N, C, H, W)`` or ``(C, H, W)``.

    ``padding`` is an int, a pair, ``"valid"`` or ``"same"`` (stride 1 only).

    Example:
        >>> F.conv2d(polytorch.ones(1, 3, 8, 8), polytorch.ones(4, 3, 3, 3), padding=1).shape
        polytorch.Size([1, 4, 8, 8])
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """3-D convolution (cross-correlation) over ``(N, C, D, H, W)`` or ``(C, D, H, W)``.

    Example:
        >>> F.conv3d(polytorch.ones(1, 1, 4, 4, 4), polytorch.ones(2, 1, 3, 3, 3)).shape
        polytorch.Size([1, 2, 2, 2, 2])
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 3, "conv3d")


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation,
                    nd: int, fn: str):
    batched = _check_input(input, nd, fn)
    _check_params(input, weight, bias, fn)
    if weight.ndim != nd + 2:
        raise RuntimeError(f"{fn}: expected weight to be {nd + 2}-dimensional "
                           f"(in_channels, out_channels / groups, *kernel_size), but got "
                           f"weight of size {list(weight.shape)}")
    x = input if batched else input.unsqueeze(0)
    stride = _ntuple(stride, nd, "stride", fn)
    padding = _ntuple(padding, nd, "padding", fn)
    output_padding = _ntuple(output_padding, nd, "output_padding", fn)
    dilation = _ntuple(dilation, nd, "dilation", fn)
    if any(s <= 0 for s in stride) or any(d <= 0 for d in dilation) or \
            any(p < 0 for p in padding) or any(p < 0 for p in output_padding):
        raise RuntimeError(f"{fn}: expected positive stride and dilation and non-negative "
                           f"padding and output_padding, got stride={list(stride)}, "
                           f"dilation={list(dilation)}, padding={list(padding)}, "
                           f"output_padding={list(output_padding)}")
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(f"{fn}: output padding must be smaller than either stride or "
                           f"dilation, but got output_padding={list(output_padding)}, "
                           f"stride={list(stride)}, dilation={list(dilation)}")
    if groups <= 0:
        raise RuntimeError(f"{fn}: non-positive groups is not supported (groups={groups})")
    n, c = x.shape[:2]
    cin, og = weight.shape[:2]
    if c != cin:
        raise RuntimeError(
            f"{fn}: Given transposed=1, weight of size {list(weight.shape)}, expected "
            f"input{list(x.shape)} to have {cin} channels, but got {c} channels instead")
    if cin % groups:
        raise RuntimeError(f"{fn}: Given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size "
                           f"{list(weight.shape)} instead")
    o = og * groups
    if bias is not None and tuple(bias.shape) != (o,):
        raise RuntimeError(f"{fn}: expected bias to be 1-dimensional with {o} elements, but "
                           f"got bias of size {list(bias.shape)}")
    ksize = tuple(weight.shape[2:])
    spatial = tuple(x.shape[2:])
    # The full extent the windows cover; the output is that with ``padding`` cut from both
    # ends and ``output_padding`` zeros added at the end (a negative crop, in col2im).
    full = [(s_ - 1) * s + d * (k - 1) + 1 for s_, s, d, k in zip(spatial, stride, dilation,
                                                                   ksize)]
    out_size = tuple(f - 2 * p + op for f, p, op in zip(full, padding, output_padding))
    if any(v <= 0 for v in out_size):
        raise RuntimeError(f"{fn}: Given input size per channel: ({_sizes(spatial)}). "
                           f"Calculated output size per channel: ({_sizes(out_size)}). "
                           f"Output size is too small")
    k = _prod(ksize)
    length = _prod(spatial)
    cg = cin // groups
    # One GEMM per group over the whole batch, as in _conv.
    x = x.reshape(n, cin, length)
    if n > 1:
        x = x.permute(1, 0, 2)
    x = x.reshape(groups, cg, n * length)
    if groups == 1:
        cols = weight.reshape(cin, og * k).mT @ x.reshape(cin, n * length)
    else:
        cols = weight.reshape(groups, cg, og * k).mT @ x
    cols = cols.reshape(o, k, n, length)
    cols = cols.permute(2, 0, 1, 3) if n != 1 else cols.reshape(1, o, k, length)
    cols = cols.reshape((n, o, k) + spatial)
    out = col2im_op(cols, output_size=out_size, kernel_size=ksize, dilation=dilation,
                    padding=tuple((p, p - op) for p, op in zip(padding, output_padding)),
                    stride=stride)
    if bias is not None:
        out = out + bias.reshape((o,) + (1,) * nd)
    return out if batched else out.squeeze(0)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """1-D transposed convolution (the gradient of ``conv1d`` with respect to its input).

    Example:
        >>> F.conv_transpose1d(polytorch.ones(1, 2, 4), polytorch.ones(2, 3, 3)).shape
        polytorch.Size([1, 3, 6])
    """
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 1, "conv_transpose1d")


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """2-D transposed convolution; ``weight`` is ``(C_in, C_out / groups, kH, kW)``.

    Example:
        >>> x = polytorch.ones(1, 2, 4, 4)
        >>> F.conv_transpose2d(x, polytorch.ones(2, 3, 3, 3), stride=2).shape
        polytorch.Size([1, 3, 9, 9])
    """
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 2, "conv_transpose2d")


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """3-D transposed convolution; ``weight`` is ``(C_in, C_out / groups, kD, kH, kW)``.

    Example:
        >>> x = polytorch.ones(1, 2, 2, 2, 2)
        >>> F.conv_transpose3d(x, polytorch.ones(2, 1, 2, 2, 2)).shape
        polytorch.Size([1, 1, 3, 3, 3])
    """
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 3, "conv_transpose3d")


# -- pooling ------------------------------------------------------------------------------


def _pool_geometry(spatial, kernel, stride, padding, dilation, ceil_mode, fn, channels):
    """Output sizes and the ``(lo, hi)`` padding im2col needs for a max or average pool."""
    outs = []
    for s_, k, st, p, d in zip(spatial, kernel, stride, padding, dilation):
        span = s_ + 2 * p - d * (k - 1) - 1
        out = (-(-span // st) if ceil_mode else span // st) + 1
        # In ceil mode the last window must start inside the input or left padding.
        if ceil_mode and (out - 1) * st >= s_ + p:
            out -= 1
        outs.append(out)
    if any(o < 1 for o in outs):
        raise RuntimeError(f"{fn}: Given input size: ({'x'.join(map(str, (channels,) + spatial))})"
                           f". Calculated output size: "
                           f"({'x'.join(map(str, (channels,) + tuple(outs)))}). "
                           f"Output size is too small")
    pads = tuple((p, (o - 1) * st + d * (k - 1) + 1 - s_ - p)
                 for s_, k, st, p, d, o in zip(spatial, kernel, stride, padding, dilation, outs))
    return tuple(outs), pads


def _pool_args(input, kernel_size, stride, padding, dilation, nd, fn):
    batched = _check_input(input, nd, fn)
    kernel = _ntuple(kernel_size, nd, "kernel_size", fn)
    stride = kernel if stride is None or (not isinstance(stride, int) and len(stride) == 0) \
        else _ntuple(stride, nd, "stride", fn)
    padding = _ntuple(padding, nd, "padding", fn)
    dilation = _ntuple(dilation, nd, "dilation", fn)
    if any(k <= 0 for k in kernel) or any(s <= 0 for s in stride) or \
            any(d <= 0 for d in dilation):
        raise RuntimeError(f"{fn}: kernel_size, stride and dilation must be greater than zero, "
                           f"but got kernel_size={list(kernel)}, stride={list(stride)}, "
                           f"dilation={list(dilation)}")
    for p, k, d in zip(padding, kernel, dilation):
        if p < 0 or p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(f"{fn}: pad should be at most half of effective kernel size, "
                               f"but got pad={p}, kernel_size={k} and dilation={d}")
    x = input if batched else input.unsqueeze(0)
    return batched, x, kernel, stride, padding, dilation


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, nd,
              fn):
    batched, x, kernel, stride, padding, dilation = _pool_args(
        input, kernel_size, stride, padding, dilation, nd, fn)
    spatial = tuple(x.shape[2:])
    outs, pads = _pool_geometry(spatial, kernel, stride, padding, dilation, ceil_mode, fn,
                                x.shape[1])
    cols = im2col_op(x, kernel_size=kernel, dilation=dilation, padding=pads, stride=stride,
                     fill=-math.inf)
    # max along K gives the gradient to the first maximum of a window, as PyTorch's
    # pools do (amax would share it among ties, say the zeros after a ReLU).
    values, arg = cols.max(dim=2)
    if not batched:
        values = values.squeeze(0)
    if not return_indices:
        return values
    table = _const(_flat_positions(spatial, kernel, stride, dilation, pads), x, D.int64)
    idx = table.expand(x.shape[:2] + table.shape).take_along_dim(arg.unsqueeze(2), dim=2)
    idx = idx.squeeze(2)
    return values, (idx if batched else idx.squeeze(0))


def _flat_positions(spatial, kernel, stride, dilation, pads) -> np.ndarray:
    """``(K, *L)``: the flat input position each window tap reads (PyTorch's pool indices)."""
    flat = np.arange(_prod(spatial), dtype=np.float64).reshape((1, 1) + spatial)
    # im2col itself, on the host, over the positions (padding reads -1, never a maximum).
    out = im2col_array(np, flat, kernel_size=kernel, dilation=dilation, padding=pads,
                       stride=stride, fill=-1.0,
                       full=lambda shape, value, like: np.full(shape, value, like.dtype))
    return out[0, 0].astype(np.int64)


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """1-D max pooling over ``(N, C, L)`` or ``(C, L)``; with ``return_indices`` also the
    flat positions of the maxima.

    Example:
        >>> F.max_pool1d(polytorch.tensor([[1., 3., 2., 5.]]), 2)
        tensor([[3., 5.]])
    """
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     1, "max_pool1d")


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """2-D max pooling over ``(N, C, H, W)`` or ``(C, H, W)`` (stride defaults to the kernel).

    Example:
        >>> F.max_pool2d(polytorch.ones(1, 1, 4, 4), 2).shape
        polytorch.Size([1, 1, 2, 2])
    """
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     2, "max_pool2d")


def max_pool3d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """3-D max pooling over ``(N, C, D, H, W)`` or ``(C, D, H, W)``.

    Example:
        >>> F.max_pool3d(polytorch.ones(1, 1, 4, 4, 4), 2).shape
        polytorch.Size([1, 1, 2, 2, 2])
    """
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     3, "max_pool3d")


def _avg_divisor(spatial, kernel, stride, padding, outs, count_include_pad) -> np.ndarray:
    """PyTorch's divisor per output position (windows clipped to the padded input)."""
    total = np.ones((), np.float64)
    for s_, k, st, p, o in zip(spatial, kernel, stride, padding, outs):
        start = np.arange(o) * st - p
        end = np.minimum(start + k, s_ + p)
        size = end - start if count_include_pad else \
            np.minimum(end, s_) - np.maximum(start, 0)
        total = np.multiply.outer(total, size.astype(np.float64))
    return total


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override, nd, fn):
    batched, x, kernel, stride, padding, _ = _pool_args(input, kernel_size, stride, padding, 1,
                                                        nd, fn)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError(f"{fn}: divisor must be not zero")
    spatial = tuple(x.shape[2:])
    ones = (1,) * nd
    outs, pads = _pool_geometry(spatial, kernel, stride, padding, ones, ceil_mode, fn,
                                x.shape[1])
    cols = im2col_op(x, kernel_size=kernel, dilation=ones, padding=pads, stride=stride,
                     fill=0.0)
    total = cols.sum(dim=2)
    if divisor_override is not None:
        out = total / divisor_override
    else:
        divisor = _avg_divisor(spatial, kernel, stride, padding, outs, count_include_pad)
        first = float(divisor.flat[0])
        out = total / first if (divisor == first).all() else total / _const(divisor, total)
    return out if batched else out.squeeze(0)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """1-D average pooling over ``(N, C, L)`` or ``(C, L)``.

    Example:
        >>> F.avg_pool1d(polytorch.tensor([[1., 3., 2., 6.]]), 2)
        tensor([[2., 4.]])
    """
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None,
                     1, "avg_pool1d")


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """2-D average pooling over ``(N, C, H, W)`` or ``(C, H, W)``.

    Example:
        >>> F.avg_pool2d(polytorch.ones(1, 1, 4, 4), 2).shape
        polytorch.Size([1, 1, 2, 2])
    """
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 2, "avg_pool2d")


def avg_pool3d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """3-D average pooling over ``(N, C, D, H, W)`` or ``(C, D, H, W)``.

    Example:
        >>> F.avg_pool3d(polytorch.ones(1, 1, 4, 4, 4), 2).shape
        polytorch.Size([1, 1, 2, 2, 2])
    """
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 3, "avg_pool3d")


def _adaptive_windows(size: int, out: int):
    """PyTorch's adaptive windows: ``[floor(i * size / out), ceil((i + 1) * size / out))``."""
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def _adaptive_sizes(input, output_size, nd, fn):
    batched = _check_input(input, nd, fn)
    x = input if batched else input.unsqueeze(0)
    spatial = tuple(x.shape[2:])
    if isinstance(output_size, int) or output_size is None:
        output_size = (output_size,) * nd
    output_size = tuple(output_size)
    if len(output_size) == 1:
        output_size = output_size * nd
    if len(output_size) != nd:
        raise RuntimeError(f"{fn}: output_size must be {nd} integers, got {list(output_size)}")
    outs = tuple(s if o is None else int(o) for s, o in zip(spatial, output_size))
    if any(o < 0 for o in outs):
        raise RuntimeError(f"{fn}: elements of output_size must be greater than or equal to 0 "
                           f"but received {list(outs)}")
    if any(s == 0 for s in x.shape[1:]):
        raise RuntimeError(f"{fn}: Expected input to have non-zero size for non-batch "
                           f"dimensions, but input has sizes {list(input.shape)}")
    return batched, x, spatial, outs


def _adaptive_avg_pool(input, output_size, nd, fn):
    batched, x, spatial, outs = _adaptive_sizes(input, output_size, nd, fn)
    # A mean over a box is the mean over each dim in turn: one matmul per dim with a
    # (out, in) averaging matrix, last dim first.
    n, c = x.shape[:2]
    done = 1
    for i in reversed(range(nd)):
        size, out = spatial[i], outs[i]
        if size == out:
            done *= out
            continue
        start, end = _adaptive_windows(size, out)
        pos = np.arange(size)
        inside = (pos >= start[:, None]) & (pos < end[:, None])
        weights = inside / (end - start)[:, None].astype(np.float64)
        before = _prod(spatial[:i])
        x = _const(weights, x) @ x.reshape(n * c * before, size, done)
        done *= out
    out = x.reshape((n, c) + outs)
    return out if batched else out.squeeze(0)


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """Averages over ``output_size`` windows covering the last dim (PyTorch's windows).

    Example:
        >>> F.adaptive_avg_pool1d(polytorch.tensor([[1., 2., 3., 4., 5.]]), 2)
        tensor([[2., 4.]])
    """
    return _adaptive_avg_pool(input, output_size, 1, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Averages over an ``output_size`` grid of windows (``None`` keeps a dim's size).

    Example:
        >>> F.adaptive_avg_pool2d(polytorch.ones(1, 3, 7, 5), (2, 3)).shape
        polytorch.Size([1, 3, 2, 3])
    """
    return _adaptive_avg_pool(input, output_size, 2, "adaptive_avg_pool2d")


def adaptive_avg_pool3d(input: Tensor, output_size) -> Tensor:
    """Averages over an ``output_size`` grid of 3-D windows.

    Example:
        >>> F.adaptive_avg_pool3d(polytorch.ones(1, 1, 4, 4, 4), 2).shape
        polytorch.Size([1, 1, 2, 2, 2])
    """
    return _adaptive_avg_pool(input, output_size, 3, "adaptive_avg_pool3d")


def _adaptive_max_pool(input, output_size, return_indices, nd, fn):
    batched, x, spatial, outs = _adaptive_sizes(input, output_size, nd, fn)
    # Gather each dim's windows, padded to the longest by repeating their last position
    # (a repeat never changes a maximum, and comes after the original in scan order).
    n, c = x.shape[:2]
    tables = []
    lengths = []
    for i in range(nd):
        start, end = _adaptive_windows(spatial[i], outs[i])
        m = int((end - start).max()) if outs[i] else 1
        idx = np.minimum(start[:, None] + np.arange(m), end[:, None] - 1)
        tables.append(idx)
        lengths.append(m)
        x = x.index_select(2 + 2 * i, _const(idx.reshape(-1), x, D.int64))
        x = x.reshape(x.shape[:2 + 2 * i] + (outs[i], m) + x.shape[3 + 2 * i:])
    # (N, C, o1, m1, o2, m2, ...) -> (N, C, o1, o2, ..., m1 * m2 * ...)
    perm = (0, 1) + tuple(2 + 2 * i for i in range(nd)) + tuple(3 + 2 * i for i in range(nd))
    x = x.permute(perm).reshape((n, c) + outs + (_prod(lengths),))
    values, arg = x.max(dim=-1)
    if not batched:
        values = values.squeeze(0)
    if not return_indices:
        return values
    # The flat input position of every (output, tap) pair, for PyTorch's indices.
    strides = [_prod(spatial[i + 1:]) for i in range(nd)]
    pos = np.zeros(outs + tuple(lengths), np.int64)
    for i in range(nd):
        shape = [1] * (2 * nd)
        shape[i], shape[nd + i] = outs[i], lengths[i]
        pos = pos + (tables[i] * strides[i]).reshape(shape)
    table = _const(pos.reshape(outs + (-1,)), x, D.int64)
    idx = table.expand((n, c) + table.shape).take_along_dim(
        arg.unsqueeze(-1), dim=-1).squeeze(-1)
    return values, (idx if batched else idx.squeeze(0))


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    """Maxima over ``output_size`` adaptive windows of the last dim.

    Example:
        >>> F.adaptive_max_pool1d(polytorch.tensor([[1., 5., 3., 4., 2.]]), 2)
        tensor([[5., 4.]])
    """
    return _adaptive_max_pool(input, output_size, return_indices, 1, "adaptive_max_pool1d")


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Maxima over an ``output_size`` grid of adaptive windows.

    Example:
        >>> F.adaptive_max_pool2d(polytorch.ones(1, 3, 7, 5), (2, 3)).shape
        polytorch.Size([1, 3, 2, 3])
    """
    return _adaptive_max_pool(input, output_size, return_indices, 2, "adaptive_max_pool2d")


def adaptive_max_pool3d(input: Tensor, output_size, return_indices: bool = False):
    """Maxima over an ``output_size`` grid of adaptive 3-D windows.

    Example:
        >>> F.adaptive_max_pool3d(polytorch.ones(1, 1, 4, 4, 4), 2).shape
        polytorch.Size([1, 1, 2, 2, 2])
    """
    return _adaptive_max_pool(input, output_size, return_indices, 3, "adaptive_max_pool3d")


# -- pixel shuffle --------------------------------------------------------------------------


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """``(*, C * r * r, H, W)`` -> ``(*, C, H * r, W * r)``.

    Example:
        >>> F.pixel_shuffle(polytorch.ones(1, 8, 2, 3), 2).shape
        polytorch.Size([1, 2, 4, 6])
    """
    r = int(upscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                           f"is not divisible by {r * r}")
    lead = tuple(lead)
    b = len(lead)
    x = input.reshape(lead + (c // (r * r), r, r, h, w))
    x = x.permute(tuple(range(b)) + (b, b + 3, b + 1, b + 4, b + 2))
    return x.reshape(lead + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """``(*, C, H * r, W * r)`` -> ``(*, C * r * r, H, W)`` (the inverse of pixel_shuffle).

    Example:
        >>> F.pixel_unshuffle(polytorch.ones(1, 2, 4, 6), 2).shape
        polytorch.Size([1, 8, 2, 3])
    """
    r = int(downscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise RuntimeError(f"pixel_unshuffle expects height ({h}) and width ({w}) to be "
                           f"divisible by downscale_factor ({r})")
    lead = tuple(lead)
    b = len(lead)
    x = input.reshape(lead + (c, h // r, r, w // r, r))
    x = x.permute(tuple(range(b)) + (b, b + 2, b + 4, b + 1, b + 3))
    return x.reshape(lead + (c * r * r, h // r, w // r))
