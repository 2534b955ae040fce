"""Learning-rate schedulers against PyTorch: lr (and momentum) sequences, state_dict, errors."""

from __future__ import annotations

import inspect
import warnings

import pytest
import torch

import polytorch
from polytorch import optim

STEPS = 35


def _optimizer(lib, name="SGD"):
    params = [lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)]
    groups = [{"params": params[:1]}, {"params": params[1:], "lr": 0.05}]
    if name == "SGD":
        return lib.optim.SGD(groups, lr=0.1, momentum=0.9)
    return lib.optim.Adam(groups, lr=0.1)


# (id, optimizer, factory(S, opt) -> scheduler) with S the lr_scheduler module.
CONFIGS = [
    ("step", "SGD", lambda S, o: S.StepLR(o, step_size=3, gamma=0.5)),
    ("multistep", "SGD", lambda S, o: S.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.3)),
    ("exponential", "SGD", lambda S, o: S.ExponentialLR(o, gamma=0.9)),
    ("cosine", "SGD", lambda S, o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.001)),
    ("cosine-tmax7", "Adam", lambda S, o: S.CosineAnnealingLR(o, T_max=7)),
    ("warm-restarts", "SGD",
     lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=0.01)),
    ("warm-restarts-1", "SGD", lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=4)),
    ("lambda", "SGD", lambda S, o: S.LambdaLR(o, lambda e: 0.95**e)),
    ("lambda-per-group", "SGD",
     lambda S, o: S.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: 0.9**e])),
    ("multiplicative", "SGD", lambda S, o: S.MultiplicativeLR(o, lambda e: 0.9)),
    ("linear", "SGD", lambda S, o: S.LinearLR(o, start_factor=0.2, total_iters=10)),
    ("linear-down", "SGD",
     lambda S, o: S.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=7)),
    ("constant", "SGD", lambda S, o: S.ConstantLR(o, factor=0.5, total_iters=4)),
    ("polynomial", "SGD", lambda S, o: S.PolynomialLR(o, total_iters=10, power=2.0)),
    ("onecycle", "SGD", lambda S, o: S.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=40)),
    ("onecycle-linear-3phase", "SGD",
     lambda S, o: S.OneCycleLR(o, max_lr=0.3, epochs=4, steps_per_epoch=10,
                               anneal_strategy="linear", three_phase=True)),
    ("onecycle-adam", "Adam",
     lambda S, o: S.OneCycleLR(o, max_lr=0.01, total_steps=36, pct_start=0.25,
                               div_factor=10.0, final_div_factor=100.0)),
    ("onecycle-nomomentum", "SGD",
     lambda S, o: S.OneCycleLR(o, max_lr=0.2, total_steps=36, cycle_momentum=False)),
    ("cyclic", "SGD", lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4)),
    ("cyclic-tri2", "SGD",
     lambda S, o: S.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=3,
                             step_size_down=5, mode="triangular2")),
    ("cyclic-exp-adam", "Adam",
     lambda S, o: S.CyclicLR(o, base_lr=0.001, max_lr=0.01, step_size_up=5,
                             mode="exp_range", gamma=0.95, base_momentum=0.85,
                             max_momentum=0.95)),
    ("cyclic-custom", "SGD",
     lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4,
                             scale_fn=lambda x: 0.5 ** x, scale_mode="iterations",
                             cycle_momentum=False)),
    ("sequential", "SGD",
     lambda S, o: S.SequentialLR(o, [S.ConstantLR(o, factor=0.1, total_iters=2),
                                     S.ExponentialLR(o, gamma=0.9)], milestones=[2])),
    ("sequential-3", "SGD",
     lambda S, o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=5),
                                     S.CosineAnnealingLR(o, T_max=10),
                                     S.StepLR(o, step_size=4)], milestones=[5, 15])),
    ("chained", "SGD",
     lambda S, o: S.ChainedScheduler([S.ConstantLR(o, factor=0.1, total_iters=3),
                                      S.ExponentialLR(o, gamma=0.9)])),
    ("chained-opt", "SGD",
     lambda S, o: S.ChainedScheduler([S.LinearLR(o, start_factor=0.5, total_iters=4),
                                      S.MultiStepLR(o, milestones=[6, 12])], optimizer=o)),
]


def _trace(lib, opt_name, factory, steps=STEPS):
    opt = _optimizer(lib, opt_name)
    sched = factory(lib.optim.lr_scheduler, opt)
    out = []
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append((sched.get_last_lr(), [_momentum(g) for g in opt.param_groups]))
    return out


def _momentum(group):
    return group["betas"][0] if "betas" in group else group["momentum"]


@pytest.mark.parametrize("opt_name,factory", [c[1:] for c in CONFIGS],
                         ids=[c[0] for c in CONFIGS])
