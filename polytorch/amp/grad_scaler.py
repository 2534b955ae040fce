"""``GradScaler``: a pass-through, since polytorch's autocast keeps float32 (no underflow).

A disabled scaler is what PyTorch itself runs on a machine without CUDA: ``scale``
returns the loss unchanged, ``step`` calls ``optimizer.step()``, ``unscale_`` and
``update`` do nothing and ``state_dict`` is empty. Asking for an enabled scaler
warns once per construction and disables it (Note [autocast is a no-op] in
``polytorch/amp/autocast_mode.py``), as PyTorch does when CUDA is missing.
"""

from __future__ import annotations

import warnings
from typing import Any

__all__ = ["GradScaler"]


class GradScaler:
    """Loss scaling for mixed precision; disabled in polytorch (see the module docstring).

    Example:
        >>> scaler = polytorch.amp.GradScaler("cuda", enabled=False)
        >>> scaler.scale(loss).backward()
        >>> scaler.step(optimizer)
        >>> scaler.update()
    """

    def __init__(self, device: str = "cuda", init_scale: float = 2.0**16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        if not isinstance(device, str):
            raise ValueError(f"GradScaler: device must be a string such as 'cuda', got {device!r}")
        if enabled:
            warnings.warn(
                f"{self._qualname()} is enabled, but polytorch has no float16 autocast on "
                f"device type {device!r} (autocast keeps float32, whose gradients do not "
                f"underflow).  Disabling.", UserWarning, stacklevel=self._stacklevel())
        self._device = device
        self._enabled = False
        self._init_scale = float(init_scale)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = int(growth_interval)

    @staticmethod
    def _qualname() -> str:
        return "polytorch.amp.GradScaler"

    @staticmethod
    def _stacklevel() -> int:
        return 2  # the caller of __init__

    def is_enabled(self) -> bool:
        return self._enabled

    def scale(self, outputs: Any) -> Any:
        """The outputs unchanged (a disabled scaler multiplies by nothing)."""
        return outputs

    def unscale_(self, optimizer: Any) -> None:
        """Nothing to divide: the gradients were never scaled."""

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """``optimizer.step(*args, **kwargs)``, returning its value."""
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale: Any = None) -> None:
        """Nothing to update for a disabled scaler."""

    def get_scale(self) -> float:
        return 1.0

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = int(new_interval)

    def state_dict(self) -> dict[str, Any]:
        """``{}``: PyTorch's state of a disabled scaler."""
        return {}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Accepted and ignored, as a disabled PyTorch scaler does."""
        if not isinstance(state_dict, dict):
            raise TypeError(
                f"GradScaler.load_state_dict expects a dict, got {type(state_dict).__name__}"
            )
