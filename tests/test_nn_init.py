"""nn.init against PyTorch's formulas: gains and fans from torch itself, sample statistics
from the closed-form distributions, orthogonality, deterministic fills equal to torch's."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import polytorch as pt
from polytorch.nn import init

NONLINEARITIES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]


def _np(t):
    return t.detach().cpu().numpy().astype(np.float64)


@pytest.mark.parametrize("name", NONLINEARITIES)
def test_calculate_gain_equals_torch(name):
    assert init.calculate_gain(name) == torch.nn.init.calculate_gain(name)


@pytest.mark.parametrize("param", [None, 0, 0.2, 3, -0.5])
def test_calculate_gain_leaky_relu_param(param):
    assert init.calculate_gain("leaky_relu", param) == \
        torch.nn.init.calculate_gain("leaky_relu", param)


def test_calculate_gain_errors():
    for bad, msg in [(("gelu",), "Unsupported nonlinearity gelu"),
                     (("leaky_relu", True), "negative_slope True not a valid number"),
                     (("leaky_relu", "x"), "negative_slope x not a valid number")]:
        with pytest.raises(ValueError) as ours:
            init.calculate_gain(*bad)
        with pytest.raises(ValueError) as theirs:
            torch.nn.init.calculate_gain(*bad)
        assert str(ours.value) == str(theirs.value) == msg


@pytest.mark.parametrize("shape", [(3, 5), (7, 2), (4, 3, 5), (8, 4, 3, 3), (2, 6, 1, 2, 3)])
def test_fan_in_and_fan_out_equal_torch(shape):
    assert init._calculate_fan_in_and_fan_out(pt.empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


def test_fan_errors():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(pt.empty(3))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(pt.empty(3, 4), mode="fan_avg")
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.kaiming_normal_(pt.empty(3, 4), nonlinearity="swish")
    with pytest.raises(TypeError, match="nn.init.uniform_: tensor must be a polytorch Tensor"):
        init.uniform_(np.zeros(3))


# Large enough for ~1% statistics: the std of a sample std is std / sqrt(2 n).
SHAPE = (256, 64, 3)
FAN_IN, FAN_OUT = 64 * 3, 256 * 3


def _uniform_checks(x, bound):
    assert x.min() >= -bound and x.max() < bound
    assert x.min() < -0.98 * bound and x.max() > 0.98 * bound
    np.testing.assert_allclose(x.std(), bound / math.sqrt(3), rtol=0.02)
    assert abs(x.mean()) < 0.02 * bound


@pytest.mark.parametrize("case", [
    ("uniform_", {"a": -0.3, "b": 0.7}),
    ("kaiming_uniform_", {}),
    ("kaiming_uniform_", {"a": 0.2, "mode": "fan_out", "nonlinearity": "leaky_relu"}),
    ("kaiming_uniform_", {"mode": "fan_in", "nonlinearity": "relu"}),
    ("xavier_uniform_", {"gain": 2.0}),
])
def test_uniform_family_statistics(case):
    name, kw = case
    x = _np(getattr(init, name)(pt.empty(*SHAPE), **kw))
    if name == "uniform_":
        assert x.min() >= -0.3 and x.max() < 0.7
        np.testing.assert_allclose(x.mean(), 0.2, atol=0.01)
        np.testing.assert_allclose(x.std(), 1.0 / math.sqrt(12), rtol=0.02)
        return
    if name == "xavier_uniform_":
        bound = 2.0 * math.sqrt(6.0 / (FAN_IN + FAN_OUT))
    else:
        fan = FAN_OUT if kw.get("mode") == "fan_out" else FAN_IN
        gain = torch.nn.init.calculate_gain(kw.get("nonlinearity", "leaky_relu"), kw.get("a", 0))
        bound = gain * math.sqrt(3.0 / fan)
    _uniform_checks(x, bound)


@pytest.mark.parametrize("case", [
    ("normal_", {"mean": 0.5, "std": 0.2}),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_normal_", {"a": 1.0}),
    ("xavier_normal_", {"gain": 0.5}),
])
def test_normal_family_statistics(case):
    name, kw = case
    x = _np(getattr(init, name)(pt.empty(*SHAPE), **kw))
    if name == "normal_":
        mean, std = 0.5, 0.2
    elif name == "xavier_normal_":
        mean, std = 0.0, 0.5 * math.sqrt(2.0 / (FAN_IN + FAN_OUT))
    else:
        fan = FAN_OUT if kw.get("mode") == "fan_out" else FAN_IN
        gain = torch.nn.init.calculate_gain(kw.get("nonlinearity", "leaky_relu"), kw.get("a", 0))
        mean, std = 0.0, gain / math.sqrt(fan)
    np.testing.assert_allclose(x.std(), std, rtol=0.02)
    assert abs(x.mean() - mean) < 0.02 * std
    # Normal, not uniform: the fourth standardized moment is 3.
    np.testing.assert_allclose(np.mean(((x - x.mean()) / x.std()) ** 4), 3.0, atol=0.1)


def _phi(z):
    return math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


def _Phi(z):
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


@pytest.mark.parametrize("mean, std, a, b", [(0.0, 1.0, -2.0, 2.0), (0.5, 1.0, -1.0, 1.5),
                                             (0.0, 0.02, -0.04, 0.04), (1.0, 2.0, 0.0, 10.0)])
def test_trunc_normal_bounds_and_moments(mean, std, a, b):
    x = _np(init.trunc_normal_(pt.empty(*SHAPE, dtype=pt.float64), mean, std, a, b))
    assert x.min() >= a and x.max() <= b
    alpha, beta = (a - mean) / std, (b - mean) / std
    z = _Phi(beta) - _Phi(alpha)
    mu = mean + std * (_phi(alpha) - _phi(beta)) / z
    var = std**2 * (1 + (alpha * _phi(alpha) - beta * _phi(beta)) / z
                    - ((_phi(alpha) - _phi(beta)) / z) ** 2)
    np.testing.assert_allclose(x.mean(), mu, atol=0.02 * math.sqrt(var))
    np.testing.assert_allclose(x.std(), math.sqrt(var), rtol=0.02)


def test_trunc_normal_warns_far_mean():
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        init.trunc_normal_(pt.empty(10), mean=5.0, std=1.0, a=-1.0, b=1.0)


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4), (6, 2, 3, 3)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_orthogonal(shape, gain):
    w = init.orthogonal_(pt.empty(*shape, dtype=pt.float64), gain=gain)
    q = _np(w).reshape(shape[0], -1) / gain
    small = q @ q.T if q.shape[0] <= q.shape[1] else q.T @ q
    np.testing.assert_allclose(small, np.eye(small.shape[0]), atol=1e-10)
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions"):
        init.orthogonal_(pt.empty(3))


def test_eye_and_dirac_equal_torch():
    for shape in [(3, 5), (4, 2)]:
        np.testing.assert_array_equal(_np(init.eye_(pt.empty(*shape))),
                                      torch.nn.init.eye_(torch.empty(*shape)).numpy())
    for shape, groups in [((3, 16, 5), 1), ((4, 2, 3, 3), 1), ((6, 4, 3, 5), 3),
                          ((2, 2, 3, 3, 3), 2), ((4, 1, 3, 3), 2)]:
        ours = init.dirac_(pt.full(shape, 5.0), groups)
        theirs = torch.nn.init.dirac_(torch.full(shape, 5.0), groups)
        np.testing.assert_array_equal(_np(ours), theirs.numpy())
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(pt.empty(2, 2, 2))
    with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions"):
        init.dirac_(pt.empty(2, 2))
    with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
        init.dirac_(pt.empty(3, 2, 3), groups=2)


def test_constant_ones_zeros_keep_identity_and_no_graph():
    p = pt.nn.Parameter(pt.empty(2, 3))
    assert init.constant_(p, 0.25) is p and p.requires_grad and p.grad_fn is None
    np.testing.assert_array_equal(_np(p), np.full((2, 3), 0.25))
    init.ones_(p)
    assert _np(p).tolist() == np.ones((2, 3)).tolist()
    init.zeros_(p)
    assert not _np(p).any()
    for fn in (init.uniform_, init.normal_, init.xavier_uniform_, init.kaiming_normal_,
               init.trunc_normal_, init.orthogonal_):
        assert fn(p) is p and p.grad_fn is None and p.requires_grad


def test_sparse_zeros_per_column():
    w = init.sparse_(pt.empty(10, 40), sparsity=0.3, std=0.5)
    x = _np(w)
    assert ((x == 0).sum(axis=0) == math.ceil(0.3 * 10)).all()
    np.testing.assert_allclose(x[x != 0].std(), 0.5, rtol=0.15)
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        init.sparse_(pt.empty(3), 0.5)


def test_zero_element_kaiming_warns():
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        init.kaiming_uniform_(pt.empty(0, 3))


def test_deprecated_aliases_warn():
    with pytest.warns(FutureWarning, match="nn.init.uniform` is now deprecated"):
        init.uniform(pt.empty(2))


def test_generator_reproducible_across_devices(device):
    # Same seed, same values on every backend (the counter-based generator).
    out = []
    for dev in ("cpu", device):
        g = pt.Generator(device=dev).manual_seed(123)
        w = pt.empty(6, 4, device=dev)
        init.kaiming_uniform_(w, a=math.sqrt(5), generator=g)
        init.normal_(w[:2], generator=g)  # writes through a view
        out.append(_np(w))
    np.testing.assert_allclose(out[0], out[1], rtol=1e-6)
    bound = 1 / math.sqrt(4)
    assert np.abs(out[1][2:]).max() <= bound


@pytest.mark.parametrize("fn", ["trunc_normal_", "orthogonal_", "xavier_normal_", "sparse_",
                                "dirac_"])
def test_runs_on_every_device(device, fn):
    if fn == "dirac_":
        w = init.dirac_(pt.empty(4, 2, 3, device=device))
        np.testing.assert_array_equal(_np(w), torch.nn.init.dirac_(torch.empty(4, 2, 3)))
        return
    w = pt.empty(8, 6, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if fn == "sparse_":
            init.sparse_(w, 0.5)
            assert ((_np(w) == 0).sum(axis=0) == 4).all()
        else:
            getattr(init, fn)(w)
    x = _np(w)
    assert np.isfinite(x).all() and x.std() > 0
    if fn == "trunc_normal_":
        assert np.abs(x).max() <= 2.0
    if fn == "orthogonal_":
        np.testing.assert_allclose(x.T @ x, np.eye(6), atol=1e-5)
