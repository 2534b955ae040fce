"""Linear algebra against PyTorch (the oracle) and NumPy: values, dtypes, gradients, errors.

Factors that are unique only up to signs (eigenvectors, singular vectors) are
compared through sign-free quantities; gradients of decompositions are taken
of such quantities, and of a symmetrized input where the op reads one triangle.
Few shapes are used, since JAX compiles once per shape.
"""

from __future__ import annotations

import string
import warnings

import numpy as np
import pytest
import torch
from helpers import host
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import polytorch
from polytorch.linalg import LinAlgError

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
TOL = {"float32": dict(rtol=2e-4, atol=2e-4), "float64": dict(rtol=1e-9, atol=1e-9)}


def _sample(device, cases, every):
    """Every ``every``-th case on JAX, which compiles each op once per shape and dtype (slow);
    the conformance suite covers each op there in full."""
    return cases[::every] if "jax" in device else cases


_JAX_EXAMPLES: dict = {}


def _few_on_jax(device, test: str, n: int = 3) -> bool:
    """Whether a hypothesis example runs: all of them, but only ``n`` per test on JAX."""
    if "jax" not in device:
        return True
    _JAX_EXAMPLES[test] = _JAX_EXAMPLES.get(test, 0) + 1
    return _JAX_EXAMPLES[test] <= n


def _lib(x):
    return torch if isinstance(x, torch.Tensor) else polytorch


def _pair(arr, device, dtype="float64"):
    arr = np.asarray(arr, dtype=dtype)
    return (polytorch.tensor(arr, device=device, requires_grad=True),
            torch.tensor(arr, requires_grad=True))


