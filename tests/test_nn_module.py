"""nn.Module, Parameter and the containers against PyTorch (the oracle).

The same model code is built twice, once over ``torch.nn`` and once over
``polytorch.nn`` (test-local Linear-like classes, since the layer modules are
tested elsewhere), and names, iteration order, state_dict keys, repr, hooks,
load_state_dict results and error messages are compared.
"""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch

import polytorch as pt
from polytorch import nn
from polytorch.nn.modules.module import _IncompatibleKeys


def _classes(lib, tnn):
    """Test-local modules written once against the PyTorch API of ``lib`` / ``tnn``."""

    class MyLinear(tnn.Module):
        def __init__(self, i, o, bias=True):
            super().__init__()
            self.in_features, self.out_features = i, o
            self.weight = tnn.Parameter(lib.zeros(o, i))
            if bias:
                self.bias = tnn.Parameter(lib.zeros(o))
            else:
                self.register_parameter("bias", None)

        def forward(self, x):
            y = x @ self.weight.T
            return y if self.bias is None else y + self.bias

        def extra_repr(self):
            return (f"in_features={self.in_features}, out_features={self.out_features}, "
                    f"bias={self.bias is not None}")

    class Norm(tnn.Module):
        def __init__(self, n):
            super().__init__()
            self.scale = tnn.Parameter(lib.ones(n))
            self.register_buffer("running", lib.zeros(n))
            self.register_buffer("count", lib.zeros((), dtype=lib.int64))
            self.register_buffer("scratch", lib.zeros(n), persistent=False)

        def forward(self, x):
            return x * self.scale

    class Net(tnn.Module):
        def __init__(self):
            super().__init__()
            shared = MyLinear(4, 4)
            self.stem = tnn.Sequential(OrderedDict([("fc", MyLinear(3, 4)), ("norm", Norm(4))]))
            self.blocks = tnn.ModuleList([shared, MyLinear(4, 4, bias=False), shared])
            self.heads = tnn.ModuleDict({"b": MyLinear(4, 2), "a": MyLinear(4, 1)})
            self.plist = tnn.ParameterList([lib.ones(2), lib.zeros(3)])
            self.pdict = tnn.ParameterDict({"z": lib.ones(1), "y": lib.ones(2)})
            self.alias = self.stem  # the same module under a second name
            self.register_buffer("steps", lib.zeros((), dtype=lib.int64))
            self.empty = None

        def forward(self, x):
            h = self.stem(x)
            for b in self.blocks:
                h = b(h)
            return self.heads["b"](h).sum() + self.heads["a"](h).sum()

    return MyLinear, Norm, Net


P_LINEAR, P_NORM, P_NET = _classes(pt, nn)
T_LINEAR, T_NORM, T_NET = _classes(torch, torch.nn)


def _names(pairs):
    return [name for name, _ in pairs]


def _same_values(ours_net, theirs_net):
    """Copy torch's random-free values into ours so that forward results can be compared."""
    rng = np.random.default_rng(0)
    for (n1, p1), (n2, p2) in zip(ours_net.state_dict().items(), theirs_net.state_dict().items()):
        assert n1 == n2
        if p1.dtype.is_floating_point:
            v = rng.standard_normal(tuple(p1.shape)).astype(np.float32)
            with torch.no_grad():
                p2.copy_(torch.from_numpy(v))
            with pt.no_grad():
                p1.copy_(pt.tensor(v, device=p1.device))


# -- Parameter ---------------------------------------------------------------------------


