"""The layers of C1's modules against PyTorch's: signatures, reprs, state_dict keys, default
initialisation, outputs and gradients with PyTorch's weights loaded, BatchNorm's running
statistics over several steps, errors, and a small network on every device.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
import torch
import torch.nn as tnn
from helpers import host

import polytorch
import polytorch.nn as nn

RNG = np.random.default_rng(0)

LAYERS = [
    "Identity", "Linear", "Bilinear", "Threshold", "ReLU", "RReLU", "Hardtanh", "ReLU6",
    "Sigmoid", "Hardsigmoid", "Tanh", "SiLU", "Mish", "Hardswish", "ELU", "CELU", "SELU", "GLU",
    "GELU", "Hardshrink", "LeakyReLU", "LogSigmoid", "Softplus", "Softshrink", "PReLU",
    "Softsign", "Tanhshrink", "Softmin", "Softmax", "Softmax2d", "LogSoftmax", "BatchNorm1d",
    "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
    "LayerNorm", "GroupNorm", "RMSNorm", "LocalResponseNorm", "Dropout", "Dropout1d",
    "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout", "Embedding",
    "EmbeddingBag", "Flatten", "Unflatten", "CosineSimilarity", "PairwiseDistance",
]


def _params(fn):
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("name", LAYERS)
def test_signature_matches_torch(name):
    ours, theirs = getattr(nn, name), getattr(tnn, name)
    assert _params(ours.__init__) == _params(theirs.__init__)
    assert ours.__module__.replace("polytorch", "torch") == theirs.__module__ or \
        name.startswith("InstanceNorm")  # PyTorch keeps those in instancenorm.py
    if hasattr(theirs, "from_pretrained"):
        assert _params(ours.from_pretrained) == _params(theirs.from_pretrained)


REPRS = [
    ("Linear", (3, 4), {}), ("Linear", (3, 4), {"bias": False}), ("Bilinear", (2, 3, 4), {}),
    ("ReLU", (), {"inplace": True}), ("ReLU6", (), {}), ("LeakyReLU", (0.2, True), {}),
    ("PReLU", (3,), {}), ("RReLU", (0.1, 0.3), {}), ("ELU", (0.5,), {}), ("CELU", (), {}),
    ("SELU", (True,), {}), ("GELU", ("tanh",), {}), ("SiLU", (), {}), ("Mish", (True,), {}),
    ("Softplus", (2.0, 10.0), {}), ("Softshrink", (0.3,), {}), ("Hardshrink", (), {}),
    ("Hardtanh", (-2.0, 2.0), {}), ("Hardswish", (), {}), ("Hardsigmoid", (True,), {}),
    ("Threshold", (0.1, 20.0), {}), ("Softmax", (1,), {}), ("LogSoftmax", (), {}),
    ("Softmin", (0,), {}), ("GLU", (0,), {}), ("Tanh", (), {}), ("Sigmoid", (), {}),
    ("BatchNorm1d", (3,), {}), ("BatchNorm2d", (3,), {"momentum": None, "affine": False}),
    ("BatchNorm3d", (3,), {"track_running_stats": False, "bias": False}),
    ("InstanceNorm1d", (3,), {}), ("InstanceNorm2d", (3,), {"affine": True}),
    ("LayerNorm", ((3, 4),), {}), ("LayerNorm", (4,), {"bias": False, "eps": 1e-3}),
    ("GroupNorm", (2, 4), {}), ("RMSNorm", ([4],), {"eps": 1e-6}),
    ("LocalResponseNorm", (2,), {}), ("Dropout", (0.2,), {}), ("Dropout2d", (), {}),
    ("AlphaDropout", (0.1, True), {}), ("Embedding", (5, 3), {}),
    ("Embedding", (5, 3), {"padding_idx": -1, "max_norm": 1.0, "norm_type": 3.0,
                           "scale_grad_by_freq": True, "sparse": True}),
    ("EmbeddingBag", (5, 3), {"mode": "sum", "padding_idx": 2, "max_norm": 2.0}),
    ("Flatten", (0, 2), {}), ("Unflatten", (1, (2, 3)), {}), ("CosineSimilarity", (), {}),
    ("PairwiseDistance", (), {}), ("Identity", (1,), {"x": 2}),
]


@pytest.mark.parametrize("name,args,kwargs", REPRS)
def test_repr_and_state_dict_keys_match_torch(name, args, kwargs):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(tnn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        got = ours.state_dict()[key]
        assert tuple(got.shape) == tuple(value.shape), key
        assert got.dtype.name == str(value.dtype).split(".")[-1], key


def test_batchnorm_state_dict_keys():
    assert list(nn.BatchNorm2d(4).state_dict()) == [
        "weight", "bias", "running_mean", "running_var", "num_batches_tracked"]


# -- default initialisation ------------------------------------------------------------------


def test_linear_and_bilinear_default_init():
    polytorch.manual_seed(0)
    m = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)  # kaiming_uniform_(a=sqrt(5)) gives the same bound as the bias
    w, b = host(m.weight), host(m.bias)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    assert np.abs(b).max() <= bound and abs(b.mean()) < 0.1 * bound
    bl = nn.Bilinear(50, 20, 30)
    bound = 1 / math.sqrt(50)
    assert np.abs(host(bl.weight)).max() <= bound
    assert abs(host(bl.weight).std() - bound / math.sqrt(3)) < 0.02 * bound


def test_embedding_norm_and_prelu_default_init():
    polytorch.manual_seed(0)
    e = nn.Embedding(1000, 64, padding_idx=3)
    w = host(e.weight)
    assert not w[3].any()
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01
    for m in (nn.BatchNorm1d(5), nn.LayerNorm(5), nn.GroupNorm(1, 5), nn.InstanceNorm1d(
            5, affine=True)):
        np.testing.assert_array_equal(host(m.weight), np.ones(5))
        np.testing.assert_array_equal(host(m.bias), np.zeros(5))
    np.testing.assert_array_equal(host(nn.RMSNorm(5).weight), np.ones(5))
    np.testing.assert_array_equal(host(nn.PReLU(3, 0.1).weight), np.full(3, 0.1, np.float32))
    bn = nn.BatchNorm1d(5)
    np.testing.assert_array_equal(host(bn.running_var), np.ones(5))
    assert bn.num_batches_tracked.dtype == polytorch.int64 and bn.num_batches_tracked.item() == 0


def test_factory_kwargs():
    m = nn.Linear(3, 2, dtype=polytorch.float64)
    assert m.weight.dtype == polytorch.float64 and m.bias.dtype == polytorch.float64
    bn = nn.BatchNorm1d(3, dtype=polytorch.float64)
    assert bn.running_mean.dtype == polytorch.float64
    assert bn.num_batches_tracked.dtype == polytorch.int64


# -- outputs and gradients with PyTorch's weights --------------------------------------------


def _load(ours, theirs, device="cpu"):
    ours.load_state_dict({k: polytorch.tensor(v.detach().numpy(), device=device)
                          for k, v in theirs.state_dict().items()})
    return ours


def _compare(ours, theirs, *arrays, device="cpu", rtol=1e-5, atol=1e-5, grad=True):
    xs = [polytorch.tensor(a, device=device, requires_grad=grad and a.dtype.kind == "f")
          for a in arrays]
    ts = [torch.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    a, b = ours(*xs), theirs(*ts)
    np.testing.assert_allclose(host(a), host(b), rtol=rtol, atol=atol)
    if not grad:
        return
    w = RNG.uniform(-1, 1, size=tuple(b.shape)).astype(np.float32)
    (a * polytorch.tensor(w, device=device)).sum().backward()
    (b * torch.tensor(w)).sum().backward()
    for x, t in zip(xs, ts):
        if t.grad is not None:
            np.testing.assert_allclose(host(x.grad), host(t.grad), rtol=rtol * 10,
                                       atol=atol * 10)
    named = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        if p.grad is not None:
            np.testing.assert_allclose(host(named[name].grad), host(p.grad), rtol=rtol * 10,
                                       atol=atol * 10, err_msg=name)


def _x(*shape):
    return RNG.uniform(-2, 2, size=shape).astype(np.float32)


MODULES = [
    ("Linear", (4, 3), [(5, 4)]), ("Linear", (4, 3, False), [(2, 5, 4)]),
    ("Bilinear", (4, 2, 3), [(5, 4), (5, 2)]), ("PReLU", (3,), [(2, 3, 4)]),
    ("LayerNorm", ((3, 4),), [(2, 3, 4)]), ("GroupNorm", (2, 4), [(3, 4, 5)]),
    ("RMSNorm", (4,), [(3, 4)]), ("LocalResponseNorm", (3,), [(2, 5, 4)]),
    ("InstanceNorm1d", (3, 1e-5, 0.1, True), [(2, 3, 6)]), ("InstanceNorm2d", (3,), [(3, 4, 4)]),
    ("GELU", ("tanh",), [(3, 4)]), ("Softmax", (1,), [(3, 4)]), ("LogSoftmax", (0,), [(3, 4)]),
    ("Softmax2d", (), [(2, 3, 2, 2)]), ("GLU", (), [(3, 4)]), ("Flatten", (), [(2, 3, 4)]),
    ("Unflatten", (1, (2, 2)), [(3, 4)]), ("CosineSimilarity", (), [(3, 4), (3, 4)]),
    ("PairwiseDistance", (1.0,), [(3, 4), (3, 4)]), ("Identity", (), [(3,)]),
    ("Dropout", (), [(3, 4)]), ("AlphaDropout", (), [(3, 4)]),
]


@pytest.mark.parametrize("name,args,shapes", MODULES, ids=[m[0] for m in MODULES])
def test_module_matches_torch(name, args, shapes):
    torch.manual_seed(0)
    theirs = getattr(tnn, name)(*args)
    ours = _load(getattr(nn, name)(*args), theirs)
    if name.endswith("Dropout"):
        ours.eval()
        theirs.eval()
    _compare(ours, theirs, *(_x(*s) for s in shapes), rtol=1e-4, atol=1e-5)


def test_embedding_modules_match_torch():
    torch.manual_seed(0)
    theirs = tnn.Embedding(6, 3, padding_idx=1)
    ours = _load(nn.Embedding(6, 3, padding_idx=1), theirs)
    _compare(ours, theirs, np.array([[1, 2, 0], [5, 1, 1]]))
    bag_t = tnn.EmbeddingBag(6, 3, mode="max")
    bag_o = _load(nn.EmbeddingBag(6, 3, mode="max"), bag_t)
    _compare(bag_o, bag_t, np.array([1, 2, 0, 5, 1]), np.array([0, 2]))
    pre = RNG.uniform(-1, 1, size=(4, 2)).astype(np.float32)
    e = nn.Embedding.from_pretrained(polytorch.tensor(pre), freeze=False, padding_idx=0)
    assert e.weight.requires_grad and e.padding_idx == 0
    np.testing.assert_array_equal(host(e(polytorch.tensor([0, 3]))), pre[[0, 3]])
    bag = nn.EmbeddingBag.from_pretrained(polytorch.tensor(pre), mode="sum")
    assert not bag.weight.requires_grad
    np.testing.assert_allclose(host(bag(polytorch.tensor([[0, 3]]))), pre[[0]] + pre[[3]])


@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)),
                                       ("BatchNorm2d", (2, 3, 4, 4)),
                                       ("BatchNorm3d", (2, 3, 2, 2, 2))])
def test_batchnorm_running_statistics_match_torch(cls, shape, momentum):
    theirs = getattr(tnn, cls)(3, momentum=momentum)
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 1.5)
        theirs.bias.uniform_(-0.5, 0.5)
    ours = _load(getattr(nn, cls)(3, momentum=momentum), theirs)
    for step in range(3):
        x = _x(*shape) * (step + 1) + step
        _compare(ours, theirs, x, rtol=1e-4, atol=1e-5)
        for key in ("running_mean", "running_var"):
            np.testing.assert_allclose(host(getattr(ours, key)), host(getattr(theirs, key)),
                                       rtol=1e-5, atol=1e-6, err_msg=key)
    assert ours.num_batches_tracked.item() == 3
    ours.eval()
    theirs.eval()
    _compare(ours, theirs, _x(*shape), rtol=1e-4, atol=1e-5)


def test_batchnorm_without_running_stats_or_affine():
    for kwargs in ({"track_running_stats": False}, {"affine": False}):
        theirs = tnn.BatchNorm1d(3, **kwargs)
        ours = _load(nn.BatchNorm1d(3, **kwargs), theirs)
        _compare(ours, theirs, _x(4, 3), rtol=1e-4, atol=1e-5)
        ours.eval()
        theirs.eval()
        _compare(ours, theirs, _x(4, 3), rtol=1e-4, atol=1e-5)


def test_instancenorm_tracking_running_stats():
    theirs = tnn.InstanceNorm1d(3, track_running_stats=True, affine=True)
    ours = _load(nn.InstanceNorm1d(3, track_running_stats=True, affine=True), theirs)
    for _ in range(2):
        _compare(ours, theirs, _x(2, 3, 5), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(host(ours.running_var), host(theirs.running_var), rtol=1e-5)
    ours.eval()
    theirs.eval()
    _compare(ours, theirs, _x(3, 5), rtol=1e-4, atol=1e-5)


def test_dropout_modules_train_and_eval():
    polytorch.manual_seed(0)
    m = nn.Dropout(0.25)
    x = polytorch.ones(4000)
    out = host(m(x))
    assert abs((out == 0).mean() - 0.25) < 0.03
    np.testing.assert_allclose(out[out != 0], 1 / 0.75, rtol=1e-6)
    m.eval()
    assert m(x) is x
    d2 = nn.Dropout2d(0.5)
    out = host(d2(polytorch.ones(8, 16, 3, 3))).reshape(128, 9)
    assert (out == out[:, :1]).all()


# -- errors ----------------------------------------------------------------------------------


def test_layer_errors():
    with pytest.raises(RuntimeError, match=r"Linear: expected input with last dimension 4 "
                                           r"\(in_features\), got shape \[2, 3\]"):
        nn.Linear(4, 5)(polytorch.ones(2, 3))
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4D input \(got 3D input\)"):
        nn.BatchNorm2d(3)(polytorch.ones(2, 3, 4))
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected 2D or 3D input \(got 4D"):
        nn.BatchNorm1d(3)(polytorch.ones(2, 3, 4, 4))
    with pytest.raises(IndexError, match=r"index 10 is out of range.*num_embeddings=10"):
        nn.Embedding(10, 3)(polytorch.tensor([[1, 10]]))
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but "
                                         "got 1.5"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match=r"num_channels \(5\) must be divisible by num_groups"):
        nn.GroupNorm(2, 5)
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(3, 2, padding_idx=3)
    with pytest.raises(ValueError, match="expected input's size at dim=1 to match num_features"):
        nn.InstanceNorm1d(3, affine=True)(polytorch.ones(2, 4, 5))


# -- every device ----------------------------------------------------------------------------


def test_small_network_on_every_device(device):
    """Linear, LayerNorm, GELU, BatchNorm1d and Embedding: outputs and gradients as cpu's."""
    torch.manual_seed(0)
    t_layers = [tnn.Embedding(5, 4), tnn.Linear(4, 6), tnn.LayerNorm(6), tnn.GELU(),
                tnn.BatchNorm1d(6), tnn.Linear(6, 2)]
    o_layers = [_load(getattr(nn, type(t).__name__)(*a), t).to(device) for t, a in
                zip(t_layers, [(5, 4), (4, 6), (6,), (), (6,), (6, 2)])]
    idx = np.array([0, 3, 4, 1])

    def run(layers, x):
        for layer in layers:
            x = layer(x)
        return x

    a = run(o_layers, polytorch.tensor(idx, device=device))
    b = run(t_layers, torch.tensor(idx))
    np.testing.assert_allclose(host(a), host(b), rtol=1e-4, atol=1e-5)
    a.square().sum().backward()
    b.square().sum().backward()
    for o, t in zip(o_layers, t_layers):
        named = dict(o.named_parameters())
        for name, p in t.named_parameters():
            np.testing.assert_allclose(host(named[name].grad), host(p.grad), rtol=1e-3,
                                       atol=1e-5, err_msg=f"{type(t).__name__}.{name}")
    np.testing.assert_allclose(host(o_layers[4].running_var), host(t_layers[4].running_var),
                               rtol=1e-5)
    for layer in o_layers + t_layers:  # eval: BatchNorm folds its running statistics in
        layer.eval()
    with polytorch.no_grad(), torch.no_grad():
        np.testing.assert_allclose(host(run(o_layers, polytorch.tensor(idx, device=device))),
                                   host(run(t_layers, torch.tensor(idx))), rtol=1e-4, atol=1e-5)


def test_docstring_examples_run():
    import doctest

    import polytorch.nn.functional as F
    from polytorch.nn import _functional_core
    from polytorch.nn.modules import (
        activation,
        batchnorm,
        distance,
        dropout,
        flatten,
        linear,
        normalization,
        sparse,
    )
    from polytorch.ops import nn as ops_nn

    for module in (ops_nn, _functional_core, activation, batchnorm, distance, dropout, flatten,
                   linear, normalization, sparse):
        result = doctest.testmod(module, extraglobs={"polytorch": polytorch, "F": F, "nn": nn})
        assert result.failed == 0 and result.attempted > 0, module.__name__
