"""Shape primitives and the functions built on them: views, joins, splits, flips, diagonals.

Primitives: reshape, permute, expand, getitem (basic indexing) and its
out-of-place write setitem, cat, flip, roll, diagonal and diagonal_scatter.
Everything else here (stack, split, repeat, tril, trace...) is composed of them.
The public functions resolve arguments (``-1`` in shapes, negative dims, index
keys) and mark their results as views where PyTorch's are (Note [Views and
in-place ops on every backend] and Note [Logical strides] in polytorch/_tensor.py).
"""

from __future__ import annotations

import builtins

from .. import _dtype as D
from .._tensor import (
    Size,
    Tensor,
    _is_contiguous,
    _layout,
    _make_view,
    _view_strides,
    _wrap_dim,
)
from ._registry import defop

__all__ = [  # exported as polytorch.NAME
    "atleast_1d", "atleast_2d", "broadcast_shapes", "broadcast_tensors", "broadcast_to", "cat",
    "chunk", "concat", "concatenate", "diag", "diagonal", "diagonal_scatter", "expand", "flatten",
    "flip", "fliplr", "flipud", "hstack", "moveaxis", "movedim", "narrow", "permute", "reshape",
    "roll", "select", "split", "squeeze", "stack", "swapaxes", "swapdims", "t", "tile", "trace",
    "transpose", "tril", "triu", "unbind", "unflatten", "unsqueeze", "vstack",
]

TENSOR_METHODS: dict = {}  # filled at the end of this module
INPLACE_METHODS: dict = {}


def _fresh(backend, arr):
    """``arr`` in memory of its own: a NumPy view must not alias a result that is not a view."""
    return backend.xp.asarray(arr, copy=True) if backend.mutable else arr


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


@defop("cat", promote=None, quiet=False)
def cat_op(xp, *arrays, dim):
    return xp.concat(arrays, axis=dim)


@cat_op.defvjp
def _(ctx, grad):
    dim = ctx.params["dim"]
    out = []
    offset = 0
    for (shape, _), need in zip(ctx.node.in_meta, ctx.needs_input_grad):
        n = shape[dim]
        if need:
            key = (slice(None),) * dim + (slice(offset, offset + n, 1), Ellipsis)
            out.append(getitem_op(grad, key=_normal_slices(key, grad._data.shape)))
        else:
            out.append(None)
        offset += n
    return tuple(out)


def _normal_slices(key, shape):
    """``key`` (slices then ``...``) with every slice's start, stop and step explicit."""
    out = []
    for k, size in zip(key, shape):
        if k is Ellipsis:
            break
        out.append(slice(*k.indices(size)))
    return tuple(out) + (Ellipsis,)


@defop("flip", promote=None, needs_backend=True, quiet=False)
def flip_op(backend, x, *, dims):
    if not dims:
        return backend.xp.asarray(x, copy=True)
    return _fresh(backend, backend.xp.flip(x, axis=dims))


@flip_op.defvjp
def _(ctx, grad):
    return (flip_op(grad, dims=ctx.params["dims"]),)


@defop("roll", promote=None, quiet=False)
def roll_op(xp, x, *, shifts, dims):
    return xp.roll(x, shift=shifts, axis=dims)


@roll_op.defvjp
def _(ctx, grad):
    shifts = ctx.params["shifts"]
    back = tuple(-s for s in shifts) if isinstance(shifts, tuple) else -shifts
    return (roll_op(grad, shifts=back, dims=ctx.params["dims"]),)


def _diag_geometry(shape, offset, dim1, dim2):
    """The permutation moving ``dim1, dim2`` last, and the diagonal's start and length."""
    perm = tuple(d for d in range(len(shape)) if d not in (dim1, dim2)) + (dim1, dim2)
    n, m = shape[dim1], shape[dim2]
    length = max(0, min(n - max(0, -offset), m - max(0, offset)))
    start = offset if offset >= 0 else -offset * m
    return perm, n, m, start, length


def _diag_key(start, length, m):
    if length == 0:
        return (Ellipsis, slice(0, 0, 1))
    return (Ellipsis, slice(start, start + (length - 1) * (m + 1) + 1, m + 1))


