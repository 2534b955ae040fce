"""``nn.Module``: parameters, buffers and submodules registered by assignment."""

from __future__ import annotations

__all__: list[str] = []
