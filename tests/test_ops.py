"""Differential tests of the primitive ops against PyTorch, on every backend.

Each test builds the same inputs (NumPy arrays drawn from a seeded generator)
as polytorch tensors on ``device`` and as PyTorch CPU tensors, then compares
forward values, result dtypes and shapes, and the gradients of a backward pass
with a random upstream gradient. PyTorch (``torch==2.13.0``) is the oracle.
"""

from __future__ import annotations

import operator

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import torch
from helpers import host as _host
from helpers import ours, theirs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import polytorch as pt
from polytorch.testing import gradcheck

SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

NP = {"float32": np.float32, "float64": np.float64}
TOL = {"float32": (2e-5, 2e-5), "float64": (1e-10, 1e-12)}

FLOAT_PAIRS = [
    ("float32", "float32"),
    ("float64", "float64"),
    ("float32", "float64"),
    ("float64", "float32"),
]
SEEDS = st.integers(0, 2**32 - 1)


# -- helpers ---------------------------------------------------------------------------------


def _dtype_name(t) -> str:
    if isinstance(t, torch.Tensor):
        return str(t.dtype).removeprefix("torch.")
    return t.dtype.name


def assert_same(a, e, what="", tol=None):
    """``a`` (polytorch) has ``e``'s (torch) shape, dtype and values."""
    assert isinstance(a, pt.Tensor), f"{what}: expected a polytorch Tensor, got {type(a)}"
    assert tuple(a.shape) == tuple(e.shape), f"{what}: shape {tuple(a.shape)} vs {tuple(e.shape)}"
    assert _dtype_name(a) == _dtype_name(e), f"{what}: dtype {_dtype_name(a)} vs {_dtype_name(e)}"
    ha, he = _host(a), _host(e)
    if he.dtype.kind in "biu":
        np.testing.assert_array_equal(ha, he, err_msg=what)
    else:
        rtol, atol = tol or TOL.get(_dtype_name(e), (2e-5, 2e-5))
        np.testing.assert_allclose(ha, he, rtol=rtol, atol=atol, err_msg=what)


def assert_device(t, device):
    assert t.device == pt.device(device), f"result on {t.device}, expected {device}"


def upstream(shape, dtype_name, seed):
    return np.random.default_rng(seed + 1).standard_normal(shape).astype(NP[dtype_name])


def backward_both(out_ours, out_theirs, seed, device):
    """Backpropagate the same random upstream gradient through both results."""
    g = upstream(tuple(out_theirs.shape), _dtype_name(out_theirs), seed)
    out_ours.backward(ours(g, device))
    out_theirs.backward(theirs(g))


def assert_grads(pairs, device, what="", tol=None):
    for i, (a, e) in enumerate(pairs):
        if e.grad is None:
            assert a.grad is None, f"{what}: grad of input {i} should be None"
            continue
        assert a.grad is not None, f"{what}: grad of input {i} is None"
        assert_device(a.grad, device)
        assert_same(a.grad, e.grad, f"{what}: grad of input {i}", tol)


def tol_for(*names):
    return TOL["float32"] if "float32" in names else TOL["float64"]


def _normal(rng, shape, dtype):
    return rng.standard_normal(shape).astype(NP[dtype])


def _away_from_zero(rng, shape, dtype):
    x = rng.standard_normal(shape)
    return (np.sign(x) * (np.abs(x) + 0.5)).astype(NP[dtype])


def _positive(rng, shape, dtype):
    return (np.abs(rng.standard_normal(shape)) + 0.5).astype(NP[dtype])


BINARY = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
    "pow": operator.pow,
}


def _binary_inputs(rng, op, shape_a, shape_b, dta, dtb):
    a = _positive(rng, shape_a, dta) if op == "pow" else _normal(rng, shape_a, dta)
    if op == "div":
        b = _away_from_zero(rng, shape_b, dtb)
    elif op == "pow":
        b = rng.uniform(-2, 2, shape_b).astype(NP[dtb])
    else:
        b = _normal(rng, shape_b, dtb)
    return a, b


# -- binary arithmetic ---------------------------------------------------------------------


