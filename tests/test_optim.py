"""Optimizers against PyTorch: parameters after every step, state_dict, param groups, errors."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

import polytorch
from polytorch import optim

SHAPES = [(3, 4), (4,), (2, 3)]

# (optimizer name, options): each runs on three parameters in two groups, the second
# with its own weight decay and lr, for STEPS steps, compared with PyTorch after each.
CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.5, "maximize": True}),
    ("Adam", {"lr": 0.05}),
    ("Adam", {"lr": 0.05, "amsgrad": True, "betas": (0.8, 0.99)}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1, "maximize": True}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", {"lr": 0.05}),
    ("AdamW", {"lr": 0.05, "amsgrad": True, "eps": 1e-3}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.1, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.1, "initial_accumulator_value": 0.2,
                 "weight_decay": 0.05}),
    ("Adamax", {"lr": 0.05}),
    ("Adamax", {"lr": 0.05, "weight_decay": 0.1, "maximize": True}),
    ("NAdam", {"lr": 0.05}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1, "momentum_decay": 0.01}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.05}),
    ("RAdam", {"lr": 0.05, "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True,
               "maximize": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "alpha": 0.9, "maximize": True}),
    ("Rprop", {"lr": 0.05}),
    ("Rprop", {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.2), "maximize": True}),
    ("ASGD", {"lr": 0.05}),
    ("Adafactor", {}),
    ("Adafactor", {"lr": 0.05, "beta2_decay": -0.5, "eps": (1e-6, 1e-2), "d": 1.5,
                   "weight_decay": 0.1, "maximize": True}),
    ("ASGD", {"lr": 0.05, "lambd": 0.01, "alpha": 0.5, "t0": 3, "weight_decay": 0.1}),
]
STEPS = 8  # RAdam's rectification starts at step 6 with beta2=0.999


def _inits(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in SHAPES]


def _loss(lib, params, consts):
    """A non-quadratic loss so every step sees new gradients: sum c*(p - t)^2 + tanh(p)."""
    total = 0
    for p, (t, c) in zip(params, consts):
        total = total + (((p - t) ** 2) * c).sum() + lib.tanh(p).sum()
    return total


def _consts(lib, dtype, device=None):
    rng = np.random.default_rng(1)
    out = []
    for s in SHAPES:
        t, c = rng.standard_normal(s), rng.uniform(0.5, 2.0, s)
        kw = {"dtype": dtype} if device is None else {"dtype": dtype, "device": device}
        out.append((lib.tensor(t, **kw), lib.tensor(c, **kw)))
    return out


def _groups(params, name, group_opts=True):
    if not group_opts or name == "LBFGS":
        return params
    return [{"params": params[:2]}, {"params": params[2:], "weight_decay": 0.1, "lr": 0.02}]


def _make(lib, name, inits, dtype, kwargs, device=None):
    kw = {"dtype": dtype} if device is None else {"dtype": dtype, "device": device}
    params = [lib.tensor(a, requires_grad=True, **kw) for a in inits]
    opt = getattr(lib.optim, name)(_groups(params, name), **kwargs)
    return params, opt


def _train(lib, params, opt, consts, steps):
    """Yield after each step (so the two frameworks can be compared step by step)."""
    for _ in range(steps):
        opt.zero_grad()
        _loss(lib, params, consts).backward()
        opt.step()
        yield


def _host(t):
    return np.asarray(t.detach().cpu().numpy(), dtype=np.float64)


def _compare(name, kwargs, *, dtype="float64", device="cpu", steps=STEPS, rtol=None):
    rtol = rtol or (1e-10 if dtype == "float64" else 1e-5)
    atol = rtol
    inits = _inits()
    ours, opt = _make(polytorch, name, inits, getattr(polytorch, dtype), kwargs, device)
    theirs, topt = _make(torch, name, inits, getattr(torch, dtype), kwargs)
    c_ours = _consts(polytorch, getattr(polytorch, dtype), device)
    c_theirs = _consts(torch, getattr(torch, dtype))
    for i, _ in enumerate(zip(_train(polytorch, ours, opt, c_ours, steps),
                              _train(torch, theirs, topt, c_theirs, steps))):
        for j, (p, q) in enumerate(zip(ours, theirs)):
            np.testing.assert_allclose(_host(p), _host(q), rtol=rtol, atol=atol,
                                       err_msg=f"{name} {kwargs}: param {j} after step {i + 1}")
    return opt, topt


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_torch_float64(name, kwargs):
    opt, topt = _compare(name, kwargs)
    # The state holds the same entries, with the same values.
    ours, theirs = opt.state_dict(), topt.state_dict()
    assert ours["state"].keys() == theirs["state"].keys()
    for k, st in theirs["state"].items():
        assert ours["state"][k].keys() == st.keys()
        for key, v in st.items():
            assert isinstance(ours["state"][k][key], polytorch.Tensor)
            np.testing.assert_allclose(_host(ours["state"][k][key]), _host(v), rtol=1e-9,
                                       atol=1e-12, err_msg=f"state[{k}][{key}]")


@pytest.mark.parametrize("name,kwargs", [
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("Adam", {"lr": 0.05, "amsgrad": True}),
    ("AdamW", {"lr": 0.05}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}),
    ("Adafactor", {"lr": 0.05}),
])
def test_matches_torch_float32(name, kwargs):
    _compare(name, kwargs, dtype="float32")


@pytest.mark.parametrize("name,kwargs", [
    ("SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01}),
    ("Adam", {"lr": 0.05}),
    ("AdamW", {"lr": 0.05, "amsgrad": True}),
])
def test_devices(device, name, kwargs):
    # JAX arrays are immutable and strict refuses implicit conversions: the in-place
    # updates must still act on the user's tensors, with PyTorch's results.
    if device == "cpu":
        pytest.skip("covered by the float32 / float64 tests")
    _compare(name, kwargs, dtype="float32", device=device, steps=3)


def test_signatures_match_torch():
    for name in optim.__all__:
        if name in ("Optimizer", "lr_scheduler"):
            continue
        ours = inspect.signature(getattr(optim, name)).parameters
        theirs = inspect.signature(getattr(torch.optim, name)).parameters
        assert [(p.name, p.kind, p.default) for p in ours.values()] == \
            [(p.name, p.kind, p.default) for p in theirs.values()], name


def test_param_group_keys_match_torch():
    for name in ("SGD", "Adam", "AdamW", "Adadelta", "Adagrad", "Adamax", "NAdam", "RAdam",
                 "RMSprop", "Rprop", "ASGD", "Adafactor", "LBFGS"):
        a = polytorch.zeros(2, requires_grad=True)
        b = torch.zeros(2, requires_grad=True)
        ours = getattr(optim, name)([a]).state_dict()
        theirs = getattr(torch.optim, name)([b]).state_dict()
        assert list(ours["param_groups"][0]) == list(theirs["param_groups"][0]), name
        assert ours["param_groups"][0] == theirs["param_groups"][0], name
        assert ours["state"].keys() == theirs["state"].keys(), name


# -- state dict --------------------------------------------------------------------------


def _fresh(name, kwargs, inits=None):
    inits = _inits() if inits is None else inits
    params, opt = _make(polytorch, name, inits, polytorch.float64, kwargs)
    return params, opt


@pytest.mark.parametrize("name,kwargs", [
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("Adam", {"lr": 0.05, "amsgrad": True}),
    ("NAdam", {"lr": 0.05}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
])
@pytest.mark.parametrize("through_file", [False, True])
def test_state_dict_round_trip(name, kwargs, through_file, tmp_path):
    consts = _consts(polytorch, polytorch.float64)
    params, opt = _fresh(name, kwargs)
    for _ in _train(polytorch, params, opt, consts, 3):
        pass
    sd = opt.state_dict()
    if through_file:
        polytorch.save(sd, tmp_path / "opt.pt")
        sd = polytorch.load(tmp_path / "opt.pt")
    params2, opt2 = _fresh(name, {"lr": 123.0} if "lr" in kwargs else {},
                           [_host(p) for p in params])
    opt2.load_state_dict(sd)
    assert opt2.param_groups[1]["lr"] == 0.02 and opt2.param_groups[0]["lr"] == kwargs["lr"]
    assert opt2.param_groups[0]["params"] == params2[:2]
    for _ in zip(_train(polytorch, params, opt, consts, 2),
                 _train(polytorch, params2, opt2, consts, 2)):
        for p, q in zip(params, params2):
            # Not bit-equal for NAdam: its float32 mu_product is cast to the params' float64
            # on load (PyTorch does the same).
            np.testing.assert_allclose(_host(p), _host(q), rtol=1e-8, atol=1e-10)


def test_load_state_dict_deep_copies_and_casts():
    consts = _consts(polytorch, polytorch.float64)
    params, opt = _fresh("Adam", {"lr": 0.05})
    for _ in _train(polytorch, params, opt, consts, 2):
        pass
    sd = opt.state_dict()
    params32 = [polytorch.tensor(_host(p), dtype=polytorch.float32, requires_grad=True)
                for p in params]
    opt2 = optim.Adam(_groups(params32, "Adam"), lr=0.05)
    opt2.load_state_dict(sd)
    st = opt2.state[params32[0]]
    assert st["exp_avg"].dtype == polytorch.float32
    assert st["step"].dtype == polytorch.float32 and st["step"].item() == 2.0
    # Stepping the loaded optimizer leaves the source state dict untouched.
    before = _host(sd["state"][0]["exp_avg"])
    consts32 = _consts(polytorch, polytorch.float32)
    for _ in _train(polytorch, params32, opt2, consts32, 1):
        pass
    np.testing.assert_array_equal(_host(sd["state"][0]["exp_avg"]), before)
    assert sd["state"][0]["step"].item() == 2.0


def test_load_torch_state_dict_continues_like_torch():
    """A state dict written by PyTorch (tensors converted) resumes with PyTorch's steps."""
    kwargs = {"lr": 0.05, "amsgrad": True}
    inits = _inits()
    theirs, topt = _make(torch, "Adam", inits, torch.float64, kwargs)
    c_theirs = _consts(torch, torch.float64)
    for _ in _train(torch, theirs, topt, c_theirs, 3):
        pass
    tsd = topt.state_dict()
    sd = {"state": {k: {n: polytorch.tensor(v.numpy()) for n, v in st.items()}
                    for k, st in tsd["state"].items()},
          "param_groups": tsd["param_groups"]}
    ours, opt = _make(polytorch, "Adam", [_host(p) for p in theirs], polytorch.float64, {})
    opt.load_state_dict(sd)
    c_ours = _consts(polytorch, polytorch.float64)
    for _ in zip(_train(polytorch, ours, opt, c_ours, 3),
                 _train(torch, theirs, topt, c_theirs, 3)):
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(_host(p), _host(q), rtol=1e-10, atol=1e-12)


