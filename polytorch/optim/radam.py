"""RAdam (rectified Adam), PyTorch's ``torch.optim.RAdam``."""

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

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """RAdam (Liu et al. 2019): Adam with a rectified adaptive learning rate.

    While the variance of the adaptive rate is intractable (``rho_t <= 5``) the update is
    bias-corrected momentum alone.

    Args:
        params: tensors or param groups to optimize.
        lr: learning rate.
        betas: decay rates of the first and second moment averages.
        eps: added to the denominator for numerical stability.
        weight_decay: L2 penalty (added to the gradient unless decoupled).
        decoupled_weight_decay: shrink the parameters directly, as AdamW does.
        foreach, capturable, differentiable: accepted for compatibility (ignored).
        maximize: maximize the objective instead of minimizing it.

    Example:
        >>> w = polytorch.ones(2, requires_grad=True)
        >>> opt = polytorch.optim.RAdam([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w
        tensor([0.8000, 0.8000], requires_grad=True)
    """

    _flag_defaults = {"foreach": None, "maximize": False, "differentiable": False,
                      "decoupled_weight_decay": False, "capturable": False}

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        _check_adam_args(lr, eps, betas, weight_decay)
        _check_flags("RAdam", foreach=foreach, capturable=capturable,
                     differentiable=differentiable)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "decoupled_weight_decay": decoupled_weight_decay,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _init_state(self, state: dict[str, Any], param: Tensor, grad: Tensor,
                    group: dict[str, Any]) -> None:
        _real_only("RAdam", param)
        state["step"] = _new_scalar(0.0)
        state["exp_avg"] = polytorch.zeros_like(param)
        state["exp_avg_sq"] = polytorch.zeros_like(param)

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one optimization step; ``closure`` re-evaluates the loss (optional)."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps = _to_scalar(group["lr"]), group["eps"]
            rho_inf = 2 / (1 - beta2) - 1
            for param, grad, state in self._params_with_grad(group, weight_decay=True):
                exp_avg, exp_avg_sq, step_t = state["exp_avg"], state["exp_avg_sq"], \
                    state["step"]
                step_t += 1
                step = _to_scalar(step_t)
                exp_avg.lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                bias_correction1 = 1 - beta1**step
                bias_correction2 = 1 - beta2**step
                bias_corrected_exp_avg = exp_avg / bias_correction1
                rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                            / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    adaptive_lr = (bias_correction2**0.5) / exp_avg_sq.sqrt().add_(eps)
                    param.add_(bias_corrected_exp_avg * lr * adaptive_lr * rect, alpha=-1.0)
                else:
                    param.add_(bias_corrected_exp_avg * lr, alpha=-1.0)
        return loss
