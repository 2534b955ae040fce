"""Random numbers: the counter-based generator, bit-identical streams, samplers and their errors.

References: Random123's known-answer vectors for Philox-4x32-10, NumPy float64 for
the exact-arithmetic math, the distributions themselves for statistical checks
(PyTorch's stream differs from ours by design), and PyTorch for shapes, dtypes,
requires_grad, errors and in-place semantics.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from helpers import host, supported_dtypes
from hypothesis import given, settings
from hypothesis import strategies as st

import polytorch as pt
from polytorch import _random as R
from polytorch._device import resolve

BACKENDS = ["cpu", "cpu@jax", "strict:1"]


def _bits_of(t) -> np.ndarray:
    a = host(t)
    return a.view(np.uint8) if a.dtype != np.bool_ else a


# -- the generator core --------------------------------------------------------------------

# Random123 kat_vectors: philox4x32 10 (counter words, key words) -> output words.
PHILOX_KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


def test_philox_known_answers(device):
    dev, backend = resolve(device)
    xp = backend.xp
    for ctr, key, want in PHILOX_KAT:
        c = [xp.asarray([v], dtype=xp.uint64, device=dev._native) for v in ctr]
        got = R._philox(xp, *c, *key)
        assert [int(backend.to_numpy(w)[0]) for w in got] == list(want)
    # the stream of seed 0 starts with counter 0
    g = pt.Generator(dev.type).manual_seed(0)
    words = R._words(4, dev, backend, g)
    assert backend.to_numpy(words).tolist() == list(PHILOX_KAT[0][2])
    assert g.get_offset() == 1


def _every_sampler(device):
    """Each sampler with float32, float64 and int64 outputs, from one seed."""
    pt.manual_seed(1234)
    g = pt.Generator(resolve(device)[0].type).manual_seed(99)
    out = []
    for dt in (pt.float32, pt.float64):
        out += [pt.rand(5, 3, dtype=dt, device=device), pt.randn(5, 3, dtype=dt, device=device),
                pt.randn(7, dtype=dt, device=device, generator=g),
                pt.normal(1.0, 2.5, (5, 3), dtype=dt, device=device)]
        z = pt.zeros(5, 3, dtype=dt, device=device)
        for name, args in [("uniform_", (-1.5, 3.0)), ("normal_", (0.5, 2.0)),
                           ("bernoulli_", (0.3,)), ("exponential_", (1.7,)), ("random_", (-4, 9)),
                           ("random_", ()), ("cauchy_", (0.5, 2.0)), ("log_normal_", (0.2, 0.7)),
                           ("geometric_", (0.2,))]:
            out.append(getattr(z, name)(*args, generator=g).clone())
        p = pt.rand(5, 3, dtype=dt, device=device)
        out += [pt.bernoulli(p), pt.bernoulli(p, 0.7, generator=g),
                pt.rand_like(p), pt.randn_like(p), pt.randint_like(p, 3, 11),
                pt.multinomial(p, 9, replacement=True), pt.multinomial(p, 3, generator=g),
                pt.normal(p, 2.0), pt.normal(0.5, p), pt.normal(p[:1], p[:, :1] + 1),
                pt.rand(2, dtype=pt.complex64 if dt is pt.float32 else pt.complex128,
                        device=device)]
    i = pt.zeros(5, 3, dtype=pt.int64, device=device)
    out += [pt.randint(-7, 100, (5, 3), device=device), pt.randint(2**40, (4,), device=device),
            pt.randint(-2**63, 2**63 - 1, (4,), device=device, generator=g),
            pt.randperm(13, device=device), pt.randperm(13, device=device, generator=g),
            i.random_(), i.random_(-2**63, None), i.random_(3, 8), i.bernoulli_(0.5),
            i.geometric_(0.05), pt.randint_like(i, -3, 3)]
    return out


def test_bit_identical_on_every_backend():
    """The same seed and calls give the same bits on NumPy, JAX and array_api_strict."""
    runs = {d: _every_sampler(d) for d in BACKENDS}
    ref = runs["cpu"]
    for d in BACKENDS[1:]:
        assert len(runs[d]) == len(ref)
        for i, (a, b) in enumerate(zip(ref, runs[d])):
            assert a.dtype == b.dtype and a.shape == b.shape, (d, i)
            assert np.array_equal(_bits_of(a), _bits_of(b)), (d, i, host(a), host(b))


def test_bit_identical_many_normals():
    """Many normals (every branch of the polynomials) agree bit for bit; no backend fuses.

    (JAX compiles per shape, so it checks the first 64 of each, a length whose kernels
    the other tests compile anyway.)
    """
    for dt in (pt.float32, pt.float64):
        ref = None
        for d in BACKENDS:
            n = 64 if d == "cpu@jax" else 4096
            g = pt.Generator(resolve(d)[0].type).manual_seed(7)
            x = pt.randn(n, dtype=dt, device=d, generator=g)
            g.manual_seed(8)
            e = pt.zeros(n, dtype=dt, device=d).log_normal_(0.0, 3.0, generator=g)
            g.manual_seed(9)
            c = pt.zeros(n, dtype=dt, device=d).cauchy_(generator=g)
            got = [_bits_of(x), _bits_of(e), _bits_of(c)]
            if ref is None:
                ref = got
            else:
                assert all(np.array_equal(a[:len(b)], b) for a, b in zip(ref, got)), d


def test_counters_do_not_depend_on_how_work_is_split(device):
    dev_type = resolve(device)[0].type
    g = pt.Generator(dev_type).manual_seed(5)
    whole = pt.rand(16, device=device, generator=g)
    g.manual_seed(5)
    parts = pt.cat([pt.rand(8, device=device, generator=g), pt.rand(8, device=device,
                                                                     generator=g)])
    assert np.array_equal(host(whole), host(parts))
    assert g.get_offset() == 4  # 16 words, four per counter


def test_generator_state_and_seeding(device):
    dev_type = resolve(device)[0].type
    g = pt.Generator(dev_type)
    assert g.initial_seed() == 67280421310721
    assert g.manual_seed(3) is g and g.initial_seed() == 3
    state = g.get_state()
    assert state.dtype is pt.uint8 and state.shape == (16,)
    a = pt.randn(6, device=device, generator=g)
    assert g.get_offset() > 0
    b = pt.randn(6, device=device, generator=g)
    assert g.set_state(state) is g
    assert np.array_equal(host(a), host(pt.randn(6, device=device, generator=g)))
    assert np.array_equal(host(b), host(pt.randn(6, device=device, generator=g)))
    assert not np.array_equal(host(a), host(b))
    # negative seeds wrap to 64 bits, as in PyTorch
    assert g.manual_seed(-5).initial_seed() == torch.Generator().manual_seed(-5).initial_seed()
    s = g.seed()
    assert g.initial_seed() == s and 0 <= s < 2**64
    # the default generators: one seed for all devices
    pt.manual_seed(11)
    x = pt.rand(4, device=device)
    pt.manual_seed(11)
    assert np.array_equal(host(x), host(pt.rand(4, device=device)))
    assert pt.initial_seed() == 11
    st_ = pt.get_rng_state()
    y = pt.rand(4)
    pt.set_rng_state(st_)
    assert np.array_equal(host(y), host(pt.rand(4)))
    assert pt.default_generator.device == pt.device("cpu")
    assert pt.seed() == pt.initial_seed()


def test_generator_errors_match_torch():
    cases = [
        lambda lib: lib.Generator().manual_seed(1.5),
        lambda lib: lib.Generator().manual_seed("1"),
        lambda lib: lib.Generator().manual_seed(2**64),
        lambda lib: lib.Generator().manual_seed(-2**63 - 1),
        lambda lib: lib.Generator().set_state([1, 2]),
        lambda lib: lib.Generator().set_state(lib.zeros(3)),
    ]
    for case in cases:
        with pytest.raises(Exception) as want:
            case(torch)
        with pytest.raises(type(want.value)):
            case(pt)
    with pytest.raises(RuntimeError, match="size 16"):
        pt.Generator().set_state(pt.zeros(3, dtype=pt.uint8))
    with pytest.raises(RuntimeError, match="device type for generator"):
        pt.rand(2, device="strict:1", generator=pt.Generator("cpu"))
    with pytest.raises(TypeError, match="Generator"):
        pt.rand(2, generator=5)


# -- exact-arithmetic math ------------------------------------------------------------------


def test_exact_math_is_accurate(device):
    dev, backend = resolve(device)
    xp = backend.xp
    rng = np.random.default_rng(0)
    n = 28 if device == "cpu@jax" else 2000  # (JAX compiles per shape: one shape, 32)
    for dt, tol in ((np.float32, 4e-7), (np.float64, 1e-15)):
        x = np.concatenate([rng.random(n) + 2.0**-20, [2.0**-53 if dt is np.float64 else
                                                       2.0**-24, 0.5, 2**-0.5, 1.0]]).astype(dt)
        a = xp.asarray(x, device=dev._native)
        got = backend.to_numpy(R._log(xp, a)).astype(np.float64)
        want = np.log(x.astype(np.float64))
        assert np.max(np.abs(got - want) / np.maximum(1, np.abs(want))) < tol * 4
        t = (np.floor(rng.random(n + 4) * 2**20) / 2**20).astype(dt)
        s, c = R._sincos_turns(xp, xp.asarray(t, device=dev._native))
        t64 = 2 * np.pi * t.astype(np.float64)
        assert np.max(np.abs(backend.to_numpy(s) - np.sin(t64))) < tol * 4
        assert np.max(np.abs(backend.to_numpy(c) - np.cos(t64))) < tol * 4
        y = np.linspace(-20, 20, n + 4).astype(dt)
        got = backend.to_numpy(R._exp(xp, xp.asarray(y, device=dev._native)))
        want = np.exp(y.astype(np.float64))
        assert np.max(np.abs(got / want - 1)) < tol * 4


# -- statistics (fixed seeds, against the distributions) -------------------------------------


def _chi2_ok(observed, expected, alpha=1e-4) -> bool:
    """Pearson's chi-square test (Wilson-Hilferty approximation of the tail)."""
    observed, expected = np.asarray(observed, float), np.asarray(expected, float)
    k = len(observed) - 1
    stat = float(np.sum((observed - expected) ** 2 / expected))
    z = ((stat / k) ** (1 / 3) - (1 - 2 / (9 * k))) / math.sqrt(2 / (9 * k))
    return 0.5 * math.erfc(z / math.sqrt(2)) > alpha


