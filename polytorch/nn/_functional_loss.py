"""nn.functional: losses, composed from polytorch ops (PyTorch's formulas and signatures).

Two are primitives of polytorch/ops/loss.py, for stability (binary_cross_entropy) and
speed (cross_entropy at class indices without weights, ignored targets or smoothing).

Note [Reductions]
Every loss takes ``reduction`` ("none", "mean", "sum") and, where PyTorch does, the
legacy ``size_average`` / ``reduce`` pair, which overrides it with PyTorch's mapping
and warning (``_reduction``). "mean" divides by the number of elements, except the
class-index losses (nll_loss, cross_entropy), which divide by the summed weight of
the non-ignored targets, and ctc_loss, which divides each loss by its target length.

Note [Target checks sync once]
PyTorch raises ``IndexError: Target 7 is out of bounds.`` for a class index outside
``[0, C)``. Seeing that needs the targets' values on the host, so class-index losses
reduce them on the device to their minimum and maximum and read those two numbers
back: one host sync per call. In range, with ``ignore_index`` outside them (the
common case), nothing more is done, and no ignore mask is built. Otherwise one more
reduction tells ignored targets (masked) from out-of-range ones (the error).
Everything else in a forward pass stays on the device.
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Callable

import numpy as np

import polytorch

from .. import _dtype as D
from .._tensor import Tensor
from ..ops.loss import binary_cross_entropy_op, cross_entropy_indices_op
from ..ops.nn import log_sigmoid_op, log_softmax_op
from ..ops.reduction import gather_along

__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cosine_embedding_loss",
    "cross_entropy", "ctc_loss", "gaussian_nll_loss", "hinge_embedding_loss", "huber_loss",
    "kl_div", "l1_loss", "margin_ranking_loss", "mse_loss", "multi_margin_loss",
    "multilabel_margin_loss", "multilabel_soft_margin_loss", "nll_loss", "poisson_nll_loss",
    "smooth_l1_loss", "soft_margin_loss", "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
]

_INF = math.inf

# PyTorch's names for dtypes in its messages ("expected ... Long or Byte, but got Float").
_TORCH_NAME = {
    "float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
    "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
    "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble",
}


# -- shared helpers ----------------------------------------------------------------------------


def _user_stacklevel() -> int:
    """The ``stacklevel`` that points a warning raised by our caller at the user's line: the
    first frame outside ``polytorch.nn`` (losses are reached through modules and helpers)."""
    frame = sys._getframe(2)
    level = 2
    while frame is not None and frame.f_globals.get("__name__", "").startswith("polytorch.nn"):
        frame = frame.f_back
        level += 1
    return level


def _legacy_reduction(size_average, reduce) -> str:
    """PyTorch's ``_Reduction.legacy_get_string``, with its deprecation warning."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    out = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(
        f"size_average and reduce args will be deprecated, please use reduction='{out}' "
        "instead.", UserWarning, stacklevel=_user_stacklevel(),
    )
    return out


def _reduction(reduction: str, size_average=None, reduce=None) -> str:
    """The reduction to apply (Note [Reductions]); a bad one is a ValueError as in PyTorch."""
    if size_average is not None or reduce is not None:
        return _legacy_reduction(size_average, reduce)
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated, please use reduction='mean' "
                      "instead.", UserWarning, stacklevel=_user_stacklevel())
        return "mean"
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_tensor(t, fn: str, name: str) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{fn}(): argument '{name}' must be Tensor, not {type(t).__name__}")


def _check_floating(t: Tensor, fn: str, name: str = "input") -> None:
    if t._dtype.kind not in "f":
        raise RuntimeError(f"{fn}: expected a floating point {name}, got {t._dtype.name}")


def _warn_size(input: Tensor, target: Tensor) -> None:
    """PyTorch's warning for regression losses whose target broadcasts against the input."""
    if tuple(input.shape) != tuple(target.shape):
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.", UserWarning, stacklevel=_user_stacklevel(),
        )


def _backend(t: Tensor):
    return t._device._impl[1]


def _host(t: Tensor) -> np.ndarray:
    return np.asarray(_backend(t).to_numpy(t._data))


