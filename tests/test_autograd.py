"""Autograd's user contract (ARCHITECTURE §5), with PyTorch as the oracle, on every backend.

backward (scalar, with a gradient), accumulation, retain_graph, create_graph,
autograd.grad, grad modes, detach / requires_grad_ / is_leaf / retain_grad,
hooks, and the iterative walk over a 100,000-op chain that frees the graph.
"""

from __future__ import annotations

import gc
import math
import time
import warnings
import weakref

import numpy as np
import pytest
import torch
from helpers import host, ours, theirs

import polytorch as pt


def assert_same(a, e, what="", rtol=2e-5, atol=2e-6):
    assert a is not None, f"{what}: got None"
    assert isinstance(a, pt.Tensor), f"{what}: got {type(a)}"
    assert tuple(a.shape) == tuple(e.shape), f"{what}: shape {tuple(a.shape)} vs {tuple(e.shape)}"
    assert a.dtype.name == str(e.dtype).removeprefix("torch."), f"{what}: {a.dtype} vs {e.dtype}"
    np.testing.assert_allclose(host(a), host(e), rtol=rtol, atol=atol, err_msg=what)


RNG = np.random.default_rng(1234)
A23 = RNG.standard_normal((2, 3)).astype(np.float32)
B3 = RNG.standard_normal((3,)).astype(np.float32)
G23 = RNG.standard_normal((2, 3)).astype(np.float32)


# -- backward ----------------------------------------------------------------------------


def test_backward_of_a_scalar(device):
    x, t = ours(A23, device, True), theirs(A23, True)
    (x * x * 3 + x.exp()).sum().backward()
    (t * t * 3 + t.exp()).sum().backward()
    assert_same(x.grad, t.grad, "scalar backward")
    assert x.grad.device == x.device
    assert not x.grad.requires_grad and x.grad.grad_fn is None


def test_backward_with_a_gradient_argument(device):
    x, t = ours(A23, device, True), theirs(A23, True)
    (x.tanh() * 2).backward(ours(G23, device))
    (t.tanh() * 2).backward(theirs(G23))
    assert_same(x.grad, t.grad, "backward(gradient)")


def test_backward_of_a_non_scalar_without_gradient_raises(device):
    x = ours(A23, device, True)
    with pytest.raises(RuntimeError) as exc_t:
        (theirs(A23, True) * 2).backward()
    with pytest.raises(type(exc_t.value), match="scalar"):
        (x * 2).backward()
    assert x.grad is None


def test_autograd_backward_function_with_several_roots(device):
    x, t = ours(A23, device, True), theirs(A23, True)
    pt.autograd.backward([(x * 2).sum(), x.exp()], [None, ours(G23, device)])
    torch.autograd.backward([(t * 2).sum(), t.exp()], [None, theirs(G23)])
    assert_same(x.grad, t.grad, "autograd.backward")


def test_backward_accumulates_into_leaf_grad(device):
    x, t = ours(A23, device, True), theirs(A23, True)
    b, tb = ours(B3, device, True), theirs(B3, True)
    (x * b).sum().backward()
    (t * tb).sum().backward()
    assert_same(x.grad, t.grad, "first backward")
    first = host(x.grad).copy()
    (x.sigmoid() * b).sum().backward()
    (t.sigmoid() * tb).sum().backward()
    assert_same(x.grad, t.grad, "accumulated x.grad")
    assert_same(b.grad, tb.grad, "accumulated b.grad (broadcast)")
    assert not np.allclose(host(x.grad), first)


def test_a_leaf_used_twice_gets_the_sum(device):
    x, t = ours(B3, device, True), theirs(B3, True)
    (x * x + x * 3 + x.exp() * x).sum().backward()
    (t * t + t * 3 + t.exp() * t).sum().backward()
    assert_same(x.grad, t.grad, "x used many times")


def test_leaf_grad_owns_its_memory(device):
    """Two inputs of one add get separate .grad tensors: changing one leaves the other."""
    a, b = ours(B3, device, True), ours(B3, device, True)
    (a + b).sum().backward()
    with pt.no_grad():
        a.grad.mul_(5)
    np.testing.assert_allclose(host(b.grad), np.ones(3, np.float32))
    np.testing.assert_allclose(host(a.grad), 5 * np.ones(3, np.float32))


