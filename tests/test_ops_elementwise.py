"""Differential tests of the elementwise family against PyTorch, on every backend.

Forward values, result dtypes and shapes, gradients (and their conventions at
kinks and ties), PyTorch's errors, in-place variants and operators. PyTorch
(``torch==2.13.0``) is the oracle; inputs are NumPy arrays from seeded
generators, built as polytorch tensors on ``device`` and as torch CPU tensors.
"""

from __future__ import annotations

import operator

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import torch
from helpers import host, ours, theirs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import polytorch as pt

SETTINGS = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SEEDS = st.integers(0, 2**32 - 1)
TOL = {"float32": (3e-6, 3e-6), "float64": (1e-11, 1e-12)}


def _name(t) -> str:
    return str(t.dtype).split(".")[-1]


def same(a, e, what="", tol=None):
    """``a`` (polytorch) has ``e``'s (torch) shape, dtype and values (nan matches nan)."""
    assert isinstance(a, pt.Tensor), f"{what}: got {type(a)}"
    assert tuple(a.shape) == tuple(e.shape), f"{what}: shape {tuple(a.shape)} vs {tuple(e.shape)}"
    assert _name(a) == _name(e), f"{what}: dtype {_name(a)} vs {_name(e)}"
    ha, he = host(a), host(e)
    if he.dtype.kind in "biu":
        np.testing.assert_array_equal(ha, he, err_msg=what)
    else:
        rtol, atol = tol or TOL.get(_name(e), (3e-6, 3e-6))
        np.testing.assert_allclose(ha, he, rtol=rtol, atol=atol, err_msg=what)


def grads_match(xs, ts, what="", tol=None):
    for i, (x, t) in enumerate(zip(xs, ts)):
        if t.grad is None:
            assert x.grad is None, f"{what}: grad of input {i} should be None"
        else:
            assert x.grad is not None, f"{what}: grad of input {i} is None"
            same(x.grad, t.grad, f"{what}: grad of input {i}", tol)


def both(arrays, device, grad=True):
    """polytorch and torch leaves holding ``arrays`` (gradients only for floating arrays)."""
    xs = [ours(a, device, grad and a.dtype.kind == "f") for a in arrays]
    ts = [theirs(a, grad and a.dtype.kind == "f") for a in arrays]
    return xs, ts


def backward(out, ref, device, seed=0):
    g = np.random.default_rng(seed).standard_normal(tuple(ref.shape)).astype(host(ref).dtype)
    out.backward(ours(g, device))
    ref.backward(theirs(g))


# -- unary functions with float results -------------------------------------------------

# name -> (low, high) of the inputs' magnitudes, signed when low < 0
UNARY_FLOAT = {
    "sqrt": (0.1, 3), "rsqrt": (0.1, 3), "exp2": (-3, 3), "expm1": (-3, 3), "log2": (0.1, 3),
    "log10": (0.1, 3), "log1p": (-0.5, 3), "sin": (-4, 4), "cos": (-4, 4), "tan": (-1.2, 1.2),
    "asin": (-0.95, 0.95), "acos": (-0.95, 0.95), "atan": (-4, 4), "sinh": (-3, 3),
    "cosh": (-3, 3), "tanh": (-3, 3), "asinh": (-4, 4), "acosh": (1.05, 4),
    "atanh": (-0.95, 0.95), "sigmoid": (-8, 8), "erf": (-4, 4), "erfc": (-4, 6),
    "erfinv": (-0.99, 0.99), "reciprocal": (0.2, 3), "logit": (0.02, 0.98), "exp": (-3, 3),
    "log": (0.1, 3), "abs": (-3, 3), "square": (-3, 3), "frac": (-4, 4), "neg": (-3, 3),
}


@SETTINGS
@given(
    shape=hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=2),
    op=st.sampled_from(sorted(UNARY_FLOAT)),
    dtype=st.sampled_from(["float32", "float64"]),
    form=st.sampled_from(["function", "method"]),
    seed=SEEDS,
)
def test_unary_float_ops(device, shape, op, dtype, form, seed):
    rng = np.random.default_rng(seed)
    low, high = UNARY_FLOAT[op]
    a = rng.uniform(low, high, shape).astype(dtype)
    (x,), (t,) = both([a], device)
    out = getattr(pt, op)(x) if form == "function" else getattr(x, op)()
    ref = getattr(torch, op)(t)
    same(out, ref, f"{op} {shape}:{dtype}")
    backward(out, ref, device, seed)
    grads_match([x], [t], op, (1e-5, 1e-5) if dtype == "float32" else None)


