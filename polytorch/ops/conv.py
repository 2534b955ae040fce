"""Convolution primitives (family ``conv``): unfold (im2col) and fold (col2im), pooling."""

from __future__ import annotations

__all__: list[str] = []
