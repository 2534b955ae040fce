"""Op specs for the conv family (Note [One spec per op] in _specs.py).

``SPECS`` are the two primitives of polytorch/ops/conv.py, called through the
public ``unfold`` and ``fold``; ``FUNCTIONAL`` every ``nn.functional``
convolution, pooling, unpooling, padding and resampling function. The references
are NumPy float64 loops written from the definitions (shift-and-add convolutions,
scatter-add transposed convolutions, explicit windows in any number of spatial
dimensions), not from im2col.
Calls go through ``_F(x)`` (``functional_of``) so that the same record runs on torch
in tests/test_conformance.py.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np

from ._specs import FLOATS, OpSpec, Sample, _draw, same
from ._specs import functional_of as _F

__all__ = ["FUNCTIONAL", "SPECS"]


def _x(rng, dt):
    return lambda *s: _draw(rng, s, dt, -2, 2)


def _tup(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


def _distinct(rng, shape, dt):
    """Values without ties, so maxima are unique and differentiable."""
    n = int(np.prod(shape))
    values = (rng.permutation(n) - n / 2) / n * 4 + rng.uniform(0.0, 0.5 / n, size=n)
    return np.asarray(values.reshape(shape), dtype=dt.name)


# -- convolutions --------------------------------------------------------------------------


def _conv_ref(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Shift-and-add: for each kernel offset, a strided slice of the padded input times
    that tap of the weights."""
    nd = w.ndim - 2
    if x.ndim == nd + 1:
        return _conv_ref(x[None], w, b, stride, padding, dilation, groups)[0]
    stride, dilation = _tup(stride, nd), _tup(dilation, nd)
    k = w.shape[2:]
    if padding == "same":
        total = [d * (kk - 1) for d, kk in zip(dilation, k)]
        pads = [(t // 2, t - t // 2) for t in total]
    elif padding == "valid":
        pads = [(0, 0)] * nd
    else:
        pads = [(p, p) for p in _tup(padding, nd)]
    xp = np.pad(x, [(0, 0), (0, 0)] + pads)
    outs = [(xp.shape[2 + i] - dilation[i] * (k[i] - 1) - 1) // stride[i] + 1 for i in range(nd)]
    n, o = x.shape[0], w.shape[0]
    cg, og = x.shape[1] // groups, o // groups
    out = np.zeros((n, o) + tuple(outs))
    for g in range(groups):
        xs = xp[:, g * cg:(g + 1) * cg]
        ws = w[g * og:(g + 1) * og]
        for off in itertools.product(*(range(kk) for kk in k)):
            key = tuple(slice(off[i] * dilation[i],
                              off[i] * dilation[i] + stride[i] * (outs[i] - 1) + 1, stride[i])
                        for i in range(nd))
            patch = xs[(slice(None), slice(None)) + key]
            tap = ws[(slice(None), slice(None)) + off]
            out[:, g * og:(g + 1) * og] += np.einsum("nc...,oc->no...", patch, tap)
    if b is not None:
        out += b.reshape((o,) + (1,) * nd)
    return out


def _conv_transpose_ref(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1,
                        dilation=1):
    """Each input position scatters its weighted kernel into the output, then crop."""
    nd = w.ndim - 2
    if x.ndim == nd + 1:
        return _conv_transpose_ref(x[None], w, b, stride, padding, output_padding, groups,
                                   dilation)[0]
    stride, padding = _tup(stride, nd), _tup(padding, nd)
    output_padding, dilation = _tup(output_padding, nd), _tup(dilation, nd)
    k = w.shape[2:]
    spatial = x.shape[2:]
    full = [(spatial[i] - 1) * stride[i] + dilation[i] * (k[i] - 1) + 1 + output_padding[i]
            for i in range(nd)]
    n, cin = x.shape[:2]
    og = w.shape[1]
    cg = cin // groups
    out = np.zeros((n, og * groups) + tuple(full))
    for g in range(groups):
        for off in itertools.product(*(range(kk) for kk in k)):
            key = tuple(slice(off[i] * dilation[i],
                              off[i] * dilation[i] + stride[i] * (spatial[i] - 1) + 1, stride[i])
                        for i in range(nd))
            tap = w[(slice(g * cg, (g + 1) * cg), slice(None)) + off]  # (cg, og)
            contrib = np.einsum("nc...,co->no...", x[:, g * cg:(g + 1) * cg], tap)
            out[(slice(None), slice(g * og, (g + 1) * og)) + key] += contrib
    crop = tuple(slice(p, f - p) for p, f in zip(padding, full))
    out = out[(slice(None), slice(None)) + crop]
    if b is not None:
        out = out + b.reshape((-1,) + (1,) * nd)
    return out


def _conv_samples(nd):
    def samples(rng, dt):
        x = _x(rng, dt)
        s = (4,) * nd
        return [
            Sample((x(1, 4, *s), x(4, 2, *(3,) * nd), x(4)), {"padding": 1, "groups": 2}),
            Sample((x(1, 2, *s), x(2, 2, *(2,) * nd)), {"stride": 2, "dilation": 2 if nd == 1
                                                         else (2, 1)}),
            Sample((x(2, *s), x(2, 2, *(3,) * nd), x(2)), {"padding": "same"}),
        ]

    return samples


def _conv3d_samples(rng, dt):
    x = _x(rng, dt)
    return [
        Sample((x(1, 2, 3, 3, 3), x(2, 1, 2, 2, 2), x(2)),
               {"padding": 1, "groups": 2, "stride": (1, 2, 2)}),
        Sample((x(1, 3, 3, 3), x(1, 1, 2, 2, 2)), {"dilation": (2, 1, 1)}),
    ]


def _conv_transpose_samples(rng, dt):
    x = _x(rng, dt)
    return [
        Sample((x(1, 4, 3, 3), x(4, 1, 3, 3), x(2)),
               {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}),
        Sample((x(1, 2, 3, 4), x(2, 3, 2, 3)), {"stride": (1, 2), "dilation": (2, 1)}),
        Sample((x(2, 3, 3), x(2, 3, 2, 2)), {}),
    ]


def _conv_transpose1d_samples(rng, dt):
    x = _x(rng, dt)
    return [
        Sample((x(1, 4, 3), x(4, 1, 3), x(2)),
               {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}),
        Sample((x(2, 3), x(2, 3, 2)), {"dilation": 2}),
    ]


def _conv_transpose3d_samples(rng, dt):
    x = _x(rng, dt)
    return [
        Sample((x(1, 2, 2, 2, 2), x(2, 1, 2, 2, 2), x(2)),
               {"stride": (1, 2, 2), "padding": (0, 1, 0), "output_padding": (0, 1, 0),
                "groups": 2}),
    ]


# -- pooling (references for any number of spatial dimensions) -----------------------------


def _pool_out(size, k, s, p, d, ceil_mode):
    num = size + 2 * p - d * (k - 1) - 1
    out = (math.ceil(num / s) if ceil_mode else num // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _batched(x, nd):
    """``(x with a batch dimension, whether one was added)``."""
    return (x[None], True) if x.ndim == nd + 1 else (x, False)


def _window_params(nd, kernel_size, stride, padding, dilation=1):
    k = _tup(kernel_size, nd)
    s = k if stride is None else _tup(stride, nd)
    return k, s, _tup(padding, nd), _tup(dilation, nd)


def _max_pool_ref(nd):
    """Max over every window's in-bounds taps; the index is the first maximum's flat
    position in the input's spatial plane (PyTorch's ``return_indices``)."""

    def ref(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
            return_indices=False):
        x, unbatched = _batched(x, nd)
        k, s, p, d = _window_params(nd, kernel_size, stride, padding, dilation)
        spatial = x.shape[2:]
        outs = tuple(_pool_out(spatial[i], k[i], s[i], p[i], d[i], ceil_mode) for i in range(nd))
        out = np.zeros(x.shape[:2] + outs)
        idx = np.zeros(x.shape[:2] + outs, np.int64)
        for o in itertools.product(*map(range, outs)):
            taps = [tuple(o[i] * s[i] - p[i] + off[i] * d[i] for i in range(nd))
                    for off in itertools.product(*map(range, k))]
            taps = [t for t in taps if all(0 <= t[i] < spatial[i] for i in range(nd))]
            vals = np.stack([x[(Ellipsis,) + t] for t in taps], axis=-1)
            flat = np.array([np.ravel_multi_index(t, spatial) for t in taps])
            out[(Ellipsis,) + o] = vals.max(axis=-1)
            idx[(Ellipsis,) + o] = flat[vals.argmax(axis=-1)]
        if unbatched:
            out, idx = out[0], idx[0]
        return (out, idx) if return_indices else out

    return ref


def _avg_pool_ref(nd):
    """Window sums over the in-bounds taps divided by the window's area (clipped to the
    padded input), its in-bounds size (``count_include_pad=False``) or ``divisor_override``."""

    def ref(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
            divisor_override=None):
        x, unbatched = _batched(x, nd)
        k, s, p, _ = _window_params(nd, kernel_size, stride, padding)
        spatial = x.shape[2:]
        outs = tuple(_pool_out(spatial[i], k[i], s[i], p[i], 1, ceil_mode) for i in range(nd))
        out = np.zeros(x.shape[:2] + outs)
        for o in itertools.product(*map(range, outs)):
            lo = [o[i] * s[i] - p[i] for i in range(nd)]
            hi = [min(lo[i] + k[i], spatial[i] + p[i]) for i in range(nd)]
            area = math.prod(h - lo_ for lo_, h in zip(lo, hi))
            lo = [max(v, 0) for v in lo]
            hi = [min(h, n) for h, n in zip(hi, spatial)]
            win = x[(Ellipsis,) + tuple(slice(a, b) for a, b in zip(lo, hi))]
            if divisor_override:
                div = divisor_override
            else:
                div = area if count_include_pad else math.prod(b - a for a, b in zip(lo, hi))
            out[(Ellipsis,) + o] = win.sum(axis=tuple(range(2, 2 + nd))) / div
        return out[0] if unbatched else out

    return ref


def _lp_pool_ref(nd):
    """``(sum of x**p over the window) ** (1/p)``. PyTorch computes the sum as an average
    pool times the kernel's size, so a ``ceil_mode`` window hanging past the input counts
    its in-bounds sum scaled by kernel size / in-bounds size; so does this reference."""

    def ref(x, norm_type, kernel_size, stride=None, ceil_mode=False):
        x, unbatched = _batched(x, nd)
        k, s, _, _ = _window_params(nd, kernel_size, stride, 0)
        spatial = x.shape[2:]
        outs = tuple(_pool_out(spatial[i], k[i], s[i], 0, 1, ceil_mode) for i in range(nd))
        out = np.zeros(x.shape[:2] + outs)
        for o in itertools.product(*map(range, outs)):
            key = tuple(slice(o[i] * s[i], min(o[i] * s[i] + k[i], spatial[i]))
                        for i in range(nd))
            win = x[(Ellipsis,) + key] ** norm_type
            inside = math.prod(sl.stop - sl.start for sl in key)
            total = win.sum(axis=tuple(range(2, 2 + nd))) * math.prod(k) / inside
            out[(Ellipsis,) + o] = total ** (1.0 / norm_type)
        return out[0] if unbatched else out

    return ref


def _adaptive_bounds(i, n_in, n_out):
    return (i * n_in) // n_out, -((-(i + 1) * n_in) // n_out)


def _adaptive_ref(nd, kind):
    """Adaptive pooling: output cell ``i`` covers ``[floor(i*L/n), ceil((i+1)*L/n))``."""

    def ref(x, output_size, return_indices=False):
        x, unbatched = _batched(x, nd)
        spatial = x.shape[2:]
        outs = tuple(o if o is not None else n for o, n in zip(_tup(output_size, nd), spatial))
        out = np.zeros(x.shape[:2] + outs)
        idx = np.zeros(x.shape[:2] + outs, np.int64)
        for o in itertools.product(*map(range, outs)):
            bounds = [_adaptive_bounds(o[i], spatial[i], outs[i]) for i in range(nd)]
            win = x[(Ellipsis,) + tuple(slice(a, b) for a, b in bounds)]
            if kind == "avg":
                out[(Ellipsis,) + o] = win.mean(axis=tuple(range(2, 2 + nd)))
                continue
            flat = win.reshape(x.shape[:2] + (-1,))
            local = np.unravel_index(flat.argmax(axis=-1), win.shape[2:])
            where = tuple(a + loc for (a, _), loc in zip(bounds, local))
            out[(Ellipsis,) + o] = flat.max(axis=-1)
            idx[(Ellipsis,) + o] = np.ravel_multi_index(where, spatial)
        if unbatched:
            out, idx = out[0], idx[0]
        return (out, idx) if kind == "max" and return_indices else out

    return ref


def _max_unpool_ref(nd):
    """Zeros of the unpooled size with each value written at its flat spatial index."""

    def ref(x, indices, kernel_size, stride=None, padding=0, output_size=None):
        x, unbatched = _batched(x, nd)
        indices = _batched(indices, nd)[0].astype(np.int64)  # the harness hands float64
        k, s, p, _ = _window_params(nd, kernel_size, stride, padding)
        if output_size is None:
            size = tuple((n - 1) * s[i] - 2 * p[i] + k[i] for i, n in enumerate(x.shape[2:]))
        else:
            size = tuple(output_size)[-nd:]
        n, c = x.shape[:2]
        out = np.zeros((n, c, math.prod(size)))
        for b in range(n):
            for ch in range(c):
                out[b, ch, indices[b, ch].ravel()] = x[b, ch].ravel()
        out = out.reshape((n, c) + size)
        return out[0] if unbatched else out

    return ref


def _pool_call(name):
    """``F.<name>`` on a tensor of either framework; tuple results for ``return_indices``."""
    return lambda x, *a, **k: getattr(_F(x), name)(x, *a, **k)


def _values_call(name):
    """The pooled values alone (what gradcheck differentiates) of ``F.<name>``."""

    def call(x, *a, **k):
        out = getattr(_F(x), name)(x, *a, **k)
        return out[0] if isinstance(out, tuple) else out

    return call


def _indices_dtype(x, *args, return_indices=False, **kw):
    return (same(x), "int64") if return_indices else same(x)


def _max_pool_samples(rng, dt):
    return [
        Sample((_distinct(rng, (2, 2, 4, 4), dt), 2)),
        Sample((_distinct(rng, (1, 2, 5, 5), dt), (4, 3)),
               {"stride": (2, 3), "padding": (2, 1), "ceil_mode": True, "return_indices": True}),
        Sample((_distinct(rng, (2, 5, 5), dt), (2, 3)),
               {"stride": 1, "dilation": (2, 1), "return_indices": True}),
    ]


def _max_pool_samples_nd(nd):
    # Distinct values: unique maxima, so indices are defined and gradients smooth.
    def samples(rng, dt):
        if nd == 1:
            return [
                Sample((_distinct(rng, (2, 2, 5), dt), 2)),
                Sample((_distinct(rng, (2, 7), dt), 3),
                       {"stride": 3, "padding": 1, "dilation": 2, "ceil_mode": True,
                        "return_indices": True}),
            ]
        return [
            Sample((_distinct(rng, (1, 1, 3, 3, 3), dt), 2),
                   {"stride": 1, "return_indices": True}),
            Sample((_distinct(rng, (1, 3, 3, 3), dt), (3, 2, 2)),
                   {"stride": 2, "padding": (1, 0, 0), "ceil_mode": True}),
        ]

    return samples


def _avg_pool_samples(rng, dt):
    x = _x(rng, dt)
    return [
        Sample((x(2, 2, 4, 4), 2)),
        Sample((x(1, 2, 5, 5), (4, 3)), {"stride": (2, 3), "padding": (2, 1), "ceil_mode": True,
                                         "count_include_pad": False}),
        Sample((x(2, 5, 4), (3, 2)), {"stride": (2, 3), "padding": (1, 0), "ceil_mode": True}),
        Sample((x(1, 2, 4, 4), 2), {"divisor_override": 3}),
    ]


def _avg_pool_samples_nd(nd):
    def samples(rng, dt):
        x = _x(rng, dt)
        if nd == 1:
            return [
                Sample((x(2, 2, 5), 2)),
                Sample((x(2, 7), 4), {"stride": 3, "padding": 1, "ceil_mode": True,
                                      "count_include_pad": False}),
            ]
        return [
            Sample((x(1, 1, 3, 3, 3), 2), {"stride": 1, "divisor_override": 3}),
            Sample((x(1, 3, 3, 3), (3, 2, 2)), {"stride": 2, "padding": (1, 0, 0),
                                                "ceil_mode": True}),
        ]

    return samples


def _lp_pool_samples(nd):
    # Norm 2 on signed values (sums of squares stay positive); an odd norm on positive
    # values only, where PyTorch's root of a negative sum would be NaN.
    def samples(rng, dt):
        x = _x(rng, dt)

        def pos(*s):
            return _draw(rng, s, dt, 0.5, 2.0)

        if nd == 1:
            return [Sample((x(2, 2, 5), 2, 2)),
                    Sample((pos(2, 7), 3, 2), {"ceil_mode": True})]
        if nd == 2:
            return [Sample((x(1, 2, 4, 4), 2, 2)),
                    Sample((pos(2, 5, 5), 3, (3, 2)), {"stride": 2, "ceil_mode": True})]
        return [Sample((x(1, 1, 3, 3, 3), 2, 2), {"stride": 1}),
                Sample((pos(1, 3, 3, 3), 3, (2, 3, 2)), {"stride": 2, "ceil_mode": True})]

    return samples


def _adaptive_samples(rng, dt):
    x = _x(rng, dt)
    return [
        Sample((x(1, 2, 5, 5), (3, 2))),
        Sample((x(2, 5, 4), 1)),
        Sample((x(1, 2, 5, 4), (None, 3))),
    ]


def _adaptive_max_samples(rng, dt):
    return [
        Sample((_distinct(rng, (1, 2, 5, 5), dt), (3, 2))),
        Sample((_distinct(rng, (2, 2, 5, 4), dt), 3), {"return_indices": True}),
    ]


def _adaptive_samples_nd(nd, distinct):
    def samples(rng, dt):
        def x(*s):
            return _distinct(rng, s, dt) if distinct else _draw(rng, s, dt, -2, 2)

        extra = {"return_indices": True} if distinct else {}
        if nd == 1:
            return [Sample((x(2, 2, 5), 3), extra), Sample((x(2, 7), (2,)))]
        return [Sample((x(1, 1, 3, 3, 3), (2, None, 2)), extra),
                Sample((x(1, 3, 3, 3), 1))]

    return samples


def _max_unpool_samples(nd):
    """Values with the indices a ``max_poolNd`` could return: one distinct position per
    window, so no two values land on the same element."""

    def samples(rng, dt):
        x = _x(rng, dt)
        pooled = {1: (3,), 2: (2, 3), 3: (2, 2, 2)}[nd]
        lead = (1, 2) if nd < 3 else (1, 1)

        def idx(*lead_shape):
            grid = np.stack(np.meshgrid(*map(np.arange, pooled), indexing="ij"), axis=-1)
            coords = 2 * grid + rng.randint(0, 2, size=lead_shape + pooled + (nd,))
            flat = np.ravel_multi_index(tuple(np.moveaxis(coords, -1, 0)),
                                        tuple(2 * n for n in pooled))
            return flat.astype(np.int64)

        bigger = tuple(2 * n + 1 for n in pooled)  # within PyTorch's default +- stride
        return [
            Sample((x(*lead, *pooled), idx(*lead), 2)),
            Sample((x(2, *pooled), idx(2), 2), {"stride": 2, "output_size": bigger}),
        ]

    return samples


# -- padding, resampling -------------------------------------------------------------------


def _pad_ref(x, pad, mode="constant", value=None):
    pairs = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        pairs[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    # Crops (negative amounts) first; the samples' other modes pad only.
    key = tuple(slice(max(-lo, 0), x.shape[d] - max(-hi, 0)) for d, (lo, hi) in enumerate(pairs))
    x = x[key]
    pairs = [(max(lo, 0), max(hi, 0)) for lo, hi in pairs]
    if mode == "constant":
        return np.pad(x, pairs, constant_values=0.0 if value is None else value)
    return np.pad(x, pairs, mode={"reflect": "reflect", "replicate": "edge",
                                  "circular": "wrap"}[mode])


def _pad_samples(rng, dt):
    x = _x(rng, dt)
    return [
        Sample((x(1, 2, 4, 4), (1, 2, 0, 1))),
        Sample((x(2, 3, 4), (2, -1, -1, 1)), {"value": 1.5}),
        Sample((x(1, 2, 4, 4), (2, 1, 1, 3)), {"mode": "reflect"}),
        Sample((x(2, 4, 4), (2, 1, 1, 3)), {"mode": "replicate"}),
        Sample((x(2, 2, 4), (2, 1)), {"mode": "circular"}),
    ]


def _src_linear(dst, n_in, n_out, align_corners, scale=None):
    if align_corners:
        return dst * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
    ratio = 1.0 / scale if scale else n_in / n_out
    return max(ratio * (dst + 0.5) - 0.5, 0.0)


def _interpolate_ref(x, size=None, scale_factor=None, mode="nearest", align_corners=None,
                     recompute_scale_factor=None):
    h, w = x.shape[2:]
    if size is not None:
        oh, ow = _tup(size, 2)
        sh = sw = None
    else:
        sh, sw = _tup(scale_factor, 2)
        oh, ow = int(math.floor(h * sh)), int(math.floor(w * sw))
        if recompute_scale_factor:
            sh = sw = None
    out = np.zeros(x.shape[:2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            if mode == "nearest":
                ri = min(int(np.floor(np.float32(i) * np.float32(1 / sh if sh else h / oh))),
                         h - 1)
                rj = min(int(np.floor(np.float32(j) * np.float32(1 / sw if sw else w / ow))),
                         w - 1)
                out[:, :, i, j] = x[:, :, ri, rj]
                continue
            yi = _src_linear(i, h, oh, align_corners, sh)
            yj = _src_linear(j, w, ow, align_corners, sw)
            i0, j0 = int(yi), int(yj)
            i1, j1 = min(i0 + 1, h - 1), min(j0 + 1, w - 1)
            a, b = yi - i0, yj - j0
            out[:, :, i, j] = ((1 - a) * (1 - b) * x[:, :, i0, j0] + (1 - a) * b * x[:, :, i0, j1]
                               + a * (1 - b) * x[:, :, i1, j0] + a * b * x[:, :, i1, j1])
    return out


def _interpolate_samples(rng, dt):
    x = _x(rng, dt)
    return [
        Sample((x(1, 2, 3, 4),), {"scale_factor": 2}),
        Sample((x(1, 2, 3, 4),), {"size": (5, 3)}),
        Sample((x(1, 2, 3, 4),), {"size": (5, 7), "mode": "bilinear"}),
        Sample((x(1, 2, 3, 4),), {"scale_factor": 1.5, "mode": "bilinear",
                                  "align_corners": True}),
        Sample((x(1, 2, 3, 4),), {"scale_factor": (1.7, 0.8), "mode": "bilinear",
                                  "align_corners": False}),
    ]


def _deprecated_call(name):
    """``F.<name>`` with PyTorch's "deprecated, use interpolate" warning silenced (the
    record tests values; tests run with warnings as errors)."""

    def call(x, *a, **k):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", f".*{name}`? is deprecated", UserWarning)
            return getattr(_F(x), name)(x, *a, **k)

    return call


def _upsample_samples(rng, dt):
    x = _x(rng, dt)
    return [Sample((x(1, 2, 3, 4),), {"scale_factor": 2}),
            Sample((x(1, 2, 3, 4),), {"size": (5, 7), "mode": "bilinear",
                                      "align_corners": False})]


def _upsample_nearest_ref(x, size=None, scale_factor=None):
    return _interpolate_ref(x, size, scale_factor, mode="nearest")


def _upsample_bilinear_ref(x, size=None, scale_factor=None):
    return _interpolate_ref(x, size, scale_factor, mode="bilinear", align_corners=True)


def _upsample_nearest_samples(rng, dt):
    # One sample per alias: they only fix interpolate's mode, whose scale_factor paths
    # the interpolate record covers.
    x = _x(rng, dt)
    return [Sample((x(1, 2, 3, 4),), {"size": (5, 3)})]


def _upsample_bilinear_samples(rng, dt):
    x = _x(rng, dt)
    return [Sample((x(1, 2, 3, 4),), {"size": (5, 7)})]


def _grid_sample_ref(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False):
    """Bilinear sampling, one output pixel at a time (zeros or border padding)."""
    n, c, h, w = x.shape
    ho, wo = grid.shape[1:3]
    out = np.zeros((n, c, ho, wo))

    def src(v, size):
        v = (v + 1) / 2 * (size - 1) if align_corners else ((v + 1) * size - 1) / 2
        return min(max(v, 0.0), size - 1.0) if padding_mode == "border" else v

    for b in range(n):
        for i in range(ho):
            for j in range(wo):
                px, py = src(grid[b, i, j, 0], w), src(grid[b, i, j, 1], h)
                x0, y0 = math.floor(px), math.floor(py)
                for yy, wy in ((y0, 1 - (py - y0)), (y0 + 1, py - y0)):
                    for xx, wx in ((x0, 1 - (px - x0)), (x0 + 1, px - x0)):
                        if 0 <= yy < h and 0 <= xx < w:
                            out[b, :, i, j] += wy * wx * x[b, :, yy, xx]
    return out


def _grid_sample_samples(rng, dt):
    x = _x(rng, dt)

    def grid(*s):  # past [-1, 1] on purpose; away from integer pixel positions (kinks)
        return np.asarray(rng.uniform(-1.2, 1.2, size=s), dtype=dt.name)

    return [
        Sample((x(1, 2, 4, 5), grid(1, 3, 2, 2)), {"align_corners": False}),
        Sample((x(2, 1, 3, 4), grid(2, 2, 3, 2)), {"padding_mode": "border",
                                                   "align_corners": True}),
    ]


def _affine_grid_ref(theta, size, align_corners=False):
    n, _, h, w = size

    def lin(m):
        c = np.linspace(-1.0, 1.0, m) if m > 1 else np.zeros(1)
        return c if align_corners else c * (m - 1) / m

    out = np.zeros((n, h, w, 2))
    for i, yv in enumerate(lin(h)):
        for j, xv in enumerate(lin(w)):
            out[:, i, j, :] = theta @ np.array([xv, yv, 1.0])
    return out


def _affine_grid_samples(rng, dt):
    x = _x(rng, dt)
    return [Sample((x(2, 2, 3), (2, 1, 3, 4)), {"align_corners": False}),
            Sample((x(1, 2, 3), (1, 3, 2, 5)), {"align_corners": True})]


# -- unfold, fold, pixel shuffle -----------------------------------------------------------


def _blocks(size, p, k, d, s):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def _unfold_ref(x, kernel_size, dilation=1, padding=0, stride=1):
    k, d = _tup(kernel_size, 2), _tup(dilation, 2)
    p, s = _tup(padding, 2), _tup(stride, 2)
    n, c, h, w = x.shape
    bh, bw = _blocks(h, p[0], k[0], d[0], s[0]), _blocks(w, p[1], k[1], d[1], s[1])
    out = np.zeros((n, c * k[0] * k[1], bh * bw))
    for ch in range(c):
        for a in range(k[0]):
            for b in range(k[1]):
                row = (ch * k[0] + a) * k[1] + b
                for i in range(bh):
                    for j in range(bw):
                        r, q = i * s[0] - p[0] + a * d[0], j * s[1] - p[1] + b * d[1]
                        if 0 <= r < h and 0 <= q < w:
                            out[:, row, i * bw + j] = x[:, ch, r, q]
    return out


def _fold_ref(cols, output_size, kernel_size, dilation=1, padding=0, stride=1):
    k, d = _tup(kernel_size, 2), _tup(dilation, 2)
    p, s = _tup(padding, 2), _tup(stride, 2)
    h, w = _tup(output_size, 2)
    n = cols.shape[0]
    c = cols.shape[1] // (k[0] * k[1])
    bh, bw = _blocks(h, p[0], k[0], d[0], s[0]), _blocks(w, p[1], k[1], d[1], s[1])
    out = np.zeros((n, c, h, w))
    for ch in range(c):
        for a in range(k[0]):
            for b in range(k[1]):
                row = (ch * k[0] + a) * k[1] + b
                for i in range(bh):
                    for j in range(bw):
                        r, q = i * s[0] - p[0] + a * d[0], j * s[1] - p[1] + b * d[1]
                        if 0 <= r < h and 0 <= q < w:
                            out[:, ch, r, q] += cols[:, row, i * bw + j]
    return out


def _unfold_samples(rng, dt):
    x = _x(rng, dt)
    return [
        Sample((x(2, 2, 4, 4), 2)),
        Sample((x(1, 2, 5, 4), (2, 3)), {"dilation": (2, 1), "padding": 1, "stride": (1, 2)}),
    ]


def _fold_samples(rng, dt):
    x = _x(rng, dt)
    return [
        Sample((x(2, 8, 9), (4, 4), 2)),  # 2 channels, 3 x 3 blocks
        Sample((x(1, 12, 10), (5, 4), (2, 3)), {"dilation": (2, 1), "padding": 1,
                                                "stride": (1, 2)}),
    ]


def _pixel_shuffle_ref(x, upscale_factor):
    r = upscale_factor
    *lead, c, h, w = x.shape
    out = np.zeros(tuple(lead) + (c // (r * r), h * r, w * r))
    for ch in range(c // (r * r)):
        for i in range(r):
            for j in range(r):
                out[..., ch, i::r, j::r] = x[..., ch * r * r + i * r + j, :, :]
    return out


def _pixel_shuffle_samples(rng, dt):
    x = _x(rng, dt)
    return [Sample((x(2, 8, 2, 3), 2)), Sample((x(9, 2, 2), 3))]


def _pixel_unshuffle_ref(x, downscale_factor):
    r = downscale_factor
    *lead, c, h, w = x.shape
    out = np.zeros(tuple(lead) + (c * r * r, h // r, w // r))
    for ch in range(c):
        for i in range(r):
            for j in range(r):
                out[..., ch * r * r + i * r + j, :, :] = x[..., ch, i::r, j::r]
    return out


def _pixel_unshuffle_samples(rng, dt):
    x = _x(rng, dt)
    return [Sample((x(2, 2, 4, 6), 2)), Sample((x(1, 6, 3), 3))]


SPECS: list = [
    OpSpec("im2col", lambda x, *a, **k: _F(x).unfold(x, *a, **k), _unfold_ref, _unfold_samples,
           FLOATS, same),
    OpSpec("col2im", lambda x, *a, **k: _F(x).fold(x, *a, **k), _fold_ref, _fold_samples,
           FLOATS, same),
]

FUNCTIONAL: list = [
    OpSpec("conv1d", lambda x, *a, **k: _F(x).conv1d(x, *a, **k), _conv_ref, _conv_samples(1),
           FLOATS, same),
    OpSpec("conv2d", lambda x, *a, **k: _F(x).conv2d(x, *a, **k), _conv_ref, _conv_samples(2),
           FLOATS, same),
    OpSpec("conv_transpose2d", lambda x, *a, **k: _F(x).conv_transpose2d(x, *a, **k),
           _conv_transpose_ref, _conv_transpose_samples, FLOATS, same),
    OpSpec("max_pool2d", _pool_call("max_pool2d"), _max_pool_ref(2), _max_pool_samples, FLOATS,
           _indices_dtype, grad_call=_values_call("max_pool2d")),
    OpSpec("avg_pool2d", _pool_call("avg_pool2d"), _avg_pool_ref(2),
           _avg_pool_samples, FLOATS, same),
    OpSpec("adaptive_avg_pool2d", lambda x, *a, **k: _F(x).adaptive_avg_pool2d(x, *a, **k),
           _adaptive_ref(2, "avg"), _adaptive_samples, FLOATS, same),
    OpSpec("adaptive_max_pool2d", _pool_call("adaptive_max_pool2d"), _adaptive_ref(2, "max"),
           _adaptive_max_samples, FLOATS, _indices_dtype,
           grad_call=_values_call("adaptive_max_pool2d")),
    OpSpec("pad", lambda x, *a, **k: _F(x).pad(x, *a, **k), _pad_ref, _pad_samples, FLOATS,
           same),
    OpSpec("grid_sample", lambda x, *a, **k: _F(x).grid_sample(x, *a, **k), _grid_sample_ref,
           _grid_sample_samples, FLOATS, same),
    OpSpec("affine_grid", lambda x, *a, **k: _F(x).affine_grid(x, *a, **k), _affine_grid_ref,
           _affine_grid_samples, FLOATS, same),
    OpSpec("interpolate", lambda x, *a, **k: _F(x).interpolate(x, *a, **k), _interpolate_ref,
           _interpolate_samples, FLOATS, same),
    OpSpec("unfold", lambda x, *a, **k: _F(x).unfold(x, *a, **k), _unfold_ref,
           _unfold_samples, FLOATS, same),
    OpSpec("fold", lambda x, *a, **k: _F(x).fold(x, *a, **k), _fold_ref, _fold_samples,
           FLOATS, same),
    OpSpec("pixel_shuffle", lambda x, *a, **k: _F(x).pixel_shuffle(x, *a, **k),
           _pixel_shuffle_ref, _pixel_shuffle_samples, FLOATS, same),
    OpSpec("conv3d", lambda x, *a, **k: _F(x).conv3d(x, *a, **k), _conv_ref, _conv3d_samples,
           FLOATS, same),
    OpSpec("conv_transpose1d", lambda x, *a, **k: _F(x).conv_transpose1d(x, *a, **k),
           _conv_transpose_ref, _conv_transpose1d_samples, FLOATS, same),
    OpSpec("conv_transpose3d", lambda x, *a, **k: _F(x).conv_transpose3d(x, *a, **k),
           _conv_transpose_ref, _conv_transpose3d_samples, FLOATS, same),
    OpSpec("max_pool1d", _pool_call("max_pool1d"), _max_pool_ref(1), _max_pool_samples_nd(1),
           FLOATS, _indices_dtype, grad_call=_values_call("max_pool1d")),
    OpSpec("max_pool3d", _pool_call("max_pool3d"), _max_pool_ref(3), _max_pool_samples_nd(3),
           FLOATS, _indices_dtype, grad_call=_values_call("max_pool3d")),
    OpSpec("avg_pool1d", _pool_call("avg_pool1d"), _avg_pool_ref(1), _avg_pool_samples_nd(1),
           FLOATS, same),
    OpSpec("avg_pool3d", _pool_call("avg_pool3d"), _avg_pool_ref(3), _avg_pool_samples_nd(3),
           FLOATS, same),
    OpSpec("lp_pool1d", _pool_call("lp_pool1d"), _lp_pool_ref(1), _lp_pool_samples(1),
           FLOATS, same),
    OpSpec("lp_pool2d", _pool_call("lp_pool2d"), _lp_pool_ref(2), _lp_pool_samples(2),
           FLOATS, same),
    OpSpec("lp_pool3d", _pool_call("lp_pool3d"), _lp_pool_ref(3), _lp_pool_samples(3),
           FLOATS, same),
    OpSpec("adaptive_avg_pool1d", _pool_call("adaptive_avg_pool1d"), _adaptive_ref(1, "avg"),
           _adaptive_samples_nd(1, False), FLOATS, same),
    OpSpec("adaptive_avg_pool3d", _pool_call("adaptive_avg_pool3d"), _adaptive_ref(3, "avg"),
           _adaptive_samples_nd(3, False), FLOATS, same),
    OpSpec("adaptive_max_pool1d", _pool_call("adaptive_max_pool1d"), _adaptive_ref(1, "max"),
           _adaptive_samples_nd(1, True), FLOATS, _indices_dtype,
           grad_call=_values_call("adaptive_max_pool1d")),
    OpSpec("adaptive_max_pool3d", _pool_call("adaptive_max_pool3d"), _adaptive_ref(3, "max"),
           _adaptive_samples_nd(3, True), FLOATS, _indices_dtype,
           grad_call=_values_call("adaptive_max_pool3d")),
    OpSpec("max_unpool1d", _pool_call("max_unpool1d"), _max_unpool_ref(1),
           _max_unpool_samples(1), FLOATS, same),
    OpSpec("max_unpool2d", _pool_call("max_unpool2d"), _max_unpool_ref(2),
           _max_unpool_samples(2), FLOATS, same),
    OpSpec("max_unpool3d", _pool_call("max_unpool3d"), _max_unpool_ref(3),
           _max_unpool_samples(3), FLOATS, same),
    OpSpec("pixel_unshuffle", _pool_call("pixel_unshuffle"), _pixel_unshuffle_ref,
           _pixel_unshuffle_samples, FLOATS, same),
    # The deprecated aliases of interpolate (PyTorch warns; the records test values).
    OpSpec("upsample", _deprecated_call("upsample"), _interpolate_ref, _upsample_samples,
           FLOATS, same),
    OpSpec("upsample_nearest", _deprecated_call("upsample_nearest"), _upsample_nearest_ref,
           _upsample_nearest_samples, FLOATS, same),
    OpSpec("upsample_bilinear", _deprecated_call("upsample_bilinear"), _upsample_bilinear_ref,
           _upsample_bilinear_samples, FLOATS, same),
]