@pytest.mark.parametrize("dtype", ["bool", "int32"])
def test_integer_inputs_give_the_default_float(device, dtype):
    """Float functions of integer or bool tensors are float32 (PyTorch), exactly as torch."""
    a = np.array([[0, 1, 2], [3, 1, 0]]).astype(dtype)
    ops = ["sqrt", "rsqrt", "exp2", "expm1", "log2", "log10", "log1p", "sin", "cos", "tan",
               "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "erf", "erfc",
               "erfinv", "reciprocal", "logit", "sigmoid"]
    for op in ops if dtype == "int32" else ops[::4]:
        same(getattr(pt, op)(ours(a, device)), getattr(torch, op)(theirs(a)), f"{op}({dtype})")


def test_special_functions_to_float64_precision(device):
    """erf, erfc, erfinv written over xp: close to PyTorch's to a few ulps, tails included."""
    x = np.concatenate([np.linspace(-7, 7, 141), [0.0, -0.0, 1.0, -1.0, 8.0, 27.0, np.inf,
                                                   -np.inf, np.nan]])
    y = np.concatenate([np.linspace(-0.999, 0.999, 101), 1 - np.logspace(-15, -1, 15),
                        [1.0, -1.0, 1.5, 0.0, np.nan]])
    for op, v in (("erf", x), ("erfc", x), ("erfinv", y)):
        out, ref = getattr(pt, op)(ours(v, device)), getattr(torch, op)(theirs(v))
        np.testing.assert_allclose(host(out), host(ref), rtol=2e-14, atol=1e-300, err_msg=op)


# -- signs and rounding ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "uint8", "bool"])
def test_sign_abs_rounding_keep_the_dtype(device, dtype):
    """On integers they keep the dtype; on bool, PyTorch's NotImplementedError but for sign."""
    base = np.array([[-2.5, -1.5, -0.5, 0.0], [0.5, 1.5, 2.49, 3.7]])
    a = (np.abs(base) if dtype == "uint8" else base).astype(dtype)
    for op in ["abs", "sign", "floor", "ceil", "round", "trunc", "frac", "fix", "absolute"]:
        try:
            ref = getattr(torch, op)(theirs(a))
        except Exception as exc:
            with pytest.raises(type(exc)):
                getattr(pt, op)(ours(a, device))
            continue
        same(getattr(pt, op)(ours(a, device)), ref, f"{op}({dtype})")


def test_sign_and_rounding_specials(device):
    a = np.array([np.nan, -0.0, 0.0, np.inf, -np.inf, 0.5, 1.5, 2.5, -2.5, 1e20], np.float32)
    for op in ["sign", "floor", "ceil", "round", "trunc", "frac", "abs"]:
        same(getattr(pt, op)(ours(a, device)), getattr(torch, op)(theirs(a)), op)
    b = np.array([1.25, 2.35, -1.15, 123.456, -987.5, 0.05], np.float64)
    for d in (1, 2, -1, -2, 0):
        same(pt.round(ours(b, device), decimals=d), torch.round(theirs(b), decimals=d),
             f"round decimals={d}")
        same(ours(b, device).round(decimals=d), theirs(b).round(decimals=d), f"round {d}")
    with pytest.raises(NotImplementedError):
        pt.round(ours(np.array([1, 2]), device), decimals=1)


def test_gradients_at_kinks_follow_pytorch(device):
    """abs'(0) = 0; sign, floor and round have zero gradients; frac passes it through."""
    a = np.array([-1.5, 0.0, 0.0, 2.0, -0.0], np.float64)
    for op in ["abs", "sign", "floor", "ceil", "round", "trunc", "frac", "relu", "sqrt"]:
        (x,), (t,) = both([np.abs(a) if op == "sqrt" else a], device)
        out, ref = getattr(pt, op)(x), getattr(torch, op)(t)
        backward(out, ref, device)
        grads_match([x], [t], op)


# -- binary ops with broadcasting -----------------------------------------------------------


def _clamp3(f):
    return lambda a, lo, hi: f.clamp(a, lo, hi)


