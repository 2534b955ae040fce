"""A two-layer MLP trained with raw tensors for 5 SGD steps matches PyTorch on every backend.

Linear-ReLU-Linear written as ``x @ W1.T + b1``, ``relu``, ``@ W2.T + b2``; the loss
is MSE, or cross entropy through a log-softmax composed from max/exp/log/sum. The
parameters start from the same NumPy float32 arrays in both frameworks and are
updated under ``no_grad`` with ``p -= lr * p.grad`` and ``p.grad = None``. Losses
and gradients must agree with PyTorch's to 1e-5 relative at every step.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import polytorch as pt

N, D_IN, HIDDEN, D_OUT = 16, 5, 8, 3
STEPS, LR = 5, 0.1
RTOL, ATOL = 1e-5, 1e-6


def _data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, D_IN)).astype(np.float32)
    y_reg = rng.standard_normal((N, D_OUT)).astype(np.float32)
    labels = rng.integers(0, D_OUT, N)
    one_hot = np.eye(D_OUT, dtype=np.float32)[labels]
    b1 = 1 / np.sqrt(D_IN)
    b2 = 1 / np.sqrt(HIDDEN)
    params = {
        "W1": rng.uniform(-b1, b1, (HIDDEN, D_IN)).astype(np.float32),
        "b1": rng.uniform(-b1, b1, (HIDDEN,)).astype(np.float32),
        "W2": rng.uniform(-b2, b2, (D_OUT, HIDDEN)).astype(np.float32),
        "b2": rng.uniform(-b2, b2, (D_OUT,)).astype(np.float32),
    }
    return x, y_reg, one_hot, params


def _forward(lib, p, x):
    h = lib.relu(x @ p["W1"].T + p["b1"])
    return h @ p["W2"].T + p["b2"]


def _mse(lib, out, target):
    d = out - target
    return (d * d).mean()


def _cross_entropy(lib, logits, one_hot):
    m = logits.max(dim=1, keepdim=True).values
    shifted = logits - m
    log_probs = shifted - lib.log(lib.exp(shifted).sum(dim=1, keepdim=True))
    return -(log_probs * one_hot).sum(dim=1).mean()


def _train(lib, mk, loss_name):
    x_np, y_np, oh_np, params_np = _data()
    x = mk(x_np, False)
    target = mk(oh_np if loss_name == "cross_entropy" else y_np, False)
    p = {k: mk(v, True) for k, v in params_np.items()}
    losses, grads = [], []
    for _ in range(STEPS):
        out = _forward(lib, p, x)
        if loss_name == "mse":
            loss = _mse(lib, out, target)
        else:
            loss = _cross_entropy(lib, out, target)
        loss.backward()
        losses.append(float(loss.item()))
        grads.append({k: np.array(v.grad.detach().numpy(), copy=True) for k, v in p.items()})
        with lib.no_grad():
            for v in p.values():
                v -= LR * v.grad
                v.grad = None
    final = {k: np.array(v.detach().numpy(), copy=True) for k, v in p.items()}
    return losses, grads, final, p


@pytest.mark.parametrize("loss_name", ["mse", "cross_entropy"])
def test_mlp_sgd_matches_pytorch(device, loss_name):
    got_losses, got_grads, got_final, got_p = _train(
        pt, lambda a, rg: pt.tensor(a, device=device, requires_grad=rg), loss_name
    )
    ref_losses, ref_grads, ref_final, ref_p = _train(
        torch, lambda a, rg: torch.tensor(a, requires_grad=rg), loss_name
    )

    np.testing.assert_allclose(got_losses, ref_losses, rtol=RTOL, atol=0, err_msg="losses")
    assert ref_losses[-1] < ref_losses[0]  # the run actually trains
    for step, (g, r) in enumerate(zip(got_grads, ref_grads)):
        for name in r:
            np.testing.assert_allclose(
                g[name], r[name], rtol=RTOL, atol=ATOL, err_msg=f"step {step}: grad of {name}"
            )
    for name in ref_final:
        np.testing.assert_allclose(
            got_final[name], ref_final[name], rtol=RTOL, atol=ATOL, err_msg=f"final {name}"
        )
    for name, v in got_p.items():
        assert v.is_leaf and v.requires_grad and v.grad is None, name
        assert v.dtype == pt.float32 and v.device == pt.device(device), name
        assert v._version == ref_p[name]._version, f"{name}: _version {v._version}"


def test_mlp_loss_against_numpy_float64(device):
    """The first loss and gradients against a hand-written NumPy float64 reference."""
    x_np, _, oh_np, params_np = _data(1)
    p64 = {k: v.astype(np.float64) for k, v in params_np.items()}
    x64 = x_np.astype(np.float64)
    pre = x64 @ p64["W1"].T + p64["b1"]
    h = np.maximum(pre, 0)
    logits = h @ p64["W2"].T + p64["b2"]
    shifted = logits - logits.max(1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    loss = -(log_probs * oh_np).sum(1).mean()
    d_logits = (np.exp(log_probs) - oh_np) / N
    d_w2 = d_logits.T @ h
    d_b2 = d_logits.sum(0)
    d_h = d_logits @ p64["W2"] * (pre > 0)
    d_w1 = d_h.T @ x64
    d_b1 = d_h.sum(0)

    p = {k: pt.tensor(v, device=device, requires_grad=True) for k, v in params_np.items()}
    out = _forward(pt, p, pt.tensor(x_np, device=device))
    ours = _cross_entropy(pt, out, pt.tensor(oh_np, device=device))
    ours.backward()
    assert ours.item() == pytest.approx(loss, rel=1e-5)
    for name, ref in (("W1", d_w1), ("b1", d_b1), ("W2", d_w2), ("b2", d_b2)):
        np.testing.assert_allclose(p[name].grad.numpy(), ref, rtol=1e-4, atol=1e-6, err_msg=name)
