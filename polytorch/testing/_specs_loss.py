"""Specs for losses (Note [One spec per op] in _specs.py).

``SPECS`` holds the loss primitives (polytorch/ops/loss.py); ``FUNCTIONAL`` the
public ``nn.functional`` losses, each with an independent NumPy float64 reference
(loops where that is clearer). Class indices are int64 arrays in every sample, so
the references cast them back from the float64 copies they receive.
"""

from __future__ import annotations

import numpy as np

import polytorch
import polytorch.nn.functional as F

from ._specs import FLOATS, OpSpec, Sample, _draw, promoted

SPECS: list = []  # OpSpec records of registered primitives
FUNCTIONAL: list = []  # OpSpec records of nn.functional functions, named as in F


def _bce_ref(x, t):
    return -(t * np.maximum(np.log(x), -100) + (1 - t) * np.maximum(np.log1p(-x), -100))


def _bce_samples(rng, dt):
    def p(*s):
        return _draw(rng, s, dt, 0.05, 0.95)

    return [
        Sample((p(3, 4), p(3, 4))),
        Sample((p(), p())),
        Sample((p(0, 3), p(0, 3))),
    ]


SPECS += [
    OpSpec("binary_cross_entropy",
           lambda x, t: F.binary_cross_entropy(x, t, reduction="none"), _bce_ref,
           _bce_samples, FLOATS, promoted),
]

_ = polytorch  # the calls below use polytorch tensors' methods only through F
