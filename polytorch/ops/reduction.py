"""Reductions: sums and products, extremes, moments, norms, logical and cumulative reductions.

Also the pair of "along a dim" primitives every value-selecting reduction uses for
its gradient: ``gather_along`` (pick elements by index along a dim) and its
adjoint ``scatter_add_along`` (add them back at those indices).

Note [Value-selecting reductions]
max(dim), cummax, sort, topk, kthvalue, median and mode return values chosen
from the input and the indices they came from. The gradient of such values is
the incoming gradient scattered to the chosen indices (PyTorch's
``value_selecting_reduction_backward``), so each is either a primitive whose rule
is ``scatter_add_along(grad, indices)`` or a composite that computes the indices
without a graph and then the values as ``gather_along(input, indices)``.
"""

from __future__ import annotations

import builtins
import math
import warnings

from .. import _dtype as D
from .._tensor import Tensor, _wrap_dim
from ..autograd import _grad_mode
from ._registry import defop
from .elementwise import eq, logical_and, logical_or, ne, where
from .shape import expand_op, reshape_op

__all__ = [  # exported as polytorch.NAME
    "all", "amax", "amin", "aminmax", "any", "argmax", "argmin", "count_nonzero", "cummax",
    "cummin", "cumprod", "cumsum", "logsumexp", "max", "mean", "min", "nanmean", "nansum",
    "norm", "prod", "std", "std_mean", "sum", "var", "var_mean",
]

TENSOR_METHODS: dict = {}  # filled at the end of the module
INPLACE_METHODS: dict = {}

_INF = math.inf
_state = _grad_mode.state
_NAN = math.nan


# -- return types -------------------------------------------------------------------------


def _return_type(name: str, fields=("values", "indices")):
    """A tuple with named fields, as ``torch.return_types.NAME``."""

    def make_property(i):
        return property(lambda self: self[i])

    def new(cls, *items):
        return tuple.__new__(cls, items)

    def rep(self):
        inner = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"polytorch.return_types.{name}(\n{inner})"

    ns = {"__slots__": (), "__new__": new, "__repr__": rep, "_fields": fields}
    ns.update({f: make_property(i) for i, f in enumerate(fields)})
    return type(name, (tuple,), ns)


MaxReturn = _return_type("max")
MinReturn = _return_type("min")
AminmaxReturn = _return_type("aminmax", ("min", "max"))
CummaxReturn = _return_type("cummax")
CumminReturn = _return_type("cummin")


# -- gathering and scattering along a dim -----------------------------------------------------


@defop("gather_along", promote=None, save=(1,), quiet=False)
def gather_along(xp, x, indices, *, dim):
    """``x`` at ``indices`` along ``dim`` (``indices`` has ``x``'s shape but along ``dim``)."""
    return xp.take_along_axis(x, indices, axis=dim)


@gather_along.defvjp
def _(ctx, grad):
    shape = ctx.node.in_meta[0][0]
    dim = ctx.params["dim"]
    indices = ctx.inputs[1]
    return scatter_add_along(grad, indices, dim=dim, size=shape[dim]), None


@defop("scatter_add_along", promote=None, save=(1,))
def scatter_add_along(xp, src, indices, *, dim, size):
    """Zeros with ``size`` along ``dim``, plus ``src`` added at ``indices`` along ``dim``.

    The array API has no scatter; this reference compares every index with every
    position (memory ``numel * size``). NumPy and JAX register native kernels.
    """
    src_last = xp.moveaxis(src, dim, -1)
    idx_last = xp.moveaxis(indices, dim, -1)
    positions = xp.arange(size, dtype=idx_last.dtype, device=idx_last.device)
    hit = idx_last[..., None, :] == positions[:, None]  # (..., size, n)
    zero = xp.zeros_like(src_last[..., None, :])
    out = xp.sum(xp.where(hit, src_last[..., None, :], zero), axis=-1, dtype=src.dtype)
    return xp.moveaxis(out, -1, dim)


@scatter_add_along.defvjp
def _(ctx, grad):
    return gather_along(grad, ctx.inputs[1], dim=ctx.params["dim"]), None


def _flat_rows(xp, a, dim):
    """``a`` with ``dim`` moved last, as a 2-d (rows, n) array, and the moved shape."""
    moved = xp.moveaxis(a, dim, -1)
    return xp.reshape(moved, (math.prod(moved.shape[:-1]), moved.shape[-1])), moved.shape


@scatter_add_along.register_kernel("numpy")
def _(xp, src, indices, *, dim, size):
    import numpy as np

    s2, moved = _flat_rows(np, np.asarray(src), dim)
    i2, _ = _flat_rows(np, np.asarray(indices), dim)
    out = np.zeros((s2.shape[0], size), dtype=s2.dtype)
    np.add.at(out, (np.arange(s2.shape[0])[:, None], i2), s2)
    return np.moveaxis(out.reshape(moved[:-1] + (size,)), -1, dim)


@scatter_add_along.register_kernel("jax")
def _(xp, src, indices, *, dim, size):
    s2, moved = _flat_rows(xp, src, dim)
    i2, _ = _flat_rows(xp, indices, dim)
    rows = xp.arange(s2.shape[0])[:, None]
    out = xp.zeros((s2.shape[0], size), dtype=s2.dtype).at[rows, i2].add(s2)
    return xp.moveaxis(xp.reshape(out, moved[:-1] + (size,)), -1, dim)


