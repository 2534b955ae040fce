"""Random sampling over the counter-based generator (polytorch/_random.py).

Samplers draw raw backend arrays from ``_random`` and wrap them; none is a
registered op: a sample has no gradient, except where PyTorch defines one
(``normal`` with tensor mean/std, and ``bernoulli``'s zero gradient), which is
composed from differentiable ops. Every sampler gives the same bits on every
backend (Note [Counter-based random numbers], Note [Bit-identical floats]).
"""

from __future__ import annotations

import contextlib
import math
import numbers

from .. import _dtype as D
from .. import _random as R
from .._creation import _finish, _place, _size_arg
from .._tensor import Tensor, _wrap

__all__ = [  # exported as polytorch.NAME
    "bernoulli", "multinomial", "normal", "rand", "rand_like", "randint", "randint_like",
    "randn", "randn_like", "randperm",
]

# PyTorch's names for dtypes in kernel-dispatch errors, and their C types in range errors.
_SCALAR_NAME = {D.bool: "Bool", D.uint8: "Byte", D.int8: "Char", D.int16: "Short",
                D.int32: "Int", D.int64: "Long", D.float16: "Half", D.bfloat16: "BFloat16",
                D.float32: "Float", D.float64: "Double", D.complex64: "ComplexFloat",
                D.complex128: "ComplexDouble"}
_C_NAME = {D.bool: "bool", D.uint8: "unsigned char", D.int8: "signed char", D.int16: "short",
           D.int32: "int", D.int64: "long int", D.float16: "c10::Half",
           D.bfloat16: "c10::BFloat16", D.float32: "float", D.float64: "double"}


def _quiet(backend):
    """The backend's quiet floating-point context (no overflow warnings from NumPy)."""
    q = backend.quiet_context
    return q() if q is not None else contextlib.nullcontext()


def _fmt(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _require(dtype, kernel: str, complex_ok: bool = True) -> None:
    if dtype.kind not in ("fc" if complex_ok else "f"):
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_SCALAR_NAME[dtype]}\'')


def _real(dtype):
    return {D.complex64: D.float32, D.complex128: D.float64}.get(dtype, dtype)


def _int_limits(dtype):
    if dtype is D.bool:
        return 0, 1
    bits = 8 * dtype.itemsize
    if dtype is D.uint8:
        return 0, 255
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def _host_round(v: float, dtype) -> float:
    """``v`` rounded to ``dtype``'s compute dtype on the host (Note [Bit-identical floats]):
    then no library rounds the Python float its own way."""
    return R._host_round(v, R._compute_dtype(_real(dtype)))


def _wrap_out(data, dev, dtype, requires_grad):
    return _finish(data, dev, dtype, requires_grad)


def _gen(generator, dev):
    return R._generator_for(generator, dev)


# -- float samples ----------------------------------------------------------------------


def _float_sample(kind, shape, dtype, dev, backend, g, then=None):
    """Uniform [0, 1) (``kind == "uniform"``) or standard normal samples of ``dtype``,
    mapped by ``then(xp, samples)`` (elementwise) and cast to ``dtype``.

    Complex dtypes get independent real and imaginary parts (each normal part with
    variance 1/2, as PyTorch's complex normal).
    """
    xp = backend.xp
    real = _real(dtype)
    draw = R._unit if kind == "uniform" else R._std_normal
    if real is dtype:
        def finish(xp, x):
            return R._cast(backend, x if then is None else then(xp, x), dtype)

        return draw(shape, dtype, dev, backend, g, then=finish)
    parts = draw(tuple(shape) + (2,), real, dev, backend, g)
    if kind == "normal":
        parts = parts * _host_round(math.sqrt(0.5), real)
    cd = backend.native_dtype(dtype)
    re, im = xp.astype(parts[..., 0], cd), xp.astype(parts[..., 1], cd)
    out = re + im * 1j
    return out if then is None else then(xp, out)


