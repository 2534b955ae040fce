"""``autocast``: accepted as a context manager and a decorator, and a no-op for now.

Note [autocast is a no-op]
polytorch has no automatic mixed precision yet: inside ``autocast`` every op
runs in the dtypes of its inputs, as outside it (float32 models stay float32).
The region is accepted (with PyTorch's arguments and argument checks) so that
PyTorch training scripts run unchanged; ``is_autocast_enabled()`` answers False
inside it, which is what the ops actually do. ``GradScaler`` disables itself
for the same reason (float32 gradients do not underflow).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .. import _dtype as D

__all__ = ["autocast", "custom_bwd", "custom_fwd", "is_autocast_available"]

# PyTorch's default fast dtype per device type.
_DEFAULT_DTYPES = {"cuda": D.float16, "cpu": D.bfloat16, "tpu": D.bfloat16}


def is_autocast_available(device_type: str) -> bool:
    """False for every device type: polytorch has no autocast yet (Note [autocast is a no-op])."""
    return False


class autocast:  # noqa: N801 (PyTorch's name)
    """A mixed-precision region; accepted and a no-op (Note [autocast is a no-op]).

    Args:
        device_type: ``"cuda"``, ``"cpu"``, ... (a string, as in PyTorch).
        dtype: the low-precision dtype the region would use.
        enabled: whether the region is enabled.
        cache_enabled: whether weight casts would be cached.

    Example:
        >>> with polytorch.autocast("cuda", dtype=polytorch.float16):
        ...     loss = model(x).sum()      # runs in model's own dtypes
    """

    def __init__(self, device_type: str, dtype: D.dtype | None = None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        if not isinstance(device_type, str):
            raise ValueError(
                f"Expected `device_type` of type `str`, got: `{type(device_type)}`"
            )
        if dtype is not None and not isinstance(dtype, D.dtype):
            raise TypeError(f"autocast(): dtype must be a polytorch dtype, got {dtype!r}")
        if not isinstance(enabled, bool):
            raise TypeError(f"autocast(): enabled must be a bool, got {enabled!r}")
        self.device = device_type
        self.fast_dtype = dtype if dtype is not None else _DEFAULT_DTYPES.get(
            device_type, D.float16)
        self._enabled = enabled
        self._cache_enabled = True if cache_enabled is None else bool(cache_enabled)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return False

    def __call__(self, func: Callable) -> Callable:
        @functools.wraps(func)
        def decorated(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return decorated


def custom_fwd(fwd: Callable | None = None, *, device_type: str,
               cast_inputs: D.dtype | None = None) -> Callable:
    """Decorator for a custom ``Function.forward``; a pass-through (no autocast to leave)."""
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)
    return fwd


def custom_bwd(bwd: Callable | None = None, *, device_type: str) -> Callable:
    """Decorator for a custom ``Function.backward``; a pass-through (no autocast to restore)."""
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)
    return bwd
