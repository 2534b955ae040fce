"""Generators and seeding: the counter-based default generator (ARCHITECTURE §6)."""

from __future__ import annotations

__all__: list[str] = []  # exported as polytorch.NAME