def _ks_ok(sample, cdf, alpha_c=1.95) -> bool:
    """Kolmogorov-Smirnov: sup |F_n - F| below c / sqrt(n) (c = 1.95: alpha ~ 0.001)."""
    x = np.sort(np.asarray(sample, dtype=np.float64))
    n = len(x)
    f = cdf(x)
    d = max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n))
    return d < alpha_c / math.sqrt(n)


_norm_cdf = np.vectorize(lambda v: 0.5 * math.erfc(-v / math.sqrt(2)))


@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_distributions_statistics(dt):
    dtype = getattr(pt, dt)
    g = pt.Generator().manual_seed(2024)
    n = 20000
    u = host(pt.rand(n, dtype=dtype, generator=g)).astype(np.float64)
    assert u.min() >= 0 and u.max() < 1
    assert _chi2_ok(np.histogram(u, bins=20, range=(0, 1))[0], np.full(20, n / 20))
    assert _ks_ok(u, lambda x: x)
    z = host(pt.randn(n, dtype=dtype, generator=g)).astype(np.float64)
    assert abs(z.mean()) < 4 / math.sqrt(n) and abs(z.var() - 1) < 0.05
    assert _ks_ok(z, _norm_cdf)
    y = host(pt.normal(3.0, 0.5, (n,), dtype=dtype, generator=g)).astype(np.float64)
    assert _ks_ok((y - 3.0) / 0.5, _norm_cdf)
    x = pt.empty(n, dtype=dtype)
    e = host(x.exponential_(2.0, generator=g)).astype(np.float64)
    assert e.min() > 0 and _ks_ok(e, lambda v: 1 - np.exp(-2.0 * v))
    c = host(x.cauchy_(1.0, 2.0, generator=g)).astype(np.float64)
    assert np.all(np.isfinite(c)) and _ks_ok(c, lambda v: 0.5 + np.arctan((v - 1.0) / 2.0) / np.pi)
    ln = host(x.log_normal_(0.5, 0.8, generator=g)).astype(np.float64)
    assert _ks_ok((np.log(ln) - 0.5) / 0.8, _norm_cdf)
    geo = host(x.geometric_(0.3, generator=g))
    counts = [(geo == k).sum() for k in range(1, 11)] + [(geo > 10).sum()]
    probs = [0.7 ** (k - 1) * 0.3 for k in range(1, 11)] + [0.7**10]
    assert geo.min() >= 1 and _chi2_ok(counts, n * np.array(probs))
    b = host(x.bernoulli_(0.3, generator=g))
    assert set(np.unique(b)) <= {0, 1} and _chi2_ok([(b == 0).sum(), (b == 1).sum()],
                                                      [0.7 * n, 0.3 * n])
    u2 = host(x.uniform_(-2.0, 6.0, generator=g)).astype(np.float64)
    assert u2.min() >= -2 and u2.max() < 6 and _ks_ok(u2, lambda v: (v + 2) / 8)
    p = pt.tensor([0.1, 0.4, 0.0, 0.5], dtype=dtype)
    m = host(pt.multinomial(p, n, replacement=True, generator=g))
    assert _chi2_ok(np.bincount(m, minlength=4)[[0, 1, 3]], n * np.array([0.1, 0.4, 0.5]))
    assert not np.any(m == 2)
    pb = host(pt.bernoulli(pt.full((n,), 0.8, dtype=dtype), generator=g))
    assert _chi2_ok([(pb == 0).sum(), (pb == 1).sum()], [0.2 * n, 0.8 * n])
    zc = host(pt.randn(n, dtype=pt.complex64 if dt == "float32" else pt.complex128,
                       generator=g))
    assert abs(zc.real.var() - 0.5) < 0.03 and abs(zc.imag.var() - 0.5) < 0.03


