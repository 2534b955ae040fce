"""Gradient clipping: clip_grad_norm_, clip_grad_value_, get_total_norm, clip_grads_with_norm_.

As PyTorch's ``torch/nn/utils/clip_grad.py``: the total norm is the norm of the
per-gradient norms, and gradients are scaled by ``min(1, max_norm / (total + 1e-6))``
as a tensor, so nothing synchronises with the host unless ``error_if_nonfinite``.
"""

from __future__ import annotations

import types
import warnings
from collections.abc import Iterable

from ..._tensor import Tensor
from ...autograd._grad_mode import no_grad

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_",
           "get_total_norm"]

_tensor_or_tensors = Tensor | Iterable[Tensor]


def _as_list(tensors: _tensor_or_tensors) -> list[Tensor]:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _check_foreach(foreach: bool | None) -> None:
    if foreach not in (None, True, False):
        raise TypeError(f"foreach must be None or a bool, got {foreach!r}")


def get_total_norm(tensors: _tensor_or_tensors, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """The ``norm_type`` norm of ``tensors`` taken together (as if concatenated).

    Args:
        tensors: a tensor or an iterable of tensors (typically gradients).
        norm_type: the order of the norm; ``float("inf")`` for the max norm.
        error_if_nonfinite: raise if the total norm is nan or inf (a host sync).
        foreach: accepted for PyTorch compatibility (one code path here).

    Returns:
        A 0-d tensor on the device of the first tensor (``tensor(0.)`` when there are none).

    Example:
        >>> g = [polytorch.ones(3), polytorch.ones(1)]
        >>> get_total_norm(g)
        tensor(2.)
    """
    from ...linalg import vector_norm
    from ...ops.shape import stack

    _check_foreach(foreach)
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        from ..._creation import tensor

        return tensor(0.0)
    with no_grad():
        first_device = tensors[0].device
        norms = [vector_norm(t, norm_type) for t in tensors]
        if len(norms) == 1:
            total = norms[0]
        else:
            dt = norms[0].dtype
            total = vector_norm(stack([n.to(first_device, dt) for n in norms]), norm_type)
    if error_if_nonfinite and bool((total.isnan() | total.isinf()).item()):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
            "so it cannot be clipped. To disable this error and scale the gradients by the "
            "non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return total


def clip_grads_with_norm_(parameters: _tensor_or_tensors, max_norm: float, total_norm: Tensor,
                          foreach: bool | None = None) -> None:
    """Scale the gradients of ``parameters`` by ``min(1, max_norm / (total_norm + 1e-6))``.

    Example:
        >>> p = polytorch.nn.Parameter(polytorch.ones(2))
        >>> p.grad = polytorch.full((2,), 3.0)
        >>> clip_grads_with_norm_([p], 1.0, get_total_norm([p.grad]))
    """
    _check_foreach(foreach)
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    max_norm = float(max_norm)
    if not grads:
        return
    with no_grad():
        coef = (max_norm / (total_norm + 1e-6)).clamp(max=1.0)
        moved = {}
        for g in grads:
            key = (g.device, g.dtype)
            c = moved.get(key)
            if c is None:
                c = moved[key] = coef.to(g.device)
            g.mul_(c)


def clip_grad_norm_(parameters: _tensor_or_tensors, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Clip the gradient norm of ``parameters`` (taken together) to ``max_norm``, in place.

    Args:
        parameters: a tensor or an iterable of tensors whose ``.grad`` is clipped.
        max_norm: the largest allowed total norm.
        norm_type: the order of the norm; ``float("inf")`` for the max norm.
        error_if_nonfinite: raise if the total norm is nan or inf (a host sync).
        foreach: accepted for PyTorch compatibility.

    Returns:
        The total norm of the gradients before clipping, a 0-d tensor.

    Example:
        >>> p = polytorch.nn.Parameter(polytorch.ones(4))
        >>> p.grad = polytorch.full((4,), 2.0)
        >>> clip_grad_norm_([p], max_norm=1.0)
        tensor(4.)
    """
    if isinstance(parameters, types.GeneratorType):
        parameters = list(parameters)
        if not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.",
                          stacklevel=2)
    parameters = _as_list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(parameters: _tensor_or_tensors, max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Deprecated alias of ``clip_grad_norm_``."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters: _tensor_or_tensors, clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clamp every gradient of ``parameters`` to ``[-clip_value, clip_value]``, in place.

    Example:
        >>> p = polytorch.nn.Parameter(polytorch.ones(2))
        >>> p.grad = polytorch.tensor([-3.0, 0.5])
        >>> clip_grad_value_([p], 1.0)
        >>> p.grad
        tensor([-1.0000,  0.5000])
    """
    _check_foreach(foreach)
    clip_value = float(clip_value)
    with no_grad():
        for p in _as_list(parameters):
            if p.grad is not None:
                p.grad.clamp_(min=-clip_value, max=clip_value)