@SETTINGS
@given(
    shapes=hnp.mutually_broadcastable_shapes(
        num_shapes=2, min_dims=0, max_dims=3, min_side=0, max_side=3
    ),
    op=st.sampled_from(sorted(BINARY)),
    dtypes=st.sampled_from(FLOAT_PAIRS),
    seed=SEEDS,
)
def test_binary_tensor_tensor(device, shapes, op, dtypes, seed):
    rng = np.random.default_rng(seed)
    (sa, sb), (dta, dtb) = shapes.input_shapes, dtypes
    a, b = _binary_inputs(rng, op, sa, sb, dta, dtb)
    xa, xb = ours(a, device, True), ours(b, device, True)
    ta, tb = theirs(a, True), theirs(b, True)
    out, ref = BINARY[op](xa, xb), BINARY[op](ta, tb)
    what = f"{op} {sa}:{dta} {sb}:{dtb}"
    assert_device(out, device)
    assert_same(out, ref, what, tol_for(dta, dtb))
    assert out.requires_grad and not out.is_leaf
    backward_both(out, ref, seed, device)
    # Mixed float32/float64 operands: float32 precision throughout (the exact
    # float64 gradient of pow's exponent is checked on its own below).
    assert_grads([(xa, ta), (xb, tb)], device, what, tol_for(dta, dtb))


def test_pow_exponent_grad_is_computed_in_the_promoted_dtype(device):
    """float32 base ** float64 exponent: d/d(exponent) = out * log(base), in float64.

    PyTorch promotes the base before taking its log, so the float64 gradient is
    exact; computing log() of the float32 base loses half the digits.
    """
    a = np.array([1.3, 0.7, 2.9], np.float32)
    b = np.array([-0.7, 1.9, 0.3], np.float64)
    xa, xb = ours(a, device, True), ours(b, device, True)
    ta, tb = theirs(a, True), theirs(b, True)
    (xa**xb).sum().backward()
    (ta**tb).sum().backward()
    exact = a.astype(np.float64) ** b * np.log(a.astype(np.float64))
    np.testing.assert_allclose(tb.grad.numpy(), exact, rtol=1e-14)  # the oracle is exact
    assert_grads([(xa, ta), (xb, tb)], device, "float32 ** float64")


@SETTINGS
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
    op=st.sampled_from(sorted(BINARY)),
    dtypes=st.sampled_from(FLOAT_PAIRS),
    seed=SEEDS,
)
def test_binary_functions_and_methods(device, shapes, op, dtypes, seed):
    """``polytorch.add(a, b)`` and ``a.add(b)`` are the operators."""
    rng = np.random.default_rng(seed)
    (sa, sb), (dta, dtb) = shapes.input_shapes, dtypes
    a, b = _binary_inputs(rng, op, sa, sb, dta, dtb)
    xa, xb = ours(a, device, True), ours(b, device, True)
    ta, tb = theirs(a, True), theirs(b, True)
    out_f = getattr(pt, op)(xa, xb)
    out_m = getattr(xa, op)(xb)
    ref = getattr(torch, op)(ta, tb)
    assert_same(out_f, ref, f"polytorch.{op}", tol_for(dta, dtb))
    assert_same(out_m, ref, f"Tensor.{op}", tol_for(dta, dtb))
    backward_both(out_f + out_m, ref * 2, seed, device)
    assert_grads([(xa, ta), (xb, tb)], device, op, tol_for(dta, dtb))


SCALARS = [2, -3, 0, 1, 0.5, 2.5, -1.25, 1e-3]


@SETTINGS
@given(
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3),
    op=st.sampled_from(sorted(BINARY)),
    scalar=st.sampled_from(SCALARS),
    reverse=st.booleans(),
    dtype=st.sampled_from(["float32", "float64"]),
    seed=SEEDS,
)
def test_binary_tensor_scalar(device, shape, op, scalar, reverse, dtype, seed):
    """``x OP s`` and ``s OP x``: a Python number keeps the tensor's dtype."""
    rng = np.random.default_rng(seed)
    if reverse:
        # s OP x: x is the right operand (divisor or exponent).
        if op == "div":
            a = _away_from_zero(rng, shape, dtype)
        elif op == "pow":
            a = rng.uniform(-2, 2, shape).astype(NP[dtype])
            scalar = abs(scalar) + 0.5  # a positive base
        else:
            a = _normal(rng, shape, dtype)
    else:
        a = _positive(rng, shape, dtype) if op == "pow" else _normal(rng, shape, dtype)
        if op == "div" and scalar == 0:
            scalar = 4
    x, t = ours(a, device, True), theirs(a, True)
    f = BINARY[op]
    out, ref = (f(scalar, x), f(scalar, t)) if reverse else (f(x, scalar), f(t, scalar))
    what = f"{'s OP x' if reverse else 'x OP s'} {op} s={scalar!r} {shape}:{dtype}"
    assert_device(out, device)
    assert_same(out, ref, what, tol_for(dtype))
    backward_both(out, ref, seed, device)
    assert_grads([(x, t)], device, what)