def _diagonal_array(xp, x, offset, dim1, dim2):
    """The diagonal of ``x`` over ``dim1, dim2`` as the last axis (a strided slice of the
    flattened matrices: the array API has no diagonal)."""
    perm, n, m, start, length = _diag_geometry(x.shape, offset, dim1, dim2)
    y = xp.permute_dims(x, perm)
    flat = xp.reshape(y, tuple(y.shape[:-2]) + (n * m,))
    return flat[_diag_key(start, length, m)]


def _diagonal_scatter_array(backend, x, src, offset, dim1, dim2):
    """``x`` with its diagonal replaced by ``src``, out of place."""
    xp = backend.xp
    perm, n, m, start, length = _diag_geometry(x.shape, offset, dim1, dim2)
    y = xp.permute_dims(x, perm)
    lead = tuple(y.shape[:-2])
    flat = xp.asarray(xp.reshape(y, lead + (n * m,)), copy=True)
    if src.dtype != x.dtype:
        src = xp.astype(src, x.dtype)
    flat = backend.setitem(flat, _diag_key(start, length, m), src)
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return xp.permute_dims(xp.reshape(flat, lead + (n, m)), tuple(inv))


@defop("diagonal", promote=None, needs_backend=True, quiet=False)
def diagonal_op(backend, x, *, offset, dim1, dim2):
    return _fresh(backend, _diagonal_array(backend.xp, x, offset, dim1, dim2))


@diagonal_op.defvjp
def _(ctx, grad):
    from .._creation import zeros

    shape = ctx.node.in_meta[0][0]
    base = zeros(shape, dtype=grad._dtype, device=grad._device)
    return (diagonal_scatter_op(base, grad, **ctx.params),)


@defop("diagonal_scatter", promote=None, needs_backend=True, quiet=False)
def diagonal_scatter_op(backend, x, src, *, offset, dim1, dim2):
    return _diagonal_scatter_array(backend, x, src, offset, dim1, dim2)


@diagonal_scatter_op.defvjp
def _(ctx, grad):
    need_x, need_src = ctx.needs_input_grad
    gx = gsrc = None
    if need_x:
        from .._creation import zeros

        shape = ctx.node.in_meta[1][0]
        gx = diagonal_scatter_op(grad, zeros(shape, dtype=grad._dtype, device=grad._device),
                                 **ctx.params)
    if need_src:
        gsrc = diagonal_op(grad, **ctx.params)
    return gx, gsrc


# -- public functions: views ------------------------------------------------------------


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


_VIEW_ERROR = (
    "view size is not compatible with input tensor's size and stride (at least one dimension "
    "spans across two contiguous subspaces). Use .reshape(...) instead."
)


def _reshape(input: Tensor, shape: tuple, must_view: bool) -> Tensor:
    if shape == input._data.shape:
        return _make_view(_alias_op(input), input, ("reshape", shape))
    viewable = input._view is None or _view_strides(*_layout(input), shape) is not None
    if not viewable:
        if must_view:
            raise RuntimeError(_VIEW_ERROR)
        # A copy, as in PyTorch; it must not alias ``input`` even where the
        # library could reshape its own layout without copying.
        backend = input._device._impl[1]
        if backend.mutable and _reshapes_in_place(backend, input._data, shape):
            from .elementwise import clone

            input = clone(input)
        return reshape_op(input, shape=shape)
    out = reshape_op(input, shape=shape)
    kind = "reshape"
    backend = input._device._impl[1]
    if backend.mutable and not _reshapes_in_place(backend, input._data, shape):
        kind = "reshape_nc"  # the library copied (its layout differs from PyTorch's)
    return _make_view(out, input, (kind, shape))


def _reshapes_in_place(backend, arr, shape) -> bool:
    try:
        backend.xp.reshape(arr, shape, copy=False)
    except TypeError:  # a library without ``copy=``: its reshapes alias when they can
        return True
    except Exception:
        return False
    return True


def reshape(input: Tensor, *shape) -> Tensor:
    """``input`` with a new shape: a view when the layout allows, else a copy (as in PyTorch).

    Example:
        >>> polytorch.arange(6).reshape(2, -1).shape
        polytorch.Size([2, 3])
    """
    shape = _infer_shape(_shape_arg(shape, "reshape"), input.numel(), "reshape")
    return _reshape(input, shape, False)


def view(input: Tensor, *shape) -> Tensor:
    """``input`` with a new shape, sharing its data; refuses layouts only a copy can reshape.

    Example:
        >>> x = polytorch.zeros(3, 4)
        >>> x.t().contiguous().view(-1).shape
        polytorch.Size([12])
    """
    if len(shape) == 1 and isinstance(shape[0], D.dtype):
        raise NotImplementedError("view(dtype) is not supported yet")
    shape = _infer_shape(_shape_arg(shape, "view"), input.numel(), "view")
    return _reshape(input, shape, True)


