"""Op specs for elementwise math, comparisons, logic (Note [One spec per op] in _specs.py).

Import the tools from ``._specs`` (``OpSpec``, ``Sample``, ``NonContig``, the
sample builders and dtype rules) and list this family's records in ``SPECS``.

References are NumPy float64 (and the standard library's ``math.erf`` and
``statistics.NormalDist`` for the special functions NumPy lacks); they run with
floating-point warnings off, since inf and nan results are part of what is checked.
"""

from __future__ import annotations

import math
import operator
import statistics

import numpy as np

from ._specs import (
    ALL,
    BOOL,
    F32,
    FLOATS,
    I64,
    NUMERIC,
    NonContig,
    OpSpec,
    Sample,
    _binary,
    _draw,
    _layouts,
    _logical_samples,
    _nonzero,
    _unary,
    boolean,
    floating,
    promoted,
    result_dtype,
    same,
)

INTS = (I64, BOOL)


def _quiet(fn):
    """``fn`` with NumPy's floating-point warnings off (log(0), 1/0 are expected)."""

    def ref(*args, **kwargs):
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)

    return ref


def _f64(fn):
    """``fn`` on float64 copies of its array arguments, quietly (bools become 0.0 and 1.0)."""
    return _quiet(lambda *args, **kw: fn(*(np.asarray(a, np.float64) for a in args), **kw))


def _method(name):
    """A call through the Tensor method ``name`` (works on torch tensors too)."""
    return lambda x, *args, **kwargs: getattr(x, name)(*args, **kwargs)


def _ints(*arrays):
    """Integer (or bool) copies of reference arguments, which arrive as float64."""
    return [a if isinstance(a, (bool, int)) or np.asarray(a).dtype == bool
            else np.asarray(a).astype(np.int64) for a in arrays]


# -- samples -------------------------------------------------------------------------


def _unary_in(low, high, int_low=None, int_high=None):
    """``_unary`` with an integer range of its own (a float range may hold no integer)."""

    def samples(rng, dt):
        if dt.kind in "iu":
            return _unary(low if int_low is None else int_low,
                          high if int_high is None else int_high)(rng, dt)
        return _unary(low, high)(rng, dt)

    return samples


def _nonzero_unary(rng, dt):
    if dt is BOOL:
        return _unary()(rng, dt)
    return [Sample((x,)) for x in _layouts(lambda *s: _nonzero(rng, s, dt, 0.5, 3.0))]


def _no_scalars(**kw):
    return _binary(scalars=None, **kw)


def _with_right_scalar(base, scalar_for):
    """``base`` samples plus ``x OP scalar`` (the op takes no number on the left)."""

    def samples(rng, dt):
        out = base(rng, dt)
        x = _draw(rng, (3, 4), dt, -2, 2)
        return out + [Sample((x, scalar_for(dt)))]

    return samples


def _rounding_samples(rng, dt):
    out = _unary(-3, 3)(rng, dt)
    if dt.kind == "f":
        x = _draw(rng, (3, 4), dt, -30, 30)
        halves = np.asarray(rng.randint(-8, 8, size=(3, 4)) + 0.5, dtype=dt.name)
        out += [Sample((x,), {"decimals": 1}), Sample((x,), {"decimals": -1}),
                Sample((halves,), grad=False)]  # ties to even: jumps, no gradient
    return out


def _clamp_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -3, 3)

    def lo(*s):
        return _draw(rng, s, dt, -2, 0)

    def hi(*s):
        return _draw(rng, s, dt, 0, 2)

    return [
        Sample((x(3, 4), -1, 1)),
        Sample((x(3, 4), 0.5, 2.5)),
        Sample((x(3, 4), lo(3, 4), hi(3, 4))),
        Sample((x(3, 1), lo(4), hi(3, 4))),
        Sample((x(), lo(3, 4), hi())),
        Sample((NonContig(x(3, 4)), lo(), hi(4))),
        Sample((x(3, 4), hi(3, 4), lo(3, 4))),  # min > max: the result is max
        Sample((x(0, 4), lo(4), hi(4))),
    ]