def test_diamond_graph(device):
    x, t = ours(A23, device, True), theirs(A23, True)

    def f(lib, v):
        h = v.tanh()
        a, b = h * 2, h.exp()
        return (a * b + lib.sigmoid(h)).sum()

    f(pt, x).backward()
    f(torch, t).backward()
    assert_same(x.grad, t.grad, "diamond")


# -- retain_graph ---------------------------------------------------------------------------


def test_retain_graph_allows_a_second_backward(device):
    x, t = ours(A23, device, True), theirs(A23, True)
    y, ty = (x.exp() * x).sum(), (t.exp() * t).sum()
    y.backward(retain_graph=True)
    ty.backward(retain_graph=True)
    y.backward()
    ty.backward()
    assert_same(x.grad, t.grad, "two backwards with retain_graph")


def test_second_backward_without_retain_graph_raises_and_leaves_grad(device):
    x = ours(A23, device, True)
    y = (x.exp() * x).sum()
    y.backward()
    before = host(x.grad).copy()

    t = theirs(A23, True)
    ty = (t.exp() * t).sum()
    ty.backward()
    with pytest.raises(RuntimeError) as exc_t:
        ty.backward()
    assert "backward through the graph a second time" in str(exc_t.value)

    with pytest.raises(type(exc_t.value), match="backward through the graph a second time"):
        y.backward()
    np.testing.assert_array_equal(host(x.grad), before)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        pt.autograd.grad(y, x)
    np.testing.assert_array_equal(host(x.grad), before)


def test_second_backward_raises_even_when_the_failing_node_is_deep(device):
    """The error comes from a node past others that could already deliver to leaves."""
    x, w = ours(A23, device, True), ours(B3, device, True)
    y = ((x * 2).exp() + w).sum()
    y.backward()
    gx, gw = host(x.grad).copy(), host(w.grad).copy()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()
    np.testing.assert_array_equal(host(x.grad), gx)
    np.testing.assert_array_equal(host(w.grad), gw)


def test_backward_twice_through_ops_that_save_nothing(device):
    """PyTorch allows it (nothing was freed); gradients accumulate."""
    x, t = ours(A23, device, True), theirs(A23, True)
    y, ty = (-(x + 1)).sum(), (-(t + 1)).sum()
    y.backward()
    y.backward()
    ty.backward()
    ty.backward()
    assert_same(x.grad, t.grad, "twice without saved tensors")


@pytest.mark.parametrize("expr", [
    "(v + 1).sum()",            # saves nothing: a second backward works
    "(v - c).sum() * 1.0",      # the scalar multiply saves the wrapped number: it fails
    "(v * c).sum()",            # saves c (a tensor without grad): fails
    "v.reshape(6).sum()",
    "v.exp().sum()",
])
def test_second_backward_without_retain_graph_matches_pytorch(device, expr):
    """A second backward fails exactly when the first freed saved values, as in PyTorch."""
    x, t = ours(A23, device, True), theirs(A23, True)
    c, tc = ours(B3, device), theirs(B3)
    y, ty = eval(expr, {"v": x, "c": c}), eval(expr, {"v": t, "c": tc})
    y.backward()
    ty.backward()
    try:
        ty.backward()
        torch_raised = False
    except RuntimeError:
        torch_raised = True
    if torch_raised:
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            y.backward()
    else:
        y.backward()
    assert_same(x.grad, t.grad, expr)


# -- create_graph -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["cube", "tanh", "sigmoid", "exp_log", "div", "relu_mul"])
def test_second_derivative(device, name):
    fns = {
        "cube": lambda lib, v: v**3,
        "tanh": lambda lib, v: lib.tanh(v),
        "sigmoid": lambda lib, v: lib.sigmoid(v),
        "exp_log": lambda lib, v: lib.exp(v) * lib.log(v * v + 1),
        "div": lambda lib, v: 1 / (v * v + 2),
        "relu_mul": lambda lib, v: lib.relu(v) * v * v,
    }
    fn = fns[name]
    x, t = ours(B3, device, True), theirs(B3, True)
    (gx,) = pt.autograd.grad(fn(pt, x).sum(), x, create_graph=True)
    (gt,) = torch.autograd.grad(fn(torch, t).sum(), t, create_graph=True)
    assert_same(gx, gt, f"d/dx {name}")
    assert gx.requires_grad and gx.grad_fn is not None
    (ggx,) = pt.autograd.grad(gx.sum(), x)
    (ggt,) = torch.autograd.grad(gt.sum(), t)
    assert_same(ggx, ggt, f"d2/dx2 {name}", rtol=1e-4, atol=1e-5)