BINARY = {
    # name -> (polytorch/torch callable taking the module, a, b; range of a; range of b)
    "atan2": (lambda m, a, b: m.atan2(a, b), (-3, 3), (-3, 3)),
    "hypot": (lambda m, a, b: m.hypot(a, b), (-3, 3), (-3, 3)),
    "maximum": (lambda m, a, b: m.maximum(a, b), (-3, 3), (-3, 3)),
    "minimum": (lambda m, a, b: m.minimum(a, b), (-3, 3), (-3, 3)),
    "fmod": (lambda m, a, b: m.fmod(a, b), (-6, 6), (0.5, 3)),
    "remainder": (lambda m, a, b: m.remainder(a, b), (-6, 6), (0.5, 3)),
    "div_trunc": (lambda m, a, b: m.div(a, b, rounding_mode="trunc"), (-6, 6), (0.5, 3)),
    "div_floor": (lambda m, a, b: m.div(a, b, rounding_mode="floor"), (-6, 6), (0.5, 3)),
    "true_divide": (lambda m, a, b: m.true_divide(a, b), (-6, 6), (0.5, 3)),
    "add_alpha": (lambda m, a, b: m.add(a, b, alpha=2.5), (-3, 3), (-3, 3)),
    "sub_alpha": (lambda m, a, b: m.sub(a, b, alpha=-0.5), (-3, 3), (-3, 3)),
    "clamp_min": (lambda m, a, b: m.clamp_min(a, b), (-3, 3), (-3, 3)),
    "clamp_max": (lambda m, a, b: m.clamp_max(a, b), (-3, 3), (-3, 3)),
    "clamp_tensor_min": (lambda m, a, b: m.clamp(a, min=b), (-3, 3), (-3, 3)),
    "lerp": (lambda m, a, b: m.lerp(a, b, 0.7), (-3, 3), (-3, 3)),
    "pow": (lambda m, a, b: m.pow(a, b), (0.2, 3), (-2, 2)),
    "mul": (lambda m, a, b: m.multiply(a, b), (-3, 3), (-3, 3)),
    "subtract": (lambda m, a, b: m.subtract(a, b), (-3, 3), (-3, 3)),
}
_SIGNED_B = {"fmod", "remainder", "div_trunc", "div_floor", "true_divide"}


@SETTINGS
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=2),
    op=st.sampled_from(sorted(BINARY)),
    dtype=st.sampled_from(["float32", "float64"]),
    seed=SEEDS,
)
def test_binary_float_ops(device, shapes, op, dtype, seed):
    rng = np.random.default_rng(seed)
    f, (alo, ahi), (blo, bhi) = BINARY[op]
    (sa, sb) = shapes.input_shapes
    a = rng.uniform(alo, ahi, sa).astype(dtype)
    b = rng.uniform(blo, bhi, sb)
    if op in _SIGNED_B:
        b = b * rng.choice([-1, 1], sb)
    b = b.astype(dtype)
    xs, ts = both([a, b], device)
    out, ref = f(pt, *xs), f(torch, *ts)
    what = f"{op} {sa}:{sb}:{dtype}"
    same(out, ref, what)
    backward(out, ref, device, seed)
    grads_match(xs, ts, what, (1e-5, 1e-5) if dtype == "float32" else None)


def test_maximum_minimum_ties_split_the_gradient(device):
    a = np.array([1.0, 2.0, 3.0, np.nan, 5.0])
    b = np.array([1.0, 1.0, 4.0, 1.0, np.nan])
    for op in ["maximum", "minimum"]:
        xs, ts = both([a, b], device)
        out, ref = getattr(pt, op)(*xs), getattr(torch, op)(*ts)
        same(out, ref, op)
        backward(out, ref, device)
        grads_match(xs, ts, op)


def test_clamp_gradients_at_the_bounds(device):
    """The input gets the gradient on the bounds; min == max and min > max as in PyTorch."""
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0, 0.5])
    cases = [(-1.0, 1.0), (0.5, 0.5), (1.0, -1.0)]
    for lo, hi in cases:
        xs, ts = both([x], device)
        out, ref = pt.clamp(xs[0], lo, hi), torch.clamp(ts[0], lo, hi)
        same(out, ref, f"clamp({lo}, {hi})")
        backward(out, ref, device)
        grads_match(xs, ts, f"clamp({lo}, {hi})")
        for kw in ({"min": lo}, {"max": hi}):
            xs, ts = both([x], device)
            out, ref = xs[0].clip(**kw), ts[0].clip(**kw)
            same(out, ref, f"clip {kw}")
            backward(out, ref, device)
            grads_match(xs, ts, f"clip {kw}")
    for lo, hi in cases:  # tensor bounds get gradients too
        arrays = [x, np.full(6, lo), np.full(6, hi)]
        xs, ts = both(arrays, device)
        out, ref = pt.clamp(*xs), torch.clamp(*ts)
        same(out, ref, f"clamp tensors ({lo}, {hi})")
        backward(out, ref, device)
        grads_match(xs, ts, f"clamp tensors ({lo}, {hi})")