def test_parameter_is_a_tensor_and_reprs_as_torch():
    p = nn.Parameter(pt.tensor([1.0, 2.0]))
    q = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    assert isinstance(p, pt.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf
    assert repr(p) == repr(q)
    assert not nn.Parameter(pt.ones(2), requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)
    out = (p * p).sum()
    out.backward()
    np.testing.assert_allclose(p.grad.numpy(), [2.0, 4.0])
    assert type(p.detach()) is pt.Tensor and type(p * 2) is pt.Tensor


def test_parameter_errors_and_sharing():
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(pt.ones(2, dtype=pt.int64))
    nn.Parameter(pt.ones(2, dtype=pt.int64), requires_grad=False)  # allowed, as in PyTorch
    with pytest.raises(TypeError, match="Parameter: data must be a Tensor"):
        nn.Parameter([1.0])
    t = pt.zeros(3)
    p = nn.Parameter(t)
    with pt.no_grad():
        p.fill_(2.0)
    assert t.tolist() == [2.0, 2.0, 2.0]  # shares the data on the NumPy backend, as PyTorch


def test_buffer_marker_registers_as_buffer():
    m = nn.Module()
    m.a = nn.Buffer(pt.ones(2))
    m.b = nn.Buffer(pt.ones(2), persistent=False)
    assert _names(m.named_buffers()) == ["a", "b"]
    assert list(m.state_dict()) == ["a"]
    tm = torch.nn.Module()
    tm.a = torch.nn.Buffer(torch.ones(2))
    tm.b = torch.nn.Buffer(torch.ones(2), persistent=False)
    assert list(tm.state_dict()) == ["a"]


# -- registration and iteration ------------------------------------------------------------


def test_names_and_order_match_torch():
    ours, theirs = P_NET(), T_NET()
    for method, kwargs in [
        ("named_parameters", {}),
        ("named_parameters", {"remove_duplicate": False}),
        ("named_parameters", {"prefix": "model"}),
        ("named_parameters", {"recurse": False}),
        ("named_buffers", {}),
        ("named_buffers", {"remove_duplicate": False, "prefix": "m"}),
        ("named_modules", {}),
        ("named_modules", {"remove_duplicate": False}),
        ("named_modules", {"prefix": "root"}),
        ("named_children", {}),
    ]:
        assert _names(getattr(ours, method)(**kwargs)) == \
            _names(getattr(theirs, method)(**kwargs)), (method, kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert list(ours.state_dict(prefix="p.")) == list(theirs.state_dict(prefix="p."))
    assert len(list(ours.parameters())) == len(list(theirs.parameters()))
    assert len(list(ours.buffers())) == len(list(theirs.buffers()))
    assert len(list(ours.children())) == len(list(theirs.children()))
    assert len(list(ours.modules())) == len(list(theirs.modules()))
    assert [type(m).__name__ for m in ours.modules()] == \
        [type(m).__name__ for m in theirs.modules()]
    seen_ours, seen_theirs = [], []
    ours.apply(lambda m: seen_ours.append(type(m).__name__))
    theirs.apply(lambda m: seen_theirs.append(type(m).__name__))
    assert seen_ours == seen_theirs


def test_state_dict_metadata_and_detach():
    ours, theirs = P_NET(), T_NET()
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert isinstance(sd, OrderedDict)
    assert dict(sd._metadata) == dict(tsd._metadata)
    w = sd["stem.fc.weight"]
    assert type(w) is pt.Tensor and not w.requires_grad
    assert ours.state_dict(keep_vars=True)["stem.fc.weight"] is ours.stem.fc.weight
    with pt.no_grad():
        ours.stem.fc.weight.fill_(3.0)
    assert w.tolist()[0][0] == 3.0  # detached tensors share the data


def test_setattr_getattr_delattr_dir():
    m = P_LINEAR(2, 3)
    assert "weight" in dir(m) and "bias" in dir(m)
    m.bias = None  # assigning None to a registered parameter keeps it registered as None
    assert "bias" in m._parameters and m.bias is None
    with pytest.raises(TypeError, match="cannot assign 'polytorch.FloatTensor' as parameter"):
        m.weight = pt.ones(3, 2)
    m.extra = 5
    assert m.extra == 5 and "extra" in m.__dict__
    m.extra = nn.Parameter(pt.ones(1))  # a plain attribute becomes a parameter
    assert "extra" not in m.__dict__ and "extra" in m._parameters
    del m.extra
    assert "extra" not in m._parameters
    m.child = nn.Module()
    with pytest.raises(TypeError, match="as child module 'child'"):
        m.child = 3
    m.child = None
    assert m._modules["child"] is None
    m.register_buffer("buf", pt.zeros(1))
    m.buf = pt.ones(2)  # re-assigning a buffer keeps it a buffer
    assert m._buffers["buf"].tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="as buffer 'buf'"):
        m.buf = 3
    del m.buf
    assert "buf" not in m._buffers
    with pytest.raises(AttributeError, match="'MyLinear' object has no attribute 'nope'"):
        m.nope  # noqa: B018


@pytest.mark.parametrize("call, match", [
    (lambda m: m.register_buffer("a.b", None), 'buffer name can\'t contain "."'),
    (lambda m: m.register_buffer("", None), "buffer name can't be empty string"),
    (lambda m: m.register_buffer("forward", None), "attribute 'forward' already exists"),
    (lambda m: m.register_buffer("x", 3), "cannot assign 'int' object to buffer 'x'"),
    (lambda m: m.register_parameter("a.b", None), 'parameter name can\'t contain "."'),
    (lambda m: m.register_parameter("x", pt.ones(1)),
     "cannot assign 'polytorch.FloatTensor' object to parameter 'x'"),
    (lambda m: m.register_parameter(1, None), "parameter name should be a string"),
    (lambda m: m.add_module("x", 3), "int is not a Module subclass"),
    (lambda m: m.add_module("a.b", nn.Module()), 'module name can\'t contain "."'),
    (lambda m: m.add_module("", nn.Module()), "module name can't be empty string"),
])
def test_registration_errors(call, match):
    m = nn.Module()
    with pytest.raises((KeyError, TypeError)) as info:
        call(m)
    assert match in info.value.args[0]
    assert not m._parameters and not m._buffers and not m._modules


def test_non_leaf_parameter_and_before_init():
    m = nn.Module()
    x = pt.ones(2, requires_grad=True)
    with pytest.raises(TypeError, match="cannot assign"):
        m.register_parameter("w", x * 2)

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(pt.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()
    with pytest.raises(TypeError, match="unexpected keyword argument 'foo'"):
        nn.Module(foo=1)


def test_get_submodule_parameter_buffer():
    ours, theirs = P_NET(), T_NET()
    assert ours.get_submodule("stem.fc") is ours.stem.fc
    assert ours.get_submodule("") is ours
    assert ours.get_parameter("stem.fc.weight") is ours.stem.fc.weight
    assert ours.get_buffer("stem.norm.running") is ours.stem.norm.running
    for fn, arg in [("get_submodule", "stem.nope"), ("get_submodule", "stem.fc.weight"),
                    ("get_parameter", "stem.norm.running"), ("get_buffer", "stem.fc.weight"),
                    ("get_parameter", "stem.fc.nope")]:
        with pytest.raises(AttributeError) as ours_err:
            getattr(ours, fn)(arg)
        with pytest.raises(AttributeError) as theirs_err:
            getattr(theirs, fn)(arg)
        assert str(ours_err.value) == str(theirs_err.value)
    ours.set_submodule("stem.fc", P_LINEAR(3, 4, bias=False))
    assert ours.stem.fc.bias is None


def test_forward_matches_torch_and_missing_forward():
    ours, theirs = P_NET(), T_NET()
    _same_values(ours, theirs)
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    out = ours(pt.tensor(x))
    ref = theirs(torch.tensor(x))
    np.testing.assert_allclose(out.item(), ref.item(), rtol=1e-5)
    out.backward()
    ref.backward()
    for (n, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        if q.grad is None:
            assert p.grad is None, n
        else:
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(NotImplementedError, match='Module \\[Module\\] is missing the required'):
        nn.Module()(1)


# -- modes, grads ------------------------------------------------------------------------


def test_train_eval_requires_grad_zero_grad():
    net = P_NET()
    assert net.training and all(m.training for m in net.modules())
    assert net.eval() is net and not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        net.train(1)
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    net.requires_grad_()
    net(pt.ones(2, 3)).backward()
    g = net.stem.fc.weight.grad
    net.zero_grad(set_to_none=False)
    assert net.stem.fc.weight.grad is g and not g.any().item()
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert net.share_memory() is net


# -- conversions -------------------------------------------------------------------------


def test_to_keeps_identity_and_moves_grads(device):
    net = P_NET()
    net(pt.ones(2, 3)).backward()
    params = list(net.parameters())
    out = net.to(device)
    assert out is net
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]
    for p in net.parameters():
        assert str(p.device) == str(pt.device(device))
        assert p.grad is None or p.grad.device == p.device
    for b in net.buffers():
        assert b.device == params[0].device
    assert net.steps.dtype == pt.int64
    y = net(pt.ones(2, 3, device=device))
    assert y.device == params[0].device
    net.to(pt.float64)
    assert net.stem.fc.weight.dtype == pt.float64 and net.stem.fc.weight.grad.dtype == pt.float64
    assert net.steps.dtype == pt.int64  # integer buffers keep their dtype
    net.float()
    assert net.stem.fc.weight.dtype == pt.float32
    net.to(pt.ones(1, dtype=pt.float64))  # to(tensor): its device and dtype
    assert net.stem.norm.running.dtype == pt.float64
    net.to(device="cpu", dtype=pt.float32, non_blocking=True)
    assert str(net.stem.fc.weight.device) == "cpu"
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]


def test_to_errors_and_casts():
    net = P_NET()
    with pytest.raises(TypeError, match="only accepts floating point or complex dtypes"):
        net.to(pt.int32)
    net.half()
    assert net.stem.fc.weight.dtype == pt.float16 and net.steps.dtype == pt.int64
    net.double()
    assert net.pdict["z"].dtype == pt.float64
    assert net.cpu() is net
    net.type(pt.float32)
    assert net.steps.dtype == pt.float32  # type() casts everything, as PyTorch


def test_deepcopy():
    net = P_NET()
    net(pt.ones(2, 3)).backward()
    twin = copy.deepcopy(net)
    assert twin.alias is twin.stem and twin.blocks[0] is twin.blocks[2]  # sharing kept
    for (n, p), (_, q) in zip(net.named_parameters(), twin.named_parameters()):
        assert p is not q and type(q) is nn.Parameter and q.requires_grad
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
        assert (p.grad is None) == (q.grad is None), n
    assert twin.steps is not net.steps
    with pt.no_grad():
        twin.stem.fc.weight.fill_(7.0)
    assert net.stem.fc.weight.detach().numpy().max() != 7.0


# -- load_state_dict ---------------------------------------------------------------------


def _torch_error(fn):
    with pytest.raises(RuntimeError) as info:
        fn()
    return str(info.value)


def _values(net):
    return {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}


def test_load_state_dict_strict_and_non_strict_match_torch():
    ours, theirs = P_NET(), T_NET()
    sd = ours.state_dict()
    tsd = theirs.state_dict()
    for drop, extra in [(["stem.fc.bias"], []), ([], ["foo.bar", "stem.zzz"]),
                        (["heads.a.weight", "steps"], ["blocks.9.weight"])]:
        s = OrderedDict((k, v) for k, v in sd.items() if k not in drop)
        t = OrderedDict((k, v) for k, v in tsd.items() if k not in drop)
        for key in extra:
            s[key] = pt.zeros(1)
            t[key] = torch.zeros(1)
        msg = _torch_error(lambda s=s: ours.load_state_dict(s))
        tmsg = _torch_error(lambda t=t: theirs.load_state_dict(t))
        assert msg == tmsg
        res = ours.load_state_dict(s, strict=False)
        tres = theirs.load_state_dict(t, strict=False)
        assert isinstance(res, _IncompatibleKeys)
        assert res.missing_keys == tres.missing_keys
        assert res.unexpected_keys == tres.unexpected_keys
        assert repr(res) == repr(tres)
    assert repr(ours.load_state_dict(sd)) == repr(theirs.load_state_dict(tsd)) == \
        "<All keys matched successfully>"


def test_load_state_dict_values_and_size_mismatch_is_all_or_nothing():
    ours, theirs = P_NET(), T_NET()
    src = P_NET()
    _same_values(src, T_NET())
    sd = src.state_dict()
    before = _values(ours)
    bad = OrderedDict(sd)
    bad["stem.fc.weight"] = pt.zeros(2, 2)
    bad["heads.a.bias"] = pt.zeros(5)
    del bad["blocks.1.weight"]
    tbad = OrderedDict((k, torch.from_numpy(v.numpy().copy())) for k, v in bad.items())
    msg = _torch_error(lambda: ours.load_state_dict(bad))
    tmsg = _torch_error(lambda: theirs.load_state_dict(tbad))
    assert msg == tmsg.replace("torch.Size", "polytorch.Size")
    assert "size mismatch for stem.fc.weight" in msg and "size mismatch for heads.a.bias" in msg
    after = _values(ours)
    for k in before:  # nothing changed (PyTorch would have copied the valid entries)
        np.testing.assert_array_equal(before[k], after[k], err_msg=k)
    params = {n: id(p) for n, p in ours.named_parameters()}
    ours.load_state_dict(sd)
    assert params == {n: id(p) for n, p in ours.named_parameters()}
    for k, v in ours.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), sd[k].numpy(), err_msg=k)


