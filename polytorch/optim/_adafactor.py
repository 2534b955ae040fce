"""Adafactor, PyTorch's ``torch.optim.Adafactor`` (module name as in PyTorch)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polytorch

from .._tensor import Tensor
from .optimizer import (
    Optimizer,
    ParamsT,
    _check_flags,
    _closure_loss,
    _new_scalar,
    _real_only,
    _to_scalar,
)

__all__ = ["Adafactor"]

# Machine epsilons (PyTorch's torch.finfo(dtype).eps), the default epsilon1 per dtype.
_EPS = {"float16": 2.0**-10, "bfloat16": 2.0**-7, "float32": 2.0**-23, "float64": 2.0**-52}


class Adafactor(Optimizer):
    """Adafactor (Shazeer & Stern 2018): factored second moments, relative step sizes.

    Matrices (and batches of them) keep only row and column averages of the squared
    gradient; vectors keep the full average. As in PyTorch, ``lr`` caps the relative step
    size and scales the decoupled weight decay.

    Args:
        params: tensors or param groups to optimize.
        lr: maximum relative step size (and weight-decay coefficient).
        beta2_decay: the exponent of the second-moment decay schedule (``<= 0``).
        eps: (epsilon1, epsilon2): epsilon1 stabilizes the denominators (default: the
            dtype's machine epsilon), epsilon2 bounds the parameter scale from below.
        d: the update-clipping threshold.
        weight_decay: decoupled weight decay coefficient.
        foreach: accepted for compatibility (ignored).
        maximize: maximize the objective instead of minimizing it.

    Example:
        >>> w = polytorch.ones(2, 2, requires_grad=True)
        >>> opt = polytorch.optim.Adafactor([w])
        >>> (w * w).sum().backward()
        >>> opt.step()
    """

    _flag_defaults = {"foreach": None, "maximize": False}

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0,
                 weight_decay: float = 0.0, *, foreach: bool | None = None,
                 maximize: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        _check_flags("Adafactor", foreach=foreach)
        defaults = {"lr": lr, "beta2_decay": beta2_decay, "eps": eps, "d": d,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize}
        super().__init__(params, defaults)

    def _init_state(self, state: dict[str, Any], param: Tensor, grad: Tensor,
                    group: dict[str, Any]) -> None:
        _real_only("Adafactor", param)
        state["step"] = _new_scalar(0.0)
        if grad.dim() > 1:
            state["row_var"] = polytorch.zeros(
                (*grad.shape[:-1], 1), dtype=grad.dtype, device=grad.device)
            state["col_var"] = polytorch.zeros(
                (*grad.shape[:-2], 1, grad.shape[-1]), dtype=grad.dtype, device=grad.device)
        else:
            state["variance"] = polytorch.zeros_like(grad)

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one optimization step; ``closure`` re-evaluates the loss (optional)."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            lr, d = _to_scalar(group["lr"]), group["d"]
            beta2_decay, weight_decay = group["beta2_decay"], group["weight_decay"]
            eps1, eps2 = group["eps"]
            for param, grad, state in self._params_with_grad(group):
                if eps1 is None:
                    eps1 = _EPS[param.dtype.name]
                step_t = state["step"]
                step_t += 1
                step_float = step_t.item()
                one_minus_beta2_t = step_float**beta2_decay
                rho_t = min(lr, 1 / (step_float**0.5))
                # PyTorch reads the parameter and update norms as numbers: two host reads.
                alpha = max(eps2, param.norm(2).item() / (param.numel() ** 0.5)) * rho_t
                # Decoupled decay after alpha has read the parameter norm (not in the loop head).
                if weight_decay != 0:
                    param.mul_(1 - lr * weight_decay)
                if grad.dim() > 1:
                    row_var, col_var = state["row_var"], state["col_var"]
                    row_mean = polytorch.norm(grad, dim=-1, keepdim=True).square_() \
                        .div_(grad.size(-1))
                    row_var.lerp_(row_mean, one_minus_beta2_t)
                    col_mean = polytorch.norm(grad, dim=-2, keepdim=True).square_() \
                        .div_(grad.size(-2))
                    col_var.lerp_(col_mean, one_minus_beta2_t)
                    var_estimate = row_var @ col_var
                    var_estimate.div_(row_var.mean(dim=-2, keepdim=True).clamp_(min=eps1))
                else:
                    variance = state["variance"]
                    variance.lerp_(grad * grad, one_minus_beta2_t)
                    var_estimate = variance.clone()
                update = var_estimate.clamp_(min=eps1 * eps1).rsqrt_()
                update.mul_(grad)
                denom = max(1.0, update.norm(2).item() / ((update.numel() ** 0.5) * d))
                param.add_(update, alpha=-alpha / denom)
        return loss
