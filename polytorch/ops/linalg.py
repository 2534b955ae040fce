"""Linear algebra: products (the matmul family, einsum, tensordot, kron, cross) and
the ``polytorch.linalg`` decompositions, with PyTorch's gradient rules.

Note [Linear algebra errors on every backend]
PyTorch raises ``torch.linalg.LinAlgError`` (a RuntimeError) when ``inv`` or
``solve`` meet a singular matrix or ``cholesky`` a matrix that is not positive
definite. NumPy (and array_api_strict, which runs NumPy) raise their own
LinAlgError; JAX returns NaN or inf without a word. So each such forward runs
through ``_lapack``, which turns a library's LinAlgError into ``_Failed`` and
also raises it when finite input gave a non-finite result. The public wrapper
turns ``_Failed`` into polytorch's ``LinAlgError`` with PyTorch's message, whose
details (the batch element, the zero pivot, the minor that is not positive
definite) are found on a host copy of the input: the failing path alone pays
for it, and every backend reports the same thing.

Note [Which triangle a Hermitian solver reads]
``cholesky``, ``eigh`` and ``eigvalsh`` read one triangle of their input, as
LAPACK does; JAX instead symmetrizes ``(A + A^T) / 2``. The forwards here
rebuild the symmetric matrix from the triangle PyTorch reads before calling the
backend, so that every backend gives PyTorch's answer for any input. Gradients
are PyTorch's symmetric ones, so gradchecks differentiate a symmetrized input.
"""

from __future__ import annotations

import math
import warnings
from collections import namedtuple

from .. import _dtype as D
from .._tensor import Tensor, _wrap_dim
from . import elementwise as E
from ._registry import defop
from .shape import expand_op, permute_op, reshape_op

__all__ = [  # exported as polytorch.NAME
    "addmm", "addmv", "baddbmm", "bmm", "chain_matmul", "cross", "det", "dot", "einsum", "ger",
    "inner", "inverse", "kron", "logdet", "matmul", "matrix_power", "mm", "mv", "outer",
    "pinverse", "slogdet", "tensordot", "vdot",
]


class LinAlgError(RuntimeError):
    """A matrix the operation cannot handle: singular, or not positive definite."""


class _Failed(Exception):
    """A backend's linear algebra routine failed (Note [Linear algebra errors on every backend])."""


_TORCH_NAMES = {
    "float16": "Half", "bfloat16": "BFloat16", "float32": "Float", "float64": "Double",
    "complex64": "ComplexFloat", "complex128": "ComplexDouble", "int64": "Long", "int32": "Int",
    "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
}


def _tname(dt: D.dtype) -> str:
    return _TORCH_NAMES.get(dt.name, dt.name)


def _require_tensor(fn: str, **args) -> None:
    for name, value in args.items():
        if not isinstance(value, Tensor):
            raise TypeError(
                f"{fn}(): argument '{name}' must be Tensor, not {type(value).__name__}")


# -- small helpers written in polytorch ops (so gradients of gradients work) ------------


def _mT(x: Tensor) -> Tensor:
    n = x.ndim
    return permute_op(x, dims=tuple(range(n - 2)) + (n - 1, n - 2))


def _eye(n: int, like: Tensor) -> Tensor:
    from .._creation import eye

    return eye(n, dtype=like.dtype, device=like.device)


def _diag_embed(v: Tensor) -> Tensor:
    """A batch of diagonal matrices with ``v`` (..., n) on their diagonals."""
    return v.unsqueeze(-1) * _eye(v.shape[-1], v)


def _diagonal(a: Tensor) -> Tensor:
    """The diagonals (..., n) of square matrices (..., n, n)."""
    return (a * _eye(a.shape[-1], a)).sum(dim=-1)


def _tri_mask(n: int, m: int, k: int, device, lower: bool) -> Tensor:
    from .._creation import arange

    offset = arange(m, device=device).unsqueeze(0) - arange(n, device=device).unsqueeze(1)
    return offset <= k if lower else offset >= k


def _tril(x: Tensor, k: int = 0) -> Tensor:
    return E.where(_tri_mask(x.shape[-2], x.shape[-1], k, x.device, True), x, 0)


def _triu(x: Tensor, k: int = 0) -> Tensor:
    return E.where(_tri_mask(x.shape[-2], x.shape[-1], k, x.device, False), x, 0)


def _sign(x: Tensor) -> Tensor:
    return E.where(x > 0, 1.0, E.where(x < 0, -1.0, 0.0)).to(x.dtype)


def _abs(x: Tensor) -> Tensor:
    return E.where(x < 0, -x, x)


def _sum_to_shape(x: Tensor, shape) -> Tensor:
    from ..autograd._engine import _sum_to

    return _sum_to(x, tuple(shape))


# ======================================================================================
# Products
# ======================================================================================


@defop("matmul", promote="match", save=(0, 1))
def matmul_op(xp, a, b):
    return xp.matmul(a, b)


@matmul_op.defvjp
def _(ctx, grad):
    a, b = ctx.inputs
    need_a, need_b = ctx.needs_input_grad
    a_vec, b_vec = a.ndim == 1, b.ndim == 1
    # Lift vectors to matrices so one rule covers every case; the engine sums
    # broadcast batch dimensions back to each input's shape.
    A = a.unsqueeze(0) if a_vec else a
    B = b.unsqueeze(-1) if b_vec else b
    G = grad
    if a_vec and b_vec:  # a dot product: the gradient is 0-d
        G = reshape_op(G, shape=(1, 1))
    elif a_vec:
        G = G.unsqueeze(-2)
    elif b_vec:
        G = G.unsqueeze(-1)
    ga = gb = None
    if need_a:
        ga = matmul_op(G, _swap_last(B))
        if a_vec:
            ga = ga.squeeze(-2)
    if need_b:
        gb = matmul_op(_swap_last(A), G)
        if b_vec:
            gb = gb.squeeze(-1)
    return ga, gb


