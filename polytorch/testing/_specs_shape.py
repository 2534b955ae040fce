"""Op specs for shapes, views and indexing (Note [One spec per op] in _specs.py).

Calls go through the public API; where a function (not a method) is needed,
``_ns(x)`` names the library ``x`` belongs to, so the same call runs on
polytorch tensors and, in tests/test_conformance.py, on torch tensors. Index
arrays are int64 sample arguments (the reference sees them as float64 and casts
them back).
"""

from __future__ import annotations

import sys

import numpy as np

from ._specs import ALL, BOOL, NUMERIC, NonContig, OpSpec, Sample, _draw, same

__all__ = ["SPECS"]


def _ns(t):
    """The library of tensor ``t`` (polytorch, or torch in the oracle tests)."""
    return sys.modules[type(t).__module__.split(".")[0]]


def _int(a):
    a = np.asarray(a)
    return a if a.dtype == np.bool_ else a.astype(np.int64)


def _idx(rng, shape, high):
    return np.asarray(rng.randint(0, high, size=shape), dtype=np.int64)


def _x(rng, dt):
    return lambda *s: _draw(rng, s, dt, -2, 2)


# -- cat ----------------------------------------------------------------------------------


def _cat(*xs, dim=0):
    return _ns(xs[0]).cat(list(xs), dim=dim)


def _cat_ref(*xs, dim=0):
    kept = [x for x in xs if np.shape(x) != (0,)] or list(xs)
    return np.concatenate(kept, axis=dim)


def _cat_samples(rng, dt):
    x = _x(rng, dt)
    return [
        Sample((x(3, 4), x(2, 4))),
        Sample((x(3, 1), x(3, 2), x(3, 4)), {"dim": 1}),
        Sample((x(0), x(3, 4), x(0)), {"dim": -1}),
        Sample((NonContig(x(3, 4)), x(1, 4))),
        Sample((x(2, 3, 4), NonContig(x(2, 3, 4), "strided")), {"dim": 1}),
        Sample((x(0, 4), x(3, 4))),
    ]


# -- flip, roll ----------------------------------------------------------------------------


def _flip_samples(rng, dt):
    x = _x(rng, dt)
    return [
        Sample((x(3, 4),), {"dims": (0,)}),
        Sample((x(2, 3, 4),), {"dims": (0, -1)}),
        Sample((x(),), {"dims": ()}),
        Sample((NonContig(x(3, 4)),), {"dims": (1,)}),
        Sample((x(0, 3),), {"dims": (0, 1)}),
    ]


def _roll_samples(rng, dt):
    x = _x(rng, dt)
    return [
        Sample((x(3, 4),), {"shifts": 1, "dims": 0}),
        Sample((x(3, 4),), {"shifts": (1, -6), "dims": (0, 1)}),
        Sample((x(3, 4),), {"shifts": 5, "dims": None}),
        Sample((NonContig(x(3, 4), "strided"),), {"shifts": -1, "dims": 1}),
        Sample((x(0, 3),), {"shifts": 2, "dims": 1}),
    ]


# -- diagonals ---------------------------------------------------------------------------------


def _diagonal_samples(rng, dt):
    x = _x(rng, dt)
    return [
        Sample((x(3, 4),), {}),
        Sample((x(3, 4),), {"offset": 1}),
        Sample((x(3, 4),), {"offset": -2}),
        Sample((x(2, 3, 4),), {"offset": 1, "dim1": 0, "dim2": 2}),
        Sample((x(2, 3, 4),), {"dim1": 2, "dim2": 1}),
        Sample((NonContig(x(3, 4)),), {"offset": -1}),
        Sample((x(0, 3),), {}),
        Sample((x(3, 4),), {"offset": 5}),
    ]


def _diag_len(shape, offset, d1, d2):
    return max(0, min(shape[d1] - max(0, -offset), shape[d2] - max(0, offset)))


def _diagonal_scatter_samples(rng, dt):
    x = _x(rng, dt)
    out = []
    for s in _diagonal_samples(rng, dt):
        a = s.args[0]
        shape = (a.value if isinstance(a, NonContig) else a).shape
        o, d1, d2 = s.kwargs.get("offset", 0), s.kwargs.get("dim1", 0), s.kwargs.get("dim2", 1)
        keep = tuple(n for i, n in enumerate(shape) if i not in (d1, d2))
        out.append(Sample((a, x(*keep, _diag_len(shape, o, d1, d2))), s.kwargs))
    return out


def _diagonal_scatter_ref(x, src, offset=0, dim1=0, dim2=1):
    out = np.array(x, copy=True)
    y = np.moveaxis(out, (dim1, dim2), (-2, -1))
    for i in range(src.shape[-1]):
        r, c = (i, i + offset) if offset >= 0 else (i - offset, i)
        y[..., r, c] = src[..., i]
    return out