def test_clamp_dtypes_and_errors(device):
    i = np.array([-3, 0, 5])
    b = np.array([True, False, True])
    for a, kw in [(i, {"min": 0}), (i, {"min": 0.5}), (i, {"max": 2, "min": -1}),
                  (b, {"min": 0}), (i.astype("int32"), {"min": np.array([1])})]:
        kw_ours = {k: ours(v, device) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
        kw_theirs = {k: theirs(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
        same(pt.clamp(ours(a, device), **kw_ours), torch.clamp(theirs(a), **kw_theirs), str(kw))
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max'"):
        pt.clamp(ours(i, device))
    x = ours(i, device)
    with pytest.raises(RuntimeError):  # float result into an integer tensor
        x.clamp_(min=0.5)
    np.testing.assert_array_equal(host(x), i)


# -- integer arithmetic ---------------------------------------------------------------


INT_BINARY = {
    "floor_divide": lambda m, a, b: m.floor_divide(a, b),
    "//": lambda m, a, b: operator.floordiv(a, b),
    "%": lambda m, a, b: operator.mod(a, b),
    "fmod": lambda m, a, b: m.fmod(a, b),
    "div_trunc": lambda m, a, b: m.div(a, b, rounding_mode="trunc"),
    "div_floor": lambda m, a, b: m.div(a, b, rounding_mode="floor"),
    "div": lambda m, a, b: m.div(a, b),
    "maximum": lambda m, a, b: m.maximum(a, b),
    "minimum": lambda m, a, b: m.minimum(a, b),
    "&": lambda m, a, b: operator.and_(a, b),
    "|": lambda m, a, b: operator.or_(a, b),
    "^": lambda m, a, b: operator.xor(a, b),
    "<<": lambda m, a, b: operator.lshift(a, b),
    ">>": lambda m, a, b: operator.rshift(a, b),
    "pow": lambda m, a, b: m.pow(a, b),
    "bitwise_and": lambda m, a, b: m.bitwise_and(a, b),
    "bitwise_left_shift": lambda m, a, b: m.bitwise_left_shift(a, b),
}


def _int_case(op, a, b):
    if op in ("<<", ">>", "bitwise_left_shift"):
        return a, np.abs(b) % 9 - 1  # a few negative shifts
    if op == "pow":
        return np.clip(a, -3, 3), np.clip(b, -2, 4)
    if op in ("floor_divide", "//", "%", "fmod", "div_trunc", "div_floor", "div"):
        return a, np.where(b == 0, 3, b)
    return a, b


@SETTINGS
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=2),
    op=st.sampled_from(sorted(INT_BINARY)),
    dtypes=st.sampled_from([("int64", "int64"), ("int32", "int64"), ("int32", "int32"),
                            ("int16", "int8"), ("uint8", "uint8")]),
    scalar=st.sampled_from([None, 3, -2]),
    seed=SEEDS,
)
def test_integer_binary_ops(device, shapes, op, dtypes, scalar, seed):
    """Integer results as in PyTorch: Python-style floor division and modulus, C-style fmod,
    trunc division, bitwise ops, shifts (including out-of-range ones), integer powers."""
    rng = np.random.default_rng(seed)
    (sa, sb), (da, db) = shapes.input_shapes, dtypes
    a = rng.integers(-20, 20, sa)
    b = rng.integers(-20, 20, sb)
    a, b = _int_case(op, a, b)
    if da == "uint8":
        a, b = np.abs(a), np.abs(b)
    a, b = a.astype(da), b.astype(db)
    f = INT_BINARY[op]
    if scalar is not None and op not in ("maximum", "minimum"):  # they take tensors only
        s = abs(scalar) if da == "uint8" or op == "pow" else scalar
        ref = f(torch, theirs(a), s)
        same(f(pt, ours(a, device), s), ref, f"{op} {da} with {s}")
        return
    same(f(pt, ours(a, device), ours(b, device)), f(torch, theirs(a), theirs(b)),
         f"{op} {sa}:{da} {sb}:{db}")


def test_integer_division_by_zero_raises(device):
    a, z = np.array([3, -7, 4]), np.array([1, 0, 2])
    for _name, f in [("//", operator.floordiv), ("%", operator.mod),
                    ("fmod", lambda a, b: a.fmod(b)),
                    ("trunc", lambda a, b: a.div(b, rounding_mode="trunc")),
                    ("floor", lambda a, b: a.div(b, rounding_mode="floor"))]:
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            f(theirs(a), theirs(z))
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            f(ours(a, device), ours(z, device))
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            f(ours(a, device), 0)
    x = ours(a, device)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        x //= 0
    np.testing.assert_array_equal(host(x), a)  # nothing was modified


def test_float_division_specials(device):
    """Floating division by zero and by infinity: inf and nan where PyTorch has them."""
    a = np.array([1.5, -1.5, 0.0, 5.0, -5.0, np.inf, 3.0, -0.0], np.float32)
    b = np.array([0.0, 0.0, 0.0, np.inf, np.inf, 2.0, -np.inf, 1.0], np.float32)
    for name, f in [("//", operator.floordiv), ("%", operator.mod),
                    ("fmod", lambda a, b: a.fmod(b)),
                    ("trunc", lambda a, b: a.div(b, rounding_mode="trunc")),
                    ("floor", lambda a, b: a.div(b, rounding_mode="floor"))]:
        same(f(ours(a, device), ours(b, device)), f(theirs(a), theirs(b)), name)
    # fmod is exact, also far from the divisor's scale.
    c = np.array([-1e-20, 1e20, 7.5, -7.5, 1e-300])
    d = np.array([3.0, 3.0, -2.0, 2.0, 1e300])
    same(pt.fmod(ours(c, device), ours(d, device)), torch.fmod(theirs(c), theirs(d)), "fmod")
    same(ours(c, device) % ours(d, device), theirs(c) % theirs(d), "remainder")


def test_integer_powers(device):
    a = np.array([[-3, -2, -1, 0, 1, 2, 3]]).T
    b = np.array([-3, -2, -1, 0, 1, 2, 5])
    same(pt.pow(ours(a, device), ours(b, device)), torch.pow(theirs(a), theirs(b)), "int ** int")
    same(2 ** ours(b.clip(0), device), 2 ** theirs(b.clip(0)), "2 ** int")
    same(ours(a, device) ** 2, theirs(a) ** 2, "int ** 2")
    same(ours(a, device) ** 0.5, theirs(a) ** 0.5, "int ** 0.5")
    with pytest.raises(RuntimeError, match="negative integer powers"):
        ours(a, device) ** -1
    for dt in ("bool", "int64", "float32"):
        v = np.array([True, False]).astype(dt)
        same(pt.square(ours(v, device)), torch.square(theirs(v)), f"square({dt})")


def test_refused_dtypes(device):
    """PyTorch's NotImplementedError / RuntimeError for dtypes an op does not take."""
    f, i, b = np.array([1.5, 2.0]), np.array([1, 2]), np.array([True, False])
    cases = [
        ("abs bool", lambda m, x: m.abs(x), [b]),
        ("frac int", lambda m, x: m.frac(x), [i]),
        ("hypot int", lambda m, x: m.hypot(x, x), [i]),
        ("fmod bool", lambda m, x: m.fmod(x, x), [b]),
        ("remainder bool", lambda m, x: m.remainder(x, x), [b]),
        ("floor_divide bool", lambda m, x: m.floor_divide(x, x), [b]),
        ("& float", lambda m, x: x & x, [f]),
        ("~ float", lambda m, x: ~x, [f]),
        ("<< bool", lambda m, x: x << x, [b]),
        ("<< float", lambda m, x: x << 1, [f]),
        ("lerp int", lambda m, x: m.lerp(x, x, 0.5), [i]),
        ("lerp dtypes", lambda m, x, y: m.lerp(x, y, 0.5), [f.astype("float32"), f]),
        ("lerp weight dtype", lambda m, x, y: m.lerp(x, x, y), [f.astype("float32"), f]),
        ("add alpha float", lambda m, x: m.add(x, x, alpha=0.5), [i]),
        ("sub alpha float", lambda m, x: m.sub(x, x, alpha=1.5), [i]),
        ("+bool", lambda m, x: m.positive(x), [b]),
        ("isclose dtypes", lambda m, x, y: m.isclose(x, y), [f.astype("float32"), f]),
        ("isclose rtol", lambda m, x: m.isclose(x, x, rtol=-1.0), [f]),
        ("addcdiv ints", lambda m, x: m.addcdiv(x, x, x), [i]),
        ("masked_fill int mask", lambda m, x, y: m.masked_fill(x, y, 1.0), [f, i]),
        ("masked_fill 1-d value", lambda m, x, y, z: m.masked_fill(x, y, z),
         [f, b, np.array([1.0])]),
        ("round decimals int", lambda m, x: m.round(x, decimals=2), [i]),
        ("clamp none", lambda m, x: m.clamp(x), [f]),
        ("div rounding mode", lambda m, x: m.div(x, x, rounding_mode="nearest"), [f]),
    ]
    wrong = []
    for what, fn, arrays in cases:
        with pytest.raises(Exception) as info:
            fn(torch, *map(theirs, arrays))
        try:
            fn(pt, *(ours(a, device) for a in arrays))
        except type(info.value):
            continue
        except Exception as exc:
            wrong.append(f"{what}: {type(exc).__name__}: {exc} (torch: {info.value!r})")
        else:
            wrong.append(f"{what}: no error (torch: {info.value!r})")
    assert not wrong, "\n".join(wrong)


# -- ternary ops ------------------------------------------------------------------------


@SETTINGS
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=2, max_side=2),
    op=st.sampled_from(["addcmul", "addcdiv", "lerp", "clamp", "where_masked_fill"]),
    value=st.sampled_from([1, 0.5, -2]),
    dtype=st.sampled_from(["float32", "float64"]),
    seed=SEEDS,
)
def test_ternary_ops(device, shapes, op, value, dtype, seed):
    rng = np.random.default_rng(seed)
    sa, sb, sc = shapes.input_shapes
    if op == "clamp":  # PyTorch cannot backpropagate a clamp that broadcasts its input
        sa = shapes.result_shape
    a = rng.uniform(-2, 2, sa).astype(dtype)
    b = rng.uniform(-2, 2, sb).astype(dtype)
    c = rng.uniform(0.5, 2, sc).astype(dtype)
    if op == "lerp":
        c = rng.uniform(-0.5, 1.5, sc).astype(dtype)
    if op == "clamp":
        b, c = -np.abs(b), np.abs(c)
    if op == "where_masked_fill":
        mask = rng.uniform(size=sb) < 0.5
        v = np.asarray(value, dtype)
        xs, ts = both([a, v], device)
        out = pt.masked_fill(xs[0], ours(mask, device), xs[1])
        ref = torch.masked_fill(ts[0], theirs(mask), ts[1])
        same(out, ref, "masked_fill")
        backward(out, ref, device, seed)
        grads_match(xs, ts, "masked_fill")
        return
    xs, ts = both([a, b, c], device)
    kw = {"value": value} if op in ("addcmul", "addcdiv") else {}
    out, ref = getattr(pt, op)(*xs, **kw), getattr(torch, op)(*ts, **kw)
    same(out, ref, f"{op} {shapes.input_shapes}")
    backward(out, ref, device, seed)
    grads_match(xs, ts, op, (1e-5, 1e-5) if dtype == "float32" else None)