def test_integer_statistics():
    g = pt.Generator().manual_seed(77)
    n = 20000
    r = host(pt.randint(-3, 7, (n,), generator=g))
    assert r.min() >= -3 and r.max() <= 6
    assert _chi2_ok(np.bincount(r + 3, minlength=10), np.full(10, n / 10))
    big = host(pt.randint(0, 3 * 2**40, (n,), generator=g))
    assert _chi2_ok(np.histogram(big, bins=16, range=(0, 3 * 2**40))[0], np.full(16, n / 16))
    # randperm of 4: all 24 orders equally likely
    perms = [tuple(pt.randperm(4, generator=g).tolist()) for _ in range(2400)]
    assert all(sorted(p) == [0, 1, 2, 3] for p in perms)
    counts = {}
    for p in perms:
        counts[p] = counts.get(p, 0) + 1
    assert len(counts) == 24 and _chi2_ok(list(counts.values()), np.full(24, 100))
    # multinomial without replacement: first draw ~ p; pairs ~ p_i p_j / (1 - p_i)
    p = np.array([0.1, 0.2, 0.3, 0.4])
    draws = host(pt.multinomial(pt.tensor(np.tile(p, (n, 1))), 2, generator=g))
    assert np.all(draws[:, 0] != draws[:, 1])
    assert _chi2_ok(np.bincount(draws[:, 0], minlength=4), n * p)
    pair = draws[:, 0] * 4 + draws[:, 1]
    want = np.array([p[i] * p[j] / (1 - p[i]) for i in range(4) for j in range(4) if i != j])
    got = np.bincount(pair, minlength=16)[[i * 4 + j for i in range(4) for j in range(4) if i != j]]
    assert _chi2_ok(got, n * want)
    rf = host(pt.zeros(n).random_(generator=g))
    assert rf.min() >= 0 and rf.max() <= 2**24 and rf.max() > 2**23
    ri = host(pt.zeros(n, dtype=pt.int8).random_(generator=g))
    assert ri.min() >= 0 and _chi2_ok(np.bincount(ri, minlength=128), np.full(128, n / 128))