def test_state_dict_layout():
    a = polytorch.zeros(2, requires_grad=True)
    b = polytorch.zeros(3, requires_grad=True)
    opt = optim.SGD([("a", a), ("b", b)], lr=0.1, momentum=0.9)
    (a.sum() + b.sum()).backward()
    opt.step()
    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == [0, 1]
    assert sd["param_groups"][0]["param_names"] == ["a", "b"]
    assert list(sd["state"]) == [0, 1] and list(sd["state"][0]) == ["momentum_buffer"]
    opt.add_param_group({"params": [("c", polytorch.zeros(1, requires_grad=True))]})
    assert opt.state_dict()["param_groups"][1]["params"] == [2]


def test_load_state_dict_errors_change_nothing():
    params, opt = _fresh("SGD", {"lr": 0.05, "momentum": 0.9})
    sd = opt.state_dict()
    other = optim.SGD([polytorch.zeros(1, requires_grad=True)], lr=0.3)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        other.load_state_dict(sd)
    bad = {"state": {}, "param_groups": [dict(sd["param_groups"][0], params=[0]),
                                         sd["param_groups"][1]]}
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        opt.load_state_dict(bad)
    assert opt.param_groups[0]["params"] == params[:2]


# -- groups, zero_grad, hooks ------------------------------------------------------------