def test_neg(device):
    rng = np.random.default_rng(0)
    for dtype in ("float32", "float64"):
        a = _normal(rng, (2, 3), dtype)
        x, t = ours(a, device, True), theirs(a, True)
        for out, ref in ((-x, -t), (pt.neg(x), torch.neg(t)), (x.neg(), t.neg())):
            assert_same(out, ref, "neg")
            backward_both(out, ref, 3, device)
        assert_grads([(x, t)], device, "neg")
    for dt in ("int64", "int32"):
        a = np.array([[1, -2, 3]], dtype=dt)
        assert_same(-ours(a, device), -theirs(a), f"neg {dt}")


INT_AND_FLOAT = ["bool", "uint8", "int32", "int64", "float32", "float64"]


@SETTINGS
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3),
    op=st.sampled_from(["add", "sub", "mul", "div"]),
    dta=st.sampled_from(INT_AND_FLOAT),
    dtb=st.sampled_from(INT_AND_FLOAT + ["int", "float", "bool-scalar"]),
    seed=SEEDS,
)
def test_binary_result_dtype(device, shapes, op, dta, dtb, seed):
    """PyTorch's promotion rules (categories, 0-d tensors, Python scalars), forward only.

    Where PyTorch refuses the combination, polytorch must raise the same class of error.
    """
    if op == "sub" and (dta == "bool" or dtb.startswith("bool")):
        return  # PyTorch refuses bool subtraction: test_bool_subtraction_and_negation_refused
    if dta == "bool" and dtb.startswith("bool"):
        return  # bool with bool: test_bool_arithmetic
    rng = np.random.default_rng(seed)
    sa, sb = shapes.input_shapes

    def make(shape, dt):
        if dt == "bool":
            return rng.integers(0, 2, shape).astype(bool)
        if dt in ("uint8", "int32", "int64"):
            return rng.integers(1, 5, shape).astype(dt)
        return _away_from_zero(rng, shape, dt)

    a = make(sa, dta)
    if op == "div":
        make = _nonzero(make)
    if dtb == "int":
        b_ours = b_theirs = 3
    elif dtb == "float":
        b_ours = b_theirs = 2.5
    elif dtb == "bool-scalar":
        b_ours = b_theirs = True
    else:
        b = make(sb, dtb)
        b_ours, b_theirs = ours(b, device), theirs(b)
    f = BINARY[op]
    try:
        ref = f(theirs(a), b_theirs)
    except Exception as exc:  # PyTorch refuses: so must we, with the same class of error
        with pytest.raises(type(exc)):
            f(ours(a, device), b_ours)
        return
    out = f(ours(a, device), b_ours)
    assert_same(out, ref, f"{op} {sa}:{dta} with {dtb}", (1e-6, 1e-6))


def _nonzero(make):
    def wrapped(shape, dt):
        v = make(shape, dt)
        return np.ones_like(v) if dt == "bool" else v

    return wrapped


def test_bool_subtraction_and_negation_refused(device):
    """PyTorch refuses ``-`` on bool tensors (it means ``~`` or ``^``) with a RuntimeError."""
    b = np.array([True, False, True])
    i = np.array([1, 2, 3])
    exprs = {
        "bool - bool": lambda vb, vi: vb - vb,
        "bool - int": lambda vb, vi: vb - vi,
        "int - bool": lambda vb, vi: vi - vb,
        "-bool": lambda vb, vi: -vb,
        "bool - True": lambda vb, vi: vb - True,
        "1 - bool": lambda vb, vi: 1 - vb,
    }
    wrong = []
    for name, f in exprs.items():
        with pytest.raises(Exception) as exc_t:
            f(theirs(b), theirs(i))
        try:
            f(ours(b, device), ours(i, device))
        except type(exc_t.value):
            continue
        except Exception as e:
            wrong.append(f"{name}: {type(e).__name__} instead of {type(exc_t.value).__name__}")
        else:
            wrong.append(f"{name}: no error ({type(exc_t.value).__name__} expected)")
    assert not wrong, "; ".join(wrong)


def test_bool_arithmetic(device):
    """bool + bool and bool * bool stay bool in PyTorch (logical or / and)."""
    a = np.array([True, False, True, False])
    b = np.array([True, True, False, False])
    for f, what in ((operator.add, "+"), (operator.mul, "*")):
        assert_same(f(ours(a, device), ours(b, device)), f(theirs(a), theirs(b)), f"bool {what}")
        assert_same(f(ours(a, device), True), f(theirs(a), True), f"bool {what} True")


# -- unary elementwise ---------------------------------------------------------------------

UNARY = ["exp", "log", "tanh", "sigmoid", "relu"]


