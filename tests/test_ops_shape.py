"""Shape functions and views against PyTorch: values, dtypes, gradients, strides and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import dtype_name, host, ours, theirs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import polytorch

RNG = np.random.RandomState(0)
A = RNG.uniform(-2, 2, size=(3, 4))
B = RNG.uniform(-2, 2, size=(2, 3, 4))
V = RNG.uniform(-2, 2, size=(4,))

# name, inputs, fn(lib, *tensors) -> tensor or tuple of tensors
CASES = [
    ("reshape", (B,), lambda m, x: x.reshape(4, -1)),
    ("view", (B,), lambda m, x: x.view(6, 4)),
    ("view_as", (A, A), lambda m, x, y: x.view_as(y.t().contiguous().t().contiguous())),
    ("flatten", (B,), lambda m, x: x.flatten(1)),
    ("flatten_fn", (B,), lambda m, x: m.flatten(x, 0, 1)),
    ("unflatten", (B,), lambda m, x: x.unflatten(2, (2, -1))),
    ("squeeze", (B,), lambda m, x: x[:, :1].squeeze()),
    ("squeeze_dims", (B,), lambda m, x: x[:1, :, :1].squeeze((0, 2))),
    ("unsqueeze", (A,), lambda m, x: x.unsqueeze(-2)),
    ("expand", (V,), lambda m, x: x.expand(3, -1)),
    ("expand_as", (V, A), lambda m, x, y: x.expand_as(y)),
    ("broadcast_to", (V,), lambda m, x: m.broadcast_to(x, (2, 3, 4))),
    ("broadcast_tensors", (A, B), lambda m, x, y: m.broadcast_tensors(x, y)),
    ("repeat", (A,), lambda m, x: x.repeat(2, 1, 3)),
    ("tile", (A,), lambda m, x: x.tile((2,))),
    ("cat", (A, B), lambda m, x, y: m.cat([x, y[0], x[:1]])),
    ("concat", (A,), lambda m, x: m.concat([x, x], dim=-1)),
    ("stack", (A,), lambda m, x: m.stack([x, x * 2], dim=1)),
    ("hstack", (A, V), lambda m, x, v: (m.hstack([x, x]), m.hstack([v, v]))),
    ("vstack", (A, V), lambda m, x, v: m.vstack([x, v])),
    ("split_int", (B,), lambda m, x: m.split(x, 3, dim=2)),
    ("split_list", (B,), lambda m, x: x.split([1, 2], 1)),
    ("chunk", (A,), lambda m, x: x.chunk(3, 1)),
    ("unbind", (A,), lambda m, x: x.unbind(1)),
    ("flip", (B,), lambda m, x: x.flip((0, 2))),
    ("fliplr", (A,), lambda m, x: m.fliplr(x)),
    ("flipud", (A,), lambda m, x: m.flipud(x)),
    ("roll", (A,), lambda m, x: (x.roll(1), x.roll((1, -1), (1, 0)))),
    ("narrow", (B,), lambda m, x: x.narrow(2, -3, 2)),
    ("select", (B,), lambda m, x: x.select(1, -1)),
    ("movedim", (B,), lambda m, x: (x.movedim(0, -1), m.moveaxis(x, (0, 1), (2, 0)))),
    ("permute", (B,), lambda m, x: x.permute(2, 0, 1)),
    ("transpose", (B,), lambda m, x: (x.transpose(0, 2), x.swapaxes(1, 2), x.swapdims(0, 1))),
    ("t", (A, V), lambda m, x, v: (x.t(), v.t())),
    ("tril", (B,), lambda m, x: (x.tril(), x.tril(1), m.tril(x, -1))),
    ("triu", (A,), lambda m, x: (x.triu(), x.triu(-1), m.triu(x, 2))),
    ("diag", (A, V), lambda m, x, v: (x.diag(), x.diag(1), m.diag(v), m.diag(v, -1))),
    ("diagonal", (B,), lambda m, x: (x.diagonal(), x.diagonal(1, 1, 2), x.diagonal(-1, 2, 0))),
    ("diagonal_scatter", (A, V), lambda m, x, v: m.diagonal_scatter(x, v[:3])),
    ("trace", (A,), lambda m, x: x.trace()),
    ("contiguous", (A,), lambda m, x: x.t().contiguous()),
]


def _flat(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _run(lib, fn, arrays, device, grad):
    if lib is torch:
        xs = [theirs(a, requires_grad=grad) for a in arrays]
    else:
        xs = [ours(a, device, requires_grad=grad) for a in arrays]
    outs = _flat(fn(lib, *xs))
    return xs, outs


def test_shape_functions_match_torch(device):
    # JAX compiles every op per shape and dtype: there, float64 (with gradients) only.
    dtypes = {"cpu": ["float64", "int64", "bool"], "cpu@jax": ["float64"]}.get(
        device, ["float64", "int64"])
    cases = CASES[::3] if device == "cpu@jax" else CASES  # the conformance suite covers the rest
    for name, arrays, fn in cases:
        for dt in dtypes:
            cast = [np.asarray(a > 0 if dt == "bool" else a * 3 if dt == "int64" else a, dtype=dt)
                    for a in arrays]
            grad = dt == "float64"
            try:
                txs, touts = _run(torch, fn, cast, device, grad)
            except NotImplementedError:  # e.g. trace of bool: PyTorch has no kernel
                continue
            xs, outs = _run(polytorch, fn, cast, device, grad)
            assert len(outs) == len(touts), name
            for o, t in zip(outs, touts):
                assert tuple(o.shape) == tuple(t.shape), (name, dt)
                assert dtype_name(o.dtype) == dtype_name(t.dtype), (name, dt)
                np.testing.assert_allclose(host(o), host(t), err_msg=f"{name} {dt}")
            if grad:
                weights = [RNG.uniform(-1, 1, size=tuple(t.shape)) for t in touts]
                loss = sum((o * ours(w, device)).sum() for o, w in zip(outs, weights))
                tloss = sum((t * theirs(w)).sum() for t, w in zip(touts, weights))
                loss.backward()
                tloss.backward()
                for x, tx in zip(xs, txs):
                    if tx.grad is None:
                        assert x.grad is None, name
                    else:
                        np.testing.assert_allclose(host(x.grad), host(tx.grad), err_msg=name)


def test_shape_results_keep_dtype_and_promote(device):
    a = ours(np.arange(3, dtype=np.int32), device)
    b = ours(np.ones(2, dtype=np.float32), device)
    assert polytorch.cat([a, b]).dtype is polytorch.float32
    empty = ours(np.zeros(0, dtype=np.float64), device)
    out = polytorch.cat([empty, ours(A.astype(np.float32), device)])
    assert out.dtype is polytorch.float64 and tuple(out.shape) == (3, 4)
    assert polytorch.stack([a, a]).dtype is polytorch.int32


def _torch_error(fn):
    try:
        fn()
    except Exception as e:  # the class PyTorch raises
        return type(e)
    return None


BAD = [
    lambda m, x: x.view(5),
    lambda m, x: x.t().view(-1),
    lambda m, x: x.reshape(-1, -1),
    lambda m, x: m.cat([x, x[:, :1].t()]),
    lambda m, x: m.cat([x, x.sum()]),
    lambda m, x: m.cat([]),
    lambda m, x: m.stack([x, x[:1]]),
    lambda m, x: x.split([1, 1], 0),
    lambda m, x: x.chunk(0),
    lambda m, x: x.narrow(1, 3, 2),
    lambda m, x: x.narrow(0, 5, 0),
    lambda m, x: x.expand(2, 3),
    lambda m, x: x.repeat(2),
    lambda m, x: x.permute(0, 0),
    lambda m, x: x.flip((0, 0)),
    lambda m, x: x.roll((1, 2), 0),
    lambda m, x: x.diagonal(0, 1, 1),
    lambda m, x: x.transpose(0, 2),
    lambda m, x: x[0].tril(),
    lambda m, x: x.unflatten(1, (3, 2)),
    lambda m, x: m.diag(x[None]),
    lambda m, x: x[0].trace(),
    lambda m, x: x.movedim((0, 0), (0, 1)),
    lambda m, x: x.select(0, 3),
    lambda m, x: m.broadcast_tensors(x, x[:2, :3]),
]


def test_bad_arguments_raise_as_torch(device):
    x = ours(A, device)
    tx = theirs(A)
    for i, fn in enumerate(BAD):
        want = _torch_error(lambda fn=fn: fn(torch, tx))
        assert want is not None, i
        with pytest.raises(want):
            fn(polytorch, x)


# -- strides, contiguity and views -------------------------------------------------------------

CHAINS = [
    lambda x: x,
    lambda x: x.t(),
    lambda x: x[:, 1:3],
    lambda x: x[::2],
    lambda x: x[:, ::2],
    lambda x: x.unsqueeze(1),
    lambda x: x.t().unsqueeze(0),
    lambda x: x[None, :, None],
    lambda x: x.reshape(2, 3, 2).permute(1, 0, 2),
    lambda x: x.reshape(2, 3, 2).transpose(0, 1)[1],
    lambda x: x[:1].expand(5, 4),
    lambda x: x.t()[1:],
    lambda x: x.diagonal(),
    lambda x: x.t().contiguous(),
    lambda x: x[:, :2].reshape(-1),
    lambda x: x[0],
    lambda x: x[:0],
]


def _significant(shape, strides):
    return tuple(s for n, s in zip(shape, strides) if n > 1)


@pytest.mark.parametrize("new_shape", [(-1,), (4, 3), (2, 2, 3), (3, 2, 2)])
def test_strides_contiguity_and_view_match_torch(device, new_shape):
    x = ours(np.arange(12.0).reshape(3, 4), device)
    tx = theirs(np.arange(12.0).reshape(3, 4))
    for i, chain in enumerate(CHAINS):
        y, ty = chain(x), chain(tx)
        assert y.is_contiguous() == ty.is_contiguous(), i
        assert _significant(y.shape, y.stride()) == _significant(ty.shape, ty.stride()), i
        shape = new_shape if ty.numel() == 12 else (-1,)
        err = _torch_error(lambda ty=ty, shape=shape: ty.view(shape))
        if err is None:
            v = y.view(shape)
            np.testing.assert_array_equal(host(v), host(ty.view(shape)))
        else:
            with pytest.raises(err, match="view size is not compatible"):
                y.view(shape)
            np.testing.assert_array_equal(host(y.reshape(shape)), host(ty.reshape(shape)))


def test_writes_through_views(device):
    def run(lib, make):
        x = make(np.arange(12.0).reshape(3, 4))
        c = x.t().contiguous()  # contiguous in PyTorch; maybe Fortran-ordered in NumPy
        c.view(-1)[0] = 100.0
        x.diagonal().fill_(-1.0)
        x.diagonal(1).mul_(10.0)
        x.split([1, 2])[1][0, 0] = 7.0
        x.unbind(1)[3].add_(1.0)
        x.narrow(1, 1, 2).t()[0] = 5.0
        r = x.t().reshape(-1)  # a copy: writes stay there
        r[0] = 1000.0
        u = x.unsqueeze(0).squeeze(0)
        u[2, 2] = 42.0
        return x, c

    ours_x, ours_c = run(polytorch, lambda a: ours(a, device))
    torch_x, torch_c = run(torch, theirs)
    np.testing.assert_array_equal(host(ours_x), host(torch_x))
    np.testing.assert_array_equal(host(ours_c), host(torch_c))


def test_write_through_diagonal_view_is_differentiable(device):
    def run(lib, make):
        w = make(A, requires_grad=True)
        y = w * 2
        y.diagonal().mul_(make(np.array([1.0, 2.0, 3.0])))
        (y * make(np.arange(12.0).reshape(3, 4))).sum().backward()
        return y, w.grad

    y, g = run(polytorch, lambda a, requires_grad=False: ours(a, device, requires_grad))
    ty, tg = run(torch, theirs)
    np.testing.assert_allclose(host(y), host(ty))
    np.testing.assert_allclose(host(g), host(tg))


# -- property tests: random shapes and patterns --------------------------------------------------

_SETTINGS = settings(max_examples=8, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def _pattern(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    ops = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["reshape", "permute", "split", "cat", "flip", "slice"]))
        ops.append((kind, draw(st.integers(0, 10**6))))
    return shape, ops


def _apply(lib, x, ops):
    for kind, seed in ops:
        r = np.random.RandomState(seed)
        if kind == "reshape":
            n = x.numel()
            divisors = [d for d in range(1, n + 1) if n % d == 0]
            d = int(r.choice(divisors))
            x = x.reshape(d, -1) if r.rand() < 0.5 else x.reshape(-1, d)
        elif kind == "permute":
            x = x.permute(*r.permutation(x.ndim).tolist())
        elif kind == "split":
            dim = int(r.randint(x.ndim))
            pieces = x.split(int(r.randint(1, x.shape[dim] + 1)), dim)
            x = pieces[int(r.randint(len(pieces)))]
        elif kind == "cat":
            dim = int(r.randint(x.ndim))
            x = lib.cat([x, x.flip(dim) * 2], dim)
        elif kind == "flip":
            x = x.flip(int(r.randint(x.ndim)))
        else:
            dim = int(r.randint(x.ndim))
            start = int(r.randint(x.shape[dim]))
            x = x.narrow(dim, start, x.shape[dim] - start)
    return x


@pytest.mark.parametrize("device_", ["cpu", "cpu@jax"])
def test_random_shape_patterns_match_torch(device_):
    @settings(_SETTINGS, max_examples=8 if device_ == "cpu" else 3)
    @given(_pattern())
    def check(case):
        shape, ops = case
        data = np.random.RandomState(1).uniform(-1, 1, size=shape)
        x = ours(data, device_, requires_grad=True)
        tx = theirs(data, requires_grad=True)
        y, ty = _apply(polytorch, x, ops), _apply(torch, tx, ops)
        assert tuple(y.shape) == tuple(ty.shape)
        assert y.is_contiguous() == ty.is_contiguous()
        np.testing.assert_allclose(host(y), host(ty))
        w = np.random.RandomState(2).uniform(-1, 1, size=tuple(ty.shape))
        (y * ours(w, device_)).sum().backward()
        (ty * theirs(w)).sum().backward()
        np.testing.assert_allclose(host(x.grad), host(tx.grad))

    check()
