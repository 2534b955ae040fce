"""Bad input fails the way PyTorch fails, says what is wrong, and changes nothing.

Every test checks three things, on every backend:
  1. the exception is an instance of the class PyTorch raises for the same mistake
     (found by running the PyTorch equivalent inside the test where PyTorch's CPU
     build can express it);
  2. the message names the shapes, dtypes or devices involved;
  3. every tensor involved, and its ``.grad`` and ``_version``, is unchanged.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import host

import polytorch as pt

# -- helpers ---------------------------------------------------------------------------------


def snapshot(*tensors):
    return [
        (
            host(t),
            None if t.grad is None else host(t.grad),
            t._version,
            t.requires_grad,
            t.dtype,
            t.device,
            tuple(t.shape),
        )
        for t in tensors
    ]


def assert_unchanged(before, tensors):
    after = snapshot(*tensors)
    for i, (b, a) in enumerate(zip(before, after)):
        np.testing.assert_array_equal(a[0], b[0], err_msg=f"values of tensor {i} changed")
        if b[1] is None:
            assert a[1] is None, f".grad of tensor {i} appeared"
        else:
            assert a[1] is not None, f".grad of tensor {i} vanished"
            np.testing.assert_array_equal(a[1], b[1], err_msg=f".grad of tensor {i} changed")
        assert a[2:] == b[2:], f"version/requires_grad/dtype/device/shape of tensor {i} changed"


def torch_raises(fn) -> type:
    """The exception class PyTorch raises for ``fn`` (which must raise)."""
    try:
        fn()
    except Exception as e:
        return type(e)
    raise AssertionError("the PyTorch equivalent did not raise")


def shape_forms(shape):
    """Ways a message may spell a shape: [2, 3], (2, 3), 2x3 (and 4x1 / 1x4 for vectors)."""
    shape = tuple(shape)
    forms = {str(list(shape)), str(shape), "x".join(map(str, shape))}
    if len(shape) == 1:
        forms |= {f"{shape[0]}x1", f"1x{shape[0]}"}
    return forms


def assert_names_shapes(msg, *shapes):
    for s in shapes:
        assert any(f in msg for f in shape_forms(s)), f"message does not name shape {s}: {msg}"


def leaf_with_grad(arr, device):
    """A leaf that requires grad and already has a .grad (so we can check it is untouched)."""
    x = pt.tensor(np.asarray(arr), device=device, requires_grad=True)
    (x * x).sum().backward()
    return x


A23 = np.arange(6, dtype=np.float32).reshape(2, 3) / 4 + 0.5
A4 = np.array([1.0, -2.0, 3.0, 0.5], np.float32)

# A second device for each fixture device: a different device of the same backend
# where one exists, else another backend.
OTHER = {
    "cpu": "cpu@jax",
    "cpu@jax": "cpu",
    "strict:1": "strict:2",
    "cuda": "cpu",
    "cuda@jax": "cpu@jax",
}


def _usable(spec):
    try:
        pt.zeros(1, device=spec)
    except Exception:
        return False
    return True


# -- 1. tensors on two devices in one op ---------------------------------------------------------


@pytest.mark.parametrize("other_kind", ["same backend or sibling", "strict:2"])
def test_two_devices_in_one_op(device, other_kind):
    if other_kind == "strict:2":  # another backend (or, for strict:1, cpu)
        other = "cpu" if device == "strict:1" else "strict:2"
    else:
        other = OTHER[device]
    if other == device or pt.device(other) == pt.device(device) or not _usable(other):
        pytest.skip(f"no second device for {device}")
    expected = torch_raises(lambda: torch.ones(2, 3) + torch.ones(2, 3, device="meta"))
    a = leaf_with_grad(A23, device)
    b = leaf_with_grad(A23, other)
    c = pt.tensor(A23, device=device)
    d = pt.tensor(A23, device=other)
    before = snapshot(a, b, c, d)
    dev_names = (str(pt.device(device)), str(pt.device(other)))
    cases = {
        "a + b": lambda: a + b,
        "b * a": lambda: b * a,
        "a - d": lambda: a - d,
        "a / b": lambda: a / b,
        "a ** b": lambda: a**b,
        "a @ b.T": lambda: a @ b.T,
        "where(c > 0, a, b)": lambda: pt.where(c > 0, a, b),
        "a > d": lambda: a > d,
        "c.add_(d)": lambda: c.add_(d),
        "c.mul_(d)": lambda: c.mul_(d),
        "c[0] = d[0]": lambda: c.__setitem__(0, d[0]),
        "(a * 2).backward(d)": lambda: (a * 2).backward(d),
    }
    for what, fn in cases.items():
        with pytest.raises(expected) as exc:
            fn()
        msg = str(exc.value)
        for name in dev_names:
            assert name in msg, f"{what}: message does not name device {name!r}: {msg}"
        assert_unchanged(before, [a, b, c, d])


# -- 2. unknown or unavailable devices -----------------------------------------------------------


@pytest.mark.parametrize(
    "spec, names",
    [
        ("nosuchtype", ["nosuchtype"]),
        ("nosuchtype:1", ["nosuchtype"]),
        ("cpu@nosuchbackend", ["nosuchbackend"]),
        ("cpu:x", ["cpu:x"]),
        ("strict:99", ["99", "strict"]),
        ("cuda:7@jax", ["cuda"]),
    ],
)
def test_unknown_or_unavailable_device(device, spec, names):
    expected = torch_raises(lambda: torch.zeros(1, device="nosuchtype"))
    assert expected is torch_raises(lambda: torch.device("cuda:x"))
    # A device index past the count is torch.AcceleratorError on CUDA builds: a RuntimeError.
    assert issubclass(getattr(torch, "AcceleratorError", RuntimeError), expected)
    x = leaf_with_grad(A23, device)
    before = snapshot(x)
    for fn in (
        lambda: pt.zeros(2, device=spec),
        lambda: x.to(spec),
        lambda: pt.tensor(A23, device=spec),
        lambda: x.detach().to(spec),
    ):
        with pytest.raises(expected) as exc:
            fn()
        msg = str(exc.value)
        for n in names:
            assert n in msg, f"message does not name {n!r}: {msg}"
        assert_unchanged(before, [x])


# -- 3. shapes that do not broadcast; matmul of incompatible shapes -----------------------------


def test_shapes_that_do_not_broadcast(device):
    a = leaf_with_grad(A23, device)
    b = leaf_with_grad(A4, device)
    c = pt.tensor(A23, device=device)
    before = snapshot(a, b, c)
    cases = {
        "add": (lambda lib, x, y: x + y),
        "sub": (lambda lib, x, y: x - y),
        "mul": (lambda lib, x, y: x * y),
        "div": (lambda lib, x, y: x / y),
        "pow": (lambda lib, x, y: x**y),
        "eq": (lambda lib, x, y: x == y),
        "where": (lambda lib, x, y: lib.where(x > 1, x, y)),
    }
    ta, tb = torch.tensor(A23), torch.tensor(A4)
    for fn in cases.values():
        expected = torch_raises(lambda fn=fn: fn(torch, ta, tb))
        with pytest.raises(expected) as exc:
            fn(pt, a, b)
        assert_names_shapes(str(exc.value), (2, 3), (4,))
        assert_unchanged(before, [a, b, c])


def test_inplace_result_that_does_not_fit(device):
    """x (3,) add_ y (2, 3): the broadcast result does not fit into x."""
    x = pt.tensor(A23[0], device=device)
    y = pt.tensor(A23, device=device)
    before = snapshot(x, y)
    cases = {
        "add_": lambda u, v: u.add_(v),
        "mul_": lambda u, v: u.mul_(v),
        "copy_": lambda u, v: u.copy_(v),
        "iadd": lambda u, v: u.__iadd__(v),
    }
    for fn in cases.values():
        expected = torch_raises(lambda fn=fn: fn(torch.ones(3), torch.ones(2, 3)))
        with pytest.raises(expected) as exc:
            fn(x, y)
        assert_names_shapes(str(exc.value), (3,), (2, 3))
        assert_unchanged(before, [x, y])


def test_setitem_value_that_does_not_broadcast(device):
    x = pt.tensor(np.zeros((3, 4), np.float32), device=device)
    v = pt.tensor(np.ones(3, np.float32), device=device)
    before = snapshot(x, v)
    tx = torch.zeros(3, 4)
    expected = torch_raises(lambda: tx.__setitem__(0, torch.ones(3)))
    with pytest.raises(expected) as exc:
        x[0] = v
    assert_names_shapes(str(exc.value), (3,), (4,))
    assert_unchanged(before, [x, v])


@pytest.mark.parametrize(
    "sa, sb",
    [
        ((2, 3), (4, 5)),
        ((3,), (4,)),
        ((2, 3), (4,)),
        ((3,), (4, 2)),
        ((2, 3, 4), (5, 4, 5)),
        ((2, 2, 3), (4, 2)),
    ],
)
def test_matmul_of_incompatible_shapes(device, sa, sb):
    rng = np.random.default_rng(0)
    a_np = rng.standard_normal(sa).astype(np.float32)
    b_np = rng.standard_normal(sb).astype(np.float32)
    expected = torch_raises(lambda: torch.tensor(a_np) @ torch.tensor(b_np))
    a, b = leaf_with_grad(a_np, device), leaf_with_grad(b_np, device)
    before = snapshot(a, b)
    for fn in (lambda: a @ b, lambda: pt.matmul(a, b), lambda: a.matmul(b)):
        with pytest.raises(expected) as exc:
            fn()
        assert_names_shapes(str(exc.value), sa, sb)
        assert_unchanged(before, [a, b])


def test_matmul_of_mixed_dtypes_and_0d(device):
    a = pt.tensor(A23, device=device)
    b = pt.tensor(A23.T.astype(np.float64), device=device)
    s = pt.tensor(np.float32(2.0), device=device)
    before = snapshot(a, b, s)
    expected = torch_raises(lambda: torch.ones(2, 3) @ torch.ones(3, 2, dtype=torch.float64))
    with pytest.raises(expected) as exc:
        a @ b
    assert "float32" in str(exc.value) or "Float" in str(exc.value) or "float" in str(exc.value)
    assert "float64" in str(exc.value) or "Double" in str(exc.value) or "double" in str(exc.value)
    expected = torch_raises(lambda: torch.ones(()) @ torch.ones(3))
    with pytest.raises(expected) as exc:
        s @ a[0]
    assert "0D" in str(exc.value)
    assert_unchanged(before, [a, b, s])


# -- 4. a second backward through a freed graph --------------------------------------------------


def test_second_backward_through_a_freed_graph(device):
    def build(x):
        return (x.exp() * x).tanh().sum()

    t = torch.tensor(A23, requires_grad=True)
    ty = build(t)
    ty.backward()
    expected = torch_raises(ty.backward)
    x = leaf_with_grad(A23, device)
    y = build(x)
    y.backward()
    before = snapshot(x)
    for fn in (y.backward, lambda: pt.autograd.grad(y, x)):
        with pytest.raises(expected, match="backward through the graph a second time") as exc:
            fn()
        assert "retain_graph=True" in str(exc.value)
        assert_unchanged(before, [x])


# -- 5. an in-place op on a leaf that requires grad ---------------------------------------------


def test_inplace_on_a_leaf_that_requires_grad(device):
    t = torch.tensor(A23, requires_grad=True)
    x = leaf_with_grad(A23, device)
    src = pt.tensor(A23 * 2, device=device)
    before = snapshot(x, src)
    cases = {
        "add_": (lambda v, s: v.add_(1)),
        "sub_": (lambda v, s: v.sub_(s)),
        "mul_": (lambda v, s: v.mul_(2)),
        "div_": (lambda v, s: v.div_(s)),
        "zero_": (lambda v, s: v.zero_()),
        "fill_": (lambda v, s: v.fill_(3.0)),
        "copy_": (lambda v, s: v.copy_(s)),
        "exp_": (lambda v, s: v.exp_()),
        "setitem": (lambda v, s: v.__setitem__(0, 1.0)),
        "setitem tensor": (lambda v, s: v.__setitem__((slice(None), 1), s[:, 0])),
        "view add_": (lambda v, s: v[0].add_(1)),
        "view zero_": (lambda v, s: v.reshape(-1).zero_()),
        "iadd": (lambda v, s: v.__iadd__(1)),
    }
    for what, fn in cases.items():
        expected = torch_raises(lambda fn=fn: fn(t, torch.tensor(A23 * 2)))
        with pytest.raises(expected) as exc:
            fn(x, src)
        msg = str(exc.value)
        assert "leaf" in msg and "requires grad" in msg, f"{what}: {msg}"
        assert_unchanged(before, [x, src])


# -- 6. backward after a saved tensor was modified in place -------------------------------------


@pytest.mark.parametrize("case", ["saved result (exp)", "saved input (mul)", "saved via a view"])
def test_backward_after_a_saved_tensor_was_modified(device, case):
    def build(lib, x):
        if case == "saved result (exp)":
            y = x.exp()  # exp saves its result
            y.add_(1)
            return y.sum()
        h = x * 2
        y = h * h  # mul saves its inputs
        if case == "saved input (mul)":
            h.add_(1)
        else:
            h[0].mul_(3)
        return y.sum()

    t = torch.tensor(A23, requires_grad=True)
    expected = torch_raises(lambda: build(torch, t).backward())
    assert t.grad is None
    x = leaf_with_grad(A23, device)
    loss = build(pt, x)
    before = snapshot(x)
    with pytest.raises(expected) as exc:
        loss.backward()
    msg = str(exc.value)
    assert "modified by an inplace operation" in msg
    assert "version" in msg
    assert "[2, 3]" in msg, f"message does not name the modified tensor's shape: {msg}"
    assert "FloatTensor" in msg or "float32" in msg, f"message does not name the dtype: {msg}"
    assert_unchanged(before, [x])


# -- 7. requires_grad on an integer tensor ------------------------------------------------------


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "uint8"])
def test_requires_grad_on_an_integer_tensor(device, dtype):
    arr = np.array([1, 0, 1]).astype(dtype)
    expected = torch_raises(lambda: torch.tensor(arr, requires_grad=True))
    assert expected is torch_raises(lambda: torch.tensor(arr).requires_grad_())
    x = pt.tensor(arr, device=device)
    before = snapshot(x)
    for fn in (
        lambda: pt.tensor(arr, device=device, requires_grad=True),
        lambda: x.requires_grad_(),
        lambda: setattr(x, "requires_grad", True),
        lambda: pt.zeros(3, dtype=getattr(pt, dtype), device=device, requires_grad=True),
    ):
        with pytest.raises(expected) as exc:
            fn()
        assert dtype in str(exc.value), f"message does not name {dtype}: {exc.value}"
        assert_unchanged(before, [x])
    x.requires_grad_(False)  # turning it off is fine
    assert not x.requires_grad


# -- 8. .numpy() on a tensor that requires grad ----------------------------------------------------


def test_numpy_on_a_tensor_that_requires_grad(device):
    expected = torch_raises(lambda: torch.ones(2, requires_grad=True).numpy())
    x = leaf_with_grad(A23, device)
    y = x * 2
    before = snapshot(x)
    for t in (x, y):
        with pytest.raises(expected) as exc:
            t.numpy()
        msg = str(exc.value)
        assert "requires grad" in msg and "detach()" in msg
    assert_unchanged(before, [x])
    np.testing.assert_array_equal(x.detach().numpy(), A23)
    np.testing.assert_allclose(x.numpy(force=True), A23)


# -- 9. .item() on a tensor with more than one element -------------------------------------------


def test_item_of_a_tensor_with_several_elements(device):
    x = leaf_with_grad(A23, device)
    before = snapshot(x)
    expected = torch_raises(lambda: torch.ones(2, 3).item())
    with pytest.raises(expected) as exc:
        x.item()
    msg = str(exc.value)
    assert "6" in msg and "elements" in msg, msg
    expected = torch_raises(lambda: bool(torch.ones(2, 3)))
    with pytest.raises(expected, match="ambiguous"):
        bool(x > 0)
    assert_unchanged(before, [x])
    empty = pt.zeros(0, device=device)
    with pytest.raises(torch_raises(lambda: torch.zeros(0).item())) as exc:
        empty.item()
    assert "0" in str(exc.value)
    assert x[1, 2].item() == pytest.approx(float(A23[1, 2]))


def test_float_and_int_of_a_tensor_with_several_elements(device):
    x = pt.tensor(A23, device=device)
    before = snapshot(x)
    for conv in (float, int):
        expected = torch_raises(lambda conv=conv: conv(torch.ones(2, 3)))
        with pytest.raises(expected):
            conv(x)
    assert_unchanged(before, [x])


# -- 10. float64 on a device without float64 ------------------------------------------------------

NO_F64 = "strict:3"  # array_api_strict's device without float64


def test_float64_on_a_device_without_float64(device):
    # PyTorch's CPU build has no such device. On MPS, which lacks float64, PyTorch raises
    # TypeError ("Cannot convert a MPS Tensor to float64 dtype as the MPS framework
    # doesn't support float64"), so TypeError is the class to match.
    expected = TypeError
    if not _usable(NO_F64):
        pytest.skip(f"{NO_F64} unavailable")
    x = pt.tensor(A23.astype(np.float64), device=device, requires_grad=True)
    (x * x).sum().backward()
    f = pt.tensor(A23, device=NO_F64, requires_grad=True)
    (f * f).sum().backward()
    before = snapshot(x, f)
    cases = [
        lambda: x.to(NO_F64),
        lambda: x.detach().to(NO_F64),
        lambda: pt.zeros(2, dtype=pt.float64, device=NO_F64),
        lambda: pt.tensor(A23.astype(np.float64), device=NO_F64),
        lambda: pt.tensor([1.0, 2.0], dtype=pt.float64, device=NO_F64),
        lambda: f.double(),
        lambda: f.to(pt.float64),
        lambda: f.detach().to(pt.float64),
    ]
    for i, fn in enumerate(cases):
        with pytest.raises(expected) as exc:
            fn()
        msg = str(exc.value)
        assert "float64" in msg, f"case {i}: message does not name float64: {msg}"
        assert NO_F64 in msg, f"case {i}: message does not name {NO_F64}: {msg}"
        assert_unchanged(before, [x, f])


def test_float64_default_dtype_on_a_device_without_float64():
    """With float64 as the default dtype, creating a float tensor there is refused too."""
    if not _usable(NO_F64):
        pytest.skip(f"{NO_F64} unavailable")
    pt.set_default_dtype(pt.float64)  # conftest restores it
    with pytest.raises(TypeError, match="float64"):
        pt.zeros(2, device=NO_F64)
    with pytest.raises(TypeError, match="float64"):
        pt.tensor([1.5], device=NO_F64)
