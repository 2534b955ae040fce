"""Linear algebra primitives: matmul."""

from __future__ import annotations

from .._tensor import Tensor
from ._registry import defop
from .shape import permute_op, reshape_op

__all__ = ["matmul"]  # exported as polytorch.NAME

TENSOR_METHODS: dict = {}  # see polytorch/ops/elementwise.py
INPLACE_METHODS: dict = {}


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
