"""Op specs for elementwise math, comparisons, logic (Note [One spec per op] in _specs.py).

Import the tools from ``._specs`` (``OpSpec``, ``Sample``, ``NonContig``, the
sample builders and dtype rules) and list this family's records in ``SPECS``.
"""

from __future__ import annotations

SPECS: list = []
