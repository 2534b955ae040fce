"""Sorting and sets: sort, argsort, msort, topk, kthvalue, median, nanmedian, mode, unique.

One differentiable primitive, ``sort`` (stable; NaN sorts as the largest value,
as in PyTorch), carries the ordering. topk, kthvalue, median, nanmedian and mode
pick indices from a sort without a graph and then gather their values, so their
gradients go to the chosen indices (Note [Value-selecting reductions] in
polytorch/ops/reduction.py). ``unique`` and ``unique_consecutive`` are one
non-differentiable primitive with data-dependent output shapes.
"""

from __future__ import annotations

from .. import _dtype as D
from .._creation import ones_like
from .._tensor import Tensor, _wrap_dim
from ..autograd import no_grad
from ._registry import defop
from .elementwise import eq, logical_and, logical_or, ne, where
from .reduction import (
    _bool_reduction,
    _return_type,
    _zero_index,
    argmax_op,
    cummax_op,
    cumsum_op,
    gather_along,
    scatter_add_along,
    sum_op,
)

__all__ = [  # exported as polytorch.NAME
    "argsort", "kthvalue", "median", "mode", "msort", "nanmedian", "sort", "topk", "unique",
    "unique_consecutive",
]

# Tensor methods this module adds (see polytorch/_tensor_methods.py).
TENSOR_METHODS: dict = {}
INPLACE_METHODS: dict = {}

SortReturn = _return_type("sort")
TopkReturn = _return_type("topk")
KthvalueReturn = _return_type("kthvalue")
MedianReturn = _return_type("median")
NanmedianReturn = _return_type("nanmedian")
ModeReturn = _return_type("mode")


# -- the primitive --------------------------------------------------------------------------


@defop("sort", promote=None, n_out=2, save_result=True, differentiable_outputs=(0,),
       out_dtype=(None, D.int64))
def sort_op(xp, x, *, dim, descending):
    """Values and indices along ``dim``; stable, NaN last (first when descending)."""
    indices = xp.argsort(x, axis=dim, descending=descending, stable=True)
    return xp.take_along_axis(x, indices, axis=dim), indices


sort_op.bool_forward = _bool_reduction(sort_op.forward)


@sort_op.defvjp
def _(ctx, grads):
    grad, _ = grads
    _, indices = ctx.result
    dim = ctx.params["dim"]
    return (scatter_add_along(grad, indices, dim=dim, size=ctx.node.in_meta[0][0][dim]),)


def _unique(xp, x, *, dim, consecutive):
    """Sorted (or run-wise) unique slices along ``dim``, the inverse map and the counts.

    Slices are compared as rows: a stable sort by each column from the last to the
    first orders them lexicographically (one sort when ``dim`` is None). NaN
    differs from everything, itself included, as in PyTorch.
    """
    if dim is None:
        rows = xp.reshape(x, (-1, 1))
        rest = ()
    else:
        moved = xp.moveaxis(x, dim, 0)
        rest = moved.shape[1:]
        rows = xp.reshape(moved, (moved.shape[0], -1))
    n, m = rows.shape
    keys = xp.astype(rows, xp.int8) if rows.dtype == xp.bool else rows
    order = xp.arange(n, dtype=xp.int64, device=rows.device)
    if not consecutive:
        for col in reversed(range(m)):
            step = xp.argsort(xp.take(keys[:, col], order), stable=True)
            order = xp.take(order, step)
    ordered = xp.take(rows, order, axis=0)
    if n:
        differs = xp.any(ordered[1:, ...] != ordered[:-1, ...], axis=1)
        new = xp.concat([xp.ones((1,), dtype=xp.bool, device=rows.device), differs])
    else:
        new = xp.zeros((0,), dtype=xp.bool, device=rows.device)
    (starts,) = xp.nonzero(new)
    values = xp.take(ordered, starts, axis=0)
    group = xp.cumulative_sum(xp.astype(new, xp.int64)) - 1
    inverse = group if consecutive else xp.take(group, xp.argsort(order, stable=True))
    ends = xp.concat([starts[1:], xp.asarray([n], dtype=starts.dtype, device=rows.device)]) \
        if n else starts
    counts = xp.astype(ends - starts, xp.int64)
    if dim is None:
        return xp.reshape(values, (-1,)), xp.reshape(inverse, x.shape), counts
    values = xp.moveaxis(xp.reshape(values, (values.shape[0],) + rest), 0, dim)
    return values, inverse, counts


@defop("unique", promote=None, n_out=3, out_dtype=(None, D.int64, D.int64), quiet=False)
def unique_op(xp, x, *, dim):
    return _unique(xp, x, dim=dim, consecutive=False)


@defop("unique_consecutive", promote=None, n_out=3, out_dtype=(None, D.int64, D.int64),
       quiet=False)
def unique_consecutive_op(xp, x, *, dim):
    return _unique(xp, x, dim=dim, consecutive=True)


