"""Loss primitives (family ``loss``): the few losses whose composite form is not stable.

Note [Binary cross entropy is a primitive]
``-(t log x + (1 - t) log(1 - x))`` composed from ``log`` and ``clamp_min`` has the
right value but a NaN gradient wherever ``x`` is exactly 0 or 1 (the clamp's zero
gradient times ``log``'s infinite one), which a saturated sigmoid produces in
float32. PyTorch's derivative, ``(x - t) / max(x (1 - x), 1e-12)``, stays finite;
so this loss is one op with that rule, itself written in polytorch ops.

Note [Cross entropy at class indices is a primitive]
The loss of every classifier, so its op count is overhead on every training step.
Composed, ``logsumexp(x) - x[target]`` and its gradient take about twenty ops; as one
op whose rule is ``grad * softmax(x) - scatter(grad at target)`` it takes about ten.
Weights, ignore_index and label smoothing stay composed (polytorch/nn/_functional_loss.py).
"""

from __future__ import annotations

from ._registry import defop
from .elementwise import clamp_min_op, logit
from .nn import softmax_op
from .reduction import scatter_add_along
from .shape import reshape_op

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


@defop("cross_entropy_indices", promote=None, save=(0, 1))
def cross_entropy_indices_op(xp, x, target, *, dim):
    """Per-element ``logsumexp(x, dim) - x[target]``: cross entropy at class indices.

    ``target`` has ``x``'s shape without ``dim`` and holds indices in range.
    """
    m = xp.max(x, axis=dim, keepdims=True)
    m = xp.where(xp.isfinite(m), m, xp.zeros_like(m))  # all -inf: no shift
    lse = xp.log(xp.sum(xp.exp(x - m), axis=dim, keepdims=True)) + m
    picked = xp.take_along_axis(x, xp.expand_dims(target, axis=dim), axis=dim)
    return xp.squeeze(lse - picked, axis=dim)


@cross_entropy_indices_op.defvjp
def _(ctx, grad):
    x, target = ctx.inputs
    dim = ctx.params["dim"]
    kept = list(x.shape)
    kept[dim] = 1
    g = reshape_op(grad, shape=tuple(kept))
    index = reshape_op(target, shape=tuple(kept))
    return g * softmax_op(x, dim=dim) - scatter_add_along(g, index, dim=dim, size=x.shape[dim]), \
        None
