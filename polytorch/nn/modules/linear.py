"""Identity, Linear, Bilinear."""

from __future__ import annotations

__all__: list[str] = []
