"""In-place ops, ``__setitem__``, version counters and view aliasing, on every backend.

Note [Views and in-place ops on every backend] (polytorch/_tensor.py) promises
that NumPy (mutable), JAX (immutable) and the strict backend show the same
values, versions and gradients as PyTorch. Each scenario below runs the same
code twice, once with ``lib=polytorch`` on ``device`` and once with
``lib=torch``, logging values, dtypes and ``_version`` as it goes; the logs
must agree.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import host

import polytorch as pt


def _dtype_name(t):
    return str(t.dtype).removeprefix("torch.") if isinstance(t, torch.Tensor) else t.dtype.name


class Log:
    """Records (values, dtype, shape, version) of tensors at points of a scenario."""

    def __init__(self):
        self.entries = []

    def __call__(self, label, t, version=True):
        self.entries.append((label, host(t), _dtype_name(t), t._version if version else None))


def run(scenario, device, *, rtol=1e-6, atol=1e-6):
    """Run ``scenario(lib, mk, log)`` with polytorch on ``device`` and with torch; compare."""
    got, ref = Log(), Log()
    scenario(pt, lambda a, rg=False: pt.tensor(np.asarray(a), device=device, requires_grad=rg), got)
    scenario(torch, lambda a, rg=False: torch.tensor(np.asarray(a), requires_grad=rg), ref)
    assert [e[0] for e in got.entries] == [e[0] for e in ref.entries]
    for (label, a, da, va), (_, e, de, ve) in zip(got.entries, ref.entries):
        assert da == de, f"{label}: dtype {da} vs {de}"
        assert a.shape == e.shape, f"{label}: shape {a.shape} vs {e.shape}"
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=label)
        assert va == ve, f"{label}: _version {va} vs PyTorch's {ve}"


F = np.float32


def arange(*shape, dtype=F):
    return np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)


# -- values and versions of in-place arithmetic -------------------------------------------


def test_inplace_arithmetic(device):
    def scenario(lib, mk, log):
        x = mk(arange(2, 3))
        y = mk(np.array([1.0, -2.0, 4.0], F))
        log("start", x)
        assert x.add_(1) is x
        log("add_ scalar", x)
        x.sub_(y)
        log("sub_ broadcast", x)
        x.mul_(2.5)
        log("mul_ scalar", x)
        x.div_(mk(np.array(2.0, F)))
        log("div_ 0-d", x)
        x.add_(y, alpha=2)
        log("add_ alpha", x)
        x.sub_(y, alpha=0.5)
        log("sub_ alpha", x)
        x.mul_(y)
        log("mul_ tensor", x)
        x.div_(y)
        log("div_ tensor", x)
        x.add_(mk(np.array([[1], [2]], np.int64)))
        log("add_ int tensor", x)
        log("y untouched", y)

    run(scenario, device)


def test_augmented_assignment_keeps_the_tensor(device):
    def scenario(lib, mk, log):
        x = mk(arange(2, 3))
        same = x
        x += 1
        x -= mk(np.array([1.0, 2.0, 3.0], F))
        x *= 3
        x /= 2
        assert x is same
        log("x", x)

    run(scenario, device)


def test_zero_fill_copy(device):
    def scenario(lib, mk, log):
        x = mk(arange(2, 3))
        assert x.zero_() is x
        log("zero_", x)
        assert x.fill_(3.5) is x
        log("fill_ float", x)
        x.fill_(mk(np.array(-2.0, F)))
        log("fill_ 0-d tensor", x)
        i = mk(arange(2, 2, dtype=np.int64))
        i.fill_(7)
        log("int fill_", i)
        assert x.copy_(mk(arange(2, 3) * 10)) is x
        log("copy_ same shape", x)
        x.copy_(mk(np.array([1.0, 2.0, 3.0], F)))
        log("copy_ broadcast", x)
        x.copy_(mk(np.array([[5, 6, 7], [8, 9, 10]], np.int64)))
        log("copy_ int into float", x)
        x.copy_(mk(arange(2, 3, dtype=np.float64) / 3))
        log("copy_ float64 into float32", x)
        i.copy_(mk(np.array([[1.0, 2.0], [3.0, 4.0]], F)))
        log("copy_ float into int", i)

    run(scenario, device)


def test_copy_from_another_device(device):
    """copy_ moves the source (PyTorch allows a cross-device copy_)."""
    x = pt.zeros(2, 3, device=device)
    src = pt.tensor(arange(2, 3), device="cpu")
    assert x.copy_(src) is x
    assert x.device == pt.device(device)
    np.testing.assert_array_equal(host(x), arange(2, 3))
    assert x._version == 1


def test_setitem(device):
    def scenario(lib, mk, log):
        x = mk(np.zeros((3, 4), F))
        x[0] = 1.5
        log("row = scalar", x)
        x[1, 2] = 7
        log("element = int", x)
        x[-1, -1] = -1.25
        log("negative index", x)
        x[:, 0] = mk(np.array([1.0, 2.0, 3.0], F))
        log("column = tensor", x)
        x[2, ::2] = mk(np.array(9.0, F))
        log("strided = 0-d tensor", x)
        x[1:, 1:3] = mk(np.array([[10.0, 20.0]], F))
        log("block = broadcast row", x)
        x[None, 1] = mk(np.array([4.0, 3.0, 2.0, 1.0], F))
        log("None key", x)
        x[..., 3] = mk(np.array([7, 8, 9], np.int64))
        log("ellipsis = int tensor", x)
        x[0, 1:4:2] = mk(np.array([0.5, 0.25], np.float64))
        log("step slice = float64 tensor", x)
        x[...] = 2.0
        log("everything", x)
        i = mk(np.zeros((2, 3), np.int64))
        i[0] = 3
        i[1, 1:] = mk(np.array([4, 5], np.int64))
        log("int tensor", i)

    run(scenario, device)


def test_setitem_does_not_alias_the_value(device):
    def scenario(lib, mk, log):
        x = mk(np.zeros((2, 3), F))
        v = mk(np.array([1.0, 2.0, 3.0], F))
        x[0] = v
        v.add_(10)
        log("x after changing v", x)
        x[1].add_(5)
        log("v after changing x", v)

    run(scenario, device)


def test_inplace_on_int_tensor_with_float_raises_and_leaves_it(device):
    x = pt.tensor([1, 2, 3], device=device)
    with pytest.raises(RuntimeError) as exc_t:
        torch.tensor([1, 2, 3]).add_(1.5)
    for op in (
        lambda: x.add_(1.5),
        lambda: x.mul_(pt.tensor([0.5, 1.0, 2.0], device=device)),
        lambda: x.div_(2),
        lambda: x.sub_(0.5),
    ):
        with pytest.raises(type(exc_t.value), match="can't be cast"):
            op()
        np.testing.assert_array_equal(host(x), [1, 2, 3])
        assert x.dtype == pt.int64
        assert x._version == 0


def test_version_counter_of_out_of_place_ops(device):
    def scenario(lib, mk, log):
        x = mk(arange(2, 3))
        _ = x + 1
        _ = x.exp()
        _ = x[0] * 2
        log("x after out-of-place ops", x)
        x.add_(1)
        x.add_(1)
        log("two add_", x)
        x[0] = 1.0
        log("setitem", x)
        x[1][2] = 5.0
        log("setitem through a view", x)

    run(scenario, device)


# -- views alias their base ------------------------------------------------------------------


def test_views_alias_their_base(device):
    def scenario(lib, mk, log):
        x = mk(arange(3, 4))
        y = x[0]
        y.add_(1)
        log("x after y.add_", x)
        log("y", y)
        z = x[:, 1::2]
        x.mul_(2)
        log("earlier view y after x.mul_", y)
        log("earlier view z after x.mul_", z)
        w = x.view(12)
        w[3] = 100
        log("x after w[3] = 100", x)
        tt = x.t()
        tt[0, 1] = -5
        log("x after x.t()[0, 1] = -5", x)
        log("w after tt write", w)
        d = x.detach()
        d.sub_(1)
        log("x after detach().sub_", x)
        r = x.reshape(2, 6)
        r.mul_(0.5)
        log("x after reshape view mul_", x)
        p = x.permute(1, 0)
        p[1].fill_(9)
        log("x after permute()[1].fill_", x)
        for name, v in (("y", y), ("z", z), ("w", w), ("tt", tt), ("d", d), ("r", r), ("p", p)):
            log(f"final {name}", v)

    run(scenario, device)


def test_views_of_views(device):
    def scenario(lib, mk, log):
        x = mk(arange(2, 3, 4))
        v = x[1][:, ::2]
        v.fill_(7)
        log("x after x[1][:, ::2].fill_", x)
        u = x.view(6, 4)[2:]
        u.zero_()
        log("x after view()[2:].zero_", x)
        q = x.unsqueeze(0)
        q[0, 0, 0, 0] = -1
        log("x after unsqueeze write", x)
        s = x[0].t()
        s.add_(100)
        log("x after x[0].t().add_", x)
        f = x.flatten()
        f[-1] = 3.25
        log("x after flatten write", x)
        x.add_(1)
        for name, t in (("v", v), ("u", u), ("q", q), ("s", s), ("f", f), ("x", x)):
            log(f"final {name}", t)

    run(scenario, device)


def test_view_writes_through_setitem_on_a_view(device):
    def scenario(lib, mk, log):
        x = mk(np.zeros((3, 4), F))
        row = x[1]
        row[2:] = mk(np.array([5.0, 6.0], F))
        log("x", x)
        col = x[:, 3]
        col[...] = 1.0
        log("x after col[...]", x)
        log("row sees it", row)

    run(scenario, device)


def test_detach_and_data_share_memory(device):
    def scenario(lib, mk, log):
        x = mk(arange(2, 3), True)
        d = x.detach()
        d.mul_(2)
        log("x after d.mul_", x)
        with lib.no_grad():
            x.add_(1)
        log("d after x.add_ (no_grad)", d)
        dd = x.data
        dd.add_(1)
        log("x after x.data.add_", x)
        log("x.data", dd)

    run(scenario, device)


def test_expanded_view_write_refused(device):
    x = pt.tensor(np.array([1.0, 2.0], F), device=device)
    e = x.expand(3, 2)
    with pytest.raises(RuntimeError) as exc_t:
        torch.tensor([1.0, 2.0]).expand(3, 2).add_(1)
    with pytest.raises(type(exc_t.value)):
        e.add_(1)
    np.testing.assert_array_equal(host(x), [1.0, 2.0])


# -- gradients through in-place ops -----------------------------------------------------------


def grads_scenario(fn, device, **kw):
    """``fn(lib, mk)`` returns (loss, leaves); compare loss and the leaves' grads."""

    def scenario(lib, mk, log):
        loss, leaves = fn(lib, mk)
        log("loss", loss, version=False)
        loss.backward()
        for i, leaf in enumerate(leaves):
            assert leaf.grad is not None, f"leaf {i} got no grad"
            log(f"grad of leaf {i}", leaf.grad, version=False)

    run(scenario, device, **kw)