# -- sum, prod ----------------------------------------------------------------------------


@defop("sum", promote=None)
def sum_op(xp, x, *, dim, keepdim):
    return xp.sum(x, axis=dim, keepdims=keepdim)


@sum_op.defvjp
def _(ctx, grad):
    shape = ctx.node.in_meta[0][0]
    return (_unreduce(grad, shape, ctx.params["dim"], ctx.params["keepdim"]),)


def _unreduce(grad, shape, dim, keepdim):
    """Broadcast a reduced gradient back to the input's shape."""
    if dim is None and not grad._data.shape:
        return expand_op(grad, shape=tuple(shape))  # a 0-d total broadcasts as it is
    if not keepdim:
        dims = range(len(shape)) if dim is None else dim
        kept = list(shape)
        for d in dims:
            kept[d] = 1
        grad = reshape_op(grad, shape=tuple(kept))
    if tuple(grad._data.shape) == tuple(shape):
        return grad
    return expand_op(grad, shape=tuple(shape))


def _keep(t, shape, dim, keepdim):
    """A reduced ``t`` with the reduced dims kept as size one (no expansion)."""
    if keepdim:
        return t
    kept = list(shape)
    for d in range(len(shape)) if dim is None else dim:
        kept[d] = 1
    return reshape_op(t, shape=tuple(kept))


@defop("prod", promote=None, save=(0,))
def prod_op(xp, x, *, dim, keepdim):
    return xp.prod(x, axis=dim, keepdims=keepdim)


@prod_op.defvjp
def _(ctx, grad):
    # d prod / d x_i is the product of the others: prod / x_i without zeros; with
    # one zero, the product of the rest at the zero and 0 elsewhere; with two, 0.
    (x,) = ctx.inputs
    shape = ctx.node.in_meta[0][0]
    dim, keepdim = ctx.params["dim"], ctx.params["keepdim"]
    dims = None if dim is None else (dim,)
    g = _keep(grad, shape, dims, keepdim)
    zero = eq(x, 0)
    if _state.enabled and bool(any_op(zero, dim=None, keepdim=False)):
        # Double backward through zeros: the product of the others, O(n^2) but
        # differentiable everywhere (the formula below has constant zeros).
        if dim is None:
            flat = reshape_op(x, shape=(_count(shape, None),))
            return (g * reshape_op(_others(flat, 0, prod_op), shape=tuple(shape)),)
        return (g * _others(x, dim, prod_op),)
    safe = where(zero, 1.0, x)
    zeros = _keep(sum_op(zero.to(D.int64), dim=dims, keepdim=keepdim), shape, dims, keepdim)
    rest = _keep(prod_op(safe, dim=dim, keepdim=keepdim), shape, dims, keepdim)
    others = where(eq(zeros, 0), rest / safe, where(logical_and(zero, eq(zeros, 1)), rest, 0.0))
    return (g * others,)


def _pairs(x, dim):
    """``x`` repeated along a new dim before ``dim`` (``[..., i, m, ...] = x[..., m, ...]``),
    and masks ``m == i`` and ``m >= i`` shaped to broadcast against it."""
    from .._creation import arange

    shape = tuple(x.shape)
    n = shape[dim]
    pairs = expand_op(x.unsqueeze(dim), shape=shape[:dim] + (n,) + shape[dim:])
    i = arange(n, device=x.device).reshape((n, 1) + (1,) * (len(shape) - dim - 1))
    m = arange(n, device=x.device).reshape((1, n) + (1,) * (len(shape) - dim - 1))
    return pairs, eq(m, i), m >= i


def _others(x, dim, op):
    """For each i along ``dim``: ``op`` (prod or cumprod) of ``x`` with ``x_i`` set to 1."""
    pairs, diagonal, _ = _pairs(x, dim)
    held = where(diagonal, 1.0, pairs)
    return op(held, dim=dim + 1, keepdim=False) if op is prod_op else op(held, dim=dim + 1)


# -- extremes -----------------------------------------------------------------------------


def _bool_reduction(fn):
    # The array API orders only real numbers: take bools as int8 and back.
    def forward(xp, x, **params):
        out = fn(xp, xp.astype(x, xp.int8), **params)
        if isinstance(out, tuple):
            return (xp.astype(out[0], xp.bool),) + out[1:]
        return xp.astype(out, xp.bool)

    return forward


def _bool_as_int8(fn):
    # For index-valued results: order bools as int8, keep the indices.
    return lambda xp, x, **params: fn(xp, xp.astype(x, xp.int8), **params)


@defop("amax", promote=None, save=(0,), save_result=True)
def amax_op(xp, x, *, dim, keepdim):
    return xp.max(x, axis=dim, keepdims=keepdim)


@defop("amin", promote=None, save=(0,), save_result=True)
def amin_op(xp, x, *, dim, keepdim):
    return xp.min(x, axis=dim, keepdims=keepdim)


