"""Elementwise primitives: arithmetic, exponentials, trigonometry, special functions,
rounding, clamping, comparisons, logic and bitwise ops, selection.

Note [Elementwise semantics are PyTorch's, on every backend]
Each forward is written once over ``xp``; where NumPy, JAX and the array API
standard disagree with PyTorch, the forward spells PyTorch's answer out rather
than trusting the library: integer division by zero raises ``RuntimeError:
ZeroDivisionError`` (JAX would return garbage), integers to negative powers give
0, 1 or -1 (NumPy raises), shifts by a negative amount or past the width give 0
(or the sign), ``sign(nan)`` is 0, floating floor division by zero gives
``a / 0``, and ``fmod`` is computed exactly from ``remainder`` (the standard has
no ``fmod``). ``erf``, ``erfc`` and ``erfinv`` are not in the standard either:
they are written here over ``xp`` to float64 accuracy (Cephes's rational
approximations, Newton-Halley steps for the inverse).

Python numbers reach a forward as they are on NumPy and JAX (weakly typed) and as
0-d arrays elsewhere; a forward that needs array methods on them calls
``_arrays`` first, which gives them the other operand's dtype (never NumPy's
default float64, which would change the result dtype).
"""

from __future__ import annotations

import math

from .. import _dtype as D
from .._tensor import _TYPE_NAMES, Tensor
from ._registry import _py_scalar, defop

__all__ = [  # exported as polytorch.NAME
    # arithmetic
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "floor_divide",
    "fmod", "remainder", "pow", "neg", "negative", "positive", "reciprocal", "square",
    "addcmul", "addcdiv", "lerp",
    # exponentials, logarithms, powers
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt",
    # trigonometric and hyperbolic
    "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "arcsin", "arccos", "arctan",
    "arctan2", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "arcsinh", "arccosh",
    "arctanh", "hypot",
    # activations and special functions
    "relu", "sigmoid", "logit", "erf", "erfc", "erfinv",
    # signs, rounding, clamping
    "abs", "absolute", "sign", "floor", "ceil", "round", "trunc", "fix", "frac",
    "clamp", "clip", "clamp_min", "clamp_max", "minimum", "maximum",
    # floating-point classes
    "isnan", "isinf", "isfinite", "isposinf", "isneginf", "nan_to_num",
    # comparisons
    "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal",
    "not_equal", "isclose", "allclose", "equal",
    # logic and bits
    "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or",
    "bitwise_xor", "bitwise_not", "bitwise_left_shift", "bitwise_right_shift",
    # selection and copies
    "where", "masked_fill", "clone",
]

# Tensor methods beyond those bound in polytorch/_tensor_methods.py: name -> function,
# and in-place variants: name -> (out-of-place function, when the rule reads the old self:
# None, "self", "other" or "any", by which inputs require grad). Filled at the end.
TENSOR_METHODS: dict = {}
INPLACE_METHODS: dict = {}


# -- helpers ---------------------------------------------------------------------------


def _is_number(v):
    return isinstance(v, (int, float, complex))


def _is_bool_tensor(v):
    return getattr(v, "_dtype", None) is D.bool


def _arrays(xp, a, b):
    """``a`` and ``b`` as arrays: a Python number takes the other operand's dtype."""
    if not hasattr(a, "dtype"):
        a = xp.asarray(a, dtype=b.dtype)
    elif not hasattr(b, "dtype"):
        b = xp.asarray(b, dtype=a.dtype)
    return a, b


def _kind(xp, *arrays) -> str:
    """"b", "i" or "f": the kind of the first array among ``arrays`` (all share one dtype)."""
    for a in arrays:
        if hasattr(a, "dtype"):
            if a.dtype == xp.bool:
                return "b"
            return "f" if xp.isdtype(a.dtype, "real floating") else \
                "c" if xp.isdtype(a.dtype, "complex floating") else "i"
    raise TypeError("expected an array operand")


def _raise_if_zero(xp, b):
    """PyTorch's error for integer division (and remainder) by zero."""
    zero = (b == 0) if not hasattr(b, "dtype") else bool(xp.any(b == 0))
    if zero:
        raise RuntimeError("ZeroDivisionError")


def _result_dtype(args) -> D.dtype:
    return D.result_type(*(a for a in args if isinstance(a, Tensor) or _is_number(a)))


def _not_implemented(kernel: str, dt: D.dtype):
    return NotImplementedError(f'"{kernel}" not implemented for \'{_TYPE_NAMES[dt]}\'')


def _refuse(kernel: str, kinds: str):
    """An ``op.check`` raising PyTorch's NotImplementedError for dtypes of ``kinds``."""

    def check(args, params):
        dt = _result_dtype(args)
        if dt.kind in kinds:
            raise _not_implemented(kernel, dt)

    return check


def _zeros(grad):
    return grad * 0


# -- arithmetic -------------------------------------------------------------


@defop(promote="same")
def add(xp, a, b, *, alpha=1):
    """``a + alpha * b`` (``polytorch.add(input, other, *, alpha=1)``)."""
    return xp.add(a, b) if alpha == 1 else xp.add(a, b * alpha)


@add.defvjp
def _(ctx, grad):
    alpha = ctx.params.get("alpha", 1)
    need_b = ctx.needs_input_grad[1]
    return grad, (grad if alpha == 1 else grad * alpha) if need_b else None


@defop(promote="same")
def sub(xp, a, b, *, alpha=1):
    """``a - alpha * b`` (``polytorch.sub(input, other, *, alpha=1)``)."""
    return xp.subtract(a, b) if alpha == 1 else xp.subtract(a, b * alpha)


@sub.defvjp
def _(ctx, grad):
    alpha = ctx.params.get("alpha", 1)
    need_b = ctx.needs_input_grad[1]
    return grad, (-grad if alpha == 1 else grad * -alpha) if need_b else None


@defop(promote="same", save={0: (1,), 1: (0,)})
def mul(xp, a, b):
    return xp.multiply(a, b)


@mul.defvjp
def _(ctx, grad):
    a, b = ctx.inputs
    need_a, need_b = ctx.needs_input_grad
    return (grad * b if need_a else None), (grad * a if need_b else None)


