"""Op specs for linear algebra (polytorch.linalg too) (Note [One spec per op] in _specs.py).

Import the tools from ``._specs`` (``OpSpec``, ``Sample``, ``NonContig``, the
sample builders and dtype rules) and list this family's records in ``SPECS``.

Calls go through ``_lib(x)``, the library ``x`` belongs to, so that the same
call runs on polytorch tensors and on torch tensors (the oracle of
tests/test_conformance.py) without importing torch here. Decompositions whose
factors are unique only up to signs (eigenvectors, singular vectors) are
compared through quantities the signs do not change, and their gradchecks
differentiate such quantities of a symmetrized input (Note [Which triangle a
Hermitian solver reads] in polytorch/ops/linalg.py).
"""

from __future__ import annotations

import sys

import numpy as np

import polytorch

from ._specs import FLOATS, NUMERIC, NonContig, OpSpec, Sample, _draw, same

_LINALG_TOL = {polytorch.float32: (1e-4, 1e-4), polytorch.float64: (1e-7, 1e-7)}


def _lib(x):
    """``torch`` for a torch tensor, else ``polytorch``."""
    root = type(x).__module__.split(".")[0]
    return sys.modules[root] if root == "torch" else polytorch


def _eye_like(x, n):
    return _lib(x).eye(n, dtype=x.dtype, device=x.device)


def _sym(a):
    return a + a.mT


# -- sample matrices ---------------------------------------------------------------------------


def _well(rng, shape, dt):
    """Well-conditioned square matrices: random entries plus ``n`` on the diagonal."""
    n = shape[-1]
    m = rng.uniform(-1, 1, size=shape) + n * np.eye(n)
    return np.asarray(m, dtype=dt.name)


def _spd(rng, shape, dt):
    n = shape[-1]
    m = rng.uniform(-1, 1, size=shape)
    return np.asarray(m @ np.swapaxes(m, -1, -2) + n * np.eye(n), dtype=dt.name)


def _junk_upper(rng, a):
    """``a`` with random values above the diagonal (a triangle PyTorch must not read)."""
    return np.asarray(a + np.triu(rng.uniform(-5, 5, size=a.shape), 1), dtype=a.dtype)


def _lower_sym(a, upper=False):
    t = np.triu(a) if upper else np.tril(a)
    s = np.triu(a, 1) if upper else np.tril(a, -1)
    return t + np.swapaxes(s, -1, -2)


# -- cross ------------------------------------------------------------------------------------


def _cross_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -3, 3)

    return [
        Sample((x(4, 3), x(4, 3)), {"dim": -1}),
        Sample((x(3, 2), x(3, 2)), {"dim": 0}),
        Sample((x(2, 1, 3), x(1, 4, 3)), {"dim": -1}),
        Sample((NonContig(x(2, 3)), x(2, 3)), {"dim": 1}),
        Sample((x(0, 3), x(0, 3)), {"dim": 1}),
    ]


# -- einsum -----------------------------------------------------------------------------------

_EQUATIONS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iij->j", [(2, 2, 3)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("i,j->ij", [(3,), (4,)]),
    ("i,i", [(3,), (3,)]),
    ("...ij,...jk->...ik", [(2, 2, 3), (3, 4)]),
    ("ij...->j", [(2, 3, 2)]),
    ("ab,bc,cd->ad", [(2, 3), (3, 4), (4, 2)]),
    ("ab,ab,ab->a", [(2, 3), (2, 3), (2, 3)]),
    ("ij->", [(3, 4)]),
    ("ij,ik->", [(3, 2), (3, 4)]),
    ("bi,bj->bij", [(1, 3), (2, 4)]),
    ("ji", [(0, 3)]),
]


def _einsum_samples(rng, dt):
    out = []
    for eq, shapes in _EQUATIONS:
        out.append(Sample(tuple(_draw(rng, s, dt, -2, 2) for s in shapes), {"equation": eq}))
    x = _draw(rng, (3, 4), dt, -2, 2)
    out.append(Sample((NonContig(x), _draw(rng, (3, 2), dt, -2, 2)), {"equation": "ji,jk->ik"}))
    return out


def _einsum(*ops, equation):
    return _lib(ops[0]).einsum(equation, *ops)


