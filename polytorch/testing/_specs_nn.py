"""Op specs for neural-network functions (issue 4) (Note [One spec per op] in _specs.py).

Import the tools from ``._specs`` (``OpSpec``, ``Sample``, ``NonContig``, the
sample builders and dtype rules) and list this family's records in ``SPECS``.
"""

from __future__ import annotations

SPECS: list = []  # OpSpec records of registered primitives
FUNCTIONAL: list = []  # OpSpec records of nn.functional functions, named as in F