def _clamp_one_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -3, 3)

    return [
        Sample((x(3, 4), 1)),
        Sample((x(3, 4), 0.5)),
        Sample((x(3, 4), x(3, 4))),
        Sample((x(3, 1), x(4))),
        Sample((x(), x(3, 4))),
        Sample((NonContig(x(3, 4)), x(4))),
        Sample((x(0, 4), x(4))),
    ]


def _div_rounding_samples(rng, dt):
    base = _binary(divisor=True, b_low=0.5, scalars=None)(rng, dt)
    base.append(Sample((_draw(rng, (3, 4), dt, -5, 5), 2)))
    if dt.kind == "f":
        base.append(Sample((_draw(rng, (3, 4), dt, -5, 5), -1.5)))
    return [Sample(s.args, {"rounding_mode": m}) for m in ("trunc", "floor") for s in base]


def _mod_samples(rng, dt):
    base = _binary(-5, 5, 0.5, 3, divisor=True, scalars=None)(rng, dt)
    x = _draw(rng, (3, 4), dt, -5, 5)
    base += [Sample((x, 3)), Sample((x, -2))]
    if dt.kind == "f":
        base += [Sample((x, 1.5)), Sample((x, -0.75))]
    return base


def _lerp_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -2, 2)

    def w(*s):  # both of PyTorch's formulas: |weight| < 0.5 and not
        return _draw(rng, s, dt, -0.5, 1.5)

    return [
        Sample((x(3, 4), x(3, 4), 0.3)),
        Sample((x(3, 4), x(3, 4), 0.8)),
        Sample((x(3, 4), x(3, 4), w(3, 4))),
        Sample((x(3, 1), x(4), w(3, 4))),
        Sample((x(), x(3, 4), w())),
        Sample((NonContig(x(3, 4)), x(3, 4), NonContig(w(3, 4), "strided"))),
        Sample((x(0, 4), x(4), 0.5)),
    ]


def _specials(rng, dt, *s):
    """Values with nan, inf and -inf sprinkled in (floats); plain values otherwise."""
    v = _draw(rng, s, dt, -3, 3)
    if dt.kind != "f":
        return v
    pick = rng.rand(*s)
    v = np.where(pick < 0.15, np.nan, v)
    v = np.where((pick >= 0.15) & (pick < 0.3), np.inf, v)
    v = np.where((pick >= 0.3) & (pick < 0.45), -np.inf, v)
    return np.asarray(v, dtype=dt.name)


def _classify_samples(rng, dt):
    return [Sample((x,), grad=False)
            for x in _layouts(lambda *s: _specials(rng, dt, *s))]


def _nan_to_num_samples(rng, dt):
    # The default replacements of +-inf are the dtype's extremes, which a float64 reference
    # cannot know: float32 samples name them (tests/test_ops_elementwise.py checks defaults).
    explicit = {"posinf": 3.0e38, "neginf": -3.0e38} if dt is F32 else {}
    out = [Sample((x,), dict(explicit)) for x in _layouts(lambda *s: _specials(rng, dt, *s))]
    if dt.kind == "f":
        out += [Sample((_specials(rng, dt, 3, 4),), {"nan": 1.5, "posinf": 100.0,
                                                      "neginf": -100.0}),
                Sample((_specials(rng, dt, 3, 4),), {**explicit, "posinf": -2.0})]
    return out


def _isclose_samples(rng, dt):
    def pair(*s):
        with np.errstate(all="ignore"):
            return _close_pair(rng, dt, s)

    a, b = pair(3, 4)
    c, _ = pair(3, 1)
    return [
        Sample((a, b)),
        Sample((a, b), {"rtol": 1e-3, "atol": 1e-6}),
        Sample((a, b), {"equal_nan": True}),
        Sample((a, b), {"rtol": 0.0, "atol": 0.0}),
        Sample((c, pair(1, 4)[1])),
        Sample((NonContig(a), b)),
        Sample((pair(0, 3)[0], pair(3)[1])),
    ]


