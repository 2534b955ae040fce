"""``autograd.functional`` and ``gradcheck`` / ``gradgradcheck`` against PyTorch's.

Same functions in both libraries (written against a namespace argument), same
inputs: results, their structure (tuple or tensor), ``create_graph`` and the
strict-mode and argument errors.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
import torch.autograd.functional as TF
from helpers import host
from torch.autograd.gradcheck import GradcheckError as TorchGradcheckError

import polytorch as pt
import polytorch.autograd.functional as PF

RNG = np.random.default_rng(3)
A = RNG.uniform(-1, 1, (2, 2))  # small: jacobian and hessian take a backward per element
B = RNG.uniform(-1, 1, (2,))
V = RNG.uniform(-1, 1, (2, 2))


def P(device):
    return lambda a, req=False: pt.tensor(a, dtype=pt.float64, device=device, requires_grad=req)


def T(a, req=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=req)


def same(ours, theirs, path="result"):
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs), f"{path}: {type(ours)}"
        for i, (o, t) in enumerate(zip(ours, theirs)):
            same(o, t, f"{path}[{i}]")
        return
    assert isinstance(ours, pt.Tensor), f"{path}: {type(ours)}"
    assert tuple(ours.shape) == tuple(theirs.shape), path
    assert ours.requires_grad == theirs.requires_grad, path
    np.testing.assert_allclose(host(ours), host(theirs), rtol=1e-9, atol=1e-12, err_msg=path)


def two(x, y):
    return (x * y).tanh() * x.exp()


def scalar(x, y):
    return (two(x, y) * x).sum() + (y * y * y).sum()


def one(x):
    return (x * x * x).tanh()


CASES = [
    ("vjp two", lambda F, p: F.vjp(two, (p(A), p(B)), p(V))),
    ("vjp one", lambda F, p: F.vjp(one, p(A), p(V))),
    ("vjp scalar v=None", lambda F, p: F.vjp(scalar, (p(A), p(B)))),
    ("jvp two", lambda F, p: F.jvp(two, (p(A), p(B)), (p(V), p(B)))),
    ("jvp one", lambda F, p: F.jvp(one, p(A), p(V))),
    ("jacobian two", lambda F, p: F.jacobian(two, (p(A), p(B)))),
    ("jacobian one", lambda F, p: F.jacobian(one, p(B))),
    ("jacobian tuple out", lambda F, p: F.jacobian(lambda x: (x * 2, x.exp()), p(B))),
    ("hessian two", lambda F, p: F.hessian(scalar, (p(A), p(B)))),
    ("hessian one", lambda F, p: F.hessian(lambda x: (x * x * x).sum(), p(B))),
    ("hvp", lambda F, p: F.hvp(scalar, (p(A), p(B)), (p(V), p(B)))),
    ("vhp", lambda F, p: F.vhp(scalar, (p(A), p(B)), (p(V), p(B)))),
    ("vhp one", lambda F, p: F.vhp(lambda x: (x * x * x).sum(), p(B), p(B))),
]


def test_functional_matches_pytorch(device):
    p = P(device)
    for name, case in CASES:
        same(case(PF, p), case(TF, T), name)


def test_create_graph_results_are_differentiable(device):
    p = P(device)
    x, tx = p(B, True), T(B, True)
    for F, a in ((PF, x), (TF, tx)):
        _, g = F.vjp(lambda t: (t * t * t).sum(), a, create_graph=True)
        h = F.jacobian(lambda t: t * t * t, a, create_graph=True)
        (g.sum() + h.sum()).backward()
    assert x.grad is not None
    np.testing.assert_allclose(host(x.grad), host(tx.grad), rtol=1e-10)


def _both_raise(call, device, match):
    with pytest.raises(Exception) as exc_t:
        call(TF, T)
    with pytest.raises(type(exc_t.value), match=match):
        call(PF, P(device))
    assert re.search(match, str(exc_t.value))


@pytest.mark.parametrize("call, match", [
    (lambda F, p: F.vjp(two, (p(A), p(B))), "v can only be None"),
    (lambda F, p: F.jvp(two, (p(A), p(B)), (p(V),)), "v is a tuple of invalid length"),
    (lambda F, p: F.jvp(one, p(A), p(B)), "v has invalid size"),
    (lambda F, p: F.vjp(lambda x: x.detach() * 2, p(B), p(B), strict=True),
     "does not require gradients"),
    (lambda F, p: F.jacobian(lambda x, y: x * 2, (p(B), p(B)), strict=True),
     "independent of input 1"),
    (lambda F, p: F.hessian(lambda x: x * 2, p(B)), "should contain a single element"),
    (lambda F, p: F.vjp(one, [1.0]), "must be either a Tensor or a tuple of Tensors"),
])
def test_functional_errors(device, call, match):
    _both_raise(call, device, match)


# -- gradcheck / gradgradcheck ---------------------------------------------------------------


def test_gradcheck_and_gradgradcheck_pass(float64_device):
    p = P(float64_device)
    x, y = p(A, True), p(B, True)
    for fast in (False, True):
        assert pt.autograd.gradcheck(two, (x, y), fast_mode=fast)
        assert pt.autograd.gradgradcheck(two, (x, y), fast_mode=fast)
    assert pt.testing.gradcheck(lambda t: (t * t).sum(), (x,))  # the old spelling
    assert pt.autograd.gradcheck(lambda t: (t * 2, t > 0), x)  # non-differentiable output


def _wrong_backward(m, k):
    class Wrong(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * k * x  # correct only for k == 2

    return Wrong


@pytest.mark.parametrize("fast", [False, True])
def test_gradcheck_reports_a_wrong_rule_like_pytorch(float64_device, fast):
    x, tx = P(float64_device)(B, True), T(B, True)
    with pytest.raises(TorchGradcheckError) as exc_t:
        torch.autograd.gradcheck(_wrong_backward(torch, 3).apply, (tx,), fast_mode=fast)
    with pytest.raises(pt.autograd.GradcheckError) as exc:
        pt.autograd.gradcheck(_wrong_backward(pt, 3).apply, (x,), fast_mode=fast)
    assert isinstance(exc.value, RuntimeError)
    head = "Jacobian mismatch for output 0 with respect to input 0,\nnumerical:"
    assert str(exc.value).startswith(head) and str(exc_t.value).startswith(head)
    assert not pt.autograd.gradcheck(_wrong_backward(pt, 3).apply, (x,), raise_exception=False)
    assert pt.autograd.gradcheck(_wrong_backward(pt, 2).apply, (x,), fast_mode=fast)


def test_gradgradcheck_catches_a_wrong_second_derivative(float64_device):
    """once-correct, twice-wrong: the backward uses a detached input."""
    x = P(float64_device)(B, True)

    class DetachedSaved(pt.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t.detach())
            return t * t

        @staticmethod
        def backward(ctx, grad):
            (t,) = ctx.saved_tensors
            return 2 * t * grad

    assert pt.autograd.gradcheck(DetachedSaved.apply, (x,))
    for fast in (False, True):
        with pytest.raises(pt.autograd.GradcheckError, match="Jacobian mismatch"):
            pt.autograd.gradgradcheck(DetachedSaved.apply, (x,), fast_mode=fast)


def test_gradcheck_argument_errors_and_warnings(float64_device):
    p = P(float64_device)
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        pt.autograd.gradcheck(lambda t: t * 2, (p(B),))
    x32 = pt.tensor(B, dtype=pt.float32, device=float64_device, requires_grad=True)
    with pytest.warns(UserWarning, match="not a double precision"):
        pt.autograd.gradcheck(lambda t: t * 2, (x32,), atol=1e-2, rtol=1e-2, eps=1e-3)
    with pytest.raises(NotImplementedError):
        pt.autograd.gradcheck(lambda t: t * 2, (p(B, True),), check_forward_ad=True)