# -- public functions ---------------------------------------------------------------------------


def _sorted(input, dim, descending, fn):
    """``(values, indices)`` of a sort along ``dim``; a 0-d tensor is its own sort."""
    d = _wrap_dim(dim, input.ndim, fn)
    if input.ndim == 0:
        return input.clone(), _zero_index(input)
    return sort_op(input, dim=d, descending=bool(descending))


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False, *,
         out=None):
    """Sorted values along ``dim`` and their indices; ties keep their order (always stable).

    NaN sorts as the largest value.

    Example:
        >>> polytorch.tensor([3., 1., 2.]).sort()
        polytorch.return_types.sort(
        values=tensor([1., 2., 3.]),
        indices=tensor([1, 2, 0]))
    """
    if out is not None:
        raise NotImplementedError("sort(out=...) is not supported")
    if isinstance(dim, bool):  # sort(x, stable=..., dim=..., descending=...) keyword forms
        raise TypeError("sort(): argument 'dim' must be int, not bool")
    return SortReturn(*_sorted(input, dim, descending, "sort"))


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    """The indices that sort ``input`` along ``dim`` (stable).

    Example:
        >>> polytorch.tensor([3., 1., 2.]).argsort(descending=True)
        tensor([0, 2, 1])
    """
    with no_grad():
        return _sorted(input, dim, descending, "argsort")[1]


def msort(input: Tensor) -> Tensor:
    """``input`` sorted along its first dimension.

    Example:
        >>> polytorch.msort(polytorch.tensor([[2, 1], [1, 3]]))
        tensor([[1, 1],
                [2, 3]])
    """
    return _sorted(input, 0, False, "msort")[0]


def _pick(input, d, index, keepdim):
    """Values of ``input`` at ``index`` (keepdim-shaped) along ``d``, and the index."""
    values = gather_along(input, index, dim=d)
    if not keepdim:
        values, index = values.squeeze(d), index.squeeze(d)
    return values, index


