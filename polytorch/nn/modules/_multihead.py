"""MultiheadAttention (exported from polytorch.nn.modules.activation, as in PyTorch)."""

from __future__ import annotations

__all__: list[str] = []
