"""Op specs for reductions, sorting and sets (Note [One spec per op] in _specs.py).

Samples avoid ties wherever the gradient or an index would depend on how ties
are broken (PyTorch leaves topk and median ties unspecified), and keep the few
shapes of Note [Few distinct shapes].
"""

from __future__ import annotations

import numpy as np

import polytorch

from ._specs import (
    ALL,
    BOOL,
    FLOATS,
    NUMERIC,
    NonContig,
    OpSpec,
    Sample,
    _distinct,
    _draw,
    _max_dim_samples,
    _nonzero,
    _np_reduce,
    _reduce_samples,
    boolean,
    floating,
    same,
    summed,
)

_R = polytorch.ops.reduction


def _axis(x, dim):
    return None if np.ndim(x) == 0 else dim


# -- extremes -----------------------------------------------------------------------------


def _amin(x, dim=None, keepdim=False):
    return x.min() if dim is None else x.amin(dim=dim, keepdim=keepdim)


def _min_dim(x, *, dim, keepdim=False):
    values, indices = x.min(dim=dim, keepdim=keepdim)
    return values, indices


def _min_dim_ref(x, *, dim, keepdim=False):
    return np.min(x, axis=dim, keepdims=keepdim), np.argmin(x, axis=dim, keepdims=keepdim)


def _arg_samples(rng, dt):
    def x(*s):
        return _distinct(rng, s, dt)

    return _max_dim_samples(rng, dt) + [
        Sample((x(3, 4),), {}),
        Sample((x(3, 4),), {"keepdim": True}),
        Sample((_draw(rng, (3, 4), dt, -1, 1),), {"dim": 1}),  # ties: the first index
    ]


def _arg_call(name):
    return lambda x, dim=None, keepdim=False: getattr(x, name)(dim=dim, keepdim=keepdim)


def _arg_ref(fn):
    return lambda x, dim=None, keepdim=False: fn(x, axis=dim, keepdims=keepdim)


# -- products, moments, norms ---------------------------------------------------------------


def _prod_samples(rng, dt):
    def x(*s):
        return _nonzero(rng, s, dt, 0.5, 2.0) if dt.kind == "f" else _draw(rng, s, dt, -2, 2)

    one_zero = x(3, 4)
    one_zero[1, 2] = 0
    two_zeros = x(3, 4)
    two_zeros[2, 0] = two_zeros[2, 3] = 0
    return [
        Sample((x(3, 4),), {"dim": 1}),
        Sample((one_zero,), {"dim": 1}),
        Sample((two_zeros,), {"dim": -1, "keepdim": True}),
        Sample((one_zero,), {}),
        Sample((x(3, 4),), {}),
        Sample((x(),), {}),
        Sample((x(),), {"dim": 0}),
        Sample((NonContig(x(3, 4)),), {"dim": 0}),
        Sample((x(0, 3),), {"dim": 1}),
        Sample((x(0, 3),), {"dim": 0}),
    ]


def _prod(x, dim=None, keepdim=False):
    return x.prod() if dim is None else x.prod(dim, keepdim=keepdim)


def _moment_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -2, 2)

    return [
        Sample((x(3, 4),), {"dim": 1}),
        Sample((x(2, 3, 4),), {"dim": (0, 2), "correction": 0}),
        Sample((x(3, 4),), {"dim": -1, "keepdim": True, "correction": 2}),
        Sample((x(3, 4),), {}),
        Sample((NonContig(x(3, 4)),), {"dim": 0}),
    ]  # no empty input: PyTorch warns there (degrees of freedom), which tests make errors


def _var_samples(rng, dt):
    # A single element has zero deviation: std is not differentiable there.
    return _moment_samples(rng, dt) + [Sample((_draw(rng, (), dt, -2, 2),), {"correction": 0})]


def _moment(name):
    def call(x, dim=None, keepdim=False, correction=1):
        return getattr(x, name)(dim=dim, keepdim=keepdim, correction=correction)

    return call


def _moment_ref(fn):
    def ref(x, dim=None, keepdim=False, correction=1):
        return fn(x, axis=_axis(x, dim), ddof=correction, keepdims=keepdim)

    return ref


