"""Op specs for the conv family (Note [One spec per op] in _specs.py)."""

from __future__ import annotations

SPECS: list = []  # OpSpec records of registered primitives
FUNCTIONAL: list = []  # OpSpec records of nn.functional functions, named as in F
