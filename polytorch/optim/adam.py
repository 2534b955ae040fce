"""Adam (and, with ``decoupled_weight_decay``, AdamW): PyTorch's ``torch.optim.Adam``."""

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

__all__ = ["Adam"]


class Adam(Optimizer):
    """Adam: bias-corrected moving averages of the gradient and of its square.

    Args:
        params: tensors or param groups to optimize.
        lr: learning rate.
        betas: decay rates of the first and second moment averages.
        eps: added to the denominator for numerical stability.
        weight_decay: L2 penalty (added to the gradient, or decoupled: see below).
        amsgrad: use the running maximum of the second moment (AMSGrad).
        foreach, capturable, differentiable, fused: accepted for compatibility (ignored).
        maximize: maximize the objective instead of minimizing it.
        decoupled_weight_decay: shrink the parameter by ``lr * weight_decay`` directly
            (AdamW) instead of adding ``weight_decay * p`` to the gradient.

    Example:
        >>> w = polytorch.ones(2, requires_grad=True)
        >>> opt = polytorch.optim.Adam([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w
        tensor([0.9000, 0.9000], requires_grad=True)
    """

    _flag_defaults = {"amsgrad": False, "maximize": False, "foreach": None,
                      "capturable": False, "differentiable": False,
                      "decoupled_weight_decay": False, "fused": None}

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-3,
                 betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        _check_adam_args(lr, eps, betas, weight_decay)
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError("betas must be either both floats or both Tensors")
        for i in (0, 1):
            if isinstance(betas[i], Tensor) and betas[i].numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")
        _check_flags(type(self).__name__, foreach=foreach, capturable=capturable,
                     differentiable=differentiable, fused=fused)
        betas = tuple(map(_to_scalar, betas))
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
                    "capturable": capturable, "differentiable": differentiable,
                    "fused": fused, "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _init_state(self, state: dict[str, Any], param: Tensor, grad: Tensor,
                    group: dict[str, Any]) -> None:
        _real_only(type(self).__name__, param)
        state["step"] = _new_scalar(0.0)
        state["exp_avg"] = polytorch.zeros_like(param)
        state["exp_avg_sq"] = polytorch.zeros_like(param)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = polytorch.zeros_like(param)

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one optimization step; ``closure`` re-evaluates the loss (optional)."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = (_to_scalar(b) for b in group["betas"])
            lr = _to_scalar(group["lr"])
            eps = group["eps"]
            amsgrad = group["amsgrad"]
            for param, grad, state in self._params_with_grad(group, weight_decay=True):
                exp_avg, exp_avg_sq, step_t = state["exp_avg"], state["exp_avg_sq"], \
                    state["step"]
                step_t += 1
                exp_avg.lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                step = _to_scalar(step_t)
                bias_correction1 = 1 - beta1**step
                bias_correction2 = 1 - beta2**step
                step_size = lr / bias_correction1
                bias_correction2_sqrt = bias_correction2**0.5
                if amsgrad:
                    max_sq = state["max_exp_avg_sq"]
                    max_sq.copy_(polytorch.maximum(max_sq, exp_avg_sq))
                    denom = (max_sq.sqrt() / bias_correction2_sqrt).add_(eps)
                else:
                    denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
                param.addcdiv_(exp_avg, denom, value=-step_size)
        return loss
