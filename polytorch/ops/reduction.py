"""Reductions: sum, mean, max."""

from __future__ import annotations

from .. import _dtype as D
from .._tensor import Tensor, _wrap_dim
from ._registry import defop
from .shape import expand_op, reshape_op

__all__ = ["amax", "max", "mean", "sum"]  # exported as polytorch.NAME

TENSOR_METHODS: dict = {}  # see polytorch/ops/elementwise.py
INPLACE_METHODS: dict = {}


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


@defop("amax", promote=None, save=(0,), save_result=True)
def amax_op(xp, x, *, dim, keepdim):
    return xp.max(x, axis=dim, keepdims=keepdim)


@amax_op.defvjp
def _(ctx, grad):
    # The gradient is shared evenly between tied maxima (PyTorch's amax/max()).
    (x,) = ctx.inputs
    shape = ctx.node.in_meta[0][0]
    dim, keepdim = ctx.params["dim"], ctx.params["keepdim"]
    out = _unreduce(ctx.result, shape, dim, keepdim)
    mask = (x == out).to(grad.dtype)
    count = _unreduce(sum_op(mask, dim=dim, keepdim=keepdim), shape, dim, keepdim)
    return (_unreduce(grad, shape, dim, keepdim) * mask / count,)


def _bool_reduction(fn):
    # The array API orders only real numbers: take bools as int8 and back.
    def forward(xp, x, **params):
        out = fn(xp, xp.astype(x, xp.int8), **params)
        if isinstance(out, tuple):
            return (xp.astype(out[0], xp.bool),) + out[1:]
        return xp.astype(out, xp.bool)

    return forward


amax_op.bool_forward = _bool_reduction(amax_op.forward)


@defop("max_dim", promote=None, n_out=2, save_result=True, differentiable_outputs=(0,))
def max_dim_op(xp, x, *, dim, keepdim):
    return xp.max(x, axis=dim, keepdims=keepdim), xp.argmax(x, axis=dim, keepdims=keepdim)


max_dim_op.bool_forward = _bool_reduction(max_dim_op.forward)


@max_dim_op.defvjp
def _(ctx, grads):
    # The whole gradient goes to the index argmax chose (PyTorch's max(dim)).
    grad, _ = grads
    _, indices = ctx.result
    shape = ctx.node.in_meta[0][0]
    dim, keepdim = ctx.params["dim"], ctx.params["keepdim"]
    if not keepdim:
        indices = indices.unsqueeze(dim)
        grad = grad.unsqueeze(dim)
    from .._creation import arange

    view = [1] * len(shape)
    view[dim] = shape[dim]
    positions = arange(shape[dim], device=grad.device).reshape(view)
    mask = (positions == indices).to(grad.dtype)
    return (grad * mask,)


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


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A001
    """Sum over all elements or over ``dim`` (an int or a tuple of ints).

    Integer and bool tensors sum to int64, as in PyTorch.

    Example:
        >>> polytorch.tensor([[1., 2.], [3., 4.]]).sum(dim=0)
        tensor([4., 6.])
    """
    dtype = D.as_dtype(dtype)
    if dtype is None and input._dtype.kind in "biu":
        dtype = D.int64
    if dtype is not None and dtype is not input._dtype:
        input = input.to(dtype)
    return sum_op(input, dim=_dims(dim, input.ndim, "sum"), keepdim=bool(keepdim))


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Mean over all elements or over ``dim``; needs a floating or complex dtype."""
    dtype = D.as_dtype(dtype)
    if dtype is not None:
        input = input.to(dtype)
    if input._dtype.kind not in "fc":
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {_name(input._dtype)}"
        )
    dims = _dims(dim, input.ndim, "mean")
    shape = input._data.shape
    n = 1
    for d in range(len(shape)) if dims is None else dims:
        n *= shape[d]
    return sum_op(input, dim=dims, keepdim=bool(keepdim)) / n if n else \
        sum_op(input, dim=dims, keepdim=bool(keepdim)) * float("nan")


def _name(d):
    from .._tensor import _TYPE_NAMES

    return _TYPE_NAMES[d]


def amax(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Maximum over ``dim`` (all dims when empty); ties share the gradient."""
    dims = _dims(dim, input.ndim, "amax") if dim != () else None
    _check_nonempty(input, dims, "amax")
    return amax_op(input, dim=dims, keepdim=bool(keepdim))


def max(input: Tensor, dim=None, keepdim: bool = False, *, other=None):  # noqa: A001
    """``max(x)``: the largest element; ``max(x, dim)``: ``(values, indices)`` along ``dim``."""
    if isinstance(dim, Tensor):
        other, dim = dim, None
    if other is not None:
        from .elementwise import maximum

        return maximum(input, other)
    if dim is None:
        _check_nonempty(input, None, "max")
        return amax_op(input, dim=None, keepdim=False)
    d = _wrap_dim(dim, input.ndim, "max")
    if input.ndim == 0:
        return MaxReturn(amax_op(input, dim=None, keepdim=False), _zero_index(input))
    _check_nonempty(input, (d,), "max")
    values, indices = max_dim_op(input, dim=d, keepdim=bool(keepdim))
    return MaxReturn(values, indices)


def _zero_index(input):
    from .._creation import zeros

    return zeros((), dtype=D.int64, device=input.device)


def _check_nonempty(input, dims, fn):
    shape = input._data.shape
    sizes = shape if dims is None else [shape[d] for d in dims]
    if any(s == 0 for s in sizes):
        raise IndexError(
            f"{fn}(): Expected reduction dim to be specified for input.numel() == 0. "
            f"Specify the reduction dim with the 'dim' argument."
            if dims is None else
            f"{fn}(): Expected reduction dim {list(dims)} to have non-zero size."
        )


class MaxReturn(tuple):
    """``(values, indices)`` with names, as ``torch.return_types.max``."""

    __slots__ = ()

    def __new__(cls, values, indices):
        return super().__new__(cls, (values, indices))

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]
