"""``torch.backends.mps``: polytorch has no Metal backend, so both answers are False.

Example:
    >>> polytorch.backends.mps.is_available()
    False
"""

from __future__ import annotations

__all__ = ["is_available", "is_built"]


def is_available() -> bool:
    """False: no polytorch backend serves Apple's Metal (``mps``) devices."""
    return False


def is_built() -> bool:
    """False: no polytorch backend serves Apple's Metal (``mps``) devices."""
    return False
