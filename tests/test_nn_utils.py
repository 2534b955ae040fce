"""nn.utils (gradient clipping, parameter/vector conversion) against torch.nn.utils."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import polytorch as pt
from polytorch import nn

SHAPES = [(3, 4), (5,), (2, 2, 2)]


def _pair(scale, device="cpu", dtype=np.float32):
    """The same parameters with the same gradients in both libraries."""
    rng = np.random.default_rng(7)
    ours, theirs = [], []
    for shape in SHAPES:
        v = rng.standard_normal(shape).astype(dtype)
        g = (rng.standard_normal(shape) * scale).astype(dtype)
        p = nn.Parameter(pt.tensor(v, device=device))
        p.grad = pt.tensor(g, device=device)
        q = torch.nn.Parameter(torch.tensor(v))
        q.grad = torch.tensor(g)
        ours.append(p)
        theirs.append(q)
    # A parameter without gradient is skipped by both.
    ours.append(nn.Parameter(pt.ones(2, device=device)))
    theirs.append(torch.nn.Parameter(torch.ones(2)))
    return ours, theirs


def _host(t):
    return t.detach().cpu().numpy()


@pytest.mark.parametrize("norm_type", [2.0, 1, float("inf"), 3.5])
@pytest.mark.parametrize("max_norm", [0.5, 1e4])  # clipping, and a no-op
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, theirs = _pair(scale=2.0)
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    ref = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, pt.Tensor) and total.ndim == 0 and total.dtype == pt.float32
    np.testing.assert_allclose(total.item(), ref.item(), rtol=1e-5)
    for p, q in zip(ours, theirs):
        if q.grad is None:
            assert p.grad is None
        else:
            np.testing.assert_allclose(_host(p.grad), q.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_clip_grad_norm_against_numpy_float64():
    ours, _ = _pair(scale=3.0, dtype=np.float64)
    grads = [_host(p.grad).copy() for p in ours if p.grad is not None]
    flat = np.concatenate([g.ravel() for g in grads])
    total = nn.utils.clip_grad_norm_(ours, 1.0)
    np.testing.assert_allclose(total.item(), np.linalg.norm(flat), rtol=1e-12)
    coef = min(1.0, 1.0 / (np.linalg.norm(flat) + 1e-6))
    for p, g in zip(ours, grads):
        np.testing.assert_allclose(_host(p.grad), g * coef, rtol=1e-12)


def test_clip_grad_norm_single_tensor_generator_and_empty():
    p = nn.Parameter(pt.ones(4))
    p.grad = pt.full((4,), 2.0)
    np.testing.assert_allclose(nn.utils.clip_grad_norm_(p, 1.0).item(), 4.0)
    np.testing.assert_allclose(_host(p.grad), np.full(4, 2.0 / (4.0 + 1e-6)), rtol=1e-6)
    net = nn.Module()
    net.w = nn.Parameter(pt.ones(2))
    net.w.grad = pt.full((2,), 3.0)
    nn.utils.clip_grad_norm_(net.parameters(), 1.0)
    np.testing.assert_allclose(_host(net.w.grad), np.full(2, 3.0 / (math.sqrt(18) + 1e-6)),
                               rtol=1e-6)
    assert nn.utils.clip_grad_norm_([nn.Parameter(pt.ones(1))], 1.0).item() == 0.0
    with pytest.warns(UserWarning, match="empty generator"):
        nn.utils.clip_grad_norm_((p for p in []), 1.0)


def test_clip_grad_norm_nonfinite():
    ours, theirs = _pair(scale=1.0)
    with pt.no_grad():
        ours[0].grad[0, 0] = float("inf")
    theirs[0].grad[0, 0] = float("inf")
    with pytest.raises(RuntimeError) as err:
        nn.utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError) as ref:
        torch.nn.utils.clip_grad_norm_(theirs, 1.0, error_if_nonfinite=True)
    assert str(err.value) == str(ref.value)
    assert math.isinf(_host(ours[0].grad)[0, 0])  # nothing was scaled
    total = nn.utils.clip_grad_norm_(ours, 1.0)
    assert math.isinf(total.item())


@pytest.mark.parametrize("clip", [0.1, 1.5])
def test_clip_grad_value_matches_torch(clip):
    ours, theirs = _pair(scale=2.0)
    assert nn.utils.clip_grad_value_(ours, clip) is None
    torch.nn.utils.clip_grad_value_(theirs, clip)
    for p, q in zip(ours, theirs):
        if q.grad is not None:
            np.testing.assert_array_equal(_host(p.grad), q.grad.numpy())


def test_get_total_norm_and_clip_grads_with_norm():
    ours, theirs = _pair(scale=2.0)
    grads = [p.grad for p in ours if p.grad is not None]
    total = nn.utils.get_total_norm(grads, 2.0)
    ref = torch.nn.utils.get_total_norm([q.grad for q in theirs if q.grad is not None], 2.0)
    np.testing.assert_allclose(total.item(), ref.item(), rtol=1e-6)
    nn.utils.clip_grads_with_norm_(ours, 1.0, total)
    torch.nn.utils.clip_grads_with_norm_(theirs, 1.0, ref)
    for p, q in zip(ours, theirs):
        if q.grad is not None:
            np.testing.assert_allclose(_host(p.grad), q.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("norm_type", [2.0, float("inf")])
def test_clip_on_every_device(device, norm_type):
    ours, theirs = _pair(scale=2.0, device=device)
    total = nn.utils.clip_grad_norm_(ours, 0.5, norm_type)
    ref = torch.nn.utils.clip_grad_norm_(theirs, 0.5, norm_type)
    assert total.device == pt.device(device)
    np.testing.assert_allclose(total.item(), ref.item(), rtol=1e-5)
    nn.utils.clip_grad_value_(ours, 0.01)
    torch.nn.utils.clip_grad_value_(theirs, 0.01)
    for p, q in zip(ours, theirs):
        if q.grad is not None:
            np.testing.assert_allclose(_host(p.grad), q.grad.numpy(), rtol=1e-5, atol=1e-8)


def test_parameters_to_vector_and_back(device):
    ours, theirs = _pair(scale=1.0, device=device)
    vec = nn.utils.parameters_to_vector(ours)
    ref = torch.nn.utils.parameters_to_vector(theirs)
    np.testing.assert_array_equal(_host(vec), ref.detach().numpy())
    # differentiable, as PyTorch's
    for p in ours:
        p.grad = None
    (vec * vec).sum().backward()
    np.testing.assert_allclose(_host(ours[1].grad), 2 * _host(ours[1]))
    new = np.arange(vec.shape[0], dtype=np.float32)
    nn.utils.vector_to_parameters(pt.tensor(new, device=device), ours)
    torch.nn.utils.vector_to_parameters(torch.tensor(new), theirs)
    for p, q in zip(ours, theirs):
        assert p.shape == tuple(q.shape) and isinstance(p, nn.Parameter) and p.requires_grad
        np.testing.assert_array_equal(_host(p), q.detach().numpy())
    np.testing.assert_array_equal(_host(nn.utils.parameters_to_vector(ours)), new)


def test_vector_conversion_errors():
    ps = [nn.Parameter(pt.zeros(2)), nn.Parameter(pt.zeros(3))]
    with pytest.raises(TypeError, match="expected polytorch.Tensor, but got: list"):
        nn.utils.vector_to_parameters([1.0], ps)
    with pytest.raises(ValueError, match="vec has 4 elements but the parameters hold 5"):
        nn.utils.vector_to_parameters(pt.zeros(4), ps)
    assert ps[0].tolist() == [0.0, 0.0]  # nothing changed
    mixed = [nn.Parameter(pt.zeros(2)), nn.Parameter(pt.zeros(2, device="cpu@jax"))]
    with pytest.raises(TypeError, match="Found two parameters on different devices"):
        nn.utils.parameters_to_vector(mixed)