subtract, multiply = sub, mul


@defop("div", promote="float", save={0: (1,), 1: (0, 1)})
def true_divide(xp, a, b):
    return xp.divide(a, b)


@true_divide.defvjp
def _(ctx, grad):
    a, b = ctx.inputs
    need_a, need_b = ctx.needs_input_grad
    return (grad / b if need_a else None), (-grad * a / (b * b) if need_b else None)


@defop(promote="same")
def div_rounding(xp, a, b, *, rounding_mode):
    """``a / b`` rounded toward zero ("trunc") or down ("floor"), in the promoted dtype."""
    a, b = _arrays(xp, a, b)
    if _kind(xp, a) != "f":
        _raise_if_zero(xp, b)
        q = xp.floor_divide(a, b)
        if rounding_mode == "trunc":
            # Round the floored quotient up where the exact one was negative and inexact.
            inexact = (a - q * b) != 0
            q = xp.where(inexact & ((a < 0) != (b < 0)), q + 1, q)
        return q
    if rounding_mode == "trunc":
        return xp.trunc(xp.divide(a, b))
    # Floored division by zero is a / 0 (inf or nan), as in PyTorch; JAX would give nan.
    return xp.where(b == 0, xp.divide(a, b), xp.floor_divide(a, b))


@div_rounding.defvjp
def _(ctx, grad):
    # Piecewise constant: zero gradients (PyTorch's DivBackward with a rounding mode).
    z = _zeros(grad)
    return z, z


def _check_rounding(args, params):
    dt = _result_dtype(args)
    if dt is D.bool:
        raise _not_implemented("div_floor_cpu" if params["rounding_mode"] == "floor"
                               else "div_trunc_cpu", dt)


div_rounding.check = _check_rounding


def div(input, other, *, rounding_mode=None):
    """``input / other``: true division, or rounded with ``rounding_mode`` "trunc" or "floor".

    Example:
        >>> polytorch.div(polytorch.tensor([-7, 7]), 2, rounding_mode="trunc")
        tensor([-3,  3])
    """
    if rounding_mode is None:
        return true_divide(input, other)
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"'{rounding_mode}'"
        )
    return div_rounding(input, other, rounding_mode=rounding_mode)


divide = div


def floor_divide(input, other):
    """``input // other``: division rounded down (integers stay integers).

    Example:
        >>> polytorch.floor_divide(polytorch.tensor([-7, 7]), 2)
        tensor([-4,  3])
    """
    return div_rounding(input, other, rounding_mode="floor")


@defop(promote="same", save={0: (1,), 1: (1,)})
def remainder(xp, a, b):
    """Python's modulus: the result has the sign of the divisor."""
    a, b = _arrays(xp, a, b)
    if _kind(xp, a) != "f":
        _raise_if_zero(xp, b)
    return xp.remainder(a, b)


@remainder.defvjp
def _(ctx, grad):
    a, b = ctx.inputs
    need_a, need_b = ctx.needs_input_grad
    return (grad if need_a else None), \
        (-grad * div_rounding(a, b, rounding_mode="floor") if need_b else None)


@defop(promote="same", save={0: (1,), 1: (1,)})
def fmod(xp, a, b):
    """C's fmod: the result has the sign of the dividend."""
    a, b = _arrays(xp, a, b)
    if _kind(xp, a) != "f":
        _raise_if_zero(xp, b)
        r = xp.remainder(a, b)
        return xp.where((r != 0) & ((r < 0) != (a < 0)), r - b, r)
    # remainder of magnitudes is fmod of magnitudes, exactly; the sign is the dividend's.
    return xp.copysign(xp.remainder(xp.abs(a), xp.abs(b)), a)


@fmod.defvjp
def _(ctx, grad):
    a, b = ctx.inputs
    need_a, need_b = ctx.needs_input_grad
    return (grad if need_a else None), \
        (-grad * div_rounding(a, b, rounding_mode="trunc") if need_b else None)


remainder.check = _refuse("remainder_cpu", "b")
fmod.check = _refuse("fmod_cpu", "b")


@defop(promote="same", save=(0, 1), save_result=(1,))
def pow(xp, a, b):  # noqa: A001 (PyTorch's name)
    if _kind(xp, a, b) in "iu":
        # NumPy raises on negative integer exponents; PyTorch gives 1 for a base of 1,
        # +-1 for -1 and 0 otherwise (integer division of 1 by a ** -b).
        a, b = _arrays(xp, a, b)
        neg = b < 0
        out = xp.pow(a, xp.where(neg, xp.zeros_like(b), b))
        if bool(xp.any(neg)):
            odd = xp.remainder(b, 2) != 0
            minus_one = xp.where(odd, -xp.ones_like(out), xp.ones_like(out))
            small = xp.where(a == 1, xp.ones_like(out),
                             xp.where(a == -1, minus_one, xp.zeros_like(out)))
            out = xp.where(neg, small, out)
        return out
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


def _check_pow(args, params):
    a, b = args
    if isinstance(a, Tensor) and a._dtype.kind in "iu" and type(b) is int and b < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")


pow.check = _check_pow


def square(input):
    """``input * input`` (``input ** 2``: bool gives int64, as in PyTorch).

    Example:
        >>> polytorch.square(polytorch.tensor([-2.0, 3.0]))
        tensor([4., 9.])
    """
    return pow(input, 2)


@defop(promote=None)
def neg(xp, x):
    return xp.negative(x)


@neg.defvjp
def _(ctx, grad):
    return (-grad,)


negative = neg


def positive(input):
    """``+input``: the input itself (refused on bool tensors, as in PyTorch)."""
    if _is_bool_tensor(input):
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


@defop(promote="float", save_result=True)
def reciprocal(xp, x):
    return xp.divide(1, x) if _kind(xp, x) != "f" else 1 / x


@reciprocal.defvjp
def _(ctx, grad):
    out = ctx.result
    return (-grad * out * out,)


def _check_alpha(name, what="alpha"):
    def check(args, params):
        if not params:
            return
        alpha = params.get(what, 1)
        if alpha == 1 and not isinstance(alpha, float):
            return
        dt = _result_dtype(args)
        if dt.kind in "biu" and isinstance(alpha, float):
            raise RuntimeError(
                f"For integral input tensors, argument {what} must not be a floating point "
                f"number."
            )
        if dt is D.bool and not isinstance(alpha, bool):
            raise RuntimeError(f"Boolean {what} only supported for Boolean results.")

    return check


