"""Functional specs for attention (Note [One spec per op] in _specs.py).

``scaled_dot_product_attention`` is a composite, so it has no primitive (``SPECS``)
record; its ``FUNCTIONAL`` record samples the plain call, bool and float masks
(one row fully masked: PyTorch's CPU kernel gives zeros there), ``is_causal``,
``scale`` and grouped-query attention, against a NumPy float64 reference.
"""

from __future__ import annotations

import numpy as np

import polytorch

from ._specs import FLOATS, NonContig, OpSpec, Sample, _draw, same

SPECS: list = []  # OpSpec records of registered primitives
FUNCTIONAL: list = []  # OpSpec records of nn.functional functions, named as in F


def _sdpa(query, key, value, attn_mask=None, **kwargs):
    return polytorch.nn.functional.scaled_dot_product_attention(query, key, value, attn_mask,
                                                               **kwargs)


def _sdpa_ref(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
              enable_gqa=False):
    q, k, v = (np.asarray(a, np.float64) for a in (q, k, v))
    if enable_gqa:
        k = np.repeat(k, q.shape[-3] // k.shape[-3], axis=-3)
        v = np.repeat(v, q.shape[-3] // v.shape[-3], axis=-3)
    L, S = q.shape[-2], k.shape[-2]
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    scores = np.einsum("...le,...se->...ls", q, k) * scale
    allowed = np.ones((L, S), bool)
    if is_causal:
        allowed = np.tril(allowed)
    if attn_mask is not None and attn_mask.dtype == np.bool_:
        allowed = allowed & attn_mask
    elif attn_mask is not None:
        scores = scores + attn_mask
    allowed = np.broadcast_to(allowed, scores.shape)
    scores = np.where(allowed, scores, -np.inf)
    top = np.max(scores, axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    e = np.exp(scores - top)
    total = e.sum(axis=-1, keepdims=True)
    weights = np.divide(e, total, out=np.zeros_like(e), where=total > 0)  # masked rows: 0
    return weights @ v


def _sdpa_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -1.5, 1.5)

    mask = rng.rand(3, 5) < 0.6
    mask[:, 0] = True
    mask[1] = False  # a fully masked row
    return [
        Sample((x(1, 2, 3, 4), x(1, 2, 5, 4), x(1, 2, 5, 3))),
        Sample((x(1, 2, 3, 4), x(1, 2, 5, 4), x(1, 2, 5, 3), mask)),
        Sample((x(1, 2, 3, 4), x(1, 2, 5, 4), x(1, 2, 5, 3), x(2, 1, 5))),
        Sample((x(1, 2, 3, 4), x(1, 2, 5, 4), x(1, 2, 5, 3)), {"is_causal": True}),
        Sample((x(1, 2, 3, 4), NonContig(x(1, 2, 5, 4)), x(1, 2, 5, 3)), {"scale": 0.7}),
        Sample((x(1, 4, 3, 4), x(1, 2, 5, 4), x(1, 2, 5, 3)), {"enable_gqa": True}),
    ]


FUNCTIONAL += [
    OpSpec("scaled_dot_product_attention", _sdpa, _sdpa_ref, _sdpa_samples, FLOATS, same),
]