def _alias_op(input: Tensor) -> Tensor:
    # An identity that still records a node, so that a view has its own grad_fn.
    return reshape_op(input, shape=input._data.shape)


def is_contiguous(input: Tensor, memory_format=None) -> bool:
    """Whether ``input``'s elements are laid out row-major without gaps (Note [Logical strides])."""
    return input._view is None or _is_contiguous(*_layout(input))


def stride(input: Tensor, dim: int | None = None):
    """PyTorch's strides of ``input``, in elements (Note [Logical strides])."""
    strides = _layout(input)[1]
    if dim is None:
        return strides
    return strides[_wrap_dim(dim, input.ndim, "stride")]


def contiguous(input: Tensor, memory_format=None) -> Tensor:
    """``input`` itself when contiguous, else a contiguous copy."""
    if is_contiguous(input):
        return input
    from .elementwise import clone

    return clone(input)


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
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    out = permute_op(input, dims=dims)
    return _make_view(out, input, ("permute", dims))


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions (a view)."""
    n = input.ndim
    if n == 0:
        _wrap_dim(dim0, n, "transpose")
        _wrap_dim(dim1, n, "transpose")
        return _make_view(_alias_op(input), input, ("reshape", ()))
    d0, d1 = _wrap_dim(dim0, n, "transpose"), _wrap_dim(dim1, n, "transpose")
    dims = list(range(n))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return permute(input, *dims)


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    """Transpose a tensor of at most 2 dimensions."""
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return transpose(input, 0, 1) if input.ndim == 2 else _reshape(input, input._data.shape, True)


def movedim(input: Tensor, source, destination) -> Tensor:
    """Move dimensions ``source`` to positions ``destination`` (a view)."""
    n = input.ndim
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(src)} dims) should "
            f"contain the same number of dims as destination ({list(dst)} dims)"
        )
    src = [_wrap_dim(d, n, "movedim") for d in src]
    dst = [_wrap_dim(d, n, "movedim") for d in dst]
    for name, ds in (("source", src), ("destination", dst)):
        if len(set(ds)) != len(ds):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(ds)})")
    order = [-1] * builtins.max(n, 1)
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(n) if d not in src)
    order = [next(rest) if o == -1 else o for o in order[:n]]
    return permute(input, *order)


moveaxis = movedim


def expand(input: Tensor, *sizes) -> Tensor:
    """Broadcast ``input`` to a larger shape without copying; ``-1`` keeps a size."""
    sizes = _shape_arg(sizes, "expand")
    shape = input._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError(
            f"expand(polytorch.{_type_name(input)}{{{list(shape)}}}, size={list(sizes)}): the "
            f"number of sizes provided ({len(sizes)}) must be greater or equal to the number of "
            f"dimensions in the tensor ({len(shape)})"
        )
    lead = len(sizes) - len(shape)
    out_shape = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(
                    f"The expanded size of the tensor ({s}) isn't allowed in a leading, "
                    f"non-existing dimension {i}"
                )
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


def _type_name(t) -> str:
    from .._tensor import _TYPE_NAMES

    return _TYPE_NAMES[t._dtype] + "Tensor"


def broadcast_to(input: Tensor, size) -> Tensor:
    """``input`` expanded to ``size`` (a view)."""
    return expand(input, tuple(size))


def broadcast_shapes(*shapes) -> Size:
    """The shape that tensors of ``shapes`` broadcast to."""
    out: list = []
    for shape in shapes:
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        n = builtins.max(len(out), len(shape))
        a = [1] * (n - len(out)) + out
        b = [1] * (n - len(shape)) + list(shape)
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y and x != 1 and y != 1:
                raise RuntimeError(
                    f"The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                    f"non-singleton dimension {i}"
                )
            a[i] = y if x == 1 else x
        out = a
    return Size(out)


def broadcast_tensors(*tensors) -> tuple:
    """The tensors expanded to their common shape (views)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size one at ``dim`` (a view)."""
    d = _wrap_dim(dim, input.ndim + 1, "unsqueeze")
    shape = input._data.shape
    return _reshape(input, shape[:d] + (1,) + shape[d:], True)


def squeeze(input: Tensor, dim=None) -> Tensor:
    """Remove dimensions of size one (all of them, or those in ``dim``) (a view)."""
    shape = input._data.shape
    if dim is None:
        dims = {i for i, s in enumerate(shape) if s == 1}
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        dims = {_wrap_dim(d, len(shape), "squeeze") for d in dims}
        dims = {d for d in dims if len(shape) and shape[d] == 1}
    return _reshape(input, tuple(s for i, s in enumerate(shape) if i not in dims), True)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim`` into one (a view when the layout allows)."""
    shape = input._data.shape
    if not shape:
        return reshape(input, (1,))
    s = _wrap_dim(start_dim, len(shape), "flatten")
    e = _wrap_dim(end_dim, len(shape), "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    n = 1
    for k in shape[s:e + 1]:
        n *= k
    return reshape(input, shape[:s] + (n,) + shape[e + 1:])


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Split dimension ``dim`` into ``sizes`` (one of them may be -1)."""
    d = _wrap_dim(dim, input.ndim, "unflatten")
    sizes = _shape_arg((sizes,), "unflatten")
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    size = input._data.shape[d]
    try:
        sizes = _infer_shape(sizes, size, "unflatten")
    except RuntimeError:
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {d} "
            f"({size}) in the input tensor"
        ) from None
    shape = input._data.shape
    return reshape(input, shape[:d] + sizes + shape[d + 1:])


def atleast_1d(input: Tensor) -> Tensor:
    return reshape(input, (1,)) if input.ndim == 0 else input


def atleast_2d(input: Tensor) -> Tensor:
    if input.ndim >= 2:
        return input
    return reshape(input, (1, -1) if input.ndim == 1 else (1, 1))


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """``input`` indexed with ``index`` along ``dim`` (a view without that dimension)."""
    n = input.ndim
    if n == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, n, "select")
    size = input._data.shape[d]
    if index < -size or index >= size:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(input.shape)} at "
            f"dimension {d}"
        )
    return index_basic(input, (slice(None),) * d + (index,))


def narrow(input: Tensor, dim: int, start, length: int) -> Tensor:
    """Elements ``start .. start + length`` along ``dim`` (a view)."""
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, input.ndim, "narrow")
    start = int(start)
    size = input._data.shape[d]
    if start < -size or start > size:
        raise IndexError(
            f"start out of range (expected to be in range of [{-size}, {size}], but got {start})"
        )
    if start < 0:
        start += size
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > size:
        raise RuntimeError(
            f"start ({start}) + length ({length}) exceeds dimension size ({size})."
        )
    return index_basic(input, (slice(None),) * d + (slice(start, start + length),))


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Pieces of ``split_size`` (the last may be smaller) or of the listed sizes, as views."""
    if tensor.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = _wrap_dim(dim, tensor.ndim, "split")
    size = tensor._data.shape[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = [int(s) for s in split_size_or_sections]
        if any(s < 0 for s in sizes) or builtins.sum(sizes) != size:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's "
                f"size at dimension {d}), but got split_sizes={sizes}"
            )
    else:
        step = int(split_size_or_sections)
        if step < 0:
            raise RuntimeError(
                f"split expects split_size be non-negative, but got split_size={step}"
            )
        if step == 0 and size != 0:
            raise RuntimeError(
                f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}"
            )
        count = builtins.max(-(-size // step), 1) if step else 1
        sizes = [step] * count
        sizes[-1] = step - (step * count - size)
    return _pieces(tensor, d, sizes)


def _pieces(tensor, d, sizes) -> tuple:
    out = []
    offset = 0
    for s in sizes:
        out.append(index_basic(tensor, (slice(None),) * d + (slice(offset, offset + s),)))
        offset += s
    return tuple(out)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into ``chunks`` pieces of equal size (the last may be smaller; fewer may result)."""
    if input.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = _wrap_dim(dim, input.ndim, "chunk")
    size = input._data.shape[d]
    step = -(-size // chunks)
    if step == 0 and size == 0:
        return _pieces(input, d, [0] * chunks)
    return split(input, step, d)


def unbind(input: Tensor, dim: int = 0) -> tuple:
    """The slices along ``dim``, without that dimension (views)."""
    if input.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = _wrap_dim(dim, input.ndim, "unbind")
    return tuple(index_basic(input, (slice(None),) * d + (i,))
                 for i in range(input._data.shape[d]))


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal over ``dim1, dim2`` as the last dimension (a view)."""
    d1 = _wrap_dim(dim1, input.ndim, "diagonal")
    d2 = _wrap_dim(dim2, input.ndim, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    params = {"offset": int(offset), "dim1": d1, "dim2": d2}
    out = diagonal_op(input, **params)
    return _make_view(out, input, ("diagonal", (params["offset"], d1, d2)))


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0,
                     dim2: int = 1) -> Tensor:
    """``input`` with its diagonal over ``dim1, dim2`` replaced by ``src`` (a copy)."""
    d1 = _wrap_dim(dim1, input.ndim, "diagonal_scatter")
    d2 = _wrap_dim(dim2, input.ndim, "diagonal_scatter")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    from .._tensor import _layout as _lay

    want = _lay(diagonal(input.detach(), offset, d1, d2))[0]
    if tuple(src.shape) != tuple(want):
        raise RuntimeError(
            f"diagonal_scatter(): expected src to have a size equal to the diagonal of the "
            f"input. Got {list(src.shape)} for a diagonal of shape {list(want)}"
        )
    if src._dtype is not input._dtype:
        src = src.to(input._dtype)
    return diagonal_scatter_op(input, src, offset=int(offset), dim1=d1, dim2=d2)


# -- public functions: copies --------------------------------------------------------------


def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along ``dim`` (promoting dtypes; 1-D empty tensors are skipped).

    Example:
        >>> polytorch.cat([polytorch.zeros(2, 3), polytorch.ones(1, 3)]).shape
        polytorch.Size([3, 3])
    """
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(
            f"cat(): argument 'tensors' (position 1) must be tuple of Tensors, not "
            f"{type(tensors).__name__}"
        )
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}"
            )
        if t.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    dtype = tensors[0]._dtype
    for t in tensors[1:]:
        dtype = D.promote_types(dtype, t._dtype)
    kept = [(i, t) for i, t in enumerate(tensors) if t._data.shape != (0,)]
    if not kept:
        kept = list(enumerate(tensors))
    ref = kept[0][1]
    d = _wrap_dim(dim, ref.ndim, "cat")
    shape = ref._data.shape
    for i, t in kept:
        if t.ndim != ref.ndim:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {ref.ndim} and {t.ndim}"
            )
        for j, (a, b) in enumerate(zip(shape, t._data.shape)):
            if j != d and a != b:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size {a} "
                    f"but got size {b} for tensor number {i} in the list."
                )
    args = [t if t._dtype is dtype else t.to(dtype) for _, t in kept]
    return cat_op(*args, dim=d)


concat = concatenate = cat


def stack(tensors, dim: int = 0) -> Tensor:
    """Join tensors of one shape along a new dimension ``dim``."""
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(
            f"stack(): argument 'tensors' (position 1) must be tuple of Tensors, not "
            f"{type(tensors).__name__}"
        )
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 "
                f"and {list(t.shape)} at entry {i}"
            )
    d = _wrap_dim(dim, len(shape) + 1, "stack")
    return cat([unsqueeze(t, d) for t in tensors], d)


def hstack(tensors) -> Tensor:
    """Join along dimension 1 (dimension 0 for 1-D tensors)."""
    tensors = [atleast_1d(t) for t in tensors]
    return cat(tensors, 0 if tensors and tensors[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """Join along dimension 0, 1-D tensors as rows."""
    return cat([atleast_2d(t) for t in tensors], 0)


def flip(input: Tensor, dims) -> Tensor:
    """Reverse the order of elements along ``dims`` (a copy)."""
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    wrapped = tuple(_wrap_dim(d, input.ndim, "flip") for d in dims)
    for d in wrapped:
        if wrapped.count(d) > 1:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    if input.ndim == 0:
        wrapped = ()
    return flip_op(input, dims=tuple(sorted(wrapped)))


def fliplr(input: Tensor) -> Tensor:
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input: Tensor) -> Tensor:
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Shift elements cyclically along ``dims`` (the flattened tensor when None)."""
    shifts = (shifts,) if isinstance(shifts, int) else tuple(int(s) for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return roll_op(input, shifts=shifts[0], dims=None)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(
            f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}"
        )
    dims = tuple(_wrap_dim(d, input.ndim, "roll") for d in dims)
    if input.ndim == 0:
        return roll_op(input, shifts=shifts[0], dims=None)
    return roll_op(input, shifts=shifts, dims=dims)


def repeat(input: Tensor, *sizes) -> Tensor:
    """Tile ``input`` ``sizes[i]`` times along each dimension (a copy)."""
    sizes = _shape_arg(sizes, "repeat")
    if len(sizes) < input.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions "
            "of tensor"
        )
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(sizes)}")
    shape = (1,) * (len(sizes) - input.ndim) + tuple(input._data.shape)
    # (r0, s0, r1, s1, ...) broadcast from (1, s0, 1, s1, ...), merged pairwise.
    inter = []
    for s in shape:
        inter += [1, s]
    big = []
    for r, s in zip(sizes, shape):
        big += [r, s]
    x = expand(reshape(input, tuple(inter)), tuple(big))
    return reshape(x, tuple(r * s for r, s in zip(sizes, shape)))


