"""Tensor creation on every backend, with ``torch``'s own creation functions as the oracle."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import NAMES, PT, TO
from helpers import dtype_name as _name
from helpers import host as _host
from helpers import supported_dtypes as _supported

import polytorch


def _torch_host(t: torch.Tensor) -> np.ndarray:
    t = t.detach()
    if t.dtype is torch.bfloat16:
        t = t.float()
    return t.numpy()


def _on(t: polytorch.Tensor, spec) -> None:
    """``t`` lives on ``spec`` (with the index filled in as PyTorch does for cuda)."""
    want = polytorch.device(spec)
    got = t.device
    assert (got.type, got.backend) == (want.type, want.backend), (got, spec)
    if want.index is not None:
        assert got.index == want.index
    elif want.type != "cpu":
        assert got.index == 0
    else:
        assert got.index is None


def _same(got: polytorch.Tensor, want: torch.Tensor, device=None, exact=True) -> None:
    assert _name(got.dtype) == _name(want.dtype)
    assert tuple(got.shape) == tuple(want.shape)
    assert got.requires_grad == want.requires_grad
    if device is not None:
        _on(got, device)
    if exact:
        np.testing.assert_array_equal(_host(got), _torch_host(want))
    else:
        tol = 1e-2 if want.dtype in (torch.float16, torch.bfloat16) else 1e-6
        np.testing.assert_allclose(_host(got), _torch_host(want), rtol=tol, atol=tol)


# -- tensor() ------------------------------------------------------------------------------

DATA = [
    [True, False],
    [[True], [False]],
    [1, 2, 3],
    [[1, 2], [3, 4]],
    [1.5, -2.0],
    [[1.0, 2.0], [3.0, 4.5]],
    [1, 2.5],
    [True, 2],
    [True, 2.5],
    [1 + 2j, 3],
    [[1j, 2.0], [3, True]],
    3,
    -2.5,
    True,
    2 - 1j,
    [],
    [[], []],
    (1, 2),
    [(1, 2), (3, 4)],
    [[[1], [2]], [[3], [4]]],
]


@pytest.mark.parametrize("data", DATA, ids=[repr(d) for d in DATA])
def test_tensor_infers_dtype_like_torch(device, data):
    want = torch.tensor(data)
    if _name(want.dtype) not in _supported(device):
        pytest.skip(f"{device} has no {want.dtype}")
    _same(polytorch.tensor(data, device=device), want, device)


@pytest.mark.parametrize("data", [[1.5, 2.0], [1 + 1j], 2.5, [[1, 2.0]]], ids=repr)
def test_tensor_with_default_float64(device, data):
    if "float64" not in _supported(device):
        pytest.skip(f"{device} has no float64")
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    polytorch.set_default_dtype(polytorch.float64)
    try:
        want = torch.tensor(data)
        _same(polytorch.tensor(data, device=device), want, device)
    finally:
        torch.set_default_dtype(old)
        polytorch.set_default_dtype(polytorch.float32)


@pytest.mark.parametrize("name", NAMES)
def test_tensor_with_dtype(device, name):
    if name not in _supported(device):
        pytest.skip(f"{device} has no {name}")
    for data in ([1, 0, 3], [1.75, -2.25, 0.0] if name != "uint8" else [1.75, 2.25, 0.0],
                 [True, False, True]):
        _same(polytorch.tensor(data, dtype=PT[name], device=device),
              torch.tensor(data, dtype=TO[name]), device)


@pytest.mark.parametrize("name", ["bool", "uint8", "int8", "int16", "int32", "int64", "float16",
                                  "float32", "float64", "complex64", "complex128"])
def test_tensor_from_numpy_array_keeps_its_dtype(device, name):
    if name not in _supported(device):
        pytest.skip(f"{device} has no {name}")
    a = np.array([[1, 0], [3, 1]], dtype=name)
    _same(polytorch.tensor(a, device=device), torch.tensor(a), device)


def test_tensor_copies_numpy_data(device):
    for name in ("bool", "int16", "int64", "float32", "float64"):
        if name not in _supported(device):
            continue
        a = np.ones((4, 16), dtype=name)
        t = polytorch.tensor(a, device=device)
        ref = torch.tensor(a)
        a[0, 0] = 0  # tensor() always copies its data
        assert ref[0, 0].item() == 1
        assert _host(t)[0, 0] == 1, f"polytorch.tensor(ndarray of {name}) shares its memory"


def test_tensor_from_numpy_scalar(device):
    _same(polytorch.tensor(np.float32(2.5), device=device), torch.tensor(np.float32(2.5)), device)
    _same(polytorch.tensor(np.int16(-3), device=device), torch.tensor(np.int16(-3)), device)


def test_tensor_from_tensor_copies(device):
    src = polytorch.tensor([1.0, 2.0], device=device)
    t = polytorch.tensor(src, dtype=polytorch.int64, device="cpu")
    _same(t, torch.tensor([1, 2]), "cpu")
    c = polytorch.tensor(src)
    _on(c, device)
    assert c is not src
    c.add_(1)
    assert _host(src).tolist() == [1.0, 2.0]


def test_tensor_from_list_of_0d_tensors(device):
    parts = [polytorch.tensor(1.5, device=device), polytorch.tensor(-2.0, device=device)]
    want = torch.tensor([torch.tensor(1.5), torch.tensor(-2.0)])
    _same(polytorch.tensor(parts, device=device), want, device)
    _same(polytorch.tensor([parts, parts], device="cpu"), torch.tensor([want.tolist()] * 2), "cpu")


@pytest.mark.parametrize("data", [[[1, 2], [3]], ["a"], [None], {"a": 1}], ids=repr)
def test_tensor_rejects_what_torch_rejects(data):
    with pytest.raises((TypeError, ValueError, RuntimeError)):
        torch.tensor(data)
    with pytest.raises((TypeError, ValueError, RuntimeError)):
        polytorch.tensor(data)


def test_tensor_requires_grad(device):
    t = polytorch.tensor([1.0, 2.0], requires_grad=True, device=device)
    assert t.requires_grad and t.is_leaf and t.grad is None
    _same(t, torch.tensor([1.0, 2.0], requires_grad=True), device)
    c = polytorch.tensor([1j], requires_grad=True, device=device)
    assert c.requires_grad


@pytest.mark.parametrize("data, name", [([1, 2], "int64"), ([True], "bool"), ([1, 2], "int32"),
                                        ([1, 2], "uint8")])
def test_requires_grad_on_integer_tensor_raises(device, data, name):
    with pytest.raises(RuntimeError):
        torch.tensor(data, dtype=TO[name], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        polytorch.tensor(data, dtype=PT[name], requires_grad=True, device=device)
    for fn in (polytorch.zeros, polytorch.ones, polytorch.empty):
        with pytest.raises(RuntimeError):
            fn(2, dtype=PT[name], requires_grad=True, device=device)
    with pytest.raises(RuntimeError):
        polytorch.arange(3, requires_grad=True, device=device)
    with pytest.raises(RuntimeError):
        polytorch.tensor(data, dtype=PT[name], device=device).requires_grad_()


# -- as_tensor, from_numpy, from_dlpack ---------------------------------------------------------


def test_as_tensor(device):
    a = np.array([1.0, 2.0, 3.0])
    t = polytorch.as_tensor(a, device=device)
    _same(t, torch.as_tensor(a), device)
    _same(polytorch.as_tensor([1, 2], device=device), torch.as_tensor([1, 2]), device)
    t32 = polytorch.as_tensor(a, dtype=polytorch.float32, device=device)
    _same(t32, torch.as_tensor(a, dtype=torch.float32), device)
    # No dtype or device change: the tensor itself, as in PyTorch.
    assert polytorch.as_tensor(t) is t
    assert polytorch.as_tensor(t, device=device) is t
    assert polytorch.as_tensor(t, dtype=polytorch.float32) is not t


def test_as_tensor_shares_memory_on_cpu():
    a = np.array([1.0, 2.0, 3.0])
    t = polytorch.as_tensor(a)
    ref = torch.as_tensor(a)
    a[0] = 10.0
    assert t.tolist() == ref.tolist() == [10.0, 2.0, 3.0]
    b = np.array([1, 2], dtype=np.int32)
    t = polytorch.as_tensor(b, dtype=polytorch.float64)  # dtype change: a copy
    b[0] = 5
    assert t.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("name", ["bool", "uint8", "int8", "int16", "int32", "int64", "float16",
                                  "float32", "float64", "complex64", "complex128"])
def test_from_numpy_dtype_and_shared_memory(name):
    a = np.array([[1, 0, 1], [0, 1, 1]], dtype=name)
    t = polytorch.from_numpy(a)
    ref = torch.from_numpy(a)
    _same(t, ref, "cpu")
    a[0, 1] = 1  # shared with the array, as in PyTorch
    assert _host(t).tolist() == ref.tolist()
    t.zero_()
    assert not a.any()


def test_from_numpy_views_and_errors():
    a = np.arange(12.0).reshape(3, 4)[:, 1:3]
    _same(polytorch.from_numpy(a), torch.from_numpy(a), "cpu")
    with pytest.raises(TypeError):
        polytorch.from_numpy([1, 2, 3])
    with pytest.raises(TypeError):
        torch.from_numpy([1, 2, 3])


def test_from_numpy_ignores_default_device(device):
    # torch.from_numpy always gives a CPU tensor whatever the default device.
    with polytorch.device(device):
        t = polytorch.from_numpy(np.ones(2))
    _on(t, "cpu")


# -- zeros, ones, full, empty ---------------------------------------------------------------


SHAPES = [(2, 3), (4,), (), (0,), (2, 0, 3)]


@pytest.mark.parametrize("fn", ["zeros", "ones"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_zeros_ones(device, fn, shape):
    if shape:  # torch.zeros() with no size at all is an error
        _same(getattr(polytorch, fn)(*shape, device=device), getattr(torch, fn)(*shape), device)
    _same(getattr(polytorch, fn)(shape, device=device), getattr(torch, fn)(shape), device)
    _same(getattr(polytorch, fn)(list(shape), device=device), getattr(torch, fn)(list(shape)),
          device)


@pytest.mark.parametrize("fn", ["zeros", "ones", "empty"])
def test_filled_with_dtype_device_requires_grad(device, fn):
    for name in NAMES:
        if name not in _supported(device):
            continue
        got = getattr(polytorch, fn)(2, 3, dtype=PT[name], device=polytorch.device(device))
        want = getattr(torch, fn)(2, 3, dtype=TO[name])
        if fn == "empty":
            assert _name(got.dtype) == name and tuple(got.shape) == (2, 3)
            _on(got, device)
        else:
            _same(got, want, device)
    g = getattr(polytorch, fn)(2, device=device, requires_grad=True)
    assert g.requires_grad and g.is_leaf and g.dtype is polytorch.float32


def test_negative_size_raises(device):
    with pytest.raises(RuntimeError):
        torch.zeros(2, -1)
    with pytest.raises(RuntimeError):
        polytorch.zeros(2, -1, device=device)


@pytest.mark.parametrize("value", [7, 2.5, True, -3, 1 + 2j, 0, 1, 0.0], ids=repr)
def test_full_dtype_follows_the_value(device, value):
    want = torch.full((2, 3), value)
    if _name(want.dtype) not in _supported(device):
        pytest.skip(f"{device} has no {want.dtype}")
    _same(polytorch.full((2, 3), value, device=device), want, device)


@pytest.mark.parametrize("value, name", [(2.5, "int32"), (-1.75, "int64"), (3, "float64"),
                                         (True, "float32"), (2, "bool"), (0.5, "bool"),
                                         (7, "uint8"), (2.5, "complex64"), (1.5, "float16")],
                         ids=str)
def test_full_with_dtype(device, value, name):
    if name not in _supported(device):
        pytest.skip(f"{device} has no {name}")
    _same(polytorch.full((3,), value, dtype=PT[name], device=device),
          torch.full((3,), value, dtype=TO[name]), device)
    _same(polytorch.full([2, 2], value, dtype=PT[name], device=device),
          torch.full([2, 2], value, dtype=TO[name]), device)


def test_full_requires_grad(device):
    _same(polytorch.full((2,), 1.5, device=device, requires_grad=True),
          torch.full((2,), 1.5, requires_grad=True), device)


def test_full_with_default_float64(device):
    if "float64" not in _supported(device):
        pytest.skip(f"{device} has no float64")
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    polytorch.set_default_dtype(polytorch.float64)
    try:
        for value in (2.5, 1j, 3):
            _same(polytorch.full((2,), value, device=device), torch.full((2,), value), device)
        _same(polytorch.zeros(2, device=device), torch.zeros(2), device)
    finally:
        torch.set_default_dtype(old)
        polytorch.set_default_dtype(polytorch.float32)


# -- arange, linspace, eye --------------------------------------------------------------------

ARANGE = [
    (5,), (1, 4), (10, 0, -3), (0, 1, 0.25), (0.0, 1.0, 0.1), (1, 2.5, 0.5), (-3, 3, 2),
    (5.0,), (0,), (2, 2), (0, -1, -0.3), (1, 10, 4),
]


@pytest.mark.parametrize("args", ARANGE, ids=str)
def test_arange_like_torch(device, args):
    _same(polytorch.arange(*args, device=device), torch.arange(*args), device, exact=False)


@pytest.mark.parametrize("name", ["int32", "int64", "float32", "float64", "uint8", "float16",
                                  "bfloat16"])
def test_arange_with_dtype(device, name):
    if name not in _supported(device):
        pytest.skip(f"{device} has no {name}")
    _same(polytorch.arange(0, 7, 2, dtype=PT[name], device=device),
          torch.arange(0, 7, 2, dtype=TO[name]), device, exact=False)


def test_arange_keywords_and_requires_grad(device):
    _same(polytorch.arange(start=1, end=5, step=2, device=device),
          torch.arange(start=1, end=5, step=2), device)
    _same(polytorch.arange(3.0, device=device, requires_grad=True),
          torch.arange(3.0, requires_grad=True), device)
    _same(polytorch.arange(polytorch.tensor(4), device=device), torch.arange(torch.tensor(4)),
          device)


def test_arange_errors(device):
    for args in [(0, 5, 0), (5, 0, 1)]:
        with pytest.raises(RuntimeError):
            torch.arange(*args)
        with pytest.raises(RuntimeError):
            polytorch.arange(*args, device=device)


LINSPACE = [(0, 1, 5), (-1, 1, 7), (0, 10, 1), (0, 1, 0), (3, -2, 4), (0.5, 2.5, 3), (1, 1, 3)]


@pytest.mark.parametrize("args", LINSPACE, ids=str)
def test_linspace_like_torch(device, args):
    _same(polytorch.linspace(*args, device=device), torch.linspace(*args), device, exact=False)


@pytest.mark.parametrize("name", ["float32", "float64", "int64", "float16", "complex64"])
def test_linspace_with_dtype(device, name):
    if name not in _supported(device):
        pytest.skip(f"{device} has no {name}")
    _same(polytorch.linspace(0, 8, 5, dtype=PT[name], device=device),
          torch.linspace(0, 8, 5, dtype=TO[name]), device, exact=False)
    _same(polytorch.linspace(-1, 1, 3, device=device, requires_grad=True),
          torch.linspace(-1, 1, 3, requires_grad=True), device, exact=False)


@pytest.mark.parametrize("args", [(3,), (2, 4), (4, 2), (0,), (1,)], ids=str)
def test_eye_like_torch(device, args):
    _same(polytorch.eye(*args, device=device), torch.eye(*args), device)


@pytest.mark.parametrize("name", ["int64", "bool", "float64", "complex64", "uint8"])
def test_eye_with_dtype(device, name):
    if name not in _supported(device):
        pytest.skip(f"{device} has no {name}")
    _same(polytorch.eye(3, dtype=PT[name], device=device), torch.eye(3, dtype=TO[name]), device)
    _same(polytorch.eye(2, 3, device=device, requires_grad=True),
          torch.eye(2, 3, requires_grad=True), device)


# -- *_like -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fn", ["zeros_like", "ones_like", "empty_like"])
def test_like_functions(device, fn):
    for name in ("int32", "float32", "bool", "complex64"):
        src = polytorch.tensor([[1, 2, 3], [4, 5, 6]], dtype=PT[name], device=device)
        ref = torch.tensor([[1, 2, 3], [4, 5, 6]], dtype=TO[name])
        got, want = getattr(polytorch, fn)(src), getattr(torch, fn)(ref)
        if fn == "empty_like":
            assert _name(got.dtype) == name and tuple(got.shape) == (2, 3)
            _on(got, device)
        else:
            _same(got, want, device)
    src = polytorch.ones(2, 2, dtype=polytorch.int32, device=device)
    ref = torch.ones(2, 2, dtype=torch.int32)
    got = getattr(polytorch, fn)(src, dtype=polytorch.float32, requires_grad=True)
    want = getattr(torch, fn)(ref, dtype=torch.float32, requires_grad=True)
    assert got.requires_grad and got.dtype is polytorch.float32
    if fn != "empty_like":
        _same(got, want, device)
    moved = getattr(polytorch, fn)(src, device="cpu")
    _on(moved, "cpu")
    assert moved.dtype is polytorch.int32
    with pytest.raises(RuntimeError):
        getattr(polytorch, fn)(src, requires_grad=True)


@pytest.mark.parametrize("value, name", [(3.7, "int64"), (-2.5, "int32"), (2.5, "float32"),
                                         (True, "int64"), (7, "float32"), (0.5, "bool"),
                                         (1 + 1j, "complex64")], ids=str)
def test_full_like(device, value, name):
    if name not in _supported(device):
        pytest.skip(f"{device} has no {name}")
    src = polytorch.zeros(2, 3, dtype=PT[name], device=device)
    ref = torch.zeros(2, 3, dtype=TO[name])
    _same(polytorch.full_like(src, value), torch.full_like(ref, value), device)


def test_full_like_with_dtype_and_device(device):
    src = polytorch.zeros(3, dtype=polytorch.int64, device=device)
    ref = torch.zeros(3, dtype=torch.int64)
    _same(polytorch.full_like(src, 2.5, dtype=polytorch.float32, requires_grad=True),
          torch.full_like(ref, 2.5, dtype=torch.float32, requires_grad=True), device)
    _same(polytorch.full_like(src, 4, device="cpu@jax"), torch.full_like(ref, 4), "cpu@jax")


# -- capabilities ------------------------------------------------------------------------------


NO_F64 = "strict:3"  # array_api_strict's device without float64


def _assert_names(info, *words):
    msg = str(info.value)
    for w in words:
        assert w in msg, (w, msg)


def test_float64_on_a_device_without_it_raises():
    assert "float64" not in _supported(NO_F64)
    calls = [
        lambda: polytorch.tensor([1.0], dtype=polytorch.float64, device=NO_F64),
        lambda: polytorch.tensor(np.array([1.0]), device=NO_F64),
        lambda: polytorch.as_tensor(np.array([1.0]), device=NO_F64),
        lambda: polytorch.zeros(2, dtype=polytorch.float64, device=NO_F64),
        lambda: polytorch.ones(2, dtype=polytorch.float64, device=NO_F64),
        lambda: polytorch.empty(2, dtype=polytorch.float64, device=NO_F64),
        lambda: polytorch.full((2,), 1.0, dtype=polytorch.float64, device=NO_F64),
        lambda: polytorch.arange(3, dtype=polytorch.float64, device=NO_F64),
        lambda: polytorch.linspace(0, 1, 3, dtype=polytorch.float64, device=NO_F64),
        lambda: polytorch.eye(2, dtype=polytorch.float64, device=NO_F64),
        lambda: polytorch.zeros_like(polytorch.zeros(2, dtype=polytorch.float64), device=NO_F64),
        lambda: polytorch.tensor([1j], dtype=polytorch.complex128, device=NO_F64),
    ]
    for i, call in enumerate(calls):
        with pytest.raises(TypeError) as info:
            call()
        _assert_names(info, "float64" if i < 11 else "complex128", NO_F64)


def test_default_float64_on_a_device_without_it_raises():
    polytorch.set_default_dtype(polytorch.float64)
    with pytest.raises(TypeError) as info:
        polytorch.zeros(2, device=NO_F64)
    _assert_names(info, "float64", NO_F64)
    with pytest.raises(TypeError) as info:
        polytorch.tensor([1.5], device=NO_F64)
    _assert_names(info, "float64", NO_F64)


def test_device_without_float64_still_has_float32():
    t = polytorch.tensor([1.5, 2.5], device=NO_F64)
    _same(t, torch.tensor([1.5, 2.5]), NO_F64)


def test_bfloat16_where_unsupported(device):
    if "bfloat16" in _supported(device):
        _same(polytorch.ones(2, dtype=polytorch.bfloat16, device=device),
              torch.ones(2, dtype=torch.bfloat16), device)
        return
    with pytest.raises(TypeError) as info:
        polytorch.ones(2, dtype=polytorch.bfloat16, device=device)
    _assert_names(info, "bfloat16")


def test_dtype_spellings(device):
    sup = _supported(device)
    for spelling in ("float64", "torch.float64", "double", np.float64, np.dtype("float64")):
        if "float64" in sup:
            assert polytorch.zeros(1, dtype=spelling, device=device).dtype is polytorch.float64


@pytest.mark.parametrize("pytype", [int, bool, float, complex], ids=lambda t: t.__name__)
def test_python_type_as_dtype_like_torch(device, pytype):
    # torch maps the Python types to int64, bool, float64 and complex128 (not the default dtype).
    want = torch.zeros(1, dtype=pytype).dtype
    if _name(want) not in _supported(device):
        pytest.skip(f"{device} has no {want}")
    assert _name(polytorch.zeros(1, dtype=pytype, device=device).dtype) == _name(want)