def _even_split(ctx, grad):
    # The gradient is shared evenly between tied extremes (PyTorch's amax/max()).
    (x,) = ctx.inputs
    shape = ctx.node.in_meta[0][0]
    dim, keepdim = ctx.params["dim"], ctx.params["keepdim"]
    out = _unreduce(ctx.result, shape, dim, keepdim)
    mask = (x == out).to(grad.dtype)
    count = _unreduce(sum_op(mask, dim=dim, keepdim=keepdim), shape, dim, keepdim)
    return (_unreduce(grad, shape, dim, keepdim) * mask / count,)


amax_op.defvjp(_even_split)
amin_op.defvjp(_even_split)
amax_op.bool_forward = _bool_reduction(amax_op.forward)
amin_op.bool_forward = _bool_reduction(amin_op.forward)


@defop("max_dim", promote=None, n_out=2, save_result=True, differentiable_outputs=(0,),
       out_dtype=(None, D.int64))
def max_dim_op(xp, x, *, dim, keepdim):
    return xp.max(x, axis=dim, keepdims=keepdim), xp.argmax(x, axis=dim, keepdims=keepdim)


@defop("min_dim", promote=None, n_out=2, save_result=True, differentiable_outputs=(0,),
       out_dtype=(None, D.int64))
def min_dim_op(xp, x, *, dim, keepdim):
    return xp.min(x, axis=dim, keepdims=keepdim), xp.argmin(x, axis=dim, keepdims=keepdim)


def _to_index(ctx, grads):
    # The whole gradient goes to the chosen index (Note [Value-selecting reductions]).
    grad, _ = grads
    _, indices = ctx.result
    shape = ctx.node.in_meta[0][0]
    dim, keepdim = ctx.params["dim"], ctx.params["keepdim"]
    if not keepdim:
        indices = indices.unsqueeze(dim)
        grad = grad.unsqueeze(dim)
    return (scatter_add_along(grad, indices, dim=dim, size=shape[dim]),)


max_dim_op.defvjp(_to_index)
min_dim_op.defvjp(_to_index)
max_dim_op.bool_forward = _bool_reduction(max_dim_op.forward)
min_dim_op.bool_forward = _bool_reduction(min_dim_op.forward)


@defop("argmax", promote=None, out_dtype=D.int64)
def argmax_op(xp, x, *, dim, keepdim):
    return xp.argmax(x, axis=dim, keepdims=keepdim)


@defop("argmin", promote=None, out_dtype=D.int64)
def argmin_op(xp, x, *, dim, keepdim):
    return xp.argmin(x, axis=dim, keepdims=keepdim)


argmax_op.bool_forward = _bool_as_int8(argmax_op.forward)
argmin_op.bool_forward = _bool_as_int8(argmin_op.forward)


# -- moments ------------------------------------------------------------------------------


def _count(shape, dim) -> int:
    n = 1
    for d in range(len(shape)) if dim is None else dim:
        n *= shape[d]
    return n


@defop("var", promote=None, save=(0,))
def var_op(xp, x, *, dim, correction, keepdim):
    n = _count(x.shape, dim)
    d = x - xp.sum(x, axis=dim, keepdims=True) / n
    return xp.sum(d * d, axis=dim, keepdims=keepdim) / builtins.max(n - correction, 0)


@defop("std", promote=None, save=(0,), save_result=True)
def std_op(xp, x, *, dim, correction, keepdim):
    return xp.sqrt(var_op.forward(xp, x, dim=dim, correction=correction, keepdim=keepdim))


def _var_backward(grad, x, params):
    """PyTorch's var_backward: ``2 (x - mean) / (n - correction)`` times the gradient."""
    shape = tuple(x.shape)
    dim, correction, keepdim = params["dim"], params["correction"], params["keepdim"]
    n = _count(shape, dim)
    centred = x - sum_op(x, dim=dim, keepdim=True) / n
    dof = n - correction
    if dim is None and dof <= 0:
        # 2 / 0 is infinite: inf * 0 is nan where x is its mean, inf elsewhere.
        return grad * where(eq(centred, 0), _NAN, _INF)
    factor = 2.0 / dof if dof else _INF
    return _unreduce(grad, shape, dim, keepdim) * factor * centred


@var_op.defvjp
def _(ctx, grad):
    return (_var_backward(grad, ctx.inputs[0], ctx.params),)


@std_op.defvjp
def _(ctx, grad):
    out = ctx.result
    # PyTorch: zero where the deviation is zero, not 0 / 0.
    return (_var_backward(where(eq(out, 0), 0.0, grad / (out * 2)), ctx.inputs[0], ctx.params),)


@defop("logsumexp", promote="float", save=(0,), save_result=True)
def logsumexp_op(xp, x, *, dim, keepdim):
    if _count(x.shape, dim) == 0 and x.ndim:
        return xp.sum(x, axis=dim, keepdims=keepdim) - _INF  # log(0), on x's device
    m = xp.max(x, axis=dim, keepdims=True)
    m = xp.where(xp.isfinite(m), m, xp.zeros_like(m))  # all -inf (or an inf): no shift
    out = xp.log(xp.sum(xp.exp(x - m), axis=dim, keepdims=True)) + m
    if not keepdim:
        out = xp.reshape(out, tuple(s for i, s in enumerate(x.shape)
                                    if not (dim is None or i in dim)))
    return out


