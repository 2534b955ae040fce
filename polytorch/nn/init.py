"""``nn.init``: PyTorch's initialisation functions, drawing from polytorch's generator."""

from __future__ import annotations

__all__: list[str] = []
