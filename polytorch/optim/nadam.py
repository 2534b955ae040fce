"""NAdam (Adam with Nesterov momentum), PyTorch's ``torch.optim.NAdam``."""

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
    _check_nonneg,
    _closure_loss,
    _new_scalar,
    _real_only,
    _to_scalar,
)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam (Dozat 2016): Adam with Nesterov momentum and a momentum decay schedule.

    Args:
        params: tensors or param groups to optimize.
        lr: learning rate.
        betas: decay rates of the first and second moment averages.
        eps: added to the denominator for numerical stability.
        weight_decay: L2 penalty (added to the gradient unless decoupled).
        momentum_decay: the ``psi`` of the momentum schedule.
        decoupled_weight_decay: shrink the parameters directly, as AdamW does.
        foreach, capturable, differentiable: accepted for compatibility (ignored).
        maximize: maximize the objective instead of minimizing it.

    Example:
        >>> w = polytorch.ones(2, requires_grad=True)
        >>> opt = polytorch.optim.NAdam([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
    """

    _flag_defaults = {"maximize": False, "foreach": None, "capturable": False,
                      "differentiable": False, "decoupled_weight_decay": False}

    def __init__(self, params: ParamsT, lr: float | Tensor = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _check_adam_args(lr, eps, betas, weight_decay)
        _check_nonneg(momentum_decay=momentum_decay)
        _check_flags("NAdam", foreach=foreach, capturable=capturable,
                     differentiable=differentiable)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _init_state(self, state: dict[str, Any], param: Tensor, grad: Tensor,
                    group: dict[str, Any]) -> None:
        _real_only("NAdam", param)
        state["step"] = _new_scalar(0.0)
        state["mu_product"] = _new_scalar(1.0)
        state["exp_avg"] = polytorch.zeros_like(param)
        state["exp_avg_sq"] = polytorch.zeros_like(param)

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one optimization step; ``closure`` re-evaluates the loss (optional)."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps = _to_scalar(group["lr"]), group["eps"]
            momentum_decay = group["momentum_decay"]
            for param, grad, state in self._params_with_grad(group, weight_decay=True):
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                mu_product, step_t = state["mu_product"], state["step"]
                step_t += 1
                step = _to_scalar(step_t)
                bias_correction2 = 1 - beta2**step
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                mu_product *= mu
                exp_avg.lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                denom = exp_avg_sq.div(bias_correction2).sqrt()
                mu_product_value = _to_scalar(mu_product)
                mu_product_next = mu_product_value * mu_next
                denom.add_(eps)
                param.addcdiv_(grad, denom, value=(-lr * (1.0 - mu) / (1.0 - mu_product_value)))
                param.addcdiv_(exp_avg, denom, value=(-lr * mu_next) / (1.0 - mu_product_next))
        return loss