A = np.random.default_rng(0).standard_normal((3, 4)).astype(F)
B = np.random.default_rng(1).standard_normal((4,)).astype(F)


def test_inplace_on_a_non_leaf(device):
    def fn(lib, mk):
        x = mk(A, True)
        y = x * 2
        y.add_(1)
        y[0] = 0
        y.mul_(x)
        return (y * y).sum(), [x]

    grads_scenario(fn, device)


@pytest.mark.parametrize("op", ["add_", "sub_", "mul_", "div_"])
def test_inplace_arithmetic_with_a_constant_on_a_non_leaf(device, op):
    """``h = x * 2; h.mul_(3)``: the gradient of ``x`` is 6, as in PyTorch."""

    def fn(lib, mk):
        x = mk(A, True)
        h = x * 2
        getattr(h, op)(3.0)
        return (h * mk(A)).sum(), [x]

    grads_scenario(fn, device)


@pytest.mark.parametrize("op", ["add_", "sub_", "mul_", "div_"])
def test_inplace_arithmetic_with_a_tensor_that_requires_grad(device, op):
    """``h.mul_(w)`` needs the old ``h`` for ``w``'s gradient: PyTorch keeps a copy of it."""

    def fn(lib, mk):
        x, w = mk(A, True), mk(np.abs(B) + 0.5, True)
        h = x + 1
        getattr(h, op)(w)
        return (h * mk(A)).sum(), [x, w]

    grads_scenario(fn, device)