def _elementwise_weight(loss: Tensor, weight, reduction: str) -> Tensor:
    """mse_loss / l1_loss with ``weight``: PyTorch's "mean" divides by the summed weight."""
    if tuple(weight.shape) != tuple(loss.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean":
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def _log_sigmoid(x: Tensor) -> Tensor:
    """``log(sigmoid(x))`` without overflow (one op; its gradient at 0 is 1/2)."""
    if x._dtype.kind != "f":
        x = x.float()
    return log_sigmoid_op(x)


# -- class-index targets -----------------------------------------------------------------------


def _target_code(target: Tensor, n_classes: int, ignore_index: int, fn: str, name="Target"):
    """0 if every target is a class index, 1 if some equal ``ignore_index`` (Note [Target
    checks sync once]); raises PyTorch's IndexError for one out of ``[0, n_classes)``."""
    if target.numel() == 0:
        return 0
    backend = _backend(target)
    xp = backend.xp
    t = target._data
    lo, hi = (int(v) for v in backend.to_numpy(xp.stack([xp.min(t), xp.max(t)])))
    if 0 <= lo and hi < n_classes and not lo <= ignore_index <= hi:
        return 0  # the common case, told by the extremes alone
    ignored = t == ignore_index
    bad = ((t < 0) | (t >= n_classes)) & ~ignored
    code = int(xp.max(xp.astype(ignored, xp.int32) + 2 * xp.astype(bad, xp.int32)))
    if code >= 2:
        h = _host(target)
        value = int(h[((h < 0) | (h >= n_classes)) & (h != ignore_index)].flat[0])
        raise IndexError(f"{name} {value} is out of bounds. ({fn}: {n_classes} classes, "
                         f"ignore_index={ignore_index})")
    return code


def _index_target(input: Tensor, target: Tensor, fn: str) -> Tensor:
    """Check an index target against ``input`` (PyTorch's ``nll_loss_nd``); as int64."""
    if target._dtype not in (D.int64, D.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{_TORCH_NAME.get(target._dtype.name, target._dtype.name)}")
    if input.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.ndim})")
    if input.ndim == 1:
        if target.ndim > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported "
                               f"({fn}: input {list(input.shape)}, target {list(target.shape)})")
        if target.ndim == 1:
            if target.shape[0] != 1:
                raise ValueError("For 1D input, 1D target must have size 1, but got target "
                                 f"size: {target.shape[0]}")
            target = target.reshape(())  # PyTorch reads it as the unbatched 0-d target
    else:
        if target.ndim == 0 or input.shape[0] != target.shape[0]:
            raise ValueError(
                f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                f"({target.shape[0] if target.ndim else 0})."
            )
        if tuple(target.shape[1:]) != tuple(input.shape[2:]):
            expected = [input.shape[0], *input.shape[2:]]
            raise RuntimeError(f"Expected target size {expected}, got {list(target.shape)}")
    return target.long() if target._dtype is D.uint8 else target


def _check_class_weight(weight, input: Tensor, n_classes: int, fn: str) -> None:
    if weight is None:
        return
    _check_tensor(weight, fn, "weight")
    if weight.ndim != 1 or weight.shape[0] != n_classes:
        raise RuntimeError(
            f"{fn}: weight tensor should be defined either for all {n_classes} classes or no "
            f"classes but got weight tensor of shape: {list(weight.shape)}"
        )
    if weight._dtype is not input._dtype:
        raise RuntimeError(
            f"{fn}: expected scalar type {_TORCH_NAME.get(input._dtype.name)} but found "
            f"{_TORCH_NAME.get(weight._dtype.name)} (weight has {weight._dtype.name}, input has "
            f"{input._dtype.name})"
        )


def _class_view(weight: Tensor, ndim: int, class_dim: int) -> Tensor:
    """``weight`` (C,) shaped to broadcast along ``class_dim`` of an ``ndim``-d input."""
    shape = [1] * ndim
    shape[class_dim] = weight.shape[0]
    return weight.reshape(shape)


