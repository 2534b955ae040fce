"""nn.functional: convolution, pooling, padding, interpolation, fold/unfold, pixel shuffle."""

from __future__ import annotations

__all__: list[str] = []