# -- API semantics against PyTorch -----------------------------------------------------------


def _meta(t):
    return (str(t.dtype).split(".")[-1], tuple(t.shape), t.requires_grad)


def _sampler_calls(lib, device):
    kw = {"device": device} if lib is pt else {}

    def z(*s, dtype=None, rg=False):
        return lib.zeros(*s, dtype=dtype, requires_grad=rg, **kw)

    f64 = lib.float64
    return {
        "rand": lambda: lib.rand(2, 3, **kw),
        "rand_tuple_f64": lambda: lib.rand((2, 3), dtype=f64, **kw),
        "rand_0d": lambda: lib.rand((), **kw),
        "rand_empty": lambda: lib.rand(0, 3, **kw),
        "rand_rg": lambda: lib.rand(3, requires_grad=True, **kw),
        "randn": lambda: lib.randn(4, dtype=f64, **kw),
        "randn_c64": lambda: lib.randn(3, dtype=lib.complex64, **kw),
        "randint": lambda: lib.randint(3, 10, (2, 2), **kw),
        "randint_high": lambda: lib.randint(5, (3,), **kw),
        "randint_size_kw": lambda: lib.randint(5, size=(3,), **kw),
        "randint_f32": lambda: lib.randint(0, 3, (2,), dtype=lib.float32, **kw),
        "randint_u8": lambda: lib.randint(0, 256, (2,), dtype=lib.uint8, **kw),
        "randperm": lambda: lib.randperm(6, **kw),
        "randperm_i32": lambda: lib.randperm(6, dtype=lib.int32, **kw),
        "randperm_0": lambda: lib.randperm(0, **kw),
        "rand_like": lambda: lib.rand_like(z(2, dtype=f64)),
        "randn_like_rg": lambda: lib.randn_like(z(2), requires_grad=True),
        "randint_like": lambda: lib.randint_like(z(2), 5),
        "randint_like_i32": lambda: lib.randint_like(z(2, dtype=lib.int32), 2, 5),
        "bernoulli": lambda: lib.bernoulli(z(3) + 0.5),
        "bernoulli_rg": lambda: lib.bernoulli(z(3, rg=True)),
        "bernoulli_p": lambda: lib.bernoulli(z(3, dtype=f64), 0.3),
        "bernoulli_p_rg": lambda: lib.bernoulli(z(3, rg=True), 0.3),
        "bernoulli_method": lambda: (z(2, 2) + 0.5).bernoulli(),
        "multinomial": lambda: lib.multinomial(z(4) + 1, 3),
        "multinomial_2d": lambda: lib.multinomial(z(2, 4) + 1, 5, True),
        "multinomial_method": lambda: (z(2, 4) + 1).multinomial(4),
        "multinomial_empty_rows": lambda: lib.multinomial(z(0, 3) + 1, 2),
        "normal_ff": lambda: lib.normal(0.0, 1.0, (2, 3), **kw),
        "normal_ff_f64": lambda: lib.normal(0, 1, size=(2,), dtype=f64, **kw),
        "normal_tf": lambda: lib.normal(z(2, dtype=f64), 2.0),
        "normal_ft": lambda: lib.normal(1.0, z(2, dtype=f64) + 1),
        "normal_tt_bcast": lambda: lib.normal(z(2, 1), z(3) + 1),
        "normal_tt_dtypes": lambda: lib.normal(z(2), z(2, dtype=f64) + 1),
        "normal_tt_rg": lambda: lib.normal(z(2, rg=True), (z(2) + 1).requires_grad_()),
        "normal_0d": lambda: lib.normal(z(()), z(()) + 1),
    }


