"""``nn.Parameter``: a Tensor that a Module registers as a parameter."""

from __future__ import annotations

__all__: list[str] = []