def _sample(kind, size, fn, generator, dtype, device, requires_grad):
    shape = _size_arg(size, fn)
    dt = D.as_dtype(dtype) or D.get_default_dtype()
    _require(dt, "check_uniform_bounds" if kind == "uniform" else "normal_kernel_cpu")
    dev, backend = _place(dt, device)
    g = _gen(generator, dev)
    with _quiet(backend):
        data = _float_sample(kind, shape, dt, dev, backend, g)
    return _wrap_out(data, dev, dt, requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1): ``rand(2, 3)`` or ``rand((2, 3))``.

    Example:
        >>> polytorch.manual_seed(0)
        >>> polytorch.rand(2, 3).shape
        polytorch.Size([2, 3])
    """
    return _sample("uniform", size, "rand", generator, dtype, device, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples: ``randn(2, 3)``.

    Example:
        >>> polytorch.randn(4, device="cpu@jax").dtype
        polytorch.float32
    """
    return _sample("normal", size, "randn", generator, dtype, device, requires_grad)


def _like(input, dtype, device):
    dt = D.as_dtype(dtype) or input._dtype
    return tuple(input.shape), dt, (device if device is not None else input._device)


def rand_like(input: Tensor, *, generator=None, dtype=None, device=None,
              requires_grad: bool = False, memory_format=None) -> Tensor:
    """``rand`` with ``input``'s shape, dtype and device."""
    shape, dt, dev = _like(input, dtype, device)
    return rand(shape, generator=generator, dtype=dt, device=dev, requires_grad=requires_grad)


def randn_like(input: Tensor, *, generator=None, dtype=None, device=None,
               requires_grad: bool = False, memory_format=None) -> Tensor:
    """``randn`` with ``input``'s shape, dtype and device."""
    shape, dt, dev = _like(input, dtype, device)
    return randn(shape, generator=generator, dtype=dt, device=dev, requires_grad=requires_grad)


# -- integer samples ---------------------------------------------------------------------


def _check_int(value, name: str, fn: str, pos: int) -> int:
    if isinstance(value, Tensor):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{fn}(): argument '{name}' (position {pos}) must be int, not {type(value).__name__}"
        )
    value = int(value)
    if not -(1 << 63) <= value < (1 << 63):
        raise ValueError("Overflow when unpacking long long")
    return value


def _check_range(low: int, high: int, dtype) -> None:
    """PyTorch's checks of ``random_(from, to)`` / ``randint`` bounds for ``dtype``."""
    if low >= high:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
        )
    if dtype.kind in "biu":
        lo, hi = _int_limits(dtype)
        if not lo <= low <= hi:
            raise RuntimeError(f"from is out of bounds for {_C_NAME[dtype]}")
        if not lo <= high - 1 <= hi:
            raise RuntimeError(f"to - 1 is out of bounds for {_C_NAME[dtype]}")


def _integers(shape, low: int, high: int, dtype, dev, backend, g):
    """Integers uniform on [low, high) as an array of ``dtype`` (``random % range``).

    Ranges of 2**32 or more use 64-bit words, smaller ones 32-bit words (as PyTorch).
    """
    xp = backend.xp
    span = high - low

    def u64(v):  # uint64 constants as arrays: JAX takes no Python int of 2**63 or more
        return xp.asarray(v, dtype=xp.uint64, device=dev._native)

    def from_bits(xp, v):
        if span < (1 << 64):
            v = v % (u64(span) if span >= (1 << 63) else span)
        if low == 0 and span <= (1 << 63):
            return R._cast(backend, xp.astype(v, xp.int64), dtype)
        # v + low as int64 without a uint64 -> int64 cast of values >= 2**63 (unspecified
        # by the array API): add modulo 2**64, then apply the sign bit by hand.
        u = v + u64(low & R._MASK64)
        val = xp.astype(u & ((1 << 63) - 1), xp.int64)
        val = xp.where(u >= u64(1 << 63), val + (-(1 << 63)), val)
        return R._cast(backend, val, dtype)

    return R._bits(shape, span >= (1 << 32), dev, backend, g, from_bits)


def randint(*args, size=None, generator=None, dtype=None, device=None,
            requires_grad: bool = False, low=None, high=None) -> Tensor:
    """Integers uniform on [low, high): ``randint(high, size)`` or ``randint(low, high, size)``.

    Example:
        >>> polytorch.randint(3, 10, (2, 2)).dtype
        polytorch.int64
    """
    args = list(args)
    if size is None and args and isinstance(args[-1], (tuple, list)):
        size = args.pop()
    if low is not None:
        args.insert(0, low)
    if high is not None:
        args.append(high)
    if size is None or len(args) not in (1, 2):
        raise TypeError("randint() missing required arguments: expected (high, size) or "
                        "(low, high, size)")
    if len(args) == 1:
        low_, high_ = 0, _check_int(args[0], "high", "randint", 1)
    else:
        low_ = _check_int(args[0], "low", "randint", 1)
        high_ = _check_int(args[1], "high", "randint", 2)
    dt = D.as_dtype(dtype) or D.int64
    return _randint(_size_arg((size,), "randint"), low_, high_, dt, device, generator,
                    requires_grad)