# -- advanced indexing ---------------------------------------------------------------------


def _key(pattern, idx):
    it = iter(idx)
    return tuple(next(it) if p == "i" else p for p in pattern)


def _index(x, *idx, pattern):
    return x[_key(pattern, idx)]


def _index_ref(x, *idx, pattern):
    return np.asarray(x)[_key(pattern, [_int(i) for i in idx])]


_ALL = slice(None)


def _index_samples(rng, dt):
    x = _x(rng, dt)
    mask = np.asarray(rng.rand(3, 4) < 0.5)
    return [
        Sample((x(3, 4), np.array([2, 0, 2, -1])), {"pattern": ("i",)}),
        Sample((x(3, 4), np.array([[1], [-4]])), {"pattern": (_ALL, "i")}),
        Sample((x(2, 3, 4), _idx(rng, (2, 2), 2), _idx(rng, (2,), 4)),
               {"pattern": ("i", _ALL, "i")}),
        Sample((x(2, 3, 4), _idx(rng, (2,), 3), _idx(rng, (3, 1), 4)),
               {"pattern": (_ALL, "i", "i")}),
        Sample((x(3, 4), mask), {"pattern": ("i",)}),
        Sample((x(2, 3, 4), mask), {"pattern": (_ALL, "i")}),
        Sample((NonContig(x(3, 4)), np.array([1, 1])), {"pattern": (None, Ellipsis, "i")}),
        Sample((x(3, 4), np.zeros(0, np.int64)), {"pattern": ("i", slice(1, 3))}),
    ]


def _index_put(x, v, *idx, accumulate=False):
    return x.index_put(tuple(idx), v, accumulate=accumulate)


def _index_put_ref(x, v, *idx, accumulate=False):
    out = np.array(x, copy=True)
    key = tuple(_int(i) for i in idx)
    if accumulate:
        if out.dtype == np.bool_:
            np.logical_or.at(out, key, v)
        else:
            np.add.at(out, key, v)
    else:
        out[key] = v
    return out


def _index_put_samples(rng, dt):
    x = _x(rng, dt)
    out = [
        Sample((x(3, 4), x(2, 4), np.array([2, 0]))),
        Sample((x(3, 4), x(), np.array([0, 2]), np.array([-1, 1]))),
        Sample((x(2, 3, 4), x(2, 1, 4), np.array([1, 0]), np.array([[0], [2]]))),
        Sample((NonContig(x(3, 4)), x(4), np.array([1]))),
        Sample((x(3, 4), x(0, 4), np.zeros(0, np.int64))),
    ]
    if dt is not BOOL:
        out += [
            Sample((x(3, 4), x(5, 4), np.array([2, 0, 2, 2, 1])), {"accumulate": True}),
            Sample((x(3, 4), x(3), np.array([0, 0, 2]), np.array([1, 1, 3])),
                   {"accumulate": True}),
        ]
    return out


# -- gather and scatter ----------------------------------------------------------------------


def _gather_ref(x, index, *, dim):
    index = _int(index)
    x = np.asarray(x)
    if x.ndim == 0:
        return x[()] * np.ones(index.shape)
    cut = tuple(slice(0, n) if d != dim % x.ndim else slice(None)
                for d, n in enumerate(index.shape))
    return np.take_along_axis(x[cut], index, axis=dim)


def _gather_samples(rng, dt):
    x = _x(rng, dt)
    return [
        Sample((x(3, 4), _idx(rng, (3, 4), 4)), {"dim": 1}),
        Sample((x(3, 4), _idx(rng, (5, 4), 3)), {"dim": 0}),
        Sample((x(3, 4), _idx(rng, (2, 2), 4)), {"dim": -1}),
        Sample((NonContig(x(3, 4)), _idx(rng, (3, 2), 4)), {"dim": 1}),
        Sample((x(2, 3, 4), _idx(rng, (2, 2, 3), 3)), {"dim": 1}),
        Sample((x(), np.array(0)), {"dim": 0}),
        Sample((x(3, 4), np.zeros((0, 4), np.int64)), {"dim": 0}),
    ]


def _scatter(x, index, src, *, dim, reduce, include_self=True):
    if reduce == "set":
        return x.scatter(dim, index, src)
    return x.scatter_reduce(dim, index, src, reduce, include_self=include_self)


_UFUNCS = {"sum": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum}


