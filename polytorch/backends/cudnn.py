"""``torch.backends.cudnn`` flags, accepted so that PyTorch scripts run unchanged.

polytorch calls no cuDNN: convolutions run as the backend's own kernels (CuPy,
XLA), so these flags change nothing. They are plain module attributes, so
``polytorch.backends.cudnn.benchmark = True`` works as it does in PyTorch.

Example:
    >>> import polytorch.backends.cudnn as cudnn
    >>> cudnn.benchmark = True        # accepted; polytorch has no cuDNN autotuner
    >>> cudnn.is_available()
    False
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["allow_tf32", "benchmark", "benchmark_limit", "deterministic", "enabled", "flags",
           "is_available", "version"]

# PyTorch's defaults.
enabled: bool = True
benchmark: bool = False
benchmark_limit: int | None = None  # PyTorch reads None where cuDNN is missing
deterministic: bool = False
allow_tf32: bool = True


def is_available() -> bool:
    """False: polytorch never calls cuDNN (its GPU kernels come from CuPy or XLA)."""
    return False


def version() -> int | None:
    """None, as PyTorch answers when cuDNN is not available."""
    return None


@contextlib.contextmanager
def flags(enabled: bool = False, benchmark: bool = False, benchmark_limit: int = 10,
          deterministic: bool = False, allow_tf32: bool = True, fp32_precision: str = "none",
          depthwise_kernel: str = "auto") -> Iterator[None]:
    """Set the flags for a block and restore them after it (``torch.backends.cudnn.flags``).

    Example:
        >>> with polytorch.backends.cudnn.flags(enabled=True, deterministic=True):
        ...     pass
    """
    g = globals()
    names = ("enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32")
    saved = {n: g[n] for n in names}
    g.update(enabled=enabled, benchmark=benchmark, benchmark_limit=benchmark_limit,
             deterministic=deterministic, allow_tf32=allow_tf32)
    try:
        yield
    finally:
        g.update(saved)