@SETTINGS
@given(
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
    op=st.sampled_from(UNARY),
    dtype=st.sampled_from(["float32", "float64"]),
    form=st.sampled_from(["function", "method"]),
    seed=SEEDS,
)
def test_unary(device, shape, op, dtype, form, seed):
    rng = np.random.default_rng(seed)
    a = (
        _positive(rng, shape, dtype)
        if op == "log"
        else (3 * rng.standard_normal(shape)).astype(NP[dtype])
    )
    x, t = ours(a, device, True), theirs(a, True)
    out = getattr(pt, op)(x) if form == "function" else getattr(x, op)()
    ref = getattr(torch, op)(t)
    assert_device(out, device)
    assert_same(out, ref, f"{op} {shape}:{dtype}")
    backward_both(out, ref, seed, device)
    assert_grads([(x, t)], device, op)


@pytest.mark.parametrize("op", UNARY + ["neg"])
@pytest.mark.parametrize("dtype", ["bool", "int32", "int64"])
def test_unary_result_dtype_of_integer_input(device, op, dtype):
    """exp/log/tanh/sigmoid of an integer tensor are float32; relu keeps the dtype."""
    if dtype == "bool" and op in ("relu", "neg"):
        pytest.skip(
            "PyTorch refuses it: test_bool_relu_refused, test_bool_subtraction_and_negation_refused"
        )
    a = np.array([[1, 2, 1], [3, 1, 2]]).astype(dtype)
    try:
        ref = getattr(torch, op)(theirs(a))
    except Exception as exc:
        with pytest.raises(type(exc)):
            getattr(pt, op)(ours(a, device))
        return
    assert_same(getattr(pt, op)(ours(a, device)), ref, f"{op}({dtype})", (1e-6, 1e-6))


def test_bool_relu_refused(device):
    a = np.array([True, False])
    with pytest.raises(Exception) as exc_t:
        torch.relu(theirs(a))
    with pytest.raises(type(exc_t.value)):
        pt.relu(ours(a, device))


def test_ieee_specials_without_warnings(device):
    """1/0, 0/0, log(0), log(-1) and exp overflow give inf/nan silently, as in PyTorch.

    (pytest runs with ``filterwarnings = error``, so a NumPy RuntimeWarning fails.)
    """
    num = np.array([1.0, 0.0, -1.0], np.float32)
    den = np.array([0.0, 0.0, 0.0], np.float32)
    big = np.array([100.0, 1000.0, -1000.0], np.float32)
    logs = np.array([0.0, -1.0, 1.0], np.float32)
    cases = [
        (ours(num, device) / ours(den, device), theirs(num) / theirs(den), "x / 0"),
        (pt.log(ours(logs, device)), torch.log(theirs(logs)), "log(0), log(-1)"),
        (pt.exp(ours(big, device)), torch.exp(theirs(big)), "exp overflow"),
        (ours(logs, device) ** -1.0, theirs(logs) ** -1.0, "0 ** -1"),
    ]
    for out, ref, what in cases:
        assert_same(out, ref, what)


def test_unary_extremes(device):
    """sigmoid/tanh/exp/relu at large magnitudes: no NaN where PyTorch has none."""
    a = np.array([-1000.0, -80.0, -20.0, -1.0, 0.0, 1.0, 20.0, 80.0, 1000.0], np.float32)
    for op in UNARY:
        x, t = ours(a, device, True), theirs(a, True)
        with np.errstate(all="ignore"):
            out, ref = getattr(pt, op)(x), getattr(torch, op)(t)
            assert_same(out, ref, op, (1e-6, 1e-30))
            out.sum().backward()
            ref.sum().backward()
        assert_grads([(x, t)], device, op)


# -- matmul ----------------------------------------------------------------------------------