def _picked_loss(input: Tensor, target: Tensor, weight, ignore_index: int, reduction: str,
                 fn: str, logits: bool = False, label_smoothing: float = 0.0):
    """The shared core of nll_loss and cross_entropy with class indices.

    With ``logits`` (cross_entropy) the loss is ``logsumexp(x) - x[target]``: the
    log-softmax is never built, only the values at the targets are picked.
    """
    class_dim = 0 if input.ndim == 1 else 1
    n_classes = input.shape[class_dim]
    _check_class_weight(weight, input, n_classes, fn)
    target = _index_target(input, target, fn)
    code = _target_code(target, n_classes, ignore_index, fn)
    valid = None
    if code == 1:
        valid = target != ignore_index
        target = polytorch.where(valid, target, 0)  # any class: the value is masked below
    if weight is None and valid is None and label_smoothing == 0.0 and n_classes:
        # The common case in fewer ops (Note [Cross entropy at class indices is a primitive]).
        if logits:
            return _reduce(cross_entropy_indices_op(input, target, dim=class_dim), reduction)
        if reduction == "mean":  # the class dim kept: no squeeze
            return -gather_along(input, target.unsqueeze(class_dim), dim=class_dim).mean()
    picked = gather_along(input, target.unsqueeze(class_dim), dim=class_dim).squeeze(class_dim)
    lse = input.logsumexp(class_dim) if logits else None
    loss = -picked if lse is None else lse - picked
    w_t = None
    if weight is not None:
        w_t = gather_along(weight, target.reshape(-1), dim=0).reshape(tuple(target.shape))
        loss = loss * w_t
        if valid is not None:
            w_t = polytorch.where(valid, w_t, 0.0)
    if label_smoothing > 0.0:
        # PyTorch's smoothing term -sum_c w_c log_softmax(x)_c (weighted per class, not by
        # the target's weight), mixed in by (ls / C, 1 - ls).
        if weight is None:
            smooth = lse * n_classes - input.sum(class_dim)
        else:
            w = _class_view(weight, input.ndim, class_dim)
            smooth = lse * weight.sum() - (input * w).sum(class_dim)
        loss = loss * (1.0 - label_smoothing) + smooth * (label_smoothing / n_classes)
    if valid is not None:
        # A where, not a product with 0: the gradient of ignored entries must be 0 even
        # when "mean" divides by a total weight of 0 (all ignored: the loss is NaN).
        loss = polytorch.where(valid, loss, 0.0)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if w_t is not None:
        return loss.sum() / w_t.sum()
    if valid is not None:
        return loss.sum() / valid.sum().to(loss.dtype)
    return loss.mean()


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
             size_average: bool | None = None, ignore_index: int = -100,
             reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """The negative log likelihood loss of log-probabilities ``input`` at class indices.

    ``input`` is (C,), (N, C) or (N, C, d1, ...); ``target`` holds class indices of
    shape (), (N) or (N, d1, ...). Targets equal to ``ignore_index`` count nothing,
    and "mean" divides by the summed ``weight`` of the others.

    Example:
        >>> logp = polytorch.tensor([[0.5, 0.25, 0.25]]).log()
        >>> F.nll_loss(logp, polytorch.tensor([0]))
        tensor(0.6931)
    """
    _check_tensor(input, "nll_loss", "input")
    _check_tensor(target, "nll_loss", "target")
    reduction = _reduction(reduction, size_average, reduce)
    return _picked_loss(input, target, weight, int(ignore_index), reduction, "nll_loss")


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average: bool | None = None, ignore_index: int = -100,
                  reduce: bool | None = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """The cross entropy between logits ``input`` and class indices or class probabilities.

    ``input`` is (C,), (N, C) or (N, C, d1, ...). A ``target`` of the input's shape
    holds probabilities (a float tensor); otherwise class indices (see ``nll_loss``).
    ``label_smoothing`` mixes the target with the uniform distribution, as PyTorch.

    Example:
        >>> x = polytorch.tensor([[2.0, 0.0, 0.0]])
        >>> F.cross_entropy(x, polytorch.tensor([0]))
        tensor(0.2395)
    """
    _check_tensor(input, "cross_entropy", "input")
    _check_tensor(target, "cross_entropy", "target")
    reduction = _reduction(reduction, size_average, reduce)
    label_smoothing = float(label_smoothing)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if input.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.ndim})")
    _check_floating(input, "cross_entropy")
    if tuple(input.shape) == tuple(target.shape):
        return _cross_entropy_probs(input, target, weight, ignore_index, reduction,
                                    label_smoothing)
    return _picked_loss(input, target, weight, int(ignore_index), reduction, "cross_entropy",
                        logits=True, label_smoothing=label_smoothing)


def _cross_entropy_probs(input, target, weight, ignore_index, reduction, label_smoothing):
    """cross_entropy with class probabilities (PyTorch's ``cross_entropy_loss_prob_target``)."""
    if target._dtype.kind != "f":
        raise RuntimeError(
            "Expected floating point type for target with class probabilities, got "
            f"{_TORCH_NAME.get(target._dtype.name, target._dtype.name)}"
        )
    if ignore_index >= 0:
        raise RuntimeError("ignore_index is not supported for floating point target")
    class_dim = 0 if input.ndim == 1 else 1
    n_classes = input.shape[class_dim]
    _check_class_weight(weight, input, n_classes, "cross_entropy")
    if label_smoothing > 0.0:
        target = target * (1.0 - label_smoothing) + label_smoothing / n_classes
    prod = log_softmax_op(input, dim=class_dim) * target
    if weight is not None:
        prod = prod * _class_view(weight, input.ndim, class_dim)
    if reduction == "none":
        return -prod.sum(class_dim)
    if reduction == "sum":
        return -prod.sum()
    n = input.numel() // n_classes if n_classes else 0
    return -prod.sum() / n if n else prod.sum() * math.nan


# -- regression losses --------------------------------------------------------------------------


def _pair(input, target, fn):
    _check_tensor(input, fn, "input")
    _check_tensor(target, fn, "target")
    if tuple(input.shape) == tuple(target.shape):
        return input, target  # no expand ops in the common case
    _warn_size(input, target)
    return polytorch.broadcast_tensors(input, target)


