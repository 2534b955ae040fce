"""Indexing: advanced getitem/setitem, gather, scatter, index_* and friends.

Primitives: ``index`` (advanced getitem), ``index_put`` (its out-of-place write,
with accumulate), ``gather``, ``scatter`` (set or a reduction: sum, prod, mean,
amax, amin), ``nonzero`` and ``searchsorted``. Everything else is composed of
them: index_select is ``index`` on one dim, index_add/index_copy/index_fill and
masked_scatter are ``index_put``, take/masked_select are ``index``, one_hot and
bincount are comparisons and a scatter.

Note [Scatter over the array API]
The standard has ``take`` but no scatter. Both writes reduce to one helper,
``rows(xp, y, lin, vals, mode, include_self)``: rows ``lin`` of ``y`` (shape
``(K, ...)``) receive ``vals`` (shape ``(N, ...)``). The reference over ``xp``
compares ``lin`` with every row (memory K*N: fine for tests and small tensors);
NumPy (``ufunc.at``) and JAX (``.at[]``) register native kernels with the same
signature. Bounds are checked in the frontend before anything runs, so a
backend that clamps (JAX) still raises PyTorch's IndexError.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor, _wrap_dim
from ._registry import defop
from .shape import expand, getitem_op, index_basic, normalize_key, reshape
from .shape import setitem_op as _setitem_op

__all__ = [  # exported as polytorch.NAME
    "argwhere", "bincount", "bucketize", "gather", "index_add", "index_copy", "index_fill",
    "index_put", "index_select", "masked_scatter", "masked_select", "nonzero", "scatter",
    "scatter_add", "scatter_reduce", "searchsorted", "take", "take_along_dim",
]

TENSOR_METHODS: dict = {}  # filled at the end of this module
INPLACE_METHODS: dict = {}

_MAX_INDICES = 32  # index tensors an op saves for backward (positions after the data)

# -- rows: the one scatter (Note [Scatter over the array API]) ---------------------------


def _identity(xp, dtype, mode):
    if mode in ("sum", "mean"):
        return 0
    if mode == "prod":
        return 1
    big = mode == "amin"
    if xp.isdtype(dtype, "real floating"):
        return float("inf") if big else float("-inf")
    info = xp.iinfo(dtype)
    return info.max if big else info.min


def _rows_ref(xp, y, lin, vals, mode, include_self):
    if y.dtype == xp.bool and mode != "set":
        out = _rows_ref(xp, xp.astype(y, xp.int8), lin, xp.astype(vals, xp.int8), mode,
                        include_self)
        return out != 0
    n = lin.shape[0]
    if n == 0:
        return y
    k = y.shape[0]
    extra = (None,) * (len(y.shape) - 1)
    rows = xp.reshape(xp.arange(k, dtype=lin.dtype, device=y.device), (k, 1))
    hit = xp.reshape(lin, (1, n)) == rows  # (K, N)
    has = xp.any(hit, axis=1)[(slice(None),) + extra]
    if mode == "set":
        pos = xp.reshape(xp.arange(n, dtype=lin.dtype, device=y.device), (1, n))
        last = xp.max(xp.where(hit, pos, xp.full((), -1, dtype=lin.dtype, device=y.device)), axis=1)
        last = xp.where(last < 0, xp.zeros((), dtype=lin.dtype, device=y.device), last)
        return xp.where(has, xp.take(vals, last, axis=0), y)
    hit = hit[(slice(None), slice(None)) + extra]
    spread = xp.where(hit, vals[None, ...],
                      xp.full((), _identity(xp, y.dtype, mode), dtype=y.dtype,
                              device=y.device))
    if mode in ("sum", "mean"):
        red = xp.sum(spread, axis=1, dtype=y.dtype)
    elif mode == "prod":
        red = xp.prod(spread, axis=1, dtype=y.dtype)
    elif mode == "amax":
        red = xp.max(spread, axis=1)
    else:
        red = xp.min(spread, axis=1)
    if mode == "mean":
        count = xp.sum(xp.astype(hit, y.dtype), axis=1, dtype=y.dtype)
        return _mean_finish(xp, y, red, count, has, include_self)
    if include_self:
        red = {"sum": xp.add, "prod": xp.multiply, "amax": _nan_max(xp),
               "amin": _nan_min(xp)}[mode](y, red)
    return xp.where(has, red, y)


def _nan_max(xp):
    # PyTorch's amax propagates NaN; the array API leaves maximum's NaN unspecified.
    return lambda a, b: xp.where(xp.isnan(a) | xp.isnan(b), a + b, xp.maximum(a, b)) \
        if xp.isdtype(a.dtype, "real floating") else xp.maximum(a, b)


def _nan_min(xp):
    return lambda a, b: xp.where(xp.isnan(a) | xp.isnan(b), a + b, xp.minimum(a, b)) \
        if xp.isdtype(a.dtype, "real floating") else xp.minimum(a, b)


def _mean_finish(xp, y, total, count, has, include_self):
    if include_self:
        total = total + y
        count = count + 1
    safe = xp.where(count == 0, xp.ones((), dtype=count.dtype, device=y.device), count)
    if xp.isdtype(y.dtype, "integral"):
        mean = xp.floor_divide(total, safe)
    else:
        mean = total / safe
    return xp.where(has, mean, y)


def _rows_numpy(xp, y, lin, vals, mode, include_self):
    out = np.array(y, copy=True)
    if mode == "set":
        out[lin] = vals
        return out
    if y.dtype == np.bool_:
        out = out.astype(np.int8)
        vals = vals.astype(np.int8)
    if not include_self:
        out[lin] = _identity(np, out.dtype, mode)
    ufunc = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum,
             "amin": np.minimum}[mode]
    ufunc.at(out, lin, vals)
    if mode == "mean":
        count = np.zeros(y.shape[0], dtype=out.dtype)
        np.add.at(count, lin, 1)
        has = (count > 0).reshape((-1,) + (1,) * (y.ndim - 1))
        if include_self:
            count = count + 1
        count = np.where(count == 0, 1, count).reshape(has.shape)
        mean = out // count if out.dtype.kind in "iu" else out / count
        out = np.where(has, mean, y).astype(y.dtype)
    if y.dtype == np.bool_:
        out = out != 0
    return out


def _rows_jax(xp, y, lin, vals, mode, include_self):
    if mode == "set":
        return y.at[lin].set(vals)
    is_bool = y.dtype == xp.bool
    if is_bool:
        y, vals = xp.astype(y, xp.int8), xp.astype(vals, xp.int8)
    base = y if include_self else y.at[lin].set(_identity(xp, y.dtype, mode))
    at = base.at[lin]
    out = {"sum": at.add, "mean": at.add, "prod": at.multiply, "amax": at.max,
           "amin": at.min}[mode](vals)
    if mode == "mean":
        count = xp.zeros(y.shape[0], dtype=y.dtype).at[lin].add(1)
        has = xp.reshape(count > 0, (-1,) + (1,) * (len(y.shape) - 1))
        if include_self:
            count = count + 1
        count = xp.reshape(xp.where(count == 0, 1, count), has.shape)
        mean = out // count if xp.isdtype(y.dtype, "integral") else out / count
        out = xp.where(has, mean, y)
    return out != 0 if is_bool else out


# -- layouts shared by the primitives --------------------------------------------------------


def _prod(sizes) -> int:
    n = 1
    for s in sizes:
        n *= s
    return n


def _wrap_index(xp, idx, size):
    if idx.dtype != xp.int64:
        idx = xp.astype(idx, xp.int64)
    return xp.where(idx < 0, idx + size, idx)


def _rows_layout(xp, x, dims):
    """``x`` with the indexed ``dims`` first and merged: ``(K, rest...)``."""
    nd = len(x.shape)
    others = tuple(d for d in range(nd) if d not in dims)
    perm = tuple(dims) + others
    y = x if perm == tuple(range(nd)) else xp.permute_dims(x, perm)
    rest = tuple(x.shape[d] for d in others)
    return xp.reshape(y, (_prod(x.shape[d] for d in dims),) + rest), perm, rest


def _linear(xp, idx, sizes):
    arrays = xp.broadcast_arrays(*idx) if len(idx) > 1 else list(idx)
    lin = None
    for a, n in zip(arrays, sizes):
        a = _wrap_index(xp, a, n)
        lin = a if lin is None else lin * n + a
    return lin


def _result_perm(nb, dims, n_rest):
    """How ``(B..., rest...)`` is reordered into PyTorch's result: the broadcast index
    dims replace the indexed dims when those are adjacent, else they come first."""
    p = dims[0]
    if p == 0 or tuple(dims) != tuple(range(p, p + len(dims))):
        return None
    return tuple(nb + j for j in range(p)) + tuple(range(nb)) + \
        tuple(nb + j for j in range(p, n_rest))


def _inverse(perm):
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


def _index_forward(xp, x, *idx, dims):
    y, _, rest = _rows_layout(xp, x, dims)
    lin = _linear(xp, idx, [x.shape[d] for d in dims])
    bshape = tuple(lin.shape)
    if not _prod(bshape + rest):  # nothing read: the indices are not checked (PyTorch)
        rp = _result_perm(len(bshape), dims, len(rest))
        layout = bshape + rest
        shape = layout if rp is None else tuple(layout[i] for i in rp)
        return xp.zeros(shape, dtype=x.dtype, device=x.device)
    out = xp.take(y, xp.reshape(lin, (-1,)), axis=0)
    out = xp.reshape(out, bshape + rest)
    rp = _result_perm(len(bshape), dims, len(rest))
    return out if rp is None else xp.permute_dims(out, rp)


def _index_put_forward(xp, x, values, *idx, dims, accumulate, rows=_rows_ref):
    y, perm, rest = _rows_layout(xp, x, dims)
    lin = _linear(xp, idx, [x.shape[d] for d in dims])
    bshape = tuple(lin.shape)
    rp = _result_perm(len(bshape), dims, len(rest))
    layout = bshape + rest
    if values.dtype != x.dtype:
        values = xp.astype(values, x.dtype)
    if rp is None:
        values = xp.broadcast_to(values, layout)
    else:
        values = xp.permute_dims(xp.broadcast_to(values, tuple(layout[i] for i in rp)),
                                 _inverse(rp))
    values = xp.reshape(values, (_prod(bshape),) + rest)
    out = rows(xp, y, xp.reshape(lin, (-1,)), values, "sum" if accumulate else "set", True)
    out = xp.reshape(out, tuple(x.shape[d] for d in perm))
    return out if perm == tuple(range(len(perm))) else xp.permute_dims(out, _inverse(perm))


def _positions(xp, xshape, index, dim):
    """Linear positions in ``x`` (row-major) that ``index`` addresses along ``dim``."""
    nd = len(index.shape)
    strides = [1] * len(xshape)
    for d in range(len(xshape) - 2, -1, -1):
        strides[d] = strides[d + 1] * xshape[d + 1]
    size = xshape[dim] if xshape else 1
    lin = _wrap_index(xp, index, size) * (strides[dim] if xshape else 1)
    for d in range(nd):
        if d == dim:
            continue
        ar = xp.arange(index.shape[d], dtype=xp.int64, device=index.device) * strides[d]
        lin = lin + xp.reshape(ar, (1,) * d + (index.shape[d],) + (1,) * (nd - d - 1))
    return lin


def _gather_forward(xp, x, index, *, dim):
    lin = _positions(xp, x.shape, index, dim)
    out = xp.take(xp.reshape(x, (-1,)), xp.reshape(lin, (-1,)), axis=0)
    return xp.reshape(out, tuple(index.shape))


def _scatter_forward(xp, x, index, src, *, dim, reduce, include_self, rows=_rows_ref):
    lin = xp.reshape(_positions(xp, x.shape, index, dim), (-1,))
    if src.dtype != x.dtype:
        src = xp.astype(src, x.dtype)
    vals = xp.reshape(xp.broadcast_to(src, tuple(index.shape)), (-1,))
    out = rows(xp, xp.reshape(x, (-1,)), lin, vals, reduce, include_self)
    return xp.reshape(out, tuple(x.shape))


# -- the primitives ------------------------------------------------------------------------

_SAVE_IDX_1 = tuple(range(1, 1 + _MAX_INDICES))
_SAVE_IDX_2 = tuple(range(2, 2 + _MAX_INDICES))


@defop("index", promote=None, save=_SAVE_IDX_1, quiet=False)
def index_op(xp, x, *idx, dims):
    """``x[..., idx0, ..., idx1, ...]``: integer arrays ``idx`` at ``dims`` (advanced indexing)."""
    return _index_forward(xp, x, *idx, dims=dims)


@index_op.defvjp
def _(ctx, grad):
    from .._creation import zeros

    idx = ctx.inputs[1:]
    base = zeros(ctx.node.in_meta[0][0], dtype=grad._dtype, device=grad._device)
    gx = index_put_op(base, grad, *idx, dims=ctx.params["dims"], accumulate=True)
    return (gx,) + (None,) * len(idx)


@defop("index_put", promote=None, save=_SAVE_IDX_2, quiet=False)
def index_put_op(xp, x, values, *idx, dims, accumulate):
    """``x`` with ``x[idx] = values`` (or ``+=`` with ``accumulate``), out of place."""
    return _index_put_forward(xp, x, values, *idx, dims=dims, accumulate=accumulate)


@index_put_op.register_kernel("numpy")
def _(xp, x, values, *idx, dims, accumulate):
    return _index_put_forward(xp, x, values, *idx, dims=dims, accumulate=accumulate,
                              rows=_rows_numpy)


@index_put_op.register_kernel("jax")
def _(xp, x, values, *idx, dims, accumulate):
    return _index_put_forward(xp, x, values, *idx, dims=dims, accumulate=accumulate,
                              rows=_rows_jax)


@index_put_op.defvjp
def _(ctx, grad):
    idx = ctx.inputs[2:]
    dims, accumulate = ctx.params["dims"], ctx.params["accumulate"]
    need_x, need_v = ctx.needs_input_grad[:2]
    gx = gv = None
    if need_x:
        if accumulate:
            gx = grad
        else:
            zero = _zero(grad)
            gx = index_put_op(grad, zero, *idx, dims=dims, accumulate=False)
    if need_v:
        gv = index_op(grad, *idx, dims=dims)
    return (gx, gv) + (None,) * len(idx)


def _zero(like):
    from .._creation import zeros

    return zeros((), dtype=like._dtype, device=like._device)


@defop("gather", promote=None, save=(1,), quiet=False)
def gather_op(xp, x, index, *, dim):
    """``out[i][j][k] = x[index[i][j][k]][j][k]`` for ``dim == 0`` (and so on)."""
    return _gather_forward(xp, x, index, dim=dim)


@gather_op.defvjp
def _(ctx, grad):
    from .._creation import zeros

    index = ctx.inputs[1]
    base = zeros(ctx.node.in_meta[0][0], dtype=grad._dtype, device=grad._device)
    return scatter_op(base, index, grad, dim=ctx.params["dim"], reduce="sum",
                      include_self=True), None


_REDUCTIONS = ("set", "sum", "prod", "mean", "amax", "amin")


@defop("scatter", promote=None, save=(0, 1, 2), save_result=True, quiet=False)
def scatter_op(xp, x, index, src, *, dim, reduce, include_self):
    """``x`` with ``src`` written (reduce "set") or reduced into it at ``index`` along ``dim``."""
    return _scatter_forward(xp, x, index, src, dim=dim, reduce=reduce, include_self=include_self)


@scatter_op.register_kernel("numpy")
def _(xp, x, index, src, *, dim, reduce, include_self):
    return _scatter_forward(xp, x, index, src, dim=dim, reduce=reduce,
                            include_self=include_self, rows=_rows_numpy)


@scatter_op.register_kernel("jax")
def _(xp, x, index, src, *, dim, reduce, include_self):
    return _scatter_forward(xp, x, index, src, dim=dim, reduce=reduce,
                            include_self=include_self, rows=_rows_jax)


@scatter_op.defvjp
def _(ctx, grad):
    # PyTorch's scatter_reduce_backward, restated in polytorch ops.
    from .elementwise import where

    x, index, src = ctx.inputs
    dim, reduce, include_self = ctx.params["dim"], ctx.params["reduce"], ctx.params["include_self"]
    need_x, _, need_src = ctx.needs_input_grad
    dt = grad._dtype
    zero, one = _zero(grad), _zero(grad) + 1
    gx = gsrc = None
    if reduce == "set":
        if need_x:
            gx = scatter_op(grad, index, zero.expand(index.shape), dim=dim, reduce="set",
                            include_self=True)
        if need_src:
            gsrc = gather_op(grad, index, dim=dim)
        return gx, None, gsrc
    if reduce == "sum":
        gx, gsrc = grad, gather_op(grad, index, dim=dim) if need_src else None
    elif reduce == "mean":
        count = scatter_op(grad * 0 + (1 if include_self else 0), index, one.expand(index.shape),
                           dim=dim, reduce="sum", include_self=True)
        count = where(count == 0, one, count)
        gx = grad / count
        gsrc = gather_op(gx, index, dim=dim) if need_src else None
    elif reduce in ("amax", "amin"):
        result = ctx.result
        value = gather_op(result, index, dim=dim)
        self_is = (x == result).to(dt)
        src_is = (src == value).to(dt)
        n = scatter_op(self_is, index, src_is, dim=dim, reduce="sum", include_self=True)
        spread = grad / n
        gx = self_is * spread
        gsrc = src_is * gather_op(spread, index, dim=dim) if need_src else None
    else:  # prod
        result = ctx.result
        masked_self = where(x == 0, one, x)
        masked_result = scatter_op(masked_self, index, src, dim=dim, reduce="prod",
                                   include_self=include_self)
        gx = grad * masked_result / masked_self
        if need_src:
            src_zero = src == 0
            zeros_at = scatter_op(grad * 0, index, src_zero.to(dt), dim=dim, reduce="sum",
                                  include_self=True)
            single = src_zero & (gather_op(zeros_at, index, dim=dim) == 1)
            masked_src = where(single, one, src)
            masked_src_result = scatter_op(x, index, masked_src, dim=dim, reduce="prod",
                                           include_self=include_self)
            gsrc = where(single, gather_op(grad * masked_src_result, index, dim=dim),
                         gather_op(grad * result, index, dim=dim) / where(src_zero, one, src))
    if not include_self and need_x:
        gx = scatter_op(gx, index, zero.expand(index.shape), dim=dim, reduce="set",
                        include_self=True)
    return (gx if need_x else None), None, gsrc


@defop("nonzero", promote=None, out_dtype=D.int64, quiet=False)
def nonzero_op(xp, x):
    """The indices of the non-zero elements, one row each: shape ``(n, x.ndim)``."""
    if not x.shape:
        return xp.zeros((1 if bool(x) else 0, 0), dtype=xp.int64, device=x.device)
    coords = xp.nonzero(x)
    return xp.astype(xp.stack(coords, axis=1), xp.int64)


@defop("searchsorted", promote=None, out_dtype=D.int64, quiet=False)
def searchsorted_op(xp, sorted_sequence, values, *, right):
    """How many elements of each (innermost) row of ``sorted_sequence`` are below each value
    (``<=`` with ``right``): the insertion points."""
    if sorted_sequence.dtype == xp.bool:
        sorted_sequence = xp.astype(sorted_sequence, xp.int8)
    if values.dtype == xp.bool:
        values = xp.astype(values, xp.int8)
    if sorted_sequence.dtype != values.dtype:
        dt = xp.result_type(sorted_sequence, values)
        sorted_sequence, values = xp.astype(sorted_sequence, dt), xp.astype(values, dt)
    if len(sorted_sequence.shape) > 1:
        seq = sorted_sequence[..., None, :]
    else:
        seq = sorted_sequence
    below = xp.less_equal(seq, values[..., None]) if right else xp.less(seq, values[..., None])
    return xp.sum(xp.astype(below, xp.int64), axis=-1, dtype=xp.int64)


@searchsorted_op.register_kernel("numpy")
def _(xp, sorted_sequence, values, *, right):
    if sorted_sequence.ndim == 1:
        return np.searchsorted(sorted_sequence, values, side="right" if right else "left") \
            .astype(np.int64)
    return searchsorted_op.forward(xp, sorted_sequence, values, right=right)


# -- keys: PyTorch's indexing rules ------------------------------------------------------------


def _is_basic(key) -> bool:
    if type(key) is not tuple:
        key = (key,)
    for k in key:
        if isinstance(k, Tensor):
            if k.ndim or k._dtype.kind not in "iu":
                return False
        elif isinstance(k, (bool, list, tuple)) or hasattr(k, "__array__"):
            return False
    return True


def _as_index_tensor(k, device):
    from .._creation import tensor

    if isinstance(k, Tensor):
        return k if k._device == device else k.to(device)
    if isinstance(k, (list, tuple)) and any(isinstance(v, Tensor) for v in k):
        k = [int(v) if isinstance(v, Tensor) else v for v in k]
    t = tensor(k, device=device)
    if t.numel() == 0:
        t = t.to(D.int64)
    return t


def _parse(input: Tensor, key):
    """``(basic key, [(dim, int64 index tensor), ...])`` for ``input[key]``.

    Ints, slices, None and ``...`` form a basic key applied first (a view); index
    tensors, lists and boolean masks (expanded to their nonzero coordinates) are
    recorded at the dimension they index in that view, as PyTorch's applySlicing does.
    """
    if type(key) is not tuple:
        key = (key,)
    items = []
    for k in key:
        if isinstance(k, (list, tuple)) or isinstance(k, Tensor) or \
                (hasattr(k, "__array__") and not hasattr(k, "__index__")):
            k = _as_index_tensor(k if not hasattr(k, "__array__") or isinstance(k, Tensor)
                                 else np.asarray(k).tolist(), input._device)
            if k.ndim == 0 and k._dtype.kind in "iu":
                k = int(k.item())
            elif k.ndim == 0 and k._dtype is D.bool:
                k = bool(k.item())
        items.append(k)
    shape = input._data.shape
    ndim = len(shape)
    consumed = 0
    for k in items:
        if isinstance(k, Tensor):
            consumed += k.ndim if k._dtype in (D.bool, D.uint8) else 1
        elif k is not None and k is not Ellipsis and not isinstance(k, bool):
            consumed += 1
    if consumed > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    basic, adv = [], []
    dim = out = 0
    for k in items:
        if k is None:
            basic.append(None)
            out += 1
        elif k is Ellipsis:
            span = ndim - consumed
            basic.append(Ellipsis)
            dim += span
            out += span
        elif isinstance(k, bool):
            from .._creation import tensor

            basic.append(None)
            adv.append((out, tensor([0] if k else [], dtype=D.int64, device=input._device)))
            out += 1
        elif isinstance(k, Tensor):
            if k._dtype in (D.bool, D.uint8):
                for j in range(k.ndim):
                    if k._data.shape[j] != shape[dim + j]:
                        raise IndexError(
                            f"The shape of the mask {list(k.shape)} at index {j} does not match "
                            f"the shape of the indexed tensor {list(shape)} at index {dim + j}"
                        )
                coords = nonzero_op(k)
                for j in range(k.ndim):
                    basic.append(slice(None))
                    adv.append((out + j, getitem_op(coords, key=(slice(None), j))))
                dim += k.ndim
                out += k.ndim
            elif k._dtype.kind in "iu":
                basic.append(slice(None))
                adv.append((out, k))
                dim += 1
                out += 1
            else:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        elif isinstance(k, slice) or hasattr(k, "__index__"):
            basic.append(k)
            dim += 1
            if isinstance(k, slice):
                out += 1
        else:
            raise IndexError(
                f"only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                f"are valid indices (got {type(k).__name__})"
            )
    return tuple(basic), adv


def _trivial(key) -> bool:
    return all(k is Ellipsis or (isinstance(k, slice) and k == slice(None)) for k in key)


def _prepare(input: Tensor, key):
    """The basic part applied (a view of ``input``), and the advanced indices checked."""
    basic, adv = _parse(input, key)
    base = input if _trivial(basic) else index_basic(input, basic)
    dims = tuple(d for d, _ in adv)
    idx = [t for _, t in adv]
    if len(idx) > 1:
        shapes = [tuple(t.shape) for t in idx]
        from .shape import broadcast_shapes

        try:
            broadcast_shapes(*shapes)
        except RuntimeError:
            raise IndexError(
                "shape mismatch: indexing tensors could not be broadcast together with shapes "
                + ", ".join(str(list(s)) for s in shapes)
            ) from None
    # As PyTorch's kernels, check the indices of the elements actually read:
    # none when the result is empty.
    if idx and _prod(_index_shape(base._data.shape, dims, idx)):
        for i, (d, t) in enumerate(zip(dims, idx)):
            _check_bounds(t, base._data.shape[d], i)
    return base, dims, idx, basic


def _host(t: Tensor) -> np.ndarray:
    return np.asarray(t._device._impl[1].to_numpy(t._data))


def _check_bounds(t: Tensor, size: int, dim: int, message=None, negative: bool = True) -> None:
    if t.numel() == 0:
        return
    h = _host(t)
    bad = (h >= size) | (h < (-size if negative else 0))
    if bad.any():
        value = int(h[bad].flat[0])
        raise IndexError(message(value) if message else
                         f"index {value} is out of bounds for dimension {dim} with size {size}")


def _index_shape(shape, dims, idx) -> tuple:
    from .shape import broadcast_shapes

    bshape = tuple(broadcast_shapes(*(t.shape for t in idx)))
    rest = tuple(s for d, s in enumerate(shape) if d not in dims)
    rp = _result_perm(len(bshape), dims, len(rest))
    layout = bshape + rest
    return layout if rp is None else tuple(layout[i] for i in rp)


def getitem(input: Tensor, key) -> Tensor:
    """``input[key]``: basic keys give views, index tensors, lists and masks give copies.

    Example:
        >>> x = polytorch.arange(12).reshape(3, 4)
        >>> x[[0, 2], 1:].shape
        polytorch.Size([2, 3])
    """
    if _is_basic(key):
        return index_basic(input, key)
    base, dims, idx, _ = _prepare(input, key)
    return index_op(base, *idx, dims=dims)


def _value_tensor(input: Tensor, value, shape, what: str) -> Tensor:
    from .._creation import full

    if isinstance(value, Tensor):
        if value._device != input._device:
            raise RuntimeError(
                f"Expected all tensors to be on the same device, but found at least two devices, "
                f"{input._device} and {value._device}! (in {what})"
            )
        if value._dtype is not input._dtype:
            value = value.to(input._dtype)
    elif isinstance(value, (int, float, bool, complex)):
        value = full((), value, dtype=input._dtype, device=input._device)
    else:
        raise TypeError(f"can't assign a {type(value).__name__} to a polytorch tensor")
    vs = tuple(value.shape)
    n = max(len(vs), len(shape))
    a = (1,) * (n - len(vs)) + vs
    b = (1,) * (n - len(shape)) + tuple(shape)
    if len(vs) > len(shape) and any(s != 1 for s in vs[:len(vs) - len(shape)]) or \
            any(x != y and x != 1 for x, y in zip(a, b)):
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(vs)} cannot be broadcast to indexing "
            f"result of shape {list(shape)}"
        )
    if len(vs) > len(shape):
        value = reshape(value, vs[len(vs) - len(shape):])
    return value


def put(input: Tensor, key, value, accumulate: bool = False) -> Tensor:
    """``input`` with ``input[key] = value`` (``+=`` with ``accumulate``), out of place."""
    base, dims, idx, basic = _prepare(input, key)
    if not idx:
        from .shape import setitem_op

        nk = normalize_key(basic, input._data.shape)
        target = getitem_op(input.detach(), key=nk).shape
        value = _value_tensor(input, value, target, "index_put_")
        if accumulate:
            value = getitem_op(input, key=nk) + value
        return setitem_op(input, expand(value, target), key=nk)
    value = _value_tensor(input, value, _index_shape(base._data.shape, dims, idx), "index_put_")
    new = index_put_op(base, value, *idx, dims=dims, accumulate=bool(accumulate))
    if base is input:
        return new
    nk = normalize_key(basic, input._data.shape)
    return _setitem_op(input, new, key=nk)


# -- public functions --------------------------------------------------------------------------


def _check_index_dtype(index: Tensor, fn: str, allow_int32: bool = False) -> None:
    if not isinstance(index, Tensor):
        raise TypeError(f"{fn}(): argument 'index' must be Tensor, not {type(index).__name__}")
    ok = (D.int64, D.int32) if allow_int32 else (D.int64,)
    if index._dtype not in ok:
        raise RuntimeError(
            f"{fn}(): Expected dtype int{'32 or int' if allow_int32 else ''}64 for index"
        )


def _check_gather_shapes(input, dim, index, fn, src=None):
    if max(index.ndim, 1) != max(input.ndim, 1):
        raise RuntimeError(
            "Index tensor must have the same number of dimensions as "
            f"{'self' if src is None else 'input'} tensor"
        )
    ishape = tuple(index.shape) or (1,)
    xshape = tuple(input.shape) or (1,)
    for d, (i, x) in enumerate(zip(ishape, xshape)):
        if d != dim and i > x:
            raise RuntimeError(
                f"Size does not match at dimension {d} expected index {list(index.shape)} to be "
                f"no larger than self {list(input.shape)} apart from dimension {dim}"
            )
    if src is not None:
        sshape = tuple(src.shape) or (1,)
        if max(src.ndim, 1) != max(index.ndim, 1):
            raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
        for d, (i, s) in enumerate(zip(ishape, sshape)):
            if i > s:
                raise RuntimeError(
                    f"Size does not match at dimension {d} expected index {list(index.shape)} "
                    f"to be no larger than src {list(src.shape)}"
                )
    size = xshape[dim]
    try:
        _check_bounds(index, size, dim, negative=False)
    except IndexError as e:  # PyTorch's gather and scatter raise a RuntimeError
        raise RuntimeError(str(e)) from None


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """Values of ``input`` along ``dim`` at ``index``: ``out[i][j] = input[index[i][j]][j]``.

    Example:
        >>> x = polytorch.tensor([[1, 2], [3, 4]])
        >>> x.gather(1, polytorch.tensor([[1], [0]]))
        tensor([[2],
                [3]])
    """
    _check_index_dtype(index, "gather")
    d = _wrap_dim(dim, input.ndim, "gather")
    _check_gather_shapes(input, d, index, "gather")
    return gather_op(input, index, dim=d)


def _scatter_common(input, dim, index, src, reduce, include_self, fn):
    _check_index_dtype(index, fn)
    d = _wrap_dim(dim, input.ndim, fn)
    if isinstance(src, Tensor):
        if src._dtype is not input._dtype:
            raise RuntimeError(f"{fn}(): Expected self.dtype to be equal to src.dtype")
        _check_gather_shapes(input, d, index, fn, src)
        if tuple(src.shape) != tuple(index.shape) and index.ndim:
            src = index_basic(src, tuple(slice(0, n) for n in index.shape))
        elif not index.ndim and src.ndim:
            src = reshape(src, ())
    else:
        _check_gather_shapes(input, d, index, fn)
        from .._creation import full

        src = full(tuple(index.shape), src, dtype=input._dtype, device=input._device)
    if index.numel() == 0:
        from .elementwise import clone

        return clone(input)
    return scatter_op(input, index, src, dim=d, reduce=reduce, include_self=include_self)


_SCATTER_REDUCE = {None: "set", "add": "sum", "multiply": "prod"}


def scatter(input: Tensor, dim: int, index: Tensor, src=None, value=None, *, reduce=None):
    """``input`` with ``src`` (a tensor, or the number ``value``) written at ``index`` along
    ``dim``; ``reduce="add"`` or ``"multiply"`` combines instead (out of place)."""
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter() missing required argument 'src' or 'value'")
    if reduce not in _SCATTER_REDUCE:
        raise RuntimeError(
            f"reduce argument must be either add or multiply, got {reduce}"
        )
    return _scatter_common(input, dim, index, src, _SCATTER_REDUCE[reduce], True, "scatter")


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """``input`` with ``src`` added at ``index`` along ``dim`` (duplicates accumulate)."""
    return _scatter_common(input, dim, index, src, "sum", True, "scatter_add")


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """``input`` with ``src`` reduced (sum, prod, mean, amax, amin) at ``index`` along ``dim``."""
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise RuntimeError(
            f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}"
        )
    return _scatter_common(input, dim, index, src, reduce, bool(include_self), "scatter_reduce")


def _index_vector(index, fn, input=None):
    _check_index_dtype(index, fn, allow_int32=True)
    if index.ndim > 1:
        raise IndexError(f"{fn}(): Index is supposed to be a vector")
    return reshape(index, (-1,)) if index.ndim == 0 else index


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices of ``input`` along ``dim`` at the positions in the 1-D ``index``."""
    index = _index_vector(index, "index_select")
    d = _wrap_dim(dim, input.ndim, "index_select")
    x = reshape(input, (1,)) if input.ndim == 0 else input
    _check_bounds(index, x._data.shape[d], d, lambda v: "index out of range in self",
                  negative=False)
    out = index_op(x, index, dims=(d,))
    return reshape(out, ()) if input.ndim == 0 else out


