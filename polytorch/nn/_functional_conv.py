"""nn.functional: convolution, pooling, padding, interpolation, fold/unfold, pixel shuffle.

The convolutions and pools live in polytorch/ops/conv.py (PyTorch exports several
at top level too); this module adds the functions that are only in
``torch.nn.functional``. Everything is composed from polytorch ops: the two
im2col/col2im primitives (Note [Convolution as im2col]), matmul, index_select
and cat, so gradients of any order come for free.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ..ops.conv import (
    _check_input,
    _const,
    _ntuple,
    _prod,
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_avg_pool3d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    adaptive_max_pool3d,
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    col2im_op,
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
    im2col_op,
    max_pool1d,
    max_pool2d,
    max_pool3d,
    pixel_shuffle,
    pixel_unshuffle,
)

__all__ = [
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
    "adaptive_max_pool2d", "adaptive_max_pool3d", "affine_grid", "avg_pool1d", "avg_pool2d",
    "avg_pool3d", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
    "conv_transpose3d", "fold", "grid_sample", "interpolate", "lp_pool1d", "lp_pool2d",
    "lp_pool3d", "max_pool1d", "max_pool2d", "max_pool3d", "max_unpool1d", "max_unpool2d",
    "max_unpool3d", "pad", "pixel_shuffle", "pixel_unshuffle", "unfold", "upsample",
    "upsample_bilinear", "upsample_nearest",
]


# -- unfold / fold ------------------------------------------------------------------------


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sliding local blocks: ``(N, C, H, W)`` -> ``(N, C * kH * kW, L)`` (im2col).

    Example:
        >>> F.unfold(polytorch.ones(1, 2, 4, 4), 2).shape
        polytorch.Size([1, 8, 9])
    """
    batched = _check_input(input, 2, "unfold")
    x = input if batched else input.unsqueeze(0)
    kernel = _ntuple(kernel_size, 2, "kernel_size", "unfold")
    dilation = _ntuple(dilation, 2, "dilation", "unfold")
    padding = _ntuple(padding, 2, "padding", "unfold")
    stride = _ntuple(stride, 2, "stride", "unfold")
    _check_window(kernel, dilation, padding, stride, "unfold")
    padded = [s + 2 * p for s, p in zip(x.shape[2:], padding)]
    blocks = [(s - d * (k - 1) - 1) // st + 1
              for s, k, d, st in zip(padded, kernel, dilation, stride)]
    if any(b < 1 for b in blocks):
        raise RuntimeError(
            f"unfold: Given input with spatial size ({x.shape[2]}, {x.shape[3]}), "
            f"kernel_size={kernel}, dilation={dilation}, padding={padding}, calculated shape of "
            f"the array of sliding blocks as ({blocks[0]}, {blocks[1]}), but its components "
            f"must be at least one.")
    cols = im2col_op(x, kernel_size=kernel, dilation=dilation,
                     padding=tuple((p, p) for p in padding), stride=stride, fill=0.0)
    n, c = x.shape[:2]
    out = cols.reshape(n, c * _prod(kernel), _prod(blocks))
    return out if batched else out.squeeze(0)


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sums sliding local blocks back into a tensor (col2im), the adjoint of ``unfold``.

    Example:
        >>> F.fold(polytorch.ones(1, 8, 9), (4, 4), 2).shape
        polytorch.Size([1, 2, 4, 4])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"fold(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2D (unbatched) or 3D (batched) input to fold, but got "
                           f"input of size: {list(input.shape)}")
    batched = input.ndim == 3
    x = input if batched else input.unsqueeze(0)
    output_size = _ntuple(output_size, 2, "output_size", "fold")
    kernel = _ntuple(kernel_size, 2, "kernel_size", "fold")
    dilation = _ntuple(dilation, 2, "dilation", "fold")
    padding = _ntuple(padding, 2, "padding", "fold")
    stride = _ntuple(stride, 2, "stride", "fold")
    _check_window(kernel, dilation, padding, stride, "fold")
    n, ck, length = x.shape
    k = _prod(kernel)
    if ck % k:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={ck} and "
                           f"kernel_size={kernel}.")
    blocks = [(o + 2 * p - d * (kk - 1) - 1) // s + 1
              for o, p, d, kk, s in zip(output_size, padding, dilation, kernel, stride)]
    if any(b < 1 for b in blocks) or _prod(blocks) != length:
        raise RuntimeError(
            f"Given output_size={output_size}, kernel_size={kernel}, dilation={dilation}, "
            f"padding={padding}, stride={stride}, expected size of input's dimension 2 to match "
            f"the calculated number of sliding blocks {blocks[0]} * {blocks[1]} = "
            f"{_prod(blocks)}, but got input.size(2)={length}.")
    cols = x.reshape((n, ck // k, k) + tuple(blocks))
    out = col2im_op(cols, output_size=output_size, kernel_size=kernel, dilation=dilation,
                    padding=tuple((p, p) for p in padding), stride=stride)
    return out if batched else out.squeeze(0)


def _check_window(kernel, dilation, padding, stride, fn):
    if any(v <= 0 for v in kernel + dilation + stride) or any(p < 0 for p in padding):
        raise RuntimeError(f"{fn}: expected kernel_size, dilation and stride to be greater than "
                           f"zero and padding non-negative, but got kernel_size={kernel}, "
                           f"dilation={dilation}, padding={padding}, stride={stride}")


# -- padding ------------------------------------------------------------------------------

_NON_CONSTANT = {"reflect", "replicate", "circular"}


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pads (or, with negative amounts, crops) the last ``len(pad) // 2`` dims.

    ``pad`` is PyTorch's last-dim-first tuple ``(left, right, top, bottom, ...)``;
    ``mode`` is ``"constant"`` (with ``value``), ``"reflect"``, ``"replicate"`` or
    ``"circular"``.

    Example:
        >>> F.pad(polytorch.ones(1, 2, 3), (1, 2), value=0.5).shape
        polytorch.Size([1, 2, 6])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pad(): argument 'input' must be Tensor, not {type(input).__name__}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    npairs = len(pad) // 2
    if npairs > input.ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension "
                           f"{input.ndim}")
    shape = tuple(input.shape)
    pairs = {input.ndim - 1 - i: (pad[2 * i], pad[2 * i + 1]) for i in range(npairs)}
    if mode == "constant":
        return _pad_constant(input, pairs, 0 if value is None else value)
    if mode not in _NON_CONSTANT:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise ValueError(f"Padding mode \"{mode}\" doesn't take in value argument")
    if input.ndim not in (npairs + 1, npairs + 2) or npairs > 3:
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {input.ndim}D input tensor.\n"
            f"Supported combinations for non-constant padding:\n"
            f"  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            f"  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            f"  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    out = input
    for dim, (lo, hi) in sorted(pairs.items(), reverse=True):
        size = shape[dim]
        if mode == "reflect" and (lo >= size or hi >= size):
            raise RuntimeError(f"reflection pad: Padding size should be less than the "
                               f"corresponding input dimension, but got: padding ({lo}, {hi}) "
                               f"at dimension {dim} of input {list(shape)}")
        if mode == "circular" and (lo > size or hi > size):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if size + lo + hi < 0 or (mode == "replicate" and size == 0 and lo + hi > 0):
            raise RuntimeError(f"{mode} pad: the input size {size}, plus padding {lo} and {hi}, "
                               f"gives an invalid output size at dimension {dim}")
        if lo == hi == 0:
            continue
        pos = np.arange(-lo, size + hi)
        if mode == "reflect":
            pos = np.abs(pos)
            pos = np.where(pos >= size, 2 * (size - 1) - pos, pos)
        elif mode == "replicate":
            pos = np.clip(pos, 0, size - 1)
        else:
            # PyTorch crops first, then wraps around what is left.
            start = max(-lo, 0)
            kept = size - start - max(-hi, 0)
            pos = np.arange(-max(lo, 0), kept + max(hi, 0)) % kept + start
        out = out.index_select(dim, _const(pos.astype(np.int64), out, D.int64))
    return out


def _pad_constant(input, pairs, value):
    from .._creation import full

    out = input
    for dim, (lo, hi) in sorted(pairs.items(), reverse=True):
        size = out.shape[dim]
        if size + lo + hi < 0:
            raise RuntimeError(f"The input size {size}, plus negative padding {lo} and {hi} "
                               f"resulted in a negative output size, which is invalid. Check "
                               f"dimension {dim} of your input.")
        if lo < 0 or hi < 0:
            start = max(-lo, 0)
            out = out.narrow(dim, start, size - start - max(-hi, 0))
        parts = []
        shape = list(out.shape)
        if lo > 0:
            shape[dim] = lo
            parts.append(full(tuple(shape), value, dtype=out.dtype, device=out.device))
        parts.append(out)
        if hi > 0:
            shape[dim] = hi
            parts.append(full(tuple(shape), value, dtype=out.dtype, device=out.device))
        if len(parts) > 1:
            from ..ops.shape import cat

            out = cat(parts, dim)
    return out


# -- interpolation ------------------------------------------------------------------------

_MODE_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_A = -0.75  # PyTorch's bicubic convolution coefficient


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resizes the spatial dims of ``(N, C, *S)`` to ``size`` or by ``scale_factor``.

    Modes: ``nearest``, ``nearest-exact``, ``linear``, ``bilinear``, ``bicubic``,
    ``trilinear``, ``area`` (adaptive average pooling), with PyTorch's source-index rules.

    Example:
        >>> F.interpolate(polytorch.ones(1, 1, 2, 3), scale_factor=2, mode="bilinear").shape
        polytorch.Size([1, 1, 4, 6])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    nd = input.ndim - 2
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    elif mode in _MODE_DIMS:
        if align_corners is None:
            align_corners = False
        if nd != _MODE_DIMS[mode]:
            raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs "
                                      f"{_MODE_DIMS[mode] + 2}D input")
    else:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {input.ndim}D) for the modes: nearest | linear | "
                                  f"bilinear | bicubic | trilinear | area | nearest-exact "
                                  f"(got {mode})")
    if nd < 1 or nd > 3:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {input.ndim}D) for the modes: nearest | linear | "
                                  f"bilinear | bicubic | trilinear | area | nearest-exact "
                                  f"(got {mode})")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported by polytorch")
    spatial = tuple(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        sizes = _ntuple(size, nd, "size", "interpolate")
        scales = (None,) * nd
    elif scale_factor is not None:
        if isinstance(scale_factor, (int, float)):
            scales = (float(scale_factor),) * nd
        else:
            scales = tuple(float(s) for s in scale_factor)
            if len(scales) != nd:
                raise ValueError(f"Input and scale_factor must have the same number of spatial "
                                 f"dimensions, but got input with spatial dimensions of "
                                 f"{list(spatial)} and scale_factor of shape "
                                 f"{list(scale_factor)}.")
        sizes = tuple(int(math.floor(float(s) * f)) for s, f in zip(spatial, scales))
        if recompute_scale_factor:
            scales = (None,) * nd
    else:
        raise ValueError("either size or scale_factor should be defined")
    if any(s <= 0 for s in sizes):
        raise RuntimeError(f"interpolate: input {list(input.shape)} and output size "
                           f"{list(sizes)} should be greater than 0")
    if mode == "area":
        return _adaptive_avg(input, sizes)
    out = input
    for i in range(nd):
        dim = 2 + i
        n_in, n_out, scale = spatial[i], sizes[i], scales[i]
        if mode in ("nearest", "nearest-exact"):
            if n_in == n_out:
                continue
            idx = _nearest_index(n_in, n_out, scale, mode == "nearest-exact")
            out = out.index_select(dim, _const(idx, out, D.int64))
        else:
            if n_in == n_out and (align_corners or scale is None or scale == 1.0) \
                    and mode != "bicubic":
                continue
            mat = _interp_matrix(n_in, n_out, scale, align_corners, mode == "bicubic")
            out = _along(out, dim, _const(mat, out))
    return out


def _adaptive_avg(input, sizes):
    nd = len(sizes)
    pools = {1: adaptive_avg_pool1d, 2: adaptive_avg_pool2d, 3: adaptive_avg_pool3d}
    return pools[nd](input, sizes)


def _along(x: Tensor, dim: int, mat: Tensor) -> Tensor:
    """``mat`` (out, in) applied along ``dim`` of ``x`` (a matmul over that dim)."""
    shape = tuple(x.shape)
    before, after = _prod(shape[:dim]), _prod(shape[dim + 1:])
    out = mat @ x.reshape(before, shape[dim], after)
    return out.reshape(shape[:dim] + (mat.shape[0],) + shape[dim + 1:])


def _scale(n_in, n_out, scale, align_corners):
    """PyTorch's ``area_pixel_compute_scale``."""
    if align_corners:
        return (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    return 1.0 / scale if scale is not None and scale > 0 else n_in / n_out


def _nearest_index(n_in, n_out, scale, exact) -> np.ndarray:
    # PyTorch computes these in float32; so do we, so that boundaries round alike.
    s = np.float32(1.0 / scale if scale is not None and scale > 0 else n_in / n_out)
    dst = np.arange(n_out, dtype=np.float32)
    if exact:
        dst = dst + np.float32(0.5)
    return np.minimum(np.floor(dst * s).astype(np.int64), n_in - 1)


def _cubic(t):
    """The four bicubic weights of fractional offset ``t`` (PyTorch's, A = -0.75)."""

    def near(x):
        return ((_A + 2) * x - (_A + 3)) * x * x + 1

    def far(x):
        return ((_A * x - 5 * _A) * x + 8 * _A) * x - 4 * _A

    return np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], axis=-1)