def tile(input: Tensor, dims) -> Tensor:
    """Repeat ``input`` by ``dims`` (padded with leading ones to ``input.ndim``)."""
    dims = _shape_arg((dims,), "tile")
    dims = (1,) * (input.ndim - len(dims)) + dims
    return repeat(input, dims)


def _tri(input: Tensor, diagonal: int, lower: bool, fn: str) -> Tensor:
    if input.ndim < 2:
        raise RuntimeError(f"{fn}: input tensor must have at least 2 dimensions")
    from .._creation import arange, zeros
    from .elementwise import where

    n, m = input._data.shape[-2:]
    rows = reshape(arange(n, device=input._device), (n, 1))
    cols = arange(m, device=input._device)
    offset = cols - rows
    mask = offset <= diagonal if lower else offset >= diagonal
    return where(mask, input, zeros((), dtype=input._dtype, device=input._device))


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle (on and below ``diagonal``) of the last two dimensions."""
    return _tri(input, diagonal, True, "tril")


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle (on and above ``diagonal``) of the last two dimensions."""
    return _tri(input, diagonal, False, "triu")


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D tensor as the ``diagonal`` of a square matrix, or a matrix's diagonal (copies)."""
    if input.ndim == 1:
        from .._creation import zeros

        n = input._data.shape[0] + abs(diagonal)
        base = zeros((n, n), dtype=input._dtype, device=input._device)
        return diagonal_scatter_op(base, input, offset=int(diagonal), dim1=0, dim2=1)
    if input.ndim == 2:
        return diagonal_op(input, offset=int(diagonal), dim1=0, dim2=1)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