def test_addcmul_and_masked_fill_dtypes(device):
    i, f = np.array([3, -7]), np.array([1.5, -2.5], np.float32)
    m = np.array([True, False])
    same(pt.addcmul(ours(i, device), ours(i, device), ours(i, device), value=0.5),
         torch.addcmul(theirs(i), theirs(i), theirs(i), value=0.5), "addcmul int")
    same(pt.addcmul(ours(f, device), ours(i, device), ours(i, device)),
         torch.addcmul(theirs(f), theirs(i), theirs(i)), "addcmul mixed")
    for x, v in [(i, 2.7), (f, 2), (m, 5), (f, float("nan")), (i, np.array(4.5)),
                 (f, np.array(2, np.int64))]:
        vo = ours(v, device) if isinstance(v, np.ndarray) else v
        vt = theirs(v) if isinstance(v, np.ndarray) else v
        same(pt.masked_fill(ours(x, device), ours(m, device), vo),
             torch.masked_fill(theirs(x), theirs(m), vt), f"masked_fill {x.dtype} {v!r}")
        same(ours(x, device).masked_fill(ours(m, device), vo),
             theirs(x).masked_fill(theirs(m), vt), "Tensor.masked_fill")


# -- classification, comparison, logic ------------------------------------------------------


def test_classifiers_and_nan_to_num(device):
    for dt in ("float32", "float64", "int64", "bool"):
        a = np.array([np.nan, np.inf, -np.inf, 0.0, -1.5, 3.0e38])
        if dt in ("int64", "bool"):
            a = np.array([0, 1, 2, 0, 1, 1])
        a = a.astype(dt)
        for op in ["isnan", "isinf", "isfinite", "isposinf", "isneginf", "nan_to_num"]:
            same(getattr(pt, op)(ours(a, device)), getattr(torch, op)(theirs(a)), f"{op} {dt}")
        kw = {"nan": 1.0, "posinf": 9.0, "neginf": -9.0}
        same(pt.nan_to_num(ours(a, device), **kw), torch.nan_to_num(theirs(a), **kw), "kw")
        same(ours(a, device).nan_to_num(posinf=5.0), theirs(a).nan_to_num(posinf=5.0), "pos")
    a = np.array([np.nan, np.inf, 1.5, -np.inf])
    xs, ts = both([a], device)
    out, ref = pt.nan_to_num(xs[0]), torch.nan_to_num(ts[0])
    backward(out, ref, device)
    grads_match(xs, ts, "nan_to_num")


