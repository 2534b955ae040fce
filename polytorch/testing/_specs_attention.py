"""Functional specs for attention (Note [One spec per op] in _specs.py).

``scaled_dot_product_attention`` is a composite, so it has no primitive (``SPECS``)
record; its ``FUNCTIONAL`` record samples the plain call, bool and float masks
(one row fully masked: PyTorch's CPU kernel gives zeros there), ``is_causal``,
``scale`` and grouped-query attention, against a NumPy float64 reference; the
``multi_head_attention_forward`` record samples its core path (in- and
out-projections, key padding and attention masks, per-head or averaged weights).
"""

from __future__ import annotations

import numpy as np

from ._specs import FLOATS, NonContig, OpSpec, Sample, _draw, functional_of, same

SPECS: list = []  # OpSpec records of registered primitives
FUNCTIONAL: list = []  # OpSpec records of nn.functional functions, named as in F


def _sdpa(query, key, value, attn_mask=None, **kwargs):
    return functional_of(query).scaled_dot_product_attention(query, key, value, attn_mask,
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


# -- multi_head_attention_forward -----------------------------------------------------------


def _mha(query, key, value, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias,
         key_padding_mask=None, attn_mask=None, *, num_heads, average_attn_weights=True):
    return functional_of(query).multi_head_attention_forward(
        query, key, value, query.shape[-1], num_heads, in_proj_weight, in_proj_bias, None,
        None, False, 0.0, out_proj_weight, out_proj_bias, key_padding_mask=key_padding_mask,
        attn_mask=attn_mask, average_attn_weights=average_attn_weights)


def _mha_grad(*args, **kwargs):
    out, weights = _mha(*args, **kwargs)
    return out + weights.sum()


def _mha_ref(q, k, v, w_in, b_in, w_out, b_out, key_padding_mask=None, attn_mask=None, *,
             num_heads, average_attn_weights=True):
    L, N, E = q.shape
    hd = E // num_heads
    wq, wk, wv = np.split(w_in, 3)
    bq, bk, bv = np.split(b_in, 3)

    def heads(x, w, b):  # (T, N, E) -> (N, H, T, hd)
        return (x @ w.T + b).reshape(x.shape[0], N, num_heads, hd).transpose(1, 2, 0, 3)

    Q, K, V = heads(q, wq, bq), heads(k, wk, bk), heads(v, wv, bv)
    scores = Q @ K.swapaxes(-1, -2) / np.sqrt(hd)
    if attn_mask is not None:  # bool: True is masked out (MHA's convention)
        scores = (np.where(attn_mask, -np.inf, scores) if attn_mask.dtype == np.bool_
                  else scores + attn_mask)
    if key_padding_mask is not None:
        scores = np.where(key_padding_mask[:, None, None, :], -np.inf, scores)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = e / e.sum(axis=-1, keepdims=True)
    out = (weights @ V).transpose(2, 0, 1, 3).reshape(L, N, E) @ w_out.T + b_out
    return out, weights.mean(axis=1) if average_attn_weights else weights


def _mha_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -1.0, 1.0)

    E, L, S, N = 4, 3, 5, 2
    kpm = rng.rand(N, S) < 0.3
    kpm[:, 0] = False  # every query keeps a key (a fully masked row is NaN here)
    causal = np.triu(np.ones((L, S), bool), 1)
    params = (x(3 * E, E), x(3 * E), x(E, E), x(E))
    return [
        Sample((x(L, N, E), x(S, N, E), x(S, N, E), *params), {"num_heads": 2}),
        Sample((x(L, N, E), x(S, N, E), x(S, N, E), *params, kpm, causal), {"num_heads": 2}),
        Sample((x(L, N, E), x(S, N, E), x(S, N, E), *params, None, x(L, S)),
               {"num_heads": 1, "average_attn_weights": False}),
    ]


FUNCTIONAL += [
    OpSpec("multi_head_attention_forward", _mha, _mha_ref, _mha_samples, FLOATS,
           lambda q, *args, **kwargs: (same(q), same(q)), grad_call=_mha_grad),
]
