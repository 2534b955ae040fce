"""Adamax (Adam with the infinity norm), PyTorch's ``torch.optim.Adamax``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polytorch

from .._tensor import Tensor
from .optimizer import (
    Optimizer,
    ParamsT,
    _check_adam_args,
    _check_flags,
    _closure_loss,
    _new_scalar,
    _real_only,
    _to_scalar,
)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax: Adam whose second moment is an exponentially weighted infinity norm.

    Args:
        params: tensors or param groups to optimize.
        lr: learning rate.
        betas: decay rates of the first moment and of the infinity norm.
        eps: added to the norm for numerical stability.
        weight_decay: L2 penalty added to the gradient.
        foreach, differentiable, capturable: accepted for compatibility (ignored).
        maximize: maximize the objective instead of minimizing it.

    Example:
        >>> w = polytorch.ones(2, requires_grad=True)
        >>> opt = polytorch.optim.Adamax([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w
        tensor([0.9000, 0.9000], requires_grad=True)
    """

    _flag_defaults = {"foreach": None, "maximize": False, "differentiable": False,
                      "capturable": False}

    def __init__(self, params: ParamsT, lr: float | Tensor = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        _check_adam_args(lr, eps, betas, weight_decay)
        _check_flags("Adamax", foreach=foreach, differentiable=differentiable,
                     capturable=capturable)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def _init_state(self, state: dict[str, Any], param: Tensor, grad: Tensor,
                    group: dict[str, Any]) -> None:
        _real_only("Adamax", param)
        state["step"] = _new_scalar(0.0)
        state["exp_avg"] = polytorch.zeros_like(param)
        state["exp_inf"] = polytorch.zeros_like(param)

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one optimization step; ``closure`` re-evaluates the loss (optional)."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps = _to_scalar(group["lr"]), group["eps"]
            for param, grad, state in self._params_with_grad(group, weight_decay=True):
                exp_avg, exp_inf, step_t = state["exp_avg"], state["exp_inf"], state["step"]
                step_t += 1
                exp_avg.lerp_(grad, 1 - beta1)
                exp_inf.copy_(polytorch.maximum(exp_inf.mul_(beta2), grad.abs().add_(eps)))
                clr = lr / (1 - beta1 ** _to_scalar(step_t))
                param.addcdiv_(exp_avg, exp_inf, value=-clr)
        return loss
