"""Indexing primitives: advanced getitem/setitem, gather, scatter, index_* and friends."""

from __future__ import annotations

__all__: list[str] = []  # exported as polytorch.NAME

# Tensor methods this module adds (see polytorch/_tensor_methods.py).
TENSOR_METHODS: dict = {}
INPLACE_METHODS: dict = {}