def test_sequence_matches_torch(opt_name, factory):
    ours = _trace(polytorch, opt_name, factory)
    theirs = _trace(torch, opt_name, factory)
    for i, ((lr, mom), (tlr, tmom)) in enumerate(zip(ours, theirs)):
        assert lr == pytest.approx(tlr, rel=1e-13, abs=1e-16), f"lr at step {i + 1}"
        assert mom == pytest.approx(tmom, rel=1e-13), f"momentum at step {i + 1}"


@pytest.mark.parametrize("opt_name,factory", [c[1:] for c in CONFIGS],
                         ids=[c[0] for c in CONFIGS])
def test_state_dict_matches_torch_and_round_trips(opt_name, factory):
    opt, topt = _optimizer(polytorch, opt_name), _optimizer(torch, opt_name)
    sched = factory(optim.lr_scheduler, opt)
    tsched = factory(torch.optim.lr_scheduler, topt)
    for _ in range(10):
        opt.step()
        sched.step()
        topt.step()
        tsched.step()
    sd, tsd = sched.state_dict(), tsched.state_dict()
    assert sorted(sd) == sorted(tsd)
    assert "optimizer" not in sd
    # Restore into fresh objects; both continue with the same lrs.
    opt2 = _optimizer(polytorch, opt_name)
    sched2 = factory(optim.lr_scheduler, opt2)
    opt2.load_state_dict(opt.state_dict())
    sched2.load_state_dict(sd)
    for i in range(10):
        for o, s in ((opt, sched), (opt2, sched2)):
            o.step()
            s.step()
        assert sched2.get_last_lr() == sched.get_last_lr(), f"step {i}"
        assert [g["lr"] for g in opt2.param_groups] == [g["lr"] for g in opt.param_groups]


@pytest.mark.parametrize("index", [0, 1, 3, 5, 14, 18, 23])
def test_state_dict_through_file(index, tmp_path):
    _, opt_name, factory = CONFIGS[index]
    opt = _optimizer(polytorch, opt_name)
    sched = factory(optim.lr_scheduler, opt)
    for _ in range(7):
        opt.step()
        sched.step()
    polytorch.save({"opt": opt.state_dict(), "sched": sched.state_dict()},
                   tmp_path / "ckpt.pt")
    ckpt = polytorch.load(tmp_path / "ckpt.pt")
    opt2 = _optimizer(polytorch, opt_name)
    sched2 = factory(optim.lr_scheduler, opt2)
    opt2.load_state_dict(ckpt["opt"])
    sched2.load_state_dict(ckpt["sched"])
    for _ in range(5):
        for o, s in ((opt, sched), (opt2, sched2)):
            o.step()
            s.step()
        assert sched2.get_last_lr() == sched.get_last_lr()


def test_closed_form_with_epoch_matches_torch():
    for make in (lambda S, o: S.StepLR(o, 3, 0.5), lambda S, o: S.MultiStepLR(o, [2, 6]),
                 lambda S, o: S.CosineAnnealingLR(o, 10),
                 lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2)):
        res = []
        for lib in (polytorch, torch):
            opt = _optimizer(lib)
            sched = make(lib.optim.lr_scheduler, opt)
            opt.step()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                for epoch in (4, 7, 2.5 if "Warm" in type(sched).__name__ else 2, 11):
                    sched.step(epoch)
            res.append(sched.get_last_lr())
            # PyTorch's deprecation warning (its warm-restarts step takes epochs silently).
            warm = isinstance(sched, lib.optim.lr_scheduler.CosineAnnealingWarmRestarts)
            assert any("epoch parameter" in str(w.message) for w in caught) != warm
        assert res[0] == pytest.approx(res[1], rel=1e-13)


def test_base_lrs_initial_lr_and_last_epoch():
    opt = _optimizer(polytorch)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2)
    assert sched.base_lrs == [0.1, 0.05] and sched.last_epoch == 0
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.05]
    with pytest.raises(KeyError, match="initial_lr"):
        optim.lr_scheduler.StepLR(_optimizer(polytorch), step_size=2, last_epoch=3)
    # Resuming from last_epoch with initial_lr present continues the schedule.
    resumed = optim.lr_scheduler.ExponentialLR(opt, gamma=0.5, last_epoch=4)
    assert resumed.last_epoch == 5