def _swap_last(x):
    n = x.ndim
    return permute_op(x, dims=tuple(range(n - 2)) + (n - 1, n - 2))


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with NumPy/PyTorch broadcasting of batch dimensions.

    Example:
        >>> (polytorch.ones(2, 3) @ polytorch.ones(3, 4)).shape
        polytorch.Size([2, 4])
    """
    if not isinstance(other, Tensor) or not isinstance(input, Tensor):
        raise TypeError(
            f"matmul(): arguments must be tensors, got {type(input).__name__} and "
            f"{type(other).__name__}"
        )
    sa, sb = input._data.shape, other._data.shape
    if not sa or not sb:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {len(sa)}D and "
            f"{len(sb)}D"
        )
    k_a = sa[-1]
    k_b = sb[0] if len(sb) == 1 else sb[-2]
    if k_a != k_b:
        if len(sa) == 1 and len(sb) == 1:
            raise RuntimeError(
                f"inconsistent tensor size, expected tensor [{sa[0]}] and src [{sb[0]}] to have "
                f"the same number of elements, but got {sa[0]} and {sb[0]} elements respectively"
            )
        ma = "x".join(map(str, sa if len(sa) > 1 else (1,) + sa))
        mb = "x".join(map(str, sb if len(sb) > 1 else sb + (1,)))
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({ma} and {mb})")
    if len(sa) > 2 and len(sb) > 2:
        ba, bb = sa[:-2], sb[:-2]
        for x, y in zip(reversed(ba), reversed(bb)):
            if x != y and x != 1 and y != 1:
                raise RuntimeError(
                    f"matmul: batch dimensions {list(ba)} and {list(bb)} do not broadcast "
                    f"(shapes {list(sa)} and {list(sb)})"
                )
    return matmul_op(input, other)


def _same_dtype(msg: str, a: Tensor, b: Tensor) -> None:
    if a.dtype is not b.dtype:
        raise RuntimeError(msg.format(a=_tname(a.dtype), b=_tname(b.dtype)))


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """The product of two matrices (no broadcasting).

    Example:
        >>> polytorch.mm(polytorch.ones(2, 3), polytorch.ones(3, 4)).shape
        polytorch.Size([2, 4])
    """
    _require_tensor("mm", input=input, mat2=mat2)
    if input.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if input.shape[1] != mat2.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({input.shape[0]}x{input.shape[1]} and "
            f"{mat2.shape[0]}x{mat2.shape[1]})")
    if input.dtype is not mat2.dtype:
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {_ctype(input.dtype)} != "
            f"{_ctype(mat2.dtype)}")
    return matmul_op(input, mat2)


_C_TYPES = {"float32": "float", "float64": "double", "int64": "long int", "int32": "int",
            "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool",
            "float16": "c10::Half", "bfloat16": "c10::BFloat16",
            "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def _ctype(dt: D.dtype) -> str:
    return _C_TYPES.get(dt.name, dt.name)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product of (b, n, m) and (b, m, p) tensors."""
    _require_tensor("bmm", input=input, mat2=mat2)
    if input.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    b, _, m = input.shape
    if tuple(mat2.shape[:2]) != (b, m):
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{b}, {m}] but got: "
            f"[{mat2.shape[0]}, {mat2.shape[1]}].")
    _same_dtype("expected scalar type {a} but found {b}", input, mat2)
    return matmul_op(input, mat2)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix-vector product."""
    _require_tensor("mv", input=input, vec=vec)
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(
            f"vector + matrix @ vector expected, got 1, {input.ndim}, {vec.ndim}")
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(
            f"size mismatch, got input ({input.shape[0]}), mat ({input.shape[0]}x"
            f"{input.shape[1]}), vec ({vec.shape[0]})")
    _same_dtype("expected scalar type {a} but found {b}", input, vec)
    return matmul_op(input, vec)


def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """The dot product of two 1-D tensors (a 0-d tensor)."""
    _require_tensor("dot", input=input, tensor=tensor)
    return _dot("dot", input, tensor)


def _dot(fn, a, b):
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape[0] != b.shape[0]:
        n, m = a.shape[0], b.shape[0]
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to have the same "
            f"number of elements, but got {n} and {m} elements respectively")
    _same_dtype(fn + " : expected both vectors to have same dtype, but found {a} and {b}", a, b)
    return matmul_op(a, b)


def vdot(input: Tensor, other: Tensor) -> Tensor:
    """The dot product of two 1-D tensors, conjugating the first (real tensors: ``dot``)."""
    _require_tensor("vdot", input=input, other=other)
    if input.is_complex():
        input = input.conj()
    return _dot("vdot", input, other)


def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sum of products over the last dimension; 0-d operands multiply."""
    _require_tensor("inner", input=input, other=other)
    if input.ndim == 0 or other.ndim == 0:
        return E.mul(input, other)
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(
            f"inner() the last dimension must match on both input tensors but got shapes "
            f"{list(input.shape)} and {list(other.shape)}")
    if input.dtype is not other.dtype:
        raise RuntimeError("both inputs should have same dtype")
    return _tensordot(input, other, [input.ndim - 1], [other.ndim - 1])


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """The outer product of two 1-D tensors (types promote, as for ``*``)."""
    _require_tensor("outer", input=input, vec2=vec2)
    for name, v in (("self", input), ("vec2", vec2)):
        if v.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {v.ndim}-D")
    return E.mul(input.unsqueeze(-1), vec2)


ger = outer


def _scaled(x: Tensor, s) -> Tensor:
    return x if isinstance(s, (int, float)) and s == 1 else E.mul(x, s)


def _addprod(input, prod, beta, alpha, target):
    if input.dtype is not prod.dtype:
        input = input.to(prod.dtype) if prod.dtype.kind in "fc" else input
    try:
        input = expand_op(input, shape=target) if tuple(input.shape) != target else input
    except Exception:
        raise RuntimeError(
            f"The expanded size of the tensor ({target[-1]}) must match the existing size "
            f"({input.shape[-1]}) at non-singleton dimension {len(target) - 1}.  Target sizes: "
            f"{list(target)}.  Tensor sizes: {list(input.shape)}") from None
    if prod.dtype.kind not in "fc":
        for name, v in (("beta", beta), ("alpha", alpha)):
            if isinstance(v, float) and not float(v).is_integer():
                raise RuntimeError(
                    f"For integral input tensors, argument {name} must not be a floating point "
                    f"number.")
    out = _scaled(prod, alpha)
    if isinstance(beta, (int, float)) and beta == 0:
        return out  # PyTorch ignores input (its NaNs too) when beta is 0
    return E.add(_scaled(input, beta), out)


def _check_broadcast_to(input: Tensor, target: tuple):
    shape = tuple(input.shape)
    if len(shape) > len(target):
        return False
    for x, y in zip(reversed(shape), reversed(target)):
        if x != y and x != 1:
            return False
    return True


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)``; ``input`` broadcasts."""
    _require_tensor("addmm", input=input, mat1=mat1, mat2=mat2)
    for name, m in (("mat1", mat1), ("mat2", mat2)):
        if m.ndim != 2:
            raise RuntimeError(f"{name} must be a matrix, got {m.ndim}-D tensor")
    prod = mm(mat1, mat2)
    target = tuple(prod.shape)
    if not _check_broadcast_to(input, target):
        _addprod_error(input, target)
    return _addprod(input, prod, beta, alpha, target)


def _addprod_error(input, target):
    raise RuntimeError(
        f"The expanded size of the tensor ({target[-1]}) must match the existing size "
        f"({input.shape[-1] if input.ndim else 1}) at non-singleton dimension "
        f"{len(target) - 1}.  Target sizes: {list(target)}.  Tensor sizes: {list(input.shape)}")


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat @ vec)``."""
    _require_tensor("addmv", input=input, mat=mat, vec=vec)
    if mat.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.ndim}, {mat.ndim}, "
                           f"{vec.ndim}")
    if mat.shape[1] != vec.shape[0] or not _check_broadcast_to(input, (mat.shape[0],)):
        raise RuntimeError(
            f"size mismatch, got input ({input.shape[0] if input.ndim else 1}), mat "
            f"({mat.shape[0]}x{mat.shape[1]}), vec ({vec.shape[0]})")
    if not (input.dtype is mat.dtype is vec.dtype):
        raise RuntimeError(
            f"addmv input tensors must have the same dtype, but got {_tname(input.dtype)}, "
            f"{_tname(mat.dtype)}, and {_tname(vec.dtype)}")
    return _addprod(input, matmul_op(mat, vec), beta, alpha, (mat.shape[0],))


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * bmm(batch1, batch2)``."""
    _require_tensor("baddbmm", input=input, batch1=batch1, batch2=batch2)
    prod = bmm(batch1, batch2)
    target = tuple(prod.shape)
    if not _check_broadcast_to(input, target):
        _addprod_error(input, target)
    return _addprod(input, prod, beta, alpha, target)


def _tensordot(a: Tensor, b: Tensor, dims_a, dims_b) -> Tensor:
    """Contract ``a``'s ``dims_a`` with ``b``'s ``dims_b`` by one matrix product."""
    free_a = [d for d in range(a.ndim) if d not in dims_a]
    free_b = [d for d in range(b.ndim) if d not in dims_b]
    k = math.prod(a.shape[d] for d in dims_a)
    ma = math.prod(a.shape[d] for d in free_a)
    nb = math.prod(b.shape[d] for d in free_b)
    A = reshape_op(permute_op(a, dims=tuple(free_a + list(dims_a))), shape=(ma, k))
    B = reshape_op(permute_op(b, dims=tuple(list(dims_b) + free_b)), shape=(k, nb))
    out_shape = tuple(a.shape[d] for d in free_a) + tuple(b.shape[d] for d in free_b)
    return reshape_op(matmul_op(A, B), shape=out_shape)


def tensordot(a: Tensor, b: Tensor, dims=2, out=None) -> Tensor:
    """Sum of products over ``dims``: the last/first ``dims`` dimensions, or two lists.

    Example:
        >>> polytorch.tensordot(polytorch.ones(2, 3, 4), polytorch.ones(3, 4, 5)).shape
        polytorch.Size([2, 5])
    """
    _require_tensor("tensordot", a=a, b=b)
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a.ndim or dims > b.ndim:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        dims_a = list(range(-dims, 0))  # PyTorch's errors name a's dims from the end
        dims_b = list(range(dims))
    else:
        dims_a, dims_b = dims
        dims_a = [dims_a] if isinstance(dims_a, int) else list(dims_a)
        dims_b = [dims_b] if isinstance(dims_b, int) else list(dims_b)
        if len(dims_a) != len(dims_b):
            raise RuntimeError("both dimension lists should have same length")
    if a.dtype is not b.dtype:
        raise RuntimeError("both inputs should have same dtype")
    da = [_wrap_dim(d, a.ndim) for d in dims_a]
    db = [_wrap_dim(d, b.ndim) for d in dims_b]
    for i, j, oi, oj in zip(da, db, dims_a, dims_b):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(
                f"contracted dimensions need to match, but first has size {a.shape[i]} in dim "
                f"{oi} and second has size {b.shape[j]} in dim {oj}")
    for ds in (da, db):
        if len(set(ds)) != len(ds):
            raise RuntimeError(f"dim {ds} appears multiple times in the list of dims")
    return _tensordot(a, b, da, db)


def kron(input: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product (types promote, as for ``*``)."""
    _require_tensor("kron", input=input, other=other)
    n = max(input.ndim, other.ndim)
    sa = (1,) * (n - input.ndim) + tuple(input.shape)
    sb = (1,) * (n - other.ndim) + tuple(other.shape)
    a = reshape_op(input, shape=tuple(x for s in sa for x in (s, 1)))
    b = reshape_op(other, shape=tuple(x for s in sb for x in (1, s)))
    return E.mul(a, b).reshape(tuple(x * y for x, y in zip(sa, sb)))