def test_sampler_results_match_torch(device):
    ours, theirs = _sampler_calls(pt, device), _sampler_calls(torch, None)
    have = supported_dtypes(device)
    for name, call in ours.items():
        want = theirs[name]()
        got = call()
        assert _meta(got) == _meta(want), name
        assert str(got.device) == str(pt.device(device)) or name.startswith(("multinomial",)), name
        assert got.dtype.name in have


def test_sample_ranges(device):
    pt.manual_seed(0)
    r = host(pt.randint(-5, 5, (64,), device=device))
    assert r.min() >= -5 and r.max() < 5
    u = host(pt.randint(0, 256, (64,), dtype=pt.uint8, device=device))
    assert u.dtype == np.uint8
    p = host(pt.randperm(50, device=device))
    assert sorted(p.tolist()) == list(range(50))
    b = host(pt.bernoulli(pt.tensor([0.0, 1.0, 0.0, 1.0], device=device)))
    assert b.tolist() == [0.0, 1.0, 0.0, 1.0]
    m = host(pt.multinomial(pt.tensor([[0.0, 0.0, 2.0], [1.0, 0.0, 0.0]], device=device), 4,
                            True))
    assert m.tolist() == [[2] * 4, [0] * 4]
    m = host(pt.multinomial(pt.tensor([0.0, 3.0, 0.0, 1.0], device=device), 2))
    assert sorted(m.tolist()) == [1, 3]
    x = host(pt.zeros(64, dtype=pt.bool, device=device).random_())
    assert x.dtype == np.bool_ and x.any() and not x.all()
    g = host(pt.zeros(64, dtype=pt.int32, device=device).geometric_(0.5))
    assert g.min() >= 1