def _interp_matrix(n_in, n_out, scale, align_corners, cubic) -> np.ndarray:
    """The (out, in) matrix of linear or cubic interpolation weights along one dim."""
    s = _scale(n_in, n_out, scale, align_corners)
    dst = np.arange(n_out, dtype=np.float64)
    src = s * dst if align_corners else s * (dst + 0.5) - 0.5
    mat = np.zeros((n_out, n_in), np.float64)
    rows = np.arange(n_out)
    if cubic:
        i0 = np.floor(src)
        w = _cubic(src - i0)
        for j in range(4):
            np.add.at(mat, (rows, np.clip(i0.astype(np.int64) - 1 + j, 0, n_in - 1)), w[:, j])
        return mat
    if not align_corners:
        src = np.maximum(src, 0.0)
    i0 = src.astype(np.int64)
    lam = src - i0
    i1 = np.minimum(i0 + 1, n_in - 1)
    np.add.at(mat, (rows, i0), 1.0 - lam)
    np.add.at(mat, (rows, i1), lam)
    return mat


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """The old name of ``interpolate``.

    Example:
        >>> F.upsample(polytorch.ones(1, 1, 2, 2), scale_factor=2).shape
        polytorch.Size([1, 1, 4, 4])
    """
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """``interpolate(..., mode="nearest")``.

    Example:
        >>> F.upsample_nearest(polytorch.ones(1, 1, 2, 2), scale_factor=2).shape
        polytorch.Size([1, 1, 4, 4])
    """
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """``interpolate(..., mode="bilinear", align_corners=True)``.

    Example:
        >>> F.upsample_bilinear(polytorch.ones(1, 1, 2, 2), scale_factor=2).shape
        polytorch.Size([1, 1, 4, 4])
    """
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# -- power-average pooling and max unpooling -----------------------------------------------