def test_load_state_dict_converts_and_assign(device):
    net = P_NET().to(device)
    src = P_NET()
    _same_values(src, T_NET())
    sd = {k: v.double() if v.is_floating_point() else v for k, v in src.state_dict().items()}
    sd["stem.fc.weight"] = sd["stem.fc.weight"].numpy()  # NumPy values are accepted too
    net.load_state_dict(sd)
    w = net.stem.fc.weight
    assert w.dtype == pt.float32 and w.device == pt.device(device)
    np.testing.assert_allclose(pt.tensor(w.detach().cpu().numpy()).numpy(),
                               src.stem.fc.weight.detach().numpy())
    fresh = {k: v.clone() for k, v in src.state_dict().items()}
    net2 = P_NET()
    old = net2.stem.fc.weight
    net2.load_state_dict(fresh, assign=True)
    new = net2.stem.fc.weight
    assert new is not old and isinstance(new, nn.Parameter) and new.requires_grad
    np.testing.assert_array_equal(new.detach().numpy(), fresh["stem.fc.weight"].numpy())
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        net2.load_state_dict([1, 2])
    msg = _torch_error(lambda: net2.load_state_dict({**fresh, "steps": "x"}))
    assert 'While copying the parameter named "steps"' in msg


def test_load_state_dict_overridable_hooks_and_extra_state():
    class Versioned(P_NORM):
        _version = 2

        def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                                  missing_keys, unexpected_keys, error_msgs):
            # As BatchNorm does for old checkpoints: fill in a missing buffer.
            key = prefix + "count"
            if key not in state_dict:
                state_dict[key] = pt.tensor(42)
            super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                          missing_keys, unexpected_keys, error_msgs)

        def get_extra_state(self):
            return {"note": self.note}

        def set_extra_state(self, state):
            self.note = state["note"]

    m = Versioned(3)
    m.note = "a"
    sd = m.state_dict()
    assert list(sd) == ["scale", "running", "count", "_extra_state"]
    assert sd._metadata[""] == {"version": 2}
    m2 = Versioned(3)
    m2.note = "b"
    del sd["count"]
    seen = []
    m2.register_load_state_dict_post_hook(lambda mod, keys: seen.append(list(keys)))
    m2.register_load_state_dict_pre_hook(lambda mod, sd, prefix, *rest: seen.append(prefix))
    m2.load_state_dict(sd)
    assert m2.count.item() == 42 and m2.note == "a"
    assert seen == ["", [[], []]]
    m3 = Versioned(3)
    msg = _torch_error(lambda: m3.load_state_dict({"scale": pt.ones(3)}))
    assert '"running"' in msg and '"_extra_state"' in msg