def _einsum_ref(*ops, equation):
    # NumPy does not broadcast named size-1 dimensions (broadcast them first) and
    # wants every ellipsis dimension in an explicit output (sum them after).
    lhs, _, rhs = equation.partition("->")
    terms = lhs.split(",")
    sizes = {}
    for s, o in zip(terms, ops):
        if "." not in s:
            for c, n in zip(s, o.shape):
                sizes[c] = n if sizes.get(c, 1) == 1 else sizes[c]
    ops = [np.broadcast_to(o, tuple(sizes[c] for c in s)) if "." not in s else o
           for s, o in zip(terms, ops)]
    if "->" in equation and "..." in lhs and "..." not in rhs:
        out = np.einsum(f"{lhs}->{rhs}...", *ops)
        return out.sum(axis=tuple(range(len(rhs), out.ndim)))
    return np.einsum(equation, *ops)


# -- inv, solve, det, slogdet ---------------------------------------------------------------------


def _square_samples(rng, dt):
    return [
        Sample((_well(rng, (3, 3), dt),)),
        Sample((_well(rng, (2, 3, 3), dt),)),
        Sample((NonContig(_well(rng, (3, 3), dt)),)),
        Sample((np.asarray(_well(rng, (3, 3), dt) * np.array([1, -1, 1]), dtype=dt.name),)),
        Sample((np.zeros((2, 0, 0), dt.name),)),
    ]


def _solve_samples(rng, dt):
    def b(*s):
        return _draw(rng, s, dt, -2, 2)

    return [
        Sample((_well(rng, (3, 3), dt), b(3, 2))),
        Sample((_well(rng, (3, 3), dt), b(3))),
        Sample((_well(rng, (2, 3, 3), dt), b(2, 3))),
        Sample((_well(rng, (2, 3, 3), dt), b(3, 2))),
        Sample((_well(rng, (3, 3), dt), b(2, 1, 3, 2))),
        Sample((_well(rng, (3, 3), dt), b(2, 3)), {"left": False}),
        Sample((NonContig(_well(rng, (3, 3), dt)), NonContig(b(3, 2), "strided"))),
        Sample((_well(rng, (3, 3), dt), b(3, 0))),
    ]


def _solve(a, b, left=True):
    return _lib(a).linalg.solve(a, b, left=left)


def _solve_ref(a, b, left=True):
    vector = b.ndim == 1 or (left and b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    if not left:
        return np.swapaxes(np.linalg.solve(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2)),
                           -1, -2)
    if vector:
        return np.linalg.solve(a, b[..., None])[..., 0]
    return np.linalg.solve(a, b)


def _slogdet(a):
    return tuple(_lib(a).linalg.slogdet(a))


# -- cholesky, eigh, eigvalsh --------------------------------------------------------------------


def _spd_samples(rng, dt, *, key="upper", values=(False, True)):
    lo, hi = values
    return [
        Sample((_spd(rng, (3, 3), dt),), {key: lo}),
        Sample((_spd(rng, (3, 3), dt),), {key: hi}),
        Sample((_spd(rng, (2, 3, 3), dt),), {key: lo}),
        Sample((NonContig(_spd(rng, (3, 3), dt)),), {key: lo}),
        Sample((_junk_upper(rng, _spd(rng, (3, 3), dt)),), {key: lo}, grad=False),
        Sample((np.swapaxes(_junk_upper(rng, _spd(rng, (3, 3), dt)), -1, -2).copy(),),
               {key: hi}, grad=False),
        Sample((np.zeros((0, 2, 2), dt.name),), {key: lo}),
    ]


def _cholesky(a, upper=False):
    return _lib(a).linalg.cholesky(a, upper=upper)


def _cholesky_ref(a, upper=False):
    L = np.linalg.cholesky(_lower_sym(a, upper))
    return np.swapaxes(L, -1, -2) if upper else L


def _eigh(a, UPLO="L"):
    w, v = _lib(a).linalg.eigh(a, UPLO=UPLO)
    return w, v * v


def _eigh_ref(a, UPLO="L"):
    w, v = np.linalg.eigh(_lower_sym(a, UPLO == "U"))
    return w, v * v


def _eigh_grad(a, UPLO="L"):
    w, v = _lib(a).linalg.eigh(_sym(a), UPLO=UPLO)
    return w.unsqueeze(-2) * (v * v)


def _eigvalsh(a, UPLO="L"):
    return _lib(a).linalg.eigvalsh(a, UPLO=UPLO)


# -- qr, svd, svdvals, pinv ---------------------------------------------------------------------