@defop("cross", promote=None, save={0: (1,), 1: (0,)})
def cross_op(xp, a, b, *, dim):
    return xp.linalg.cross(a, b, axis=dim)


@cross_op.defvjp
def _(ctx, grad):
    a, b = ctx.inputs
    dim = ctx.params["dim"]
    ga = cross_op(b, grad, dim=dim) if ctx.needs_input_grad[0] else None
    gb = cross_op(grad, a, dim=dim) if ctx.needs_input_grad[1] else None
    return ga, gb


def _broadcast_shapes(*shapes) -> tuple:
    n = max(len(s) for s in shapes)
    out = [1] * n
    for s in shapes:
        s = (1,) * (n - len(s)) + tuple(s)
        for i, (x, y) in enumerate(zip(out, s)):
            if x != y and x != 1 and y != 1:
                raise RuntimeError(
                    f"The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                    f"non-singleton dimension {i}")
            out[i] = y if x == 1 else x
    return tuple(out)


def _cross(input, other, dim):
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    _same_dtype("expected scalar type {a} but found {b}", input, other)
    shape = _broadcast_shapes(input.shape, other.shape)
    dim = _wrap_dim(dim, len(shape))
    na = input.shape[dim - len(shape) + input.ndim] if dim - len(shape) + input.ndim >= 0 else 1
    nb = other.shape[dim - len(shape) + other.ndim] if dim - len(shape) + other.ndim >= 0 else 1
    if na != 3 or nb != 3:
        raise RuntimeError(
            f"linalg.cross: inputs dimension {dim} must have length 3. Got {na} and {nb}")
    if tuple(input.shape) != shape:
        input = expand_op(input, shape=shape)
    if tuple(other.shape) != shape:
        other = expand_op(other, shape=shape)
    return cross_op(input, other, dim=dim - len(shape))


def cross(input: Tensor, other: Tensor, dim=None) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (default: the first of size 3, deprecated)."""
    _require_tensor("cross", input=input, other=other)
    if dim is None:
        warnings.warn(
            "Using torch.cross without specifying the dim arg is deprecated.\nPlease either "
            "pass the dim explicitly or simply use torch.linalg.cross.\nThe default value of "
            "dim will change to agree with that of linalg.cross in a future release.",
            UserWarning, stacklevel=2)
        shape = _broadcast_shapes(input.shape, other.shape)
        dim = next((i for i, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    return _cross(input, other, dim)


def linalg_cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """``torch.linalg.cross``: inputs broadcast; ``dim`` defaults to the last."""
    _require_tensor("linalg.cross", input=input, other=other)
    return _cross(input, other, dim)


def matrix_power(input: Tensor, n: int) -> Tensor:
    """``A`` multiplied by itself ``n`` times; ``n < 0`` inverts first; ``n = 0``: identity."""
    _require_tensor("matrix_power", input=input)
    if input.ndim < 2:
        raise RuntimeError(
            "linalg.matrix_power: The input tensor A must have at least 2 dimensions.")
    if input.shape[-1] != input.shape[-2]:
        raise RuntimeError(
            f"linalg.matrix_power: A must be batches of square matrices, but they are "
            f"{input.shape[-2]} by {input.shape[-1]} matrices")
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"matrix_power(): argument 'n' must be int, not {type(n).__name__}")
    if n == 0:
        eye = _eye(input.shape[-1], input)
        eye = expand_op(eye, shape=tuple(input.shape)) if input.ndim > 2 else eye
        # PyTorch copies the identity into a tensor like A: a graph with zero gradient.
        return E.overwrite(input, eye) if input.requires_grad else eye
    if n < 0:
        _check_float("linalg.inv", input)
        input = inv(input)
        n = -n
    result = None
    z = input
    while True:  # binary powering, as PyTorch does
        if n & 1:
            result = z if result is None else matmul_op(result, z)
        n >>= 1
        if not n:
            return result
        z = matmul_op(z, z)


def multi_dot(tensors) -> Tensor:
    """The product of a chain of matrices, in the cheapest order (first/last may be 1-D)."""
    tensors = list(tensors)
    n = len(tensors)
    if n < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {n}")
    for i, t in enumerate(tensors):
        _require_tensor("multi_dot", tensors=t)
        lo = 1 if i in (0, n - 1) else 2
        if not lo <= t.ndim <= 2:
            what = "1D or 2D" if lo == 1 else "2D"
            if i in (0, n - 1):
                which = "first" if i == 0 else "last"
                raise RuntimeError(
                    f"multi_dot(): the {which} tensor must be {what} but got {t.ndim}D")
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
    first_vec, last_vec = tensors[0].ndim == 1, tensors[-1].ndim == 1
    mats = list(tensors)
    if first_vec:
        mats[0] = mats[0].unsqueeze(0)
    if last_vec:
        mats[-1] = mats[-1].unsqueeze(-1)
    for i in range(n - 1):
        if mats[i].shape[1] != mats[i + 1].shape[0]:
            raise RuntimeError(
                f"multi_dot(): tensors {i} and {i + 1} with shapes {list(tensors[i].shape)} "
                f"and {list(tensors[i + 1].shape)} cannot be multiplied")
        if mats[i].dtype is not mats[i + 1].dtype:
            raise RuntimeError(
                f"multi_dot(): all tensors must have be the same dtype but tensor 0 is "
                f"{_tname(mats[0].dtype)} and tensor {i + 1} {_tname(mats[i + 1].dtype)}")
    dims = [m.shape[0] for m in mats] + [mats[-1].shape[1]]
    # The classic dynamic programme for the cheapest parenthesization.
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k

    def product(i, j):
        if i == j:
            return mats[i]
        k = split[i][j]
        return matmul_op(product(i, k), product(k + 1, j))

    out = product(0, n - 1)
    if first_vec:
        out = out.squeeze(0)
    if last_vec:
        out = out.squeeze(-1)
    return out


def chain_matmul(*matrices) -> Tensor:
    """The product of 2-D matrices (deprecated in PyTorch for ``linalg.multi_dot``)."""
    warnings.warn(
        "torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
        "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather "
        "than multiple parameters.", UserWarning, stacklevel=2)
    if len(matrices) == 1:
        return matrices[0]
    return multi_dot(matrices)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """The dot product of vectors along ``dim`` (conjugating ``x``); batch dims broadcast."""
    _require_tensor("linalg.vecdot", x=x, y=y)
    if x.dtype is not y.dtype:
        raise RuntimeError(
            f"linalg.vecdot: Expected x and y to have the same dtype, but found x of type "
            f"{_tname(x.dtype)} and y of type {_tname(y.dtype)} instead")
    if x.is_complex():
        x = x.conj()
    return E.mul(x, y).sum(dim=dim)


# ======================================================================================
# einsum
# ======================================================================================
# Note [einsum in two steps]
# The public ``einsum`` parses PyTorch's grammar (implicit output, ellipsis,
# spaces, broadcasting of size-1 dimensions) and hands the primitive a normal
# form: one letter per dimension, an explicit output, and operands already
# broadcast to agreeing sizes (through ``expand``, whose gradient sums back).
# The primitive's forward is a reference over ``xp`` (diagonals, sums, and one
# batched matmul per operand); NumPy and JAX use their own einsum.


@defop("einsum", promote=None, save=tuple(range(64)))
def einsum_op(xp, *arrays, equation):
    inputs, output = equation.split("->")
    terms = [(a, s) for a, s in zip(arrays, inputs.split(","))]
    sizes = {}
    for a, s in terms:
        sizes.update(zip(s, a.shape))
    terms = [_einsum_diagonals(xp, a, s) for a, s in terms]
    cur, cs = terms[0]
    for k in range(1, len(terms) + 1):
        later = set(output).union(*(s for _, s in terms[k:]))
        # Sum out what no later term or the output needs, then contract with the next term.
        drop = [i for i, c in enumerate(cs) if c not in later]
        if drop:
            cur = xp.sum(cur, axis=tuple(drop))
            cs = "".join(c for c in cs if c in later)
        if k == len(terms):
            break
        nxt, ns = terms[k]
        later_after = set(output).union(*(s for _, s in terms[k + 1:]))
        drop = [i for i, c in enumerate(ns) if c not in later_after and c not in cs]
        if drop:
            nxt = xp.sum(nxt, axis=tuple(drop))
            ns = "".join(c for c in ns if c in later_after or c in cs)
        cur, cs = _einsum_pair(xp, cur, cs, nxt, ns, later_after, sizes)
    return xp.permute_dims(cur, tuple(cs.index(c) for c in output))


def _einsum_diagonals(xp, a, s):
    """Take the diagonal of every repeated letter: ``ii`` becomes ``i``."""
    while len(set(s)) != len(s):
        c = next(c for c in s if s.count(c) > 1)
        p = s.index(c)
        q = s.index(c, p + 1)
        rest = [i for i in range(len(s)) if i not in (p, q)]
        a = xp.linalg.diagonal(xp.permute_dims(a, tuple(rest + [p, q])))
        s = "".join(s[i] for i in rest) + c
    return a, s


def _einsum_pair(xp, a, sa, b, sb, keep, sizes):
    """Contract two terms by one batched matmul: (batch, left, k) @ (batch, k, right)."""
    batch = [c for c in sa if c in sb and c in keep]
    contract = [c for c in sa if c in sb and c not in keep]
    left = [c for c in sa if c not in sb]
    right = [c for c in sb if c not in sa]

    def size(cs):
        return math.prod(sizes[c] for c in cs)

    A = xp.permute_dims(a, tuple(sa.index(c) for c in batch + left + contract))
    A = xp.reshape(A, (size(batch), size(left), size(contract)))
    B = xp.permute_dims(b, tuple(sb.index(c) for c in batch + contract + right))
    B = xp.reshape(B, (size(batch), size(contract), size(right)))
    out = xp.matmul(A, B)
    letters = batch + left + right
    return xp.reshape(out, tuple(sizes[c] for c in letters)), "".join(letters)


@einsum_op.register_kernel("numpy")
def _(xp, *arrays, equation):
    return xp.einsum(equation, *arrays, optimize=len(arrays) > 2)


@einsum_op.register_kernel("jax")
def _(xp, *arrays, equation):
    return xp.einsum(equation, *arrays)


@einsum_op.defvjp
def _(ctx, grad):
    # The gradient of operand i is an einsum of the gradient with the other
    # operands; its letters that appear nowhere else come from a ones vector, and
    # a repeated letter (a diagonal) from an identity matrix.
    eq = ctx.params["equation"]
    inputs, output = eq.split("->")
    specs = inputs.split(",")
    ops = ctx.inputs
    out = []
    for i, s in enumerate(specs):
        if not ctx.needs_input_grad[i]:
            out.append(None)
            continue
        shape = ctx.node.in_meta[i][0]
        sizes = dict(zip(s, shape))
        others = [(ops[j], specs[j]) for j in range(len(specs)) if j != i]
        seen = set(output).union(*(sj for _, sj in others))
        operands = [grad] + [o for o, _ in others]
        subs = [output] + [sj for _, sj in others]
        free = iter(c for c in _LETTERS if c not in eq)
        target = ""
        first = {}
        for c in s:
            if c in first:  # a repeated letter: the diagonal of a fresh pair
                new = next(free)
                operands.append(_eye(sizes[c], grad))
                subs.append(c + new)
                target += new
                continue
            first[c] = True
            target += c
            if c not in seen:
                from .._creation import ones

                operands.append(ones(sizes[c], dtype=grad.dtype, device=grad.device))
                subs.append(c)
        out.append(einsum_op(*operands, equation=",".join(subs) + "->" + target))
    return tuple(out)


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation in PyTorch's grammar (``...``, implicit output, a list of operands).

    Example:
        >>> a, b = polytorch.ones(2, 3), polytorch.ones(3, 4)
        >>> polytorch.einsum("ij,jk->ik", a, b).shape
        polytorch.Size([2, 4])
    """
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): argument 'equation' must be str, not "
                        f"{type(equation).__name__}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for t in operands:
        _require_tensor("einsum", operands=t)
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, rhs = eq.split("->", 1)
        explicit = True
    else:
        lhs, rhs, explicit = eq, "", False
    terms = lhs.split(",")
    if len(terms) > len(operands):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    pos = 0
    for k, term in enumerate(terms + ([rhs] if explicit else [])):
        _check_subscripts(term, pos, output=explicit and k == len(terms))
        pos += len(term) + 1
    dt = operands[0].dtype
    for t in operands[1:]:
        if t.dtype is not dt:
            raise RuntimeError(f"expected scalar type {_tname(dt)} but found {_tname(t.dtype)}")
    # Ellipsis dimensions get letters of their own, right-aligned across operands.
    used = set(c for c in eq if c.isalpha())
    n_ell = 0
    for term, t in zip(terms, operands):
        n_named = len(term.replace("...", ""))
        if "..." in term:
            n_ell = max(n_ell, t.ndim - n_named)
            if t.ndim < n_named:
                raise RuntimeError(
                    f"einsum(): the number of subscripts in the equation ({n_named}) is more "
                    f"than the number of dimensions ({t.ndim}) for operand "
                    f"{terms.index(term)}")
        elif n_named != t.ndim:
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({n_named}) does not match "
                f"the number of dimensions ({t.ndim}) for operand {terms.index(term)} and no "
                f"ellipsis was given")
    ell = [c for c in _LETTERS if c not in used][:n_ell]
    specs = []
    for term, t in zip(terms, operands):
        if "..." in term:
            n = t.ndim - len(term.replace("...", ""))
            term = term.replace("...", "".join(ell[n_ell - n:]))
        specs.append(term)
    if explicit:
        if "..." in rhs:
            rhs = rhs.replace("...", "".join(ell))
        elif n_ell:
            pass  # ellipsis dimensions not in the output are summed
        for c in rhs:
            if rhs.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in "
                                   f"the output")
            if not any(c in s for s in specs):
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the "
                                   f"equation for any input operand")
    else:
        counts = {}
        for s in specs:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        rhs = "".join(ell) + "".join(sorted(
            (c for c in counts if counts[c] == 1 and c not in ell),
            key=lambda c: (c.islower(), c)))
    # Sizes: equal, or 1 (broadcast, as PyTorch allows).
    sizes = {}
    for k, (s, t) in enumerate(zip(specs, operands)):
        seen_here = {}
        for c, n in zip(s, t.shape):
            if c in seen_here and seen_here[c] != n:
                raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {k} but the "
                                   f"sizes don't match, {n} != {seen_here[c]}")
            seen_here[c] = n
            old = sizes.get(c, 1)
            if n != old and n != 1 and old != 1:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {k} which "
                                   f"does not broadcast with previously seen size {old}")
            sizes[c] = max(old, n) if min(old, n) != 0 or n == old else 0
    placed = []
    for s, t in zip(specs, operands):
        want = tuple(sizes[c] for c in s)
        placed.append(expand_op(t, shape=want) if tuple(t.shape) != want else t)
    # A letter repeated within one operand counts once there.
    return einsum_op(*placed, equation=",".join(specs) + "->" + rhs)