def _close_pair(rng, dt, s):
    """Arrays ``a`` and ``b``: ``b`` equal, a few ulps to a few percent off, or unrelated."""
    a = _specials(rng, dt, *s)
    if dt.kind != "f":
        b = np.where(rng.rand(*s) < 0.5, a, _draw(rng, s, dt, -3, 3))
        return a, np.asarray(b, dtype=dt.name)
    noise = rng.uniform(-1, 1, size=s) * np.abs(a) * 10.0 ** rng.randint(-9, -2, size=s)
    b = np.where(np.isfinite(a), a + np.nan_to_num(noise), a)
    b = np.where(rng.rand(*s) < 0.2, _draw(rng, s, dt, -3, 3), b)
    return a, np.asarray(b, dtype=dt.name)


def _masked_fill_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -2, 2)

    def m(*s):
        return _draw(rng, s, BOOL, 0, 1)

    scalar = {BOOL: True, I64: 7}.get(dt, 2.5)
    return [
        Sample((x(3, 4), m(3, 4), scalar)),
        Sample((x(3, 4), m(4), x())),
        Sample((x(3, 1), m(3, 4), x())),  # the mask broadcasts the result
        Sample((x(), m(), scalar)),
        Sample((NonContig(x(3, 4)), m(3, 4), x())),
        Sample((x(0, 4), m(4), scalar)),
    ]


def _bitwise_samples(rng, dt):
    if dt is BOOL:
        return _binary(scalars=(True, False))(rng, dt)
    return _binary(-20, 20, scalars=(5, -3))(rng, dt)


def _shift_samples(rng, dt):
    def a(*s):
        return _draw(rng, s, dt, -100, 100)

    def b(*s):  # negative and too-large shifts included
        return _draw(rng, s, dt, -3, 70)

    return [
        Sample((a(3, 4), b(3, 4))),
        Sample((a(3, 1), _draw(rng, (4,), dt, 0, 8))),
        Sample((a(), b(3, 4))),
        Sample((NonContig(a(3, 4)), b(3, 4))),
        Sample((a(3, 4), 3)),
        Sample((a(3, 4), 64)),
        Sample((2, _draw(rng, (3, 4), dt, 0, 10))),
        Sample((a(0, 4), b(4))),
    ]


# -- references -----------------------------------------------------------------------

_erf = np.vectorize(math.erf, otypes=[np.float64])
_erfc = np.vectorize(math.erfc, otypes=[np.float64])
_NORMAL = statistics.NormalDist()


def _erfinv_scalar(y):
    if abs(y) == 1:
        return math.copysign(math.inf, y)
    if abs(y) > 1 or math.isnan(y):
        return math.nan
    if y == 0:
        return y
    return _NORMAL.inv_cdf((1 + y) / 2) / math.sqrt(2)


_erfinv = np.vectorize(_erfinv_scalar, otypes=[np.float64])


def _sign_ref(x):
    x = np.asarray(x)
    return x.copy() if x.dtype == bool else np.sign(np.nan_to_num(x))


def _round_ref(x, decimals=0):
    return np.round(x, decimals)


def _div_rounding_ref(a, b, rounding_mode):
    q = np.asarray(a, np.float64) / np.asarray(b, np.float64)
    return np.trunc(q) if rounding_mode == "trunc" else np.floor(q)


def _fmod_ref(a, b):
    return np.fmod(a, b)


def _clamp_ref(x, lo, hi):
    return np.minimum(np.maximum(x, lo), hi)


def _logit_ref(x, eps=None):
    if eps is not None:
        x = np.clip(x, eps, 1 - eps)
    return np.log(x / (1 - x))


def _lerp_ref(a, b, w):
    return a + w * (b - a)


