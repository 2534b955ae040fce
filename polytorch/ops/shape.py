"""Shape primitives: reshape, permute, expand, basic indexing and its out-of-place write.

The public functions resolve arguments (``-1`` in shapes, negative dims, index
keys) and mark their results as views (Note [Views and in-place ops on every
backend] in polytorch/_tensor.py).
"""

from __future__ import annotations

from .._tensor import Size, Tensor, _make_view, _wrap_dim
from ._registry import defop

__all__ = ["expand", "flatten", "permute", "reshape", "squeeze", "t", "transpose",
    "unsqueeze"]  # exported as polytorch.NAME

TENSOR_METHODS: dict = {}  # see polytorch/ops/elementwise.py
INPLACE_METHODS: dict = {}


@defop("reshape", promote=None, quiet=False)
def reshape_op(xp, x, *, shape):
    return xp.reshape(x, shape)


@reshape_op.defvjp
def _(ctx, grad):
    return (reshape_op(grad, shape=ctx.node.in_meta[0][0]),)


@defop("permute", promote=None, quiet=False)
def permute_op(xp, x, *, dims):
    return xp.permute_dims(x, dims)


@permute_op.defvjp
def _(ctx, grad):
    dims = ctx.params["dims"]
    inv = [0] * len(dims)
    for i, d in enumerate(dims):
        inv[d] = i
    return (permute_op(grad, dims=tuple(inv)),)


@defop("expand", promote=None, quiet=False)
def expand_op(xp, x, *, shape):
    return xp.broadcast_to(x, shape)


@expand_op.defvjp
def _(ctx, grad):
    return (grad,)  # the engine sums the broadcast dimensions back


@defop("getitem", promote=None, quiet=False)
def getitem_op(xp, x, *, key):
    return x[key]


@getitem_op.defvjp
def _(ctx, grad):
    shape = ctx.node.in_meta[0][0]
    from .._creation import zeros

    base = zeros(shape, dtype=grad._dtype, device=grad._device)
    return (setitem_op(base, grad, key=ctx.params["key"]),)


@defop("setitem", promote=None, needs_backend=True)
def setitem_op(backend, x, value, *, key):
    """``x`` with ``x[key]`` replaced by ``value``, out of place."""
    xp = backend.xp
    if not isinstance(value, (int, float, bool, complex)) and value.dtype != x.dtype:
        value = xp.astype(value, x.dtype)
    if backend.mutable:
        x = xp.asarray(x, copy=True)
    return backend.setitem(x, key, value)


@setitem_op.defvjp
def _(ctx, grad):
    key = ctx.params["key"]
    need_x, need_v = ctx.needs_input_grad
    return (
        setitem_op(grad, 0.0, key=key) if need_x else None,
        getitem_op(grad, key=key) if need_v else None,
    )


# -- public functions ---------------------------------------------------------------


def _shape_arg(shape, fn: str) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
        shape = shape[0]
    out = []
    for s in shape:
        if isinstance(s, Tensor):
            s = int(s)
        if not isinstance(s, int) or isinstance(s, bool):
            raise TypeError(f"{fn}(): shape must be a sequence of ints, got {shape!r}")
        out.append(s)
    return tuple(out)


def _infer_shape(shape: tuple, numel: int, fn: str) -> tuple:
    infer = [i for i, s in enumerate(shape) if s == -1]
    if len(infer) > 1:
        raise RuntimeError(f"{fn}(): only one dimension can be inferred, got shape {list(shape)}")
    if any(s < -1 for s in shape):
        raise RuntimeError(f"{fn}(): invalid shape dimension in {list(shape)}")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if infer:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = shape[: infer[0]] + (numel // known,) + shape[infer[0] + 1:]
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def reshape(input: Tensor, *shape) -> Tensor:
    """``input`` with a new shape (a view when the layout allows, as in PyTorch).

    Example:
        >>> polytorch.arange(6).reshape(2, -1).shape
        polytorch.Size([2, 3])
    """
    shape = _infer_shape(_shape_arg(shape, "reshape"), input.numel(), "reshape")
    if shape == input._data.shape:
        out = _alias_op(input)
    else:
        out = reshape_op(input, shape=shape)
    return _make_view(out, input, ("reshape", shape))


def view(input: Tensor, *shape) -> Tensor:
    """``input`` with a new shape, sharing its data (see ``reshape``)."""
    from .. import _dtype as D

    if len(shape) == 1 and isinstance(shape[0], D.dtype):
        raise NotImplementedError("view(dtype) is not supported yet")
    return reshape(input, *shape)


def _alias_op(input: Tensor) -> Tensor:
    # An identity that still records a node, so that a view has its own grad_fn.
    return reshape_op(input, shape=input._data.shape)


def permute(input: Tensor, *dims) -> Tensor:
    """Reorder dimensions: ``x.permute(2, 0, 1)``."""
    dims = _shape_arg(dims, "permute")
    n = input.ndim
    if len(dims) != n:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {n} is not equal "
            f"to len(dims) = {len(dims)}"
        )
    dims = tuple(_wrap_dim(d, n, "permute") for d in dims)
    if len(set(dims)) != n:
        raise RuntimeError(f"permute(): duplicate dims are not allowed, got {list(dims)}")
    out = permute_op(input, dims=dims)
    return _make_view(out, input, ("permute", dims))


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions."""
    n = input.ndim
    if n == 0:
        return _make_view(_alias_op(input), input, ("reshape", ()))
    d0, d1 = _wrap_dim(dim0, n, "transpose"), _wrap_dim(dim1, n, "transpose")
    dims = list(range(n))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return permute(input, *dims)


def t(input: Tensor) -> Tensor:
    """Transpose a tensor of at most 2 dimensions."""
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return transpose(input, 0, 1) if input.ndim == 2 else reshape(input, input.shape)


def expand(input: Tensor, *sizes) -> Tensor:
    """Broadcast ``input`` to a larger shape without copying; ``-1`` keeps a size."""
    sizes = _shape_arg(sizes, "expand")
    shape = input._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({len(shape)})"
        )
    lead = len(sizes) - len(shape)
    out_shape = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"expand: -1 is not allowed in a leading, non-existing dim {i}")
            out_shape.append(s)
            continue
        cur = shape[i - lead]
        if s == -1:
            s = cur
        if cur != s and cur != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({cur}) at "
                f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                f"{list(shape)}"
            )
        out_shape.append(s)
    out_shape = tuple(out_shape)
    out = expand_op(input, shape=out_shape)
    return _make_view(out, input, ("expand", out_shape))


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size one at ``dim``."""
    n = input.ndim + 1
    d = _wrap_dim(dim, n, "unsqueeze")
    shape = input._data.shape
    return reshape(input, shape[:d] + (1,) + shape[d:])


