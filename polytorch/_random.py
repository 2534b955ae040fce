"""Generators and seeding: the counter-based default generator (ARCHITECTURE §6).

Note [Counter-based random numbers]
A generator's whole state is a pair ``(seed, offset)`` of 64-bit integers. The
random bits of a call are Philox-4x32-10 (Salmon et al., "Parallel random
numbers: as easy as 1, 2, 3", SC 2011) applied to the counters ``offset,
offset + 1, ...`` under the key ``seed``; each counter gives four 32-bit words,
and the call advances ``offset`` past the counters it used. Philox needs only
32x32->64-bit products, xor, shifts and masks, which every array-API library
computes exactly in ``uint64``; so the same seed and the same call sequence give
bit-identical tensors on every backend (NumPy, JAX, CuPy, array_api_strict), and
no value depends on how the library schedules the work.

Note [Bit-identical floats]
Turning bits into floats must be exact too. Uniforms are integers scaled by a
power of two (exact). Normals (Box-Muller), exponentials, Cauchy and log-normal
samples need log, sin, cos and exp, whose last bits differ between libraries'
math kernels; so they are computed here from +, -, *, / and sqrt only (which
IEEE-754 rounds correctly, hence identically everywhere): range reduction by
exact powers of two, then fixed polynomials evaluated in a fixed order, one
library call per operation. One operation per call also means no backend can
fuse a multiply and an add into an FMA (JAX runs eager calls one by one; we never
jit these float paths). Nothing is divided by a constant: XLA rewrites that as a
multiplication by the reciprocal, so we multiply by a host-rounded reciprocal
ourselves (only array / array divisions remain). Coefficients are rounded to the
compute dtype on the host first, so no library rounds a Python float its own way. Half-precision
samples are computed in float32 and rounded once at the end. tests/test_random.py
checks every sampler bit for bit across backends.
"""

from __future__ import annotations

import math
import os
import time

import numpy as np

from . import _dtype as D
from ._device import resolve

__all__ = [
    "Generator", "default_generator", "manual_seed", "seed", "initial_seed", "get_rng_state",
    "set_rng_state",
]

_DEFAULT_SEED = 67280421310721  # PyTorch's default seed
_MASK32 = 0xFFFFFFFF
_MASK64 = (1 << 64) - 1
# Philox-4x32 multipliers and Weyl key increments (Random123).
_M0, _M1 = 0xD2511F53, 0xCD9E8D57
_W0, _W1 = 0x9E3779B9, 0xBB67AE85
_ROUNDS = 10
_STATE_BYTES = 16  # seed and offset, 8 little-endian bytes each


# -- generators ----------------------------------------------------------------------


class Generator:
    """A counter-based random number generator (Note [Counter-based random numbers]).

    Its state is ``(seed, offset)``; ``get_state`` returns it as 16 bytes (a uint8
    tensor) and ``set_state`` restores it. A generator serves tensors on devices
    of its device's type, on every backend alike.

    Example:
        >>> g = polytorch.Generator().manual_seed(42)
        >>> a = polytorch.rand(3, generator=g)
        >>> b = polytorch.rand(3, generator=g.manual_seed(42))
        >>> bool((a == b).all())
        True
    """

    __slots__ = ("_device", "_seed", "_offset")

    def __init__(self, device="cpu"):
        from ._device import device as Device

        self._device = Device(device) if not isinstance(device, Device) else device
        self._seed = _DEFAULT_SEED
        self._offset = 0

    @property
    def device(self):
        return self._device

    def manual_seed(self, seed) -> Generator:
        """Reset to ``seed`` (an int in [-2**63, 2**64)) and offset 0; returns ``self``."""
        self._seed = _check_seed(seed, "manual_seed")
        self._offset = 0
        return self

    def seed(self) -> int:
        """Seed from a non-deterministic source; returns the new seed."""
        s = int.from_bytes(os.urandom(8), "little") ^ time.perf_counter_ns()
        self._seed = s & _MASK64
        self._offset = 0
        return self._seed

    def initial_seed(self) -> int:
        return self._seed

    def get_offset(self) -> int:
        """How many Philox counters (four 32-bit words each) have been used since seeding."""
        return self._offset

    def set_offset(self, offset: int) -> Generator:
        if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= _MASK64:
            raise RuntimeError(f"set_offset expects an offset in [0, 2**64), got {offset!r}")
        self._offset = offset
        return self

    def get_state(self):
        """The state as a uint8 tensor of 16 bytes: seed then offset, little-endian."""
        from ._creation import tensor

        raw = self._seed.to_bytes(8, "little") + self._offset.to_bytes(8, "little")
        return tensor(np.frombuffer(raw, dtype=np.uint8).copy(), dtype=D.uint8)

    def set_state(self, new_state) -> Generator:
        """Restore a state returned by ``get_state``; returns ``self``."""
        from ._tensor import Tensor

        if not isinstance(new_state, Tensor):
            raise TypeError(
                f"expected a polytorch.ByteTensor, but got {type(new_state).__name__}"
            )
        if new_state.dtype is not D.uint8:
            raise TypeError("RNG state must be a polytorch.ByteTensor")
        if new_state.numel() != _STATE_BYTES:
            raise RuntimeError(
                f"Expected a PhiloxGeneratorState of size {_STATE_BYTES} but found the input "
                f"RNG state size to be {new_state.numel()}"
            )
        raw = bytes(np.asarray(new_state.detach().cpu().numpy(), dtype=np.uint8).reshape(-1))
        self._seed = int.from_bytes(raw[:8], "little")
        self._offset = int.from_bytes(raw[8:], "little")
        return self

    def __repr__(self) -> str:
        return f"<polytorch.Generator device={self._device} seed={self._seed}>"

    def _take(self, n_blocks: int) -> tuple[int, int]:
        """Reserve ``n_blocks`` counters: returns ``(seed, first counter)``."""
        start = self._offset
        self._offset = (start + n_blocks) & _MASK64
        return self._seed, start