@SETTINGS
@given(
    batch=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3),
    n=st.integers(1, 4),
    k=st.integers(1, 4),
    m=st.integers(1, 4),
    vec_a=st.booleans(),
    vec_b=st.booleans(),
    dtype=st.sampled_from(["float32", "float64"]),
    seed=SEEDS,
)
def test_matmul(device, batch, n, k, m, vec_a, vec_b, dtype, seed):
    """1-D, 2-D, batched and broadcast-batch products, and their gradients."""
    if vec_a and vec_b:
        vec_b = False  # 1-D @ 1-D: test_matmul_dot_product
    rng = np.random.default_rng(seed)
    ba, bb = batch.input_shapes
    sa = (k,) if vec_a else ba + (n, k)
    sb = (k,) if vec_b else bb + (k, m)
    a, b = _normal(rng, sa, dtype), _normal(rng, sb, dtype)
    xa, xb = ours(a, device, True), ours(b, device, True)
    ta, tb = theirs(a, True), theirs(b, True)
    what = f"matmul {sa} @ {sb}:{dtype}"
    out, ref = xa @ xb, ta @ tb
    assert_device(out, device)
    assert_same(out, ref, what, tol_for(dtype))
    assert_same(pt.matmul(xa, xb), ref, what, tol_for(dtype))
    assert_same(xa.matmul(xb), ref, what, tol_for(dtype))
    backward_both(out, ref, seed, device)
    assert_grads([(xa, ta), (xb, tb)], device, what)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matmul_dot_product(device, dtype):
    """1-D @ 1-D is a 0-d dot product; its gradients are the other vector times grad."""
    rng = np.random.default_rng(3)
    a, b = _normal(rng, (4,), dtype), _normal(rng, (4,), dtype)
    xa, xb = ours(a, device, True), ours(b, device, True)
    ta, tb = theirs(a, True), theirs(b, True)
    out, ref = xa @ xb, ta @ tb
    assert_same(out, ref, "dot", tol_for(dtype))
    backward_both(out, ref, 3, device)
    assert_grads([(xa, ta), (xb, tb)], device, "dot")


# -- reductions ------------------------------------------------------------------------------


@st.composite
def reduction_dims(draw, min_side=1):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=min_side, max_side=3))
    ndim = len(shape)
    n = max(ndim, 1)
    # 0-d tensors with a dim: test_reductions_of_0d_tensor_over_dim_0
    kind = draw(st.sampled_from(["all", "int", "tuple"] if ndim else ["all"]))
    if kind == "all":
        dim = None
    elif kind == "int":
        dim = draw(st.integers(-n, n - 1))
    else:
        dims = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
        dim = tuple(d - n if draw(st.booleans()) else d for d in dims)
    return shape, dim, draw(st.booleans())


@SETTINGS
@given(
    spec=reduction_dims(),
    op=st.sampled_from(["sum", "mean"]),
    dtype=st.sampled_from(["float32", "float64"]),
    form=st.sampled_from(["method", "function"]),
    seed=SEEDS,
)
def test_sum_mean(device, spec, op, dtype, form, seed):
    shape, dim, keepdim = spec
    rng = np.random.default_rng(seed)
    a = _normal(rng, shape, dtype)
    x, t = ours(a, device, True), theirs(a, True)
    if dim is None:
        out = getattr(x, op)() if form == "method" else getattr(pt, op)(x)
        ref = getattr(t, op)()
    else:
        out = (
            getattr(x, op)(dim, keepdim=keepdim)
            if form == "method"
            else getattr(pt, op)(x, dim=dim, keepdim=keepdim)
        )
        ref = getattr(t, op)(dim, keepdim=keepdim)
    what = f"{op} {shape}:{dtype} dim={dim} keepdim={keepdim}"
    assert_device(out, device)
    assert_same(out, ref, what, tol_for(dtype))
    backward_both(out, ref, seed, device)
    assert_grads([(x, t)], device, what)


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int32", "int64"])
def test_sum_of_integers_is_int64_and_mean_refuses(device, dtype):
    a = np.array([[1, 0, 1], [1, 1, 0]]).astype(dtype)
    x, t = ours(a, device), theirs(a)
    assert_same(x.sum(), t.sum(), "sum")
    assert_same(x.sum(1), t.sum(1), "sum(1)")
    assert_same(x.sum((0, 1), keepdim=True), t.sum((0, 1), keepdim=True), "sum((0,1))")
    with pytest.raises(RuntimeError) as exc_t:
        t.mean()
    with pytest.raises(type(exc_t.value)):
        x.mean()


@pytest.mark.parametrize("op", ["sum", "mean", "max"])
def test_reductions_of_0d_tensor_over_dim_0(device, op):
    """A 0-d tensor has one reducible dim (0 or -1), as in PyTorch."""
    dims = [0, -1] if op == "max" else [0, -1, (0,), (-1,)]
    for dim in dims:
        for keepdim in (False, True):
            what = f"{op}(0-d, dim={dim}, keepdim={keepdim})"
            a = np.array(1.5, np.float32)
            x, t = ours(a, device, True), theirs(a, True)
            out, ref = getattr(x, op)(dim, keepdim=keepdim), getattr(t, op)(dim, keepdim=keepdim)
            if op == "max":
                assert isinstance(out, tuple) and len(out) == 2, what
                assert_same(out[1], ref.indices, what + " indices")
                assert_same(out.indices, ref.indices, what + " .indices")
                out, ref = out[0], ref.values
            assert_same(out, ref, what)
            backward_both(out, ref, 1, device)
            assert_grads([(x, t)], device, what)