def _randint(shape, low, high, dt, device, generator, requires_grad):
    _check_range(low, high, dt)
    dev, backend = _place(dt, device)
    g = _gen(generator, dev)
    with _quiet(backend):
        data = _integers(shape, low, high, dt, dev, backend, g)
    return _wrap_out(data, dev, dt, requires_grad)


def randint_like(input: Tensor, *args, generator=None, dtype=None, device=None,
                 requires_grad: bool = False, memory_format=None, low=None, high=None) -> Tensor:
    """``randint`` with ``input``'s shape, dtype and device: ``randint_like(x, [low,] high)``."""
    args = list(args)
    if low is not None:
        args.insert(0, low)
    if high is not None:
        args.append(high)
    if len(args) == 1:
        low_, high_ = 0, _check_int(args[0], "high", "randint_like", 2)
    elif len(args) == 2:
        low_ = _check_int(args[0], "low", "randint_like", 2)
        high_ = _check_int(args[1], "high", "randint_like", 3)
    else:
        raise TypeError("randint_like() expected (input, high) or (input, low, high)")
    shape, dt, dev = _like(input, dtype, device)
    return _randint(shape, low_, high_, dt, dev, generator, requires_grad)


def randperm(n: int, *, generator=None, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """A random permutation of ``0 .. n-1``: the ranks of ``n`` random 64-bit keys.

    Example:
        >>> sorted(polytorch.randperm(5).tolist())
        [0, 1, 2, 3, 4]
    """
    n = _check_int(n, "n", "randperm", 1)
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    dt = D.as_dtype(dtype) or D.int64
    if dt is D.bool or dt.kind == "c":
        raise NotImplementedError(f'"randperm" not implemented for \'{_SCALAR_NAME[dt]}\'')
    if dt.kind in "iu" and n - 1 > _int_limits(dt)[1]:
        raise RuntimeError(f"value cannot be converted to type {dt.name}_t without overflow")
    dev, backend = _place(dt, device)
    g = _gen(generator, dev)
    xp = backend.xp
    keys = R._bits((n,), True, dev, backend, g)
    # A stable sort makes (astronomically rare) equal keys rank the same everywhere.
    perm = xp.argsort(keys, stable=True)
    return _wrap_out(R._cast(backend, perm, dt), dev, dt, requires_grad)


# -- distributions of tensors ---------------------------------------------------------


def _zero_grad_link(out: Tensor, src: Tensor) -> Tensor:
    """``out``, given a zero gradient path to ``src`` when ``src`` requires grad.

    PyTorch records samplers such as ``bernoulli`` with a zero derivative, so their
    results require grad; ``where`` passes ``src`` a zero gradient and ``out``'s
    exact values (``src * 0`` would turn an inf into nan).
    """
    from ..autograd import is_grad_enabled
    from . import elementwise as E

    if not (src._requires_grad and is_grad_enabled()):
        return out
    dev = out._device
    xp = dev._impl[1].xp
    keep = _wrap(xp.ones(tuple(out.shape), dtype=xp.bool, device=dev._native), dev, D.bool)
    return E.where(keep, out, src)


def _check_probs(p: Tensor) -> None:
    xp = p._device._impl[1].xp
    bad = xp.any(xp.logical_not(xp.logical_and(p._data >= 0, p._data <= 1)))
    if bool(bad):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")


def _check_p(p, fn: str) -> float:
    p = float(p)
    if not 0 <= p <= 1:
        raise RuntimeError(f"{fn} expects p to be in [0, 1], but got p={_fmt(p)}")
    return p


def _bernoulli_values(self: Tensor, p, generator) -> Tensor:
    """0/1 samples of ``self``'s shape and dtype with probability ``p`` (number or tensor)."""
    dev = self._device
    backend = dev._impl[1]
    xp = backend.xp
    shape = tuple(self.shape)
    if isinstance(p, Tensor):
        from . import shape as S

        if p._device != dev:
            p = p.to(dev)
        if p._dtype.kind != "f":
            raise NotImplementedError(
                f'"bernoulli_tensor_cpu_p_" not implemented for \'{_SCALAR_NAME[p._dtype]}\''
            )
        p = S.expand(p.detach(), shape) if tuple(p.shape) != shape else p.detach()
        _check_probs(p)
        work = R._compute_dtype(p._dtype)
        pa = p._data if p._dtype is work else xp.astype(p._data, backend.native_dtype(work))
    else:
        work = D.float64 if self._dtype is D.float64 else D.float32
        pa = R._host_round(_check_p(p, "bernoulli_"), work)
    g = _gen(generator, dev)
    nd = backend.native_dtype(self._dtype)
    with _quiet(backend):
        if isinstance(pa, float):
            data = R._unit(shape, work, dev, backend, g,
                           then=lambda xp, u: xp.astype(u < pa, nd))
        else:
            data = xp.astype(R._unit(shape, work, dev, backend, g) < pa, nd)
    return _wrap(data, dev, self._dtype)


def bernoulli(input: Tensor, p=None, *, generator=None) -> Tensor:
    """0/1 samples with probabilities ``input`` (or the number/tensor ``p``), ``input``'s dtype.

    Example:
        >>> polytorch.bernoulli(polytorch.tensor([0., 1.])).tolist()
        [0.0, 1.0]
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"bernoulli(): argument 'input' must be Tensor, not {type(input).__name__}")
    if p is None:
        if input._dtype.kind != "f":
            raise NotImplementedError(
                f'"bernoulli_tensor_cpu_p_" not implemented for \'{_SCALAR_NAME[input._dtype]}\''
            )
        out = _bernoulli_values(input, input, generator)
    else:
        out = _bernoulli_values(input, p, generator)
    return _zero_grad_link(out, input)


def _bernoulli_(self: Tensor, p=0.5, *, generator=None) -> Tensor:
    return _bernoulli_values(self, p, generator)


def _check_float_tensor(t, fn: str) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be Tensor, not {type(t).__name__}")


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator=None) -> Tensor:
    """Indices sampled from the categorical distributions in the rows of ``input``.

    With replacement: inverse CDF (an exact, fixed-order prefix sum and a binary
    search). Without: the ``num_samples`` smallest of ``E_i / p_i`` with ``E_i``
    exponential (equivalent to sequential sampling; Gumbel-top-k in another form).

    Example:
        >>> polytorch.multinomial(polytorch.tensor([0., 1., 0.]), 2, True).tolist()
        [1, 1]
    """
    _check_float_tensor(input, "multinomial")
    n = _check_int(num_samples, "num_samples", "multinomial", 2)
    if input.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if input._dtype.kind != "f":
        raise RuntimeError(
            f"multinomial only supports floating-point dtypes for input, got: "
            f"{_SCALAR_NAME[input._dtype]}"
        )
    if n <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    k = input.shape[-1]
    if not replacement and n > k:
        raise RuntimeError(
            "cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if k > 1 << 24:
        raise RuntimeError("number of categories cannot exceed 2^24")
    dev = input._device
    backend = dev._impl[1]
    xp = backend.xp
    rows = input.shape[0] if input.ndim == 2 else 1
    out_shape = (rows, n) if input.ndim == 2 else (n,)
    if rows == 0:
        return _wrap(xp.zeros(out_shape, dtype=xp.int64, device=dev._native), dev, D.int64)
    work = R._compute_dtype(input._dtype)
    ct = backend.native_dtype(work)
    p = xp.reshape(input.detach()._data, (rows, k))
    if p.dtype != ct:
        p = xp.astype(p, ct)
    with _quiet(backend):
        if bool(xp.any(xp.logical_not(xp.logical_and(p >= 0, xp.isfinite(p))))):
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        cdf = _prefix_sum(xp, p, dev._native)
        if bool(xp.any(cdf[:, -1] <= 0)):
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        g = _gen(generator, dev)
        if replacement:
            u = R._unit((rows, n), work, dev, backend, g)
            x = u * cdf[:, -1:]
            idx = _count_le(xp, cdf, x, dev._native)
            # x < total, so idx < k, except when u * total rounds up to total: then
            # take the category where the cdf reaches the total.
            total = cdf[:, -1:]
            idx = xp.minimum(idx, _count_le(xp, cdf, total, dev._native, strict=True))
        else:
            e = -R._log(xp, R._unit((rows, k), work, dev, backend, g, open_=True))
            pos = p > 0
            keys = xp.where(pos, e / xp.where(pos, p, xp.ones_like(p)),
                            xp.full_like(p, math.inf))
            idx = xp.argsort(keys, axis=1, stable=True)[:, :n]
            idx = xp.astype(idx, xp.int64)
    return _wrap(xp.reshape(idx, out_shape), dev, D.int64)


def _prefix_sum(xp, p, device):
    """Inclusive prefix sums along axis 1, in the same order on every backend.

    Libraries differ in their summation order (XLA scans in a tree), hence in the
    last bits; this Hillis-Steele scan adds in a fixed order with one exact IEEE
    addition per element and step.
    """
    rows, k = p.shape
    step = 1
    while step < k:
        pad = xp.zeros((rows, step), dtype=p.dtype, device=device)
        p = p + xp.concat((pad, p[:, :k - step]), axis=1)
        step *= 2
    return p


def _count_le(xp, cdf, x, device, strict: bool = False):
    """For each ``x[r, j]``: how many ``cdf[r, :]`` (non-decreasing) are ``<= x[r, j]``
    (``< x[r, j]`` when ``strict``)."""
    rows, k = cdf.shape
    n = x.shape[1]
    flat = xp.reshape(cdf, (rows * k,))
    base = xp.reshape(xp.arange(rows, dtype=xp.int64, device=device) * k, (rows, 1))
    lo = xp.zeros((rows, n), dtype=xp.int64, device=device)
    hi = xp.full((rows, n), k, dtype=xp.int64, device=device)
    for _ in range(k.bit_length()):
        mid = (lo + hi) // 2
        at = xp.reshape(xp.take(flat, xp.reshape(base + xp.minimum(mid, k - 1), (-1,))),
                        (rows, n))
        go = xp.logical_and(at < x if strict else at <= x, lo < hi)
        lo = xp.where(go, mid + 1, lo)
        hi = xp.where(go, hi, mid)
    return lo


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Normal samples: ``normal(mean, std)`` with tensor (broadcast) or number arguments,
    or ``normal(mean, std, size)`` with numbers.

    Gradients flow to tensor ``mean`` and ``std`` (``out = mean + std * z``).

    Example:
        >>> polytorch.normal(polytorch.zeros(3), 2.0).shape
        polytorch.Size([3])
    """
    from . import elementwise as E

    m_t, s_t = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not m_t and not s_t:
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments - got "
                            "(float, float), but expected (Tensor mean, Tensor std) or "
                            "(float mean, float std, tuple of ints size)")
        mean, std = float(mean), float(std)
        if not std >= 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt(std)}")
        shape = _size_arg((size,), "normal")
        dt = D.as_dtype(dtype) or D.get_default_dtype()
        _require(dt, "normal_kernel_cpu")
        dev, backend = _place(dt, device)
        z = _normal_values(shape, dt, dev, backend, generator, mean, std)
        return _wrap_out(z, dev, dt, requires_grad)
    if size is not None:
        raise TypeError("normal() received an invalid combination of arguments - got "
                        "(Tensor, ..., size=tuple): size is only for float mean and std")
    ref = mean if m_t else std
    dt = ref._dtype
    _require(dt, "normal_kernel_cpu")
    if s_t:
        xp = std._device._impl[1].xp
        if bool(xp.any(std._data < 0)):
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif not float(std) >= 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt(float(std))}")
    if m_t and s_t:
        from .shape import broadcast_shapes

        shape = tuple(broadcast_shapes(mean.shape, std.shape))
    else:
        shape = tuple(ref.shape)
    dev = ref._device
    backend = dev._impl[1]
    z = _wrap(_normal_values(shape, dt, dev, backend, generator, 0.0, 1.0), dev, dt)
    mean = mean.to(dt) if m_t and mean._dtype is not dt else mean
    std = std.to(dt) if s_t and std._dtype is not dt else std
    if s_t:
        return E.add(E.mul(std, z), mean if m_t else _host_round(float(mean), dt))
    return E.add(E.mul(z, _host_round(float(std), dt)), mean)