def _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, nd, pool):
    kernel = _ntuple(kernel_size, nd, "kernel_size", f"lp_pool{nd}d")
    out = pool(input.pow(norm_type), kernel, stride, 0, ceil_mode)
    # PyTorch's formula: the sign and ReLU keep the root real where averaging rounded below 0.
    return (out.sign() * out.abs().relu()).mul(_prod(kernel)).pow(1.0 / norm_type)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size: int, stride=None,
              ceil_mode: bool = False) -> Tensor:
    """Power-average pooling: ``(sum of x ** p over a window) ** (1 / p)``.

    Example:
        >>> F.lp_pool1d(polytorch.tensor([[3., 4.]]), 2, 2)
        tensor([[5.]])
    """
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 1, avg_pool1d)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size, stride=None,
              ceil_mode: bool = False) -> Tensor:
    """2-D power-average pooling.

    Example:
        >>> F.lp_pool2d(polytorch.ones(1, 1, 4, 4), 2, 2).shape
        polytorch.Size([1, 1, 2, 2])
    """
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 2, avg_pool2d)


def lp_pool3d(input: Tensor, norm_type: float, kernel_size, stride=None,
              ceil_mode: bool = False) -> Tensor:
    """3-D power-average pooling.

    Example:
        >>> F.lp_pool3d(polytorch.ones(1, 1, 4, 4, 4), 2, 2).shape
        polytorch.Size([1, 1, 2, 2, 2])
    """
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 3, avg_pool3d)