def _distinct(rng, shape, dtype):
    """Values without ties, so that max's gradient and indices are unambiguous."""
    n = int(np.prod(shape))
    return (rng.permutation(n).reshape(shape) * 0.5 - n / 4).astype(NP[dtype])


@SETTINGS
@given(spec=reduction_dims(), dtype=st.sampled_from(["float32", "float64"]), seed=SEEDS)
def test_max(device, spec, dtype, seed):
    """max() of all elements, and max(dim) -> (values, indices) with keepdim."""
    shape, dim, keepdim = spec
    rng = np.random.default_rng(seed)
    a = _distinct(rng, shape, dtype)
    x, t = ours(a, device, True), theirs(a, True)
    if dim is None:
        out, ref = x.max(), t.max()
        assert_same(out, ref, f"max() {shape}")
        assert_same(pt.max(x), ref, f"polytorch.max() {shape}")
        backward_both(out, ref, seed, device)
    elif isinstance(dim, tuple):  # max takes one dim; amax takes several
        out, ref = x.amax(dim, keepdim=keepdim), t.amax(dim, keepdim=keepdim)
        assert_same(out, ref, f"amax {shape} dim={dim} keepdim={keepdim}")
        assert_same(pt.amax(x, dim, keepdim), ref, f"polytorch.amax {shape} dim={dim}")
        backward_both(out, ref, seed, device)
    else:
        res, ref = x.max(dim, keepdim=keepdim), t.max(dim, keepdim=keepdim)
        what = f"max {shape}:{dtype} dim={dim} keepdim={keepdim}"
        values, indices = res
        assert_same(values, ref.values, what + " values")
        assert_same(indices, ref.indices, what + " indices")
        assert_same(res.values, ref.values, what + " .values")
        assert_same(res.indices, ref.indices, what + " .indices")
        assert not indices.requires_grad
        f_values, f_indices = pt.max(x, dim, keepdim)
        assert_same(f_values, ref.values, what + " polytorch.max values")
        assert_same(f_indices, ref.indices, what + " polytorch.max indices")
        backward_both(values, ref.values, seed, device)
    assert_grads([(x, t)], device, f"max {shape} dim={dim}")


def test_max_ties_share_gradient(device):
    """max() over all elements gives tied maxima equal shares, as PyTorch does."""
    a = np.array([[1.0, 3.0, 3.0], [0.0, 3.0, -1.0]], np.float32)
    x, t = ours(a, device, True), theirs(a, True)
    x.max().backward()
    t.max().backward()
    assert_grads([(x, t)], device, "max ties")


# -- shape ops -------------------------------------------------------------------------------


@SETTINGS
@given(
    shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=3),
    choice=st.integers(0, 6),
    how=st.sampled_from(["reshape", "view", "tuple"]),
    dtype=st.sampled_from(["float32", "float64"]),
    seed=SEEDS,
)
def test_reshape_view(device, shape, choice, how, dtype, seed):
    n = int(np.prod(shape))
    targets = [
        (n,),
        (-1,),
        (1, -1),
        (-1, 1),
        tuple(reversed(shape)) or (1,),
        (n, 1, 1),
        (shape[0], -1) if shape else (-1,),
    ]
    target = targets[choice]
    rng = np.random.default_rng(seed)
    a = _normal(rng, shape, dtype)
    x, t = ours(a, device, True), theirs(a, True)
    if how == "tuple":
        out, ref = x.reshape(target), t.reshape(target)
    else:
        out, ref = getattr(x, how)(*target), getattr(t, how)(*target)
    assert_same(out, ref, f"{how} {shape} -> {target}")
    backward_both(out, ref, seed, device)
    assert_grads([(x, t)], device, how)


