"""Neural-network primitives (family ``nn``): softmax, log_softmax and other fused ops."""

from __future__ import annotations

__all__: list[str] = []