def _rect_samples(rng, dt, modes):
    def m(*s):
        return _draw(rng, s, dt, -2, 2)

    out = []
    for key, value in modes:
        out += [Sample((m(4, 3),), {key: value}), Sample((m(3, 3),), {key: value})]
    return out + [
        Sample((m(2, 4, 3),), {modes[0][0]: modes[0][1]}),
        Sample((NonContig(m(3, 4)),), {modes[0][0]: modes[0][1]}),
        Sample((m(3, 4),), {modes[0][0]: modes[0][1]}),
        Sample((m(0, 3, 2),), {modes[0][0]: modes[0][1]}),
    ]


def _qr_samples(rng, dt):
    out = _rect_samples(rng, dt, [("mode", "reduced"), ("mode", "complete")])
    out += [Sample((_draw(rng, (4, 3), dt, -2, 2),), {"mode": "r"}, grad=False)]
    # complete Q of a tall matrix is not differentiable (as in PyTorch)
    return [Sample(s.args, s.kwargs, grad=not (s.kwargs.get("mode") == "complete"
                                              and s.args[0].shape[-2] > s.args[0].shape[-1])
                   and s.grad) for s in out]


def _qr(a, mode="reduced"):
    return tuple(_lib(a).linalg.qr(a, mode=mode))


def _qr_ref(a, mode="reduced"):
    if mode == "r":
        return np.zeros(0), np.linalg.qr(a, mode="r")
    return tuple(np.linalg.qr(a, mode=mode))


def _qr_grad(a, mode="reduced"):
    q, r = _lib(a).linalg.qr(a, mode=mode)
    return q @ r + q.sum(-1, keepdim=True) * r.sum(-2, keepdim=True)


def _svd(a, full_matrices=True):
    u, s, vh = _lib(a).linalg.svd(a, full_matrices=full_matrices)
    k = s.shape[-1]
    u, vh = u[..., :, :k], vh[..., :k, :]
    return u * u, s, vh * vh


def _svd_ref(a, full_matrices=True):
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    k = s.shape[-1]
    u, vh = u[..., :, :k], vh[..., :k, :]
    return u * u, s, vh * vh


def _svd_grad(a, full_matrices=True):
    uu, s, vv = _svd(a, full_matrices)
    return (uu * s.unsqueeze(-2)) @ vv


def _pinv_samples(rng, dt):
    out = _rect_samples(rng, dt, [("hermitian", False)])
    zero_col = _draw(rng, (4, 3), dt, -2, 2)
    zero_col[:, 1] = 0
    out.append(Sample((zero_col,), {"hermitian": False}, grad=False))
    out.append(Sample((_spd(rng, (3, 3), dt),), {"hermitian": True}, grad=False))
    return out


def _pinv(a, hermitian=False):
    return _lib(a).linalg.pinv(a, hermitian=hermitian)


def _pinv_ref(a, hermitian=False):
    if a.size == 0:
        return np.zeros(a.shape[:-2] + (a.shape[-1], a.shape[-2]))
    return np.linalg.pinv(a, hermitian=hermitian)


# -- vector_norm ---------------------------------------------------------------------------------


def _norm_samples(rng, dt):
    def x(*s):  # no zeros and no ties: every ord is differentiable there
        n = int(np.prod(s))
        v = (rng.permutation(n) + 1) / n * 2 * np.where(rng.rand(n) < 0.5, -1, 1)
        return np.asarray(v.reshape(s), dtype=dt.name)

    inf = float("inf")
    return [
        Sample((x(3, 4),), {}),
        Sample((x(3, 4),), {"ord": 1, "dim": 1}),
        Sample((x(3, 4),), {"ord": inf, "dim": (0, 1), "keepdim": True}),
        Sample((x(3, 4),), {"ord": -inf, "dim": -1}),
        Sample((x(2, 3, 4),), {"ord": 3, "dim": (0, 2)}),
        Sample((x(3, 4),), {"ord": 0.5, "dim": 0}),
        Sample((x(3, 4),), {"ord": -1.5, "dim": 1, "keepdim": True}),
        Sample((x(3, 4),), {"ord": 0, "dim": 1}, grad=False),
        Sample((x(),), {"ord": 2}),
        Sample((NonContig(x(3, 4)),), {"ord": 2, "dim": 0}),
        Sample((np.zeros((0, 3), dt.name),), {"ord": 2, "dim": 0}),
        Sample((np.zeros((3, 4), dt.name),), {"ord": 2, "dim": 1}, grad=False),
    ]


