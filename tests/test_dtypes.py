"""Dtypes and PyTorch's type promotion, with ``torch`` itself as the oracle."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import torch
from helpers import NAMES, PT, TO
from helpers import dtype_name as _name
from helpers import host as _host
from helpers import supported_dtypes as _supported
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import polytorch

SCALARS = [True, False, 3, -2, 2.5, 1.0, 1 + 2j]
HYP = settings(max_examples=60, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture])


def _torch_default_dtype(dt):
    class _Restore:
        def __enter__(self):
            self.old = torch.get_default_dtype(), polytorch.get_default_dtype()
            torch.set_default_dtype(TO[dt])
            polytorch.set_default_dtype(PT[dt])

        def __exit__(self, *exc):
            torch.set_default_dtype(self.old[0])
            polytorch.set_default_dtype(self.old[1])

    return _Restore()


# -- the dtype objects ---------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_dtype_attributes_match_torch(name):
    ours, theirs = PT[name], TO[name]
    assert ours.is_floating_point == theirs.is_floating_point
    assert ours.is_complex == theirs.is_complex
    assert ours.is_signed == theirs.is_signed
    assert ours.itemsize == theirs.itemsize
    assert repr(ours) == repr(theirs).replace("torch", "polytorch")


def test_aliases_match_torch():
    for alias in ("half", "float", "double", "long", "int", "short", "cfloat", "cdouble"):
        assert _name(getattr(polytorch, alias)) == _name(getattr(torch, alias)), alias


def test_default_dtype_and_set_default_dtype():
    assert polytorch.get_default_dtype() is polytorch.float32
    with _torch_default_dtype("float64"):
        assert polytorch.get_default_dtype() is polytorch.float64
    assert polytorch.get_default_dtype() is polytorch.float32
    for bad in (polytorch.int64, polytorch.complex64, polytorch.bool):
        with pytest.raises(TypeError):
            polytorch.set_default_dtype(bad)
        with pytest.raises(TypeError):
            torch.set_default_dtype(TO[_name(bad)])


# -- promote_types -------------------------------------------------------------------------


@pytest.mark.parametrize("a", NAMES)
def test_promote_types_matches_torch(a):
    for b in NAMES:
        got = polytorch.promote_types(PT[a], PT[b])
        want = torch.promote_types(TO[a], TO[b])
        assert _name(got) == _name(want), (a, b)


# -- result_type ---------------------------------------------------------------------------


def _operand(kind, name):
    """A (polytorch, torch) pair of operands of a kind: 'dim', 'zero' or a scalar."""
    shape = (2,) if kind == "dim" else ()
    # cpu@jax holds all twelve dtypes (the NumPy backend has no bfloat16).
    return (polytorch.zeros(shape, dtype=PT[name], device="cpu@jax"),
            torch.zeros(shape, dtype=TO[name]))


def _same(got, want) -> bool:
    # PyTorch promotes float16 with a complex scalar to complex32, a dtype polytorch does not
    # have (it is not among the twelve); complex64 is the nearest it can give.
    if want is torch.complex32:
        return got is polytorch.complex64
    return _name(got) == _name(want)


@pytest.mark.parametrize("default", ["float32", "float64"])
@pytest.mark.parametrize("kinds", [("dim", "dim"), ("dim", "zero"), ("zero", "dim"),
                                   ("zero", "zero")])
def test_result_type_tensors_matches_torch(kinds, default):
    with _torch_default_dtype(default):
        for a, b in itertools.product(NAMES, NAMES):
            pa, ta = _operand(kinds[0], a)
            pb, tb = _operand(kinds[1], b)
            got = polytorch.result_type(pa, pb)
            want = torch.result_type(ta, tb)
            assert _same(got, want), (kinds, a, b)


@pytest.mark.parametrize("default", ["float32", "float64"])
@pytest.mark.parametrize("kind", ["dim", "zero"])
def test_result_type_tensor_and_scalar_matches_torch(kind, default):
    with _torch_default_dtype(default):
        for a, s in itertools.product(NAMES, SCALARS):
            pa, ta = _operand(kind, a)
            assert _same(polytorch.result_type(pa, s), torch.result_type(ta, s)), (a, s)
            assert _same(polytorch.result_type(s, pa), torch.result_type(s, ta)), (s, a)


@pytest.mark.parametrize("default", ["float32", "float64"])
def test_result_type_two_scalars_matches_torch(default):
    with _torch_default_dtype(default):
        for s, r in itertools.product(SCALARS, SCALARS):
            assert _name(polytorch.result_type(s, r)) == _name(torch.result_type(s, r)), (s, r)


_KINDS = st.sampled_from(["dim", "zero", "scalar"])


@HYP
@given(st.lists(st.tuples(_KINDS, st.sampled_from(NAMES), st.sampled_from(SCALARS)),
                min_size=1, max_size=4),
       st.sampled_from(["float32", "float64"]))
def test_result_type_many_operands_matches_torch_op(operands, default):
    """Up to four operands, against PyTorch's own n-ary promotion helper.

    ``torch.result_type`` takes two operands; ``elementwise_dtypes`` is the rule PyTorch's
    elementwise references apply to any number of tensors and scalars (checked against
    ``torch.result_type`` whenever there are two).
    """
    from torch._prims_common import ELEMENTWISE_TYPE_PROMOTION_KIND, elementwise_dtypes

    with _torch_default_dtype(default):
        ours, theirs = [], []
        for kind, name, scalar in operands:
            if kind == "scalar":
                ours.append(scalar)
                theirs.append(scalar)
            else:
                p, t = _operand(kind, name)
                ours.append(p)
                theirs.append(t)
        _, want = elementwise_dtypes(
            *theirs, type_promotion_kind=ELEMENTWISE_TYPE_PROMOTION_KIND.DEFAULT)
        if len(theirs) == 2:
            assert want == torch.result_type(*theirs)
        assert _same(polytorch.result_type(*ours), want), operands


def test_result_type_accepts_dtypes():
    assert polytorch.result_type(polytorch.int8, polytorch.uint8) is polytorch.int16
    assert polytorch.result_type(polytorch.float16, polytorch.bfloat16) is polytorch.float32


def test_can_cast_matches_torch():
    for a, b in itertools.product(NAMES, NAMES):
        assert polytorch.can_cast(PT[a], PT[b]) == torch.can_cast(TO[a], TO[b]), (a, b)


# -- op result dtypes on every backend -------------------------------------------------------


_VALUES = {"bool": [True, False, True], "default": [1, 2, 3]}
_OTHER = {"bool": [False, True, True], "default": [3, 1, 2]}
_ONES = {"bool": [True, True, True], "default": [3, 1, 2]}


def _pair(name, values, device):
    vals = values["bool"] if name == "bool" else values["default"]
    return (polytorch.tensor(vals, dtype=PT[name], device=device),
            torch.tensor(vals, dtype=TO[name]))


def _torch_host(t: torch.Tensor) -> np.ndarray:
    if t.dtype is torch.bfloat16:
        t = t.float()
    return t.numpy()


def _check(got: polytorch.Tensor, want: torch.Tensor, what):
    assert _name(got.dtype) == _name(want.dtype), what
    assert tuple(got.shape) == tuple(want.shape), what
    tol = 1e-2 if want.dtype in (torch.float16, torch.bfloat16) else 1e-6
    np.testing.assert_allclose(_host(got), _torch_host(want), rtol=tol, atol=tol, err_msg=str(what))


def _binary_ops():
    return [
        ("add", lambda a, b: a + b),
        ("mul", lambda a, b: a * b),
        ("eq", lambda a, b: a == b),
        ("lt", lambda a, b: a < b),
        ("ge", lambda a, b: a >= b),
    ]


@pytest.mark.parametrize("op_name, op", _binary_ops(), ids=[n for n, _ in _binary_ops()])
def test_binary_op_result_dtypes_match_torch(device, op_name, op):
    names = [n for n in NAMES if n in _supported(device)]
    for a, b in itertools.product(names, names):
        if op_name in ("lt", "ge") and "complex" in a + b:
            continue  # ordering of complex numbers is an error in PyTorch
        pa, ta = _pair(a, _VALUES, device)
        pb, tb = _pair(b, _OTHER, device)
        _check(op(pa, pb), op(ta, tb), (op_name, a, b))


def test_true_division_of_integers_is_float(device):
    names = [n for n in NAMES if n in _supported(device) and n != "bool"]
    for a, b in itertools.product(names, names):
        pa, ta = _pair(a, _VALUES, device)
        pb, tb = _pair(b, _OTHER, device)
        _check(pa / pb, ta / tb, ("div", a, b))
        _check(pa / 2, ta / 2, ("div scalar", a))
    with _torch_default_dtype("float64"):
        if "float64" in _supported(device):
            pa, ta = _pair("int32", _VALUES, device)
            _check(pa / pa, ta / ta, ("div default float64",))


@pytest.mark.parametrize("scalar", [2.5, 2, True, 1 + 1j], ids=["float", "int", "bool", "complex"])
def test_tensor_times_python_scalar(device, scalar):
    names = [n for n in NAMES if n in _supported(device)]
    for a in names:
        pa, ta = _pair(a, _VALUES, device)
        if a == "float16" and isinstance(scalar, complex):
            continue  # PyTorch gives complex32, a dtype polytorch does not have
        want = ta * scalar
        if _name(want.dtype) not in _supported(device):
            continue  # e.g. complex128 results where the device has no float64
        _check(pa * scalar, want, ("mul", a, scalar))
        _check(scalar * pa, scalar * ta, ("rmul", a, scalar))


def test_zero_dim_tensor_does_not_upcast_a_dimensioned_tensor(device):
    sup = _supported(device)
    cases = [("uint8", "int64"), ("int8", "int64"), ("float32", "float64"),
             ("int32", "float64"), ("float32", "complex128"), ("float16", "float64"),
             ("bool", "int64")]
    for a, b in cases:
        if a not in sup or b not in sup:
            continue
        pa, ta = _pair(a, _VALUES, device)
        pz = polytorch.tensor(2, dtype=PT[b], device=device)
        tz = torch.tensor(2, dtype=TO[b])
        _check(pa + pz, ta + tz, (a, "+ 0-d", b))
        _check(pz * pa, tz * ta, ("0-d", b, "*", a))


def test_op_dtypes_with_default_float64(device):
    if "float64" not in _supported(device):
        pytest.skip(f"{device} has no float64")
    with _torch_default_dtype("float64"):
        for a in [n for n in ("bool", "uint8", "int32", "int64") if n in _supported(device)]:
            pa, ta = _pair(a, _VALUES, device)
            pd, td = _pair(a, _ONES, device)
            _check(pa * 2.5, ta * 2.5, ("mul", a, 2.5))
            _check(pa / pd, ta / td, ("div", a))
            if "complex128" in _supported(device):
                _check(pa * 1j, ta * 1j, ("mul", a, 1j))
        pf, tf = _pair("float32", _VALUES, device)
        _check(pf * 2.5, tf * 2.5, ("float32 * 2.5",))


@HYP
@example(a="complex128", b="float16", shapes=((), (2, 2)), op="mul")  # complex32 in PyTorch
@given(a=st.sampled_from(NAMES), b=st.sampled_from(NAMES),
       shapes=st.sampled_from([((3,), (3,)), ((2, 1), (3,)), ((), (2, 2)), ((1, 3), (2, 1)),
                               ((2, 3), ()), ((), ())]),
       op=st.sampled_from(["add", "mul", "div", "ne", "gt"]))
def test_random_pairs_on_cpu_match_torch(a, b, shapes, op):
    fn = {"add": lambda x, y: x + y, "mul": lambda x, y: x * y, "div": lambda x, y: x / y,
          "ne": lambda x, y: x != y, "gt": lambda x, y: x > y}[op]
    if op == "gt" and "complex" in a + b:
        return
    if "bfloat16" in (a, b):
        return  # the NumPy backend has no bfloat16
    rng = np.random.default_rng(0)
    arrays = []
    for i, (name, shape) in enumerate(zip((a, b), shapes)):
        vals = rng.integers(1, 4, size=shape)
        if name == "bool":  # a divisor stays non-zero
            vals = vals > (0 if op == "div" and i == 1 else 1)
        arrays.append(vals)
    pa, pb = (polytorch.tensor(v.tolist(), dtype=PT[n]) for v, n in zip(arrays, (a, b)))
    ta, tb = (torch.tensor(v.tolist(), dtype=TO[n]) for v, n in zip(arrays, (a, b)))
    got, want = fn(pa, pb), fn(ta, tb)
    if want.dtype is torch.complex32:  # see _same: polytorch gives complex64
        assert got.dtype is polytorch.complex64, (op, a, b, shapes)
        want = want.to(torch.complex64)
    _check(got, want, (op, a, b, shapes))


def test_integer_division_by_zero_like_torch(device):
    """``1 / 0`` on integer tensors is inf and ``0 / 0`` nan, as in PyTorch, with no warning."""
    pa, ta = _pair("int64", {"default": [1, 0, -1]}, device)
    pz, tz = _pair("int64", {"default": [0, 0, 0]}, device)
    got, want = pa / pz, ta / tz
    assert _name(got.dtype) == _name(want.dtype)
    np.testing.assert_array_equal(_host(got), _torch_host(want))


@pytest.mark.parametrize("target", ["float32", "float64", "int64", "bool"])
def test_complex_to_real_cast_like_torch(device, target):
    """PyTorch keeps the real part (warning that the imaginary part is lost); bool is != 0."""
    if target not in _supported(device) or "complex64" not in _supported(device):
        pytest.skip(f"{device} lacks {target} or complex64")
    values = [1.5 + 2j, 0j, -2.5 + 0j, 3j]
    ours = polytorch.tensor(values, dtype=polytorch.complex64, device=device)
    theirs = torch.tensor(values, dtype=torch.complex64)
    if target == "bool":
        got, want = ours.to(PT[target]), theirs.to(TO[target])
    else:
        with pytest.warns(UserWarning, match="discards the imaginary part"):
            got = ours.to(PT[target])
        with warnings.catch_warnings():  # PyTorch warns once per process
            warnings.simplefilter("ignore", UserWarning)
            want = theirs.to(TO[target])
    assert got.dtype is PT[target]
    np.testing.assert_array_equal(_host(got), want.numpy())
