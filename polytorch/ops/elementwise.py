"""Elementwise primitives: arithmetic, exponentials, activations, comparisons, where."""

from __future__ import annotations

import math

from .. import _dtype as D
from ._registry import defop

__all__ = [  # exported as polytorch.NAME
    "add", "clone", "div", "eq", "exp", "ge", "gt", "le", "log", "logical_and", "logical_not",
    "logical_or", "lt", "mul", "ne", "neg", "pow", "relu", "sigmoid", "sub", "tanh", "where",
]

# Tensor methods beyond those bound in polytorch/_tensor_methods.py: name -> function,
# and in-place variants: name -> (out-of-place function, when the rule reads the old self:
# None, "self", "other" or "any", by which inputs require grad).
TENSOR_METHODS: dict = {}
INPLACE_METHODS: dict = {}

# -- arithmetic -------------------------------------------------------------


@defop(promote="same")
def add(xp, a, b):
    return xp.add(a, b)


@add.defvjp
def _(ctx, grad):
    return grad, grad


@defop(promote="same")
def sub(xp, a, b):
    return xp.subtract(a, b)


@sub.defvjp
def _(ctx, grad):
    return grad, -grad if ctx.needs_input_grad[1] else None


@defop(promote="same", save={0: (1,), 1: (0,)})
def mul(xp, a, b):
    return xp.multiply(a, b)


@mul.defvjp
def _(ctx, grad):
    a, b = ctx.inputs
    need_a, need_b = ctx.needs_input_grad
    return (grad * b if need_a else None), (grad * a if need_b else None)


@defop(promote="float", save={0: (1,), 1: (0, 1)})
def div(xp, a, b):
    return xp.divide(a, b)


@div.defvjp
def _(ctx, grad):
    a, b = ctx.inputs
    need_a, need_b = ctx.needs_input_grad
    return (grad / b if need_a else None), (-grad * a / (b * b) if need_b else None)


@defop(promote="same", save=(0, 1), save_result=(1,))
def pow(xp, a, b):  # noqa: A001 (PyTorch's name)
    return xp.pow(a, b)


@pow.defvjp
def _(ctx, grad):
    a, b = ctx.inputs
    need_a, need_b = ctx.needs_input_grad
    ga = gb = None
    if need_a:
        # d(a**b)/da = b * a**(b-1); b == 0 gives 0 even where a == 0.
        if _is_number(b):
            ga = grad * b * a ** (b - 1) if b != 0 else grad * 0
        else:
            ga = where(b == 0, 0.0, grad * b * a ** (b - 1))
    if need_b:
        # d(a**b)/db = a**b * log(a), taken as 0 where a == 0 and b >= 0 (PyTorch).
        out = ctx.result
        if _is_number(a):
            if a == 0:
                gb = where(b >= 0, 0.0, grad * out * float("-inf"))
            else:
                gb = grad * out * (math.log(a) if a > 0 else float("nan"))
        else:
            # log of the base in the result's (promoted) dtype, as PyTorch does.
            log_a = log(a if a.dtype is out.dtype else a.to(out.dtype))
            gb = where(logical_and(a == 0, b >= 0), 0.0, grad * out * log_a)
    return ga, gb


def _is_number(v):
    return isinstance(v, (int, float, complex))


@defop(promote=None)
def neg(xp, x):
    return xp.negative(x)


@neg.defvjp
def _(ctx, grad):
    return (-grad,)


# -- exponentials and activations -------------------------------------------


@defop(promote="float", save_result=True)
def exp(xp, x):
    return xp.exp(x)


@exp.defvjp
def _(ctx, grad):
    return (grad * ctx.result,)


@defop(promote="float", save=(0,))
def log(xp, x):
    return xp.log(x)


@log.defvjp
def _(ctx, grad):
    return (grad / ctx.inputs[0],)


@defop(promote="float", save_result=True)
def tanh(xp, x):
    return xp.tanh(x)


@tanh.defvjp
def _(ctx, grad):
    out = ctx.result
    return (grad * (1 - out * out),)


@defop(promote="float", save_result=True)
def sigmoid(xp, x):
    # 1 / (1 + exp(-x)), written so that neither branch overflows.
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


@sigmoid.defvjp
def _(ctx, grad):
    out = ctx.result
    return (grad * out * (1 - out),)