def _logsumexp_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -3, 3)

    big = np.asarray(_draw(rng, (3, 4), dt, -3, 3) * (300 if dt.kind == "f" else 1),
                     dtype=dt.name)
    out = [
        Sample((x(3, 4),), {"dim": 1}),
        Sample((x(2, 3, 4),), {"dim": (0, 2)}),
        Sample((x(3, 4),), {"dim": -1, "keepdim": True}),
        Sample((x(),), {"dim": 0}),
        Sample((NonContig(x(3, 4)),), {"dim": 0}),
        Sample((x(0, 3),), {"dim": 0}),
        Sample((big,), {"dim": 1}),
    ]
    if dt.kind == "f":
        inf = x(3, 4)
        inf[1, :] = -np.inf
        inf[2, 1] = np.inf
        out.append(Sample((inf,), {"dim": 1}, grad=False))
    return out


def _logsumexp_ref(x, dim, keepdim=False):
    axis = _axis(x, dim)
    m = np.max(x, axis=axis, keepdims=True) if np.size(x) else np.zeros(
        [1 if axis is None or i in np.atleast_1d(axis) else s for i, s in enumerate(np.shape(x))])
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    if not keepdim:
        out = np.squeeze(out, axis=axis) if axis is not None else out.reshape(())
    return out


def _norm_samples(rng, dt):
    def x(*s):  # no zeros (kinks of |x|) and distinct magnitudes (ties of max |x|)
        mag = np.abs(_distinct(rng, s, dt)) + 0.5 if s else np.asarray(1.5, dt.name)
        return np.asarray(mag * np.where(rng.rand(*s) < 0.5, -1, 1), dtype=dt.name)

    return [
        Sample((x(3, 4),), {}),
        Sample((x(3, 4),), {"p": 1, "dim": 1}),
        Sample((x(3, 4),), {"p": float("inf"), "dim": 0, "keepdim": True}),
        Sample((x(3, 4),), {"p": float("-inf"), "dim": 1}),
        Sample((x(3, 4),), {"p": 0}),
        Sample((x(3, 4),), {"p": 0.5, "dim": -1}),
        Sample((x(2, 3, 4),), {"p": 3, "dim": (0, 2)}),
        Sample((x(3, 4),), {"p": "fro", "dim": (0, 1)}),
        Sample((NonContig(x(3, 4)),), {"p": 2, "dim": 1}),
        Sample((x(),), {}),
        Sample((x(0, 3),), {"dim": 1}),
    ]


def _norm(x, p="fro", dim=None, keepdim=False):
    return x.norm(p, dim=dim, keepdim=keepdim)


def _norm_ref(x, p="fro", dim=None, keepdim=False):
    p = 2 if p == "fro" else p
    a = np.abs(x)
    axis = _axis(x, dim)
    if p == np.inf:
        return np.max(a, axis=axis, keepdims=keepdim)
    if p == -np.inf:
        return np.min(a, axis=axis, keepdims=keepdim)
    if p == 0:
        return np.sum(a != 0, axis=axis, keepdims=keepdim).astype(np.float64)
    return np.sum(a**p, axis=axis, keepdims=keepdim) ** (1.0 / p)


# -- logical and cumulative -------------------------------------------------------------------


def _logical_samples(rng, dt):
    def x(*s):
        v = _draw(rng, s, dt, -2, 2)
        return np.asarray(np.where(rng.rand(*s) < 0.3, 0, v), dtype=dt.name)

    ones = np.ones((3, 4), dt.name)
    return [
        Sample((x(3, 4),), {"dim": 1}),
        Sample((x(2, 3, 4),), {"dim": (0, 2)}),
        Sample((x(3, 4),), {"dim": -1, "keepdim": True}),
        Sample((x(3, 4),), {}),
        Sample((ones,), {}),
        Sample((x(),), {"dim": 0}),
        Sample((NonContig(x(3, 4)),), {"dim": 0}),
        Sample((x(0, 3),), {"dim": 1}),
        Sample((x(0, 3),), {}),
    ]