@SETTINGS
@given(
    data=st.data(),
    shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3),
    dtype=st.sampled_from(["float32", "float64"]),
    seed=SEEDS,
)
def test_transpose_permute(device, data, shape, dtype, seed):
    ndim = len(shape)
    perm = data.draw(st.permutations(range(ndim)))
    neg = data.draw(st.lists(st.booleans(), min_size=ndim, max_size=ndim))
    perm = [p - ndim if s else p for p, s in zip(perm, neg)]
    d0, d1 = data.draw(st.integers(-ndim, ndim - 1)), data.draw(st.integers(-ndim, ndim - 1))
    rng = np.random.default_rng(seed)
    a = _normal(rng, shape, dtype)
    x, t = ours(a, device, True), theirs(a, True)
    outs = [
        (x.permute(*perm), t.permute(*perm), f"permute{perm}"),
        (x.permute(tuple(perm)), t.permute(tuple(perm)), "permute(tuple)"),
        (pt.permute(x, perm), torch.permute(t, perm), "polytorch.permute"),
        (x.transpose(d0, d1), t.transpose(d0, d1), f"transpose({d0}, {d1})"),
        (pt.transpose(x, d0, d1), torch.transpose(t, d0, d1), "polytorch.transpose"),
    ]
    if ndim <= 2:
        outs.append((x.t(), t.t(), "t()"))
    if ndim == 2:
        outs.append((x.T, t.T, "T"))
    if ndim >= 2:
        outs.append((x.mT, t.mT, "mT"))
    total_o = total_t = None
    for o, r, what in outs:
        assert_same(o, r, f"{what} of {shape}")
        g = upstream(tuple(r.shape), dtype, seed)
        s_o, s_t = (o * ours(g, device)).sum(), (r * theirs(g)).sum()
        total_o = s_o if total_o is None else total_o + s_o
        total_t = s_t if total_t is None else total_t + s_t
    total_o.backward()
    total_t.backward()
    assert_grads([(x, t)], device, f"permutes of {shape}")


@st.composite
def expand_shapes(draw):
    base = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3))
    lead = draw(st.lists(st.integers(1, 3), max_size=2))
    sizes = list(lead)
    for s in base:
        if s == 1:
            sizes.append(draw(st.sampled_from([1, 2, 3, -1])))
        else:
            sizes.append(draw(st.sampled_from([s, -1])))
    return base, tuple(sizes)


@SETTINGS
@given(shapes=expand_shapes(), dtype=st.sampled_from(["float32", "float64"]), seed=SEEDS)
def test_expand(device, shapes, dtype, seed):
    base, sizes = shapes
    rng = np.random.default_rng(seed)
    a = _normal(rng, base, dtype)
    x, t = ours(a, device, True), theirs(a, True)
    out, ref = x.expand(sizes), t.expand(sizes)
    assert_same(out, ref, f"expand(tuple) {base} -> {sizes}")
    if sizes:  # PyTorch's t.expand() with no sizes is a TypeError
        assert_same(x.expand(*sizes), t.expand(*sizes), f"expand {base} -> {sizes}")
    backward_both(out, ref, seed, device)
    assert_grads([(x, t)], device, "expand")


def _positive_steps(key) -> bool:
    parts = key if isinstance(key, tuple) else (key,)
    return all(not isinstance(k, slice) or k.step is None or k.step > 0 for k in parts)


@SETTINGS
@given(
    data=st.data(),
    shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4),
    dtype=st.sampled_from(["float32", "float64"]),
    seed=SEEDS,
)
def test_getitem_basic(device, data, shape, dtype, seed):
    """Ints (negative too), slices with steps, None and ``...``; gradient scatters back."""
    key = data.draw(
        hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True).filter(_positive_steps)
    )
    rng = np.random.default_rng(seed)
    a = _normal(rng, shape, dtype)
    x, t = ours(a, device, True), theirs(a, True)
    out, ref = x[key], t[key]
    what = f"{shape}[{key!r}]"
    assert_device(out, device)
    assert_same(out, ref, what)
    backward_both(out, ref, seed, device)
    assert_grads([(x, t)], device, what)


@pytest.mark.parametrize(
    "key",
    [
        (0,),
        (-1,),
        (slice(None, None, 2),),
        (slice(1, None), 0),
        (Ellipsis, 1),
        (None, 0, Ellipsis, None),
        (slice(-3, -1), slice(None, None, 3), None),
        (1, slice(0, 4, 2), -1),
        (Ellipsis,),
        (slice(5, 10),),
    ],
)
def test_getitem_cases(device, key):
    a = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
    x, t = ours(a, device, True), theirs(a, True)
    out, ref = x[key], t[key]
    assert_same(out, ref, repr(key))
    backward_both(out, ref, 7, device)
    assert_grads([(x, t)], device, repr(key))


# -- comparisons and where -------------------------------------------------------------------

COMPARE = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}