@pytest.mark.parametrize("op", ["zero_", "fill_", "copy_", "setitem"])
def test_overwriting_a_non_leaf_with_a_constant_cuts_its_gradient(device, op):
    """After ``y.zero_()`` (or fill_, copy_ of a constant) y no longer depends on x."""

    def fn(lib, mk):
        x = mk(A, True)
        y = x * 2
        if op == "zero_":
            y.zero_()
        elif op == "fill_":
            y.fill_(1.5)
        elif op == "copy_":
            y.copy_(mk(B))
        else:
            y[...] = 2.0
        return (y * x).sum(), [x]

    grads_scenario(fn, device)


def test_inplace_unary_on_a_non_leaf(device):
    def fn(lib, mk):
        x = mk(A, True)
        y = x * 1.5
        y.tanh_()
        z = x + 0.5
        z.relu_()
        w = x - 0.1
        w.sigmoid_()
        e = x * 0.3
        e.exp_()
        return (y * z + w * e).sum(), [x]

    grads_scenario(fn, device)


def test_inplace_through_a_view_of_a_non_leaf(device):
    def fn(lib, mk):
        x = mk(A, True)
        w = mk(A[::-1].copy())
        y = x * 2
        v = y[1:]
        v.mul_(3)
        return (y * w).sum(), [x]

    grads_scenario(fn, device)


def test_view_of_a_non_leaf_after_its_base_changed(device):
    """A view taken before an in-place op on its base sees the op, in values and graph."""

    def fn(lib, mk):
        x = mk(A, True)
        y = x * 2
        v = y[1:]
        y.mul_(3)
        return (v * v).sum(), [x]

    grads_scenario(fn, device)