def _normal_values(shape, dt, dev, backend, generator, mean: float, std: float):
    """``z * std + mean`` (z standard normal), one rounding per step, as an array of ``dt``."""
    g = _gen(generator, dev)
    s, m = _host_round(std, dt), _host_round(mean, dt)

    def scale(xp, z):
        if std != 1.0:
            z = z * s
        return z + m if mean != 0.0 else z

    with _quiet(backend):
        return _float_sample("normal", shape, dt, dev, backend, g, scale)


# -- in-place samplers (OVERWRITE_METHODS: each computes the new value) -------------------


def _cast_to(self: Tensor, data):
    return R._cast(self._device._impl[1], data, self._dtype)


def _new(self: Tensor, data) -> Tensor:
    backend = self._device._impl[1]
    return _wrap(R._cast(backend, data, self._dtype), self._device, self._dtype)


def _env(self: Tensor, generator):
    dev = self._device
    backend = dev._impl[1]
    return dev, backend, backend.xp, _gen(generator, dev)


def _check_bound(v: float, name: str, dtype) -> None:
    real = _real(dtype)
    lim = _FMAX[real]
    if not (-lim <= v <= lim):
        raise RuntimeError(f"{name} is out of bounds for {_C_NAME[real]}")


_FMAX = {D.float16: 65504.0, D.bfloat16: 3.3895313892515355e38,
         D.float32: 3.4028234663852886e38, D.float64: 1.7976931348623157e308}