def _check_subscripts(term: str, pos: int, output: bool) -> None:
    i = 0
    dots = 0
    while i < len(term):
        c = term[i]
        if c == ".":
            if term[i:i + 3] != "..." or dots:
                raise RuntimeError(
                    f"einsum(): found '.' for {'output' if output else 'operand'} that is not "
                    f"part of any ellipsis")
            dots += 1
            i += 3
            continue
        if not c.isascii() or not c.isalpha():
            raise RuntimeError(
                f"einsum(): invalid subscript given at index {pos + i} in the equation string, "
                f"subscripts must be in [a-zA-Z]")
        i += 1


# ======================================================================================
# Decompositions and solvers (polytorch.linalg)
# ======================================================================================


def _lapack(xp, fn, *arrays):
    """``fn(*arrays)``, raising ``_Failed`` where the backend could not factor its input."""
    try:
        out = fn(*arrays)
    except Exception as exc:
        if type(exc).__name__ == "LinAlgError":
            raise _Failed() from None
        raise
    first = out[0] if isinstance(out, tuple) else out
    if not bool(xp.all(xp.isfinite(first))) and all(
            bool(xp.all(xp.isfinite(a))) for a in arrays):
        raise _Failed()
    return out


def _check_matrix(fn: str, A: Tensor, square: bool = True, name: str = "A") -> None:
    if not isinstance(A, Tensor):
        raise TypeError(f"{fn}(): argument '{name}' must be Tensor, not {type(A).__name__}")
    if A.ndim < 2:
        raise RuntimeError(f"{fn}: The input tensor {name} must have at least 2 dimensions.")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            f"{fn}: {name} must be batches of square matrices, but they are {A.shape[-2]} by "
            f"{A.shape[-1]} matrices")


