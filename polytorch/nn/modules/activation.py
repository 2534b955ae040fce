"""Activation modules (and MultiheadAttention, which PyTorch keeps here too)."""

from __future__ import annotations

from . import _multihead
from ._multihead import *  # noqa: F403

__all__: list[str] = [*_multihead.__all__]