def _logical(name):
    return lambda x, dim=None, keepdim=False: getattr(x, name)(dim=dim, keepdim=keepdim)


def _cum_samples(zeros: bool, ties: bool):
    def samples(rng, dt):
        def x(*s):
            if ties:
                return _draw(rng, s, dt, -3, 3)
            v = _distinct(rng, s, dt) if dt is not BOOL else _draw(rng, s, dt, 0, 1)
            return v

        out = [
            Sample((x(3, 4),), {"dim": 1}),
            Sample((x(3, 4),), {"dim": 0}),
            Sample((x(2, 3, 4),), {"dim": -2}),
            Sample((x(),), {"dim": 0}),
            Sample((NonContig(x(3, 4)),), {"dim": 1}),
            Sample((x(0, 3),), {"dim": 1}),
        ]
        if zeros:
            z = x(3, 5)
            z[0, 1] = z[1, 2] = z[1, 4] = z[2, 4] = 0
            out.append(Sample((z,), {"dim": 1}))
        if ties and dt.kind == "f":
            n = _draw(rng, (3, 5), dt, -3, 3)
            n[0, 2] = n[2, 0] = np.nan
            out.append(Sample((n,), {"dim": 1}, grad=False))
        return out

    return samples


def _cumulative_ref(fn):
    def ref(x, dim):
        return fn(np.reshape(x, (1,)), axis=0).reshape(()) if np.ndim(x) == 0 else \
            fn(x, axis=dim)

    return ref


def _cum_extreme_ref(largest):
    def one(row):
        values, indices = np.empty_like(row), np.zeros(row.shape, np.int64)
        best, at = None, 0
        for j, v in enumerate(row):
            keep = best is not None and (np.isnan(best) or (
                not np.isnan(v) and (best > v if largest else best < v)))
            if not keep:
                best, at = v, j
            values[j], indices[j] = best, at
        return values, indices

    def ref(x, dim):
        x = np.asarray(x)
        moved = np.moveaxis(np.reshape(x, (1,)) if x.ndim == 0 else x, dim, -1)
        flat = moved.reshape(-1, moved.shape[-1])
        pairs = [one(r) for r in flat]
        values = np.array([p[0] for p in pairs]).reshape(moved.shape)
        indices = np.array([p[1] for p in pairs], np.int64).reshape(moved.shape)
        values, indices = np.moveaxis(values, -1, dim), np.moveaxis(indices, -1, dim)
        return (values.reshape(()), indices.reshape(())) if x.ndim == 0 else (values, indices)

    return ref


def _cum_extreme(name):
    def call(x, dim):
        values, indices = getattr(x, name)(dim)
        return values, indices

    return call


# -- gather and scatter along a dim ----------------------------------------------------------------


def _gather_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -2, 2)

    return [
        Sample((x(3, 4), rng.randint(0, 4, size=(3, 4))), {"dim": 1}),
        Sample((x(3, 4), rng.randint(0, 3, size=(2, 4))), {"dim": 0}),
        Sample((NonContig(x(3, 4)), rng.randint(0, 3, size=(3, 4))), {"dim": -2}),
        Sample((x(2, 3, 4), rng.randint(0, 3, size=(2, 3, 4))), {"dim": 1}),
        Sample((x(0, 3), np.zeros((0, 3), np.int64)), {"dim": 1}),
    ]


def _gather(x, indices, dim):
    return _R.gather_along(x, indices, dim=dim % x.ndim)


def _gather_ref(x, indices, dim):
    return np.take_along_axis(x, np.asarray(indices, np.int64), axis=dim)


def _scatter_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -2, 2)

    return [
        Sample((x(3, 4), rng.randint(0, 5, size=(3, 4))), {"dim": 1, "size": 5}),
        Sample((x(2, 4), rng.randint(0, 3, size=(2, 4))), {"dim": 0, "size": 3}),
        Sample((NonContig(x(3, 4)), rng.randint(0, 2, size=(3, 4))), {"dim": 1, "size": 2}),
        Sample((x(0, 3), np.zeros((0, 3), np.int64)), {"dim": 0, "size": 2}),
    ]