def test_state_dict_hooks():
    m = P_LINEAR(2, 2)
    calls = []
    m.register_state_dict_pre_hook(lambda mod, prefix, keep_vars: calls.append(("pre", prefix)))

    def post(mod, sd, prefix, meta):
        calls.append(("post", prefix))
        sd[prefix + "extra"] = pt.zeros(1)

    h = m.register_state_dict_post_hook(post)
    assert list(m.state_dict(prefix="x.")) == ["x.weight", "x.bias", "x.extra"]
    assert calls == [("pre", "x."), ("post", "x.")]
    h.remove()
    assert list(m.state_dict()) == ["weight", "bias"]


def test_save_load_round_trip(tmp_path, device):
    src = P_NET()
    _same_values(src, T_NET())
    src.to(device)
    path = tmp_path / "net.safetensors"
    pt.save(src.state_dict(), path)
    dst = P_NET().to(device)
    dst.load_state_dict(pt.load(path, map_location=device))
    for k, v in dst.state_dict().items():
        assert v.device == pt.device(device), k
        np.testing.assert_array_equal(v.cpu().numpy(), src.state_dict()[k].cpu().numpy(),
                                      err_msg=k)


def test_safetensors_interchange_with_torch(tmp_path):
    from safetensors.torch import load_file, save_file

    ours, theirs = P_NET(), T_NET()
    _same_values(ours, T_NET())
    # polytorch -> torch: our file through PyTorch's own safetensors loader
    pt.save(ours.state_dict(), tmp_path / "a.safetensors")
    theirs.load_state_dict(load_file(str(tmp_path / "a.safetensors")))
    for k, v in theirs.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), ours.state_dict()[k].numpy(), err_msg=k)
    x = np.random.default_rng(3).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(ours(pt.tensor(x)).item(), theirs(torch.tensor(x)).item(),
                               rtol=1e-5)
    # torch -> polytorch (shared tensors stored once, as safetensors requires)
    other = T_NET()
    _same_values(P_NET(), other)
    with torch.no_grad():
        for p in other.parameters():
            p.mul_(2)
    tsd = {k: v.clone() for k, v in other.state_dict().items()}  # shared ones stored twice
    save_file(tsd, str(tmp_path / "b.safetensors"))
    fresh = P_NET()
    fresh.load_state_dict(pt.load(tmp_path / "b.safetensors"))
    for k, v in fresh.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), tsd[k].numpy(), err_msg=k)


