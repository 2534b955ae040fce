"""nn.functional: activations, softmax, linear, dropout, normalization, embedding, distances."""

from __future__ import annotations

__all__: list[str] = []