def _error_cases(lib, device):
    kw = {"device": device} if lib is pt else {}

    def z(*s, dtype=None):
        return lib.zeros(*s, dtype=dtype, **kw)

    i64 = lib.int64
    return [
        lambda: lib.rand(3, dtype=i64, **kw),
        lambda: lib.randn(3, dtype=i64, **kw),
        lambda: lib.rand(-1, **kw),
        lambda: lib.rand(2.5, **kw),
        lambda: lib.randint(5, 3, (2,), **kw),
        lambda: lib.randint(0, 300, (2,), dtype=lib.uint8, **kw),
        lambda: lib.randint(-1, 3, (2,), dtype=lib.uint8, **kw),
        lambda: lib.randint(3, (2,), dtype=lib.bool, **kw),
        lambda: lib.randint(0, 2**63, (2,), **kw),
        lambda: lib.randint(3, (2,), requires_grad=True, **kw),
        lambda: lib.randint(3.5, (2,), **kw),
        lambda: lib.randperm(-1, **kw),
        lambda: lib.randperm(300, dtype=lib.uint8, **kw),
        lambda: lib.randperm(5, requires_grad=True, **kw),
        lambda: lib.randperm(5, dtype=lib.bool, **kw),
        lambda: lib.rand_like(z(2, dtype=i64)),
        lambda: lib.bernoulli(z(2) + 1.5),
        lambda: lib.bernoulli(z(2), 1.5),
        lambda: lib.bernoulli(z(2, dtype=i64)),
        lambda: lib.multinomial(z(2) + 1, 3),
        lambda: lib.multinomial(z(2), 1),
        lambda: lib.multinomial(z(2) - 1, 1),
        lambda: lib.multinomial(z(2) + float("inf"), 1),
        lambda: lib.multinomial(z(2, 2, 2) + 1, 1),
        lambda: lib.multinomial(z(2, dtype=i64) + 1, 1),
        lambda: lib.multinomial(z(2) + 1, 0),
        lambda: lib.multinomial(z(()) + 1, 1),
        lambda: lib.normal(z(2), z(3) + 1),
        lambda: lib.normal(z(2), z(2) - 1),
        lambda: lib.normal(0.0, -1.0, (2,), **kw),
        lambda: lib.normal(z(2, dtype=i64), 1.0),
        lambda: lib.normal(z(2), z(2), size=(2,)),
        lambda: z(3).uniform_(2, 1),
        lambda: z(3).uniform_(0, float("inf")),
        lambda: z(3, dtype=i64).uniform_(),
        lambda: z(3).normal_(0, -1),
        lambda: z(3, dtype=i64).normal_(),
        lambda: z(3).exponential_(0),
        lambda: z(3, dtype=i64).exponential_(),
        lambda: z(3).geometric_(0),
        lambda: z(3).geometric_(1),
        lambda: z(3).cauchy_(0, -1),
        lambda: z(3, dtype=i64).cauchy_(),
        lambda: z(3).log_normal_(0, 0),
        lambda: z(3, dtype=i64).log_normal_(),
        lambda: z(3).random_(5, 2),
        lambda: z(3, dtype=lib.uint8).random_(-1, 2),
        lambda: z(3, dtype=lib.uint8).random_(0, 300),
        lambda: z(3, dtype=lib.bool).random_(0, 3),
        lambda: z(3).bernoulli_(1.5),
        lambda: z(3).bernoulli_(lib.tensor([0.5, 2.0, 0.0], **kw)),
        lambda: z(3).bernoulli_(lib.tensor([0.5, 0.5], **kw)),
        lambda: lib.zeros(3, requires_grad=True, **kw).uniform_(),
    ]


