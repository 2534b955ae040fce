"""Adagrad, PyTorch's ``torch.optim.Adagrad``."""

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
    _check_nonneg,
    _closure_loss,
    _new_scalar,
    _real_only,
    _to_scalar,
)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad: per-coordinate steps scaled by the root of the summed squared gradients.

    Args:
        params: tensors or param groups to optimize.
        lr: learning rate.
        lr_decay: the step ``k`` uses ``lr / (1 + (k - 1) * lr_decay)``.
        weight_decay: L2 penalty added to the gradient.
        initial_accumulator_value: starting value of the sum of squares.
        eps: added to the denominator for numerical stability.
        foreach, differentiable, fused: accepted for compatibility (ignored).
        maximize: maximize the objective instead of minimizing it.

    Example:
        >>> w = polytorch.ones(2, requires_grad=True)
        >>> opt = polytorch.optim.Adagrad([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w
        tensor([0.9000, 0.9000], requires_grad=True)
    """

    _flag_defaults = {"foreach": None, "maximize": False, "differentiable": False,
                      "fused": None}

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        _check_lr(lr)
        _check_nonneg(lr_decay=lr_decay, weight_decay=weight_decay,
                      initial_accumulator_value=initial_accumulator_value, epsilon=eps)
        _check_flags("Adagrad", foreach=foreach, differentiable=differentiable, fused=fused)
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value,
                    "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        # Adagrad creates its state eagerly (PyTorch does too), from the defaults' value.
        for group in self.param_groups:
            for p in group["params"]:
                _real_only("Adagrad", p)
                self._init_state(self.state[p], p, None, group)

    def _init_state(self, state: dict[str, Any], param: Tensor, grad: Tensor | None,
                    group: dict[str, Any]) -> None:
        # The constructor's initial_accumulator_value, not the group's (as PyTorch).
        state["step"] = _new_scalar(0.0)
        state["sum"] = polytorch.full_like(param, self.defaults["initial_accumulator_value"])

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one optimization step; ``closure`` re-evaluates the loss (optional)."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            lr, lr_decay, eps = _to_scalar(group["lr"]), group["lr_decay"], group["eps"]
            for param, grad, state in self._params_with_grad(group, weight_decay=True):
                step_t, state_sum = state["step"], state["sum"]
                step_t += 1
                step = _to_scalar(step_t)
                clr = lr / (1 + (step - 1) * lr_decay)
                state_sum.addcmul_(grad, grad, value=1)
                std = state_sum.sqrt().add_(eps)
                param.addcdiv_(grad, std, value=-clr)
        return loss
