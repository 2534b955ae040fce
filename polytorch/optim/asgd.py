"""Averaged SGD, PyTorch's ``torch.optim.ASGD``."""

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

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """Averaged stochastic gradient descent (Polyak & Juditsky): SGD plus a running average.

    The average of the iterates is kept in the state as ``ax``; the step size decays as
    ``lr / (1 + lambd * lr * t) ** alpha`` and averaging starts at step ``t0``.

    Args:
        params: tensors or param groups to optimize.
        lr: learning rate.
        lambd: decay term.
        alpha: power of the eta update.
        t0: step at which averaging starts.
        weight_decay: L2 penalty added to the gradient.
        foreach, differentiable, capturable: accepted for compatibility (ignored).
        maximize: maximize the objective instead of minimizing it.

    Example:
        >>> w = polytorch.ones(2, requires_grad=True)
        >>> opt = polytorch.optim.ASGD([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
    """

    _flag_defaults = {"foreach": None, "maximize": False, "differentiable": False,
                      "capturable": False}

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        _check_lr(lr)
        _check_nonneg(weight_decay=weight_decay)
        _check_flags("ASGD", foreach=foreach, differentiable=differentiable,
                     capturable=capturable)
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def _init_state(self, state: dict[str, Any], param: Tensor, grad: Tensor,
                    group: dict[str, Any]) -> None:
        _real_only("ASGD", param)
        # eta and mu live with step on the cpu (PyTorch puts them on the param's device):
        # they are read as numbers every step.
        state["step"] = _new_scalar(0.0)
        state["eta"] = _new_scalar(float(_to_scalar(group["lr"])))
        state["mu"] = _new_scalar(1.0)
        state["ax"] = polytorch.zeros_like(param)

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one optimization step; ``closure`` re-evaluates the loss (optional)."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            lr, lambd, alpha = _to_scalar(group["lr"]), group["lambd"], group["alpha"]
            t0 = group["t0"]
            for param, grad, state in self._params_with_grad(group, weight_decay=True):
                mu, ax, eta, step_t = state["mu"], state["ax"], state["eta"], state["step"]
                step_t += 1
                eta_value = _to_scalar(eta)
                param.mul_(1 - lambd * eta_value)
                param.add_(grad, alpha=-eta_value)
                if _to_scalar(mu) != 1:
                    ax.add_(param.sub(ax).mul_(_to_scalar(mu)))
                else:
                    ax.copy_(param)
                step = _to_scalar(step_t)
                eta.fill_(lr / ((1 + lambd * lr * step) ** alpha))
                mu.fill_(1 / max(1, step - t0))
        return loss