def _scatter_ref(x, index, src, *, dim, reduce, include_self=True):
    out = np.array(x, copy=True)
    index = _int(index)
    pos = list(np.indices(index.shape))
    pos[dim] = index
    pos = tuple(pos)
    vals = src[tuple(slice(0, n) for n in index.shape)]
    if reduce == "set":
        out[pos] = vals
        return out
    hit = np.zeros(out.shape, bool)
    hit[pos] = True
    if reduce == "mean":
        total = np.zeros(out.shape)
        count = np.zeros(out.shape)
        np.add.at(total, pos, vals)
        np.add.at(count, pos, 1)
        if include_self:
            total, count = total + out, count + 1
        mean = total / np.where(count == 0, 1, count)
        return np.where(hit, mean, out)
    ufunc = _UFUNCS[reduce]
    if not include_self:
        out[hit] = {"sum": 0, "prod": 1, "amax": -np.inf, "amin": np.inf}[reduce]
    ufunc.at(out, pos, vals)
    return out


def _scatter_samples(rng, dt):
    x = _x(rng, dt)
    # "set" needs one writer per element: a permutation of each column's rows.
    perm = np.stack([rng.permutation(3)[:2] for _ in range(4)], axis=1)
    out = [
        Sample((x(3, 4), perm, x(2, 4)), {"dim": 0, "reduce": "set"}),
        Sample((NonContig(x(3, 4)), perm, x(3, 5)), {"dim": 0, "reduce": "set"}),
    ]
    if dt is BOOL:
        return out
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        for include_self in (True, False):
            if reduce == "mean" and dt.kind != "f":
                continue
            out.append(Sample((x(3, 4), _idx(rng, (4, 4), 3), x(4, 4)),
                              {"dim": 0, "reduce": reduce, "include_self": include_self}))
        if reduce != "mean" or dt.kind == "f":
            out.append(Sample((x(2, 3, 4), _idx(rng, (2, 3, 2), 4), x(2, 3, 2)),
                              {"dim": -1, "reduce": reduce}))
    return out


# -- nonzero, searchsorted ------------------------------------------------------------------


def _nonzero_samples(rng, dt):
    def x(*s):
        v = _draw(rng, s, dt, -2, 2)
        return np.asarray(np.where(rng.rand(*s) < 0.4, 0, v), dtype=dt.name)

    return [Sample((x(3, 4),)), Sample((x(2, 3, 2),)), Sample((NonContig(x(3, 4)),)),
            Sample((x(0, 3),)), Sample((x(5),))]


def _searchsorted(s, v, *, right=False):
    return _ns(s).searchsorted(s, v, right=right)


def _searchsorted_ref(s, v, *, right=False):
    side = "right" if right else "left"
    if s.ndim == 1:
        return np.searchsorted(s, v, side=side)
    out = np.empty(v.shape, np.int64)
    for i in np.ndindex(s.shape[:-1]):
        out[i] = np.searchsorted(s[i], v[i], side=side)
    return out


def _searchsorted_samples(rng, dt):
    def sorted_(*s):
        return np.sort(_draw(rng, s, dt, -5, 5), axis=-1)

    seq = sorted_(6)
    ties = np.asarray(rng.choice(seq, size=(3, 4)), dtype=dt.name)
    rows = sorted_(3, 5)
    return [
        Sample((seq, _draw(rng, (3, 4), dt, -6, 6))),
        Sample((seq, ties), {"right": True}),
        Sample((seq, ties)),
        Sample((rows, _draw(rng, (3, 4), dt, -6, 6)), {"right": True}),
        Sample((seq, _draw(rng, (0,), dt, -6, 6))),
    ]


SPECS = [
    OpSpec("cat", _cat, _cat_ref, _cat_samples, ALL, same),
    OpSpec("flip", lambda x, dims: x.flip(dims), lambda x, dims: np.flip(x, dims).copy(),
           _flip_samples, ALL, same),
    OpSpec("roll", lambda x, shifts, dims: x.roll(shifts, dims),
           lambda x, shifts, dims: np.roll(x, shifts, dims), _roll_samples, ALL, same),
    OpSpec("diagonal", lambda x, **kw: x.diagonal(**kw),
           lambda x, offset=0, dim1=0, dim2=1: np.diagonal(x, offset, dim1, dim2).copy(),
           _diagonal_samples, ALL, same),
    OpSpec("diagonal_scatter", lambda x, src, **kw: _ns(x).diagonal_scatter(x, src, **kw),
           _diagonal_scatter_ref, _diagonal_scatter_samples, ALL, same),
    OpSpec("index", _index, _index_ref, _index_samples, ALL, same),
    OpSpec("index_put", _index_put, _index_put_ref, _index_put_samples, ALL, same),
    OpSpec("gather", lambda x, index, dim: x.gather(dim, index), _gather_ref, _gather_samples,
           ALL, same),
    OpSpec("scatter", _scatter, _scatter_ref, _scatter_samples, ALL, same),
    OpSpec("nonzero", lambda x: x.nonzero(), lambda x: np.argwhere(x), _nonzero_samples, ALL,
           lambda x: "int64", differentiable=False),
    OpSpec("searchsorted", _searchsorted, _searchsorted_ref, _searchsorted_samples, NUMERIC,
           lambda *a, **k: "int64", differentiable=False),
]