def addcmul(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 * tensor2``.

    Example:
        >>> polytorch.addcmul(polytorch.zeros(2), polytorch.ones(2), polytorch.ones(2), value=3)
        tensor([3., 3.])
    """
    prod = mul(tensor1, tensor2)
    if value != 1 or isinstance(value, float):
        dt = _result_dtype((input, tensor1, tensor2))
        if dt.kind in "iu" and isinstance(value, float):
            value = int(value)  # PyTorch casts the scalar to the integer dtype
        prod = mul(prod, value)
    return add(input, prod)


def addcdiv(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 / tensor2`` (integer ``tensor1`` and ``tensor2`` are refused).

    Example:
        >>> polytorch.addcdiv(polytorch.zeros(2), polytorch.ones(2), polytorch.full((2,), 4.0))
        tensor([0.2500, 0.2500])
    """
    kinds = [t._dtype.kind if isinstance(t, Tensor) else D.scalar_dtype(t).kind
             for t in (tensor1, tensor2)]
    if all(k in "biu" for k in kinds):
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future  release "
            "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
            "behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2))"
            ".to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) "
            "for float inputs. The future addcdiv behavior is just the latter implementation: "
            "(input + value * tensor1 / tensor2), for all dtypes."
        )
    quotient = true_divide(tensor1, tensor2)
    if value != 1:
        quotient = mul(quotient, value)
    return add(input, quotient)


@defop(promote="same", save={0: (2,), 1: (2,), 2: (0, 1)})
def lerp(xp, start, end, weight):
    """``start + weight * (end - start)``, computed from the nearer end as PyTorch does."""
    diff = end - start
    low = start + weight * diff
    high = end - diff * (1 - weight)
    if not hasattr(weight, "dtype"):
        return low if -0.5 < weight < 0.5 else high
    return xp.where(xp.abs(weight) < 0.5, low, high)


@lerp.defvjp
def _(ctx, grad):
    start, end, weight = ctx.inputs
    need_s, need_e, need_w = ctx.needs_input_grad
    return (
        grad * (1 - weight) if need_s else None,
        grad * weight if need_e else None,
        grad * (end - start) if need_w else None,
    )


def _check_lerp(args, params):
    start, end, weight = args
    if not isinstance(start, Tensor) or not isinstance(end, Tensor):
        raise TypeError("lerp(): arguments 'input' and 'end' must be Tensors")
    if start._dtype.kind not in "fc":
        raise _not_implemented("lerp_kernel_scalar" if _is_number(weight)
                               else "lerp_kernel_tensor", start._dtype)
    for name, t in (("end", end), ("weight", weight)):
        if isinstance(t, Tensor) and t._dtype is not start._dtype:
            raise RuntimeError(
                f"expected dtype {_TORCH_NAMES[start._dtype]} for `{name}` but got dtype "
                f"{_TORCH_NAMES[t._dtype]}"
            )


_TORCH_NAMES = {D.float32: "float", D.float64: "double", D.float16: "c10::Half",
                D.bfloat16: "c10::BFloat16", D.int64: "long int", D.int32: "int",
                D.int16: "short int", D.int8: "signed char", D.uint8: "unsigned char",
                D.bool: "bool", D.complex64: "c10::complex<float>",
                D.complex128: "c10::complex<double>"}

lerp.check = _check_lerp
add.check = _check_alpha("add")


# -- exponentials, logarithms, roots ------------------------------------------


@defop(promote="float", save_result=True)
def exp(xp, x):
    return xp.exp(x)


@exp.defvjp
def _(ctx, grad):
    return (grad * ctx.result,)


@defop(promote="float", save_result=True)
def exp2(xp, x):
    return xp.pow(2.0, x)


@exp2.defvjp
def _(ctx, grad):
    return (grad * ctx.result * _LN2,)


@defop(promote="float", save_result=True)
def expm1(xp, x):
    return xp.expm1(x)


@expm1.defvjp
def _(ctx, grad):
    return (grad * (ctx.result + 1),)


@defop(promote="float", save=(0,))
def log(xp, x):
    return xp.log(x)


@log.defvjp
def _(ctx, grad):
    return (grad / ctx.inputs[0],)


@defop(promote="float", save=(0,))
def log2(xp, x):
    return xp.log2(x)


@log2.defvjp
def _(ctx, grad):
    return (grad / (ctx.inputs[0] * _LN2),)


@defop(promote="float", save=(0,))
def log10(xp, x):
    return xp.log10(x)


@log10.defvjp
def _(ctx, grad):
    return (grad / (ctx.inputs[0] * _LN10),)


@defop(promote="float", save=(0,))
def log1p(xp, x):
    return xp.log1p(x)


@log1p.defvjp
def _(ctx, grad):
    return (grad / (ctx.inputs[0] + 1),)


@defop(promote="float", save_result=True)
def sqrt(xp, x):
    return xp.sqrt(x)


@sqrt.defvjp
def _(ctx, grad):
    return (grad / (2 * ctx.result),)


@defop(promote="float", save_result=True)
def rsqrt(xp, x):
    return 1 / xp.sqrt(x)


@rsqrt.defvjp
def _(ctx, grad):
    out = ctx.result
    return (-0.5 * grad * out * out * out,)


_LN2 = math.log(2.0)
_LN10 = math.log(10.0)

# -- trigonometric and hyperbolic ------------------------------------------------


@defop(promote="float", save=(0,))
def sin(xp, x):
    return xp.sin(x)


@sin.defvjp
def _(ctx, grad):
    return (grad * cos(ctx.inputs[0]),)


@defop(promote="float", save=(0,))
def cos(xp, x):
    return xp.cos(x)


@cos.defvjp
def _(ctx, grad):
    return (grad * -sin(ctx.inputs[0]),)


@defop(promote="float", save_result=True)
def tan(xp, x):
    return xp.tan(x)


@tan.defvjp
def _(ctx, grad):
    out = ctx.result
    return (grad * (1 + out * out),)