def _scatter(src, indices, dim, size):
    return _R.scatter_add_along(src, indices, dim=dim, size=size)


def _scatter_ref(src, indices, dim, size):
    src = np.moveaxis(np.asarray(src), dim, -1)
    idx = np.moveaxis(np.asarray(indices, np.int64), dim, -1)
    out = np.zeros(src.shape[:-1] + (size,), src.dtype)
    for pos in np.ndindex(*src.shape[:-1]):
        np.add.at(out[pos], idx[pos], src[pos])
    return np.moveaxis(out, -1, dim)


# -- sorting and sets ---------------------------------------------------------------------------


def _sort_samples(rng, dt):
    def x(*s):
        return _distinct(rng, s, dt)

    out = [
        Sample((x(3, 4),), {}),
        Sample((x(3, 4),), {"dim": 0, "descending": True}),
        Sample((x(2, 3, 4),), {"dim": -2}),
        Sample((NonContig(x(3, 4)),), {"dim": 1, "descending": True}),
        Sample((x(0, 3),), {"dim": 1}),
        Sample((_draw(rng, (3, 4), dt, -2, 2),), {"dim": 1}, grad=False),  # ties: stable
        Sample((_draw(rng, (3, 4), dt, -2, 2),), {"descending": True}, grad=False),
    ]
    if dt.kind == "f":
        n = x(3, 4)
        n[0, 1] = n[2, 0] = n[2, 3] = np.nan
        out += [Sample((n,), {"dim": 1}, grad=False),
                Sample((n,), {"dim": 1, "descending": True}, grad=False)]
    return out


def _sort(x, dim=-1, descending=False):
    values, indices = x.sort(dim=dim, descending=descending)
    return values, indices


def _sort_ref(x, dim=-1, descending=False):
    x = np.asarray(x)
    if descending:  # stable: reverse the stable ascending order of the reversed array
        n = x.shape[dim]
        indices = n - 1 - np.flip(np.argsort(np.flip(x, dim), axis=dim, kind="stable"), dim)
    else:
        indices = np.argsort(x, axis=dim, kind="stable")
    return np.take_along_axis(x, indices, axis=dim), indices


def _unique_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -2, 2)

    rows = x(4, 3)
    rows[2] = rows[0]
    out = [
        Sample((x(3, 4),), {}, grad=False),
        Sample((x(7),), {}, grad=False),
        Sample((NonContig(x(3, 4)),), {}, grad=False),
        Sample((x(),), {}, grad=False),
        Sample((x(0, 3),), {}, grad=False),
        Sample((rows,), {"dim": 0}, grad=False),
        Sample((rows,), {"dim": 1}, grad=False),
        Sample((x(2, 1, 3),), {"dim": -1}, grad=False),
    ]
    if dt.kind == "f":
        n = x(3, 4)
        n[0, 1] = n[2, 0] = np.nan
        out.append(Sample((n,), {}, grad=False))
    return out


def _unique(x, dim=None):
    return tuple(x.unique(return_inverse=True, return_counts=True, dim=dim))


def _unique_consecutive(x, dim=None):
    return tuple(x.unique_consecutive(return_inverse=True, return_counts=True, dim=dim))


def _rows(x, dim):
    x = np.asarray(x)
    if dim is None:
        return x.reshape(-1, 1), None
    moved = np.moveaxis(x, dim, 0)
    return moved.reshape(moved.shape[0], -1), moved.shape


def _from_rows(rows, shape, x, dim):
    if dim is None:
        return rows.reshape(-1)
    return np.moveaxis(rows.reshape((rows.shape[0],) + shape[1:]), 0, dim)


def _runs(rows, x, dim, order):
    """Values, inverse and counts of the runs of equal rows of ``rows[order]`` (NaN != NaN)."""
    ordered = rows[order]
    new = np.ones(len(ordered), bool)
    if len(ordered):
        new[1:] = np.any(ordered[1:] != ordered[:-1], axis=1)
    group = np.cumsum(new) - 1
    inverse = np.empty(len(order), np.int64)
    inverse[order] = group
    starts = np.flatnonzero(new)
    counts = np.diff(np.append(starts, len(ordered))).astype(np.int64)
    inv_shape = np.shape(x) if dim is None else (len(order),)
    return ordered[new], inverse.reshape(inv_shape), counts