def test_second_derivative_analytic(device):
    """Against closed forms in NumPy float64: d2/dx2 of x**3, tanh and sigmoid."""
    a = np.array([-1.5, -0.3, 0.4, 2.0])
    x = ours(a, device, True)
    th, sg = np.tanh(a), 1 / (1 + np.exp(-a))
    cases = [
        (lambda v: v**3, 6 * a),
        (pt.tanh, -2 * th * (1 - th**2)),
        (pt.sigmoid, sg * (1 - sg) * (1 - 2 * sg)),
    ]
    for fn, expected in cases:
        (g,) = pt.autograd.grad(fn(x).sum(), x, create_graph=True)
        (gg,) = pt.autograd.grad(g.sum(), x)
        np.testing.assert_allclose(host(gg), expected, rtol=1e-10, atol=1e-12)


def test_third_derivative_of_cube(device):
    x = ours(np.array([0.5, -2.0]), device, True)
    (g,) = pt.autograd.grad((x**3).sum(), x, create_graph=True)
    (gg,) = pt.autograd.grad(g.sum(), x, create_graph=True)
    (ggg,) = pt.autograd.grad(gg.sum(), x)
    np.testing.assert_allclose(host(ggg), [6.0, 6.0])


def test_double_backward_of_an_mlp_expression(device):
    """A gradient penalty: d/dW of ||d f / d x||^2 for f = sum(tanh(x W^T + b) @ v)."""
    rng = np.random.default_rng(7)
    xa = rng.standard_normal((4, 3)).astype(np.float32)
    wa = rng.standard_normal((5, 3)).astype(np.float32)
    ba = rng.standard_normal((5,)).astype(np.float32)
    va = rng.standard_normal((5,)).astype(np.float32)

    def run(lib, mk):
        x, w, b, v = mk(xa, True), mk(wa, True), mk(ba, True), mk(va, False)
        h = lib.tanh(x @ w.T + b)
        s = lib.sigmoid(h * 2) * h
        f = (s @ v).sum()
        (gx,) = lib.autograd.grad(f, x, create_graph=True)
        penalty = (gx * gx).sum() + f
        penalty.backward()
        return gx, penalty, x.grad, w.grad, b.grad

    got = run(pt, lambda a, r: ours(a, device, r))
    ref = run(torch, theirs)
    for name, a, e in zip(["gx", "penalty", "x.grad", "w.grad", "b.grad"], got, ref):
        assert_same(a, e, name, rtol=1e-4, atol=1e-5)


def test_backward_with_create_graph_makes_grad_differentiable(device):
    x, t = ours(B3, device, True), theirs(B3, True)
    (x**4).sum().backward(create_graph=True)
    with warnings.catch_warnings():  # PyTorch warns about the .grad <-> graph cycle
        warnings.simplefilter("ignore", UserWarning)
        (t**4).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    gx, gt = x.grad, t.grad
    (ggx,) = pt.autograd.grad(gx.sum(), x)
    (ggt,) = torch.autograd.grad(gt.sum(), t)
    assert_same(ggx, ggt, "x.grad differentiated", rtol=1e-4)


# -- autograd.grad ------------------------------------------------------------------------------


def test_grad_of_multiple_inputs_does_not_touch_grad(device):
    x, t = ours(A23, device, True), theirs(A23, True)
    b, tb = ours(B3, device, True), theirs(B3, True)
    gx, gb = pt.autograd.grad((x * b).exp().sum(), [x, b])
    rx, rb = torch.autograd.grad((t * tb).exp().sum(), [t, tb])
    assert_same(gx, rx, "dx")
    assert_same(gb, rb, "db")
    assert x.grad is None and b.grad is None
    assert not gx.requires_grad


def test_grad_with_grad_outputs(device):
    x, t = ours(A23, device, True), theirs(A23, True)
    (gx,) = pt.autograd.grad(x.sigmoid(), x, ours(G23, device))
    (gt,) = torch.autograd.grad(t.sigmoid(), t, theirs(G23))
    assert_same(gx, gt, "grad_outputs")