def _nan_to_num_ref(x, nan=0.0, posinf=None, neginf=None):
    return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


def _nan_to_num_call(x, **kwargs):
    return x.nan_to_num(**kwargs)


def _isclose_ref(a, b, rtol=1e-5, atol=1e-8, equal_nan=False):
    return np.isclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=rtol,
                      atol=atol, equal_nan=equal_nan)


def _shift_ref(left):
    def ref(a, b):
        a, b = _ints(a, b)
        a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
        outside = (b < 0) | (b >= 64)
        safe = np.where(outside, 0, b)
        if left:
            return np.where(outside, 0, np.left_shift(a, safe))
        return np.where(outside, np.right_shift(a, 63), np.right_shift(a, safe))

    return ref


def _bitwise_ref(fn):
    return lambda a, b: fn(*_ints(a, b))


def _masked_fill_ref(x, mask, value):
    return np.where(mask, value, x)


# The dtype of masked_fill's result is always the input's, whatever the value's.
def _masked_fill_dtype(x, mask, value):
    return same(x)


def _clamp_dtype(x, lo, hi):
    return result_dtype(x, lo, hi)


def _lerp_dtype(a, b, w):
    return same(a)


_FLOAT_UNARY = [
    # name, reference, low, high (sample range), integer range where the float one has none
    ("sqrt", np.sqrt, 0.1, 3.0),
    ("rsqrt", lambda x: 1 / np.sqrt(x), 0.1, 3.0),
    ("exp2", np.exp2, -2.0, 2.0),
    ("expm1", np.expm1, -2.0, 2.0),
    ("log2", np.log2, 0.1, 3.0),
    ("log10", np.log10, 0.1, 3.0),
    ("log1p", np.log1p, -0.5, 3.0),
    ("sin", np.sin, -3.0, 3.0),
    ("cos", np.cos, -3.0, 3.0),
    ("tan", np.tan, -1.2, 1.2),
    ("asin", np.arcsin, -0.9, 0.9),
    ("acos", np.arccos, -0.9, 0.9),
    ("atan", np.arctan, -3.0, 3.0),
    ("sinh", np.sinh, -2.0, 2.0),
    ("cosh", np.cosh, -2.0, 2.0),
    ("asinh", np.arcsinh, -3.0, 3.0),
    ("acosh", np.arccosh, 1.1, 3.0),
    ("atanh", np.arctanh, -0.9, 0.9),
    ("erf", _erf, -3.0, 3.0),
    ("erfc", _erfc, -3.0, 5.0),
    ("erfinv", _erfinv, -0.95, 0.95),
]