# -- hooks -------------------------------------------------------------------------------


def _hook_log(lib_nn, lib):
    """Register the same hook sequence on a module of either library; return the log."""
    log = []
    m = lib_nn(2, 2) if callable(lib_nn) else None
    hs = []
    hs.append(m.register_forward_pre_hook(lambda mod, args: log.append("pre1")))
    hs.append(m.register_forward_pre_hook(lambda mod, args: log.append("pre0"), prepend=True))

    def pre_kw(mod, args, kwargs):
        log.append(("prekw", len(args), sorted(kwargs)))
        return (args[0] * 2,), kwargs

    hs.append(m.register_forward_pre_hook(pre_kw, with_kwargs=True))
    hs.append(m.register_forward_hook(lambda mod, args, out: log.append("fwd1")))
    hs.append(m.register_forward_hook(lambda mod, args, out: log.append("fwd0"), prepend=True))

    def fwd_kw(mod, args, kwargs, out):
        log.append(("fwdkw", float(args[0].sum())))
        return out + 1

    hs.append(m.register_forward_hook(fwd_kw, with_kwargs=True))
    out = m(lib.ones(1, 2))
    log.append(float(out.detach().sum()))
    hs[0].remove()
    hs[4].remove()
    hs[0].remove()  # removing twice is harmless
    m(lib.ones(1, 2))
    return log