def _check_float(fn: str, A: Tensor) -> None:
    if A.dtype.kind not in "fc":
        raise RuntimeError(
            f"{fn}: Expected a floating point or complex tensor as input. Got {_tname(A.dtype)}")


def _host_batches(A: Tensor):
    import numpy as np

    h = np.asarray(A.detach().numpy())
    return h.reshape((-1,) + h.shape[-2:])


def _batch_prefix(A: Tensor, b: int) -> str:
    return f"(Batch element {b}): " if A.ndim > 2 else ""


def _singular_error(fn: str, A: Tensor) -> LinAlgError:
    """PyTorch's message for a singular matrix: the first zero pivot of an LU factorization."""
    import numpy as np

    for b, m in enumerate(_host_batches(A)):
        m = m.copy()
        n = m.shape[-1]
        for j in range(n):
            p = j + int(np.argmax(np.abs(m[j:, j])))
            if m[p, j] == 0:
                return LinAlgError(
                    f"{fn}: {_batch_prefix(A, b)}The diagonal element {j + 1} is zero, the "
                    f"inversion could not be completed because the input matrix is singular.")
            m[[j, p]] = m[[p, j]]
            m[j + 1:] -= np.outer(m[j + 1:, j] / m[j, j], m[j])
    return LinAlgError(f"{fn}: The inversion could not be completed because the input matrix "
                       f"is singular.")


def _not_pd_error(fn: str, A: Tensor, upper: bool) -> LinAlgError:
    import numpy as np

    for b, m in enumerate(_host_batches(A)):
        m = m.T if upper else m
        n = m.shape[-1]
        L = np.zeros_like(m)
        for j in range(n):
            d = m[j, j] - np.dot(L[j, :j], L[j, :j])
            if not d > 0:
                return LinAlgError(
                    f"{fn}: {_batch_prefix(A, b)}The factorization could not be completed "
                    f"because the input is not positive-definite (the leading minor of order "
                    f"{j + 1} is not positive-definite).")
            L[j, j] = np.sqrt(d)
            L[j + 1:, j] = (m[j + 1:, j] - L[j + 1:, :j] @ L[j, :j]) / L[j, j]
    return LinAlgError(f"{fn}: The factorization could not be completed because the input is "
                       f"not positive-definite.")


# -- inv ------------------------------------------------------------------------------------


@defop("linalg_inv", promote=None, save_result=True)
def inv_op(xp, a):
    return _lapack(xp, xp.linalg.inv, a)


@inv_op.defvjp
def _(ctx, grad):
    ainv_t = _mT(ctx.result)
    return (-matmul_op(matmul_op(ainv_t, grad), ainv_t),)


def inv(A: Tensor) -> Tensor:
    """The inverse of each square matrix; a singular one raises ``LinAlgError``.

    Example:
        >>> polytorch.linalg.inv(2 * polytorch.eye(2))
        tensor([[0.5000, 0.0000],
                [0.0000, 0.5000]])
    """
    _check_matrix("linalg.inv", A)
    _check_float("linalg.inv", A)
    try:
        return inv_op(A)
    except _Failed:
        raise _singular_error("linalg.inv", A) from None


def inverse(input: Tensor) -> Tensor:
    """``torch.inverse``: ``linalg.inv``."""
    return inv(input)


# -- solve ----------------------------------------------------------------------------------


@defop("linalg_solve", promote=None, save=(0,), save_result=(0,))
def solve_op(xp, a, b):
    return _lapack(xp, xp.linalg.solve, a, b)


@solve_op.defvjp
def _(ctx, grad):
    (a, _) = ctx.inputs
    gb = solve_op(_mT(a), grad)
    ga = -matmul_op(gb, _mT(ctx.result)) if ctx.needs_input_grad[0] else None
    return ga, gb


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """The solution ``X`` of ``A X = B`` (``X A = B`` with ``left=False``); batches broadcast.

    ``B`` is a batch of vectors when it is 1-D or has the shape ``A.shape[:-1]``.
    """
    _check_matrix("linalg.solve", A)
    _require_tensor("linalg.solve", B=B)
    _check_float("linalg.solve", A)
    if A.dtype is not B.dtype:
        raise RuntimeError(
            f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
            f"{_tname(A.dtype)} and B of type {_tname(B.dtype)} instead")
    vector = B.ndim == 1 or (left and B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])
    Bm = B.unsqueeze(-1) if vector else B
    if not left:
        if vector:
            Bm = B.unsqueeze(-2)
        A, Bm = _mT(A), _mT(Bm)
    n = A.shape[-1]
    if Bm.shape[-2] != n:
        shown = "x".join(map(str, Bm.shape[-2:])) if not vector else f"{B.shape[-1]}x1"
        raise RuntimeError(
            f"linalg.solve: Incompatible shapes of A and B for the equation "
            f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {shown})")
    batch = _broadcast_shapes(A.shape[:-2], Bm.shape[:-2])
    if tuple(A.shape[:-2]) != batch:
        A = expand_op(A, shape=batch + tuple(A.shape[-2:]))
    if tuple(Bm.shape[:-2]) != batch:
        Bm = expand_op(Bm, shape=batch + tuple(Bm.shape[-2:]))
    try:
        X = solve_op(A, Bm)
    except _Failed:
        raise LinAlgError(
            "torch.linalg.solve: The solver failed because the input matrix is singular."
        ) from None
    if not left:
        X = _mT(X)
    if vector:
        X = X.squeeze(-1) if left else X.squeeze(-2)
    return X


# -- det and slogdet -------------------------------------------------------------------------


@defop("linalg_det", promote=None, save=(0,), save_result=True)
def det_op(xp, a):
    return xp.linalg.det(a)


@det_op.defvjp
def _(ctx, grad):
    # d det(A) = det(A) tr(A^-1 dA): the gradient is g det(A) A^-T.
    (a,) = ctx.inputs
    scale = (grad * ctx.result).unsqueeze(-1).unsqueeze(-1)
    return (scale * _mT(inv_op(a)),)


def det(A: Tensor) -> Tensor:
    """The determinant of each square matrix."""
    _check_matrix("linalg.det", A)
    _check_float("linalg.det", A)
    return det_op(A)


SlogdetResult = namedtuple("linalg_slogdet", ["sign", "logabsdet"])


@defop("linalg_slogdet", promote=None, n_out=2, save=(0,), differentiable_outputs=(1,))
def slogdet_op(xp, a):
    sign, logabsdet = xp.linalg.slogdet(a)
    return sign, logabsdet


@slogdet_op.defvjp
def _(ctx, grads):
    _, g = grads
    (a,) = ctx.inputs
    return (g.unsqueeze(-1).unsqueeze(-1) * _mT(inv_op(a)),)


def slogdet(A: Tensor) -> SlogdetResult:
    """``(sign, logabsdet)`` of the determinant, stable where ``det`` would overflow."""
    _check_matrix("linalg.slogdet", A)
    _check_float("linalg.slogdet", A)
    return SlogdetResult(*slogdet_op(A))


def logdet(input: Tensor) -> Tensor:
    """The log of the determinant: NaN for a negative determinant, -inf for zero."""
    sign, logabsdet = slogdet(input)
    return E.where(sign < 0, math.nan, logabsdet)


