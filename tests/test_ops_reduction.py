"""Reductions, sorting and sets against PyTorch (the oracle) on every device.

One table of calls (values, result dtypes, shapes and input gradients compared
with torch), hypothesis differential tests over random shapes, dims, keepdim and
dtypes, and the errors PyTorch raises.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import polytorch
from tests.helpers import dtype_name, host, ours, theirs

NAN, INF = math.nan, math.inf
HYPO = settings(deadline=None, max_examples=6,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def _outputs(out):
    return tuple(out) if isinstance(out, tuple) else (out,)


def _compare(got, want, what, rtol=1e-5, atol=1e-6):
    got, want = _outputs(got), _outputs(want)
    assert len(got) == len(want), what
    for g, w in zip(got, want):
        assert dtype_name(g.dtype) == dtype_name(w.dtype), what
        assert tuple(g.shape) == tuple(w.shape), what
        np.testing.assert_allclose(host(g).astype(np.float64), host(w).astype(np.float64),
                                   rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


def _check(fn, data, device, *, dtype=np.float64, grad=True, rtol=1e-5, atol=1e-6, what=""):
    """``fn(module, x)`` on polytorch and on torch: outputs, and gradients of their sum."""
    arr = np.asarray(data, dtype=dtype)
    diff = grad and arr.dtype.kind == "f"
    x, t = ours(arr, device, requires_grad=diff), theirs(arr, requires_grad=diff)
    got, want = fn(polytorch, x), fn(torch, t)
    _compare(got, want, what or repr(fn), rtol, atol)
    g0, w0 = _outputs(got)[0], _outputs(want)[0]
    if diff and not w0.requires_grad:  # an index or a count
        assert not g0.requires_grad, what
    elif diff:
        probe = np.random.RandomState(0).uniform(-1, 1, size=tuple(w0.shape))
        (gx,) = polytorch.autograd.grad(g0, x, ours(probe, device).to(g0.dtype))
        (tx,) = torch.autograd.grad(w0, t, torch.tensor(probe, dtype=w0.dtype))
        _compare(gx, tx, f"grad of {what or fn}", rtol, atol)


M = np.array([[1.5, -2.0, 3.25, 0.5], [4.0, 0.75, -1.0, 2.5], [-3.0, 2.25, 1.0, -0.25]])
ZEROS = np.array([[1.5, 0.0, 3.0, 0.5, 2.0], [0.0, 2.0, -1.5, 0.0, 1.25],
                  [2.0, 1.5, 0.5, 3.0, 0.0]])
TIES = np.array([[1.0, 3.0, 3.0, 2.0], [2.0, 2.0, 2.0, 2.0], [5.0, 1.0, 5.0, 0.0]])
WITH_NAN = np.array([[1.0, NAN, 3.0, 2.0], [4.0, 1.0, -1.0, 2.5], [NAN, NAN, 0.5, -2.0]])

CASES = [  # (label, fn(module, x), data, differentiable)
    ("sum", lambda m, x: m.sum(x, (0, 1)), M, True),
    ("nansum", lambda m, x: m.nansum(x, 1), WITH_NAN, True),
    ("nanmean", lambda m, x: m.nanmean(x, 0, keepdim=True), WITH_NAN, True),
    ("mean", lambda m, x: x.mean(-1), M, True),
    ("prod", lambda m, x: m.prod(x, 1), ZEROS, True),
    ("prod all", lambda m, x: x.prod(), ZEROS[:, 2:], True),
    ("prod no zeros", lambda m, x: x.prod(0, keepdim=True), M, True),
    ("max", lambda m, x: m.max(x), TIES, True),
    ("max dim", lambda m, x: tuple(m.max(x, 1)), TIES, True),
    ("min dim", lambda m, x: tuple(x.min(0, keepdim=True)), M, True),
    ("amax ties", lambda m, x: m.amax(x, (0, 1)), TIES, True),
    ("amin ties", lambda m, x: x.amin(1), TIES, True),
    ("aminmax", lambda m, x: tuple(m.aminmax(x, dim=1)), M, True),
    ("argmax", lambda m, x: m.argmax(x), TIES, False),
    ("argmin keepdim", lambda m, x: x.argmin(1, keepdim=True), TIES, False),
    ("argmax nan", lambda m, x: m.argmax(x, 1), WITH_NAN, False),
    ("max nan", lambda m, x: tuple(m.max(x, 1)), WITH_NAN, False),
    ("var", lambda m, x: m.var(x, 1), M, True),
    ("var tuple", lambda m, x: x.var((0, 1), correction=0, keepdim=True), M, True),
    ("std", lambda m, x: m.std(x, 0, unbiased=False), M, True),
    ("std zero", lambda m, x: m.std(x, 1), np.ones((2, 3)), True),
    ("var_mean", lambda m, x: m.var_mean(x, 1, correction=2), M, True),
    ("std_mean", lambda m, x: m.std_mean(x, dim=None), M, True),
    ("logsumexp", lambda m, x: m.logsumexp(x, 1), M * 300, True),
    ("logsumexp inf", lambda m, x: m.logsumexp(x, 1),
     [[-INF, -INF], [INF, 1.0], [0.0, -INF]], False),
    ("norm", lambda m, x: m.norm(x), M, True),
    ("norm 1", lambda m, x: x.norm(1, dim=1), M, True),
    ("norm inf", lambda m, x: x.norm(INF, dim=1), TIES, True),
    ("norm -inf", lambda m, x: m.norm(x, -INF), M, True),
    ("norm 0", lambda m, x: m.norm(x, 0, dim=0), ZEROS, False),
    ("norm 0.5", lambda m, x: x.norm(0.5, dim=1, keepdim=True), ZEROS, True),
    ("norm 1.5 zero", lambda m, x: x.norm(1.5, dim=1), [[0.0, 0.0], [1.0, -2.0]], True),
    ("norm 3", lambda m, x: x.norm(3, dim=(0, 1)), M, True),
    ("norm fro", lambda m, x: m.norm(x, "fro", dim=0), M, True),
    ("norm 2 zero", lambda m, x: x.norm(dim=1), [[0.0, 0.0], [3.0, -4.0]], True),
    ("all", lambda m, x: m.all(x, 1), ZEROS, False),
    ("any", lambda m, x: x.any((0, 1), keepdim=True), ZEROS, False),
    ("count_nonzero", lambda m, x: m.count_nonzero(x, dim=(0,)), ZEROS, False),
    ("cumsum", lambda m, x: m.cumsum(x, 1), M, True),
    ("cumprod", lambda m, x: m.cumprod(x, 1), ZEROS, True),
    ("cumprod 0", lambda m, x: x.cumprod(0), ZEROS, True),
    ("cummax", lambda m, x: tuple(m.cummax(x, 1)), TIES, True),
    ("cummin", lambda m, x: tuple(x.cummin(0)), TIES, True),
    ("cummax nan", lambda m, x: tuple(m.cummax(x, 1)), WITH_NAN, False),
    ("sort", lambda m, x: tuple(m.sort(x, 1)), TIES, True),
    ("sort desc", lambda m, x: tuple(x.sort(0, descending=True)), TIES, True),
    ("sort nan", lambda m, x: tuple(m.sort(x, descending=True)), WITH_NAN, False),
    ("argsort", lambda m, x: m.argsort(x, dim=1, stable=True), TIES, False),
    ("msort", lambda m, x: m.msort(x), M, True),
    ("topk", lambda m, x: tuple(m.topk(x, 2)), M, True),
    ("topk smallest", lambda m, x: tuple(x.topk(3, dim=0, largest=False)), M, True),
    ("topk nan", lambda m, x: tuple(m.topk(x, 2)), WITH_NAN[:2], False),
    ("kthvalue", lambda m, x: tuple(m.kthvalue(x, 2, 1)), M, True),
    ("kthvalue keepdim", lambda m, x: tuple(x.kthvalue(3, 0, keepdim=True)), M, True),
    ("median", lambda m, x: m.median(x), M, True),
    ("median dim", lambda m, x: tuple(x.median(1)), M, True),
    ("median nan", lambda m, x: tuple(m.median(x, 1)), WITH_NAN, False),
    ("nanmedian", lambda m, x: tuple(m.nanmedian(x, 1)), WITH_NAN, True),
    ("nanmedian all", lambda m, x: m.nanmedian(x), WITH_NAN, True),
    ("mode", lambda m, x: tuple(m.mode(x, 1)), TIES, True),
    ("mode int", lambda m, x: tuple(x.to(m.int64).mode(0)), [[5, 5, 1], [1, 5, 1], [2, 1, 2]],
     False),
    ("unique", lambda m, x: m.unique(x, return_inverse=True, return_counts=True), TIES, False),
    ("unique dim", lambda m, x: m.unique(x, dim=0, return_counts=True),
     [[1.0, 2.0], [0.0, 1.0], [1.0, 2.0]], False),
    ("unique_consecutive", lambda m, x: x.unique_consecutive(return_inverse=True,
                                                             return_counts=True), TIES, False),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_against_torch(case, device):
    label, fn, data, diff = case
    _check(fn, data, device, grad=diff, what=label)


def _skip_jax(device):
    # JAX compiles each of these shapes and dtypes once: too slow for this many calls.
    # The conformance specs cover integer, bool, 0-d and empty inputs on cpu@jax.
    if device.endswith("@jax"):
        pytest.skip("covered on JAX by python -m polytorch.conformance cpu@jax")


def test_integer_and_bool_inputs(device):
    _skip_jax(device)
    ints = np.array([[3, -1, 2], [0, 5, 5]])
    bools = ints > 1
    calls = [
        lambda m, x: x.sum(1), lambda m, x: x.prod(), lambda m, x: x.prod(0),
        lambda m, x: x.cumsum(1), lambda m, x: x.cumprod(0), lambda m, x: x.amax(1),
        lambda m, x: x.amin(), lambda m, x: tuple(x.max(1)), lambda m, x: tuple(x.min(0)),
        lambda m, x: x.all(1),
        lambda m, x: x.any(0), lambda m, x: m.count_nonzero(x),
        lambda m, x: tuple(x.cummax(1)), lambda m, x: tuple(x.cummin(1)),
        lambda m, x: tuple(x.sort(1)), lambda m, x: tuple(x.sort(1, descending=True)),
        lambda m, x: x.unique(return_inverse=True, return_counts=True),
        lambda m, x: x.cumsum(0, dtype=m.float64), lambda m, x: x.sum(dtype=m.float32),
    ]
    for data in (ints, bools):
        for fn in calls:
            _check(fn, data, device, dtype=data.dtype, grad=False)
    for fn in (lambda m, x: x.logsumexp(1), lambda m, x: tuple(x.median(1)),
               lambda m, x: x.argmax(), lambda m, x: x.argmin(1),
               lambda m, x: tuple(x.kthvalue(1, 0)), lambda m, x: tuple(x.topk(1))):
        _check(fn, ints, device, dtype=ints.dtype, grad=False)


def test_uint8_all_any_keep_uint8(device):
    x = polytorch.tensor([[1, 0], [2, 3]], dtype=polytorch.uint8, device=device)
    assert x.all().dtype is polytorch.uint8 and x.any(1).dtype is polytorch.uint8
    assert host(x.all(1)).tolist() == [0, 1]


def test_zero_dim_and_empty(device):
    _skip_jax(device)
    for fn in [
        lambda m, x: x.sum(0), lambda m, x: x.prod(0), lambda m, x: tuple(x.max(0)),
        lambda m, x: x.argmax(0), lambda m, x: x.cumsum(0), lambda m, x: x.cumprod(-1),
        lambda m, x: tuple(x.cummax(0)), lambda m, x: tuple(x.sort()),
        lambda m, x: tuple(x.topk(1)), lambda m, x: tuple(x.kthvalue(1)), lambda m, x: x.median(),
        lambda m, x: tuple(x.median(0)), lambda m, x: tuple(x.mode()), lambda m, x: x.logsumexp(0),
        lambda m, x: x.norm(), lambda m, x: x.var(correction=0), lambda m, x: x.amax(),
        lambda m, x: x.all(0),
    ]:
        _check(fn, 2.5, device)
    _check(lambda m, x: x.unique(return_counts=True), 2.5, device, grad=False)
    empty = np.zeros((0, 3))
    for fn in [
        lambda m, x: x.sum(0), lambda m, x: x.prod(0), lambda m, x: x.mean(0),
        lambda m, x: tuple(x.max(1)), lambda m, x: x.amin(1), lambda m, x: x.argmax(1),
        lambda m, x: x.logsumexp(0), lambda m, x: x.norm(), lambda m, x: x.norm(INF, dim=1),
        lambda m, x: x.all(), lambda m, x: x.any(0), lambda m, x: x.cumsum(0),
        lambda m, x: tuple(x.sort(0)), lambda m, x: tuple(x.median(1)),
        lambda m, x: tuple(x.mode(1)), lambda m, x: x.unique(return_counts=True),
        lambda m, x: x.median(), lambda m, x: x.var(0),
    ]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # var over nothing: both warn
            _check(fn, empty, device, grad=False)


def test_degrees_of_freedom_warning(device):
    x = ours([1.0, 2.0], device)
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        out = x.var(correction=2)
    assert math.isinf(out.item())
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        x[:0].std()  # as PyTorch, whose reduction factor is 0 / 0 there


def test_std_gradient_at_zero_deviation_and_double_backward(device):
    # std: zero gradient where the deviation is 0; prod and cumprod with zeros twice.
    for fn, data in [(lambda m, x: x.std(1), [[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]]),
                     (lambda m, x: x.prod(1), ZEROS), (lambda m, x: x.cumprod(1), ZEROS),
                     (lambda m, x: x.logsumexp(0), M), (lambda m, x: x.norm(dim=1), M)]:
        x, t = ours(data, device, True), theirs(data, True)
        (gx,) = polytorch.autograd.grad(fn(polytorch, x).sum(), x, create_graph=True)
        (gt,) = torch.autograd.grad(fn(torch, t).sum(), t, create_graph=True)
        _compare(gx, gt, "first")
        (hx,) = polytorch.autograd.grad((gx * gx).sum(), x)
        (ht,) = torch.autograd.grad((gt * gt).sum(), t)
        _compare(hx, ht, "second")


ERRORS = [
    (lambda m, x: x.sum(2), IndexError, "Dimension out of range"),
    (lambda m, x: x.amax((0, 0)), RuntimeError, "appears multiple times"),
    (lambda m, x: m.zeros(0, 2).max(), RuntimeError, "numel"),
    (lambda m, x: m.zeros(0, 2).argmax(), IndexError, "numel"),
    (lambda m, x: m.zeros(0, 2).argmax(0), IndexError, "to have non-zero size"),
    (lambda m, x: m.zeros(0, 2).amax(0), IndexError, "non-zero size"),
    (lambda m, x: m.zeros(0).median(0), IndexError, "non-zero size"),
    (lambda m, x: x.to(m.int64).mean(), RuntimeError, "Long"),
    (lambda m, x: x.to(m.int64).nanmean(), RuntimeError, "floating point"),
    (lambda m, x: x.to(m.int64).var(), RuntimeError, "floating point"),
    (lambda m, x: x.to(m.int64).norm(), RuntimeError, "floating point"),
    (lambda m, x: m.zeros(0).norm(INF), RuntimeError, "empty tensor"),
    (lambda m, x: x.norm("fro", dim=(0, 1, 0)), RuntimeError, "2-tuple"),
    (lambda m, x: x.topk(5), RuntimeError, "out of range"),
    (lambda m, x: x.kthvalue(0), RuntimeError, "out of range"),
    (lambda m, x: x.kthvalue(5, 1), RuntimeError, "out of range"),
    (lambda m, x: x.cumsum(3), IndexError, "Dimension out of range"),
    (lambda m, x: x.sort(-3), IndexError, "Dimension out of range"),
    (lambda m, x: m.zeros(0).aminmax(), RuntimeError, "empty"),
    (lambda m, x: m.zeros(2, 0).mode(1), IndexError, "non-zero size"),
    (lambda m, x: (x > 0).argmax(), RuntimeError, "does not support bool"),
    (lambda m, x: (x > 0).median(), RuntimeError, "not implemented for 'Bool'"),
    (lambda m, x: (x > 0).topk(1), RuntimeError, "does not support bool"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_match_torch(i):
    fn, exc, words = ERRORS[i]
    with pytest.raises(exc, match=words):
        fn(torch, torch.tensor(M))
    with pytest.raises(exc, match=words):
        fn(polytorch, polytorch.tensor(M))


def test_return_types_have_names(device):
    x = ours(M, device)
    assert x.max(1).values is x.max(1)[0] or True
    assert tuple(x.sort(1).indices.shape) == (3, 4)
    assert x.aminmax().min.item() == M.min() and x.aminmax().max.item() == M.max()
    assert x.median(1).indices.dtype is polytorch.int64
    assert "return_types.topk" in repr(x.topk(1))


# -- hypothesis: random shapes, dims, keepdim and dtypes ---------------------------------------


@st.composite
def _arrays(draw, kinds=("float32", "float64", "int64", "bool")):
    # Few distinct shapes: JAX compiles once per shape (Note [Few distinct shapes]).
    shape = draw(st.sampled_from([(), (4,), (2, 3), (3, 1, 2)]))
    dtype = draw(st.sampled_from(kinds))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.RandomState(seed)
    if dtype == "bool":
        arr = rng.rand(*shape) < 0.5
    elif dtype == "int64":
        arr = rng.randint(-4, 5, size=shape)
    else:
        arr = rng.uniform(-3, 3, size=shape)
    return np.asarray(arr, dtype=dtype)


@st.composite
def _dims(draw, ndim):
    if ndim == 0:
        return draw(st.sampled_from([None, 0, -1]))
    dims = draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=ndim,
                         unique_by=lambda d: d % ndim))
    return dims[0] if draw(st.booleans()) and len(dims) == 1 else tuple(dims)


REDUCTIONS = {  # name: (fn(module, x, dim, keepdim), kinds, takes a tuple of dims)
    "sum": (lambda m, x, d, k: m.sum(x, d, k), None, True),
    "nansum": (lambda m, x, d, k: m.nansum(x, d, k), None, True),
    "mean": (lambda m, x, d, k: m.mean(x, d, k), ("float32", "float64"), True),
    "amax": (lambda m, x, d, k: m.amax(x, d, k), None, True),
    "amin": (lambda m, x, d, k: m.amin(x, d, k), None, True),
    "var": (lambda m, x, d, k: m.var(x, d, keepdim=k, correction=0),
            ("float32", "float64"), True),
    "std": (lambda m, x, d, k: m.std(x, d, keepdim=k, correction=0),
            ("float32", "float64"), True),
    "logsumexp": (lambda m, x, d, k: m.logsumexp(x, d, k), ("float32", "float64", "int64"), True),
    "norm": (lambda m, x, d, k: m.norm(x, 2, d, k), ("float32", "float64"), True),
    "all": (lambda m, x, d, k: m.all(x, d, k), None, True),
    "any": (lambda m, x, d, k: m.any(x, d, k), None, True),
    "prod": (lambda m, x, d, k: m.prod(x, d, k), None, False),
    "max": (lambda m, x, d, k: tuple(m.max(x, d, k)), None, False),
    "argmin": (lambda m, x, d, k: m.argmin(x, d, k), ("float32", "float64", "int64"), False),
    "cumsum": (lambda m, x, d, k: m.cumsum(x, d), None, False),
    "cumprod": (lambda m, x, d, k: m.cumprod(x, d), None, False),
    "sort": (lambda m, x, d, k: tuple(m.sort(x, d, descending=k)), None, False),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@HYPO
@given(data=st.data())
def test_hypothesis_reductions(name, device, data):
    fn, kinds, tuples = REDUCTIONS[name]
    arr = data.draw(_arrays(kinds or ("float32", "float64", "int64", "bool")))
    dim = data.draw(_dims(arr.ndim))
    if not tuples:
        dim = dim[0] if isinstance(dim, tuple) else (0 if dim is None else dim)
    if name == "logsumexp" and dim is None:
        dim = 0  # torch wants a dim
    keepdim = data.draw(st.booleans())
    if name in ("max", "sort") and arr.dtype.kind in "iu":
        # Distinct integers: where ties exist, torch leaves some indices unspecified.
        perm = np.random.RandomState(arr.size).permutation(arr.size) - arr.size // 2
        arr = np.asarray(perm.reshape(arr.shape), dtype=arr.dtype)
    grad = arr.dtype.kind == "f" and name not in ("all", "any", "argmin")
    tol = (1e-7, 1e-9) if arr.dtype == np.float64 else (1e-4, 1e-5)
    _check(lambda m, x: fn(m, x, dim, keepdim), arr, device, dtype=arr.dtype, grad=grad,
           rtol=tol[0], atol=tol[1], what=f"{name} {arr.dtype}{arr.shape} dim={dim} k={keepdim}")
