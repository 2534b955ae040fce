"""``polytorch.linalg``: PyTorch's ``torch.linalg``."""

from __future__ import annotations

__all__: list[str] = []
