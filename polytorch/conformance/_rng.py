"""The rng layer: the device's random streams are the reference's, bit for bit.

Test ids: ``rng/FUNCTION/DTYPE`` for ``rand``, ``randn`` and ``randint`` in every
declared dtype they take, plus ``rng/stream`` (successive draws and
``get_state``/``set_state``) and ``rng/manual_seed`` (the device's default
generator). The reference is the same call on ``cpu@numpy``: the generator is
counter-based and written over array-API integer ops (ARCHITECTURE §6), so one
seed gives the same bits on every backend. On ``cpu`` itself the layer checks
that the stream is deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

import numpy as np

import polytorch

from .. import _dtype as D
from .. import _random
from ._core import PASS, Case, Outcome, Target
from ._device import expect, host, on_device

REFERENCE = "cpu@numpy"
_SHAPES = ((3, 5), (0, 4))  # few shapes: JAX compiles per shape
_SEEDS = (0, 2024, 2**63 + 17)

_FLOATS = (D.float16, D.bfloat16, D.float32, D.float64)
_INTS = (D.uint8, D.int8, D.int16, D.int32, D.int64)


def _draw(fn: str, dtype: D.dtype) -> Callable:
    def rand(shape, generator, device):
        return polytorch.rand(*shape, generator=generator, dtype=dtype, device=device)

    def randn(shape, generator, device):
        return polytorch.randn(*shape, generator=generator, dtype=dtype, device=device)

    def randint(shape, generator, device):
        lo, hi = (0, 2) if dtype is D.bool else (-3, 100) if dtype.kind == "i" else (0, 200)
        return polytorch.randint(lo, hi, shape, generator=generator, dtype=dtype,
                                 device=device)

    return {"rand": rand, "randn": randn, "randint": randint}[fn]


def cases(target: Target) -> Iterator[Case]:
    """The rng layer's cases for ``target``."""
    for fn, dtypes in (("rand", _FLOATS), ("randn", _FLOATS), ("randint", _INTS)):
        for dt in dtypes:
            if target.has(dt):
                yield Case(f"rng/{fn}/{dt.name}", partial(same_stream, fn, dt, target))
    yield Case("rng/stream", partial(stream, target))
    yield Case("rng/manual_seed", partial(manual_seed, target))


def _values(t) -> np.ndarray:
    """The tensor's values on the host (bfloat16 through its exact float32 values)."""
    return np.ascontiguousarray(host(t.float()) if t.dtype is D.bfloat16 else host(t))


def _compare(got, want, what: str) -> None:
    expect(got.dtype is want.dtype and tuple(got.shape) == tuple(want.shape),
           f"{what}: {got.dtype}{list(got.shape)}, reference {want.dtype}{list(want.shape)}")
    a, b = _values(got).reshape(-1), _values(want).reshape(-1)
    width = a.dtype.itemsize
    differ = a.view(np.uint8).reshape(a.size, width) != b.view(np.uint8).reshape(b.size, width)
    bad = np.flatnonzero(differ.any(axis=1))
    if bad.size:
        k = int(bad[0])
        raise AssertionError(
            f"{what}: {bad.size} of {a.size} values differ from the reference's bits; "
            f"first at flat index {k}: {a[k]!r} vs {b[k]!r}")


def _reference_has(dtype: D.dtype) -> bool:
    return dtype in polytorch._device.resolve(REFERENCE)[0]._dtypes


def same_stream(fn: str, dtype: D.dtype, target: Target) -> Outcome:
    draw = _draw(fn, dtype)
    ref_device = REFERENCE if _reference_has(dtype) else None
    n = 0
    for seed in _SEEDS:
        for shape in _SHAPES:
            g = polytorch.Generator(target.device).manual_seed(seed)
            got = draw(shape, g, target.device)
            on_device(got, target, f"{fn}{shape}")
            expect(got.dtype is dtype, f"{fn}(dtype={dtype}) gave {got.dtype}")
            if ref_device is None:  # the reference lacks the dtype: determinism only
                want = draw(shape, polytorch.Generator(target.device).manual_seed(seed),
                            target.device)
            else:
                want = draw(shape, polytorch.Generator(ref_device).manual_seed(seed), ref_device)
            _compare(got, want, f"{fn}{list(shape)} seed {seed}")
            n += 1
    note = "" if ref_device else f" (no {dtype.name} on {REFERENCE}: determinism only)"
    return Outcome(PASS, f"{n} streams identical to {REFERENCE}{note}")


def stream(target: Target) -> Outcome:
    """Successive draws continue the reference's stream; saved states replay it."""
    f = D.float32 if target.has(D.float32) else D.float64
    i = D.int64 if target.has(D.int64) else D.int32
    g = polytorch.Generator(target.device).manual_seed(7)
    r = polytorch.Generator(REFERENCE).manual_seed(7)
    seq = [("rand", f, (5,)), ("randint", i, (4, 3)), ("randn", f, (9,)), ("rand", f, (1,)),
           ("randn", f, (2, 2))]
    state = None
    for k, (fn, dt, shape) in enumerate(seq):
        if k == 2:
            state = g.get_state()
        got = _draw(fn, dt)(shape, g, target.device)
        _compare(got, _draw(fn, dt)(shape, r, REFERENCE), f"draw {k} ({fn}{list(shape)})")
    g.set_state(state)
    r.manual_seed(7)
    for k, (fn, dt, shape) in enumerate(seq):
        want = _draw(fn, dt)(shape, r, REFERENCE)
        if k >= 2:
            _compare(_draw(fn, dt)(shape, g, target.device), want,
                     f"draw {k} after set_state")
    return Outcome(PASS, f"{len(seq)} successive draws")


def manual_seed(target: Target) -> Outcome:
    """``polytorch.manual_seed`` seeds the device's default generator like the reference's."""
    dev = target.device
    f = D.float32 if target.has(D.float32) else D.float64
    ref_dev = polytorch._device.resolve(REFERENCE)[0]
    saved = {key: g.get_state() for key, g in _random._defaults.items()}
    saved_seed = _random._global_seed[0]
    try:
        got, want = [], []
        for device, out in ((dev, got), (ref_dev, want)):  # on cpu: one generator, twice
            polytorch.manual_seed(1234)
            out.append(polytorch.randn(3, 5, dtype=f, device=device))
            out.append(polytorch.rand(3, 5, dtype=f, device=device))
        _compare(got[0], want[0], "randn after manual_seed(1234)")
        _compare(got[1], want[1], "the next draw (rand)")
    finally:
        _random._global_seed[0] = saved_seed
        for key, g in list(_random._defaults.items()):
            if key in saved:
                g.set_state(saved[key])
            else:
                g.manual_seed(saved_seed)
    return Outcome(PASS)
