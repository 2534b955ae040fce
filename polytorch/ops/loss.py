"""Loss primitives (family ``loss``): the few losses whose composite form is not stable.

Note [Binary cross entropy is a primitive]
``-(t log x + (1 - t) log(1 - x))`` composed from ``log`` and ``clamp_min`` has the
right value but a NaN gradient wherever ``x`` is exactly 0 or 1 (the clamp's zero
gradient times ``log``'s infinite one), which a saturated sigmoid produces in
float32. PyTorch's derivative, ``(x - t) / max(x (1 - x), 1e-12)``, stays finite;
so this loss is one op with that rule, itself written in polytorch ops.
"""

from __future__ import annotations

from ._registry import defop
from .elementwise import clamp_min_op, logit

__all__: list[str] = []

_EPSILON = 1e-12  # PyTorch's floor for x (1 - x) in the gradient


@defop("binary_cross_entropy", promote="same", save=(0, 1))
def binary_cross_entropy_op(xp, x, t):
    """Elementwise ``-(t log x + (1 - t) log(1 - x))``, each log clamped at -100 (PyTorch)."""
    return (t - 1) * xp.maximum(xp.log1p(-x), -100.0) - t * xp.maximum(xp.log(x), -100.0)


@binary_cross_entropy_op.defvjp
def _(ctx, grad):
    x, t = ctx.inputs
    need_x, need_t = ctx.needs_input_grad
    gx = grad * (x - t) / clamp_min_op(x * (1 - x), _EPSILON) if need_x else None
    gt = -grad * logit(x) if need_t else None  # PyTorch's target derivative, unclamped
    return gx, gt