def test_param_groups_and_add_param_group():
    a, b, c = (polytorch.zeros(n, requires_grad=True) for n in (1, 2, 3))
    opt = optim.SGD([{"params": a}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.5
    assert opt.param_groups[0]["params"] == [a]
    assert opt.defaults["momentum"] == 0.9
    opt.add_param_group({"params": (c,), "momentum": 0.0})
    assert opt.param_groups[2]["momentum"] == 0.0 and opt.param_groups[2]["lr"] == 0.1
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    assert len(opt.param_groups) == 3
    with pytest.raises(TypeError, match="ordered collections"):
        opt.add_param_group({"params": {polytorch.zeros(1, requires_grad=True)}})
    with pytest.raises(TypeError, match="must be a dict"):
        opt.add_param_group([polytorch.zeros(1, requires_grad=True)])
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        opt.add_param_group({"params": [1.0]})
    with pytest.raises(ValueError, match="with/without names"):
        opt.add_param_group({"params": [("d", polytorch.zeros(1, requires_grad=True))]})


def test_per_group_lr_is_used():
    a, b = polytorch.ones(2, requires_grad=True), polytorch.ones(2, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    (a.sum() + b.sum()).backward()
    opt.step()
    np.testing.assert_allclose(_host(a), [0.9, 0.9])
    np.testing.assert_allclose(_host(b), [0.0, 0.0])


def test_zero_grad_and_skipped_params():
    a, b = polytorch.ones(2, requires_grad=True), polytorch.ones(2, requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    (a * 3).sum().backward()
    opt.step()
    assert b not in opt.state and a in opt.state  # no gradient: no state, no update
    np.testing.assert_array_equal(_host(b), [1.0, 1.0])
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(_host(a.grad), [0.0, 0.0])
    assert b.grad is None
    opt.zero_grad()
    assert a.grad is None


def test_step_runs_without_grad_and_closure_with_grad():
    a = polytorch.ones(2, requires_grad=True)
    opt = optim.SGD([a], lr=0.1)

    def closure():
        assert polytorch.is_grad_enabled()
        opt.zero_grad()
        loss = (a * a).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 2.0
    assert a.grad_fn is None and a.requires_grad and a.is_leaf
    np.testing.assert_allclose(_host(a), [0.8, 0.8])


def test_step_hooks():
    a = polytorch.ones(2, requires_grad=True)
    opt = optim.SGD([a], lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, args, kw: calls.append(("pre", o is opt)))
    h2 = opt.register_step_post_hook(lambda o, args, kw: calls.append(("post", o is opt)))
    a.sum().backward()
    opt.step()
    assert calls == [("pre", True), ("post", True)]
    h1.remove()
    h2.remove()
    opt.step()
    assert len(calls) == 2


# -- errors ------------------------------------------------------------------------------


def test_bad_arguments():
    p = [polytorch.zeros(1, requires_grad=True)]
    cases = [
        (lambda: optim.SGD([], lr=0.1), "optimizer got an empty parameter list"),
        (lambda: optim.SGD(p, lr=-0.1), "Invalid learning rate: -0.1"),
        (lambda: optim.SGD(p, momentum=-1), "Invalid momentum value: -1"),
        (lambda: optim.SGD(p, weight_decay=-1), "Invalid weight_decay value: -1"),
        (lambda: optim.SGD(p, nesterov=True), "Nesterov momentum requires a momentum"),
        (lambda: optim.SGD(p, momentum=0.9, dampening=0.1, nesterov=True), "zero dampening"),
        (lambda: optim.Adam(p, betas=(1.5, 0.9)), "Invalid beta parameter at index 0: 1.5"),
        (lambda: optim.AdamW(p, betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
        (lambda: optim.Adam(p, eps=-1e-8), "Invalid epsilon value: -1e-08"),
        (lambda: optim.Adam(p, weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
        (lambda: optim.Adadelta(p, rho=1.5), "Invalid rho value: 1.5"),
        (lambda: optim.Adagrad(p, lr_decay=-1), "Invalid lr_decay value: -1"),
        (lambda: optim.NAdam(p, momentum_decay=-1), "Invalid momentum_decay value: -1"),
        (lambda: optim.RMSprop(p, alpha=-1), "Invalid alpha value: -1"),
        (lambda: optim.LBFGS(p + [polytorch.zeros(1, requires_grad=True)], lr=-1),
         "Invalid learning rate: -1"),
    ]
    for make, msg in cases:
        with pytest.raises(ValueError, match=msg.replace("(", r"\(").replace(")", r"\)")):
            make()
    x = polytorch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([x * 2], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(x, lr=0.1)
    with pytest.raises(ValueError, match="per-parameter options"):
        optim.LBFGS([{"params": [x]}, {"params": [polytorch.zeros(1, requires_grad=True)]}])
    with pytest.raises(TypeError, match="foreach must be a bool"):
        optim.Adam(p, foreach="yes")
    with pytest.raises(RuntimeError, match="cannot be `True` together"):
        optim.SGD(p, fused=True, foreach=True)
    with pytest.raises(RuntimeError, match="does not support `differentiable`"):
        optim.AdamW(p, fused=True, differentiable=True)


def test_flags_accepted():
    p = [polytorch.zeros(2, requires_grad=True)]
    opt = optim.Adam(p, foreach=True, fused=False, capturable=False, differentiable=False)
    p[0].sum().backward()
    opt.step()
    assert opt.param_groups[0]["foreach"] is True


# -- LBFGS -------------------------------------------------------------------------------


def _rosenbrock(xy):
    x, y = xy[0], xy[1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


@pytest.mark.parametrize("kwargs", [
    {"lr": 1.0, "max_iter": 5, "history_size": 3},
    {"lr": 0.5, "max_iter": 10},
    {"line_search_fn": "strong_wolfe", "max_iter": 6},
    {"line_search_fn": "strong_wolfe", "history_size": 2, "max_iter": 8},
])
def test_lbfgs_rosenbrock_matches_torch(kwargs):
    start = np.array([-1.5, 2.0])
    ours = polytorch.tensor(start, requires_grad=True)
    theirs = torch.tensor(start, requires_grad=True)
    opt, topt = optim.LBFGS([ours], **kwargs), torch.optim.LBFGS([theirs], **kwargs)

    def closure(lib_opt, p):
        def f():
            lib_opt.zero_grad()
            loss = _rosenbrock(p)
            loss.backward()
            return loss
        return f

    for step in range(4):
        lo = opt.step(closure(opt, ours))
        lt = topt.step(closure(topt, theirs))
        np.testing.assert_allclose(lo.item(), lt.item(), rtol=1e-9)
        np.testing.assert_allclose(_host(ours), _host(theirs), rtol=1e-7, atol=1e-9,
                                   err_msg=f"step {step}")
    st, tst = opt.state[ours], topt.state[theirs]
    assert st["func_evals"] == tst["func_evals"] and st["n_iter"] == tst["n_iter"]
    assert _rosenbrock(ours).item() < _rosenbrock(polytorch.tensor(start)).item()


def test_lbfgs_float32_several_params():
    inits = _inits()
    ours, opt = _make(polytorch, "LBFGS", inits, polytorch.float32,
                      {"line_search_fn": "strong_wolfe", "max_iter": 5})
    theirs, topt = _make(torch, "LBFGS", inits, torch.float32,
                         {"line_search_fn": "strong_wolfe", "max_iter": 5})
    c_ours, c_theirs = _consts(polytorch, polytorch.float32), _consts(torch, torch.float32)

    def closure(lib, o, params, consts):
        def f():
            o.zero_grad()
            loss = _loss(lib, params, consts)
            loss.backward()
            return loss
        return f

    for _ in range(2):
        opt.step(closure(polytorch, opt, ours, c_ours))
        topt.step(closure(torch, topt, theirs, c_theirs))
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(_host(p), _host(q), rtol=1e-4, atol=1e-5)


# -- a tiny MLP, parameters as nn.Parameter ----------------------------------------------


def _mlp_loss(lib, params, x, y):
    w1, b1, w2 = params
    return ((lib.tanh(x @ w1 + b1) @ w2 - y) ** 2).mean()


@pytest.mark.parametrize("name,kwargs", [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.01}),
    ("AdamW", {"lr": 0.01, "amsgrad": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5}),
    ("NAdam", {"lr": 0.01}),
])
def test_tiny_mlp_with_parameters_matches_torch(name, kwargs):
    rng = np.random.default_rng(3)
    inits = [rng.standard_normal((3, 8)) * 0.5, np.zeros(8), rng.standard_normal((8, 2)) * 0.5]
    xs, ys = rng.standard_normal((16, 3)), rng.standard_normal((16, 2))
    ours = [polytorch.nn.Parameter(polytorch.tensor(a, dtype=polytorch.float32))
            for a in inits]
    theirs = [torch.nn.Parameter(torch.tensor(a, dtype=torch.float32)) for a in inits]
    opt = getattr(optim, name)(ours, **kwargs)
    topt = getattr(torch.optim, name)(theirs, **kwargs)
    f32 = polytorch.float32
    x, y = polytorch.tensor(xs, dtype=f32), polytorch.tensor(ys, dtype=f32)
    tx, ty = torch.tensor(xs, dtype=torch.float32), torch.tensor(ys, dtype=torch.float32)
    for step in range(6):
        for lib, o, ps, a, b in ((polytorch, opt, ours, x, y), (torch, topt, theirs, tx, ty)):
            o.zero_grad()
            _mlp_loss(lib, ps, a, b).backward()
            o.step()
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(_host(p), _host(q), rtol=1e-5, atol=1e-6,
                                       err_msg=f"step {step}")
    assert all(isinstance(p, polytorch.nn.Parameter) for p in opt.param_groups[0]["params"])


def test_repr_matches_torch():
    a, b = polytorch.zeros(1, requires_grad=True), polytorch.zeros(1, requires_grad=True)
    ta, tb = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    ours = optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.5}], weight_decay=0.1)
    theirs = torch.optim.Adam([{"params": [ta]}, {"params": [tb], "lr": 0.5}],
                              weight_decay=0.1)
    assert repr(ours) == repr(theirs)


def test_tensor_lr_with_scheduler_matches_torch():
    res = []
    for lib in (polytorch, torch):
        p = lib.tensor([1.0, -2.0], dtype=lib.float64, requires_grad=True)
        opt = lib.optim.SGD([p], lr=lib.tensor(0.1, dtype=lib.float64), momentum=0.5)
        sched = lib.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        for _ in range(5):
            opt.zero_grad()
            (p**2).sum().backward()
            opt.step()
            sched.step()
        assert isinstance(opt.param_groups[0]["lr"], lib.Tensor)
        res.append((_host(p), opt.param_groups[0]["lr"].item()))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-12)
    assert res[0][1] == res[1][1]


def test_docstring_examples():
    import doctest
    import importlib

    for name in ("optimizer", "_adafactor", "sgd", "adam", "adamw", "adadelta", "adagrad", "adamax",
                 "nadam", "radam", "rmsprop", "rprop", "asgd", "lbfgs", "lr_scheduler",
                 "swa_utils"):
        module = importlib.import_module(f"polytorch.optim.{name}")
        result = doctest.testmod(module, extraglobs={"polytorch": polytorch})
        assert result.failed == 0, name


def test_complex_parameters_refused_clearly():
    z = polytorch.zeros(2, dtype=polytorch.complex64, requires_grad=True)
    z.grad = polytorch.ones(2, dtype=polytorch.complex64)
    opt = optim.Adam([z])
    with pytest.raises(NotImplementedError, match="Adam: complex parameters"):
        opt.step()
    assert len(opt.state[z]) == 0
    with pytest.raises(NotImplementedError, match="Adagrad: complex"):
        optim.Adagrad([z])


def test_global_hooks_and_state_dict_hooks():
    from polytorch.optim.optimizer import (
        register_optimizer_step_post_hook,
        register_optimizer_step_pre_hook,
    )

    a = polytorch.ones(2, requires_grad=True)
    opt = optim.SGD([a], lr=0.1)
    calls = []
    h1 = register_optimizer_step_pre_hook(lambda o, args, kw: calls.append("global-pre"))
    h2 = register_optimizer_step_post_hook(lambda o, args, kw: calls.append("global-post"))
    h3 = opt.register_step_pre_hook(lambda o, args, kw: calls.append("pre"))
    h4 = opt.register_step_post_hook(lambda o, args, kw: calls.append("post"))
    try:
        a.sum().backward()
        opt.step()
    finally:
        for h in (h1, h2, h3, h4):
            h.remove()
    assert calls == ["global-pre", "pre", "post", "global-post"]
    # A pre-hook may replace the arguments: here it supplies a closure.
    opt.register_step_pre_hook(lambda o, args, kw: ((), {"closure": lambda: 7.0}))
    assert opt.step() == 7.0
    # state_dict hooks: the post hook may return a new dict; load pre-hook may too.
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    assert opt.state_dict()["extra"] == 1
    seen = []
    opt.register_load_state_dict_pre_hook(
        lambda o, sd: {k: v for k, v in sd.items() if k != "extra"})
    opt.register_load_state_dict_post_hook(lambda o: seen.append(True))
    opt.load_state_dict(opt.state_dict())
    assert seen == [True]


def test_base_class_method_signatures_match_torch():
    pairs = [(optim.Optimizer, torch.optim.Optimizer),
             (optim.lr_scheduler.LRScheduler, torch.optim.lr_scheduler.LRScheduler)]
    for ours_cls, theirs_cls in pairs:
        for name, method in vars(theirs_cls).items():
            if name.startswith("_") or not inspect.isfunction(method) \
                    or name == "profile_hook_step":
                continue
            ours = inspect.signature(getattr(ours_cls, name)).parameters
            theirs = inspect.signature(method).parameters
            assert [(p.name, p.kind, p.default) for p in ours.values()] == \
                [(p.name, p.kind, p.default) for p in theirs.values()], name


def test_load_state_dict_moves_state_to_param_device(tmp_path):
    """Adam state saved on cpu@jax resumes on cpu (and back), as a checkpoint would."""
    consts = _consts(polytorch, polytorch.float32)
    params, opt = _make(polytorch, "Adam", _inits(), polytorch.float32, {"lr": 0.05}, "cpu")
    jparams, jopt = _make(polytorch, "Adam", _inits(), polytorch.float32, {"lr": 0.05},
                          "cpu@jax")
    jconsts = _consts(polytorch, polytorch.float32, "cpu@jax")
    for _ in zip(_train(polytorch, params, opt, consts, 2),
                 _train(polytorch, jparams, jopt, jconsts, 2)):
        pass
    polytorch.save(jopt.state_dict(), tmp_path / "opt.pt")
    sd = polytorch.load(tmp_path / "opt.pt", map_location="cpu@jax")
    opt.load_state_dict(sd)  # state from cpu@jax into cpu parameters
    st = opt.state[params[0]]
    assert st["exp_avg"].device == params[0].device
    assert st["step"].device == polytorch.device("cpu")  # the step counter stays on the host
    jopt.load_state_dict(opt.state_dict())
    assert jopt.state[jparams[0]]["step"].device == polytorch.device("cpu")
    assert jopt.state[jparams[0]]["exp_avg"].device == polytorch.device("cpu@jax")
    for _ in zip(_train(polytorch, params, opt, consts, 2),
                 _train(polytorch, jparams, jopt, jconsts, 2)):
        for p, q in zip(params, jparams):
            np.testing.assert_allclose(_host(p), _host(q), rtol=1e-5, atol=1e-6)


def test_subclass_step_calling_super_runs_hooks_once():
    class LoggedSGD(optim.SGD):
        def step(self, closure=None):
            assert not polytorch.is_grad_enabled()
            return super().step(closure)

    a = polytorch.ones(2, requires_grad=True)
    opt = LoggedSGD([a], lr=0.5)
    calls = []
    opt.register_step_pre_hook(lambda o, args, kw: calls.append("pre"))
    a.sum().backward()
    opt.step()
    assert calls == ["pre"]
    np.testing.assert_allclose(_host(a), [0.5, 0.5])


@pytest.mark.parametrize("device", [
    "strict:1",
    # Many tiny eager ops: seconds of XLA dispatch and compiles on cpu@jax.
    pytest.param("cpu@jax", marks=pytest.mark.slow),
])
def test_lbfgs_devices(device):
    if device.endswith("@jax"):
        pytest.importorskip("jax")
    start = np.array([-1.2, 1.0], dtype=np.float32)
    ours = polytorch.tensor(start, device=device, requires_grad=True)
    theirs = torch.tensor(start, requires_grad=True)
    kwargs = {"line_search_fn": "strong_wolfe", "max_iter": 3}
    opt, topt = optim.LBFGS([ours], **kwargs), torch.optim.LBFGS([theirs], **kwargs)

    def closure(o, p):
        def f():
            o.zero_grad()
            loss = _rosenbrock(p)
            loss.backward()
            return loss
        return f

    opt.step(closure(opt, ours))
    topt.step(closure(topt, theirs))
    np.testing.assert_allclose(_host(ours), _host(theirs), rtol=1e-4, atol=1e-5)
    assert ours.device == polytorch.device(device)


def test_loaded_state_never_aliases_the_source():
    """cpu -> cpu@jax moves can share NumPy memory; the loaded state must be a copy."""
    p = polytorch.zeros(1000, requires_grad=True)
    jp = polytorch.zeros(1000, device="cpu@jax", requires_grad=True)
    opt, jopt = optim.SGD([p], lr=0.1, momentum=0.9), optim.SGD([jp], lr=0.1, momentum=0.9)
    for _ in range(20):
        opt.state[p]["momentum_buffer"] = polytorch.zeros(1000)
        jopt.load_state_dict(opt.state_dict())
        opt.state[p]["momentum_buffer"].add_(1.0)  # in place on the source, after the load
        assert jopt.state[jp]["momentum_buffer"].abs().sum().item() == 0.0