@defop(promote="float", save=(0,))
def asin(xp, x):
    return xp.asin(x)


@asin.defvjp
def _(ctx, grad):
    x = ctx.inputs[0]
    return (grad * rsqrt(1 - x * x),)


@defop(promote="float", save=(0,))
def acos(xp, x):
    return xp.acos(x)


@acos.defvjp
def _(ctx, grad):
    x = ctx.inputs[0]
    return (-grad * rsqrt(1 - x * x),)


@defop(promote="float", save=(0,))
def atan(xp, x):
    return xp.atan(x)


@atan.defvjp
def _(ctx, grad):
    x = ctx.inputs[0]
    return (grad / (x * x + 1),)


@defop(promote="float", save=(0, 1))
def atan2(xp, a, b):
    return xp.atan2(a, b)


@atan2.defvjp
def _(ctx, grad):
    a, b = ctx.inputs
    need_a, need_b = ctx.needs_input_grad
    scale = grad / (a * a + b * b)
    return (scale * b if need_a else None), (-scale * a if need_b else None)


@defop(promote="float", save=(0,))
def sinh(xp, x):
    return xp.sinh(x)


@sinh.defvjp
def _(ctx, grad):
    return (grad * cosh(ctx.inputs[0]),)


@defop(promote="float", save=(0,))
def cosh(xp, x):
    return xp.cosh(x)


@cosh.defvjp
def _(ctx, grad):
    return (grad * sinh(ctx.inputs[0]),)


@defop(promote="float", save_result=True)
def tanh(xp, x):
    return xp.tanh(x)


@tanh.defvjp
def _(ctx, grad):
    out = ctx.result
    return (grad * (1 - out * out),)


@defop(promote="float", save=(0,))
def asinh(xp, x):
    return xp.asinh(x)


@asinh.defvjp
def _(ctx, grad):
    x = ctx.inputs[0]
    return (grad * rsqrt(x * x + 1),)


@defop(promote="float", save=(0,))
def acosh(xp, x):
    return xp.acosh(x)


@acosh.defvjp
def _(ctx, grad):
    x = ctx.inputs[0]
    return (grad * rsqrt(x * x - 1),)


@defop(promote="float", save=(0,))
def atanh(xp, x):
    return xp.atanh(x)


@atanh.defvjp
def _(ctx, grad):
    x = ctx.inputs[0]
    return (grad / (1 - x * x),)


@defop(promote="same", save=(0, 1), save_result=True)
def hypot(xp, a, b):
    return xp.hypot(a, b)


@hypot.defvjp
def _(ctx, grad):
    a, b = ctx.inputs
    need_a, need_b = ctx.needs_input_grad
    scale = grad / ctx.result
    return (scale * a if need_a else None), (scale * b if need_b else None)


hypot.check = _refuse("hypot_cpu", "biu")

arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
arcsinh, arccosh, arctanh = asinh, acosh, atanh

# -- activations and special functions -------------------------------------------


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


@defop("logit", promote="float", save=(0,))
def logit_op(xp, x, *, eps=None):
    if eps is not None:
        x = xp.clip(x, eps, 1 - eps)
    return xp.log(x / (1 - x))


@logit_op.defvjp
def _(ctx, grad):
    x = ctx.inputs[0]
    eps = ctx.params.get("eps")
    if x.dtype is not grad.dtype:
        x = x.to(grad.dtype)
    g = grad / (x * (1 - x))
    if eps is None:
        return (where(logical_or(x < 0, x > 1), float("nan"), g),)
    return (where(logical_or(x < eps, x > 1 - eps), 0.0, g),)


def logit(input, eps=None):
    """``log(p / (1 - p))``, with ``p`` clamped to ``[eps, 1 - eps]`` when ``eps`` is given.

    Example:
        >>> polytorch.logit(polytorch.tensor([0.5, 0.0]), eps=0.25)
        tensor([ 0.0000, -1.0986])
    """
    if eps is None:
        return logit_op(input)
    return logit_op(input, eps=float(eps))


# Note [erf over xp]
# W. J. Cody's / Cephes's rational approximations (ndtr.c): erf(x) = x T(x^2) / U(x^2)
# for |x| <= 1; erfc(x) = exp(-x^2) P(x) / Q(x) on [1, 8) and exp(-x^2) R(x) / S(x)
# beyond; about 1e-16 relative error in float64. exp(-x^2) is taken as
# exp(-h^2) exp(-(2 h l + l^2)) with x = h + l and h a multiple of 1/128, so that
# rounding x^2 does not cost digits for large x (Cephes's expx2).

_ERF_T = (9.60497373987051638749e0, 9.00260197203842689217e1, 2.23200534594684319226e3,
          7.00332514112805075473e3, 5.55923013010394962768e4)
_ERF_U = (1.0, 3.35617141647503099647e1, 5.21357949780152679795e2, 4.59432382970980127987e3,
          2.26290000613890934246e4, 4.92673942608635921086e4)
_ERFC_P = (2.46196981473530512524e-10, 5.64189564831068821977e-1, 7.46321056442269912687e0,
           4.86371970985681366614e1, 1.96520832956077098242e2, 5.26445194995477358631e2,
           9.34528527171957607540e2, 1.02755188689515710272e3, 5.57535335369399327526e2)
_ERFC_Q = (1.0, 1.32281951154744992508e1, 8.67072140885989742329e1, 3.54937778887819891062e2,
           9.75708501743205489753e2, 1.82390916687909736289e3, 2.24633760818710981792e3,
           1.65666309194161350182e3, 5.57535340817727675546e2)
_ERFC_R = (5.64189583547755073984e-1, 1.27536670759978104416e0, 5.01905042251180477414e0,
           6.16021097993053585195e0, 7.40974269950448939160e0, 2.97886665372100240670e0)
_ERFC_S = (1.0, 2.26052863220117276590e0, 9.39603524938001434673e0, 1.20489539808096656605e1,
           1.70814450747565897222e1, 9.60896809063285878198e0, 3.36907645100081516050e0)


def _poly(x, coefs):
    out = coefs[0] + x * 0
    for c in coefs[1:]:
        out = out * x + c
    return out