def _uniform_(self: Tensor, from_=0.0, to=1.0, *, generator=None) -> Tensor:
    _require(self._dtype, "check_uniform_bounds")
    from_, to = float(from_), float(to)
    _check_bound(from_, "from", self._dtype)
    _check_bound(to, "to", self._dtype)
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={_fmt(from_)} > to={_fmt(to)}")
    dev, backend, xp, g = _env(self, generator)
    span, lo = _host_round(to - from_, self._dtype), _host_round(from_, self._dtype)

    def scale(xp, u):
        return u * span + lo if (from_, to) != (0.0, 1.0) else u

    with _quiet(backend):
        return _new(self, _float_sample("uniform", tuple(self.shape), self._dtype, dev, backend,
                                        g, scale))


def _normal_(self: Tensor, mean=0.0, std=1.0, *, generator=None) -> Tensor:
    _require(self._dtype, "normal_kernel_cpu")
    mean, std = float(mean), float(std)
    if not std >= 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt(std)}")
    dev, backend, xp, g = _env(self, generator)
    return _new(self, _normal_values(tuple(self.shape), self._dtype, dev, backend, g, mean, std))


def _continuous(self: Tensor, what: str, c_name: bool) -> None:
    if self._dtype.kind != "f":
        name = _C_NAME.get(self._dtype, _SCALAR_NAME[self._dtype]) if c_name else \
            _SCALAR_NAME[self._dtype]
        raise RuntimeError(f"{what} distribution is a continuous probability distribution. "
                           f"dtype must be a floating point but you specified {name}")