def mse_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
             reduce: bool | None = None, reduction: str = "mean",
             weight: Tensor | None = None) -> Tensor:
    """The mean squared error ``(input - target)^2``, optionally weighted.

    Example:
        >>> F.mse_loss(polytorch.tensor([1., 2.]), polytorch.tensor([1., 4.]))
        tensor(2.)
    """
    x, y = _pair(input, target, "mse_loss")
    reduction = _reduction(reduction, size_average, reduce)
    loss = (x - y).square()
    if weight is not None:
        return _elementwise_weight(loss, weight, reduction)
    return _reduce(loss, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
            reduce: bool | None = None, reduction: str = "mean",
            weight: Tensor | None = None) -> Tensor:
    """The mean absolute error ``|input - target|``, optionally weighted.

    Example:
        >>> F.l1_loss(polytorch.tensor([1., 2.]), polytorch.tensor([1., 4.]))
        tensor(1.)
    """
    x, y = _pair(input, target, "l1_loss")
    reduction = _reduction(reduction, size_average, reduce)
    loss = (x - y).abs()
    if weight is not None:
        return _elementwise_weight(loss, weight, reduction)
    return _reduce(loss, reduction)


def _smooth_l1(diff: Tensor, beta: float) -> Tensor:
    z = diff.abs()
    return polytorch.where(z < beta, z.square() * (0.5 / beta), z - 0.5 * beta)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
                   reduce: bool | None = None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (``d = input - target``).

    Example:
        >>> F.smooth_l1_loss(polytorch.tensor([0., 0.]), polytorch.tensor([0.5, 3.]))
        tensor(1.3125)
    """
    x, y = _pair(input, target, "smooth_l1_loss")
    reduction = _reduction(reduction, size_average, reduce)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0.0:
        return _reduce((x - y).abs(), reduction)
    return _reduce(_smooth_l1(x - y, float(beta)), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``; optionally weighted.

    Example:
        >>> F.huber_loss(polytorch.tensor([0., 0.]), polytorch.tensor([0.5, 3.]), delta=2.0)
        tensor(2.0625)
    """
    x, y = _pair(input, target, "huber_loss")
    reduction = _reduction(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    delta = float(delta)
    loss = _smooth_l1(x - y, delta) * delta
    if weight is not None:
        if tuple(weight.shape) != tuple(input.shape):
            raise ValueError("Weights and input must have the same size.")
        return _reduce(loss * weight, reduction)
    return _reduce(loss, reduction)


# -- binary and probabilistic losses -------------------------------------------------------------


def _range_check(input: Tensor, target: Tensor) -> None:
    """binary_cross_entropy's value checks, read back in one host sync."""
    if input.numel() == 0:
        return
    xp = _backend(input).xp

    def outside(a):  # NaN is outside too
        return xp.astype(xp.any(~((a >= 0) & (a <= 1))), xp.int32)

    code = int(outside(input._data) + 2 * outside(target._data))
    if code & 1:
        raise RuntimeError("all elements of input should be between 0 and 1 "
                           "(binary_cross_entropy takes probabilities; use "
                           "binary_cross_entropy_with_logits for logits)")
    if code & 2:
        raise RuntimeError("all elements of target should be between 0 and 1")


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Tensor:
    """``-w (t log x + (1 - t) log(1 - x))`` for probabilities ``x``; logs clamped at -100.

    Example:
        >>> F.binary_cross_entropy(polytorch.tensor([0.5]), polytorch.tensor([1.0]))
        tensor(0.6931)
    """
    _check_tensor(input, "binary_cross_entropy", "input")
    _check_tensor(target, "binary_cross_entropy", "target")
    reduction = _reduction(reduction, size_average, reduce)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}) is deprecated. Please ensure they have the same size."
        )
    _check_floating(input, "binary_cross_entropy")
    _range_check(input, target)
    loss = binary_cross_entropy_op(input, target)
    if weight is not None:
        loss = loss * weight.expand(*polytorch.broadcast_shapes(target.shape, weight.shape))
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None,
                                     size_average: bool | None = None,
                                     reduce: bool | None = None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Binary cross entropy of ``sigmoid(input)``, computed stably from the logits.

    ``(1 - t) x - (1 + (pos_weight - 1) t) log_sigmoid(x)``, times ``weight``; large
    logits stay finite.

    Example:
        >>> F.binary_cross_entropy_with_logits(polytorch.tensor([0.0]), polytorch.tensor([1.0]))
        tensor(0.6931)
    """
    _check_tensor(input, "binary_cross_entropy_with_logits", "input")
    _check_tensor(target, "binary_cross_entropy_with_logits", "target")
    reduction = _reduction(reduction, size_average, reduce)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    log_sig = _log_sigmoid(input)
    if pos_weight is not None:
        log_sig = log_sig * ((pos_weight - 1) * target + 1)
    loss = (1 - target) * input - log_sig
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(input: Tensor, target: Tensor, size_average: bool | None = None,
           reduce: bool | None = None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """The Kullback-Leibler divergence ``t (log t - input)`` of log-probabilities ``input``.

    ``reduction="batchmean"`` divides the sum by the batch size (the true KL
    divergence); "mean" divides by the number of elements and warns, as PyTorch.

    Example:
        >>> logq = polytorch.tensor([[0.5, 0.5]]).log()
        >>> F.kl_div(logq, polytorch.tensor([[1.0, 0.0]]), reduction="batchmean")
        tensor(0.6931)
    """
    _check_tensor(input, "kl_div", "input")
    _check_tensor(target, "kl_div", "target")
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    elif reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
            "major release.", UserWarning, stacklevel=_user_stacklevel(),
        )
    elif reduction != "batchmean":
        reduction = _reduction(reduction)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # xlogy(t, t): 0 where t == 0; log(1) keeps the unused branch's gradient finite.
        loss = target * polytorch.where(target == 0, 1.0, target).log() - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce(loss, reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True,
                     full: bool = False, size_average: bool | None = None, eps: float = 1e-8,
                     reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """The Poisson negative log likelihood of ``target`` with rate ``input`` (or ``exp(input)``).

    Example:
        >>> F.poisson_nll_loss(polytorch.tensor([0.0]), polytorch.tensor([1.0]))
        tensor(1.)
    """
    _check_tensor(input, "poisson_nll_loss", "input")
    _check_tensor(target, "poisson_nll_loss", "target")
    reduction = _reduction(reduction, size_average, reduce)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        # Stirling's term, only where target > 1 (PyTorch masks the rest to 0).
        big = target > 1
        t = polytorch.where(big, target, 2.0)
        stirling = t * t.log() - t + 0.5 * (t * (2 * math.pi)).log()
        loss = loss + polytorch.where(big, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Tensor | float, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """The Gaussian negative log likelihood ``0.5 (log var + (input - target)^2 / var)``.

    ``var`` is a tensor of the input's shape, one dimension short of it, broadcastable
    with one mismatched dimension, or a positive number; it is clamped at ``eps``.

    Example:
        >>> F.gaussian_nll_loss(polytorch.tensor([0.0]), polytorch.tensor([2.0]), 1.0)
        tensor(2.)
    """
    _check_tensor(input, "gaussian_nll_loss", "input")
    _check_tensor(target, "gaussian_nll_loss", "target")
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = polytorch.full(tuple(input.shape), float(var), dtype=input.dtype,
                             device=input.device)
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif input.ndim == var.ndim and \
                sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1:
            pass  # one broadcast dimension: homoscedastic along it
        else:
            raise ValueError(f"var is of incorrect size (var {list(var.shape)}, input "
                             f"{list(input.shape)})")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    # PyTorch clamps a copy without recording it: the gradient passes as if unclamped.
    var = var + (var.detach().clamp_min(eps) - var.detach())
    loss = 0.5 * (var.log() + (input - target).square() / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# -- margin and embedding losses ----------------------------------------------------------------


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average: bool | None = None, reduce: bool | None = None,
                        reduction: str = "mean") -> Tensor:
    """``max(0, -target (input1 - input2) + margin)``; ``target`` holds 1 or -1.

    Example:
        >>> F.margin_ranking_loss(polytorch.tensor([1.]), polytorch.tensor([2.]),
        ...                       polytorch.tensor([1.]))
        tensor(1.)
    """
    reduction = _reduction(reduction, size_average, reduce)
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} "
        )
    return _reduce((-target * (input1 - input2) + margin).clamp_min(0), reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Tensor:
    """``input`` where ``target`` is 1, ``max(0, margin - input)`` where it is -1.

    Example:
        >>> F.hinge_embedding_loss(polytorch.tensor([0.3, 0.3]), polytorch.tensor([1., -1.]))
        tensor(0.5000)
    """
    reduction = _reduction(reduction, size_average, reduce)
    margin_term = polytorch.where(target != 1, (margin - input).clamp_min(0), 0.0)
    self_term = polytorch.where(target != -1, input, 0.0)
    return _reduce(margin_term + self_term, reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
                     reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """The two-class logistic loss ``log(1 + exp(-target * input))``.

    Example:
        >>> F.soft_margin_loss(polytorch.tensor([0.0]), polytorch.tensor([1.0]))
        tensor(0.6931)
    """
    reduction = _reduction(reduction, size_average, reduce)
    return _reduce((-input * target).exp().log1p(), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average: bool | None = None, reduce: bool | None = None,
                                reduction: str = "mean") -> Tensor:
    """The one-versus-all logistic loss, averaged over the classes (the last dimension).

    Example:
        >>> F.multilabel_soft_margin_loss(polytorch.tensor([[0.0, 0.0]]),
        ...                               polytorch.tensor([[1.0, 0.0]]))
        tensor(0.6931)
    """
    reduction = _reduction(reduction, size_average, reduce)
    loss = -(target * _log_sigmoid(input) + (1 - target) * _log_sigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.ndim - 1
    loss = loss.sum(class_dim) / input.shape[class_dim]
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average: bool | None = None, reduce: bool | None = None,
                          reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` where ``target`` is 1, ``max(0, cos(x1, x2) - margin)`` where -1.

    Example:
        >>> a = polytorch.tensor([[1.0, 0.0]])
        >>> F.cosine_embedding_loss(a, a, polytorch.tensor([-1.0]))
        tensor(1.)
    """
    reduction = _reduction(reduction, size_average, reduce)
    dim = target.ndim
    if dim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    want = 2 if dim == 1 else 1
    if input1.ndim != want or input2.ndim != want:
        raise RuntimeError(
            f"{dim}D target tensor expects {want}D input tensors, but found inputs with sizes "
            f"{list(input1.shape)} and {list(input2.shape)}."
        )
    eps = 1e-12  # PyTorch's EPSILON
    prod = (input1 * input2).sum(dim)
    mag1 = (input1 * input1).sum(dim) + eps
    mag2 = (input2 * input2).sum(dim) + eps
    cos = prod / (mag1 * mag2).sqrt()
    pos = polytorch.where(target == 1, 1 - cos, 0.0)
    neg = polytorch.where(target == -1, (cos - margin).clamp_min(0), 0.0)
    return _reduce(pos + neg, reduction)


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average: bool | None = None,
                      reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """The multi-class hinge loss ``sum_{j != y} max(0, margin - x[y] + x[j])^p / C``.

    Example:
        >>> F.multi_margin_loss(polytorch.tensor([[0.1, 0.2, 0.4]]), polytorch.tensor([2]))
        tensor(0.5000)
    """
    reduction = _reduction(reduction, size_average, reduce)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    if input.ndim not in (1, 2) or input.ndim == 1 and target.ndim != 0 or \
            input.ndim == 2 and tuple(target.shape) != (input.shape[0],):
        raise RuntimeError(
            "multi_margin_loss: target tensor should be 1-D with size equal to the number of "
            f"input samples (batch size). Expected target size {list(input.shape[:-1])}, but "
            f"got {list(target.shape)}. Input has shape {list(input.shape)}."
        )
    n_classes = input.shape[-1]
    target = target.long()
    try:
        _target_code(target, n_classes, -(2**62), "multi_margin_loss", "target")
    except IndexError as e:
        raise RuntimeError(f"target out of range ({e})") from None
    idx = target.unsqueeze(-1)
    z = (margin - gather_along(input, idx, dim=input.ndim - 1) + input).clamp_min(0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * gather_along(weight, idx.reshape(-1), dim=0).reshape(tuple(idx.shape))
    classes = polytorch.arange(n_classes, device=input.device)
    z = polytorch.where(classes == idx, 0.0, z)
    return _reduce(z.sum(-1) / n_classes, reduction)


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
                           reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """The multi-label hinge loss; ``target`` lists class indices, ended by the first -1.

    ``sum_{j in targets} sum_{i not in targets} max(0, 1 - (x[j] - x[i])) / C``.

    Example:
        >>> F.multilabel_margin_loss(polytorch.tensor([[0.1, 0.2, 0.4, 0.8]]),
        ...                          polytorch.tensor([[3, 0, -1, 1]]))
        tensor(0.8500)
    """
    reduction = _reduction(reduction, size_average, reduce)
    if input.ndim not in (1, 2) or tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(
            f"inconsistent target size: {list(target.shape)} for input of size: "
            f"{list(input.shape)} (multilabel_margin_loss: input and target (N, C) or (C,))"
        )
    x = input if input.ndim == 2 else input.unsqueeze(0)
    t = (target if target.ndim == 2 else target.unsqueeze(0)).long()
    n_classes = x.shape[1]
    try:
        _target_code(t, n_classes, -1, "multilabel_margin_loss", "target")
    except IndexError as e:
        raise RuntimeError(f"argument #2 'target' is out of range ({e})") from None
    # Targets count up to the first -1: a running product of "not -1" marks them.
    listed = (t != -1).long().cumprod(1) == 1  # (N, K)
    safe = polytorch.where(listed, t, 0)
    classes = polytorch.arange(n_classes, device=input.device)
    is_target = ((safe.unsqueeze(2) == classes) & listed.unsqueeze(2)).any(1)  # (N, C)
    x_t = gather_along(x, safe, dim=1)  # (N, K)
    terms = (1 - x_t.unsqueeze(2) + x.unsqueeze(1)).clamp_min(0)  # (N, K, C)
    use = listed.unsqueeze(2) & ~is_target.unsqueeze(1)
    loss = polytorch.where(use, terms, 0.0).sum((1, 2)) / n_classes
    if input.ndim == 1:
        loss = loss.squeeze(0)
    return _reduce(loss, reduction)


def _pairwise_distance(x1: Tensor, x2: Tensor, p: float, eps: float) -> Tensor:
    """PyTorch's ``pairwise_distance``: ``||x1 - x2 + eps||_p`` over the last dimension."""
    dim = max(x1.ndim, x2.ndim) - 1
    return (x1 - x2 + eps).norm(p, dim=max(dim, 0) if dim >= 0 else None)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False,
                        size_average: bool | None = None, reduce: bool | None = None,
                        reduction: str = "mean") -> Tensor:
    """``max(0, d(a, p) - d(a, n) + margin)`` with the p-norm distance ``d``.

    ``swap`` uses ``min(d(a, n), d(p, n))`` as the negative distance.

    Example:
        >>> a, q = polytorch.tensor([[0.0, 0.0]]), polytorch.tensor([[3.0, 4.0]])
        >>> F.triplet_margin_loss(a, a, q)
        tensor(0.)
    """
    reduction = _reduction(reduction, size_average, reduce)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    d_pos = _pairwise_distance(anchor, positive, p, eps)
    d_neg = _pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = polytorch.minimum(d_neg, _pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + d_pos - d_neg).clamp_min(0), reduction)