def _index_write(input, dim, index, source, fn, accumulate, alpha=1):
    index = _index_vector(index, fn)
    d = _wrap_dim(dim, input.ndim, fn)
    x = reshape(input, (1,)) if input.ndim == 0 else input
    size = x._data.shape[d]
    prefix = "index_copy_(): " if fn == "index_copy" else ""
    message = f"{prefix}index {{}} is out of bounds for dimension {d} with size {size}"
    if fn == "index_add":  # PyTorch raises a RuntimeError here, an IndexError elsewhere
        try:
            _check_bounds(index, size, d, message.format, negative=False)
        except IndexError as e:
            raise RuntimeError(str(e)) from None
    else:
        _check_bounds(index, size, d, message.format, negative=False)
    if isinstance(source, Tensor):
        if source._dtype is not input._dtype:
            raise RuntimeError(
                f"{fn}_(): self ({_name(input)}) and source ({_name(source)}) must have the same "
                f"scalar type"
            )
        want = list(x.shape)
        want[d] = index.shape[0]
        src_shape = list(source.shape) or [1]
        if src_shape != want and not (input.ndim == 0 and source.numel() == index.numel()):
            raise RuntimeError(
                f"{fn}_(): Source/destination tensor must have same slice shapes. Destination "
                f"slice shape: {want} at dimension {d} and source slice shape: {list(source.shape)}"
                f" at dimension 0."
            )
        source = reshape(source, tuple(want))
        if alpha != 1:
            source = source * alpha
    else:
        from .._creation import full

        source = full((), source, dtype=input._dtype, device=input._device)
    out = index_put_op(x, source, index, dims=(d,), accumulate=accumulate)
    return reshape(out, ()) if input.ndim == 0 else out