def test_forward_hooks_order_and_removal_match_torch():
    assert _hook_log(P_LINEAR, pt) == _hook_log(T_LINEAR, torch)


@pytest.mark.parametrize("lib_nn", [nn, torch.nn], ids=["polytorch", "torch"])
def test_forward_hook_always_call_and_context_manager(lib_nn):
    class Boom(lib_nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    log = []
    m = Boom()
    m.register_forward_hook(lambda mod, args, out: log.append(("always", out)), always_call=True)
    m.register_forward_hook(lambda mod, args, out: log.append("never"))
    with pytest.raises(ValueError, match="boom"):
        m(1)
    assert log == [("always", None)]
    with m.register_forward_pre_hook(lambda mod, args: (args[0] + 1,)):
        pass
    assert not m._forward_pre_hooks


def test_global_forward_hooks():
    from polytorch.nn.modules import module as M

    log = []
    h = M.register_module_forward_hook(lambda mod, args, out: log.append(type(mod).__name__))
    try:
        net = nn.Sequential(P_LINEAR(2, 2), P_LINEAR(2, 2))
        net(pt.ones(1, 2))
    finally:
        h.remove()
    net(pt.ones(1, 2))
    assert log == ["MyLinear", "MyLinear", "Sequential"]


def _backward_hook_case(lib_nn_linear, lib, x_np, modify):
    m = lib_nn_linear(3, 2)
    with (torch.no_grad() if lib is torch else pt.no_grad()):
        m.weight.copy_(lib.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3) / 7))
        m.bias.copy_(lib.tensor([0.5, -0.5]))
    log = []

    def hook(mod, gin, gout):
        log.append(("full", [None if g is None else g.detach().numpy().copy() for g in gin],
                    [g.detach().numpy().copy() for g in gout]))
        if modify:
            return tuple(None if g is None else g * 3 for g in gin)
        return None

    def pre(mod, gout):
        log.append(("pre", [g.detach().numpy().copy() for g in gout]))

    m.register_full_backward_hook(hook)
    m.register_full_backward_pre_hook(pre)
    x = lib.tensor(x_np, requires_grad=True)
    (m(x) ** 2).sum().backward()
    return log, x.grad.numpy(), m.weight.grad.numpy()


@pytest.mark.parametrize("modify", [False, True])
def test_full_backward_hooks_match_torch(modify):
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    ours = _backward_hook_case(P_LINEAR, pt, x, modify)
    theirs = _backward_hook_case(T_LINEAR, torch, x, modify)
    log, tlog = ours[0], theirs[0]
    assert [e[0] for e in log] == [e[0] for e in tlog] == ["pre", "full"]
    for a, b in zip(log[0][1], tlog[0][1]):
        np.testing.assert_allclose(a, b, rtol=1e-5)
    for a, b in zip(log[1][1] + log[1][2], tlog[1][1] + tlog[1][2]):
        np.testing.assert_allclose(a, b, rtol=1e-5)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-5)  # grad_input replaced or not
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-5)


def test_full_backward_hook_without_input_grad():
    m = P_LINEAR(3, 2)
    seen = []
    m.register_full_backward_hook(lambda mod, gin, gout: seen.append((gin, len(gout))))
    m(pt.ones(1, 3)).sum().backward()  # input needs no gradient: grad_input is (None,)
    assert seen == [((None,), 1)]
    with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks"):
        m.register_backward_hook(lambda *a: None)


# -- repr --------------------------------------------------------------------------------


def _torch_spelling(text):
    return text.replace("polytorch.", "torch.")