def _erf_small(x):
    """erf for |x| <= 1."""
    z = x * x
    return x * _poly(z, _ERF_T) / _poly(z, _ERF_U)


def _erfc_large(xp, a):
    """erfc(a) for a >= 1 (any a >= 0 is safe to pass; nan propagates)."""
    a = xp.minimum(a, 30.0)  # erfc underflows to 0 long before; keeps inf out of h - l
    h = xp.floor(a * 128 + 0.5) / 128
    lo = a - h
    z = xp.exp(-h * h) * xp.exp(-(2 * h + lo) * lo)
    near = _poly(a, _ERFC_P) / _poly(a, _ERFC_Q)
    far = _poly(a, _ERFC_R) / _poly(a, _ERFC_S)
    return z * xp.where(a < 8, near, far)


def _erf(xp, x):
    a = xp.abs(x)
    small = a <= 1
    inner = _erf_small(xp.where(small, x, xp.zeros_like(x)))
    outer = 1 - _erfc_large(xp, xp.where(small, xp.ones_like(a), a))
    return xp.where(small, inner, xp.copysign(outer, x))


def _erfc(xp, x):
    a = xp.abs(x)
    small = a < 1
    inner = 1 - _erf_small(xp.where(small, x, xp.zeros_like(x)))
    tail = _erfc_large(xp, xp.where(small, xp.ones_like(a), a))
    return xp.where(small, inner, xp.where(x < 0, 2 - tail, tail))


_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


@defop(promote="float", save=(0,))
def erf(xp, x):
    return _erf(xp, x)


@erf.defvjp
def _(ctx, grad):
    x = ctx.inputs[0]
    return (grad * _TWO_OVER_SQRT_PI * exp(-(x * x)),)


@defop(promote="float", save=(0,))
def erfc(xp, x):
    return _erfc(xp, x)


@erfc.defvjp
def _(ctx, grad):
    x = ctx.inputs[0]
    return (grad * -_TWO_OVER_SQRT_PI * exp(-(x * x)),)


# erfinv: M. Giles's single-precision approximation ("Approximating the erfinv function",
# GPU Computing Gems, 2011) where it holds, the asymptotic x^2 ~ t - log(sqrt(pi t)) with
# t = -log(1 - |y|) far in the tail, then three Newton steps to the working precision:
# Halley's on erf(x) = |y| in the middle, plain Newton's on log erfc(x) = log(1 - |y|)
# near +-1, where 1 - |y| is exact and erfc is nearly exponential in x.
_GILES_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                  0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_GILES_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
               0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


def _erfinv(xp, y):
    a = xp.abs(y)
    inside = a < 1
    a = xp.where(inside, a, xp.zeros_like(a))
    log_q = xp.log(1 - a)
    w = -xp.log((1 - a) * (1 + a))
    central = _poly(w - 2.5, _GILES_CENTRAL)
    tail = _poly(xp.sqrt(xp.maximum(w, 5.0)) - 3, _GILES_TAIL)
    t = xp.maximum(-log_q, 2.0)
    far = xp.sqrt(t - 0.5 * math.log(math.pi) - 0.5 * xp.log(t))
    x = xp.where(w < 5, central * a, xp.where(w < 16, tail * a, far))
    near_one = a > 0.5
    for _ in range(3):
        slope = _TWO_OVER_SQRT_PI * xp.exp(-x * x)
        c = _erfc(xp, x)
        r = _erf(xp, x) - a
        x = xp.where(near_one, x + (xp.log(c) - log_q) * c / slope, x - r / (slope + x * r))
    x = xp.where(inside, x, xp.where(xp.abs(y) == 1, xp.full_like(a, math.inf),
                                     xp.full_like(a, math.nan)))
    return xp.copysign(x, y)


@defop(promote="float", save_result=True)
def erfinv(xp, y):
    return _erfinv(xp, y)


def _jitted(reference):
    """A JAX kernel: ``reference`` over ``jax.numpy`` compiled once per shape and dtype
    (eagerly, its forty-odd small ops would each dispatch, and compile, on their own)."""
    compiled = []

    def kernel(xp, x):
        if not compiled:
            import jax

            compiled.append(jax.jit(lambda v: reference(xp, v)))
        return compiled[0](x)

    return kernel


for _op, _reference in ((erf, _erf), (erfc, _erfc), (erfinv, _erfinv)):
    _op.register_kernel("jax")(_jitted(_reference))


@erfinv.defvjp
def _(ctx, grad):
    out = ctx.result
    return (grad * (math.sqrt(math.pi) / 2) * exp(out * out),)


# -- signs and rounding ------------------------------------------------------------


def _copy(xp, x):
    return xp.asarray(x, copy=True)


@defop(promote=None, save=(0,))
def abs(xp, x):  # noqa: A001 (PyTorch's name)
    return xp.abs(x)


@abs.defvjp
def _(ctx, grad):
    return (grad * sign(ctx.inputs[0]),)  # abs'(0) = 0


absolute = abs


@defop(promote=None)
def sign(xp, x):
    kind = _kind(xp, x)
    if kind == "b":
        return _copy(xp, x)
    # (x > 0) - (x < 0): sign(nan) is 0 and sign(-0.0) is 0, as in PyTorch.
    return xp.astype(x > 0, x.dtype) - xp.astype(x < 0, x.dtype)


@sign.defvjp
def _(ctx, grad):
    return (_zeros(grad),)


def _rounding(name, fn):
    @defop(name, promote=None)
    def op(xp, x):
        return fn(xp, x) if _kind(xp, x) == "f" else _copy(xp, x)

    op.defvjp(lambda ctx, grad: (_zeros(grad),))
    op.check = _refuse(f"{name}_cpu", "b")
    op.forward.__doc__ = f"{name} of a floating tensor; integers are returned as they are."
    return op


floor = _rounding("floor", lambda xp, x: xp.floor(x))
ceil = _rounding("ceil", lambda xp, x: xp.ceil(x))
trunc = _rounding("trunc", lambda xp, x: xp.trunc(x))
fix = trunc