def _check_triplet_dims(anchor, positive, negative) -> None:
    a, p, n = anchor.ndim, positive.ndim, negative.ndim
    if not a == p == n:
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number "
            f"of dimensions, but got: anchor {a}D, positive {p}D, and negative {n}D inputs"
        )


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function: Callable[[Tensor, Tensor], Tensor]
                                      | None = None, margin: float = 1.0, swap: bool = False,
                                      reduction: str = "mean") -> Tensor:
    """``triplet_margin_loss`` with any ``distance_function`` (default: pairwise distance).

    Example:
        >>> a, q = polytorch.tensor([[0.0, 0.0]]), polytorch.tensor([[3.0, 4.0]])
        >>> F.triplet_margin_with_distance_loss(a, a, q, margin=6.0)
        tensor(1.0000)
    """
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    if distance_function is None:
        def distance_function(x1, x2):
            return _pairwise_distance(x1, x2, 2.0, 1e-6)
    d_pos = distance_function(anchor, positive)
    d_neg = distance_function(anchor, negative)
    if swap:
        d_neg = polytorch.minimum(d_neg, distance_function(positive, negative))
    return _reduce((margin + d_pos - d_neg).clamp_min(0), reduction)


# -- connectionist temporal classification ---------------------------------------------------------


def _lengths(lengths, what: str, n: int) -> list[int]:
    if isinstance(lengths, Tensor):
        values = _host(lengths).reshape(-1)
    else:
        values = np.asarray(lengths, dtype=np.int64).reshape(-1)
    if values.shape[0] != n:
        raise RuntimeError(f"{what} must be of size batch_size (got {values.shape[0]} lengths "
                           f"for a batch of {n})")
    return [int(v) for v in values]