# -- cholesky --------------------------------------------------------------------------------


def _hermitian_from(xp, a, upper: bool):
    """The symmetric matrix PyTorch reads from one triangle of ``a`` (Note [Which triangle...])."""
    t = xp.triu(a) if upper else xp.tril(a)
    strict = xp.triu(a, k=1) if upper else xp.tril(a, k=-1)
    return t + xp.matrix_transpose(strict)


@defop("linalg_cholesky", promote=None, save_result=True)
def cholesky_op(xp, a, *, upper):
    L = _lapack(xp, xp.linalg.cholesky, _hermitian_from(xp, a, upper))
    return xp.matrix_transpose(L) if upper else L


@cholesky_op.defvjp
def _(ctx, grad):
    # PyTorch's cholesky_backward (Murray 2016): gA = L^-T phi(L^T gL) L^-1, symmetrized.
    L, gL = ctx.result, grad
    if ctx.params["upper"]:
        L, gL = _mT(L), _mT(gL)
    P = _tril(matmul_op(_mT(L), gL))
    P = 0.5 * (P + _mT(_tril(P, -1)))
    X = solve_op(_mT(L), P)  # L^-T P
    return (_mT(solve_op(_mT(L), _mT(X))),)  # X L^-1 = (L^-T X^T)^T


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """The Cholesky factor ``L`` (``A = L L^T``) of symmetric positive-definite matrices."""
    _check_matrix("linalg.cholesky", A)
    _check_float("linalg.cholesky", A)
    try:
        return cholesky_op(A, upper=bool(upper))
    except _Failed:
        raise _not_pd_error("linalg.cholesky", A, upper) from None


# -- qr ------------------------------------------------------------------------------------


QRResult = namedtuple("linalg_qr", ["Q", "R"])


@defop("linalg_qr", promote=None, n_out=2, save_result=True)
def qr_op(xp, a, *, mode):
    q, r = xp.linalg.qr(a, mode=mode)
    return q, r


@qr_op.defvjp
def _(ctx, grads):
    gQ, gR = grads
    Q, R = ctx.result
    m, n = Q.shape[-2], R.shape[-1]
    if ctx.params["mode"] == "complete" and m > n:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and "
                           "nrows > ncols.")
    if m >= n:
        return (_qr_backward_tall(gQ, gR, Q, R),)
    # Wide: A = [X | Y], R = [U | V] with X = Q U square and V = Q^T Y, so Y = Q V
    # (Roberts' reduction to the square case).
    U, V = R[..., :, :m], R[..., :, m:]
    gU, gV = gR[..., :, :m], gR[..., :, m:]
    gX = _qr_backward_tall(gQ + matmul_op(matmul_op(Q, V), _mT(gV)), gU, Q, U)
    return (_cat_last(gX, matmul_op(Q, gV)),)


def _qr_backward_tall(gQ, gR, Q, R):
    # With B = Q^T dA R^-1, the differentials are dR = (B - C) R and
    # dQ = dA R^-1 - Q (B - C), C the skew matrix holding B's strictly lower part;
    # so gA = (gQ + Q N) R^-T with M = gR R^T - Q^T gQ, N = triu(M) + tril(M^T, -1).
    M = matmul_op(gR, _mT(R)) - matmul_op(_mT(Q), gQ)
    N = _triu(M) + _tril(_mT(M), -1)
    gA = gQ + matmul_op(Q, N)
    return _mT(solve_op(R, _mT(gA)))  # gA R^-T


def _cat_last(a: Tensor, b: Tensor) -> Tensor:
    """``cat([a, b], dim=-1)`` from existing ops: zero-pad each and add."""
    na, nb = a.shape[-1], b.shape[-1]
    from .._creation import eye

    # [a | b] = a @ [I 0] + b @ [0 I]
    ea = eye(na, na + nb, dtype=a.dtype, device=a.device)
    eb = eye(nb, na + nb, dtype=b.dtype, device=b.device)
    eb = _shift_cols(eb, na)
    return matmul_op(a, ea) + matmul_op(b, eb)


def _shift_cols(e: Tensor, k: int) -> Tensor:
    from .._creation import arange

    rows = arange(e.shape[0], device=e.device).unsqueeze(1)
    cols = arange(e.shape[1], device=e.device).unsqueeze(0)
    return (cols - rows == k).to(e.dtype)


def qr(A: Tensor, mode: str = "reduced") -> QRResult:
    """``(Q, R)`` with ``A = Q R``: ``mode`` 'reduced', 'complete', or 'r' (Q left empty)."""
    _check_matrix("linalg.qr", A, square=False)
    _check_float("linalg.qr", A)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           f"'reduced' (default), 'r', or 'complete'")
    if mode == "r":
        # Q is computed anyway; unlike PyTorch, R keeps a gradient through it.
        from .._creation import zeros

        return QRResult(zeros(0, dtype=A.dtype, device=A.device), qr_op(A, mode="reduced")[1])
    return QRResult(*qr_op(A, mode=mode))


# -- eigh and eigvalsh -----------------------------------------------------------------------


EighResult = namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])


@defop("linalg_eigh", promote=None, n_out=2, save_result=True)
def eigh_op(xp, a, *, upper):
    w, v = xp.linalg.eigh(_hermitian_from(xp, a, upper))
    return w, v


@eigh_op.defvjp
def _(ctx, grads):
    gL, gV = grads
    L, V = ctx.result
    return (_eigh_backward(gL, gV, L, V),)


def _eigh_backward(gL, gV, L, V):
    # gA = V (diag(gL) + sym(V^T gV) / E) V^T with E_ij = L_j - L_i off the diagonal:
    # the skew part of V^T gV is what a gauge-invariant loss sees.
    inner = _diag_embed(gL)
    if gV is not None:
        Emat = L.unsqueeze(-2) - L.unsqueeze(-1)
        X = matmul_op(_mT(V), gV)
        inner = inner + _offdiag_div(0.5 * (X - _mT(X)), Emat, _eye(L.shape[-1], L))
    return matmul_op(matmul_op(V, inner), _mT(V))


def _offdiag_div(X, Emat, eye):
    safe = E.where(eye == 0, Emat, 1.0)
    return E.where(eye == 0, X / safe, 0.0)


def _check_uplo(UPLO):
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return UPLO == "U"


def eigh(A: Tensor, UPLO: str = "L") -> EighResult:
    """Eigenvalues (ascending) and eigenvectors of symmetric matrices, read from one triangle."""
    _check_matrix("linalg.eigh", A)
    _check_float("linalg.eigh", A)
    return EighResult(*eigh_op(A, upper=_check_uplo(UPLO)))


@defop("linalg_eigvalsh", promote=None, save=(0,))
def eigvalsh_op(xp, a, *, upper):
    return xp.linalg.eigvalsh(_hermitian_from(xp, a, upper))


@eigvalsh_op.defvjp
def _(ctx, grad):
    (a,) = ctx.inputs
    _, V = eigh_op(a, upper=ctx.params["upper"])
    return (matmul_op(matmul_op(V, _diag_embed(grad)), _mT(V)),)


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """The eigenvalues (ascending) of symmetric matrices."""
    _check_matrix("linalg.eigvalsh", A)
    _check_float("linalg.eigvalsh", A)
    return eigvalsh_op(A, upper=_check_uplo(UPLO))


# -- svd and svdvals ------------------------------------------------------------------------


SVDResult = namedtuple("linalg_svd", ["U", "S", "Vh"])


@defop("linalg_svd", promote=None, n_out=3, save_result=True)
def svd_op(xp, a, *, full_matrices):
    u, s, vh = xp.linalg.svd(a, full_matrices=full_matrices)
    return u, s, vh


@svd_op.defvjp
def _(ctx, grads):
    gU, gS, gVh = grads
    U, S, Vh = ctx.result
    return (_svd_backward(gU, gS, gVh, U, S, Vh),)


