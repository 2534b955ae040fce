"""Whole models train as in PyTorch: the same losses step by step, the same weights after.

Each architecture is written ONCE, as a function of the library (``make(torch)``
or ``make(polytorch)``). The polytorch copy starts from PyTorch's initial weights
(through ``state_dict``), both take the same optimizer steps on one fixed batch,
and the losses must agree to 1e-4 (relative) at every step.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import safetensors.torch
import torch

import polytorch

VOCAB, SEQ, BATCH = 11, 6, 3
# JAX compiles every op once per shape: a model's first step on cpu@jax costs 10-60 s of
# compiles on the 2-core CI machine. CI trains the MLP there; the other models run on
# cpu@jax with POLYTORCH_SLOW_TESTS=1.
SLOW = os.environ.get("POLYTORCH_SLOW_TESTS") == "1"
SLOW_JAX = [pytest.mark.slow,
            pytest.mark.skipif(not SLOW, reason="cpu@jax compiles for a minute: set "
                               "POLYTORCH_SLOW_TESTS=1 to run it")]


def _usable(device):
    try:
        polytorch.zeros(1, device=device)
    except Exception as e:  # the reason is shown in the skip message
        pytest.skip(f"{device} unavailable: {type(e).__name__}: {e}")


# -- the models, each written once ------------------------------------------------------


def make_mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                         nn.Linear(16, 4))


def make_cnn(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 4, kernel_size=3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 6, kernel_size=3), nn.BatchNorm2d(6), nn.ReLU(),
        nn.Flatten(), nn.Linear(6 * 2 * 2, 3),
    )


def make_lstm_lm(lib):
    nn = lib.nn

    class LSTMLanguageModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(VOCAB, 8)
            self.lstm = nn.LSTM(8, 12, num_layers=2, batch_first=True)
            self.out = nn.Linear(12, VOCAB)

        def forward(self, idx):
            h, _ = self.lstm(self.emb(idx))
            return self.out(h)

    return LSTMLanguageModel()


def make_gpt(lib):
    nn, F = lib.nn, lib.nn.functional

    class Block(nn.Module):
        def __init__(self, d, heads):
            super().__init__()
            self.heads = heads
            self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            # No qkv bias: the keys' bias gets a zero gradient (softmax ignores a shift of
            # a row), and AdamW would turn the rounding noise there into full steps.
            self.qkv, self.proj = nn.Linear(d, 3 * d, bias=False), nn.Linear(d, d)
            self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
            q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2)
                       for t in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.proj(y.transpose(1, 2).reshape(B, T, C))
            return x + self.mlp(self.ln2(x))

    class TinyGPT(nn.Module):
        def __init__(self, d=16, heads=2, layers=2):
            super().__init__()
            self.tok = nn.Embedding(VOCAB, d)
            self.pos = nn.Embedding(SEQ, d)
            self.blocks = nn.ModuleList(Block(d, heads) for _ in range(layers))
            self.ln_f = nn.LayerNorm(d)
            self.head = nn.Linear(d, VOCAB, bias=False)

        def forward(self, idx):
            x = self.tok(idx) + self.pos(lib.arange(idx.shape[1], device=idx.device))
            for block in self.blocks:
                x = block(x)
            return self.head(self.ln_f(x))

    return TinyGPT()


def _batch(kind, rng):
    """(inputs, targets) as NumPy arrays for a model kind."""
    if kind == "mlp":
        return rng.standard_normal((10, 8)).astype(np.float32), rng.integers(0, 4, 10)
    if kind == "cnn":
        return rng.standard_normal((5, 1, 8, 8)).astype(np.float32), rng.integers(0, 3, 5)
    tokens = rng.integers(0, VOCAB, (BATCH, SEQ + 1))
    return tokens[:, :-1], tokens[:, 1:]


def _loss(lib, logits, target):
    F = lib.nn.functional
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))


def _optimizer(lib, kind, params):
    if kind != "gpt":
        return lib.optim.SGD(params, lr=0.1, momentum=0.9)
    return lib.optim.AdamW(params, lr=1e-2, weight_decay=0.01)


def _copy_into_polytorch(theirs, ours, device):
    state = {k: polytorch.tensor(v.detach().numpy(), device=device)
             for k, v in theirs.state_dict().items()}
    ours.to(device)
    ours.load_state_dict(state)


def _train(lib, model, kind, x, y, steps):
    opt = _optimizer(lib, kind, model.parameters())
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = _loss(lib, model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


MAKERS = {"mlp": make_mlp, "cnn": make_cnn, "lstm": make_lstm_lm, "gpt": make_gpt}
CASES = [
    *(pytest.param(kind, "cpu", id=f"cpu-{kind}") for kind in MAKERS),
    *(pytest.param(kind, "cpu@jax", id=f"cpu@jax-{kind}", marks=[] if kind == "mlp" else SLOW_JAX)
      for kind in MAKERS),
    *(pytest.param(kind, "cuda", id=f"cuda-{kind}", marks=pytest.mark.gpu) for kind in MAKERS),
]


@pytest.mark.parametrize(("kind", "model_device"), CASES)
def test_training_matches_pytorch_step_by_step(kind, model_device):
    _usable(model_device)
    torch.manual_seed(0)
    theirs = MAKERS[kind](torch)
    ours = MAKERS[kind](polytorch)
    _copy_into_polytorch(theirs, ours, model_device)
    assert list(ours.state_dict()) == list(theirs.state_dict())

    x_np, y_np = _batch(kind, np.random.default_rng(1))
    steps = 4
    expected = _train(torch, theirs, kind, torch.tensor(x_np), torch.tensor(y_np), steps)
    got = _train(polytorch, ours, kind, polytorch.tensor(x_np, device=model_device),
                 polytorch.tensor(y_np, device=model_device), steps)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=0, err_msg=f"{kind} losses")
    assert expected[-1] < expected[0]  # the batch is learnable: the check is not vacuous
    # Weights and buffers (BatchNorm's running statistics) after training agree too.
    theirs_state = theirs.state_dict()
    for name, value in ours.state_dict().items():
        np.testing.assert_allclose(value.cpu().numpy(), theirs_state[name].numpy(),
                                   rtol=1e-4, atol=1e-5, err_msg=f"{kind}: {name}")


@pytest.mark.parametrize("kind", ["cnn", "lstm"])
def test_state_dict_round_trips_through_safetensors(kind, tmp_path):
    torch.manual_seed(0)
    theirs = MAKERS[kind](torch).eval()
    x_np, _ = _batch(kind, np.random.default_rng(2))
    with torch.no_grad():
        expected = theirs(torch.tensor(x_np)).numpy()

    # torch -> safetensors file -> polytorch
    safetensors.torch.save_file(theirs.state_dict(), tmp_path / "theirs.safetensors")
    ours = MAKERS[kind](polytorch).eval()
    ours.load_state_dict(polytorch.load(tmp_path / "theirs.safetensors", map_location="cpu"))
    with polytorch.no_grad():
        got = ours(polytorch.tensor(x_np)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)

    # polytorch -> safetensors file -> torch (a fresh model with other weights)
    polytorch.save(ours.state_dict(), tmp_path / "ours.safetensors")
    torch.manual_seed(1)
    back = MAKERS[kind](torch).eval()
    back.load_state_dict(safetensors.torch.load_file(tmp_path / "ours.safetensors"))
    with torch.no_grad():
        np.testing.assert_array_equal(back(torch.tensor(x_np)).numpy(), expected)