def _unique_ref(x, dim=None):
    rows, shape = _rows(x, dim)
    order = np.lexsort(rows.T[::-1]) if rows.shape[1] else np.arange(len(rows))
    values, inverse, counts = _runs(rows, x, dim, order)
    return _from_rows(values, shape, x, dim), inverse, counts


def _unique_consecutive_ref(x, dim=None):
    rows, shape = _rows(x, dim)
    values, inverse, counts = _runs(rows, x, dim, np.arange(len(rows)))
    return _from_rows(values, shape, x, dim), inverse, counts


def _unique_dtypes(x, **kwargs):
    return (same(x), "int64", "int64")


SPECS = [
    OpSpec("amin", _amin, _np_reduce(np.min), _reduce_samples(False), ALL, same),
    OpSpec("min_dim", _min_dim, _min_dim_ref, _max_dim_samples, ALL,
           lambda x, **kw: (same(x), "int64"), grad_call=lambda x, **kw: _min_dim(x, **kw)[0]),
    OpSpec("argmax", _arg_call("argmax"), _arg_ref(np.argmax), _arg_samples, NUMERIC,
           lambda *a, **kw: "int64", differentiable=False),
    OpSpec("argmin", _arg_call("argmin"), _arg_ref(np.argmin), _arg_samples, NUMERIC,
           lambda *a, **kw: "int64", differentiable=False),
    OpSpec("prod", _prod, _np_reduce(np.prod), _prod_samples, ALL, summed),
    OpSpec("var", _moment("var"), _moment_ref(np.var), _var_samples, FLOATS, same),
    OpSpec("std", _moment("std"), _moment_ref(np.std), _moment_samples, FLOATS, same),
    OpSpec("logsumexp", lambda x, dim, keepdim=False: x.logsumexp(dim, keepdim=keepdim),
           _logsumexp_ref, _logsumexp_samples, NUMERIC, floating),
    OpSpec("norm", _norm, _norm_ref, _norm_samples, FLOATS, same),
    OpSpec("all", _logical("all"), _np_reduce(np.all), _logical_samples, ALL, boolean,
           differentiable=False),
    OpSpec("any", _logical("any"), _np_reduce(np.any), _logical_samples, ALL, boolean,
           differentiable=False),
    OpSpec("cumsum", lambda x, dim: x.cumsum(dim), _cumulative_ref(np.cumsum),
           _cum_samples(False, True), ALL, summed),
    OpSpec("cumprod", lambda x, dim: x.cumprod(dim), _cumulative_ref(np.cumprod),
           _cum_samples(True, False), ALL, summed),
    OpSpec("cummax", _cum_extreme("cummax"), _cum_extreme_ref(True), _cum_samples(False, True),
           ALL, lambda x, **kw: (same(x), "int64"),
           grad_call=lambda x, dim: x.cummax(dim)[0]),
    OpSpec("cummin", _cum_extreme("cummin"), _cum_extreme_ref(False), _cum_samples(False, True),
           ALL, lambda x, **kw: (same(x), "int64"),
           grad_call=lambda x, dim: x.cummin(dim)[0]),
    OpSpec("gather_along", _gather, _gather_ref, _gather_samples, ALL, same),
    OpSpec("scatter_add_along", _scatter, _scatter_ref, _scatter_samples, NUMERIC, same),
    OpSpec("sort", _sort, _sort_ref, _sort_samples, ALL, lambda x, **kw: (same(x), "int64"),
           grad_call=lambda x, **kw: _sort(x, **kw)[0]),
    OpSpec("unique", _unique, _unique_ref, _unique_samples, ALL, _unique_dtypes,
           differentiable=False),
    OpSpec("unique_consecutive", _unique_consecutive, _unique_consecutive_ref, _unique_samples,
           ALL, _unique_dtypes, differentiable=False),
]