def _svd_backward(gU, gS, gVh, U, S, Vh):
    # PyTorch's svd_backward (real case); only gauge-invariant losses are meaningful.
    m, n = U.shape[-2], Vh.shape[-1]
    k = S.shape[-1]
    if gU is not None and U.shape[-1] != k:
        U, gU = U[..., :, :k], gU[..., :, :k]
    if gVh is not None and Vh.shape[-2] != k:
        Vh, gVh = Vh[..., :k, :], gVh[..., :k, :]
    V = _mT(Vh)
    eye = _eye(k, S)
    inner = _diag_embed(gS) if gS is not None else None
    if gU is not None or gVh is not None:
        S2 = S * S
        Emat = S2.unsqueeze(-2) - S2.unsqueeze(-1)
        term = None
        if gU is not None:
            X = matmul_op(_mT(U), gU)
            term = (X - _mT(X)) * S.unsqueeze(-2)
        if gVh is not None:
            gV = _mT(gVh)
            Y = matmul_op(_mT(V), gV)
            t2 = S.unsqueeze(-1) * (Y - _mT(Y))
            term = t2 if term is None else term + t2
        t = _offdiag_div(term, Emat, eye)
        inner = t if inner is None else inner + t
    if inner is None:
        from .._creation import zeros

        return zeros(*U.shape[:-2], m, n, dtype=U.dtype, device=U.device)
    gA = matmul_op(matmul_op(U, inner), Vh)
    if gU is not None and m > k:
        gUSinv = gU / S.unsqueeze(-2)
        proj = gUSinv - matmul_op(U, matmul_op(_mT(U), gUSinv))
        gA = gA + matmul_op(proj, Vh)
    if gVh is not None and n > k:
        gVSinv = _mT(gVh) / S.unsqueeze(-2)
        proj = gVSinv - matmul_op(V, matmul_op(Vh, gVSinv))
        gA = gA + matmul_op(U, _mT(proj))
    return gA


def svd(A: Tensor, full_matrices: bool = True) -> SVDResult:
    """``(U, S, Vh)`` with ``A = U diag(S) Vh`` and ``S`` descending."""
    _check_matrix("linalg.svd", A, square=False)
    _check_float("linalg.svd", A)
    return SVDResult(*svd_op(A, full_matrices=bool(full_matrices)))


@defop("linalg_svdvals", promote=None, save=(0,))
def svdvals_op(xp, a):
    return xp.linalg.svdvals(a)


@svdvals_op.defvjp
def _(ctx, grad):
    (a,) = ctx.inputs
    U, _, Vh = svd_op(a, full_matrices=False)
    return (matmul_op(U * grad.unsqueeze(-2), Vh),)


def svdvals(A: Tensor) -> Tensor:
    """The singular values, descending."""
    _check_matrix("linalg.svdvals", A, square=False)
    _check_float("linalg.svdvals", A)
    return svdvals_op(A)


# -- pinv, lstsq, matrix_rank -------------------------------------------------------------


@defop("linalg_pinv", promote=None, save=(0,), save_result=True)
def pinv_op(xp, a, *, atol, rtol, hermitian):
    if hermitian:
        w, v = xp.linalg.eigh(_hermitian_from(xp, a, False))
        mag = xp.abs(w)
        tol = _tolerance(xp, mag, atol, rtol)
        winv = xp.where(mag > tol, 1 / xp.where(mag > tol, w, 1), 0)
        return xp.matmul(v * winv[..., None, :], xp.matrix_transpose(v))
    u, s, vh = xp.linalg.svd(a, full_matrices=False)
    tol = _tolerance(xp, s, atol, rtol)
    sinv = xp.where(s > tol, 1 / xp.where(s > tol, s, 1), 0)
    return xp.matmul(xp.matrix_transpose(vh) * sinv[..., None, :], xp.matrix_transpose(u))


def _tolerance(xp, s, atol, rtol):
    """``max(atol, rtol * largest)`` per matrix, shaped to compare with ``s`` (..., k)."""
    if s.shape[-1] == 0:
        return s[..., :1]
    rel = rtol * xp.max(s, axis=-1, keepdims=True)
    return xp.where(rel > atol, rel, xp.full_like(rel, atol))


@pinv_op.defvjp
def _(ctx, grad):
    # PyTorch's pinv_backward.
    (A,) = ctx.inputs
    pinvA = ctx.result
    m, n = A.shape[-2], A.shape[-1]
    pinvAh = _mT(pinvA)
    gradh = _mT(grad)
    if m <= n:
        K = matmul_op(gradh, pinvA)
        KpinvAh = matmul_op(K, pinvAh)
        gA = (-_mT(matmul_op(pinvA, K)) + KpinvAh
              - matmul_op(matmul_op(A, pinvA), KpinvAh)
              + matmul_op(matmul_op(pinvAh, pinvA), gradh - matmul_op(K, A)))
    else:
        K = matmul_op(pinvA, gradh)
        pinvAhK = matmul_op(pinvAh, K)
        gA = (-_mT(matmul_op(K, pinvA))
              + matmul_op(matmul_op(gradh - matmul_op(A, K), pinvA), pinvAh)
              + pinvAhK - matmul_op(matmul_op(pinvAhK, pinvA), A))
    return (gA,)


def _tolerances(A: Tensor, atol, rtol, rcond=None):
    if rcond is not None:
        rtol = rcond
    if isinstance(atol, Tensor) or isinstance(rtol, Tensor):
        raise NotImplementedError("tensor atol/rtol are not supported; pass Python floats")
    if rtol is None:
        eps = {"float32": 2.0 ** -23, "float64": 2.0 ** -52}.get(A.dtype.to_real().name
                                                               if A.dtype.kind == "c"
                                                               else A.dtype.name, 2.0 ** -23)
        rtol = eps * max(A.shape[-2], A.shape[-1]) if (atol is None or atol <= 0) else 0.0
    return float(atol or 0.0), float(rtol)


def pinv(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False) -> Tensor:
    """The Moore-Penrose pseudo-inverse, dropping singular values below ``max(atol, rtol*smax)``."""
    if not isinstance(A, Tensor) or A.ndim < 2 or A.dtype.kind not in "fc":
        desc = (f"{_tname(A.dtype)}{{{list(A.shape)}}}".replace(" ", "")
                if isinstance(A, Tensor) else type(A).__name__)
        raise RuntimeError(f"linalg.pinv({desc}): expected a tensor with 2 or more dimensions "
                           f"of float, double, cfloat or cdouble types")
    if hermitian:
        _check_matrix("linalg.pinv", A)
    atol, rtol = _tolerances(A, atol, rtol)
    return pinv_op(A, atol=atol, rtol=rtol, hermitian=bool(hermitian))


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """``torch.pinverse``: ``linalg.pinv`` with relative tolerance ``rcond``."""
    return pinv(input, rtol=rcond)