@logsumexp_op.defvjp
def _(ctx, grad):
    (x,) = ctx.inputs
    shape = ctx.node.in_meta[0][0]
    dim, keepdim = ctx.params["dim"], ctx.params["keepdim"]
    out = _unreduce(ctx.result, shape, dim, keepdim)
    return (_unreduce(grad, shape, dim, keepdim) * (x - out).exp(),)


# -- norms --------------------------------------------------------------------------------


@defop("norm", promote=None, save=(0,), save_result=True)
def norm_op(xp, x, *, p, dim, keepdim):
    a = xp.abs(x)
    if p == _INF:
        return xp.max(a, axis=dim, keepdims=keepdim)
    if p == -_INF:
        return xp.min(a, axis=dim, keepdims=keepdim)
    if p == 0:
        return xp.sum(xp.astype(x != 0, a.dtype), axis=dim, keepdims=keepdim)
    if p == 1:
        return xp.sum(a, axis=dim, keepdims=keepdim)
    if p == 2:
        return xp.sqrt(xp.sum(a * a, axis=dim, keepdims=keepdim))
    return xp.pow(xp.sum(xp.pow(a, p), axis=dim, keepdims=keepdim), 1.0 / p)


def _abs(x):
    return where(x < 0, -x, x)


def _sign(x):
    return where(x > 0, 1.0, where(x < 0, -1.0, 0.0)).to(x.dtype)


@norm_op.defvjp
def _(ctx, grad):
    # PyTorch's norm_backward, case by case.
    (x,) = ctx.inputs
    shape = ctx.node.in_meta[0][0]
    p, dim, keepdim = ctx.params["p"], ctx.params["dim"], ctx.params["keepdim"]
    g = _unreduce(grad, shape, dim, keepdim)
    out = _unreduce(ctx.result, shape, dim, keepdim)
    if p == 0:
        return (x * 0.0,)
    if p == 1:
        return (g * _sign(x),)
    if p in (_INF, -_INF):
        a = _abs(x)
        mask = logical_or(eq(a, out), ne(a, a)).to(x.dtype)
        count = _unreduce(sum_op(mask, dim=dim, keepdim=keepdim), shape, dim, keepdim)
        return (_sign(x) * (g / count) * mask,)
    if p == 2:
        return (where(eq(out, 0), 0.0, g * x / out),)
    a = _abs(x)
    if p < 1:
        scaled = where(eq(x, 0), 0.0, _sign(x) * a ** (p - 1))
        return (scaled * g * out ** (1 - p),)
    if p < 2:
        return (where(eq(out, 0), 0.0, _sign(x) * a ** (p - 1) * g * out ** (1 - p)),)
    return (where(eq(out, 0), 0.0, x * a ** (p - 2) * g / out ** (p - 1)),)


# -- logical reductions ---------------------------------------------------------------------


@defop("all", promote=None, out_dtype=D.bool)
def all_op(xp, x, *, dim, keepdim):
    return xp.all(x, axis=dim, keepdims=keepdim)


@defop("any", promote=None, out_dtype=D.bool)
def any_op(xp, x, *, dim, keepdim):
    return xp.any(x, axis=dim, keepdims=keepdim)


# -- cumulative reductions ------------------------------------------------------------------


@defop("cumsum", promote=None)
def cumsum_op(xp, x, *, dim, reverse):
    """Inclusive running sums along ``dim``; from the end when ``reverse``."""
    if reverse:
        return xp.flip(xp.cumulative_sum(xp.flip(x, axis=dim), axis=dim), axis=dim)
    return xp.cumulative_sum(x, axis=dim)


@cumsum_op.defvjp
def _(ctx, grad):
    return (cumsum_op(grad, dim=ctx.params["dim"], reverse=not ctx.params["reverse"]),)


@defop("cumprod", promote=None, save=(0,), save_result=True)
def cumprod_op(xp, x, *, dim):
    return xp.cumulative_prod(x, axis=dim)


@cumprod_op.defvjp
def _(ctx, grad):
    # Before the first zero of a slice, d out_j / d x_i = out_j / x_i; at the first
    # zero k it is the product of the others, prod(x[:j+1] with x_k = 1); after it, 0.
    (x,) = ctx.inputs
    out = ctx.result
    dim = ctx.params["dim"]
    zero = eq(x, 0)
    if _state.enabled and bool(any_op(zero, dim=None, keepdim=False)):
        # Double backward through zeros (PyTorch's O(n^2) differentiable formula):
        # grad_i = sum_{j >= i} grad_j * cumprod(x with x_i = 1)_j.
        _, _, later = _pairs(x, dim)
        held = _others(x, dim, cumprod_op)
        terms = where(later, grad.unsqueeze(dim) * held, 0.0)
        return (sum_op(terms, dim=(dim + 1,), keepdim=False),)
    zeros_so_far = cumsum_op(zero.to(D.int64), dim=dim, reverse=False)
    before = eq(zeros_so_far, 0)
    first = logical_and(zero, eq(zeros_so_far, 1))
    safe = where(before, x, 1.0)
    head = cumsum_op(grad * out, dim=dim, reverse=True) / safe
    without_k = cumprod_op(where(first, 1.0, x), dim=dim)
    at_k = cumsum_op(grad * without_k, dim=dim, reverse=True)
    return (where(before, head, where(first, at_k, 0.0)),)