@defop(promote=None, save_result=True)
def relu(xp, x):
    return xp.maximum(x, 0)


@relu.defvjp
def _(ctx, grad):
    return (relu_backward(grad, ctx.result),)


@defop(promote=None, save=(1,))
def relu_backward(xp, grad, result):
    """``grad`` where ``result > 0``, else 0 (PyTorch's threshold_backward), in one op."""
    return xp.where(result > 0, grad, xp.zeros_like(grad))


@relu_backward.defvjp
def _(ctx, gg):
    # Linear in ``grad``; piecewise constant in ``result`` (zero almost everywhere).
    return relu_backward(gg, ctx.inputs[1]), None


def _bool_as_int(xp, v):
    return int(v) if isinstance(v, bool) else xp.astype(v, xp.int8)


add.bool_forward = lambda xp, a, b: xp.logical_or(a, b)
mul.bool_forward = lambda xp, a, b: xp.logical_and(a, b)

_INVERT_HINT = (
    "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
)


def _is_bool_tensor(v):
    return getattr(v, "_dtype", None) is D.bool


def _check_sub(args, params):
    a, b = args
    if _is_bool_tensor(a) and _is_bool_tensor(b):
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. "
            "Use the `^` or `logical_xor()` operator instead."
        )
    if _is_bool_tensor(a) or _is_bool_tensor(b):
        raise RuntimeError(
            f"Subtraction, the `-` operator, with a bool tensor is not supported. {_INVERT_HINT}"
        )


def _check_neg(args, params):
    if _is_bool_tensor(args[0]):
        raise RuntimeError(
            f"Negation, the `-` operator, on a bool tensor is not supported. {_INVERT_HINT}"
        )


def _check_relu(args, params):
    if _is_bool_tensor(args[0]):
        raise RuntimeError("Boolean inputs not supported for relu")


sub.check = _check_sub
neg.check = _check_neg
relu.check = _check_relu


# -- comparisons (not differentiable) ------------------------------------------


@defop(promote="compare")
def eq(xp, a, b):
    return xp.equal(a, b)


@defop(promote="compare")
def ne(xp, a, b):
    return xp.not_equal(a, b)


@defop(promote="compare")
def lt(xp, a, b):
    return xp.less(a, b)


@defop(promote="compare")
def le(xp, a, b):
    return xp.less_equal(a, b)


@defop(promote="compare")
def gt(xp, a, b):
    return xp.greater(a, b)


@defop(promote="compare")
def ge(xp, a, b):
    return xp.greater_equal(a, b)


for _op in (lt, le, gt, ge):
    _op.bool_forward = (lambda f: lambda xp, a, b: f(xp, _bool_as_int(xp, a), _bool_as_int(xp, b)))(
        _op.forward)


@defop(promote="compare")
def logical_and(xp, a, b):
    return xp.logical_and(xp.astype(a, xp.bool), xp.astype(b, xp.bool))


@defop(promote="compare")
def logical_or(xp, a, b):
    return xp.logical_or(xp.astype(a, xp.bool), xp.astype(b, xp.bool))


@defop(promote="compare")
def logical_not(xp, a):
    return xp.logical_not(xp.astype(a, xp.bool))


# -- selection, copies and casts --------------------------------------------------


@defop(promote="same", save=(0,), promote_skip=(0,))
def where(xp, cond, a, b):
    return xp.where(cond, a, b)


@where.defvjp
def _(ctx, grad):
    cond = ctx.inputs[0]
    need_a, need_b = ctx.needs_input_grad[1:]
    return (
        None,
        where(cond, grad, 0.0) if need_a else None,
        where(cond, 0.0, grad) if need_b else None,
    )


@defop(promote=None)
def overwrite(xp, x, src):
    """``src`` (already of ``x``'s dtype and shape) as the new value of ``x``."""
    return src


@overwrite.defvjp
def _(ctx, grad):
    # The old value no longer matters: zero gradient for it, as PyTorch's
    # FillBackward / CopyBackwards give.
    need_x, need_src = ctx.needs_input_grad
    return (zeros_like(grad) if need_x else None), (grad if need_src else None)


def zeros_like(t):
    from .._creation import zeros_like

    return zeros_like(t)


@defop(promote=None)
def clone(xp, x):
    return xp.asarray(x, copy=True)


@clone.defvjp
def _(ctx, grad):
    return (grad,)