def test_reduce_lr_on_plateau_matches_torch():
    metrics = [1.0, 0.9, 0.95, 0.91, 0.92, 0.93, 0.8, 0.85, 0.86, 0.87, 0.88, 0.89, 0.9,
               0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.69999, 0.7, 0.7, 0.7, 0.7, 0.7,
               0.7, 0.7, 0.7, 0.7, 0.7]
    configs = [
        {"patience": 2},
        {"patience": 1, "cooldown": 2, "factor": 0.5, "min_lr": 0.01},
        {"mode": "max", "patience": 0, "threshold": 0.05, "threshold_mode": "abs"},
        {"patience": 1, "threshold_mode": "abs", "min_lr": [0.02, 0.001], "eps": 1e-3},
        {"mode": "max", "patience": 3, "threshold": 0.1},
    ]
    for cfg in configs:
        opt, topt = _optimizer(polytorch), _optimizer(torch)
        sched = optim.lr_scheduler.ReduceLROnPlateau(opt, **cfg)
        tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **cfg)
        for i, m in enumerate(metrics):
            sched.step(polytorch.tensor(m, dtype=polytorch.float64) if i % 2 else m)
            tsched.step(m)
            assert sched.get_last_lr() == tsched.get_last_lr(), (cfg, i)
            assert (sched.best, sched.num_bad_epochs, sched.cooldown_counter) == \
                (tsched.best, tsched.num_bad_epochs, tsched.cooldown_counter), (cfg, i)
        sd = sched.state_dict()
        assert sorted(sd) == sorted(tsched.state_dict())
        fresh = optim.lr_scheduler.ReduceLROnPlateau(_optimizer(polytorch))
        fresh.load_state_dict(sd)
        assert (fresh.best, fresh.mode, fresh.patience) == (sched.best, sched.mode,
                                                             sched.patience)


def test_signatures_match_torch():
    for name in optim.lr_scheduler.__all__:
        ours = inspect.signature(getattr(optim.lr_scheduler, name)).parameters
        theirs = inspect.signature(getattr(torch.optim.lr_scheduler, name)).parameters
        assert [(p.name, p.kind, p.default) for p in ours.values()] == \
            [(p.name, p.kind, p.default) for p in theirs.values()], name


def test_warnings_as_torch():
    opt = _optimizer(polytorch)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()
    opt = _optimizer(polytorch)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()


def test_bad_arguments():
    S = optim.lr_scheduler
    opt = _optimizer(polytorch)
    cases = [
        (lambda: S.StepLR(object(), 2), TypeError, "is not an Optimizer"),
        (lambda: S.ConstantLR(opt, factor=2.0), ValueError, "between 0 and 1"),
        (lambda: S.LinearLR(opt, start_factor=0), ValueError, "greater than 0"),
        (lambda: S.LambdaLR(opt, [lambda e: 1.0]), ValueError, "Expected 2 lr_lambdas"),
        (lambda: S.MultiplicativeLR(opt, 0.9), TypeError, "should be a function"),
        (lambda: S.CosineAnnealingWarmRestarts(opt, T_0=0), ValueError, "positive integer T_0"),
        (lambda: S.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0), ValueError,
         "T_mult >= 1"),
        (lambda: S.OneCycleLR(opt, max_lr=0.1), ValueError, "either total_steps"),
        (lambda: S.OneCycleLR(opt, max_lr=0.1, total_steps=10, pct_start=1.5), ValueError,
         "pct_start"),
        (lambda: S.OneCycleLR(opt, max_lr=[0.1], total_steps=10), ValueError,
         "same length as optimizer.param_groups"),
        (lambda: S.CyclicLR(opt, 0.01, 0.1, mode="bad"), ValueError, "mode is invalid"),
        (lambda: S.CyclicLR(optim.Adagrad([polytorch.zeros(1, requires_grad=True)]), 0.01,
                            0.1), ValueError, "must support momentum"),
        (lambda: S.ReduceLROnPlateau(opt, factor=1.0), ValueError, "Factor should be < 1.0"),
        (lambda: S.ReduceLROnPlateau(opt, mode="up"), ValueError, "mode up is unknown"),
        (lambda: S.ReduceLROnPlateau(opt, min_lr=[0.1]), ValueError, "expected 2 min_lrs"),
        (lambda: S.SequentialLR(opt, [S.StepLR(opt, 2)], milestones=[3]), ValueError,
         "one more than the number of milestone"),
        (lambda: S.ChainedScheduler([]), ValueError, "at least one scheduler"),
        (lambda: S.ChainedScheduler([S.ReduceLROnPlateau(opt)]), ValueError,
         "does not support `ReduceLROnPlateau`"),
        (lambda: S.SequentialLR(opt, [S.StepLR(_optimizer(polytorch), 2)], milestones=[]),
         ValueError, "same optimizer"),
    ]
    for make, exc, msg in cases:
        with pytest.raises(exc, match=msg):
            make()
    onecycle = S.OneCycleLR(_optimizer(polytorch), max_lr=0.1, total_steps=2)
    onecycle.optimizer.step()
    onecycle.step()
    onecycle.step()
    with pytest.raises(ValueError, match="Tried to step 3 times"):
        onecycle.step()
