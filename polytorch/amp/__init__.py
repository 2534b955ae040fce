"""``polytorch.amp``: PyTorch's mixed-precision API, accepted and a no-op for now.

``autocast`` regions run ops in their inputs' dtypes and ``GradScaler`` passes
through (Note [autocast is a no-op] in ``autocast_mode.py``), so PyTorch scripts
that use AMP run unchanged, in float32.

Example:
    >>> scaler = polytorch.amp.GradScaler("cuda", enabled=False)
    >>> with polytorch.amp.autocast("cuda"):
    ...     pass
"""

from .autocast_mode import autocast, custom_bwd, custom_fwd, is_autocast_available
from .grad_scaler import GradScaler

__all__ = ["GradScaler", "autocast", "custom_bwd", "custom_fwd", "is_autocast_available"]