def _check_seed(seed, fn: str) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise RuntimeError(f"{fn} expected a long, but got {type(seed).__name__}")
    seed = int(seed)
    if not -(1 << 63) <= seed <= _MASK64:
        raise ValueError("Overflow when unpacking long long")
    return seed & _MASK64


default_generator = Generator("cpu")
# One default generator per device type and index, as PyTorch keeps one per CUDA
# device; all are seeded together by manual_seed and seed.
_defaults = {("cpu", None): default_generator}
_global_seed = [_DEFAULT_SEED]


def _default_for(dev) -> Generator:
    key = (dev.type, dev.index if dev.type != "cpu" else None)
    g = _defaults.get(key)
    if g is None:
        g = _defaults[key] = Generator(dev).manual_seed(_global_seed[0])
    return g


def manual_seed(seed) -> Generator:
    """Seed every default generator (all devices); returns ``default_generator``.

    Example:
        >>> polytorch.manual_seed(0)
        >>> a = polytorch.randn(2, device="cpu@jax")
        >>> polytorch.manual_seed(0)
        >>> b = polytorch.randn(2, device="cpu")   # the same bits
    """
    if isinstance(seed, float):
        seed = int(seed)
    s = _check_seed(seed, "manual_seed")
    _global_seed[0] = s
    for g in _defaults.values():
        g.manual_seed(s)
    return default_generator


def seed() -> int:
    """Seed every default generator non-deterministically; returns the seed."""
    s = default_generator.seed()
    _global_seed[0] = s
    for g in _defaults.values():
        g.manual_seed(s)
    return s


def initial_seed() -> int:
    """The seed of ``default_generator``."""
    return default_generator.initial_seed()


def get_rng_state():
    """``default_generator.get_state()``."""
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    """``default_generator.set_state(new_state)``."""
    default_generator.set_state(new_state)


def _generator_for(generator, dev) -> Generator:
    if generator is None:
        return _default_for(dev)
    if not isinstance(generator, Generator):
        raise TypeError(
            f"generator must be a polytorch.Generator, not {type(generator).__name__}"
        )
    if generator._device.type != dev.type:
        raise RuntimeError(
            f"Expected a '{dev.type}' device type for generator but found "
            f"'{generator._device.type}'"
        )
    return generator


# -- raw bits ----------------------------------------------------------------------------


def _philox(xp, c0, c1, c2, c3, k0: int, k1: int):
    """Philox-4x32-10 of counter words ``c0..c3`` (uint64 arrays holding 32-bit values)."""
    for r in range(_ROUNDS):
        if r:
            k0, k1 = (k0 + _W0) & _MASK32, (k1 + _W1) & _MASK32
        p0 = c0 * _M0
        p1 = c2 * _M1
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & _MASK32, (p0 >> 32) ^ c3 ^ k1, p0 & _MASK32
    return c0, c1, c2, c3