def _name(t):
    from .._tensor import _TYPE_NAMES

    return _TYPE_NAMES[t._dtype]


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """``input`` with ``alpha * source`` added to the slices at ``index`` along ``dim``."""
    return _index_write(input, dim, index, source, "index_add", True, alpha)


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """``input`` with the slices at ``index`` along ``dim`` replaced by ``source``."""
    return _index_write(input, dim, index, source, "index_copy", False)


def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """``input`` with the slices at ``index`` along ``dim`` set to ``value``."""
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(
                f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value.ndim} dimension(s)."
            )
        value = value.to(input._dtype)
        index = _index_vector(index, "index_fill")
        d = _wrap_dim(dim, input.ndim, "index_fill")
        x = reshape(input, (1,)) if input.ndim == 0 else input
        _check_bounds(index, x._data.shape[d], d)
        out = index_put_op(x, value, index, dims=(d,), accumulate=False)
        return reshape(out, ()) if input.ndim == 0 else out
    return _index_write(input, dim, index, value, "index_fill", False)


def index_put(input: Tensor, indices, values, accumulate: bool = False) -> Tensor:
    """``input`` with ``input[indices] = values`` (``+=`` with ``accumulate``), out of place."""
    if not isinstance(indices, (tuple, list)):
        raise TypeError("index_put(): argument 'indices' must be tuple of Tensors")
    return put(input, tuple(indices), values, accumulate)


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements of ``input`` where ``mask`` is True, as a 1-D tensor (both broadcast)."""
    if mask._dtype is not D.bool:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    from .shape import broadcast_tensors

    x, m = broadcast_tensors(input, mask)
    if x.ndim == 0:
        x, m = reshape(x, (1,)), reshape(m, (1,))
    return getitem(x, m)


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """``input`` with the elements where ``mask`` is True taken, in order, from ``source``."""
    if mask._dtype is not D.bool:
        raise RuntimeError("masked_scatter_ only supports boolean masks, but got mask with dtype "
                           f"{mask._dtype}")
    if source._dtype is not input._dtype:
        raise RuntimeError(
            f"masked_scatter: expected self and source to have same dtypes but got "
            f"{input._dtype} and {source._dtype}"
        )
    from .shape import broadcast_tensors

    x, m = broadcast_tensors(input, mask)
    if x.ndim == 0:
        x, m = reshape(x, (1,)), reshape(m, (1,))
    count = int(_host(m).sum())
    if source.numel() < count:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    values = index_basic(reshape(source, (-1,)), slice(0, count))
    x = x if x is input else x.contiguous()
    out = put(x, (m,), values)
    return reshape(out, ()) if input.ndim == 0 and out.ndim else out


def take(input: Tensor, index: Tensor) -> Tensor:
    """Elements of the flattened ``input`` at ``index`` (any shape)."""
    _check_index_dtype(index, "take")
    flat = reshape(input, (-1,))
    n = flat._data.shape[0]
    _check_bounds(index, n, 0, lambda v: (
        f"out of range: tried to access index {v} on a tensor of {n} elements."))
    return index_op(flat, index, dims=(0,))


def take_along_dim(input: Tensor, indices: Tensor, dim=None) -> Tensor:
    """``gather`` along ``dim`` after broadcasting; the flattened tensor when ``dim`` is None."""
    if indices._dtype is not D.int64:
        raise RuntimeError(
            f"torch.take_along_dim(): dtype of indices should be int64 but got {indices._dtype}"
        )
    if dim is None:
        return gather(reshape(input, (-1,)), 0, reshape(indices, (-1,)))
    if input.ndim != indices.ndim:
        raise RuntimeError(
            f"torch.take_along_dim(): input and indices should have the same number of "
            f"dimensions, but got {input.ndim} dimensions for input, and {indices.ndim} "
            f"dimensions for indices"
        )
    d = _wrap_dim(dim, input.ndim, "take_along_dim")
    from .shape import broadcast_shapes

    ishape, xshape = list(indices.shape), list(input.shape)
    ishape[d] = xshape[d] = 1
    common = list(broadcast_shapes(ishape, xshape))
    xs, is_ = list(common), list(common)
    xs[d], is_[d] = input.shape[d], indices.shape[d]
    return gather(expand(input, xs), d, expand(indices, is_))


def nonzero(input: Tensor, *, as_tuple: bool = False):
    """The indices of the non-zero elements: ``(n, ndim)``, or one 1-D tensor per dim."""
    out = nonzero_op(input)
    if not as_tuple:
        return out
    if input.ndim == 0:
        from .._creation import zeros

        return (zeros((out.shape[0],), dtype=D.int64, device=input._device),)
    return tuple(getitem_op(out, key=(slice(None), j)) for j in range(input.ndim))


def argwhere(input: Tensor) -> Tensor:
    """The indices of the non-zero elements, one row each."""
    return nonzero_op(input)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices as one-hot int64 vectors along a new last dimension."""
    if tensor._dtype is not D.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    h = _host(tensor)
    if h.size and h.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        if not h.size:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(h.max()) + 1
    elif h.size and h.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    from .._creation import arange

    classes = arange(num_classes, device=tensor._device)
    return (reshape(tensor, tuple(tensor.shape) + (1,)) == classes).to(D.int64)


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each non-negative integer occurs in the 1-D ``input`` (summed ``weights``)."""
    if input.ndim != 1 or input._dtype.kind not in "iu":
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    h = _host(input)
    if h.size and h.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None and (weights.ndim != 1 or weights.shape[0] != input.shape[0]):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    n = max(int(h.max()) + 1 if h.size else 0, minlength)
    from .._creation import ones, zeros

    if weights is None:
        dt, src = D.int64, ones(input.shape, dtype=D.int64, device=input._device)
    else:
        dt = weights._dtype if weights._dtype.kind == "f" else D.float64
        src = weights.to(dt).detach()
    out = zeros((n,), dtype=dt, device=input._device)
    if not h.size:
        return out
    return scatter_op(out, input.to(D.int64), src, dim=0, reduce="sum", include_self=True)


def searchsorted(sorted_sequence: Tensor, input, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, sorter: Tensor | None = None) -> Tensor:
    """Indices where ``input``'s values would be inserted to keep each innermost row sorted."""
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError(
                "side and right can't be set to opposites, got side of left while right was True"
            )
        right = side == "right"
    if sorter is not None:
        sorted_sequence = gather(sorted_sequence, -1, sorter)
    scalar = not isinstance(input, Tensor)
    if scalar:
        from .._creation import tensor

        input = tensor(input, device=sorted_sequence._device)
    s, v = tuple(sorted_sequence.shape), tuple(input.shape)
    if len(s) > 1 and (len(s) != len(v) or s[:-1] != v[:-1]):
        raise RuntimeError(
            f"torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
            f"dimensions of boundaries tensor and input value tensor must match, but we got "
            f"boundaries tensor {list(s)} and input value tensor {list(v)}"
        )
    if len(s) == 0:
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 "
            "dimension"
        )
    out = searchsorted_op(sorted_sequence, input, right=bool(right))
    return out.to(D.int32) if out_int32 else out


def bucketize(input, boundaries: Tensor, *, out_int32: bool = False, right: bool = False):
    """The bucket of each value of ``input`` given the sorted 1-D ``boundaries``."""
    if boundaries.ndim != 1:
        raise RuntimeError(
            f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})"
        )
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


TENSOR_METHODS.update({
    "__getitem__": getitem,
    "gather": gather, "scatter": scatter, "scatter_add": scatter_add,
    "scatter_reduce": scatter_reduce, "index_select": index_select, "index_add": index_add,
    "index_copy": index_copy, "index_fill": index_fill, "index_put": index_put,
    "masked_select": masked_select, "masked_scatter": masked_scatter, "take": take,
    "take_along_dim": take_along_dim, "nonzero": nonzero, "argwhere": argwhere,
    "bincount": bincount,
})
INPLACE_METHODS.update({
    "scatter_": (scatter, "self"),
    "scatter_add_": (scatter_add, "self"),
    "scatter_reduce_": (scatter_reduce, "self"),
    "index_add_": (index_add, None),
    "index_copy_": (index_copy, None),
    "index_fill_": (index_fill, None),
    "index_put_": (index_put, None),
    "masked_scatter_": (masked_scatter, None),
})