def test_grad_allow_unused(device):
    x, y = ours(B3, device, True), ours(B3, device, True)
    with pytest.raises(RuntimeError) as exc_t:
        tx, ty = theirs(B3, True), theirs(B3, True)
        torch.autograd.grad((tx * 2).sum(), [tx, ty])
    with pytest.raises(type(exc_t.value), match="allow_unused"):
        pt.autograd.grad((x * 2).sum(), [x, y])
    gx, gy = pt.autograd.grad((x * 2).sum(), [x, y], allow_unused=True)
    np.testing.assert_allclose(host(gx), 2 * np.ones(3))
    assert gy is None
    gx, gy = pt.autograd.grad((x * 2).sum(), [x, y], materialize_grads=True)
    np.testing.assert_allclose(host(gy), np.zeros(3))


def test_grad_with_respect_to_non_leaf_inputs(device):
    x, t = ours(A23, device, True), theirs(A23, True)
    h, th = x.tanh(), t.tanh()
    m, tm = h * 3, th * 3
    out, tout = (m.exp() * h).sum(), (tm.exp() * th).sum()
    gh, gm, gx = pt.autograd.grad(out, [h, m, x])
    rh, rm, rx = torch.autograd.grad(tout, [th, tm, t])
    assert_same(gh, rh, "d out / d h (used twice)")
    assert_same(gm, rm, "d out / d m")
    assert_same(gx, rx, "d out / d x")
    assert x.grad is None


def test_grad_of_a_non_leaf_view(device):
    x, t = ours(A23, device, True), theirs(A23, True)
    v, tv = (x * 2)[1], (t * 2)[1]
    (gv,) = pt.autograd.grad((v**2).sum(), v)
    (rv,) = torch.autograd.grad((tv**2).sum(), tv)
    assert_same(gv, rv, "grad wrt a view")


def test_grad_of_input_that_does_not_require_grad_raises(device):
    x = ours(B3, device, True)
    c = ours(B3, device)
    with pytest.raises(RuntimeError) as exc_t:
        tx, tc = theirs(B3, True), theirs(B3)
        torch.autograd.grad((tx * tc).sum(), tc)
    with pytest.raises(type(exc_t.value)):
        pt.autograd.grad((x * c).sum(), c)


def test_grad_retain_graph(device):
    x = ours(B3, device, True)
    y = (x.exp() * x).sum()
    (g1,) = pt.autograd.grad(y, x, retain_graph=True)
    (g2,) = pt.autograd.grad(y, x)
    np.testing.assert_array_equal(host(g1), host(g2))
    with pytest.raises(RuntimeError, match="second time"):
        pt.autograd.grad(y, x)


# -- grad modes ---------------------------------------------------------------------------------


def test_no_grad_and_enable_grad_context_managers(device):
    x = ours(B3, device, True)
    with pt.no_grad():
        assert not pt.is_grad_enabled()
        y = x * 2
        with pt.enable_grad():
            assert pt.is_grad_enabled()
            z = x * 2
        assert not pt.is_grad_enabled()
    assert pt.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    assert z.requires_grad and z.grad_fn is not None


def test_grad_mode_restored_after_an_exception(device):
    x = ours(B3, device, True)
    with pytest.raises(ZeroDivisionError):
        with pt.no_grad():
            raise ZeroDivisionError
    assert pt.is_grad_enabled()
    assert (x * 2).requires_grad


def test_grad_modes_as_decorators(device):
    x = ours(B3, device, True)

    @pt.no_grad()
    def f(v):
        assert not pt.is_grad_enabled()
        return v * 2

    @pt.enable_grad()
    def g(v):
        return v * 2

    @pt.set_grad_enabled(False)
    def h(v):
        return v * 2

    assert pt.is_grad_enabled()  # decorating changes nothing
    assert not f(x).requires_grad
    assert pt.is_grad_enabled()
    with pt.no_grad():
        assert g(x).requires_grad
        assert not pt.is_grad_enabled()
    assert not h(x).requires_grad
    assert pt.is_grad_enabled()
    assert f.__name__ == "f"


def test_no_grad_as_a_bare_decorator(device):
    """``@torch.no_grad`` (without parentheses) works in PyTorch 2."""

    def body(v):
        return v * 2

    t = theirs(B3, True)
    assert not torch.no_grad(body)(t).requires_grad  # the oracle
    x = ours(B3, device, True)
    assert not pt.no_grad(body)(x).requires_grad
    assert pt.enable_grad(body)(x).requires_grad


def test_set_grad_enabled_as_function_and_context(device):
    x = ours(B3, device, True)
    pt.set_grad_enabled(False)
    try:
        assert not pt.is_grad_enabled()
        assert not (x * 2).requires_grad
    finally:
        pt.set_grad_enabled(True)
    assert (x * 2).requires_grad
    with pt.set_grad_enabled(False):
        assert not (x * 2).requires_grad
        with pt.set_grad_enabled(True):
            assert (x * 2).requires_grad
        assert not pt.is_grad_enabled()
    assert pt.is_grad_enabled()