def _compare(fn, arrays, device, dtype="float64", grad=True, seed=0):
    """``fn(lib_tensors...)`` on polytorch and torch: values, dtypes and gradients."""
    ours, theirs = zip(*(_pair(a, device, dtype) for a in arrays))
    out_o, out_t = fn(*ours), fn(*theirs)
    if not isinstance(out_o, tuple):
        out_o, out_t = (out_o,), (out_t,)
    tol = TOL[dtype]
    for o, t in zip(out_o, out_t):
        assert str(o.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        assert tuple(o.shape) == tuple(t.shape), (o.shape, t.shape)
        np.testing.assert_allclose(host(o), host(t), **tol)
    if not grad:
        return
    rng = np.random.RandomState(seed)
    loss_o = loss_t = 0
    for o, t in zip(out_o, out_t):
        if not t.requires_grad:
            continue
        w = rng.uniform(-1, 1, size=tuple(t.shape))
        loss_o = loss_o + (o * polytorch.tensor(w, dtype=o.dtype, device=device)).sum()
        loss_t = loss_t + (t * torch.tensor(w, dtype=t.dtype)).sum()
    loss_o.backward()
    loss_t.backward()
    for a, b in zip(ours, theirs):
        if b.grad is None:
            assert a.grad is None or not np.any(host(a.grad))
            continue
        np.testing.assert_allclose(host(a.grad), host(b.grad), **tol)


def _well(rng, *shape):
    n = shape[-1]
    return rng.uniform(-1, 1, size=shape) + n * np.eye(n)


def _spd(rng, *shape):
    m = rng.uniform(-1, 1, size=shape)
    return m @ np.swapaxes(m, -1, -2) + shape[-1] * np.eye(shape[-1])


# -- decompositions ----------------------------------------------------------------------------


def _eigh(a, UPLO="L"):
    w, v = _lib(a).linalg.eigh(a + a.mT, UPLO=UPLO)
    return w, v * v


def _svd(a, full=False):
    u, s, vh = _lib(a).linalg.svd(a, full_matrices=full)
    k = s.shape[-1]
    return u[..., :k] * u[..., :k], s, vh[..., :k, :] * vh[..., :k, :]


def _qr(a, mode="reduced"):
    return tuple(_lib(a).linalg.qr(a, mode=mode))


DECOMPOSITIONS = [
    ("inv", lambda a: _lib(a).linalg.inv(a), _well),
    ("inverse", lambda a: a.inverse(), _well),
    ("det", lambda a: _lib(a).linalg.det(a), _well),
    ("det method", lambda a: a.det(), _well),
    ("slogdet", lambda a: tuple(_lib(a).linalg.slogdet(a)), _well),
    ("logdet", lambda a: a.logdet(), _spd),
    ("cholesky", lambda a: _lib(a).linalg.cholesky(a + a.mT), _spd),
    ("cholesky upper", lambda a: _lib(a).linalg.cholesky(a + a.mT, upper=True), _spd),
    ("eigh", _eigh, _spd),
    ("eigh U", lambda a: _eigh(a, "U"), _spd),
    ("eigvalsh", lambda a: _lib(a).linalg.eigvalsh(a + a.mT), _spd),
    ("qr", _qr, _well),
    ("qr complete", lambda a: _qr(a, "complete"), _well),
    ("svd", _svd, _well),
    ("svdvals", lambda a: _lib(a).linalg.svdvals(a), _well),
    ("pinv", lambda a: _lib(a).linalg.pinv(a), _well),
    ("pinv hermitian", lambda a: _lib(a).linalg.pinv(a + a.mT, hermitian=True), _spd),
    ("matrix_power -2", lambda a: _lib(a).linalg.matrix_power(a, -2), _well),
    ("matrix_power 3", lambda a: a.matrix_power(3), _well),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_decompositions_match_torch(device, dtype):
    if "jax" in device and dtype == "float32":
        pytest.skip("JAX: float64 only, to keep compile time down (conformance runs float32)")
    rng = np.random.RandomState(0)
    for name, fn, make in _sample(device, DECOMPOSITIONS, 4):
        for shape in [(3, 3), (2, 3, 3)][("jax" in device):]:
            try:
                _compare(fn, [make(rng, *shape)], device, dtype)
            except AssertionError as e:
                raise AssertionError(f"{name} {shape}: {e}") from None


RECTANGULAR = [
    ("qr", _qr),
    ("qr r", lambda a: _lib(a).linalg.qr(a, mode="r")[1]),
    ("svd", _svd),
    ("svd full", lambda a: _svd(a, True)),
    ("svdvals", lambda a: _lib(a).linalg.svdvals(a)),
    ("pinv", lambda a: _lib(a).linalg.pinv(a)),
    ("lstsq", lambda a: _lib(a).linalg.lstsq(a, a.sum(-1, keepdim=True)).solution),
]


def test_rectangular_match_torch(device):
    rng = np.random.RandomState(1)
    for name, fn in _sample(device, RECTANGULAR, 4):
        for shape in [(4, 3), (3, 4)]:
            if name in ("qr r", "lstsq") and shape == (3, 4):
                continue  # PyTorch: no gradient through mode='r'; lstsq needs full rank
            if name == "svd full" and shape == (3, 4):
                continue
            try:
                _compare(fn, [rng.uniform(-2, 2, size=shape)], device, "float64",
                         grad=name != "qr r")
            except AssertionError as e:
                raise AssertionError(f"{name} {shape}: {e}") from None


def test_reconstructions(device):
    """The factors multiply back to the input, and the vectors are orthonormal."""
    rng = np.random.RandomState(2)
    a = polytorch.tensor(rng.randn(2, 4, 3), device=device)
    s = polytorch.tensor(_spd(rng, 2, 3, 3), device=device)
    eye3 = np.eye(3)
    u, sv, vh = polytorch.linalg.svd(a, full_matrices=False)
    np.testing.assert_allclose(host((u * sv.unsqueeze(-2)) @ vh), host(a), atol=1e-12)
    U, _, _ = polytorch.linalg.svd(a)
    np.testing.assert_allclose(host(U.mT @ U), np.broadcast_to(np.eye(4), (2, 4, 4)), atol=1e-12)
    q, r = polytorch.linalg.qr(a)
    np.testing.assert_allclose(host(q @ r), host(a), atol=1e-12)
    assert np.allclose(np.tril(host(r), -1), 0)
    w, v = polytorch.linalg.eigh(s)
    np.testing.assert_allclose(host((v * w.unsqueeze(-2)) @ v.mT), host(s), atol=1e-12)
    np.testing.assert_allclose(host(v.mT @ v), np.broadcast_to(eye3, (2, 3, 3)), atol=1e-12)
    L = polytorch.linalg.cholesky(s)
    np.testing.assert_allclose(host(L @ L.mT), host(s), atol=1e-12)


def test_solve_matches_torch(device):
    rng = np.random.RandomState(3)
    A = _well(rng, 2, 3, 3)
    cases = [((2, 3, 2), True), ((3,), True), ((2, 3), True), ((3, 2), True),
             ((2, 1, 3, 2), True), ((2, 3), False), ((2, 2, 3), False)]
    for b_shape, left in _sample(device, cases, 3):
        B = rng.randn(*b_shape)
        if not left and b_shape == (2, 3):
            _compare(lambda a, b: _lib(a).linalg.solve(a, b, left=False), [A[0], B], device)
        else:
            _compare(lambda a, b, left=left: _lib(a).linalg.solve(a, b, left=left), [A, B],
                     device)


def test_second_derivatives_match_torch(device):
    """Gradient rules are written in polytorch ops: double backward works and is PyTorch's."""
    rng = np.random.RandomState(4)
    a = _spd(rng, 3, 3)
    for fn in _sample(device, [lambda x: _lib(x).linalg.inv(x).sum(),
                               lambda x: _lib(x).linalg.det(x),
                               lambda x: _lib(x).linalg.cholesky(x + x.mT).sum(),
                               lambda x: _lib(x).linalg.eigvalsh(x + x.mT).pow(2).sum()], 2):
        (xo, xt) = _pair(a, device)
        (go,) = polytorch.autograd.grad(fn(xo), xo, create_graph=True)
        (gt,) = torch.autograd.grad(fn(xt), xt, create_graph=True)
        (go * go).sum().backward()
        (gt * gt).sum().backward()
        np.testing.assert_allclose(host(xo.grad), host(xt.grad), rtol=1e-8, atol=1e-8)


# -- products --------------------------------------------------------------------------------


def _chain_matmul(*ms):
    if _lib(ms[0]) is torch:  # PyTorch warns once per process
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.chain_matmul(*ms)
    with pytest.warns(UserWarning, match="chain_matmul is deprecated"):
        return polytorch.chain_matmul(*ms)


PRODUCTS = [
    ("mm", lambda a, b: _lib(a).mm(a, b), [(2, 3), (3, 4)]),
    ("bmm", lambda a, b: a.bmm(b), [(2, 2, 3), (2, 3, 4)]),
    ("mv", lambda a, b: _lib(a).mv(a, b), [(2, 3), (3,)]),
    ("dot", lambda a, b: a.dot(b), [(3,), (3,)]),
    ("vdot", lambda a, b: _lib(a).vdot(a, b), [(3,), (3,)]),
    ("inner", lambda a, b: _lib(a).inner(a, b), [(2, 3), (4, 3)]),
    ("inner 0-d", lambda a, b: _lib(a).inner(a, b), [(), (2, 3)]),
    ("outer", lambda a, b: _lib(a).outer(a, b), [(3,), (4,)]),
    ("ger", lambda a, b: a.ger(b), [(3,), (4,)]),
    ("addmm", lambda c, a, b: _lib(a).addmm(c, a, b, beta=0.5, alpha=2), [(4,), (2, 3), (3, 4)]),
    ("addmm method", lambda c, a, b: c.addmm(a, b), [(2, 4), (2, 3), (3, 4)]),
    ("addmv", lambda c, a, b: _lib(a).addmv(c, a, b, alpha=-1), [(2,), (2, 3), (3,)]),
    ("baddbmm", lambda c, a, b: _lib(a).baddbmm(c, a, b, beta=2), [(1, 4), (2, 2, 3), (2, 3, 4)]),
    ("tensordot 2", lambda a, b: _lib(a).tensordot(a, b), [(2, 3, 4), (3, 4, 2)]),
    ("tensordot 0", lambda a, b: _lib(a).tensordot(a, b, dims=0), [(2, 3), (4,)]),
    ("tensordot lists", lambda a, b: _lib(a).tensordot(a, b, dims=([0, 2], [2, 1])),
     [(2, 3, 4), (3, 4, 2)]),
    ("tensordot ints", lambda a, b: _lib(a).tensordot(a, b, dims=([-1], [0])), [(2, 3), (3, 2)]),
    ("kron", lambda a, b: _lib(a).kron(a, b), [(2, 3), (3, 2)]),
    ("kron ndim", lambda a, b: a.kron(b), [(2,), (2, 2, 3)]),
    ("cross", lambda a, b: _lib(a).cross(a, b, dim=0), [(3, 2), (3, 2)]),
    ("linalg.cross", lambda a, b: _lib(a).linalg.cross(a, b), [(1, 3), (4, 3)]),
    ("matrix_power 0", lambda a: _lib(a).matrix_power(a, 0), [(2, 3, 3)]),
    ("multi_dot", lambda a, b, c: _lib(a).linalg.multi_dot([a, b, c]), [(3,), (3, 4), (4, 2)]),
    ("multi_dot 4", lambda a, b, c, d: _lib(a).linalg.multi_dot((a, b, c, d)),
     [(2, 3), (3, 1), (1, 4), (4, 2)]),
    ("chain_matmul", lambda a, b, c: _chain_matmul(a, b, c), [(2, 3), (3, 1), (1, 4)]),
    ("vecdot", lambda a, b: _lib(a).linalg.vecdot(a, b, dim=0), [(3, 2), (3, 1)]),
    ("linalg.matmul", lambda a, b: _lib(a).linalg.matmul(a, b), [(2, 1, 2, 3), (3, 3, 2)]),
    ("matmul vec", lambda a, b: a @ b, [(3,), (2, 3, 4)]),
    ("matmul empty", lambda a, b: a @ b, [(2, 0), (0, 3)]),
]


def test_products_match_torch(device):
    rng = np.random.RandomState(5)
    for name, fn, shapes in _sample(device, PRODUCTS, 4):
        for dtype in ("float32", "float64")[("jax" in device):]:
            arrays = [rng.uniform(-2, 2, size=s) for s in shapes]
            try:
                _compare(fn, arrays, device, dtype)
            except AssertionError as e:
                raise AssertionError(f"{name} {dtype}: {e}") from None


def test_integer_products_and_promotion(device):
    a = np.arange(6).reshape(2, 3)
    b = np.arange(12).reshape(3, 4) - 5
    for fn in [lambda x, y: _lib(x).mm(x, y), lambda x, y: _lib(x).tensordot(x, y, dims=1),
               lambda x, y: _lib(x).einsum("ij,jk->ki", x, y),
               lambda x, y: _lib(x).kron(x, y.double()),
               lambda x, y: _lib(x).outer(x[0], y[0].float())]:
        o = fn(polytorch.tensor(a, device=device), polytorch.tensor(b, device=device))
        t = fn(torch.tensor(a), torch.tensor(b))
        assert str(o.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        np.testing.assert_array_equal(host(o), host(t))


def test_addmm_beta_zero_ignores_nan_and_inplace(device):
    c = polytorch.full((2, 2), float("nan"), device=device)
    a = polytorch.ones(2, 3, device=device)
    out = polytorch.addmm(c, a, a.mT, beta=0)
    np.testing.assert_array_equal(host(out), np.full((2, 2), 3.0))
    x = polytorch.zeros(2, 2, device=device, requires_grad=True)
    y = x * 1
    w = polytorch.ones(2, 3, device=device, requires_grad=True)
    y.addmm_(w, w.mT, alpha=2)
    np.testing.assert_array_equal(host(y), np.full((2, 2), 6.0))
    y.sum().backward()
    np.testing.assert_array_equal(host(w.grad), np.full((2, 3), 8.0))
    np.testing.assert_array_equal(host(x.grad), np.ones((2, 2)))


def test_cross_without_dim_warns(device):
    a = polytorch.tensor(np.eye(3), device=device)
    with pytest.warns(UserWarning, match="without specifying the dim"):
        out = polytorch.cross(a, a.flip(0) if hasattr(a, "flip") else a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.cross(torch.eye(3, dtype=torch.float64),
                        torch.eye(3, dtype=torch.float64).flip(0) if hasattr(a, "flip") else
                        torch.eye(3, dtype=torch.float64))
    np.testing.assert_allclose(host(out), host(t))


# -- norms -----------------------------------------------------------------------------------

INF = float("inf")
VECTOR_NORMS = [dict(), dict(ord=1), dict(ord=INF, dim=1), dict(ord=-INF, dim=(0, 1)),
                dict(ord=3, dim=0, keepdim=True), dict(ord=0.5), dict(ord=-2, dim=-1),
                dict(ord=0, dim=1)]
MATRIX_NORMS = ["fro", "nuc", 1, -1, 2, -2, INF, -INF]


def test_norms_match_torch(device):
    rng = np.random.RandomState(6)
    x = rng.permutation(24).reshape(2, 3, 4) / 7.0 - 1.6  # no zeros, no ties
    for kw in _sample(device, VECTOR_NORMS, 4):
        _compare(lambda a, kw=kw: _lib(a).linalg.vector_norm(a, **kw), [x], device)
    for i, ord in enumerate(_sample(device, MATRIX_NORMS, 4)):
        if i % 2 == 0:
            _compare(lambda a, o=ord: _lib(a).linalg.matrix_norm(a, o), [x], device)
        else:
            _compare(lambda a, o=ord: _lib(a).linalg.matrix_norm(a, o, dim=(2, 0), keepdim=True),
                     [x], device)
    for kw in _sample(device, [dict(), dict(ord=2, dim=1), dict(ord="nuc", dim=(0, 2)),
                               dict(dim=(1, 2)), dict(ord=INF, dim=(-1, 0), keepdim=True)], 2):
        _compare(lambda a, kw=kw: _lib(a).linalg.norm(a, **kw), [x], device)
    if "jax" in device:
        return
    _compare(lambda a: _lib(a).linalg.norm(a[0], ord=1), [x], device)
    _compare(lambda a: _lib(a).linalg.norm(a[0, 0], ord=INF), [x], device)
    _compare(lambda a: _lib(a).linalg.vector_norm(a, dtype=_lib(a).float64), [x], device,
             dtype="float32")


def test_norm_gradient_at_zero_and_ties(device):
    """PyTorch's conventions: zero gradient at a zero norm, ties share an inf-norm gradient."""
    z = np.zeros((2, 3))
    for kw in _sample(device, [dict(), dict(ord=1), dict(ord=3, dim=1), dict(ord=0.5, dim=0)], 2):
        _compare(lambda a, kw=kw: _lib(a).linalg.vector_norm(a, **kw), [z], device)
    ties = np.array([[1.0, -3.0, 3.0], [2.0, 2.0, -1.0]])
    for kw in _sample(device, [dict(ord=INF), dict(ord=-INF, dim=1), dict(ord=INF, dim=0)], 2):
        _compare(lambda a, kw=kw: _lib(a).linalg.vector_norm(a, **kw), [ties], device)


def test_lstsq_and_matrix_rank(device):
    rng = np.random.RandomState(7)
    A = rng.randn(2, 5, 3)
    B = rng.randn(2, 5, 2)
    ours = polytorch.linalg.lstsq(polytorch.tensor(A, device=device),
                                  polytorch.tensor(B, device=device))
    theirs = torch.linalg.lstsq(torch.tensor(A), torch.tensor(B))
    assert ours._fields == ("solution", "residuals", "rank", "singular_values")
    for o, t in zip(ours, theirs):
        assert tuple(o.shape) == tuple(t.shape) and o.dtype.name == str(t.dtype)[6:]
        np.testing.assert_allclose(host(o), host(t), rtol=1e-9, atol=1e-9)
    low = A[0] @ np.diag([1.0, 1.0, 0.0]) @ rng.randn(3, 3)
    for M, kw in [(low, {}), (A, {}), (A, dict(atol=1.5)), (A, dict(rtol=0.3)),
                  (_spd(rng, 3, 3), dict(hermitian=True))]:
        o = polytorch.linalg.matrix_rank(polytorch.tensor(M, device=device), **kw)
        t = torch.linalg.matrix_rank(torch.tensor(M), **kw)
        assert o.dtype is polytorch.int64
        np.testing.assert_array_equal(host(o), host(t))


# -- errors ------------------------------------------------------------------------------------


def _same_error(call, *arrays, device, dtypes=None):
    dtypes = dtypes or ["float32"] * len(arrays)
    ours = [polytorch.tensor(np.asarray(a, d), device=device) for a, d in zip(arrays, dtypes)]
    theirs = [torch.tensor(np.asarray(a, d)) for a, d in zip(arrays, dtypes)]
    with pytest.raises(Exception) as t_exc:
        call(*theirs)
    expected = LinAlgError if isinstance(t_exc.value, torch.linalg.LinAlgError) else \
        type(t_exc.value)
    with pytest.raises(expected) as o_exc:
        call(*ours)
    assert str(o_exc.value).splitlines()[0] == str(t_exc.value).splitlines()[0]


def test_ill_conditioned_input_raises_linalg_error(device):
    assert issubclass(LinAlgError, RuntimeError)
    singular = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 1.0]])
    batch = np.stack([np.eye(3), singular])
    not_pd = np.stack([np.eye(3), np.diag([1.0, -1.0, 1.0])])
    L = torch.linalg
    _same_error(lambda a: _lib(a).linalg.inv(a), np.zeros((3, 3)), device=device)
    _same_error(lambda a: _lib(a).linalg.inv(a), batch, device=device)
    _same_error(lambda a, b: _lib(a).linalg.solve(a, b), singular, np.ones(3), device=device)
    _same_error(lambda a: _lib(a).linalg.cholesky(a), not_pd, device=device)
    _same_error(lambda a: _lib(a).linalg.cholesky(a, upper=True), -np.eye(2), device=device)
    assert L is torch.linalg


BAD_CALLS = [
    (lambda a, b: _lib(a).mm(a, b), [(3,), (3, 3)]),
    (lambda a, b: _lib(a).mm(a, b), [(2, 3), (4, 3)]),
    (lambda a, b: _lib(a).bmm(a, b), [(2, 3, 4), (3, 4, 3)]),
    (lambda a, b: _lib(a).mv(a, b), [(3, 4), (3,)]),
    (lambda a, b: _lib(a).dot(a, b), [(3,), (4,)]),
    (lambda a, b: _lib(a).dot(a, b), [(3, 1), (3,)]),
    (lambda a, b: _lib(a).inner(a, b), [(2, 3), (4,)]),
    (lambda a, b: _lib(a).outer(a, b), [(2, 3), (4,)]),
    (lambda c, a, b: _lib(a).addmm(c, a, b), [(3,), (2,), (3, 3)]),
    (lambda c, a, b: _lib(a).addmv(c, a, b), [(3,), (2, 3), (3,)]),
    (lambda c, a, b: _lib(a).baddbmm(c, a, b), [(4,), (2, 2, 3), (3, 3, 4)]),
    (lambda a, b: _lib(a).tensordot(a, b, dims=1), [(2, 3), (4, 5)]),
    (lambda a, b: _lib(a).tensordot(a, b, dims=3), [(2, 3), (3, 5)]),
    (lambda a, b: _lib(a).tensordot(a, b, dims=([1, 0], [0])), [(2, 3), (3, 5)]),
    (lambda a, b: _lib(a).cross(a, b, dim=1), [(2, 4), (2, 4)]),
    (lambda a, b: _lib(a).linalg.cross(a, b), [(4, 3), (2, 3)]),
    (lambda a, b: _lib(a).linalg.cross(a, b), [(4, 3), (3,)]),
    (lambda a: _lib(a).matrix_power(a, 2), [(2, 3)]),
    (lambda a: _lib(a).linalg.inv(a), [(2, 3)]),
    (lambda a: _lib(a).linalg.inv(a), [(3,)]),
    (lambda a: _lib(a).linalg.det(a), [(2, 3)]),
    (lambda a: _lib(a).linalg.cholesky(a), [(2, 3)]),
    (lambda a: _lib(a).linalg.eigh(a, UPLO="X"), [(3, 3)]),
    (lambda a: _lib(a).linalg.qr(a, mode="x"), [(3, 3)]),
    (lambda a: _lib(a).linalg.svd(a), [(3,)]),
    (lambda a: _lib(a).linalg.pinv(a), [(3,)]),
    (lambda a, b: _lib(a).linalg.solve(a, b), [(3, 3), (4,)]),
    (lambda a, b: _lib(a).linalg.solve(a, b), [(3, 3), (2, 3)]),
    (lambda a, b: _lib(a).linalg.lstsq(a, b), [(4, 3), (3, 2)]),
    (lambda a: _lib(a).linalg.vector_norm(a, ord=INF), [(0,)]),
    (lambda a: _lib(a).linalg.vector_norm(a, ord=-1, dim=0), [(0, 3)]),
    (lambda a: _lib(a).linalg.matrix_norm(a), [(3,)]),
    (lambda a: _lib(a).linalg.matrix_norm(a, ord=3), [(3, 3)]),
    (lambda a: _lib(a).linalg.matrix_norm(a, ord="abc"), [(3, 3)]),
    (lambda a: _lib(a).linalg.norm(a, ord=2), [(2, 3, 4)]),
    (lambda a: _lib(a).linalg.norm(a, dim=(0, 1, 2)), [(2, 3, 4)]),
    (lambda a: _lib(a).linalg.multi_dot([a]), [(3,)]),
    (lambda a, b: _lib(a).linalg.multi_dot([a, b]), [(3, 3), (2, 4)]),
    (lambda a, b, c: _lib(a).linalg.multi_dot([a, b, c]), [(3,), (2, 3, 4), (4,)]),
    (lambda a, b: _lib(a).einsum("ij,jk", a, b), [(2, 3), (4, 5)]),
    (lambda a: _lib(a).einsum("ij,jk->", a), [(2, 3)]),
    (lambda a, b: _lib(a).einsum("ijk,jk->", a, b), [(2, 3), (3, 4)]),
    (lambda a, b: _lib(a).einsum("ij,jk->iz", a, b), [(2, 3), (3, 4)]),
    (lambda a, b: _lib(a).einsum("ij,jk->ii", a, b), [(2, 3), (3, 4)]),
    (lambda a: _lib(a).einsum("ii->i", a), [(2, 3)]),
    (lambda a: _lib(a).einsum("i1", a), [(2,)]),
]


def test_bad_shapes_raise_pytorchs_errors(device):
    for call, shapes in _sample(device, BAD_CALLS, 2):
        _same_error(call, *(np.ones(s) for s in shapes), device=device)


def test_bad_dtypes_raise_pytorchs_errors(device):
    f, i = "float32", "int64"
    for call, shapes, dts in [
        (lambda a, b: _lib(a).mm(a, b), [(2, 3), (3, 3)], [f, i]),
        (lambda a, b: _lib(a).bmm(a, b), [(2, 3, 4), (2, 4, 3)], [f, i]),
        (lambda a, b: _lib(a).dot(a, b), [(3,), (3,)], [f, i]),
        (lambda a, b: _lib(a).inner(a, b), [(2, 3), (3,)], [f, i]),
        (lambda a, b: _lib(a).tensordot(a, b, dims=1), [(2, 3), (3, 5)], [f, i]),
        (lambda a, b: _lib(a).linalg.solve(a, b), [(3, 3), (3,)], [f, i]),
        (lambda a, b: _lib(a).linalg.vecdot(a, b), [(3, 4), (4,)], [f, i]),
        (lambda a, b: _lib(a).einsum("ij,jk->i", a, b), [(2, 3), (3, 4)], [f, i]),
        (lambda a: _lib(a).linalg.inv(a), [(3, 3)], [i]),
        (lambda a: _lib(a).linalg.det(a), [(3, 3)], [i]),
        (lambda a: _lib(a).linalg.vector_norm(a), [(3,)], [i]),
        (lambda a: _lib(a).linalg.matrix_rank(a), [(3, 3)], [i]),
        (lambda a: _lib(a).matrix_power(a, -1), [(3, 3)], [i]),
    ]:
        _same_error(call, *(np.ones(s) for s in shapes), device=device, dtypes=dts)


def test_empty_matrices(device):
    for fn, shape in [(lambda a: _lib(a).linalg.inv(a), (0, 0)),
                      (lambda a: _lib(a).linalg.det(a), (2, 0, 0)),
                      (lambda a: tuple(_lib(a).linalg.slogdet(a)), (2, 0, 0)),
                      (lambda a: _lib(a).linalg.svdvals(a), (0, 3)),
                      (lambda a: _lib(a).linalg.matrix_norm(a, "nuc"), (0, 3)),
                      (lambda a: _lib(a).linalg.vector_norm(a), (0, 3)),
                      (lambda a: a @ a.mT, (0, 3))]:
        _compare(fn, [np.zeros(shape)], device, grad=False)


# -- einsum, tensordot and matmul: random shapes --------------------------------------------------


@st.composite
def einsum_cases(draw):
    letters = draw(st.lists(st.sampled_from(string.ascii_letters[:6]), min_size=1, max_size=4,
                            unique=True))
    sizes = {c: draw(st.integers(1, 3)) for c in letters}
    n_ops = draw(st.integers(1, 3))
    terms = []
    for _ in range(n_ops):
        term = draw(st.lists(st.sampled_from(letters), min_size=0, max_size=3))
        terms.append("".join(term))
    used = sorted(set("".join(terms)))
    if draw(st.booleans()):
        out = "".join(draw(st.permutations(used))[:draw(st.integers(0, len(used)))])
        eq = ",".join(terms) + "->" + out
    else:
        eq = ",".join(terms)
    ellipsis = draw(st.booleans()) and "->" not in eq
    shapes = []
    for t in terms:
        shape = [sizes[c] for c in t]
        if ellipsis:
            shape = [2] + shape
        shapes.append(tuple(shape))
    if ellipsis:
        eq = ",".join("..." + t for t in terms)
    seed = draw(st.integers(0, 2**16))
    return eq, shapes, seed


@settings(max_examples=15, **SETTINGS)
@given(case=einsum_cases())
def test_einsum_random_equations(device, case):
    if not _few_on_jax(device, "einsum"):
        return
    eq, shapes, seed = case
    rng = np.random.RandomState(seed)
    arrays = [rng.uniform(-1, 1, size=s) for s in shapes]
    _compare(lambda *ops: _lib(ops[0]).einsum(eq, *ops), arrays, device)


@settings(max_examples=15, **SETTINGS)
@given(sa=st.lists(st.integers(1, 3), min_size=1, max_size=3),
       extra=st.lists(st.integers(1, 3), min_size=0, max_size=2),
       n=st.integers(0, 2), lists=st.booleans())
def test_tensordot_random_shapes(device, sa, extra, n, lists):
    if not _few_on_jax(device, "tensordot"):
        return
    n = min(n, len(sa))
    sb = sa[len(sa) - n:] + extra
    rng = np.random.RandomState(len(sa) * 7 + n)
    a, b = rng.randn(*sa), rng.randn(*sb)
    dims = ([list(range(len(sa) - n, len(sa))), list(range(n))] if lists else n)
    _compare(lambda x, y: _lib(x).tensordot(x, y, dims=dims), [a, b], device)


@settings(max_examples=15, **SETTINGS)
@given(ba=st.lists(st.sampled_from([1, 2]), max_size=2),
       bb=st.lists(st.sampled_from([1, 2]), max_size=2),
       vec_a=st.booleans(), vec_b=st.booleans())
def test_matmul_random_batches(device, ba, bb, vec_a, vec_b):
    if not _few_on_jax(device, "matmul"):
        return
    sa = [3] if vec_a else ba + [2, 3]
    sb = [3] if vec_b else bb + [3, 2]
    rng = np.random.RandomState(len(ba) + 3 * len(bb))
    _compare(lambda x, y: x @ y, [rng.randn(*sa), rng.randn(*sb)], device)


def test_linalg_diagonal(device):
    x = np.random.RandomState(8).randn(2, 3, 4)
    for kw in [dict(), dict(offset=1), dict(offset=-1, dim1=0, dim2=2)]:
        _compare(lambda a, kw=kw: _lib(a).linalg.diagonal(a, **kw), [x], device)