def test_repr_matches_torch():
    assert _torch_spelling(repr(P_NET())) == repr(T_NET())
    ours = nn.ModuleList([P_LINEAR(2, 2), P_LINEAR(2, 2), P_LINEAR(2, 3), P_LINEAR(2, 2)])
    theirs = torch.nn.ModuleList([T_LINEAR(2, 2), T_LINEAR(2, 2), T_LINEAR(2, 3),
                                  T_LINEAR(2, 2)])
    assert repr(ours) == repr(theirs)
    assert repr(nn.ModuleList()) == repr(torch.nn.ModuleList())
    assert repr(nn.Sequential()) == repr(torch.nn.Sequential())

    def extra(self):
        return "a=1,\nb=2"

    Multi = type("Multi", (nn.Module,), {"extra_repr": extra})
    TMulti = type("Multi", (torch.nn.Module,), {"extra_repr": extra})

    ours = nn.Sequential(Multi(), nn.Sequential(Multi(), P_LINEAR(1, 1)))
    theirs = torch.nn.Sequential(TMulti(), torch.nn.Sequential(TMulti(), T_LINEAR(1, 1)))
    assert repr(ours) == repr(theirs)
    pl = nn.ParameterList([pt.ones(2, 3), "text"])
    tpl = torch.nn.ParameterList([torch.ones(2, 3), "text"])
    assert _torch_spelling(repr(pl)) == repr(tpl)


# -- containers --------------------------------------------------------------------------


def _struct(seq):
    return [(n, type(m).__name__, getattr(m, "out_features", None))
            for n, m in seq.named_children()]


def test_sequential_operations_match_torch():
    def run(lib_nn, lin):
        s = lib_nn.Sequential(lin(1, 1), lin(1, 2), lin(2, 3))
        out = [_struct(s), _struct(s[1:]), type(s[::2]).__name__, s[-1].out_features, len(s)]
        s.append(lin(3, 4))
        s.insert(1, lin(9, 9))
        s.insert(-1, lin(8, 8))
        out.append(_struct(s))
        popped = s.pop(0)
        out.append((popped.out_features, _struct(s)))
        del s[1:3]
        out.append(_struct(s))
        s[0] = lin(7, 7)
        s.extend(lib_nn.Sequential(lin(5, 5)))
        out.append(_struct(s))
        out.append(_struct(s + lib_nn.Sequential(lin(6, 6))))
        out.append(_struct(s * 2))
        s += lib_nn.Sequential(lin(4, 4))
        out.append(_struct(s))
        for bad in (lambda: s[10], lambda: s.insert(10, lin(1, 1))):
            with pytest.raises(IndexError):
                bad()
        named = lib_nn.Sequential(OrderedDict([("a", lin(1, 2)), ("b", lin(2, 3))]))
        out.append(_struct(named))
        out.append(_struct(named[1:]))
        out.append([k for k in dir(named) if k in ("a", "b", "0")])
        return out

    assert run(nn, P_LINEAR) == run(torch.nn, T_LINEAR)
    seq = nn.Sequential(P_LINEAR(3, 2), P_LINEAR(2, 1))
    x = pt.ones(4, 3)
    np.testing.assert_allclose(seq(x).detach().numpy(), seq[1](seq[0](x)).detach().numpy())
    with pytest.raises(ValueError, match="add operator supports only objects of Sequential"):
        seq + nn.ModuleList()  # noqa: B018


def test_module_list_and_dict_match_torch():
    def run(lib_nn, lin):
        ml = lib_nn.ModuleList([lin(1, 1), lin(1, 2)])
        ml.append(lin(2, 3))
        ml.extend([lin(3, 4)])
        ml.insert(1, lin(9, 9))
        ml += [lin(5, 5)]
        out = [_struct(ml), [m.out_features for m in ml[1:3]], ml[-1].out_features]
        del ml[0]
        ml.pop(-1)
        ml[0] = lin(8, 8)
        out.append(_struct(ml))
        out.append(_struct(ml + lib_nn.ModuleList([lin(1, 1)])))
        md = lib_nn.ModuleDict({"z": lin(1, 1), "a": lin(1, 2)})
        md["m"] = lin(2, 2)
        md.update([("b", lin(3, 3))])
        out.append(_struct(md))
        out.append((list(md.keys()), "a" in md, len(md), md.pop("z").out_features))
        out.append(list(md))
        md.clear()
        out.append(len(md))
        return out

    assert run(nn, P_LINEAR) == run(torch.nn, T_LINEAR)
    with pytest.raises(TypeError, match="ModuleList.extend should be called with an iterable"):
        nn.ModuleList().extend(3)
    with pytest.raises(ValueError, match="has length 3; 2 is required"):
        nn.ModuleDict().update([("a", 1, 2)])


