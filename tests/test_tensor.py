"""The Tensor API on every backend: transfers, conversions, DLPack, printing, properties.

``torch`` is the oracle for every value, type and message checked here.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import NAMES, PT, TO
from helpers import dtype_name as _name
from helpers import host as _host
from helpers import supported_dtypes as _supported

import polytorch


def _on(t, spec) -> None:
    want = polytorch.device(spec)
    assert (t.device.type, t.device.backend) == (want.type, want.backend), (t.device, spec)
    if want.index is not None:
        assert t.device.index == want.index


def _values(name):
    if name == "bool":
        return [[True, False, True], [False, False, True]]
    if name == "uint8":
        return [[1, 2, 3], [4, 250, 0]]
    if name.startswith("complex"):
        return [[1 + 2j, -0.5, 3j], [0, 2.25 - 1j, 7]]
    if name.startswith(("float", "bfloat")):
        return [[1.5, -2.25, 0.0], [3.75, 100.0, -0.125]]
    return [[1, -2, 3], [-4, 5, 0]]


def _pair(name, device):
    v = _values(name)
    return polytorch.tensor(v, dtype=PT[name], device=device), torch.tensor(v, dtype=TO[name])


def _torch_host(t):
    t = t.detach()
    if t.dtype is torch.bfloat16:
        t = t.float()
    return t.numpy()


def _same(got, want):
    assert _name(got.dtype) == _name(want.dtype)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_array_equal(_host(got), _torch_host(want))


# -- .to(device) ----------------------------------------------------------------------------

TARGETS = ["cpu", "cpu@jax", "strict:2"]


@pytest.mark.parametrize("target", TARGETS)
def test_to_device(device, target):
    for name in NAMES:
        if name not in _supported(device) or name not in _supported(target):
            continue
        x, ref = _pair(name, device)
        y = x.to(target)
        _on(y, target)
        _same(y, ref)
        back = y.to(device)
        _on(back, device)
        _same(back, ref)


@pytest.mark.parametrize("target", TARGETS)
def test_to_device_copies(device, target):
    x = polytorch.tensor([1.0, 2.0], device=device)
    y = x.to(target)
    if polytorch.device(target) == x.device:
        assert y is x  # PyTorch returns the tensor itself when nothing changes
        return
    y.add_(10)
    assert x.tolist() == [1.0, 2.0]
    assert y.tolist() == [11.0, 12.0]


def test_to_same_device_returns_self(device):
    x = polytorch.ones(2, device=device)
    assert x.to(device) is x
    assert x.to(x.device) is x
    assert x.to(x.dtype) is x
    assert x.to(device, x.dtype) is x
    c = x.to(device, copy=True)
    assert c is not x and c.tolist() == x.tolist()


def test_to_device_keyword_and_device_object(device):
    x = polytorch.arange(4, device=device)
    y = x.to(device=polytorch.device("cpu@jax"))
    _on(y, "cpu@jax")
    assert y.tolist() == [0, 1, 2, 3]


def test_to_a_device_without_the_dtype_raises(device):
    if "float64" not in _supported(device):
        pytest.skip(f"{device} has no float64")
    x = polytorch.tensor([1.0], dtype=polytorch.float64, device=device)
    with pytest.raises(TypeError) as info:
        x.to("strict:3")
    assert "float64" in str(info.value) and "strict:3" in str(info.value)


def test_gradient_flows_through_to_device(device):
    for target in TARGETS:
        x = polytorch.tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
        y = x.to(target)
        assert y.requires_grad
        assert y.is_leaf == (polytorch.device(target) == x.device)
        (y * y).sum().backward()
        tx = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        (tx * tx).sum().backward()
        _on(x.grad, device)
        _same(x.grad, tx.grad)


# -- .to(dtype) -----------------------------------------------------------------------------


@pytest.mark.parametrize("src", NAMES)
def test_to_dtype_like_torch(device, src):
    if src not in _supported(device):
        pytest.skip(f"{device} has no {src}")
    for dst in NAMES:
        if dst not in _supported(device):
            continue
        if src.startswith("complex") and not dst.startswith("complex"):
            continue  # torch warns about discarding the imaginary part
        if dst == "uint8" and src not in ("bool", "uint8"):
            continue  # negative values to uint8 wrap differently per library (UB in C)
        x, ref = _pair(src, device)
        y = x.to(PT[dst])
        _on(y, device)
        want = ref.to(TO[dst])
        assert _name(y.dtype) == dst
        np.testing.assert_allclose(_host(y), _torch_host(want), rtol=1e-2, atol=0,
                                   err_msg=f"{src} -> {dst}")


def test_to_dtype_truncates_toward_zero_like_torch(device):
    v = [-1.7, -0.5, 0.5, 2.5, 3.99]
    x, ref = polytorch.tensor(v, device=device), torch.tensor(v)
    for dst in ("int64", "int32", "int8", "bool"):
        _same(x.to(PT[dst]), ref.to(TO[dst]))


def test_to_dtype_spellings_and_methods(device):
    x, ref = _pair("int32", device)
    _same(x.to(dtype=polytorch.float32), ref.to(dtype=torch.float32))
    _same(x.float(), ref.float())
    _same(x.long(), ref.long())
    _same(x.int(), ref.int())
    _same(x.bool(), ref.bool())
    if "float64" in _supported(device):
        _same(x.double(), ref.double())
    if "float16" in _supported(device):
        _same(x.half(), ref.half())
    assert x.type() == ref.type().replace("torch", "polytorch")


def test_to_other_tensor(device):
    x = polytorch.tensor([1.5, 2.5], device=device)
    other = polytorch.zeros(1, dtype=polytorch.int32, device="cpu@jax")
    y = x.to(other)
    _on(y, "cpu@jax")
    _same(y, torch.tensor([1.5, 2.5]).to(torch.zeros(1, dtype=torch.int32)))


def test_to_device_and_dtype(device):
    x, ref = _pair("float32", device)
    y = x.to("cpu", polytorch.int64)
    _on(y, "cpu")
    _same(y, ref.to("cpu", torch.int64))


def test_to_bad_argument():
    with pytest.raises(TypeError):
        polytorch.ones(1).to(3.5)
    with pytest.raises(TypeError):
        polytorch.ones(1).to(colour="red")


# -- .cpu(), .numpy(), .item(), .tolist() ---------------------------------------------------------


def test_cpu(device):
    x, ref = _pair("float32", device)
    y = x.cpu()
    _on(y, "cpu")
    assert y.device == polytorch.device("cpu")
    assert y.is_cpu and not y.is_cuda
    _same(y, ref.cpu())
    if polytorch.device(device) == polytorch.device("cpu"):
        assert y is x


@pytest.mark.parametrize("name", NAMES)
def test_numpy(device, name):
    if name not in _supported(device) or name == "bfloat16":
        pytest.skip(f"{device} has no {name}" if name != "bfloat16" else "no NumPy bfloat16")
    x, ref = _pair(name, device)
    a = x.numpy()
    assert isinstance(a, np.ndarray)
    want = ref.numpy()
    assert a.dtype == want.dtype
    np.testing.assert_array_equal(a, want)


def test_numpy_shares_memory_on_cpu():
    x = polytorch.zeros(3)
    x.numpy()[1] = 5.0
    ref = torch.zeros(3)
    ref.numpy()[1] = 5.0
    assert x.tolist() == ref.tolist()


def test_numpy_requires_grad_raises(device):
    x = polytorch.ones(2, requires_grad=True, device=device)
    with pytest.raises(RuntimeError):
        torch.ones(2, requires_grad=True).numpy()
    with pytest.raises(RuntimeError, match="requires grad"):
        x.numpy()
    np.testing.assert_array_equal(x.detach().numpy(), np.ones(2, dtype=np.float32))
    np.testing.assert_array_equal(x.numpy(force=True), np.ones(2, dtype=np.float32))
    with pytest.raises(RuntimeError):
        np.asarray((x * 2).numpy())


@pytest.mark.parametrize("name", NAMES)
def test_item_like_torch(device, name):
    if name not in _supported(device):
        pytest.skip(f"{device} has no {name}")
    x, ref = _pair(name, device)
    for idx in [(0, 0), (1, 1)]:
        got, want = x[idx].item(), ref[idx].item()
        assert type(got) is type(want), (name, type(got), type(want))
        assert got == want
    one = polytorch.tensor([[_values(name)[0][1]]], dtype=PT[name], device=device)
    assert one.item() == torch.tensor([[_values(name)[0][1]]], dtype=TO[name]).item()


@pytest.mark.parametrize("shape", [(2, 3), (2,), (0,), (3, 0)], ids=str)
def test_item_with_more_than_one_element_raises(device, shape):
    x = polytorch.zeros(shape, device=device)
    n = int(np.prod(shape))
    with pytest.raises(RuntimeError) as theirs:
        torch.zeros(shape).item()
    with pytest.raises(RuntimeError) as ours:
        x.item()
    assert f"{n} elements" in str(ours.value)
    assert f"{n} elements" in str(theirs.value)


@pytest.mark.parametrize("name", NAMES)
def test_tolist_like_torch(device, name):
    if name not in _supported(device):
        pytest.skip(f"{device} has no {name}")
    x, ref = _pair(name, device)
    got, want = x.tolist(), ref.tolist()
    assert got == want
    assert [type(v) for row in got for v in row] == [type(v) for row in want for v in row]
    assert x[0, 1].tolist() == ref[0, 1].tolist()
    assert type(x[0, 1].tolist()) is type(ref[0, 1].tolist())


def test_python_number_conversions(device):
    x = polytorch.tensor([2.75], device=device)
    assert float(x) == float(torch.tensor([2.75]))
    assert int(x) == int(torch.tensor([2.75]))
    i = polytorch.tensor(3, device=device)
    assert [10, 11, 12, 13][i] == 13
    with pytest.raises(TypeError):
        [1, 2][polytorch.tensor(1.0, device=device)]


# -- DLPack -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["bool", "uint8", "int32", "int64", "float16", "float32",
                                  "float64", "complex64"])
def test_from_dlpack_numpy(name):
    a = np.array([[1, 0], [2, 1]], dtype=name)
    t = polytorch.from_dlpack(a)
    ref = torch.from_dlpack(a)
    _on(t, "cpu")
    _same(t, ref)
    a[0, 1] = 1  # shares memory, as torch.from_dlpack does
    assert t.tolist() == ref.tolist()


def test_from_dlpack_torch_and_back():
    ref = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    t = polytorch.from_dlpack(ref)
    _on(t, "cpu")
    _same(t, ref)
    back = torch.from_dlpack(t)
    assert back.dtype is torch.float32
    assert torch.equal(back, ref)
    t.add_(1)  # the three views share one buffer
    assert torch.equal(back, ref) and ref[0, 0].item() == 1.0


def test_from_dlpack_of_a_polytorch_tensor_is_itself():
    t = polytorch.ones(2)
    assert polytorch.from_dlpack(t) is t


def test_from_dlpack_rejects_other_objects():
    with pytest.raises(TypeError):
        polytorch.from_dlpack([1, 2])


def test_numpy_from_dlpack(device):
    for name in ("int64", "float32", "bool"):
        x, ref = _pair(name, device)
        a = np.from_dlpack(x)
        np.testing.assert_array_equal(a, ref.numpy())
        assert a.dtype == ref.numpy().dtype


def test_torch_from_dlpack(device):
    x, ref = _pair("float32", device)
    got = torch.from_dlpack(x)
    assert got.dtype is torch.float32
    assert torch.equal(got, ref)


def test_torch_from_dlpack_shares_memory_on_cpu():
    x = polytorch.zeros(3)
    t = torch.from_dlpack(x)
    t[0] = 4.0
    assert x.tolist() == [4.0, 0.0, 0.0]


def test_dlpack_export_requires_grad_raises(device):
    x = polytorch.ones(2, requires_grad=True, device=device)
    with pytest.raises(Exception) as theirs:
        np.from_dlpack(torch.ones(2, requires_grad=True))
    # torch raises BufferError, the exception the DLPack protocol prescribes.
    with pytest.raises(theirs.type, match="require"):
        np.from_dlpack(x)
    with pytest.raises(theirs.type):
        x.__dlpack__()
    assert np.from_dlpack(x.detach()).tolist() == [1.0, 1.0]


def test_dlpack_round_trip_on_every_backend(device):
    x, ref = _pair("int32", device)
    y = polytorch.from_dlpack(np.from_dlpack(x))
    _on(y, "cpu")
    _same(y, ref)


# -- repr ---------------------------------------------------------------------------------------


def _repr_cases():
    return [
        ("float", lambda m: m.tensor([1.0, 2.0, 3.0])),
        ("float frac", lambda m: m.tensor([1.5, 2.25, -3.125])),
        ("float neg", lambda m: m.tensor([-1.5, 2.0])),
        ("float 0-d", lambda m: m.tensor(3.5)),
        ("float sci small", lambda m: m.tensor([1e-5, 1.0])),
        ("float sci large", lambda m: m.tensor([1e10, 1.0])),
        ("float 2-D", lambda m: m.tensor([[0.1, 0.2], [3.0, 4.0]])),
        ("float 3-D", lambda m: m.tensor([[[1.0, 2.0]], [[3.0, 4.0]]])),
        ("float64", lambda m: m.tensor([1.0, 2.5], dtype=m.float64)),
        ("float16", lambda m: m.tensor([1.0, 2.5], dtype=m.float16)),
        ("nan inf", lambda m: m.tensor([float("nan"), float("inf"), -float("inf"), 1.0])),
        ("int", lambda m: m.tensor([1, 2, 3])),
        ("int 2-D", lambda m: m.tensor([[1, -20], [300, 4]])),
        ("int 0-d", lambda m: m.tensor(7)),
        ("int32", lambda m: m.tensor([1, 2], dtype=m.int32)),
        ("uint8", lambda m: m.tensor([1, 200], dtype=m.uint8)),
        ("bool", lambda m: m.tensor([True, False])),
        ("bool 2-D", lambda m: m.tensor([[True], [False]])),
        ("requires_grad", lambda m: m.tensor([1.0, 2.0], requires_grad=True)),
        ("requires_grad 2-D", lambda m: m.ones(2, 2, requires_grad=True)),
        ("empty", lambda m: m.tensor([])),
        ("empty 2-D", lambda m: m.zeros(0, 3)),
        ("empty int", lambda m: m.zeros(0, dtype=m.int64)),
        ("complex", lambda m: m.tensor([1 + 2j, -0.5j])),
        ("complex frac", lambda m: m.tensor([1.5 + 2.5j, 0.25 - 1.75j])),
        ("complex128", lambda m: m.tensor([1.5 + 2.5j], dtype=m.complex128)),
        ("long int", lambda m: m.arange(2000)),
        ("long float", lambda m: m.arange(2000.0)),
        ("wide", lambda m: m.arange(30.0) / 7),
    ]


@pytest.mark.parametrize("make", [c[1] for c in _repr_cases()], ids=[c[0] for c in _repr_cases()])
def test_repr_matches_torch_on_cpu(make):
    ours = make(polytorch)
    theirs = make(torch)
    assert repr(ours).replace("polytorch.", "torch.") == repr(theirs)
    assert str(ours).replace("polytorch.", "torch.") == str(theirs)


def test_repr_grad_fn():
    x = polytorch.tensor([1.0, 2.0], requires_grad=True)
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x * 2) == repr(tx * 2)


def test_repr_with_default_float64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    polytorch.set_default_dtype(polytorch.float64)
    try:
        for make in (lambda m: m.tensor([1.5, 2.0]), lambda m: m.tensor([1.0], dtype=m.float32)):
            assert repr(make(polytorch)).replace("polytorch.", "torch.") == repr(make(torch))
    finally:
        torch.set_default_dtype(old)


def test_repr_names_the_device(device):
    x = polytorch.tensor([1.0, 2.0], device=device)
    text = repr(x)
    if polytorch.device(device) == polytorch.device("cpu"):
        assert "device" not in text
    else:
        assert f"device='{x.device}'" in text
        assert polytorch.device(text.split("device='")[1].split("'")[0]) == x.device
    assert text.startswith(repr(torch.tensor([1.0, 2.0]))[:-1])


def test_size_repr():
    assert repr(polytorch.zeros(2, 3).shape) == repr(torch.zeros(2, 3).shape).replace(
        "torch", "polytorch")


def test_format():
    assert f"{polytorch.tensor(2.5):.3f}" == f"{torch.tensor(2.5):.3f}"


# -- properties -----------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 0, 4), (1, 2, 3, 4)], ids=str)
def test_shape_properties(device, shape):
    x, ref = polytorch.zeros(shape, device=device), torch.zeros(shape)
    assert x.shape == ref.shape and isinstance(x.shape, tuple)
    assert x.size() == ref.size()
    assert isinstance(x.shape, polytorch.Size)
    assert x.shape.numel() == ref.shape.numel()
    assert x.ndim == ref.ndim and x.dim() == ref.dim() and x.ndimension() == ref.ndimension()
    assert x.numel() == ref.numel() and x.nelement() == ref.nelement()
    assert polytorch.numel(x) == torch.numel(ref)
    for d in range(-len(shape), len(shape)):
        assert x.size(d) == ref.size(d)
    with pytest.raises(IndexError):
        ref.size(len(shape) + 1)
    with pytest.raises(IndexError):
        x.size(len(shape) + 1)
    assert x.element_size() == ref.element_size()
    assert x.is_floating_point() == ref.is_floating_point()
    assert x.is_complex() == ref.is_complex()


def test_dtype_and_device_properties(device):
    for name in NAMES:
        if name not in _supported(device):
            continue
        x, ref = _pair(name, device)
        assert x.dtype is PT[name]
        assert x.itemsize == ref.itemsize
        assert x.is_cuda is False
    assert isinstance(x.device, polytorch.device)
    _on(x, device)


def test_transpose_property(device):
    x, ref = _pair("float32", device)
    _same(x.T, ref.T)
    _same(x.T.T, ref)
    _same(x.mT, ref.mT)


@pytest.mark.parametrize("shape", [(3,), (2, 3), (0, 2), (1,)], ids=str)
def test_len_and_iteration(device, shape):
    data = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    x, ref = polytorch.tensor(data, device=device), torch.tensor(data)
    assert len(x) == len(ref)
    rows, ref_rows = list(x), list(ref)
    assert len(rows) == len(ref_rows)
    for r, rr in zip(rows, ref_rows):
        assert isinstance(r, polytorch.Tensor)
        _on(r, device)
        _same(r, rr)


def test_len_and_iteration_of_0d_raise(device):
    x, ref = polytorch.tensor(1.0, device=device), torch.tensor(1.0)
    with pytest.raises(TypeError):
        len(ref)
    with pytest.raises(TypeError):
        len(x)
    with pytest.raises(TypeError):
        iter(ref)
    with pytest.raises(TypeError):
        iter(x)


@pytest.mark.parametrize("data", [[1, 2], [[0.0, 1.0]], [True, True], [0, 0, 0], []],
                         ids=str)
def test_bool_of_many_elements_raises(device, data):
    with pytest.raises(RuntimeError):
        bool(torch.tensor(data))
    x = polytorch.tensor(data, device=device)
    with pytest.raises(RuntimeError):
        bool(x)
    with pytest.raises(RuntimeError):
        if x:
            pass


@pytest.mark.parametrize("data", [0, 1, 0.0, -2.5, True, False, [0], [[3]], 1j, 0j], ids=str)
def test_bool_of_one_element_like_torch(device, data):
    want = torch.tensor(data)
    if _name(want.dtype) not in _supported(device):
        pytest.skip(f"{device} has no {want.dtype}")
    assert bool(polytorch.tensor(data, device=device)) is bool(want)


def test_tensor_constructor_is_refused():
    with pytest.raises(TypeError):
        polytorch.Tensor([1, 2])


def test_is_tensor_and_hash():
    x = polytorch.ones(1)
    assert polytorch.is_tensor(x) and not polytorch.is_tensor([1])
    assert len({x, x, polytorch.ones(1)}) == 2


def test_deepcopy_copies_leaves_with_grad_and_refuses_graph_tensors(device):
    import copy

    x = polytorch.tensor([1.0, 2.0], device=device, requires_grad=True)
    (x * 3).sum().backward()
    state = {"w": x, "again": x, "list": [x]}
    c = copy.deepcopy(state)
    assert c["w"] is c["again"] is c["list"][0] and c["w"] is not x
    assert c["w"].requires_grad and c["w"].is_leaf
    np.testing.assert_array_equal(c["w"].grad.numpy(), [3.0, 3.0])
    with polytorch.no_grad():
        x.add_(1)
    np.testing.assert_array_equal(c["w"].detach().numpy(), [1.0, 2.0])
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(x * 2)


def test_to_device_and_narrower_dtype_casts_before_moving():
    x = polytorch.tensor([1.5, 2.5], dtype=polytorch.float64)
    y = x.to("strict:3", polytorch.float32)  # strict:3 has no float64
    assert y.dtype == polytorch.float32 and str(y.device) == "strict:3"
    np.testing.assert_array_equal(y.cpu().numpy(), [1.5, 2.5])


def test_pin_memory_is_accepted():
    x = polytorch.ones(3)
    assert x.pin_memory() is x and not x.is_pinned()
