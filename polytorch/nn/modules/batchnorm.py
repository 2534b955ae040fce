"""BatchNorm1d/2d/3d: batch statistics in training, running statistics in eval."""

from __future__ import annotations

__all__: list[str] = []