@defop("round", promote=None)
def round_op(xp, x, *, decimals=0):
    """Half to even, as PyTorch (and the array API) round."""
    if _kind(xp, x) != "f":
        return _copy(xp, x)
    if decimals == 0:
        return xp.round(x)
    # PyTorch's formula, with 10**|decimals| in the tensor's dtype.
    if decimals > 0:
        ten = 10.0**decimals
        return xp.round(x * ten) / ten
    ten = 10.0**-decimals
    return xp.round(x / ten) * ten


@round_op.defvjp
def _(ctx, grad):
    return (_zeros(grad),)


def _check_round(args, params):
    dt = args[0]._dtype
    if dt is D.bool or (params.get("decimals", 0) != 0 and dt.kind in "iu"):
        raise _not_implemented("round_cpu", dt)


round_op.check = _check_round


def round(input, *, decimals=0):  # noqa: A001 (PyTorch's name)
    """Round to ``decimals`` decimal places, halves to even.

    Example:
        >>> polytorch.round(polytorch.tensor([0.5, 1.5, 1.25]), decimals=0)
        tensor([0., 2., 1.])
    """
    if decimals == 0:
        return round_op(input)
    return round_op(input, decimals=int(decimals))


@defop(promote=None)
def frac(xp, x):
    return x - xp.trunc(x)


@frac.defvjp
def _(ctx, grad):
    return (grad,)


frac.check = _refuse("frac_cpu", "biu")

# -- clamping, minimum and maximum --------------------------------------------------


@defop("clamp", promote="same", save=(0, 1, 2))
def clamp_op(xp, x, lo, hi):
    return xp.minimum(xp.maximum(x, lo), hi)


@clamp_op.defvjp
def _(ctx, grad):
    x, lo, hi = ctx.inputs
    need_x, need_lo, need_hi = ctx.needs_input_grad
    # PyTorch's clamp_backward and clamp_backward_min_max: the gradient goes to the input
    # inside [lo, hi] (bounds included), to lo below it, to hi above it or when hi < lo.
    return (
        where(logical_and(x >= lo, x <= hi), grad, 0.0) if need_x else None,
        where(logical_and(x < lo, lo < hi), grad, 0.0) if need_lo else None,
        where(logical_or(x > hi, hi < lo), grad, 0.0) if need_hi else None,
    )


@defop("clamp_min", promote="same", save=(0, 1))
def clamp_min_op(xp, x, lo):
    return xp.maximum(x, lo)


@clamp_min_op.defvjp
def _(ctx, grad):
    x, lo = ctx.inputs
    need_x, need_lo = ctx.needs_input_grad
    return (where(x >= lo, grad, 0.0) if need_x else None), \
        (where(x < lo, grad, 0.0) if need_lo else None)


@defop("clamp_max", promote="same", save=(0, 1))
def clamp_max_op(xp, x, hi):
    return xp.minimum(x, hi)


@clamp_max_op.defvjp
def _(ctx, grad):
    x, hi = ctx.inputs
    need_x, need_hi = ctx.needs_input_grad
    return (where(x <= hi, grad, 0.0) if need_x else None), \
        (where(x > hi, grad, 0.0) if need_hi else None)


clamp_op.bool_forward = lambda xp, x, lo, hi: xp.logical_and(xp.logical_or(x, lo), hi)
clamp_min_op.bool_forward = lambda xp, x, lo: xp.logical_or(x, lo)
clamp_max_op.bool_forward = lambda xp, x, hi: xp.logical_and(x, hi)


def clamp(input, min=None, max=None):  # noqa: A002 (PyTorch's names)
    """Clamp every element into ``[min, max]`` (numbers or tensors; either may be None).

    Example:
        >>> polytorch.clamp(polytorch.tensor([-2.0, 0.5, 3.0]), min=0, max=1)
        tensor([0.0000, 0.5000, 1.0000])
    """
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if min is None:
        return clamp_max_op(input, max)
    if max is None:
        return clamp_min_op(input, min)
    return clamp_op(input, min, max)


clip = clamp


def clamp_min(input, min):  # noqa: A002
    """``max(input, min)`` elementwise (``clamp(input, min=min)``)."""
    return clamp_min_op(input, min)


def clamp_max(input, max):  # noqa: A002
    """``min(input, max)`` elementwise (``clamp(input, max=max)``)."""
    return clamp_max_op(input, max)


@defop(promote="same", save=(0, 1))
def maximum(xp, a, b):
    return xp.maximum(a, b)


@maximum.defvjp
def _(ctx, grad):
    a, b = ctx.inputs
    need_a, need_b = ctx.needs_input_grad
    # Ties split the gradient in half (PyTorch); a NaN sends it to both.
    shared = where(a == b, grad / 2, grad)
    return (where(a < b, 0.0, shared) if need_a else None), \
        (where(a > b, 0.0, shared) if need_b else None)


@defop(promote="same", save=(0, 1))
def minimum(xp, a, b):
    return xp.minimum(a, b)


@minimum.defvjp
def _(ctx, grad):
    a, b = ctx.inputs
    need_a, need_b = ctx.needs_input_grad
    shared = where(a == b, grad / 2, grad)
    return (where(a > b, 0.0, shared) if need_a else None), \
        (where(a < b, 0.0, shared) if need_b else None)


maximum.bool_forward = lambda xp, a, b: xp.logical_or(a, b)
minimum.bool_forward = lambda xp, a, b: xp.logical_and(a, b)

# -- floating-point classes ---------------------------------------------------------


def _classifier(name, fn, default):
    @defop(name, promote=None, out_dtype=D.bool)
    def op(xp, x):
        if _kind(xp, x) in "fc":
            return fn(xp, x)
        return (xp.ones_like if default else xp.zeros_like)(x, dtype=xp.bool)

    op.forward.__doc__ = f"{name}: bool, elementwise ({default} for integers and bools)."
    return op


isnan = _classifier("isnan", lambda xp, x: xp.isnan(x), False)
isinf = _classifier("isinf", lambda xp, x: xp.isinf(x), False)
isfinite = _classifier("isfinite", lambda xp, x: xp.isfinite(x), True)
isposinf = _classifier("isposinf", lambda xp, x: x == math.inf, False)
isneginf = _classifier("isneginf", lambda xp, x: x == -math.inf, False)