def test_parameter_list_and_dict_match_torch():
    def run(lib_nn, lib):
        pl = lib_nn.ParameterList([lib.ones(2), lib_nn.Parameter(lib.zeros(3))])
        pl.append(lib.ones(1))
        pl.extend([lib.zeros(4)])
        out = [[(n, tuple(p.shape)) for n, p in pl.named_parameters()],
               [type(p).__name__ for p in pl], len(pl), tuple(pl[-1].shape),
               len(pl[1:3])]
        pd = lib_nn.ParameterDict({"b": lib.ones(1), "a": lib.ones(2)})  # plain dict: sorted
        pd["c"] = lib.zeros(3)
        pd.update(OrderedDict([("z", lib.ones(1)), ("y", lib.ones(1))]))
        out.append([(n, tuple(p.shape)) for n, p in pd.named_parameters()])
        out.append((list(pd.keys()), "a" in pd, len(pd), tuple(pd.pop("a").shape)))
        out.append(list(pd))
        out.append(pd.get("nope", 5))
        out.append(list(pd.copy().keys()))
        return out

    assert run(nn, pt) == run(torch.nn, torch)
    with pytest.raises(RuntimeError, match="ParameterList should not be called"):
        nn.ParameterList()(1)
    with pytest.raises(TypeError, match="cannot be used as a key as it is not a string"):
        nn.ParameterDict()[1] = pt.ones(1)
    pd = nn.ParameterDict({"a": pt.ones(1)})
    tpd = torch.nn.ParameterDict({"a": torch.ones(1)})
    assert _torch_spelling(repr(pd)).replace("torch.FloatTensor", "torch.FloatTensor") == \
        repr(tpd)


def _backward_hook_multi(lib, lnn):
    def host(gs):
        return [None if g is None else g.detach().numpy().round(4).tolist() for g in gs]

    class M(lnn.Module):
        def forward(self, x, k, y):
            return x * y * k, x + 1

    class N(lnn.Module):
        def forward(self, x, unused):
            return x * 2

    log = []

    def hook(mod, gin, gout):
        log.append(("full", host(gin), host(gout)))

    def pre(mod, gout):
        log.append(("pre", host(gout)))
        return (gout[0] * 2, gout[1])

    m = M()
    m.register_full_backward_hook(hook)
    m.register_full_backward_pre_hook(pre)
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    a, _ = m(x, 2.0, lib.tensor([3.0, 4.0]))  # y needs no grad; output b unused
    a.sum().backward()
    log.append(x.grad.tolist())
    y = lib.tensor([3.0, 4.0], requires_grad=True)
    a, b = m(x, 3.0, y)
    (a.sum() + (b * b).sum()).backward()
    log.append((x.grad.tolist(), y.grad.tolist()))
    n = N()
    n.register_full_backward_hook(hook)
    u = lib.ones(2, requires_grad=True)
    n(lib.tensor([3.0, 4.0], requires_grad=True), u).sum().backward()
    log.append(u.grad.tolist())
    return log


def test_full_backward_hooks_tuples_non_tensors_and_unused_match_torch():
    assert _backward_hook_multi(pt, nn) == _backward_hook_multi(torch, torch.nn)


def test_failed_to_changes_nothing():
    net = P_NET()
    net.stem.norm.running = pt.zeros(4, dtype=pt.float64)  # strict:3 has no float64
    before = {n: (id(t), t.device) for n, t in net.state_dict(keep_vars=True).items()}
    with pytest.raises(TypeError, match="float64 is not supported on device 'strict:3'"):
        net.to("strict:3")
    after = {n: (id(t), t.device) for n, t in net.state_dict(keep_vars=True).items()}
    assert before == after
    net.to("strict:3", pt.float32)  # casting first makes it fit
    assert str(net.stem.norm.running.device) == "strict:3"


def test_load_state_dict_from_a_torch_state_dict_directly():
    ours, theirs = P_NET(), T_NET()
    _same_values(P_NET(), theirs)
    ours.load_state_dict(theirs.state_dict())  # torch CPU tensors convert through __array__
    for k, v in ours.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), theirs.state_dict()[k].numpy(), err_msg=k)
    msg = _torch_error(lambda: ours.load_state_dict({**ours.state_dict(), "steps": object()}))
    assert 'While copying the parameter named "steps", expected polytorch.Tensor' in msg