def trace(input: Tensor) -> Tensor:
    """The sum of the main diagonal of a matrix."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    from .reduction import sum as _sum

    return _sum(diagonal_op(input, offset=0, dim1=0, dim2=1))


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
    if Ellipsis not in out:
        # The array API wants every dimension indexed; and with a trailing
        # ``...`` NumPy returns a 0-d view, not a scalar copy, for ``x[0]`` of a vector.
        out.append(Ellipsis)
    return tuple(out)


def index_basic(input: Tensor, key) -> Tensor:
    """``input[key]`` for basic keys: ints, slices (positive steps), ``None`` and ``...``."""
    key = normalize_key(key, input._data.shape)
    out = getitem_op(input, key=key)
    return _make_view(out, input, ("getitem", key))


index = index_basic


TENSOR_METHODS.update({
    "reshape": reshape, "view": view, "permute": permute, "transpose": transpose,
    "swapaxes": swapaxes, "swapdims": swapdims, "t": t, "movedim": movedim, "moveaxis": moveaxis,
    "expand": expand, "broadcast_to": broadcast_to, "unsqueeze": unsqueeze, "squeeze": squeeze,
    "flatten": flatten, "unflatten": unflatten, "select": select, "narrow": narrow,
    "split": split, "chunk": chunk, "unbind": unbind, "diagonal": diagonal, "flip": flip,
    "fliplr": fliplr, "flipud": flipud, "roll": roll, "repeat": repeat, "tile": tile,
    "tril": tril, "triu": triu, "diag": diag, "trace": trace, "contiguous": contiguous,
    "is_contiguous": is_contiguous, "stride": stride, "diagonal_scatter": diagonal_scatter,
    "expand_as": lambda self, other: expand(self, other.shape),
    "view_as": lambda self, other: view(self, other.shape),
    "reshape_as": lambda self, other: reshape(self, other.shape),
})
INPLACE_METHODS.update({
    "tril_": (tril, None),
    "triu_": (triu, None),
})
