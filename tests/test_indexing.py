"""Indexing against PyTorch: advanced keys, gather/scatter, index_*, masks, bounds, in-place."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import dtype_name, host, ours, theirs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import polytorch

RNG = np.random.RandomState(0)
X = RNG.uniform(-2, 2, size=(3, 4, 5))
MASK = RNG.rand(3, 4) < 0.5


def _subset(cases, device):
    """JAX compiles every op per shape and dtype: there, every fourth case (the
    conformance suite runs every primitive on it)."""
    return cases[::4] if device == "cpu@jax" else cases


def _both(value, device, grad=False):
    return ours(value, device, grad), theirs(value, grad)


def _ti(device):
    return lambda v: ours(np.asarray(v), device)


KEYS = [
    lambda T: ([0, 2],),
    lambda T: (slice(None), [-1], slice(None)),
    lambda T: (T([[0], [2]]), slice(1, 3), T([1, 4])),
    lambda T: (Ellipsis, T([4, 0, 0])),
    lambda T: (1, slice(None), [0, 3]),
    lambda T: (None, [1, 1], None, [2, 0]),
    lambda T: (T(MASK),),
    lambda T: (slice(None), T(MASK[0]), None),
    lambda T: (slice(None, None, 2), [True, False, True, True]),
    lambda T: (True,),
    lambda T: (False, 0),
    lambda T: (T(np.zeros(0, np.int64)),),
    lambda T: (T(np.array(2)),),
    lambda T: (slice(1, None), T([[0, 1], [2, 3]]), T([4])),
]


def test_getitem_matches_torch(device):
    x, tx = _both(X, device, grad=True)
    for i, key in enumerate(_subset(KEYS, device)):
        out, tout = x[key(_ti(device))], tx[key(torch.tensor)]
        assert tuple(out.shape) == tuple(tout.shape), i
        np.testing.assert_array_equal(host(out), host(tout))
        w = RNG.uniform(-1, 1, size=tuple(tout.shape))
        x.grad = tx.grad = None
        (out * ours(w, device)).sum().backward()
        (tout * theirs(w)).sum().backward()
        np.testing.assert_allclose(host(x.grad), host(tx.grad), err_msg=str(i))


def test_setitem_matches_torch(device):
    for i, key in enumerate(_subset(KEYS, device)):
        base = X * 1.0
        x, tx = _both(base, device)
        target = tx[key(torch.tensor)].shape
        v = RNG.uniform(-1, 1, size=tuple(target)[1:] if len(target) else ())
        val, tval = _both(v, device, grad=True)
        y = x * 1.0
        ty = tx * 1.0
        y[key(_ti(device))] = val
        ty[key(torch.tensor)] = tval
        np.testing.assert_array_equal(host(y), host(ty), err_msg=str(i))
        y.sum().backward()
        ty.sum().backward()
        if tval.grad is None:
            assert val.grad is None
        else:
            np.testing.assert_allclose(host(val.grad), host(tval.grad), err_msg=str(i))
        z, tz = x.clone(), tx.clone()
        z[key(_ti(device))] = 7.5
        tz[key(torch.tensor)] = 7.5
        np.testing.assert_array_equal(host(z), host(tz))


def test_out_of_range_indices_raise_on_every_backend(device):
    x = ours(X, device)
    tx = theirs(X)
    bad = [
        lambda m, t, T: t[T([3])],
        lambda m, t, T: t[:, T([-5])],
        lambda m, t, T: t[0, :, [5]],
        lambda m, t, T: t[0, 0].index_select(0, T([5])),
        lambda m, t, T: t.gather(0, T([[[3]]])),
        lambda m, t, T: t.gather(0, T([[[-1]]])),
        lambda m, t, T: t.take(T([60])),
        lambda m, t, T: t.scatter(2, T([[[5]]]), 1.0),
        lambda m, t, T: t.index_add(0, T([3]), t[:1]),
        lambda m, t, T: t[T(MASK[:2])],
        lambda m, t, T: t[T([0, 1]), T([0, 1, 2])],
        lambda m, t, T: t.index_put_((T([9]),), t[0] * 1),
    ]
    for i, fn in enumerate(_subset(bad, device)):
        try:
            fn(torch, tx, torch.tensor)
        except Exception as e:
            want = type(e)
        else:
            raise AssertionError(f"torch accepted bad index {i}")
        with pytest.raises(want):
            fn(polytorch, x, _ti(device))


def _scatter_reduce_case(reduce, include_self):
    index = np.tile([[[0, 1, 1, 4, 0, 1]]], (3, 4, 1))
    return lambda m, x, T: x.scatter_reduce(2, T(index), x.repeat(1, 1, 2)[..., :6] * 1.5,
                                            reduce, include_self=include_self)


# name, fn(lib, x, T) with x float64 (3, 4, 5): the gather/scatter/index_* family
FAMILY = [
    ("gather", lambda m, x, T: x.gather(1, T(RNG.randint(0, 4, size=(2, 3, 5))))),
    ("scatter_src", lambda m, x, T: x.scatter(0, T([[[2, 0, 1, 0, 2]]]), x[1:2, :1] * 3)),
    ("scatter_value", lambda m, x, T: x.scatter(2, T([[[4], [0], [1], [1]]]), 2.5)),
    ("scatter_add", lambda m, x, T: x.scatter_add(1, T(RNG.randint(0, 4, size=(3, 6, 5))),
                                                  x[:, :1].expand(3, 6, 5) * 1)),
    *[(f"scatter_reduce_{r}_{s}", _scatter_reduce_case(r, s))
      for r in ("sum", "prod", "mean", "amax", "amin") for s in (True, False)],
    ("index_select", lambda m, x, T: x.index_select(1, T([3, 0, 3]))),
    ("index_add", lambda m, x, T: x.index_add(0, T([2, 0, 2]), x * 2, alpha=0.5)),
    ("index_copy", lambda m, x, T: x.index_copy(2, T([4, 1]), x[..., :2] + 1)),
    ("index_fill", lambda m, x, T: x.index_fill(1, T([0, 2]), -1.0)),
    ("index_put", lambda m, x, T: x.index_put((T([0, 0, 2]), T([1, 1, 3])), x[0, :3],
                                              accumulate=True)),
    ("masked_select", lambda m, x, T: x.masked_select(T(MASK[..., None]))),
    ("masked_scatter", lambda m, x, T: x.masked_scatter(T(MASK[..., None]), x.flip(0) * 2)),
    ("take", lambda m, x, T: x.take(T([[0, -1], [7, 7]]))),
    ("take_along_dim", lambda m, x, T: m.take_along_dim(x, T(RNG.randint(0, 4, (3, 2, 1))), 1)),
    ("take_along_dim_flat", lambda m, x, T: m.take_along_dim(x, T([5, 1]))),
]


def test_gather_scatter_family_matches_torch(device):
    for name, fn in _subset(FAMILY, device):
        state = RNG.get_state()
        x, tx = _both(X, device, grad=True)
        out = fn(polytorch, x, _ti(device))
        RNG.set_state(state)
        tout = fn(torch, tx, torch.tensor)
        assert tuple(out.shape) == tuple(tout.shape), name
        assert dtype_name(out.dtype) == dtype_name(tout.dtype), name
        np.testing.assert_allclose(host(out), host(tout), err_msg=name)
        w = RNG.uniform(-1, 1, size=tuple(tout.shape))
        (out * ours(w, device)).sum().backward()
        (tout * theirs(w)).sum().backward()
        np.testing.assert_allclose(host(x.grad), host(tx.grad), rtol=1e-10, err_msg=name)


def test_integer_results_match_torch(device):
    d = _ti(device)
    cases = [
        ("nonzero", lambda m, T: T(MASK).nonzero()),
        ("nonzero_tuple", lambda m, T: m.nonzero(T(X[0] > 0), as_tuple=True)),
        ("argwhere", lambda m, T: m.argwhere(T(X[..., 0] > 0.5))),
        ("bincount", lambda m, T: m.bincount(T([0, 3, 3, 1]), minlength=6)),
        ("bincount_w", lambda m, T: m.bincount(T([0, 3, 3]),
                                               weights=T(np.array([0.5, 1, 2], np.float32)))),
        ("searchsorted", lambda m, T: m.searchsorted(T([1, 3, 3, 7]), T([[3, 8], [0, 3]]))),
        ("searchsorted_r", lambda m, T: m.searchsorted(T([1, 3, 3, 7]), T([3, 4]), right=True)),
        ("searchsorted_2d", lambda m, T: m.searchsorted(T([[1, 2], [0, 9]]), T([[2], [5]]),
                                                        side="right")),
        ("bucketize", lambda m, T: m.bucketize(T([0.5, 3.0, 9.0]), T([1.0, 3.0, 5.0]))),
        ("one_hot", lambda m, T: (polytorch.ops.indexing.one_hot if m is polytorch
                                  else torch.nn.functional.one_hot)(T([0, 2, 1]), 4)),
    ]
    for name, fn in _subset(cases, device):
        out, tout = fn(polytorch, d), fn(torch, torch.tensor)
        outs = out if isinstance(out, tuple) else (out,)
        touts = tout if isinstance(tout, tuple) else (tout,)
        for o, t in zip(outs, touts):
            assert dtype_name(o.dtype) == dtype_name(t.dtype), name
            np.testing.assert_array_equal(host(o), host(t), err_msg=name)


INPLACE = [
    ("scatter_", lambda x, T: x.scatter_(1, T([[[1, 0, 3, 2, 1]]]), x[:1, :1].clone() * 0 + 3)),
    ("scatter_add_", lambda x, T: x.scatter_add_(0, T([[[1, 1, 0, 1, 1]]]), x[:1, :1] * 1)),
    ("scatter_reduce_", lambda x, T: x.scatter_reduce_(0, T([[[1, 1, 0, 1, 0]]]),
                                                       x[:1, :1] * 2, "amax")),
    ("index_add_", lambda x, T: x.index_add_(1, T([0, 0]), x[:, :2] * 1)),
    ("index_copy_", lambda x, T: x.index_copy_(0, T([1]), x[:1] * 3)),
    ("index_fill_", lambda x, T: x.index_fill_(2, T([0, 4]), 0.25)),
    ("index_put_", lambda x, T: x.index_put_((T([0, 1]),), x[:2] * 1, accumulate=True)),
    ("masked_scatter_", lambda x, T: x.masked_scatter_(T(MASK[0][:, None]), x * 4)),
]


def test_inplace_variants_match_torch(device):
    for name, fn in _subset(INPLACE, device):
        leaf, tleaf = _both(X, device, grad=True)
        for through_view in (False, True):
            y = leaf * 1.0
            ty = tleaf * 1.0
            target, ttarget = (y[1:], ty[1:]) if through_view else (y, ty)
            v0 = target._version
            out = fn(target, _ti(device))
            tout = fn(ttarget, torch.tensor)
            assert out is target and target._version > v0, name
            np.testing.assert_allclose(host(y), host(ty), err_msg=name)
            np.testing.assert_allclose(host(out), host(tout), err_msg=name)
            w = RNG.uniform(-1, 1, size=X.shape)
            leaf.grad = tleaf.grad = None
            (y * ours(w, device)).sum().backward()
            (ty * theirs(w)).sum().backward()
            np.testing.assert_allclose(host(leaf.grad), host(tleaf.grad), err_msg=name)


# -- property tests: random basic + advanced keys --------------------------------------------

_SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SHAPE = (3, 4, 2)


@st.composite
def _keys(draw):
    entries = []
    dims = 0
    for _ in range(draw(st.integers(1, 4))):
        if dims >= len(SHAPE):
            break
        size = SHAPE[dims]
        kind = draw(st.sampled_from(["int", "slice", "none", "list", "tensor", "mask"]))
        if kind == "int":
            entries.append(draw(st.integers(-size, size - 1)))
        elif kind == "slice":
            entries.append(slice(draw(st.integers(-size, size)), draw(st.integers(-size, size)),
                                 draw(st.integers(1, 3))))
        elif kind == "none":
            entries.append(None)
            continue
        elif kind == "list":
            # Distinct positions: writes to one element twice have no defined order.
            entries.append(draw(st.lists(st.integers(-size, size - 1), min_size=1, max_size=3,
                                         unique_by=lambda v, n=size: v % n)))
        elif kind == "tensor":
            entries.append(("t", draw(st.lists(st.integers(-size, size - 1), min_size=2,
                                                 max_size=2, unique_by=lambda v, n=size: v % n))))
        else:
            entries.append(("m", draw(st.lists(st.booleans(), min_size=size, max_size=size))))
        dims += 1
    if draw(st.booleans()):
        entries.insert(draw(st.integers(0, len(entries))), Ellipsis)
    return tuple(entries)


def _realize(key, make):
    return tuple(make(np.asarray(k[1])) if isinstance(k, tuple) else k for k in key)


@pytest.mark.parametrize("device_", ["cpu", "cpu@jax"])
def test_random_keys_match_torch(device_):
    @settings(_SETTINGS, max_examples=25 if device_ == "cpu" else 3)
    @given(_keys(), st.booleans())
    def check(key, write):
        data = np.arange(24.0).reshape(SHAPE)
        x = ours(data, device_, requires_grad=True)
        tx = theirs(data, requires_grad=True)
        try:
            tout = tx[_realize(key, torch.tensor)] * 1.0
        except (IndexError, RuntimeError) as e:
            with pytest.raises(type(e)):
                x[_realize(key, lambda a: ours(a, device_))]
            return
        if write:
            v = np.arange(float(tout.numel())).reshape(tuple(tout.shape)) + 100
            y, ty = x * 1.0, tx * 1.0
            y[_realize(key, lambda a: ours(a, device_))] = ours(v, device_)
            ty[_realize(key, torch.tensor)] = theirs(v)
            out, tout = y, ty
        else:
            out = x[_realize(key, lambda a: ours(a, device_))] * 1.0
        assert tuple(out.shape) == tuple(tout.shape)
        np.testing.assert_array_equal(host(out), host(tout))
        w = np.cos(np.arange(float(tout.numel()))).reshape(tuple(tout.shape))
        (out * ours(w, device_)).sum().backward()
        (tout * theirs(w)).sum().backward()
        np.testing.assert_allclose(host(x.grad), host(tx.grad))

    check()