COMPARISONS = ["eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less",
               "less_equal", "not_equal", "logical_and", "logical_or", "logical_xor",
               "bitwise_and", "bitwise_or", "bitwise_xor"]


@pytest.mark.parametrize("dtypes", [("float32", "int64"), ("int64", "bool"), ("bool", "bool"),
                                    ("float64", "float32")])
def test_comparisons_and_logic(device, dtypes):
    rng = np.random.default_rng(1)
    a = rng.integers(-2, 3, (3, 4)).astype(dtypes[0])
    b = rng.integers(-2, 3, (4,)).astype(dtypes[1])
    for op in COMPARISONS:
        try:
            ref = getattr(torch, op)(theirs(a), theirs(b))
        except Exception as exc:
            with pytest.raises(type(exc)):
                getattr(pt, op)(ours(a, device), ours(b, device))
            continue
        same(getattr(pt, op)(ours(a, device), ours(b, device)), ref, f"{op} {dtypes}")
        same(getattr(ours(a, device), op)(ours(b, device)), ref, f"Tensor.{op} {dtypes}")
    same(pt.logical_not(ours(a, device)), torch.logical_not(theirs(a)), "logical_not")
    if dtypes[0] != "float32" and dtypes[0] != "float64":
        same(pt.bitwise_not(ours(a, device)), torch.bitwise_not(theirs(a)), "bitwise_not")