def _max_unpool(input, indices, kernel_size, stride, padding, output_size, nd, fn):
    batched = _check_input(input, nd, fn)
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"{fn}: Expected shape of indices to be same as that of the input "
                           f"tensor ({list(input.shape)}) but got indices tensor with shape: "
                           f"{list(indices.shape)}")
    if indices.dtype is not D.int64:
        raise RuntimeError(f"{fn}: expected indices to have type int64, but got {indices.dtype}")
    kernel = _ntuple(kernel_size, nd, "kernel_size", fn)
    stride = kernel if stride is None else _ntuple(stride, nd, "stride", fn)
    padding = _ntuple(padding, nd, "padding", fn)
    x = input if batched else input.unsqueeze(0)
    idx = indices if batched else indices.unsqueeze(0)
    spatial = tuple(x.shape[2:])
    default = tuple((s - 1) * st - 2 * p + k
                    for s, st, p, k in zip(spatial, stride, padding, kernel))
    if output_size is None:
        out_size = default
    else:
        out_size = tuple(int(s) for s in output_size)[-nd:]
        if len(out_size) != nd:
            raise ValueError(f"{fn}: output_size should have {nd} or {nd + 2} elements, got "
                             f"{list(output_size)}")
    n, c = x.shape[:2]
    from .._creation import zeros

    flat = zeros((n, c, _prod(out_size)), dtype=x.dtype, device=x.device)
    out = flat.scatter(2, idx.reshape(n, c, -1), x.reshape(n, c, -1))
    out = out.reshape((n, c) + out_size)
    return out if batched else out.squeeze(0)


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """Puts the values of a max pool back at ``indices``; zeros elsewhere.

    Example:
        >>> x, i = F.max_pool1d(polytorch.tensor([[1., 3., 2., 5.]]), 2, return_indices=True)
        >>> F.max_unpool1d(x, i, 2)
        tensor([[0., 3., 0., 5.]])
    """
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1,
                       "max_unpool1d")


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """The partial inverse of ``max_pool2d``: values at ``indices``, zeros elsewhere.

    Example:
        >>> x, i = F.max_pool2d(polytorch.ones(1, 1, 4, 4), 2, return_indices=True)
        >>> F.max_unpool2d(x, i, 2).shape
        polytorch.Size([1, 1, 4, 4])
    """
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2,
                       "max_unpool2d")


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """The partial inverse of ``max_pool3d``.

    Example:
        >>> x, i = F.max_pool3d(polytorch.ones(1, 1, 2, 2, 2), 2, return_indices=True)
        >>> F.max_unpool3d(x, i, 2).shape
        polytorch.Size([1, 1, 2, 2, 2])
    """
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 3,
                       "max_unpool3d")


