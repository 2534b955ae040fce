"""Rprop (resilient backpropagation), PyTorch's ``torch.optim.Rprop``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polytorch

from .._tensor import Tensor
from .optimizer import (
    Optimizer,
    ParamsT,
    _check_flags,
    _check_lr,
    _closure_loss,
    _new_scalar,
    _real_only,
    _to_scalar,
)

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Rprop: per-coordinate step sizes grown or shrunk by the sign agreement of gradients.

    Args:
        params: tensors or param groups to optimize.
        lr: initial step size.
        etas: (etaminus, etaplus), the factors that shrink and grow the step sizes.
        step_sizes: (min, max) bounds of the step sizes.
        capturable, foreach, differentiable: accepted for compatibility (ignored).
        maximize: maximize the objective instead of minimizing it.

    Example:
        >>> w = polytorch.ones(2, requires_grad=True)
        >>> opt = polytorch.optim.Rprop([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w
        tensor([0.9000, 0.9000], requires_grad=True)
    """

    _flag_defaults = {"foreach": None, "maximize": False, "differentiable": False,
                      "capturable": False}

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-2,
                 etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        _check_flags("Rprop", capturable=capturable, foreach=foreach,
                     differentiable=differentiable)
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def _init_state(self, state: dict[str, Any], param: Tensor, grad: Tensor,
                    group: dict[str, Any]) -> None:
        _real_only("Rprop", param)
        state["step"] = _new_scalar(0.0)
        state["prev"] = polytorch.zeros_like(param)
        state["step_size"] = polytorch.full_like(grad, _to_scalar(group["lr"]))

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one optimization step; ``closure`` re-evaluates the loss (optional)."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            for param, grad, state in self._params_with_grad(group):
                prev, step_size = state["prev"], state["step_size"]
                state["step"] += 1
                sign = grad.mul(prev).sign()
                # The sign agreement becomes the step-size factor: grow, shrink or keep.
                sign = polytorch.where(sign > 0, etaplus, polytorch.where(sign < 0, etaminus,
                                                                          1.0))
                step_size.mul_(sign).clamp_(step_size_min, step_size_max)
                # After a sign change the step is skipped and the change forgotten.
                grad = polytorch.where(sign == etaminus, 0.0, grad)
                param.addcmul_(grad.sign(), step_size, value=-1)
                prev.copy_(grad)
        return loss