def _exponential_(self: Tensor, lambd=1.0, *, generator=None) -> Tensor:
    _continuous(self, "Exponential", False)
    lambd = float(lambd)
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={_fmt(lambd)}")
    dev, backend, xp, g = _env(self, generator)
    # times 1/lambda, as PyTorch; never a division by a constant, which XLA turns into a
    # multiplication by its own rounded reciprocal (Note [Bit-identical floats])
    inv = _host_round(1.0 / lambd, self._dtype)

    def exponential(xp, u):
        e = -R._log(xp, u)  # u uniform on (0, 1): E > 0, as PyTorch guarantees
        return _cast_to(self, e * inv if lambd != 1.0 else e)

    with _quiet(backend):
        return _new(self, R._unit(tuple(self.shape), self._dtype, dev, backend, g, open_=True,
                                  then=exponential))


def _cauchy_(self: Tensor, median=0.0, sigma=1.0, *, generator=None) -> Tensor:
    _continuous(self, "Cauchy", True)
    median, sigma = float(median), float(sigma)
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={_fmt(sigma)}")
    dev, backend, xp, g = _env(self, generator)
    sg, md = _host_round(sigma, self._dtype), _host_round(median, self._dtype)

    def cauchy(xp, u):
        # tan(pi (u - 1/2)) = -cos(pi u) / sin(pi u), u on (0, 1): finite everywhere.
        s, c = R._sincos_turns(xp, u * 0.5)
        x = -c / s
        if sigma != 1.0:
            x = x * sg
        return _cast_to(self, x + md if median != 0.0 else x)

    with _quiet(backend):
        return _new(self, R._unit(tuple(self.shape), self._dtype, dev, backend, g, open_=True,
                                  then=cauchy))