# -- spatial transformers -------------------------------------------------------------------


def affine_grid(theta: Tensor, size, align_corners: bool | None = None) -> Tensor:
    """The ``(N, H, W, 2)`` sampling grid of the 2-D affine maps ``theta`` (``(N, 2, 3)``).

    Example:
        >>> theta = polytorch.tensor([[[1., 0., 0.], [0., 1., 0.]]])
        >>> F.affine_grid(theta, (1, 3, 4, 5), align_corners=False).shape
        polytorch.Size([1, 4, 5, 2])
    """
    size = tuple(int(s) for s in size)
    if len(size) != 4:
        raise NotImplementedError(f"affine_grid only supports 4D sizes, for 2D affine "
                                  f"transforms, got size {list(size)}")
    if theta.ndim != 3 or tuple(theta.shape[1:]) != (2, 3) or theta.shape[0] != size[0]:
        raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                         f"{list(size)}. Got {list(theta.shape)}.")
    if not theta.dtype.is_floating_point:
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    n, _, h, w = size

    def coords(m):
        c = np.linspace(-1.0, 1.0, m) if m > 1 else np.zeros(1)
        return c if align_corners else c * (m - 1) / m

    base = np.stack(np.broadcast_arrays(coords(w)[None, :], coords(h)[:, None],
                                        np.ones((1, 1))), axis=-1)  # (H, W, 3): x, y, 1
    grid = _const(base.reshape(1, h * w, 3), theta) @ theta.mT
    return grid.reshape(n, h, w, 2)


