"""Gradient checks against central finite differences (kept here for ``polytorch.testing``).

The implementation is the public one, ``polytorch.autograd.gradcheck``.
"""

from __future__ import annotations

from ..autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]