# Note [CTC's finite log zero]
# Unreachable alignment states have probability 0, log -inf; logsumexp's gradient
# there is exp(-inf - (-inf)) = NaN, which reaches the inputs even when multiplied by
# a zero upstream gradient (zero_infinity). So the recursion uses a finite "log zero",
# a quarter of the dtype's lowest value: exp of it underflows to 0 like exp(-inf), its
# gradients stay finite, and no sum of a few hundred emissions brings a real path near
# it. A loss beyond half of it is an impossible alignment, reported as +inf as PyTorch.
_LOG_ZERO = {"float16": -65504.0 / 4, "float64": float(np.finfo(np.float64).min) / 4}
_LOG_ZERO_DEFAULT = float(np.finfo(np.float32).min) / 4  # float32 and bfloat16


def _ctc_labels(targets: Tensor, target_lengths: list[int], n: int, n_classes: int,
                blank: int, batched: bool) -> list[np.ndarray]:
    h = _host(targets).astype(np.int64)
    if h.ndim == 2 and batched:
        longest = max(target_lengths, default=0)
        if h.shape[0] != n or h.shape[1] < longest:
            raise RuntimeError(
                f"Expected tensor to have size at least {longest} at dimension 1, but got size "
                f"{h.shape[1]} for argument #2 'targets' (while checking arguments for "
                f"ctc_loss); targets are (N, S) padded or 1-D concatenated"
            )
        labels = [h[i, :k] for i, k in enumerate(target_lengths)]
    elif h.ndim == 1:
        total = sum(target_lengths)
        if not batched:  # unbatched: (S,) padded, or the concatenation of one sequence
            total = target_lengths[0]
        if h.shape[0] < total:
            raise RuntimeError(f"Expected tensor to have size at least {total} at dimension 0, "
                               f"but got size {h.shape[0]} for argument #2 'targets' (while "
                               "checking arguments for ctc_loss)")
        offsets = np.concatenate([[0], np.cumsum(target_lengths)]).astype(np.int64)
        labels = [h[offsets[i]:offsets[i + 1]] for i in range(n)]
    else:
        raise RuntimeError(f"ctc_loss: targets must be (N, S) or 1-D, got shape {list(h.shape)}")
    for lab in labels:
        bad = (lab < 0) | (lab >= n_classes)
        if bad.any():
            raise RuntimeError(f"ctc_loss: target label {int(lab[bad][0])} is outside "
                               f"[0, {n_classes})")
    return labels


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Tensor, target_lengths: Tensor,
             blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """The connectionist temporal classification loss of ``log_probs`` (T, N, C) or (T, C).

    ``targets`` are (N, S) padded or the 1-D concatenation of the N label sequences;
    the lengths are tensors or sequences of ints. The forward (alpha) recursion runs
    in log space over time; gradients come from autograd (the true derivative with
    respect to ``log_probs``; PyTorch's kernel returns one that assumes they come
    from a log_softmax, and both agree through it). "mean" divides each loss by its
    target length, then averages; ``zero_infinity`` zeroes impossible alignments.

    Example:
        >>> lp = polytorch.full((2, 1, 2), 0.5).log()
        >>> F.ctc_loss(lp, polytorch.tensor([[1]]), [2], [1], reduction="sum")
        tensor(0.2877)
    """
    _check_tensor(log_probs, "ctc_loss", "log_probs")
    _check_tensor(targets, "ctc_loss", "targets")
    reduction = _reduction(reduction)
    _check_floating(log_probs, "ctc_loss", "log_probs")
    batched = log_probs.ndim == 3
    if log_probs.ndim not in (2, 3):
        raise RuntimeError(f"ctc_loss: log_probs must be (T, N, C) or (T, C), got shape "
                           f"{list(log_probs.shape)}")
    lp = log_probs if batched else log_probs.unsqueeze(1)
    n_time, n, n_classes = lp.shape
    if not 0 <= blank < n_classes:
        raise RuntimeError(f"blank must be in label range (blank={blank}, {n_classes} classes)")
    in_len = _lengths(input_lengths, "input_lengths", n)
    tg_len = _lengths(target_lengths, "target_lengths", n)
    for v in in_len:
        if not 0 <= v <= n_time:
            raise RuntimeError(f"Expected input_lengths to have value at most {n_time}, but got "
                               f"value {v} (while checking arguments for ctc_loss)")
    labels = _ctc_labels(targets, tg_len, n, n_classes, blank, batched)

    # Extended label sequences: blank, l1, blank, l2, ..., blank (padded with blanks).
    width = 2 * max(tg_len, default=0) + 1
    ext = np.full((n, width), blank, dtype=np.int64)
    for i, lab in enumerate(labels):
        ext[i, 1:2 * len(lab):2] = lab
    # A step may skip a blank onto a label (odd position) that differs from the label two
    # back; PyTorch's rule, which also holds for a label equal to the blank.
    skip = np.zeros((n, width), dtype=bool)
    skip[:, 3::2] = ext[:, 3::2] != ext[:, 1:-2:2]
    device = lp.device
    log_zero = _LOG_ZERO.get(lp.dtype.name, _LOG_ZERO_DEFAULT)
    index = polytorch.tensor(np.ascontiguousarray(np.broadcast_to(ext, (n_time, n, width))),
                             device=device)
    # (T, N, width): the log_probs of each extended label, -inf floored (Note [CTC's finite
    # log zero]).
    emit = gather_along(lp, index, dim=2).clamp_min(log_zero)
    skip_t = polytorch.tensor(skip, device=device)
    steps = max(in_len, default=0)
    ragged = any(v != steps for v in in_len)
    if ragged:
        in_len_t = polytorch.tensor(np.asarray(in_len, dtype=np.int64), device=device)[:, None]
    pad = polytorch.full((n, 2), log_zero, dtype=lp.dtype, device=device)
    alpha = polytorch.where(polytorch.tensor(np.arange(width) < 2, device=device), emit[0],
                            log_zero)
    for t in range(1, steps):
        # Each state comes from itself, the state before, or (skip) the one two before.
        padded = polytorch.cat([pad, alpha], dim=1)
        two_back = polytorch.where(skip_t, padded[:, :-2], log_zero)
        new = polytorch.stack([alpha, padded[:, 1:-1], two_back]).logsumexp(0) + emit[t]
        alpha = polytorch.where(t < in_len_t, new, alpha) if ragged else new
    # The paths end on the last label or the blank after it (none before the first label).
    last = np.asarray(tg_len, dtype=np.int64)[:, None] * 2
    ends = gather_along(alpha, polytorch.tensor(np.concatenate([last, np.maximum(last - 1, 0)],
                                                               axis=1), device=device), dim=1)
    if min(tg_len, default=1) == 0:
        has_label = np.asarray(tg_len)[:, None] > np.asarray([[-1, 0]])
        ends = polytorch.where(polytorch.tensor(has_label, device=device), ends, log_zero)
    loss = -ends.logsumexp(1)
    impossible = loss > -0.5 * log_zero
    loss = polytorch.where(impossible, 0.0 if zero_infinity else _INF, loss)
    if reduction == "mean":
        divisor = polytorch.tensor(np.maximum(np.asarray(tg_len, dtype=np.float64), 1.0),
                                   dtype=loss.dtype, device=device)
        return (loss / divisor).mean()
    if reduction == "sum":
        return loss.sum()
    return loss if batched else loss.squeeze(0)