def test_ops_under_no_grad_then_backward_uses_constants(device):
    x, t = ours(B3, device, True), theirs(B3, True)
    with pt.no_grad():
        c = x.exp()
    with torch.no_grad():
        tc = t.exp()
    (c * x).sum().backward()
    (tc * t).sum().backward()
    assert_same(x.grad, t.grad, "no_grad constant")


# -- detach, requires_grad_, is_leaf, retain_grad -------------------------------------------------


def test_detach(device):
    x, t = ours(A23, device, True), theirs(A23, True)
    y, ty = x * 2, t * 2
    d, td = y.detach(), ty.detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    np.testing.assert_array_equal(host(d), host(td))
    (y * d).sum().backward()
    (ty * td).sum().backward()
    assert_same(x.grad, t.grad, "detached factor is a constant")


def test_requires_grad_(device):
    x = ours(A23, device)
    assert not x.requires_grad and x.is_leaf
    assert x.requires_grad_() is x
    assert x.requires_grad and x.is_leaf
    x.requires_grad_(False)
    assert not x.requires_grad
    x.requires_grad = True
    assert x.requires_grad
    y = x * 2
    with pytest.raises(RuntimeError) as exc_t:
        (theirs(A23, True) * 2).requires_grad_(False)
    with pytest.raises(type(exc_t.value)):
        y.requires_grad_(False)
    assert y.requires_grad_() is y  # True on a non-leaf is fine


def test_is_leaf(device):
    x = ours(A23, device, True)
    c = ours(A23, device)
    assert x.is_leaf and c.is_leaf
    assert not (x * 2).is_leaf
    assert (c * 2).is_leaf  # no grad required: a leaf, as in PyTorch
    assert x.detach().is_leaf
    with pt.no_grad():
        assert (x * 2).is_leaf
    assert not x[0].is_leaf
    assert not x.reshape(-1).is_leaf


def test_retain_grad(device):
    x, t = ours(A23, device, True), theirs(A23, True)
    h, th = x.tanh(), t.tanh()
    h.retain_grad()
    th.retain_grad()
    assert h.retains_grad
    m, tm = h * h, th * th
    (m.exp().sum() + h.sum()).backward()
    (tm.exp().sum() + th.sum()).backward()
    assert_same(h.grad, th.grad, "retained h.grad")
    assert_same(x.grad, t.grad, "x.grad")
    # a second backward accumulates into the retained grad too
    h2, th2 = x.sigmoid(), t.sigmoid()
    h2.retain_grad()
    th2.retain_grad()
    (h2 * 3).sum().backward()
    (th2 * 3).sum().backward()
    assert_same(h2.grad, th2.grad, "retained h2.grad")


def test_retain_grad_on_a_leaf_is_a_no_op(device):
    x = ours(B3, device, True)
    x.retain_grad()
    (x * 2).sum().backward()
    np.testing.assert_allclose(host(x.grad), 2 * np.ones(3))


# -- hooks ---------------------------------------------------------------------------------------


def test_hook_on_a_leaf_modifies_its_grad(device):
    x, t = ours(A23, device, True), theirs(A23, True)
    seen = []
    x.register_hook(lambda g: seen.append(host(g).copy()) or g * 2)
    t.register_hook(lambda g: g * 2)
    (x.exp() * 3).sum().backward()
    (t.exp() * 3).sum().backward()
    assert_same(x.grad, t.grad, "leaf hook doubles")
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], host(t.grad) / 2, rtol=1e-6)


def test_hook_on_a_non_leaf_modifies_what_flows_on(device):
    x, t = ours(A23, device, True), theirs(A23, True)
    h, th = x.tanh(), t.tanh()
    h.register_hook(lambda g: g * 3 + 1)
    th.register_hook(lambda g: g * 3 + 1)
    (h * h).sum().backward()
    (th * th).sum().backward()
    assert_same(x.grad, t.grad, "non-leaf hook")


def test_hook_that_returns_none_only_observes(device):
    x = ours(B3, device, True)
    seen = []
    h = x * 2
    h.register_hook(lambda g: seen.append(host(g).copy()))
    (h * 5).sum().backward()
    np.testing.assert_allclose(seen[0], 5 * np.ones(3))
    np.testing.assert_allclose(host(x.grad), 10 * np.ones(3))