def _slice_dim(t, d, start, stop):
    key = (slice(None),) * d + (slice(start, stop),)
    return t[key]


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The ``k`` largest (or smallest) elements along ``dim`` and their indices.

    Results are always sorted; ties keep their order.

    Example:
        >>> polytorch.tensor([1., 4., 2., 3.]).topk(2).indices
        tensor([1, 3])
    """
    if input._dtype is D.bool:
        raise RuntimeError("topk does not support bool dtypes")
    d = _wrap_dim(dim, input.ndim, "topk")
    size = input._data.shape[d] if input.ndim else 1
    if not isinstance(k, int) or k < 0 or k > size:
        raise RuntimeError("selected index k out of range")
    if input.ndim == 0:
        values, indices = _sorted(input, d, largest, "topk")
        return TopkReturn(values, indices) if k else TopkReturn(values[None][:0], indices[None][:0])
    with no_grad():
        indices = _slice_dim(_sorted(input, d, largest, "topk")[1], d, 0, k)
    return TopkReturn(gather_along(input, indices, dim=d), indices)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False):
    """The ``k``-th smallest element along ``dim`` (1-based) and its index.

    Example:
        >>> polytorch.tensor([3., 1., 2.]).kthvalue(2)
        polytorch.return_types.kthvalue(
        values=tensor(2.),
        indices=tensor(0))
    """
    _no_bool(input, "kthvalue")
    d = _wrap_dim(dim, input.ndim, "kthvalue")
    size = input._data.shape[d] if input.ndim else 1
    if not isinstance(k, int) or k < 1 or k > size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    if input.ndim == 0:
        return KthvalueReturn(*_sorted(input, d, False, "kthvalue"))
    with no_grad():
        index = _slice_dim(_sorted(input, d, False, "kthvalue")[1], d, k - 1, k)
    return KthvalueReturn(*_pick(input, d, index, keepdim))


def _check_dim_nonempty(input, d, fn):
    if input.ndim and input._data.shape[d] == 0:
        raise IndexError(f"{fn}(): Expected reduction dim {d} to have non-zero size.")


def _no_bool(input, fn):
    if input._dtype is D.bool:
        raise RuntimeError(f'"{fn}" not implemented for \'Bool\'')


def _median(input, dim, keepdim, ignore_nan, fn, returns):
    _no_bool(input, fn)
    if dim is None:
        flat = input.reshape(-1)
        if flat.numel() == 0:
            from .._creation import full

            return full((), float("nan"), dtype=input._dtype, device=input.device)
        with no_grad():
            value = _median(flat, 0, False, ignore_nan, fn, returns)[0]
        # The gradient is shared evenly between the elements equal to the median
        # (NaN ones when it is NaN), as PyTorch's evenly_distribute_backward.
        chosen = logical_or(eq(flat, value), logical_and(ne(flat, flat), ne(value, value)))
        picked = where(chosen, flat, 0.0).to(flat._dtype)
        return sum_op(picked, dim=None, keepdim=False) / sum_op(
            chosen.to(D.int64), dim=None, keepdim=False)
    d = _wrap_dim(dim, input.ndim, fn)
    if input.ndim == 0:
        return returns(*_sorted(input, d, False, fn))
    _check_dim_nonempty(input, d, fn)
    n = input._data.shape[d]
    with no_grad():
        values, order = _sorted(input, d, False, fn)
        if input._dtype.kind in "fc":
            # NaN sorts last: median gives the first NaN of a slice that has one,
            # nanmedian the lower median of the rest.
            nans = sum_op(ne(input, input).to(D.int64), dim=(d,), keepdim=True)
            valid = n - nans
            if ignore_nan:
                rank = where(eq(valid, 0), 0, (valid - 1) // 2)
            else:
                rank = where(eq(nans, 0), (n - 1) // 2, valid)
            index = gather_along(order, rank, dim=d)
        else:
            index = _slice_dim(order, d, (n - 1) // 2, (n - 1) // 2 + 1)
    return returns(*_pick(input, d, index, keepdim))


def median(input: Tensor, dim=None, keepdim: bool = False):
    """The lower median of all elements, or ``(values, indices)`` along ``dim``.

    A slice with a NaN has median NaN (at its first NaN).

    Example:
        >>> polytorch.tensor([4., 1., 3., 2.]).median()
        tensor(2.)
    """
    return _median(input, dim, keepdim, False, "median", MedianReturn)


def nanmedian(input: Tensor, dim=None, keepdim: bool = False):
    """``median`` ignoring NaN (NaN only where a slice is all NaN).

    Example:
        >>> polytorch.tensor([4., float("nan"), 1., 2.]).nanmedian()
        tensor(2.)
    """
    return _median(input, dim, keepdim, True, "nanmedian", NanmedianReturn)


def mode(input: Tensor, dim: int = -1, keepdim: bool = False):
    """The most frequent value along ``dim`` (the smallest on ties) and its last index.

    Example:
        >>> polytorch.tensor([2, 1, 2, 1, 3]).mode()
        polytorch.return_types.mode(
        values=tensor(1),
        indices=tensor(3))
    """
    d = _wrap_dim(dim, input.ndim, "mode")
    if input.ndim == 0:
        return ModeReturn(*_sorted(input, d, False, "mode"))
    _check_dim_nonempty(input, d, "mode")
    shape = input._data.shape
    if 0 in shape:  # no slices: nothing to count
        out = list(shape)
        out[d] = 1
        index = _zero_index(input, tuple(out))
        return ModeReturn(*_pick(input, d, index, keepdim))
    with no_grad():
        values, order = _sorted(input, d, False, "mode")
        # Runs of equal values in sorted order (NaN never equals anything); the
        # first position where a run's length peaks ends the smallest most
        # frequent value, whose last element in a stable sort is its last index.
        pos = cumsum_op(ones_like(values, dtype=D.int64), dim=d, reverse=False) - 1
        prev = gather_along(values, where(pos > 0, pos - 1, 0), dim=d)
        new = logical_or(eq(pos, 0), ne(values, prev))
        run = pos - cummax_op(where(new, pos, 0), dim=d)[0]
        best = argmax_op(run, dim=d, keepdim=True)
        index = gather_along(order, best, dim=d)
    return ModeReturn(*_pick(input, d, index, keepdim))


def _unique_public(input, return_inverse, return_counts, dim, op, fn):
    if dim is not None:
        dim = _wrap_dim(dim, input.ndim, fn)
        if input.ndim == 0:
            raise IndexError("Dimension out of range (expected to be in range of [-1, 0], "
                             f"but got {dim})")
    with no_grad():
        values, inverse, counts = op(input, dim=dim)
    out = (values,)
    if return_inverse:
        out += (inverse,)
    if return_counts:
        out += (counts,)
    return out[0] if len(out) == 1 else out


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim=None):
    """The sorted unique elements (or slices along ``dim``), optionally with the inverse
    map and the counts. The result is sorted whatever ``sorted`` says.

    Example:
        >>> polytorch.tensor([3, 1, 3, 2]).unique(return_counts=True)
        (tensor([1, 2, 3]), tensor([1, 1, 2]))
    """
    return _unique_public(input, return_inverse, return_counts, dim, unique_op, "unique")


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim=None):
    """Collapse runs of equal consecutive elements (or slices along ``dim``).

    Example:
        >>> polytorch.tensor([1, 1, 2, 2, 1]).unique_consecutive()
        tensor([1, 2, 1])
    """
    return _unique_public(input, return_inverse, return_counts, dim, unique_consecutive_op,
                          "unique_consecutive")


TENSOR_METHODS.update({
    name: globals()[name] for name in [
        "argsort", "kthvalue", "median", "mode", "msort", "nanmedian", "sort", "topk", "unique",
        "unique_consecutive",
    ]
})