def squeeze(input: Tensor, dim=None) -> Tensor:
    """Remove dimensions of size one (all of them, or those in ``dim``)."""
    shape = input._data.shape
    if dim is None:
        dims = {i for i, s in enumerate(shape) if s == 1}
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        dims = {_wrap_dim(d, len(shape), "squeeze") for d in dims}
        dims = {d for d in dims if len(shape) and shape[d] == 1}
    return reshape(input, tuple(s for i, s in enumerate(shape) if i not in dims))


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim`` into one."""
    shape = input._data.shape
    if not shape:
        return reshape(input, (1,))
    s = _wrap_dim(start_dim, len(shape), "flatten")
    e = _wrap_dim(end_dim, len(shape), "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    n = 1
    for k in shape[s:e + 1]:
        n *= k
    return reshape(input, shape[:s] + (n,) + shape[e + 1:])


# -- indexing ----------------------------------------------------------------------


def normalize_key(key, shape: tuple):
    """Check a basic index against ``shape`` the way PyTorch does; return a backend key."""
    if not isinstance(key, tuple):
        key = (key,)
    out = []
    dim = 0
    n_real = sum(1 for k in key if k is not None and k is not Ellipsis)
    if sum(1 for k in key if k is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if n_real > len(shape):
        raise IndexError(
            f"too many indices for tensor of dimension {len(shape)} (got {n_real})"
        )
    for k in key:
        if isinstance(k, Tensor):
            if k._dtype.kind in "iu" and k.ndim == 0:
                k = int(k.item())
            else:
                raise NotImplementedError(
                    "indexing with tensors, lists or boolean masks (advanced indexing) is not "
                    "supported yet; use basic indices (ints, slices, None, ...)"
                )
        if k is Ellipsis:
            out.append(k)
            dim += len(shape) - n_real
        elif k is None:
            out.append(k)
        elif isinstance(k, bool):
            raise NotImplementedError("indexing with a Python bool is not supported yet")
        elif isinstance(k, int) or hasattr(k, "__index__") and not isinstance(k, slice):
            if isinstance(k, (list, tuple)):
                raise NotImplementedError(
                    "indexing with lists (advanced indexing) is not supported yet"
                )
            k = int(k.__index__())
            size = shape[dim]
            if k < -size or k >= size:
                raise IndexError(
                    f"index {k} is out of bounds for dimension {dim} with size {size}"
                )
            out.append(k % size)
            dim += 1
        elif isinstance(k, slice):
            if k.step is not None and int(k.step) <= 0:
                raise ValueError("step must be greater than zero")
            # Clamp to the axis as Python does; the array API leaves
            # out-of-bounds starts and stops unspecified.
            start, stop, step = slice(
                *(None if v is None else v.__index__() for v in (k.start, k.stop, k.step))
            ).indices(shape[dim])
            if start >= stop:
                start = stop = 0
            out.append(slice(start, stop, step))
            dim += 1
        else:
            raise NotImplementedError(
                f"indexing with {type(k).__name__} (advanced indexing) is not supported yet; "
                f"use basic indices (ints, slices, None, ...)"
            )
    if Ellipsis not in out and dim < len(shape):
        out.append(Ellipsis)  # the array API wants every dimension indexed
    return tuple(out)


def index(input: Tensor, key) -> Tensor:
    """``input[key]`` for basic keys: ints, slices (positive steps), ``None`` and ``...``."""
    key = normalize_key(key, input._data.shape)
    out = getitem_op(input, key=key)
    return _make_view(out, input, ("getitem", key))