def test_bitwise_operators_on_integers_and_bools(device):
    """& | ^ ~ are bitwise on integers (not logical), logical on bools; << >> shift."""
    i = np.array([5, -3, 12, 0])
    j = np.array([3, 6, -1, 7])
    b = np.array([True, False, True, False])
    for f in (operator.and_, operator.or_, operator.xor, operator.lshift, operator.rshift):
        same(f(ours(i, device), ours(j % 8, device)), f(theirs(i), theirs(j % 8)), str(f))
        same(f(ours(i, device), 2), f(theirs(i), 2), f"{f} scalar")
        same(f(3, ours(j % 8, device)), f(3, theirs(j % 8)), f"scalar {f}")
    for f in (operator.and_, operator.or_, operator.xor):
        same(f(ours(b, device), ours(b[::-1].copy(), device)), f(theirs(b), theirs(b[::-1].copy())),
             f"bool {f}")
        same(f(ours(i, device), ours(b, device)), f(theirs(i), theirs(b)), f"int-bool {f}")
    same(~ours(i, device), ~theirs(i), "~int")
    same(~ours(b, device), ~theirs(b), "~bool")
    same(abs(ours(i, device)), abs(theirs(i)), "abs()")
    same(ours(i, device) % 5, theirs(i) % 5, "%")
    same(7 % ours(j, device), 7 % theirs(j), "r%")
    same(7.5 // ours(j, device), 7.5 // theirs(j), "r//")
    x, t = ours(i, device), theirs(i)
    for name in ["__iand__", "__ior__", "__ixor__", "__ilshift__", "__irshift__", "__imod__",
                 "__ifloordiv__"]:
        x = getattr(x, name)(3)
        t = getattr(t, name)(3)
        same(x, t, name)


def test_isclose_allclose_equal(device):
    a = np.array([1.0, 2.0, np.nan, np.inf, -np.inf, 1e-9, 100.0])
    b = np.array([1.0 + 1e-6, 2.1, np.nan, np.inf, np.inf, 0.0, 100.0001])
    for kw in ({}, {"rtol": 1e-2}, {"atol": 1e-3, "equal_nan": True}, {"rtol": 0, "atol": 0}):
        for dt in ("float32", "float64"):
            x, y = a.astype(dt), b.astype(dt)
            same(pt.isclose(ours(x, device), ours(y, device), **kw),
                 torch.isclose(theirs(x), theirs(y), **kw), f"isclose {kw} {dt}")
            assert pt.allclose(ours(x, device), ours(y, device), **kw) == \
                torch.allclose(theirs(x), theirs(y), **kw)
    i, j = np.array([1, 5, 10]), np.array([1, 6, 10])
    same(pt.isclose(ours(i, device), ours(j, device), rtol=0.1),
         torch.isclose(theirs(i), theirs(j), rtol=0.1), "isclose int")
    assert ours(a, device).allclose(ours(a, device), equal_nan=True)
    for x, y in [(i, i), (i, j), (i, i.astype("float32")), (i, i[:2]), (a, a)]:
        assert pt.equal(ours(x, device), ours(y, device)) == torch.equal(theirs(x), theirs(y))
        assert ours(x, device).equal(ours(y, device)) == theirs(x).equal(theirs(y))


# -- in-place variants -------------------------------------------------------------------------

INPLACE = {
    # name -> (args after self, input range)
    "sqrt_": ((), (0.1, 3)), "sin_": ((), (-3, 3)),
    "tan_": ((), (-1, 1)), "asin_": ((), (-0.9, 0.9)),
    "acos_": ((), (-0.9, 0.9)),
    "erf_": ((), (-2, 2)), "erfinv_": ((), (-0.9, 0.9)), "abs_": ((), (-2, 2)),
    "sign_": ((), (-2, 2)), "round_": ((), (-3, 3)),
    "frac_": ((), (-3, 3)), "square_": ((), (-2, 2)), "reciprocal_": ((), (0.5, 2)),
    "logit_": ((), (0.1, 0.9)), "clamp_": ((-0.5, 0.5), (-2, 2)),
    "clip_": ((None, 0.3), (-2, 2)),
    "nan_to_num_": ((), (-2, 2)), "fmod_": ((0.7,), (-2, 2)),
    "lerp_": ((1.5, 0.25), (-2, 2)),
    "add_": ((0.5,), (-2, 2)), "atan2_": ((0.5,), (-2, 2)),
    "hypot_": ((0.5,), (-2, 2)), "true_divide_": ((3.0,), (-2, 2)),
}


@pytest.mark.parametrize("dtype", ["float64"])
def test_inplace_variants(device, dtype):
    """``x.op_(...)`` on a non-leaf: same values and gradients as PyTorch, version bumped."""
    rng = np.random.default_rng(5)
    wrong = []
    for name, (args, (low, high)) in INPLACE.items():
        a = rng.uniform(low, high, (2, 3)).astype(dtype)
        (x,), (t,) = both([a], device)
        ta = [theirs(np.full((2, 3), v)) if isinstance(v, float) and name in
              ("lerp_", "atan2_", "hypot_") else v for v in args]
        oa = [ours(np.full((2, 3), v), device) if isinstance(v, float) and name in
              ("lerp_", "atan2_", "hypot_") else v for v in args]
        y, u = x * 1, t * 1
        v0 = y._version
        try:
            r = getattr(y, name)(*oa)
            assert r is y and y._version > v0, "not in place"
            getattr(u, name)(*ta)
            same(y, u, name)
            backward(y, u, device)
            grads_match([x], [t], name)
        except Exception as exc:  # collect every failure
            wrong.append(f"{name}: {type(exc).__name__}: {exc}")
    assert not wrong, "\n".join(wrong)


def test_comparison_inplace_casts_to_self(device):
    a = np.array([1.0, 2.0, 3.0])
    for name in ("eq_", "lt_", "ge_", "logical_and_", "logical_xor_"):
        other = np.array([2.0, 0.0, 2.0])
        x, t = ours(a, device), theirs(a)
        getattr(x, name)(ours(other, device))
        getattr(t, name)(theirs(other))
        same(x, t, name)
    i = np.array([5, 6, 7])
    x, t = ours(i, device), theirs(i)
    x.bitwise_xor_(3).bitwise_left_shift_(2)
    t.bitwise_xor_(3).bitwise_left_shift_(2)
    same(x, t, "bitwise in place")