def _cum_extreme(xp, x, *, dim, largest):
    """Running (max or min, index) along ``dim``: a log-depth scan over xp.

    Combining an earlier best ``a`` with a later candidate ``b`` keeps ``a`` only
    when it is strictly better, so ties go to the later index; NaN beats every
    number and ties with NaN, so the latest NaN is chosen (PyTorch's cummax/cummin).
    That is the max of a total order, so the scan may combine in any grouping.
    """
    n = x.shape[dim]
    idx = xp.cumulative_sum(xp.ones_like(x, dtype=xp.int64), axis=dim) - 1
    floating = xp.isdtype(x.dtype, "real floating")
    shift = 1
    while shift < n:
        head = (slice(None),) * dim + (slice(0, shift), ...)
        prev = (slice(None),) * dim + (slice(0, n - shift), ...)
        cur = (slice(None),) * dim + (slice(shift, n), ...)
        a, b = x[prev], x[cur]
        better = a > b if largest else a < b  # false when either is NaN
        if floating:
            better = xp.logical_or(better, xp.logical_and(xp.isnan(a), ~xp.isnan(b)))
        x = xp.concat([x[head], xp.where(better, a, b)], axis=dim)
        idx = xp.concat([idx[head], xp.where(better, idx[prev], idx[cur])], axis=dim)
        shift *= 2
    return x, idx


@defop("cummax", promote=None, n_out=2, save_result=True, differentiable_outputs=(0,),
       out_dtype=(None, D.int64))
def cummax_op(xp, x, *, dim):
    return _cum_extreme(xp, x, dim=dim, largest=True)


@defop("cummin", promote=None, n_out=2, save_result=True, differentiable_outputs=(0,),
       out_dtype=(None, D.int64))
def cummin_op(xp, x, *, dim):
    return _cum_extreme(xp, x, dim=dim, largest=False)


def _cum_to_index(ctx, grads):
    grad, _ = grads
    _, indices = ctx.result
    dim = ctx.params["dim"]
    return (scatter_add_along(grad, indices, dim=dim, size=ctx.node.in_meta[0][0][dim]),)


cummax_op.defvjp(_cum_to_index)
cummin_op.defvjp(_cum_to_index)
cummax_op.bool_forward = _bool_reduction(cummax_op.forward)
cummin_op.bool_forward = _bool_reduction(cummin_op.forward)


# -- argument handling ----------------------------------------------------------------------


def _dims(dim, ndim: int, fn: str):
    """The sorted, wrapped dims to reduce, or None for all of them.

    As in PyTorch, an empty list means every dim, and a 0-d tensor's one
    reducible dim (0 or -1) is also "all of it".
    """
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        dims = tuple(_wrap_dim(d, ndim, fn) for d in dim)
        if len(set(dims)) != len(dims):
            dup = next(d for d in dims if dims.count(d) > 1)
            raise RuntimeError(f"{fn}(): dim {dup} appears multiple times in the list of dims")
        if not dims:
            return None
    else:
        dims = (_wrap_dim(dim, ndim, fn),)
    return None if ndim == 0 else tuple(sorted(dims))


def _name(d):
    from .._tensor import _TYPE_NAMES

    return _TYPE_NAMES[d]


def _check_nonempty(input, dims, fn, error=IndexError):
    shape = input._data.shape
    sizes = shape if dims is None else [shape[d] for d in dims]
    if builtins.any(s == 0 for s in sizes):
        raise error(
            f"{fn}(): Expected reduction dim to be specified for input.numel() == 0. "
            f"Specify the reduction dim with the 'dim' argument."
            if dims is None else
            f"{fn}(): Expected reduction dim {dims[0] if len(dims) == 1 else list(dims)} to have "
            f"non-zero size."
        )


def _check_floating(input, fn):
    if input._dtype.kind not in "fc":
        raise RuntimeError(
            f"{fn}(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {_name(input._dtype)}"
        )


def _cast(input, dtype):
    dtype = D.as_dtype(dtype)
    if dtype is not None and dtype is not input._dtype:
        return input.to(dtype)
    return input


def _integral_to_long(input, dtype):
    """``dtype`` if given; bool and integer inputs otherwise accumulate in int64 (PyTorch)."""
    dtype = D.as_dtype(dtype)
    if dtype is None and input._dtype.kind in "biu":
        dtype = D.int64
    return _cast(input, dtype)


def _zero_index(input, shape=()):
    from .._creation import zeros

    return zeros(shape, dtype=D.int64, device=input.device)


# -- public functions: sums and means ---------------------------------------------------------


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A001
    """Sum over all elements or over ``dim`` (an int or a tuple of ints).

    Integer and bool tensors sum to int64, as in PyTorch.

    Example:
        >>> polytorch.tensor([[1., 2.], [3., 4.]]).sum(dim=0)
        tensor([4., 6.])
    """
    input = _integral_to_long(input, dtype)
    return sum_op(input, dim=_dims(dim, input.ndim, "sum"), keepdim=bool(keepdim))


