"""Custom ``autograd.Function`` against PyTorch: the same Function class body in both.

Each Function is built by a factory taking the library (polytorch or torch), so
the forward and backward code is literally the same; values, gradients, second
derivatives and error classes are compared on every device.
"""

from __future__ import annotations

import weakref

import numpy as np
import pytest
import torch
from helpers import host, ours, theirs

import polytorch as pt

RNG = np.random.default_rng(7)
A = RNG.uniform(0.5, 2.0, (2, 3))
B = RNG.uniform(0.5, 2.0, (2, 3))
G = RNG.standard_normal((2, 3))


def close(a, e, what=""):
    assert a is not None and e is not None, what
    assert tuple(a.shape) == tuple(e.shape), what
    np.testing.assert_allclose(host(a), host(e), rtol=1e-10, atol=1e-12, err_msg=what)


def lib(m):
    """The library namespace a Function body uses: polytorch or torch."""
    return m


def make_scaled_mul(m):
    """x * y * k with a Python scale, saved inputs, an attribute and needs_input_grad."""

    class ScaledMul(m.autograd.Function):
        @staticmethod
        def forward(ctx, x, y, k):
            ctx.save_for_backward(x, y)
            ctx.k = k
            ctx.seen_needs = ctx.needs_input_grad
            return x * y * k

        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved_tensors
            gx = grad * y * ctx.k if ctx.needs_input_grad[0] else None
            gy = grad * x * ctx.k if ctx.needs_input_grad[1] else None
            return gx, gy, None

    return ScaledMul


def make_exp(m):
    """exp, saving its output (a saved output is rebuilt with the node as grad_fn)."""

    class Exp(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            out = x.exp()
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx, grad):
            (out,) = ctx.saved_tensors
            return grad * out

    return Exp


def make_split(m):
    """Two outputs plus a non-tensor, one output non-differentiable, materialize off."""

    class Split(m.autograd.Function):
        @staticmethod
        def forward(ctx, x, materialize):
            ctx.set_materialize_grads(materialize)
            a, b, idx = x * 2, x * x, (x > 1.0)
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(x)
            return a, b, idx, "tag"

        @staticmethod
        def backward(ctx, ga, gb, gidx, gtag):
            (x,) = ctx.saved_tensors
            ctx.got = (ga is None, gb is None, gidx is None, gtag is None)
            out = 0
            if ga is not None:
                out = out + ga * 2
            if gb is not None:
                out = out + gb * 2 * x
            return out, None

    return Split