@defop("nan_to_num", promote=None, save=(0,))
def nan_to_num_op(xp, x, *, nan=0.0, posinf=None, neginf=None):
    if _kind(xp, x) != "f":
        return _copy(xp, x)
    info = xp.finfo(x.dtype)
    posinf = float(info.max) if posinf is None else posinf
    neginf = float(info.min) if neginf is None else neginf
    x = xp.where(xp.isnan(x), nan, x)
    x = xp.where(x == math.inf, posinf, x)
    return xp.where(x == -math.inf, neginf, x)


@nan_to_num_op.defvjp
def _(ctx, grad):
    return (grad * isfinite(ctx.inputs[0]),)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (default: the
    dtype's largest and lowest finite values).

    Example:
        >>> polytorch.nan_to_num(polytorch.tensor([float("nan"), 1.0]), nan=-1.0)
        tensor([-1.,  1.])
    """
    params = {"nan": float(nan)}
    if posinf is not None:
        params["posinf"] = float(posinf)
    if neginf is not None:
        params["neginf"] = float(neginf)
    return nan_to_num_op(input, **params)


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


def _bool_as_int(xp, v):
    return int(v) if isinstance(v, bool) else xp.astype(v, xp.int8)


for _op in (lt, le, gt, ge):
    _op.bool_forward = (lambda f: lambda xp, a, b: f(xp, _bool_as_int(xp, a), _bool_as_int(xp, b)))(
        _op.forward)

greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


@defop("isclose", promote=None, out_dtype=D.bool, needs_backend=True)
def isclose_op(backend, a, b, *, rtol, atol, equal_nan):
    """PyTorch's isclose: equal, or a finite ``|a - b| <= atol + |rtol * b|``."""
    xp = backend.xp
    close = a == b
    kind = _kind(xp, a)
    if equal_nan and kind in "fc":
        close = close | (xp.isnan(a) & xp.isnan(b))
    if rtol == 0 and atol == 0:
        return close
    if kind not in "fc":  # integers and bools compare in the default float dtype
        native = backend.native_dtype(D._default_float)
        a, b = xp.astype(a, native), xp.astype(b, native)
    allowed = atol + xp.abs(rtol * b)
    actual = xp.abs(a - b)
    return close | (xp.isfinite(actual) & (actual <= allowed))


def _check_close(args, params):
    a, b = args
    for name, t in (("input", a), ("other", b)):
        if not isinstance(t, Tensor):
            raise TypeError(f"isclose(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if a._dtype is not b._dtype:
        raise RuntimeError(f"{_TYPE_NAMES[a._dtype]} did not match {_TYPE_NAMES[b._dtype]}")
    for name in ("rtol", "atol"):
        if params[name] < 0:
            raise RuntimeError(
                f"{name} must be greater than or equal to zero, but got {params[name]}")


isclose_op.check = _check_close


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|input - other| <= atol + rtol * |other|`` (or equal), as a bool tensor.

    Example:
        >>> polytorch.isclose(polytorch.tensor([1.0, 2.0]), polytorch.tensor([1.0 + 1e-9, 2.1]))
        tensor([ True, False])
    """
    return isclose_op(input, other, rtol=float(rtol), atol=float(atol),
                      equal_nan=bool(equal_nan))


def _all(t) -> bool:
    return bool(t._device._impl[1].xp.all(t._data))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """Whether every element of ``input`` is close to ``other`` (see ``isclose``).

    Example:
        >>> polytorch.allclose(polytorch.tensor([1.0]), polytorch.tensor([1.0 + 1e-9]))
        True
    """
    return _all(isclose(input, other, rtol, atol, equal_nan))


def equal(input, other) -> bool:
    """Whether the two tensors have the same shape and the same values.

    Example:
        >>> polytorch.equal(polytorch.tensor([1, 2]), polytorch.tensor([1.0, 2.0]))
        True
    """
    for name, t in (("input", input), ("other", other)):
        if not isinstance(t, Tensor):
            raise TypeError(f"equal(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if input._device != other._device:
        raise RuntimeError(
            f"Expected all tensors to be on the same device, but found at least two devices, "
            f"{input._device} and {other._device}! (in equal)"
        )
    if tuple(input.shape) != tuple(other.shape):
        return False
    return _all(eq(input, other))


# -- logic and bits (not differentiable) ------------------------------------------------


def _truth(xp, v):
    return xp.astype(v, xp.bool) if hasattr(v, "dtype") else bool(v)


@defop(promote="compare")
def logical_and(xp, a, b):
    return xp.logical_and(_truth(xp, a), _truth(xp, b))


@defop(promote="compare")
def logical_or(xp, a, b):
    return xp.logical_or(_truth(xp, a), _truth(xp, b))


@defop(promote="compare")
def logical_xor(xp, a, b):
    return xp.logical_xor(_truth(xp, a), _truth(xp, b))


@defop(promote="compare")
def logical_not(xp, a):
    return xp.logical_not(xp.astype(a, xp.bool))


@defop(promote="same")
def bitwise_and(xp, a, b):
    return xp.bitwise_and(a, b)


@defop(promote="same")
def bitwise_or(xp, a, b):
    return xp.bitwise_or(a, b)


@defop(promote="same")
def bitwise_xor(xp, a, b):
    return xp.bitwise_xor(a, b)


@defop(promote=None)
def bitwise_not(xp, x):
    return xp.bitwise_invert(x)


def _shift_bounds(xp, a, b):
    """The shift width of ``a``'s dtype and where ``b`` is outside ``[0, width)``."""
    bits = xp.iinfo(a.dtype).bits
    return bits, (b < 0) | (b >= bits)


@defop(promote="same")
def bitwise_left_shift(xp, a, b):
    """``a << b``, wrapping; shifts by a negative amount or by the width or more give 0."""
    a, b = _arrays(xp, a, b)
    bits, outside = _shift_bounds(xp, a, b)
    shifted = xp.bitwise_left_shift(a, xp.where(outside, xp.zeros_like(b), b))
    return xp.where(outside, xp.zeros_like(shifted), shifted)


@defop(promote="same")
def bitwise_right_shift(xp, a, b):
    """``a >> b``, arithmetic; out-of-range shifts give the sign (0 or -1), as in PyTorch."""
    a, b = _arrays(xp, a, b)
    bits, outside = _shift_bounds(xp, a, b)
    shifted = xp.bitwise_right_shift(a, xp.where(outside, xp.zeros_like(b), b))
    fill = xp.bitwise_right_shift(a, bits - 1) if xp.isdtype(a.dtype, "signed integer") \
        else xp.zeros_like(a)
    return xp.where(outside, fill, shifted)


for _op, _kernel in ((bitwise_and, "bitwise_and_cpu"), (bitwise_or, "bitwise_or_cpu"),
                     (bitwise_xor, "bitwise_xor_cpu"), (bitwise_not, "bitwise_not_cpu")):
    _op.check = _refuse(_kernel, "fc")
bitwise_left_shift.check = _refuse("lshift_cpu", "bfc")
bitwise_right_shift.check = _refuse("rshift_cpu", "bfc")

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


@defop("masked_fill", promote=None, save=(1,))
def masked_fill_op(xp, x, mask, value):
    """``value`` (a number or 0-d array of ``x``'s dtype) where ``mask``, else ``x``."""
    return xp.where(mask, value, x)


@masked_fill_op.defvjp
def _(ctx, grad):
    mask = ctx.inputs[1]
    need_x, _, need_value = ctx.needs_input_grad
    return (
        where(mask, 0.0, grad) if need_x else None,
        None,
        where(mask, grad, 0.0) if need_value else None,  # summed to 0-d by the engine
    )


def masked_fill(input, mask, value):
    """``input`` with ``value`` (a number or a 0-d tensor) written where ``mask`` is True.

    Example:
        >>> x = polytorch.zeros(3)
        >>> polytorch.masked_fill(x, polytorch.tensor([True, False, True]), 2.0)
        tensor([2., 0., 2.])
    """
    if not isinstance(mask, Tensor) or mask._dtype is not D.bool:
        what = _TORCH_NAMES[mask._dtype] if isinstance(mask, Tensor) else type(mask).__name__
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{what}")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value.ndim} dimension(s)."
            )
        if value._dtype is not input._dtype:
            value = value.to(input._dtype)
    elif _is_number(value):
        value = _py_scalar(value, input._dtype)
    else:
        raise TypeError(f"masked_fill(): argument 'value' must be Number or Tensor, not "
                        f"{type(value).__name__}")
    return masked_fill_op(input, mask, value)


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


# -- argument checks PyTorch makes ---------------------------------------------------

add.bool_forward = lambda xp, a, b, alpha=1: xp.logical_or(a, xp.logical_and(b, bool(alpha)))
mul.bool_forward = lambda xp, a, b: xp.logical_and(a, b)

_INVERT_HINT = (
    "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
)


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
    if params:
        _check_sub_alpha(args, params)


def _check_neg(args, params):
    if _is_bool_tensor(args[0]):
        raise RuntimeError(
            f"Negation, the `-` operator, on a bool tensor is not supported. {_INVERT_HINT}"
        )


def _check_relu(args, params):
    if _is_bool_tensor(args[0]):
        raise RuntimeError("Boolean inputs not supported for relu")


_check_sub_alpha = _check_alpha("sub")
sub.check = _check_sub
neg.check = _check_neg
relu.check = _check_relu
abs.check = _refuse("abs_cpu", "b")


# -- Tensor methods and operators ------------------------------------------------------


def _rev(fn):
    def method(self, other):
        return fn(other, self)

    return method


def _invert(self):
    if self._dtype.kind not in "biu":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return bitwise_not(self)


# Tensor.where(condition, other) is bound in _tensor_methods, with another signature.
TENSOR_METHODS.update({name: globals()[name] for name in __all__ if name != "where"})
TENSOR_METHODS.update({
    "__truediv__": true_divide, "__rtruediv__": _rev(true_divide),
    "__floordiv__": floor_divide, "__rfloordiv__": _rev(floor_divide),
    "__mod__": remainder, "__rmod__": _rev(remainder),
    "__abs__": abs, "__pos__": positive,
    # & | ^ ~ are bitwise on integers and logical on bools (PyTorch).
    "__and__": bitwise_and, "__rand__": _rev(bitwise_and),
    "__or__": bitwise_or, "__ror__": _rev(bitwise_or),
    "__xor__": bitwise_xor, "__rxor__": _rev(bitwise_xor),
    "__invert__": _invert,
    "__lshift__": bitwise_left_shift, "__rlshift__": _rev(bitwise_left_shift),
    "__rshift__": bitwise_right_shift, "__rrshift__": _rev(bitwise_right_shift),
})

# In-place variants: when does the gradient rule read the old self? (see _inplace)
_READS_SELF = {"log", "log2", "log10", "log1p", "sin", "cos", "asin", "acos", "atan", "arcsin",
               "arccos", "arctan", "sinh", "cosh", "asinh", "acosh", "atanh", "arcsinh",
               "arccosh", "arctanh", "logit", "erf", "erfc", "abs", "absolute", "nan_to_num",
               "square"}
_READS_OTHER = {"mul", "multiply", "div", "divide", "true_divide", "fmod", "remainder"}
_READS_ANY = {"pow", "lerp", "atan2", "arctan2", "hypot", "clamp", "clip", "clamp_min",
              "clamp_max", "maximum", "minimum"}
_NO_INPLACE = {"isnan", "isinf", "isfinite", "isposinf", "isneginf", "isclose", "allclose",
               "equal", "where", "clone", "positive", "maximum", "minimum"}
for _name in __all__:
    if _name in _NO_INPLACE:
        continue
    _saves = "self" if _name in _READS_SELF else "other" if _name in _READS_OTHER else \
        "any" if _name in _READS_ANY else None
    INPLACE_METHODS[_name + "_"] = (globals()[_name], _saves)
INPLACE_METHODS.update({
    "__iand__": (bitwise_and, None), "__ior__": (bitwise_or, None),
    "__ixor__": (bitwise_xor, None), "__ilshift__": (bitwise_left_shift, None),
    "__irshift__": (bitwise_right_shift, None), "__imod__": (remainder, "other"),
    "__ifloordiv__": (floor_divide, None), "__ipow__": (pow, "any"),
})