def _philox_stream(xp, width: int, device, k0, k1, start):
    """The 4 * ``width`` words of counters ``start, start + 1, ...`` (block-major order)."""
    u64 = xp.uint64
    ctr = xp.arange(width, dtype=u64, device=device)
    if not isinstance(start, int) or start:
        # (an array: JAX takes no Python int of 2**63 or more)
        ctr = ctr + (xp.asarray(start, dtype=u64, device=device)
                     if isinstance(start, int) else start)  # wraps modulo 2**64
    zero = xp.zeros((width,), dtype=u64, device=device)
    out = _philox(xp, ctr & _MASK32, ctr >> 32, zero, zero, k0, k1)
    return xp.reshape(xp.stack(out, axis=1), (4 * width,))


def _philox_stream_jax():
    """``_philox_stream`` compiled by JAX: integer ops only, so compiling cannot change bits."""
    import jax

    jitted = jax.jit(_philox_stream, static_argnums=(0, 1, 2))

    def stream(xp, width, device, k0, k1, start):
        u64 = xp.uint64
        args = (xp.asarray(k0, dtype=u64), xp.asarray(k1, dtype=u64),
                xp.asarray(start, dtype=u64))
        args = jax.device_put(args, device)
        return jitted(xp, width, None, *args)

    return stream


# Backend-native versions of ``_philox_stream`` (same arithmetic, compiled), built on first
# use.
_STREAM_NATIVE = {"jax": _philox_stream_jax}
_stream_cache: dict = {}
# Backends that compile every op once per shape (JAX, eagerly too). Their samples are
# computed on flat arrays of a few bucketed lengths and cut to size at the end, so a new
# shape compiles a slice and a reshape, not the whole sampler. Values do not change:
# element i depends only on the words of element i, and the generator advances by the
# counters of the real elements only, so the next call starts where this one stopped.
_PER_SHAPE_COMPILERS = {"jax"}


def _stream_for(backend):
    if backend.name not in _stream_cache:
        make = _STREAM_NATIVE.get(backend.name)
        _stream_cache[backend.name] = make() if make is not None else None
    return _stream_cache[backend.name]


