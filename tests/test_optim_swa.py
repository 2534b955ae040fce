"""optim.swa_utils against PyTorch: AveragedModel (SWA, EMA, buffers), update_bn, SWALR."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import polytorch
from polytorch.optim import swa_utils


def _pair(seed=0):
    """The same small model (Linear, BatchNorm1d, Linear) in both frameworks."""
    def build(nn):
        return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))

    ours, theirs = build(polytorch.nn), build(torch.nn)
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            value = rng.standard_normal(tuple(q.shape))
            q.copy_(torch.tensor(value))
            with polytorch.no_grad():
                p.copy_(polytorch.tensor(value, dtype=polytorch.float32))
    return ours, theirs


def _perturb(ours, theirs, rng):
    with torch.no_grad(), polytorch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            delta = rng.standard_normal(tuple(q.shape)).astype(np.float32)
            q.add_(torch.tensor(delta))
            p.add_(polytorch.tensor(delta))
        x = rng.standard_normal((8, 3)).astype(np.float32)
    # A training-mode forward moves the BatchNorm statistics (buffers) in both.
    ours.train()
    theirs.train()
    ours(polytorch.tensor(x))
    theirs(torch.tensor(x))


def _assert_same(ours, theirs):
    for (name, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
        np.testing.assert_allclose(np.asarray(a.numpy(), dtype=np.float64),
                                   b.detach().double().numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=name)


@pytest.mark.parametrize("kind", ["swa", "ema", "ema-multi", "swa-buffers"])
def test_averaged_model_matches_torch(kind):
    ours, theirs = _pair()
    kw_ours, kw_theirs = {}, {}
    if kind == "ema":
        kw_ours["avg_fn"] = swa_utils.get_ema_avg_fn(0.9)
        kw_theirs["avg_fn"] = torch.optim.swa_utils.get_ema_avg_fn(0.9)
    elif kind == "ema-multi":
        kw_ours["multi_avg_fn"] = swa_utils.get_ema_multi_avg_fn(0.8)
        kw_theirs["multi_avg_fn"] = torch.optim.swa_utils.get_ema_multi_avg_fn(0.8)
    elif kind == "swa-buffers":
        kw_ours["use_buffers"] = kw_theirs["use_buffers"] = True
    avg = swa_utils.AveragedModel(ours, **kw_ours)
    tavg = torch.optim.swa_utils.AveragedModel(theirs, **kw_theirs)
    assert list(avg.state_dict()) == list(tavg.state_dict())
    rng = np.random.default_rng(1)
    for _ in range(4):
        _perturb(ours, theirs, rng)
        avg.update_parameters(ours)
        tavg.update_parameters(theirs)
        _assert_same(avg, tavg)
    assert int(avg.n_averaged) == 4
    x = np.random.default_rng(2).standard_normal((5, 3)).astype(np.float32)
    avg.eval()
    tavg.eval()
    np.testing.assert_allclose(avg(polytorch.tensor(x)).detach().numpy(),
                               tavg(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-5)


def test_update_bn_matches_torch():
    ours, theirs = _pair()
    rng = np.random.default_rng(3)
    batches = [rng.standard_normal((6, 3)).astype(np.float32) for _ in range(3)]
    ours.eval()
    theirs.eval()
    swa_utils.update_bn([(polytorch.tensor(b), 0) for b in batches], ours)
    torch.optim.swa_utils.update_bn([(torch.tensor(b), 0) for b in batches], theirs)
    _assert_same(ours, theirs)
    assert not ours.training and ours[1].momentum == 0.1


@pytest.mark.parametrize("kwargs", [
    {"swa_lr": 0.05, "anneal_epochs": 5},
    {"swa_lr": [0.01, 0.2], "anneal_epochs": 3, "anneal_strategy": "linear"},
    {"swa_lr": 0.02, "anneal_epochs": 0},
])
def test_swalr_matches_torch(kwargs):
    seqs = []
    for lib, mod in ((polytorch, swa_utils), (torch, torch.optim.swa_utils)):
        groups = [{"params": [lib.zeros(1, requires_grad=True)]},
                  {"params": [lib.zeros(1, requires_grad=True)], "lr": 0.3}]
        opt = lib.optim.SGD(groups, lr=0.1)
        sched = mod.SWALR(opt, **kwargs)
        seq = []
        for _ in range(10):
            opt.step()
            sched.step()
            seq.append(sched.get_last_lr())
        seqs.append(seq)
        if lib is polytorch:
            sd = sched.state_dict()
            assert "anneal_func" not in sd and "optimizer" not in sd
    for a, b in zip(*seqs):
        assert a == pytest.approx(b, rel=1e-13)


def test_errors():
    with pytest.raises(ValueError, match="Invalid decay value 1.5"):
        swa_utils.get_ema_avg_fn(1.5)
    model = polytorch.nn.Linear(2, 2)
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        swa_utils.AveragedModel(model, avg_fn=swa_utils.get_swa_avg_fn(),
                                multi_avg_fn=swa_utils.get_swa_multi_avg_fn())
    opt = polytorch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="anneal_strategy must be one of"):
        swa_utils.SWALR(opt, swa_lr=0.1, anneal_strategy="exp")
    assert "swa_lr" not in opt.param_groups[0]
    with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0"):
        swa_utils.SWALR(opt, swa_lr=0.1, anneal_epochs=-1)