def _vector_norm(x, ord=2, dim=None, keepdim=False):
    return _lib(x).linalg.vector_norm(x, ord=ord, dim=dim, keepdim=keepdim)


def _vector_norm_ref(x, ord=2, dim=None, keepdim=False):
    a = np.abs(np.asarray(x, np.float64))
    axis = dim if dim is None or isinstance(dim, tuple) else (dim,)
    if ord == 0:
        return np.sum(a != 0, axis=axis, keepdims=keepdim).astype(np.float64)
    if ord == float("inf"):
        return np.max(a, axis=axis, keepdims=keepdim)
    if ord == -float("inf"):
        return np.min(a, axis=axis, keepdims=keepdim)
    with np.errstate(divide="ignore"):
        return np.sum(a ** ord, axis=axis, keepdims=keepdim) ** (1.0 / ord)


def _floating_first(x, *args, **kwargs):
    return same(x)


SPECS: list = [
    OpSpec("cross", lambda a, b, dim: _lib(a).linalg.cross(a, b, dim=dim),
           lambda a, b, dim: np.cross(*np.broadcast_arrays(a, b), axis=dim),
           _cross_samples, NUMERIC, same),
    OpSpec("einsum", _einsum, _einsum_ref, _einsum_samples, NUMERIC, same,
           tolerances={polytorch.float32: (1e-5, 1e-5)}),
    OpSpec("linalg_inv", lambda a: _lib(a).linalg.inv(a), np.linalg.inv, _square_samples, FLOATS,
           same, tolerances=_LINALG_TOL),
    OpSpec("linalg_solve", _solve, _solve_ref, _solve_samples, FLOATS, same,
           tolerances=_LINALG_TOL),
    OpSpec("linalg_det", lambda a: _lib(a).linalg.det(a), np.linalg.det, _square_samples, FLOATS,
           same, tolerances=_LINALG_TOL),
    OpSpec("linalg_slogdet", _slogdet, lambda a: tuple(np.linalg.slogdet(a)), _square_samples,
           FLOATS, lambda a: (same(a), same(a)), grad_call=lambda a: _slogdet(a)[1],
           tolerances=_LINALG_TOL),
    OpSpec("linalg_cholesky", _cholesky, _cholesky_ref, _spd_samples, FLOATS, same,
           grad_call=lambda a, upper=False: _cholesky(_sym(a), upper), tolerances=_LINALG_TOL),
    OpSpec("linalg_eigh", _eigh, _eigh_ref,
           lambda rng, dt: _spd_samples(rng, dt, key="UPLO", values=("L", "U")), FLOATS,
           lambda a, **kw: (same(a), same(a)), grad_call=_eigh_grad, tolerances=_LINALG_TOL),
    OpSpec("linalg_eigvalsh", _eigvalsh, lambda a, UPLO="L": np.linalg.eigvalsh(
               _lower_sym(a, UPLO == "U")),
           lambda rng, dt: _spd_samples(rng, dt, key="UPLO", values=("L", "U")), FLOATS, same,
           grad_call=lambda a, UPLO="L": _eigvalsh(_sym(a), UPLO), tolerances=_LINALG_TOL),
    OpSpec("linalg_qr", _qr, _qr_ref, _qr_samples, FLOATS, lambda a, **kw: (same(a), same(a)),
           grad_call=_qr_grad, tolerances=_LINALG_TOL),
    OpSpec("linalg_svd", _svd, _svd_ref,
           lambda rng, dt: _rect_samples(rng, dt, [("full_matrices", False),
                                                    ("full_matrices", True)]),
           FLOATS, lambda a, **kw: (same(a),) * 3, grad_call=_svd_grad, tolerances=_LINALG_TOL),
    OpSpec("linalg_svdvals", lambda a: _lib(a).linalg.svdvals(a),
           lambda a: np.linalg.svd(a, compute_uv=False),
           lambda rng, dt: [Sample(s.args) for s in _rect_samples(rng, dt, [("x", 0)])],
           FLOATS, same, tolerances=_LINALG_TOL),
    OpSpec("linalg_pinv", _pinv, _pinv_ref, _pinv_samples, FLOATS, same, tolerances=_LINALG_TOL),
    OpSpec("linalg_vector_norm", _vector_norm, _vector_norm_ref, _norm_samples, FLOATS, same,
           tolerances={polytorch.float32: (1e-5, 1e-5)}),
]