def nansum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """``sum`` treating NaN as zero.

    Example:
        >>> polytorch.tensor([1., float("nan"), 2.]).nansum()
        tensor(3.)
    """
    if input._dtype.kind in "fc":
        input = where(ne(input, input), 0.0, input)
    return sum(input, dim, keepdim, dtype=dtype)


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Mean over all elements or over ``dim``; needs a floating or complex dtype.

    Example:
        >>> polytorch.tensor([[1., 2.], [3., 4.]]).mean(1)
        tensor([1.5000, 3.5000])
    """
    input = _cast(input, dtype)
    _check_floating(input, "mean")
    dims = _dims(dim, input.ndim, "mean")
    n = _count(input._data.shape, dims)
    total = sum_op(input, dim=dims, keepdim=bool(keepdim))
    return total / n if n else total * _NAN


def nanmean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Mean of the non-NaN elements (NaN where there are none).

    Example:
        >>> polytorch.tensor([1., float("nan"), 2.]).nanmean()
        tensor(1.5000)
    """
    input = _cast(input, dtype)
    if input._dtype.kind not in "fc":
        raise RuntimeError(
            f"nanmean(): expected input to have floating point or complex dtype but got "
            f"{_name(input._dtype)}"
        )
    dims = _dims(dim, input.ndim, "nanmean")
    present = eq(input, input)
    total = sum_op(where(present, input, 0.0), dim=dims, keepdim=bool(keepdim))
    return total / sum_op(present.to(input._dtype), dim=dims, keepdim=bool(keepdim))