# Messages that differ from PyTorch's on purpose (ours name what was wrong, not an overload
# table; or PyTorch names its own state layout / tensor type).
_OWN_MESSAGE = {"invalid combination", "can only", "expanded size", "leaf Variable",
                "Only Tensors", "Overflow", "dimension", "argument 'size'"}


def test_errors_match_torch(device):
    ours, theirs = _error_cases(pt, device), _error_cases(torch, None)
    assert len(ours) == len(theirs)
    for i, (mine, ref) in enumerate(zip(ours, theirs)):
        with pytest.raises(Exception) as want:
            ref()
        with pytest.raises(Exception) as got:
            mine()
        assert type(got.value) is type(want.value), (i, got.value, want.value)
        msg = str(want.value).splitlines()[0].split("  (Could")[0]
        if not any(s in msg for s in _OWN_MESSAGE):
            assert str(got.value).startswith(msg.replace("torch.", "polytorch.")), (i, got.value,
                                                                                    msg)


def test_bad_input_modifies_nothing(device):
    x = pt.arange(6.0, device=device)
    v = x._version
    with pytest.raises(RuntimeError):
        x.uniform_(3, 1)
    with pytest.raises(RuntimeError):
        x.bernoulli_(pt.tensor([0.5, 3.0, 0.0, 0.0, 0.0, 0.0], device=device))
    assert x._version == v and host(x).tolist() == list(range(6))


# -- in-place samplers: versions, views, autograd -------------------------------------------

_INPLACE = [("uniform_", ()), ("normal_", ()), ("bernoulli_", ()), ("exponential_", ()),
            ("random_", (0, 5)), ("cauchy_", ()), ("log_normal_", ()), ("geometric_", (0.5,))]


def test_inplace_samplers_through_views(device):
    for name, args in _INPLACE:
        x = pt.full((3, 4), -100.0, device=device)
        v0 = x._version
        row = x[1]
        out = getattr(row, name)(*args)
        assert out is row, name
        assert x._version == v0 + 1 and row._version == x._version, name
        vals = host(x)
        assert np.all(vals[[0, 2]] == -100.0), name
        assert np.all(vals[1] != -100.0), name
        assert np.array_equal(vals[1], host(row)), name
        tv = torch.full((3, 4), -100.0)
        getattr(tv[1], name)(*args)
        assert tv._version == x._version - v0