def _padded(backend, n: int) -> int:
    """The length samples of ``n`` elements are computed at on ``backend``."""
    if backend.name not in _PER_SHAPE_COMPILERS:
        return n
    if n <= 1 << 16:
        return max(64, 1 << (n - 1).bit_length())
    return -(-n // (1 << 16)) << 16


def _words(n: int, dev, backend, generator, length: int | None = None) -> object:
    """``n`` random 32-bit words (a uint64 array) from ``generator``'s next counters.

    The array has ``length`` (>= ``n``) words when given; the generator advances by
    the counters of the first ``n`` only.
    """
    length = n if length is None else length
    n_blocks = -(-n // 4)
    seed_, start = generator._take(n_blocks)
    k0, k1 = seed_ & _MASK32, seed_ >> 32
    native = _stream_for(backend)
    width = -(-length // 4)
    if native is None:
        words = _philox_stream(backend.xp, width, dev._native, k0, k1, start)
    else:
        words = native(backend.xp, _padded(backend, width), dev._native, k0, k1, start)
    return words if words.shape[0] == length else words[:length]


def _bits(shape, wide: bool, dev, backend, generator, then=None):
    """Random integers of ``shape`` (uint64 array): 32-bit, or 64-bit when ``wide``.

    ``then(xp, flat)``, when given, maps the flat (possibly padded) array elementwise
    before it is cut to ``shape``; its result is what is returned.
    """
    xp = backend.xp
    n = math.prod(shape)
    length = _padded(backend, n)
    if not wide:
        flat = _words(n, dev, backend, generator, length)
    else:
        w = xp.reshape(_words(2 * n, dev, backend, generator, 2 * length), (length, 2))
        flat = (w[:, 0] << 32) | w[:, 1]
    if then is not None:
        flat = then(xp, flat)
    return _cut(xp, flat, n, shape)


def _cut(xp, flat, n: int, shape):
    if flat.shape[0] != n:
        flat = flat[:n]
    return xp.reshape(flat, shape)


# -- floats --------------------------------------------------------------------------------

_FLOAT_BITS = {D.float16: 11, D.bfloat16: 8, D.float32: 24, D.float64: 53}


def _compute_dtype(dtype):
    """The dtype samples of ``dtype`` are computed in (float32 for half types)."""
    return D.float64 if dtype is D.float64 else D.float32


def _unit(shape, dtype, dev, backend, generator, open_: bool = False, then=None):
    """Uniform floats in [0, 1) (or (0, 1) when ``open_``) in ``_compute_dtype(dtype)``.

    Values are ``k * 2**-p`` with ``p`` the significand bits of ``dtype`` (24 for
    float32, 53 for float64, 11 for float16, 8 for bfloat16), ``k`` the top bits of
    the random word; the open form is ``(2k + 1) * 2**-p`` with ``k`` of ``p - 1``
    bits. Both are exact in the compute dtype. ``then`` as in ``_bits``.
    """
    p = _FLOAT_BITS[dtype]
    wide = p > 32
    width = 64 if wide else 32
    ct = backend.native_dtype(_compute_dtype(dtype))

    def to_float(xp, k):
        if open_:
            k = ((k >> (width - p + 1)) << 1) | 1
        else:
            k = k >> (width - p)
        u = xp.astype(k, ct) * (2.0 ** -p)
        return u if then is None else then(xp, u)

    return _bits(shape, wide, dev, backend, generator, to_float)


def _std_normal(shape, dtype, dev, backend, generator, then=None):
    """Standard normals in the compute dtype: Box-Muller on pairs of uniforms.

    Pair ``i`` uses uniforms ``2i`` (radius) and ``2i + 1`` (angle) and yields
    normals ``2i`` and ``2i + 1``; an odd count drops the last sine. ``then`` as in
    ``_bits``.
    """
    n = math.prod(shape)
    m = -(-n // 2)
    p = _FLOAT_BITS[dtype]
    wide = p > 32
    width = 64 if wide else 32
    ct = backend.native_dtype(_compute_dtype(dtype))
    scale = 2.0 ** -p

    def box_muller(xp, k):
        k = xp.reshape(k, (k.shape[0] // 2, 2))
        # radius uniform in (0, 1]: (k + 1) * 2**-p; angle uniform in [0, 1): k * 2**-p
        u1 = (xp.astype(k[:, 0] >> (width - p), ct) + 1.0) * scale
        u2 = xp.astype(k[:, 1] >> (width - p), ct) * scale
        r = xp.sqrt(_log(xp, u1) * -2.0)
        s, c = _sincos_turns(xp, u2)
        z = xp.reshape(xp.stack((r * c, r * s), axis=1), (2 * k.shape[0],))
        return z if then is None else then(xp, z)

    z = _bits((2 * m,), wide, dev, backend, generator, box_muller)
    return _cut(backend.xp, z, n, shape)


def _uniform(shape, dtype, device=None, generator=None):
    """Raw backend array of uniform [0, 1) floats of ``dtype`` (for dropout and init).

    ``shape`` is a tuple, ``dtype`` a floating polytorch dtype, ``device`` anything
    ``polytorch.device`` accepts; the default generator of the device is used
    when ``generator`` is None.
    """
    dev, backend = resolve(device)
    g = _generator_for(generator, dev)
    return _unit(tuple(shape), dtype, dev, backend, g,
                 then=lambda xp, u: _cast(backend, u, dtype))


def _normal(shape, dtype, device=None, generator=None):
    """Raw backend array of standard normal floats of ``dtype`` (Box-Muller)."""
    dev, backend = resolve(device)
    g = _generator_for(generator, dev)
    return _std_normal(tuple(shape), dtype, dev, backend, g,
                       then=lambda xp, z: _cast(backend, z, dtype))


def _host_round(v: float, dtype) -> float:
    """The Python float ``v`` rounded to the float ``dtype`` (float32 or float64) on the host."""
    if dtype is not D.float32:
        return float(v)
    with np.errstate(over="ignore"):
        return float(np.float32(v))


def _cast(backend, arr, dtype):
    nd = backend.native_dtype(dtype)
    return arr if arr.dtype == nd else backend.xp.astype(arr, nd)


# -- exact-arithmetic math (Note [Bit-identical floats]) ------------------------------------


def _is64(x) -> bool:
    return "64" in str(x.dtype)


def _horner(x, coeffs):
    """``coeffs[0] + x * (coeffs[1] + x * (...))`` one operation at a time."""
    acc = x * coeffs[-1] + coeffs[-2]
    for c in reversed(coeffs[:-2]):
        acc = acc * x + c
    return acc


# log(m) = 2 atanh(s), s = (m - 1) / (m + 1): coefficients of s**2k, k = 0.., are 1/(2k+1).
_LOG_TERMS = {True: 11, False: 5}
_LN2 = math.log(2.0)
_SQRT_HALF = math.sqrt(0.5)


def _log(xp, x):
    """Natural log of positive normal floats ``x <= 1`` (range reduction by powers of two)."""
    wide = _is64(x)
    e = xp.zeros_like(x)
    for s in ((32, 16, 8, 4, 2, 1) if wide else (16, 8, 4, 2, 1)):
        small = x < 2.0 ** -s
        x = xp.where(small, x * 2.0 ** s, x)
        e = xp.where(small, e - float(s), e)
    # now x in [1/2, 1]: move to [sqrt(1/2), sqrt(2))
    small = x < _SQRT_HALF
    x = xp.where(small, x * 2.0, x)
    e = xp.where(small, e - 1.0, e)
    s = (x - 1.0) / (x + 1.0)
    s2 = s * s
    t = np.float64 if wide else np.float32
    coeffs = [float(t(1.0 / (2 * k + 1))) for k in range(_LOG_TERMS[wide])]
    poly = _horner(s2, coeffs)
    ln2 = float(t(_LN2))
    return e * ln2 + (s + s) * poly


def _sincos_turns(xp, t):
    """``(sin 2*pi*t, cos 2*pi*t)`` for ``t`` in [0, 1] whose ``4t`` is exact."""
    wide = _is64(t)
    tp = np.float64 if wide else np.float32
    v = t * 4.0
    q = xp.round(v)
    a = (v - q) * float(tp(math.pi / 2))  # in [-pi/4, pi/4]
    a2 = a * a
    n_sin, n_cos = (9, 9) if wide else (5, 5)
    # sin a = a (1 - a2/3! + ...), cos a = 1 - a2/2! + ...
    sin_c = [float(tp((-1) ** k / math.factorial(2 * k + 1))) for k in range(n_sin)]
    cos_c = [float(tp((-1) ** k / math.factorial(2 * k))) for k in range(n_cos + 1)]
    sa = a * _horner(a2, sin_c)
    ca = _horner(a2, cos_c)
    qi = xp.astype(q, xp.int64) % 4
    # quadrant q: angle = q * pi/2 + a
    sin = xp.where(qi == 0, sa, xp.where(qi == 1, ca, xp.where(qi == 2, -sa, -ca)))
    cos = xp.where(qi == 0, ca, xp.where(qi == 1, -sa, xp.where(qi == 2, -ca, sa)))
    return sin, cos


_EXP_TERMS = {True: 14, False: 8}
# Cody-Waite split of ln 2: k * hi is exact for |k| < 2**11 (float64) / 2**8 (float32).
_LN2_SPLIT = {True: (6.93147180369123816490e-01, 1.90821492927058770002e-10),
              False: (0.693145751953125, 1.428606765330187045e-06)}


def _exp(xp, x):
    """``exp(x)`` for finite ``x``: ``2**k * exp(r)``, ``|r| <= ln(2)/2``."""
    wide = _is64(x)
    tp = np.float64 if wide else np.float32
    limit = 1200.0 if wide else 160.0
    x = xp.clip(x, -limit, limit)
    k = xp.round(x * float(tp(1.0 / _LN2)))
    hi, lo = (float(tp(c)) for c in _LN2_SPLIT[wide])
    r = (x - k * hi) - k * lo
    coeffs = [float(tp(1.0 / math.factorial(i))) for i in range(_EXP_TERMS[wide])]
    y = _horner(r, coeffs)
    # times 2**k, by exact power-of-two factors (no ldexp in the array API)
    ki = xp.astype(k, xp.int64)
    mag = xp.abs(ki)
    neg = ki < 0
    top = 9 if wide else 6  # 2**(2**top) is the largest such power the dtype holds
    one = xp.ones_like(y)
    for j in range(11 if wide else 8):
        bit = ((mag >> j) & 1) == 1
        reps, jj = (1, j) if j <= top else (1 << (j - top), top)
        factor = xp.where(neg, one * 2.0 ** -(2 ** jj), one * 2.0 ** (2 ** jj))
        factor = xp.where(bit, factor, one)
        for _ in range(reps):
            y = y * factor
    return y