def prod(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Product of all elements, or along one ``dim``; integers and bools give int64.

    Example:
        >>> polytorch.tensor([[1., 2.], [3., 4.]]).prod(1)
        tensor([ 2., 12.])
    """
    input = _integral_to_long(input, dtype)
    if dim is None:
        return prod_op(input, dim=None, keepdim=False)
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"prod(): argument 'dim' must be int, not {type(dim).__name__}")
    d = _wrap_dim(dim, input.ndim, "prod")
    return prod_op(input, dim=None if input.ndim == 0 else d, keepdim=bool(keepdim))


# -- public functions: extremes -----------------------------------------------------------------


def amax(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Maximum over ``dim`` (all dims when empty); ties share the gradient evenly.

    Example:
        >>> polytorch.tensor([[1., 5.], [3., 4.]]).amax(0)
        tensor([3., 5.])
    """
    dims = _dims(dim, input.ndim, "amax") if dim != () else None
    _check_nonempty(input, dims, "amax")
    return amax_op(input, dim=dims, keepdim=bool(keepdim))


def amin(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Minimum over ``dim`` (all dims when empty); ties share the gradient evenly.

    Example:
        >>> polytorch.tensor([[1., 5.], [3., 4.]]).amin(1)
        tensor([1., 3.])
    """
    dims = _dims(dim, input.ndim, "amin") if dim != () else None
    _check_nonempty(input, dims, "amin")
    return amin_op(input, dim=dims, keepdim=bool(keepdim))


def _extreme(input, dim, keepdim, other, largest):
    fn = "max" if largest else "min"
    if isinstance(dim, Tensor):
        other, dim = dim, None
    if other is not None:
        from . import elementwise

        pick = getattr(elementwise, "maximum" if largest else "minimum", None)
        if pick is not None:
            return pick(input, other)
        return _pick_fallback(input, other, largest)
    whole, by_dim, returns = ((amax_op, max_dim_op, MaxReturn) if largest else
                              (amin_op, min_dim_op, MinReturn))
    if dim is None:
        _check_nonempty(input, None, fn, RuntimeError)  # PyTorch's class for max() here
        return whole(input, dim=None, keepdim=False)
    d = _wrap_dim(dim, input.ndim, fn)
    if input.ndim == 0:
        return returns(whole(input, dim=None, keepdim=False), _zero_index(input))
    _check_nonempty(input, (d,), fn)
    values, indices = by_dim(input, dim=d, keepdim=bool(keepdim))
    return returns(values, indices)


def _pick_fallback(a, b, largest):
    # Used only while elementwise.maximum/minimum do not exist: NaN propagates.
    better = a > b if largest else a < b
    return where(logical_or(better, ne(a, a)), a, b)


def max(input: Tensor, dim=None, keepdim: bool = False, *, other=None):  # noqa: A001
    """``max(x)``: the largest element; ``max(x, dim)``: ``(values, indices)``; ``max(x, y)``.

    Along a dim, the gradient goes to the returned index; over everything, ties
    share it (PyTorch).

    Example:
        >>> polytorch.tensor([[1., 5.], [3., 4.]]).max(1).indices
        tensor([1, 0])
    """
    return _extreme(input, dim, keepdim, other, True)


def min(input: Tensor, dim=None, keepdim: bool = False, *, other=None):  # noqa: A001
    """``min(x)``: the smallest element; ``min(x, dim)``: ``(values, indices)``; ``min(x, y)``.

    Example:
        >>> polytorch.tensor([[1., 5.], [3., 4.]]).min(0).values
        tensor([1., 4.])
    """
    return _extreme(input, dim, keepdim, other, False)


def aminmax(input: Tensor, *, dim=None, keepdim: bool = False):
    """``(min, max)`` over everything or along one ``dim``.

    Example:
        >>> polytorch.tensor([1., 5., 3.]).aminmax()
        polytorch.return_types.aminmax(
        min=tensor(1.),
        max=tensor(5.))
    """
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError(
                "aminmax(): cannot compute aminmax over an empty dimension as the operation "
                "has no identity."
            )
        return AminmaxReturn(amin_op(input, dim=None, keepdim=bool(keepdim) and input.ndim > 0),
                             amax_op(input, dim=None, keepdim=bool(keepdim) and input.ndim > 0))
    d = _wrap_dim(dim, input.ndim, "aminmax")
    if input.ndim and input._data.shape[d] == 0:
        raise IndexError(
            f"aminmax(): Expected reduction dim {d} to have non-zero size."
        )
    dims = None if input.ndim == 0 else (d,)
    return AminmaxReturn(amin_op(input, dim=dims, keepdim=bool(keepdim)),
                         amax_op(input, dim=dims, keepdim=bool(keepdim)))


def _arg_extreme(input, dim, keepdim, op, fn):
    if input._dtype is D.bool:
        raise RuntimeError(f"{fn}(): does not support bool input")
    if dim is None:
        _check_nonempty(input, None, fn)
        if input.ndim == 0:
            return _zero_index(input)
        return op(input, dim=None, keepdim=bool(keepdim))
    d = _wrap_dim(dim, input.ndim, fn)
    if input.ndim == 0:
        return _zero_index(input)
    _check_nonempty(input, (d,), fn)
    return op(input, dim=d, keepdim=bool(keepdim))


def argmax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the largest element (of the flattened tensor when ``dim`` is None).

    Example:
        >>> polytorch.tensor([[1., 5.], [3., 4.]]).argmax()
        tensor(1)
    """
    return _arg_extreme(input, dim, keepdim, argmax_op, "argmax")


def argmin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the smallest element (of the flattened tensor when ``dim`` is None).

    Example:
        >>> polytorch.tensor([[1., 5.], [3., 4.]]).argmin(dim=1)
        tensor([0, 0])
    """
    return _arg_extreme(input, dim, keepdim, argmin_op, "argmin")


# -- public functions: moments ------------------------------------------------------------------


def _moment_args(input, dim, unbiased, keepdim, correction, fn):
    if isinstance(dim, bool):  # var(x, unbiased)
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise RuntimeError(f"{fn}(): cannot specify both unbiased and correction")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    if input._dtype.kind not in "fc":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    if input._dtype.kind == "c":
        raise NotImplementedError(f"{fn}() of complex tensors is not supported yet")
    dims = _dims(dim, input.ndim, fn)
    n = _count(input._data.shape, dims)
    if n - correction <= 0 or input.numel() == 0:  # PyTorch divides numels: 0 / 0 warns
        warnings.warn(
            f"{fn}(): degrees of freedom is <= 0. Correction should be strictly less than the "
            f"reduction factor (input numel divided by output numel).", UserWarning, stacklevel=3
        )
    return {"dim": dims, "correction": correction, "keepdim": bool(keepdim)}


def var(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,
        correction=None) -> Tensor:
    """Variance over ``dim`` with Bessel's ``correction`` (1 by default).

    Example:
        >>> polytorch.tensor([1., 2., 4.]).var()
        tensor(2.3333)
    """
    return var_op(input, **_moment_args(input, dim, unbiased, keepdim, correction, "var"))


def std(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,
        correction=None) -> Tensor:
    """Standard deviation over ``dim``; its gradient is 0 where it is 0 (PyTorch).

    Example:
        >>> polytorch.tensor([1., 2., 4.]).std(correction=0)
        tensor(1.2472)
    """
    return std_op(input, **_moment_args(input, dim, unbiased, keepdim, correction, "std"))


def var_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """``(var, mean)`` over ``dim``.

    Example:
        >>> polytorch.var_mean(polytorch.tensor([1., 2., 4.]))[1]
        tensor(2.3333)
    """
    args = _moment_args(input, dim, unbiased, keepdim, correction, "var_mean")
    return var_op(input, **args), mean(input, args["dim"], args["keepdim"])


def std_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """``(std, mean)`` over ``dim``.

    Example:
        >>> polytorch.std_mean(polytorch.tensor([1., 2., 4.]), correction=0)[0]
        tensor(1.2472)
    """
    args = _moment_args(input, dim, unbiased, keepdim, correction, "std_mean")
    return std_op(input, **args), mean(input, args["dim"], args["keepdim"])


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(input)))`` over ``dim``, computed without overflow.

    Example:
        >>> polytorch.tensor([1000., 1000.]).logsumexp(0)
        tensor(1000.6931)
    """
    dims = _dims(dim, input.ndim, "logsumexp")
    return logsumexp_op(input, dim=dims, keepdim=bool(keepdim))


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """The vector p-norm over ``dim`` (all elements by default); ``"fro"`` is the 2-norm.

    ``p`` may be any number, ``inf`` or ``-inf``; ``"nuc"`` is not supported.

    Example:
        >>> polytorch.tensor([3., -4.]).norm()
        tensor(5.)
    """
    if input._dtype.kind not in "fc":
        raise RuntimeError(
            f"linalg.vector_norm: Expected a floating point or complex tensor as input. "
            f"Got {_name(input._dtype)}"
        )
    input = _cast(input, dtype)
    if input._dtype.kind == "c":
        raise NotImplementedError("norm() of complex tensors is not supported yet")
    if p == "nuc":
        raise NotImplementedError("norm(p='nuc') (the nuclear norm) is not supported yet")
    if isinstance(p, str):
        if p != "fro":
            raise RuntimeError(f"norm(): unsupported norm type {p!r}")
        if isinstance(dim, (tuple, list)) and len(dim) > 2:
            raise RuntimeError(
                f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dim))}"
            )
        p = 2
    p = float(p)
    dims = _dims(dim, input.ndim, "norm")
    if abs(p) == _INF and _count(input._data.shape, dims) == 0:
        raise RuntimeError(
            f"linalg.vector_norm cannot compute the {'-' if p < 0 else ''}inf norm on an empty "
            f"tensor because the operation does not have an identity"
        )
    return norm_op(input, p=p, dim=dims, keepdim=bool(keepdim))