def make_inplace(m):
    """Multiplies its input in place and says so with mark_dirty."""

    class MulInPlace(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(3.0)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 3.0

    return MulInPlace


def make_setup_context(m):
    class Cube(m.autograd.Function):
        @staticmethod
        def forward(x, power=3):
            return x ** power

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, power = inputs
            ctx.save_for_backward(x)
            ctx.power = power

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * ctx.power * x ** (ctx.power - 1), None

    return Cube


def make_once(m):
    from_mod = m.autograd.function

    class Square(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @from_mod.once_differentiable
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    return Square


def both(device, *arrays):
    return ([ours(a, device, True) for a in arrays], [theirs(a, True) for a in arrays])


def test_saved_inputs_attributes_and_needs_input_grad(device):
    (x, y), (tx, ty) = both(device, A, B)
    y.requires_grad_(False)
    ty.requires_grad_(False)
    out = make_scaled_mul(pt).apply(x, y, 2.5)
    tout = make_scaled_mul(torch).apply(tx, ty, 2.5)
    close(out, tout, "forward")
    assert out.requires_grad and out.grad_fn.name() == "ScaledMulBackward"
    assert out.grad_fn.name() == tout.grad_fn.name()
    assert out.grad_fn.k == tout.grad_fn.k == 2.5  # the ctx's attributes show on grad_fn
    assert out.grad_fn.seen_needs == tout.grad_fn.seen_needs == (True, False, False)
    out.backward(ours(G, device))
    tout.backward(theirs(G))
    close(x.grad, tx.grad, "grad x")
    assert y.grad is None and ty.grad is None


def test_second_derivative_through_a_function(device):
    (x, y), (tx, ty) = both(device, A, B)
    for m, a, b in ((pt, x, y), (torch, tx, ty)):
        out = (make_scaled_mul(m).apply(a, b, 1.5) * a).sum()
        (ga,) = m.autograd.grad(out, a, create_graph=True)
        (ga * ga).sum().backward()
    close(x.grad, tx.grad, "d/dx of |grad|^2")
    close(y.grad, ty.grad, "d/dy of |grad|^2")


def test_saved_output_and_chained_functions(device):
    (x,), (tx,) = both(device, A)
    out = make_exp(pt).apply(make_exp(pt).apply(x * 0.3))
    tout = make_exp(torch).apply(make_exp(torch).apply(tx * 0.3))
    close(out, tout)
    (g,) = pt.autograd.grad(out.sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad(tout.sum(), tx, create_graph=True)
    close(g, tg, "first")
    close(pt.autograd.grad(g.sum(), x)[0], torch.autograd.grad(tg.sum(), tx)[0], "second")


@pytest.mark.parametrize("materialize", [True, False])
def test_several_outputs_non_differentiable_and_materialize(device, materialize):
    (x,), (tx,) = both(device, A)
    a, b, idx, tag = make_split(pt).apply(x, materialize)
    ta, tb, tidx, ttag = make_split(torch).apply(tx, materialize)
    assert tag == ttag == "tag"
    assert idx.dtype is pt.bool and not idx.requires_grad and not tidx.requires_grad
    assert a.grad_fn is b.grad_fn
    close(a, ta)
    close(b, tb)
    b.sum().backward()  # a gets no gradient: zeros, or None without materializing
    tb.sum().backward()
    close(x.grad, tx.grad)
    assert b.grad_fn.got == tb.grad_fn.got


def test_mark_dirty(device):
    (x,), (tx,) = both(device, A)
    h, th = x * 1.0, tx * 1.0
    out = make_inplace(pt).apply(h)
    tout = make_inplace(torch).apply(th)
    assert out is h and tout is th  # the modified input itself is returned
    assert h._version == th._version
    close(h, th)
    assert h.grad_fn.name() == th.grad_fn.name() == "MulInPlaceBackward"
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    close(x.grad, tx.grad)


def test_setup_context_style_with_defaults(device):
    (x,), (tx,) = both(device, A)
    out = make_setup_context(pt).apply(x)
    tout = make_setup_context(torch).apply(tx)
    close(out, tout)
    out.backward(ours(G, device))
    tout.backward(theirs(G))
    close(x.grad, tx.grad)


def test_input_returned_as_is_is_a_new_alias(device):
    for m, x in ((pt, ours(A, device, True)), (torch, theirs(A, True))):
        class Ident(m.autograd.Function):
            @staticmethod
            def forward(ctx, t):
                return t

            @staticmethod
            def backward(ctx, grad):
                return grad * 2

        out = Ident.apply(x)
        assert out is not x and not out.is_leaf
        out.sum().backward()
        np.testing.assert_allclose(host(x.grad), 2 * np.ones_like(A))


def test_once_differentiable(device):
    (x,), (tx,) = both(device, A)
    outs = []
    for m, a in ((pt, x), (torch, tx)):
        y = make_once(m).apply(a)
        # A seed that does not require grad: backward's result is plain, as in PyTorch.
        (g,) = m.autograd.grad(y.sum(), a, create_graph=True)
        assert not g.requires_grad
        v = (ours if m is pt else lambda arr, req: theirs(arr, req))(G, *(
            (device, True) if m is pt else (True,)))
        (g2,) = m.autograd.grad(y, a, v, create_graph=True)
        assert g2.requires_grad
        with pytest.raises(RuntimeError, match="once_differentiable"):
            g2.sum().backward()
        outs.append(g)
    close(outs[0], outs[1])


def test_version_counter_catches_a_modified_saved_tensor(device):
    for m, x in ((pt, ours(A, device, True)), (torch, theirs(A, True))):
        h = x * 1.0
        out = make_scaled_mul(m).apply(h, h, 1.0)
        with m.no_grad():
            h.add_(1.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()


def test_saved_tensors_freed_and_retain_graph(device):
    for m, x in ((pt, ours(A, device, True)), (torch, theirs(A, True))):
        out = make_scaled_mul(m).apply(x, x, 1.0).sum()
        out.backward(retain_graph=True)
        out.backward()
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            out.backward()
    assert x.grad is not None


def test_saved_intermediate_is_released_after_backward(device):
    x = ours(A, device, True)
    h = x * 2
    ref = weakref.ref(h)
    out = make_scaled_mul(pt).apply(h, h, 1.0).sum()
    del h
    assert ref() is not None
    out.backward()
    assert ref() is None  # no reference cycle: freed at once, without gc


def test_hooks_on_function_outputs_and_nodes(device):
    (x,), (tx,) = both(device, A)
    seen = {}
    for m, a in ((pt, x), (torch, tx)):
        out = make_exp(m).apply(a)
        out.register_hook(lambda g: g * 2)
        out.grad_fn.register_prehook(lambda gouts, m=m: seen.setdefault(m.__name__, []).append(
            host(gouts[0])))
        out.sum().backward()
    close(x.grad, tx.grad)
    np.testing.assert_allclose(seen["polytorch"][0], seen["torch"][0])


# -- errors ------------------------------------------------------------------------------------


def _raises_like(device, make_fn, call):
    """The same Function body raises the same exception class in both libraries."""
    with pytest.raises(Exception) as theirs_exc:
        call(make_fn(torch), theirs(A, True))
    with pytest.raises(type(theirs_exc.value)) as ours_exc:
        call(make_fn(pt), ours(A, device, True))
    return str(ours_exc.value), str(theirs_exc.value)


def _returning(grads):
    def make(m):
        class Bad(m.autograd.Function):
            @staticmethod
            def forward(ctx, x, k):
                return x * k

            @staticmethod
            def backward(ctx, grad):
                return grads(m, grad)

        return Bad

    return make


@pytest.mark.parametrize("grads, match", [
    (lambda m, g: (g,), "incorrect number of gradients"),
    (lambda m, g: (g, g), "different than None at position 2"),
    (lambda m, g: (g[0], None), "invalid gradient at index 0"),
])
def test_bad_backward_results(device, grads, match):
    ours_msg, theirs_msg = _raises_like(
        device, _returning(grads), lambda F, x: F.apply(x, 2.0).sum().backward())
    assert match in ours_msg and match in theirs_msg


def test_extra_none_gradients_are_allowed(device):
    x = ours(A, device, True)
    _returning(lambda m, g: (g, None, None))(pt).apply(x, 2.0).sum().backward()
    np.testing.assert_allclose(host(x.grad), np.ones_like(A))


def test_dirty_tensor_not_returned(device):
    def make(m):
        class D(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.mark_dirty(x)
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                return grad

        return D

    ours_msg, _ = _raises_like(device, make, lambda F, x: F.apply(x * 1.0))
    assert "marked as dirty" in ours_msg


def test_dirty_leaf_that_requires_grad(device):
    ours_msg, _ = _raises_like(device, make_inplace, lambda F, x: F.apply(x))
    assert "leaf Variable that requires grad" in ours_msg


def test_save_for_backward_of_a_non_tensor(device):
    def make(m):
        class S(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x, 3)
                return x

            @staticmethod
            def backward(ctx, grad):
                return grad

        return S

    ours_msg, theirs_msg = _raises_like(device, make, lambda F, x: F.apply(x))
    assert ours_msg == theirs_msg


def test_legacy_call_and_missing_methods(device):
    with pytest.raises(RuntimeError, match="Legacy autograd function"):
        make_exp(pt)()(ours(A, device, True))

    def make(m):
        class NoBackward(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

        return NoBackward

    ours_msg, theirs_msg = _raises_like(device, make, lambda F, x: F.apply(x).sum().backward())
    assert ours_msg == theirs_msg


def test_no_grad_apply_records_nothing(device):
    x = ours(A, device, True)
    with pt.no_grad():
        out = make_exp(pt).apply(x)
    assert out.grad_fn is None and not out.requires_grad
    out = make_exp(pt).apply(ours(A, device))
    assert out.grad_fn is None


def test_function_chain_is_iterative(device):
    """A long chain of custom Function nodes backpropagates without recursion."""
    n = 1000 if device == "cpu" else 200
    x = ours(np.array([1.0, 2.0]), device, True)
    y = x
    F = make_scaled_mul(pt)
    one = ours(np.array([1.0, 1.0]), device)
    for _ in range(n):
        y = F.apply(y, one, 1.0001)
    y.sum().backward()
    np.testing.assert_allclose(host(x.grad), [1.0001 ** n] * 2, rtol=1e-9)
