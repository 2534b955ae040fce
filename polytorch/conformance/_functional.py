"""The functional layer: every ``nn.functional`` spec, forward per dtype and float64 gradients.

Test ids: ``functional/NAME/DTYPE/forward`` for each dtype of the spec,
``functional/NAME/float64/grad`` (gradcheck) and ``functional/NAME/float64/gradgrad``
(gradgradcheck, where the spec asks for it). The records are
``polytorch.testing._specs.FUNCTIONAL`` (public functions, composites included,
named as in ``polytorch.nn.functional``); the checks are the ops layer's
(``_ops.spec_cases``). Public functions without a spec are listed in the
layer's notes (coverage), not failed: a spec is how a function joins the kit.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import polytorch

from ..testing._specs import FUNCTIONAL
from ._core import Case, Target
from ._ops import spec_cases


def cases(target: Target) -> Iterator[Case]:
    """The functional layer's cases for ``target``."""
    yield from spec_cases("functional", FUNCTIONAL, target, seed=("functional",))


def public_names() -> list[str]:
    """The public functions of ``polytorch.nn.functional`` (its ``__all__`` when it has one)."""
    F = polytorch.nn.functional
    names = getattr(F, "__all__", None)
    if names is None:  # star imports of the private modules' __all__: every public callable
        names = [n for n, v in vars(F).items()
                 if not n.startswith("_") and callable(v) and not isinstance(v, ModuleType)]
    return sorted(names)


def notes(target: Target) -> list[str]:
    """Coverage: which public functions have a spec, which have none."""
    public = public_names()
    missing = [n for n in public if n not in FUNCTIONAL]
    stray = sorted(set(FUNCTIONAL) - set(public))
    out = [f"coverage: {len(public) - len(missing)} of {len(public)} public "
           f"polytorch.nn.functional functions have a spec"]
    if missing:
        out.append(f"without a spec (not tested here): {', '.join(missing)}")
    if stray:
        out.append(f"specs naming no public function (their cases fail): {', '.join(stray)}")
    return out