LstsqResult = namedtuple("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])


def lstsq(A: Tensor, B: Tensor, rcond=None, *, driver=None) -> LstsqResult:
    """Least-squares solutions of ``A X = B`` (the minimum-norm one where rank-deficient).

    As PyTorch's default CPU driver ('gelsy'), ``rank`` is computed and
    ``residuals`` and ``singular_values`` are empty.
    """
    _check_matrix("linalg.lstsq", A, square=False)
    _require_tensor("linalg.lstsq", B=B)
    _check_float("linalg.lstsq", A)
    if driver not in (None, "gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError(f"torch.linalg.lstsq: parameter `driver` should be one of "
                           f"(gels, gelsy, gelsd, gelss), but got {driver}")
    if A.dtype is not B.dtype:
        raise RuntimeError(
            f"torch.linalg.lstsq: Expected input and other to have the same dtype, but got "
            f"input's dtype {_tname(A.dtype)} and other's dtype {_tname(B.dtype)}")
    vector = B.ndim == A.ndim - 1
    Bm = B.unsqueeze(-1) if vector else B
    if Bm.ndim < 2 or Bm.shape[-2] != A.shape[-2]:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    eps = 2.0 ** -52 if A.dtype.name in ("float64", "complex128") else 2.0 ** -23
    rtol = eps * max(A.shape[-2], A.shape[-1]) if rcond is None or rcond < 0 else float(rcond)
    X = matmul_op(pinv_op(A, atol=0.0, rtol=rtol, hermitian=False), Bm)
    if vector:
        X = X.squeeze(-1)
    rank = matrix_rank(A.detach(), atol=0.0, rtol=rtol) if driver != "gels" else \
        _empty(A, D.int64)
    return LstsqResult(X, _empty(A, A.dtype), rank, _empty(A, A.dtype))


def _empty(like: Tensor, dtype) -> Tensor:
    from .._creation import zeros

    return zeros(0, dtype=dtype, device=like.device)


def matrix_rank(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False, tol=None) -> Tensor:
    """The number of singular values above ``max(atol, rtol * smax)`` (int64)."""
    _check_matrix("linalg.matrix_rank", A, square=hermitian)
    if A.dtype.kind not in "fc":
        raise RuntimeError("This function doesn't handle types other than float and double")
    if tol is not None:
        atol, rtol = tol, 0.0
    atol, rtol = _tolerances(A, atol, rtol)
    A = A.detach()
    s = _abs(eigvalsh_op(A, upper=False)) if hermitian else svdvals_op(A)
    if s.shape[-1] == 0:
        from .._creation import zeros

        return zeros(*A.shape[:-2], dtype=D.int64, device=A.device)
    smax = s.amax(dim=-1, keepdim=True)
    tol_t = E.where(smax * rtol > atol, smax * rtol, atol)
    return (s > tol_t).to(D.int64).sum(dim=-1)


# -- norms ----------------------------------------------------------------------------------


@defop("linalg_vector_norm", promote=None, save=(0,), save_result=True)
def vector_norm_op(xp, x, *, ord, dim, keepdim):
    if ord == 0:  # array API libraries differ on ord=0: count the non-zeros
        return xp.sum(xp.astype(x != 0, x.dtype), axis=dim, keepdims=keepdim)
    return xp.linalg.vector_norm(x, axis=dim, keepdims=keepdim, ord=ord)


@vector_norm_op.defvjp
def _(ctx, grad):
    # PyTorch's norm_backward; at a zero norm the gradient is zero.
    (x,) = ctx.inputs
    norm = ctx.result
    p, dim, keepdim = ctx.params["ord"], ctx.params["dim"], ctx.params["keepdim"]
    if not keepdim and x.ndim:
        dims = range(x.ndim) if dim is None else dim
        shape = list(x.shape)
        for d in dims:
            shape[d] = 1
        grad = reshape_op(grad, shape=tuple(shape))
        norm = reshape_op(norm, shape=tuple(shape))
    if p == 0:
        return (x * 0,)
    if p == 1:
        return (_sign(x) * grad,)
    if p == 2:
        scale = E.where(norm == 0, 0.0, grad / E.where(norm == 0, 1.0, norm))
        return (x * scale,)
    if math.isinf(p):
        mask = (_abs(x) == norm).to(x.dtype)
        count = mask.sum(dim=dim, keepdim=True) if dim is not None or not x.ndim else mask.sum()
        return (_sign(x) * mask * (grad / count),)
    if p < 1:
        ax = _abs(x)
        scaled = E.where(x == 0, 0.0, _sign(x) * E.where(x == 0, 1.0, ax) ** (p - 1))
        return (scaled * grad * norm ** (1 - p),)
    scaled = _sign(x) * _abs(x) ** (p - 1) if p < 2 else x * _abs(x) ** (p - 2)
    scale = E.where(norm == 0, 0.0, grad / E.where(norm == 0, 1.0, norm) ** (p - 1))
    return (scaled * scale,)


def _norm_dims(dim, ndim: int, fn: str):
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    out = tuple(_wrap_dim(d, ndim) for d in dims)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{fn}: dim {out[0]} appears multiple times in the list of dims")
    return tuple(sorted(out))


def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The ``ord``-norm of ``x`` as a vector (over all elements, or over ``dim``).

    Example:
        >>> polytorch.linalg.vector_norm(polytorch.tensor([3.0, 4.0]))
        tensor(5.)
    """
    _require_tensor("linalg.vector_norm", x=x)
    if isinstance(ord, bool) or not isinstance(ord, (int, float)):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' must be Number, not "
                        f"{type(ord).__name__}")
    if dtype is not None:
        dtype = D.as_dtype(dtype)
        if dtype.kind not in "fc":
            raise RuntimeError(f"linalg.vector_norm: dtype should be floating point or complex, "
                               f"but got {_tname(dtype)}")
    if x.dtype.kind not in "fc":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {_tname(x.dtype)}")
    if dtype is not None and dtype is not x.dtype:
        x = x.to(dtype)
    dims = _norm_dims(dim, x.ndim, "linalg.vector_norm")
    if dims == () or (x.ndim == 0 and dims is not None):
        dims = None if x.ndim == 0 else dims
    if ord < 0 or math.isinf(ord):
        what = "inf" if ord == math.inf else "-inf" if ord == -math.inf else _fmt_ord(ord)
        if dims is None and x.numel() == 0:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {what} norm on an empty "
                               f"tensor because the operation does not have an identity")
        for d in dims or ():
            if x.shape[d] == 0:
                raise RuntimeError(
                    f"linalg.vector_norm cannot compute the {what} norm on the dimension {d}"
                    f"because this dimension is empty and the operation does not have an "
                    f"identity")
    ord = float(ord) if not isinstance(ord, int) else ord
    return vector_norm_op(x, ord=ord, dim=dims, keepdim=bool(keepdim))


def _fmt_ord(ord) -> str:
    return str(int(ord)) if float(ord).is_integer() else str(ord)


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *,
                dtype=None) -> Tensor:
    """A matrix norm: 'fro', 'nuc', or the induced 1, -1, 2, -2, inf, -inf norms."""
    _require_tensor("linalg.matrix_norm", A=A)
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    if isinstance(ord, str):
        if ord not in ("fro", "nuc"):
            raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    elif ord not in (1, -1, 2, -2, math.inf, -math.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {_fmt_ord(ord)} not supported.")
    if dtype is not None:
        A = A.to(D.as_dtype(dtype))
    _check_float("linalg.matrix_norm", A)
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {dim}")
    d0, d1 = (_wrap_dim(d, A.ndim) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, "
                           f"{dim[1]})")
    if ord == "fro":
        return vector_norm_op(A, ord=2, dim=tuple(sorted((d0, d1))), keepdim=bool(keepdim))
    # Move the two dims to the end, reduce, and put size-one dims back for keepdim.
    rest = [i for i in range(A.ndim) if i not in (d0, d1)]
    M = permute_op(A, dims=tuple(rest + [d0, d1]))
    if ord in ("nuc", 2, -2):
        if M.numel() == 0 and ord != "nuc":
            raise RuntimeError("linalg.matrix_norm: The input tensor A must not be empty for "
                               "the 2 and -2 norms")
        s = svdvals_op(M)
        if ord == "nuc":
            out = s.sum(dim=-1)
        else:
            out = s[..., 0] if ord == 2 else s[..., -1]
    else:
        over, across = (-2, -1) if ord in (1, -1) else (-1, -2)
        sums = vector_norm_op(M, ord=1, dim=(M.ndim + over,), keepdim=True)
        if ord > 0:
            out = sums.amax(dim=(M.ndim + across,))
        else:
            out = -((-sums).amax(dim=(M.ndim + across,)))
        out = out.squeeze(-1) if out.ndim > len(rest) else out
    if keepdim:
        for d in sorted((d0, d1)):
            out = out.unsqueeze(d)
    return out


def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """``vector_norm`` or ``matrix_norm``, chosen by ``ord`` and ``dim`` as in PyTorch."""
    _require_tensor("linalg.norm", A=A)
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. "
                               f"Got {list(dims)}")
    elif ord is not None:
        if A.ndim not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input "
                               f"must be 1D or 2D. Got {A.ndim}D.")
        dims = tuple(range(A.ndim))
    else:
        dims = None
    if isinstance(ord, str) or (dims is not None and len(dims) == 2):
        if isinstance(ord, str) and dims is not None and len(dims) != 2:
            raise RuntimeError(f"linalg.norm: If ord is a string, dim must have length 2. "
                               f"Got {len(dims)}")
        return matrix_norm(A, "fro" if ord is None else ord, dims or (-2, -1), keepdim,
                           dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)


# ======================================================================================
# Tensor methods
# ======================================================================================


TENSOR_METHODS: dict = {
    "mm": mm, "bmm": bmm, "mv": mv, "dot": dot, "vdot": vdot, "inner": inner, "outer": outer,
    "ger": ger, "addmm": addmm, "addmv": addmv, "baddbmm": baddbmm, "kron": kron,
    "cross": cross, "matrix_power": matrix_power, "det": det, "slogdet": slogdet,
    "logdet": logdet, "inverse": inverse, "pinverse": pinverse, "matmul": matmul,
}
INPLACE_METHODS: dict = {
    "addmm_": (addmm, None), "addmv_": (addmv, None), "baddbmm_": (baddbmm, None),
}