def _log_normal_(self: Tensor, mean=1.0, std=2.0, *, generator=None) -> Tensor:
    _require(self._dtype, "log_normal_cpu", complex_ok=False)
    mean, std = float(mean), float(std)
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={_fmt(std)}")
    dev, backend, xp, g = _env(self, generator)
    s, m = _host_round(std, self._dtype), _host_round(mean, self._dtype)

    def log_normal(xp, z):
        return _cast_to(self, R._exp(xp, z * s + m))

    with _quiet(backend):
        return _new(self, R._std_normal(tuple(self.shape), self._dtype, dev, backend, g,
                                        then=log_normal))


def _work_dtype(self: Tensor):
    """The float dtype integer-valued samples of ``self`` are computed in."""
    if self._dtype.kind == "f":
        return self._dtype
    dev = self._device
    has64 = D.float64 in dev._impl[1].supported_dtypes(dev.type, dev.index or 0)
    return D.float64 if has64 else D.float32


def _geometric_(self: Tensor, p, *, generator=None) -> Tensor:
    p = float(p)
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={_fmt(p)}")
    dev, backend, xp, g = _env(self, generator)
    work = _work_dtype(self)
    inv = _host_round(1.0 / math.log1p(-p), work)

    def geometric(xp, u):
        # The number of trials to the first success: ceil(log(u) / log(1 - p)).
        k = xp.ceil(R._log(xp, u) * inv)
        if self._dtype.kind in "biu":
            k = xp.clip(k, 1.0, float(_int_limits(self._dtype)[1]))
        return _cast_to(self, k)

    with _quiet(backend):
        return _new(self, R._unit(tuple(self.shape), work, dev, backend, g, open_=True,
                                  then=geometric))


def _random_(self: Tensor, *args, generator=None, **kwargs) -> Tensor:
    """``random_()``, ``random_(to)``, ``random_(from, to)``: integers in [from, to)."""
    dt = self._dtype
    if "from" in kwargs:
        args = (kwargs.pop("from"),) + args
    if "to" in kwargs:
        args = args + (kwargs.pop("to"),)
    if kwargs:
        raise TypeError(f"random_() got unexpected keyword arguments {sorted(kwargs)}")
    if dt.kind == "c":
        raise NotImplementedError(f'"random_" not implemented for \'{_SCALAR_NAME[dt]}\'')
    if dt.kind == "f":
        default_to = (1 << R._FLOAT_BITS[dt]) + 1
    else:
        default_to = _int_limits(dt)[1] + 1
    if len(args) == 0:
        low, high = 0, default_to
    elif len(args) == 1:
        low, high = 0, _check_int(args[0], "to", "random_", 1)
    elif len(args) == 2:
        low = _check_int(args[0], "from", "random_", 1)
        high = default_to if args[1] is None else _check_int(args[1], "to", "random_", 2)
    else:
        raise TypeError("random_() takes at most 2 arguments (from, to)")
    _check_range(low, high, dt)
    dev, backend, xp, g = _env(self, generator)
    with _quiet(backend):
        return _new(self, _integers(tuple(self.shape), low, high, dt, dev, backend, g))


# Tensor methods this module adds (see polytorch/_tensor_methods.py).
TENSOR_METHODS: dict = {"bernoulli": bernoulli, "multinomial": multinomial}
INPLACE_METHODS: dict = {}
OVERWRITE_METHODS: dict = {
    "uniform_": _uniform_, "normal_": _normal_, "bernoulli_": _bernoulli_,
    "exponential_": _exponential_, "random_": _random_, "cauchy_": _cauchy_,
    "log_normal_": _log_normal_, "geometric_": _geometric_,
}
