"""``torch.cuda.amp``: deprecated CUDA spellings of ``polytorch.amp`` (FutureWarning, as PyTorch).

Example:
    >>> scaler = polytorch.cuda.amp.GradScaler(enabled=False)  # warns: use polytorch.amp
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable

from .. import _dtype as D
from .. import amp as _amp

__all__ = ["GradScaler", "autocast", "custom_bwd", "custom_fwd"]


class autocast(_amp.autocast):  # noqa: N801 (PyTorch's name)
    """``polytorch.amp.autocast("cuda", ...)`` under its deprecated name (a no-op region)."""

    def __init__(self, enabled: bool = True, dtype: D.dtype = D.float16,
                 cache_enabled: bool = True) -> None:
        warnings.warn(
            "`polytorch.cuda.amp.autocast(args...)` is deprecated. Please use "
            "`polytorch.amp.autocast('cuda', args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(_amp.GradScaler):
    """``polytorch.amp.GradScaler("cuda", ...)`` under its deprecated name (a pass-through)."""

    def __init__(self, init_scale: float = 2.0**16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000,
                 enabled: bool = True) -> None:
        warnings.warn(
            "`polytorch.cuda.amp.GradScaler(args...)` is deprecated. Please use "
            "`polytorch.amp.GradScaler('cuda', args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cuda", init_scale=init_scale, growth_factor=growth_factor,
                         backoff_factor=backoff_factor, growth_interval=growth_interval,
                         enabled=enabled)

    @staticmethod
    def _qualname() -> str:
        return "polytorch.cuda.amp.GradScaler"

    @staticmethod
    def _stacklevel() -> int:
        return 3  # the caller of this __init__, through super().__init__


def custom_fwd(fwd: Callable | None = None, *, cast_inputs: D.dtype | None = None) -> Callable:
    """Deprecated ``polytorch.amp.custom_fwd(device_type="cuda")``; a pass-through."""
    if fwd is None:
        return functools.partial(custom_fwd, cast_inputs=cast_inputs)
    return fwd


def custom_bwd(bwd: Callable) -> Callable:
    """Deprecated ``polytorch.amp.custom_bwd(device_type="cuda")``; a pass-through."""
    return bwd