def _unnormalize(coord, size, align_corners):
    if align_corners:
        return (coord + 1) * ((size - 1) / 2)
    return ((coord + 1) * size - 1) / 2


def _reflect(coord, low2, high2):
    """PyTorch's ``reflect_coordinates``: fold ``coord`` into [low2 / 2, high2 / 2]."""
    if low2 == high2:
        return coord * 0
    lo, span = low2 / 2, (high2 - low2) / 2
    coord = (coord - lo).abs()
    extra = coord.fmod(span)
    flips = (coord / span).floor()
    from ..ops.elementwise import where

    return where(flips.fmod(2) == 0, extra + lo, span - extra + lo)


def _source(coord, size, padding_mode, align_corners):
    coord = _unnormalize(coord, size, align_corners)
    if padding_mode == "border":
        coord = coord.clamp(0, size - 1)
    elif padding_mode == "reflection":
        coord = _reflect(coord, 0, 2 * (size - 1)) if align_corners else \
            _reflect(coord, -1, 2 * size - 1)
        coord = coord.clamp(0, size - 1)
    return coord


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    """Samples ``input`` (``(N, C, H, W)``) at ``grid`` (``(N, H_out, W_out, 2)``, x then y,
    in [-1, 1]) with ``bilinear`` or ``nearest`` interpolation.

    ``padding_mode`` is ``zeros``, ``border`` or ``reflection``; gradients reach both the
    input and the grid (bilinear), as in PyTorch.

    Example:
        >>> grid = polytorch.zeros(1, 2, 3, 2)
        >>> F.grid_sample(polytorch.ones(1, 1, 4, 4), grid, align_corners=False).shape
        polytorch.Size([1, 1, 2, 3])
    """
    if mode not in ("bilinear", "nearest"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear' or "
                         f"'nearest' (polytorch has no bicubic), but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if input.ndim != 4 or grid.ndim != 4 or grid.shape[-1] != 2 or \
            grid.shape[0] != input.shape[0]:
        raise RuntimeError(f"grid_sample(): expected 4D input (N, C, H, W) and grid "
                           f"(N, H_out, W_out, 2) with the same batch size, but got input of "
                           f"size {list(input.shape)} and grid of size {list(grid.shape)}")
    from ..ops.indexing import gather

    n, c, h, w = input.shape
    ho, wo = grid.shape[1:3]
    ix = _source(grid[..., 0], w, padding_mode, bool(align_corners))
    iy = _source(grid[..., 1], h, padding_mode, bool(align_corners))
    flat = input.reshape(n, c, h * w)

    def tap(xi, yi):
        """Values at integer ``(xi, yi)`` (float tensors), zero outside the input."""
        inside = (xi >= 0) & (xi <= w - 1) & (yi >= 0) & (yi <= h - 1)
        idx = (yi.clamp(0, h - 1) * w + xi.clamp(0, w - 1)).to(D.int64)
        idx = idx.reshape(n, 1, ho * wo).expand(n, c, ho * wo)
        vals = gather(flat, 2, idx).reshape(n, c, ho, wo)
        return vals * inside.unsqueeze(1).to(input.dtype)

    if mode == "nearest":
        return tap(ix.detach().round(), iy.detach().round())
    x0, y0 = ix.detach().floor(), iy.detach().floor()
    tx, ty = (ix - x0).unsqueeze(1), (iy - y0).unsqueeze(1)
    return (tap(x0, y0) * (1 - tx) * (1 - ty) + tap(x0 + 1, y0) * tx * (1 - ty)
            + tap(x0, y0 + 1) * (1 - tx) * ty + tap(x0 + 1, y0 + 1) * tx * ty)