def test_inplace_through_a_view_of_a_view(device):
    def fn(lib, mk):
        x = mk(A, True)
        b = mk(B[:2], True)
        y = x * 3 + 1  # add saves nothing, so y may be modified in place
        v = y[:, 1:]
        v2 = v[0, ::2]
        v2.mul_(b)
        return (y * y).sum(), [x, b]

    grads_scenario(fn, device)


def test_setitem_with_a_value_that_requires_grad(device):
    def fn(lib, mk):
        x = mk(A, True)
        b = mk(B, True)
        y = x * 1
        y[0] = b
        y[1, :2] = b[:2] * 2
        y[2] = 0.5
        return (y * y.exp()).sum(), [x, b]

    grads_scenario(fn, device)


def test_setitem_into_a_constant_with_a_value_that_requires_grad(device):
    """Writing a tensor that requires grad into one that does not makes it part of the graph."""

    def fn(lib, mk):
        b = mk(B, True)
        y = mk(np.zeros((3, 4), F))
        y[1] = b * 3
        assert y.requires_grad and not y.is_leaf
        return (y * y).sum(), [b]

    grads_scenario(fn, device)


def test_copy_and_zero_on_views_of_a_non_leaf(device):
    def fn(lib, mk):
        x = mk(A, True)
        b = mk(B, True)
        y = x * 3 + 1
        y[0].copy_(b)
        y[:, 0].zero_()
        y[2].fill_(1.5)
        return (y * mk(A)).sum(), [x, b]

    grads_scenario(fn, device)


def test_inplace_on_a_leaf_under_no_grad_then_backward(device):
    def fn(lib, mk):
        x = mk(A, True)
        with lib.no_grad():
            x.mul_(2)
            x[0] = 5.0
            x -= 0.5
        assert x.is_leaf and x.requires_grad
        return (x * x * x).sum(), [x]

    grads_scenario(fn, device)


def test_version_of_a_non_leaf_with_autograd(device):
    def scenario(lib, mk, log):
        x = mk(A, True)
        y = x * 2
        v = y[0]
        log("y", y)
        y.add_(1)
        log("y after add_", y)
        v.mul_(2)
        log("y after view mul_", y)
        y[1] = 0.0
        log("y after setitem", y)
        log("v", v)

    run(scenario, device)


def test_inplace_on_0d_results_and_0d_views(device):
    """0-d results of reductions and elementwise ops are writable tensors, and ``v[0]`` of a
    vector is a 0-d view of it (NumPy gives scalars for both unless told otherwise)."""
    x = pt.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
    s, t = x.sum(), torch.tensor([[1.0, 2.0], [3.0, 4.0]]).sum()
    s.add_(1)
    t.add_(1)
    m = x.max()
    m.mul_(2)
    e = pt.tensor(2.0, device=device).exp()
    e.sub_(1)
    assert (s.item(), m.item()) == (t.item(), 8.0)
    assert abs(e.item() - (np.exp(np.float32(2.0)) - 1)) < 1e-5
    assert isinstance(s.cpu().numpy(), np.ndarray) and s.cpu().numpy().shape == ()
    v = pt.tensor([1.0, 2.0], device=device)
    v[0].add_(5)
    v[1].zero_()
    assert v.tolist() == [6.0, 0.0]


@pytest.mark.parametrize("case", ["clamp_ max", "lerp_ weight"])
def test_inplace_op_whose_later_tensor_argument_requires_grad(device, case):
    """``h.clamp_(lo, hi)`` with only ``hi`` needing a gradient (and ``h.lerp_(end, w)`` with
    only ``w``) reads the old ``h`` in backward: it must be kept, as PyTorch does."""
    a = np.array([[-1.0, 0.2, 2.5], [0.7, -0.3, 1.9]], np.float32)
    b = np.array([1.5, 0.1, 0.8], np.float32)
    results = []
    for lib, mk in ((pt, lambda v, g=False: pt.tensor(v, device=device, requires_grad=g)),
                    (torch, lambda v, g=False: torch.tensor(v, requires_grad=g))):
        x, w = mk(a), mk(b, True)
        h = x * 1.0
        if case == "clamp_ max":
            h.clamp_(mk(b * 0 - 0.5), w)
        else:
            h.lerp_(mk(a * 0 + 1.0), w)
        (h * h).sum().backward()
        results.append((h.detach().cpu().numpy() if lib is pt else h.detach().numpy(),
                        host(w.grad)))
    (h1, g1), (h2, g2) = results
    np.testing.assert_allclose(h1, h2, rtol=1e-6)
    np.testing.assert_allclose(g1, g2, rtol=1e-5, atol=1e-6)