SPECS: list = [
    # -- exponentials, logarithms, trigonometry, special functions: float results ------
    *(OpSpec(name, _method(name), _f64(ref), _unary_in(low, high, 0, 1), ALL, floating)
      for name, ref, low, high in _FLOAT_UNARY),
    OpSpec("reciprocal", _method("reciprocal"), _f64(lambda x: 1 / x), _nonzero_unary, ALL,
           floating),
    OpSpec("logit", _method("logit"), _f64(_logit_ref),
           lambda rng, dt: _unary(0.05, 0.95)(rng, dt) + [
               Sample((_draw(rng, (3, 4), dt, -0.2, 1.2),), {"eps": 0.1}),
               Sample((_draw(rng, (3, 4), dt, 0.05, 0.95),), {"eps": 0.25})],
           FLOATS, floating),
    OpSpec("atan2", _method("atan2"), _f64(np.arctan2), _no_scalars(), ALL, floating),
    OpSpec("hypot", _method("hypot"), _f64(np.hypot), _no_scalars(), FLOATS, promoted),
    # -- signs, rounding ------------------------------------------------------------------
    OpSpec("abs", _method("abs"), np.abs, _unary(), NUMERIC, same),
    OpSpec("sign", _method("sign"), _sign_ref, _unary(), ALL, same),
    OpSpec("floor", _method("floor"), np.floor, _unary(-3, 3), NUMERIC, same),
    OpSpec("ceil", _method("ceil"), np.ceil, _unary(-3, 3), NUMERIC, same),
    OpSpec("trunc", _method("trunc"), np.trunc, _unary(-3, 3), NUMERIC, same),
    OpSpec("round", _method("round"), _round_ref, _rounding_samples, NUMERIC, same),
    OpSpec("frac", _method("frac"), lambda x: x - np.trunc(x), _unary(-3, 3), FLOATS, same),
    # -- clamping, minimum, maximum, remainders -----------------------------------------
    OpSpec("clamp", _method("clamp"), _clamp_ref, _clamp_samples, NUMERIC, _clamp_dtype),
    OpSpec("clamp_min", _method("clamp_min"), np.maximum, _clamp_one_samples, NUMERIC,
           promoted),
    OpSpec("clamp_max", _method("clamp_max"), np.minimum, _clamp_one_samples, NUMERIC,
           promoted),
    OpSpec("maximum", _method("maximum"), np.maximum, _no_scalars(ties=True), ALL, promoted),
    OpSpec("minimum", _method("minimum"), np.minimum, _no_scalars(ties=True), ALL, promoted),
    OpSpec("remainder", operator.mod, _quiet(np.remainder), _mod_samples, NUMERIC, promoted),
    OpSpec("fmod", _method("fmod"), _quiet(_fmod_ref), _mod_samples, NUMERIC, promoted),
    OpSpec("div_rounding", _method("div"), _quiet(_div_rounding_ref), _div_rounding_samples,
           NUMERIC, promoted),
    OpSpec("lerp", _method("lerp"), _lerp_ref, _lerp_samples, FLOATS, _lerp_dtype),
    # -- floating-point classes --------------------------------------------------------
    *(OpSpec(name, _method(name), _quiet(ref), _classify_samples, ALL, boolean,
             differentiable=False)
      for name, ref in [("isnan", np.isnan), ("isinf", np.isinf), ("isfinite", np.isfinite),
                        ("isposinf", np.isposinf), ("isneginf", np.isneginf)]),
    OpSpec("nan_to_num", _nan_to_num_call, _nan_to_num_ref, _nan_to_num_samples, ALL, same),
    # -- comparisons, logic and bits (not differentiable) -----------------------------------
    OpSpec("isclose", _method("isclose"), _quiet(_isclose_ref), _isclose_samples, ALL, boolean,
           differentiable=False),
    OpSpec("logical_xor", _method("logical_xor"), np.logical_xor, _logical_samples, ALL,
           boolean, differentiable=False),
    OpSpec("bitwise_and", operator.and_, _bitwise_ref(np.bitwise_and), _bitwise_samples,
           INTS, promoted, differentiable=False),
    OpSpec("bitwise_or", operator.or_, _bitwise_ref(np.bitwise_or), _bitwise_samples,
           INTS, promoted, differentiable=False),
    OpSpec("bitwise_xor", operator.xor, _bitwise_ref(np.bitwise_xor), _bitwise_samples,
           INTS, promoted, differentiable=False),
    OpSpec("bitwise_not", operator.invert, lambda x: np.invert(*_ints(x)),
           lambda rng, dt: [Sample((s.args[0],)) for s in _bitwise_samples(rng, dt)
                            if not isinstance(s.args[0], (int, float))],
           INTS, same, differentiable=False),
    OpSpec("bitwise_left_shift", operator.lshift, _shift_ref(True), _shift_samples, (I64,),
           promoted, differentiable=False),
    OpSpec("bitwise_right_shift", operator.rshift, _shift_ref(False), _shift_samples, (I64,),
           promoted, differentiable=False),
    # -- selection ----------------------------------------------------------------------------
    OpSpec("masked_fill", _method("masked_fill"), _masked_fill_ref, _masked_fill_samples, ALL,
           _masked_fill_dtype),
]