def test_inplace_samplers_and_autograd(device):
    leaf = pt.ones(3, device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        leaf.normal_()
    with pt.no_grad():
        leaf.uniform_(-1, 1)
    assert leaf.requires_grad and leaf.grad_fn is None
    for name, args in _INPLACE:
        a = pt.ones(3, device=device, requires_grad=True)
        y = a * 2
        getattr(y, name)(*args)
        (y * 3).sum().backward()
        assert np.array_equal(host(a.grad), np.zeros(3)), name
        ta = torch.ones(3, requires_grad=True)
        ty = ta * 2
        getattr(ty, name)(*args)
        (ty * 3).sum().backward()
        assert np.array_equal(host(ta.grad), np.zeros(3)), name


def test_normal_and_bernoulli_gradients(float64_device):
    d = float64_device
    mean = pt.tensor([[0.5], [-1.0]], dtype=pt.float64, device=d, requires_grad=True)
    std = pt.tensor([1.0, 2.0, 0.5], dtype=pt.float64, device=d, requires_grad=True)
    out = pt.normal(mean, std)
    w = pt.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=pt.float64, device=d)
    (out * w).sum().backward()
    o, wn = host(out), host(w)
    # PyTorch's formulas: d mean = grad summed to mean's shape; d std = grad (out - mean) / std
    np.testing.assert_allclose(host(mean.grad), wn.sum(1, keepdims=True))
    np.testing.assert_allclose(host(std.grad), (wn * (o - host(mean)) / host(std)).sum(0),
                               rtol=1e-12)
    m2 = pt.zeros(4, dtype=pt.float64, device=d, requires_grad=True)
    pt.normal(m2, 3.0).sum().backward()
    assert host(m2.grad).tolist() == [1.0] * 4
    s2 = pt.ones(4, dtype=pt.float64, device=d, requires_grad=True)
    o2 = pt.normal(2.0, s2)
    o2.sum().backward()
    np.testing.assert_allclose(host(s2.grad), host(o2) - 2.0, rtol=1e-12)
    p = pt.full((5,), 0.5, dtype=pt.float64, device=d, requires_grad=True)
    b = pt.bernoulli(p)
    assert b.requires_grad and b.grad_fn is not None
    b.sum().backward()
    assert host(p.grad).tolist() == [0.0] * 5
    # the samples of a float-only sampler carry no graph
    assert pt.rand(2, device=d).grad_fn is None


# -- the internal API for dropout and init --------------------------------------------------


def test_internal_raw_samplers(device):
    dev, backend = resolve(device)
    g = pt.Generator(dev.type).manual_seed(4)
    u = R._uniform((3, 2), pt.float32, device, g)
    n = R._normal((5,), pt.float32, device, g)
    assert not isinstance(u, pt.Tensor)
    assert u.shape == (3, 2) and backend.dtype_of(u) is pt.float32
    assert n.shape == (5,) and backend.dtype_of(n) is pt.float32
    g.manual_seed(4)
    assert np.array_equal(backend.to_numpy(u), host(pt.rand(3, 2, generator=g, device=device)))
    assert np.array_equal(backend.to_numpy(n), host(pt.randn(5, generator=g, device=device)))


def test_half_precision_samples():
    for d, dts in (("cpu", ("float16",)), ("cpu@jax", ("float16", "bfloat16"))):
        for name in dts:
            dt = getattr(pt, name)
            pt.manual_seed(0)
            u = pt.rand(4000, dtype=dt, device=d)
            assert u.dtype is dt
            uh = host(u).astype(np.float64)
            assert uh.min() >= 0 and uh.max() < 1
            z = host(pt.randn(4000, dtype=dt, device=d)).astype(np.float64)
            assert abs(z.mean()) < 0.1 and abs(z.std() - 1) < 0.05
    pt.manual_seed(0)
    a = host(pt.rand(64, dtype=pt.float16))
    pt.manual_seed(0)
    assert np.array_equal(a, host(pt.rand(64, dtype=pt.float16, device="cpu@jax")))


@settings(max_examples=15, deadline=None)
@given(shape=st.lists(st.integers(0, 5), max_size=3), seed=st.integers(-2**63, 2**64 - 1),
       dt=st.sampled_from(["float32", "float64"]))
def test_reproducible_any_shape_and_seed(shape, seed, dt):
    dtype = getattr(pt, dt)
    out = {}
    for d in ("cpu", "strict:1"):
        g = pt.Generator(resolve(d)[0].type).manual_seed(seed)
        a = pt.rand(*shape, dtype=dtype, device=d, generator=g)
        b = pt.randn(*shape, dtype=dtype, device=d, generator=g)
        c = pt.randint(-9, 9, tuple(shape), device=d, generator=g)
        assert a.shape == tuple(shape) and a.dtype is dtype and c.dtype is pt.int64
        out[d] = [host(a), host(b), host(c)]
        assert np.all((out[d][0] >= 0) & (out[d][0] < 1))
    assert all(np.array_equal(x, y) for x, y in zip(out["cpu"], out["strict:1"]))