def test_hook_handle_remove(device):
    x = ours(B3, device, True)
    handle = x.register_hook(lambda g: g * 100)
    handle.remove()
    (x * 2).sum().backward()
    np.testing.assert_allclose(host(x.grad), 2 * np.ones(3))


def test_hook_sees_retained_grad_order(device):
    """retain_grad stores the gradient after the tensor's hooks ran (as in PyTorch)."""
    x, t = ours(B3, device, True), theirs(B3, True)
    h, th = x * 2, t * 2
    h.retain_grad()
    th.retain_grad()
    h.register_hook(lambda g: g * 10)
    th.register_hook(lambda g: g * 10)
    (h * 3).sum().backward()
    (th * 3).sum().backward()
    assert_same(h.grad, th.grad, "retained grad with a hook")
    assert_same(x.grad, t.grad, "x.grad with a hook")


def test_hook_on_a_tensor_that_does_not_require_grad_raises(device):
    with pytest.raises(RuntimeError) as exc_t:
        theirs(B3).register_hook(lambda g: g)
    with pytest.raises(type(exc_t.value)):
        ours(B3, device).register_hook(lambda g: g)


# -- deep graphs -------------------------------------------------------------------------------

CHAIN = 100_000


@pytest.mark.slow
@pytest.mark.parametrize("chain_device", ["cpu", "cpu@jax"])
def test_100k_op_chain_backpropagates_and_frees_the_graph(chain_device):
    """No RecursionError in backward or in freeing the graph; the gradient is right."""
    start = time.perf_counter()
    x = pt.tensor([1.0, 2.0], dtype=pt.float64, device=chain_device, requires_grad=True)
    y = x
    mid_ref = None
    for i in range(CHAIN):
        y = y * 1.0000001
        if i == CHAIN // 2:
            mid_ref = weakref.ref(y.grad_fn)
            mid_tensor_ref = weakref.ref(y)
    assert mid_ref() is not None
    y.sum().backward()
    expected = math.pow(1.0000001, CHAIN)
    np.testing.assert_allclose(host(x.grad), [expected, expected], rtol=1e-9)
    del y
    gc.collect()
    assert mid_tensor_ref() is None
    assert mid_ref() is None, "the graph was not freed after dropping the output"
    assert time.perf_counter() - start < 60


@pytest.mark.slow
def test_deep_chain_of_nodes_is_freed_without_backward():
    """Dropping a 100k-node graph that never ran backward must not overflow the C stack."""
    x = pt.tensor([1.0], device="cpu", requires_grad=True)
    y = x
    for _ in range(CHAIN):
        y = y + 1.0
    ref = weakref.ref(y.grad_fn)
    del y
    gc.collect()
    assert ref() is None


def test_saved_tensors_are_released_after_backward(device):
    """An intermediate held only as a saved value is freed by backward (no retain_graph)."""
    x = ours(A23, device, True)
    h = x * 2
    ref = weakref.ref(h)
    out = (h * h).sum()  # mul saves h
    del h
    gc.collect()
    assert ref() is not None, "mul should hold its saved input until backward"
    out.backward()
    gc.collect()
    assert ref() is None, "backward without retain_graph must release saved tensors"
    del out


def test_saved_tensors_kept_with_retain_graph(device):
    x = ours(A23, device, True)
    h = x * 2
    ref = weakref.ref(h)
    out = (h * h).sum()
    del h
    out.backward(retain_graph=True)
    gc.collect()
    assert ref() is not None
    out.backward()
    gc.collect()
    assert ref() is None


def test_graph_is_freed_when_the_output_is_dropped(device):
    x = ours(A23, device, True)
    y = (x.exp() * x).tanh()
    node = weakref.ref(y.grad_fn)
    first = weakref.ref(y.grad_fn.next_functions[0][0])
    y.sum().backward()
    del y
    gc.collect()
    assert node() is None and first() is None


def test_grad_fn_and_next_functions(device):
    x = ours(B3, device, True)
    y = (x * 2).exp()
    assert y.grad_fn is not None
    assert "Exp" in y.grad_fn.name()
    ((mul_fn, _),) = y.grad_fn.next_functions
    assert "Mul" in mul_fn.name()
    leaf_fn = mul_fn.next_functions[0][0]
    assert leaf_fn.name() == "AccumulateGrad" and leaf_fn.variable is x