@SETTINGS
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
    op=st.sampled_from(sorted(COMPARE)),
    dta=st.sampled_from(["int64", "float32", "float64"]),
    other=st.sampled_from(["int64", "float32", "float64", "int", "float", "rint", "rfloat"]),
    seed=SEEDS,
)
def test_comparisons(device, shapes, op, dta, other, seed):
    """Comparisons give bool tensors; small integer values make ties likely."""
    rng = np.random.default_rng(seed)
    sa, sb = shapes.input_shapes
    a = rng.integers(-2, 3, sa).astype(dta)
    f = COMPARE[op]
    x, t = ours(a, device), theirs(a)
    if other in ("int", "float", "rint", "rfloat"):
        s = 1 if other.endswith("int") else 0.5
        out, ref = (f(s, x), f(s, t)) if other.startswith("r") else (f(x, s), f(t, s))
    else:
        b = rng.integers(-2, 3, sb).astype(other)
        out, ref = f(x, ours(b, device)), f(t, theirs(b))
        assert_same(getattr(x, op)(ours(b, device)), ref, f"Tensor.{op}")
        assert_same(getattr(pt, op)(x, ours(b, device)), ref, f"polytorch.{op}")
    assert_device(out, device)
    assert_same(out, ref, f"{op} {sa}:{dta} vs {other}")
    assert not out.requires_grad


def test_comparison_of_requires_grad_tensor_has_no_grad(device):
    x = ours(np.array([1.0, -1.0], np.float32), device, True)
    out = x > 0
    assert out.dtype == pt.bool and not out.requires_grad and out.grad_fn is None


@SETTINGS
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3),
    dtypes=st.sampled_from(FLOAT_PAIRS),
    form=st.sampled_from(["function", "method"]),
    seed=SEEDS,
)
def test_where(device, shapes, dtypes, form, seed):
    rng = np.random.default_rng(seed)
    sc, sa, sb = shapes.input_shapes
    (dta, dtb) = dtypes
    c = rng.integers(0, 2, sc).astype(bool)
    a, b = _normal(rng, sa, dta), _normal(rng, sb, dtb)
    xc, xa, xb = ours(c, device), ours(a, device, True), ours(b, device, True)
    tc, ta, tb = theirs(c), theirs(a, True), theirs(b, True)
    if form == "function":
        out = pt.where(xc, xa, xb)
    else:
        out = xa.where(xc, xb)
    ref = torch.where(tc, ta, tb)
    what = f"where {sc} {sa}:{dta} {sb}:{dtb}"
    assert_device(out, device)
    assert_same(out, ref, what, tol_for(dta, dtb))
    backward_both(out, ref, seed, device)
    assert_grads([(xa, ta), (xb, tb)], device, what, tol_for(dta, dtb))


@pytest.mark.parametrize("scalar", [0.0, 2, -1.5])
def test_where_with_scalar(device, scalar):
    a = np.array([[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]], np.float32)
    x, t = ours(a, device, True), theirs(a, True)
    out, ref = pt.where(x > 0, x, scalar), torch.where(t > 0, t, scalar)
    assert_same(out, ref, "where(c, x, s)")
    backward_both(out, ref, 11, device)
    out2, ref2 = pt.where(x > 0, scalar, x), torch.where(t > 0, scalar, t)
    assert_same(out2, ref2, "where(c, s, x)")
    backward_both(out2, ref2, 12, device)
    assert_grads([(x, t)], device, "where scalar")


# -- finite differences (float64) ------------------------------------------------------------


@pytest.mark.parametrize(
    "name, fn, positive",
    [
        ("add", lambda a, b: a + b, False),
        ("sub", lambda a, b: a - b, False),
        ("mul", lambda a, b: a * b, False),
        ("div", lambda a, b: a / b, True),
        ("pow", lambda a, b: a**b, True),
        ("matmul", lambda a, b: a @ b.T, False),
        ("where", lambda a, b: pt.where(a > b, a * b, a - b), False),
        (
            "composite",
            lambda a, b: (a.exp() * b.tanh() + a.sigmoid().log() - b.relu()).sum(1),
            False,
        ),
        (
            "reductions",
            lambda a, b: a.max(1).values + b.mean(0).sum() * a.sum((0, 1), keepdim=True),
            False,
        ),
        (
            "shapes",
            lambda a, b: a.T.reshape(-1)[1:5] * b[None, ..., ::2].expand(2, 2, 2).sum((0, 1)).max(),
            False,
        ),
    ],
)
def test_gradcheck_float64(float64_device, name, fn, positive):
    """Autograd's vector-Jacobian products against central finite differences."""
    rng = np.random.default_rng(5)
    if positive:
        a, b = _positive(rng, (2, 3), "float64"), _positive(rng, (2, 3), "float64")
    else:
        a, b = _distinct(rng, (2, 3), "float64"), _normal(rng, (2, 3), "float64")
    xa, xb = ours(a, float64_device, True), ours(b, float64_device, True)
    assert gradcheck(fn, (xa, xb))