# -- public functions: logical and counting -----------------------------------------------------


def _logical(op, input, dim, keepdim):
    out = op(input, dim=_dims(dim, input.ndim, op.name), keepdim=bool(keepdim))
    return out.to(D.uint8) if input._dtype is D.uint8 else out  # PyTorch keeps uint8


def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Whether every element (along ``dim``) is non-zero.

    Example:
        >>> polytorch.tensor([[1, 0], [2, 3]]).all(1)
        tensor([False,  True])
    """
    return _logical(all_op, input, dim, keepdim)


def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Whether some element (along ``dim``) is non-zero.

    Example:
        >>> polytorch.tensor([[1, 0], [0, 0]]).any(1)
        tensor([ True, False])
    """
    return _logical(any_op, input, dim, keepdim)


def count_nonzero(input: Tensor, dim=None) -> Tensor:
    """The number of non-zero elements (along ``dim``), as int64.

    Example:
        >>> polytorch.count_nonzero(polytorch.tensor([[1, 0], [2, 3]]), dim=0)
        tensor([2, 1])
    """
    dims = _dims(dim, input.ndim, "count_nonzero")
    return sum_op(ne(input, 0).to(D.int64), dim=dims, keepdim=False)


# -- public functions: cumulative -----------------------------------------------------------------


def _cumulative(input, dim, fn, run):
    d = _wrap_dim(dim, input.ndim, fn)
    if input.ndim == 0:
        return reshape_op(run(reshape_op(input, shape=(1,)), 0), shape=())
    return run(input, d)


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running sums along ``dim``; integers and bools accumulate in int64.

    Example:
        >>> polytorch.tensor([1, 2, 3]).cumsum(0)
        tensor([1, 3, 6])
    """
    input = _integral_to_long(input, dtype)
    return _cumulative(input, dim, "cumsum", lambda t, d: cumsum_op(t, dim=d, reverse=False))


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running products along ``dim``; the gradient is exact with zeros in the input.

    Example:
        >>> polytorch.tensor([1., 2., 3.]).cumprod(0)
        tensor([1., 2., 6.])
    """
    input = _integral_to_long(input, dtype)
    return _cumulative(input, dim, "cumprod", lambda t, d: cumprod_op(t, dim=d))


def _cum_extreme_public(input, dim, op, returns, fn):
    d = _wrap_dim(dim, input.ndim, fn)
    if input.ndim == 0:
        values, indices = op(reshape_op(input, shape=(1,)), dim=0)
        return returns(reshape_op(values, shape=()), reshape_op(indices, shape=()))
    return returns(*op(input, dim=d))


def cummax(input: Tensor, dim: int):
    """Running maximum along ``dim`` and where it was found (ties: the later index).

    Example:
        >>> polytorch.tensor([1., 3., 2., 3.]).cummax(0).indices
        tensor([0, 1, 1, 3])
    """
    return _cum_extreme_public(input, dim, cummax_op, CummaxReturn, "cummax")


def cummin(input: Tensor, dim: int):
    """Running minimum along ``dim`` and where it was found (ties: the later index).

    Example:
        >>> polytorch.tensor([3., 1., 2., 1.]).cummin(0).values
        tensor([3., 1., 1., 1.])
    """
    return _cum_extreme_public(input, dim, cummin_op, CumminReturn, "cummin")


TENSOR_METHODS.update({
    name: globals()[name] for name in [
        "all", "amax", "amin", "aminmax", "any", "argmax", "argmin", "count_nonzero", "cummax",
        "cummin", "cumprod", "cumsum", "logsumexp", "max", "mean", "min", "nanmean", "nansum",
        "norm", "prod", "std", "sum", "var",
    ]
})
INPLACE_METHODS.update({
    "cumsum_": (cumsum, None),
    "cumprod_": (cumprod, "self"),
})
