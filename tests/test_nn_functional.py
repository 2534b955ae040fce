"""nn.functional core (activations, softmax, linear, dropout, norms, embeddings, distances)
against PyTorch: forward values and gradients w.r.t. every differentiable input on cpu,
float64 gradchecks of the nn primitives, a representative subset on every device, errors.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from helpers import host
from hypothesis import given, settings
from hypothesis import strategies as st

import polytorch
import polytorch.nn.functional as F
from polytorch.testing import (
    _specs,  # noqa: F401  (the family tables are built from here)
    gradcheck,
    gradgradcheck,
)
from polytorch.testing._specs_nn import SPECS

RNG = np.random.default_rng(0)


def _arr(*shape, low=-3.0, high=3.0, avoid=(), rng=RNG):
    """float32 values in [low, high], nudged at least 0.05 away from each kink in ``avoid``."""
    v = rng.uniform(low, high, size=shape)
    for a in avoid:
        v = np.where(np.abs(v - a) < 0.05, a + 0.1, v)
    return v.astype(np.float32)


def _pair(arrays, device="cpu"):
    """(polytorch leaves, torch leaves) holding ``arrays``, all requiring grad."""
    ours = [polytorch.tensor(a, device=device, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    return ours, theirs


def _check(fn_ours, fn_theirs, arrays, device="cpu", rtol=1e-5, atol=1e-6, grad=True):
    """Forward values and the gradients of ``sum(out * w)`` agree with PyTorch."""
    ours, theirs = _pair(arrays, device)
    a, b = fn_ours(*ours), fn_theirs(*theirs)
    np.testing.assert_allclose(host(a), host(b), rtol=rtol, atol=atol)
    assert a.dtype.name == str(b.dtype).split(".")[-1]
    if not grad:
        return
    w = RNG.uniform(-1, 1, size=tuple(b.shape)).astype(np.float32)
    (a * polytorch.tensor(w, device=device)).sum().backward()
    (b * torch.tensor(w)).sum().backward()
    for o, t in zip(ours, theirs):
        if t.grad is None:
            assert o.grad is None or not np.any(host(o.grad))
            continue
        np.testing.assert_allclose(host(o.grad), host(t.grad), rtol=rtol * 10, atol=atol * 10)


# -- activations --------------------------------------------------------------------------

ACTIVATIONS = [
    ("relu", {}, (0,)), ("relu6", {}, (0, 6)), ("leaky_relu", {"negative_slope": 0.2}, (0,)),
    ("rrelu", {"lower": 0.1, "upper": 0.3}, (0,)), ("elu", {"alpha": 1.5}, (0,)),
    ("selu", {}, (0,)), ("celu", {"alpha": 0.7}, (0,)), ("gelu", {}, ()),
    ("gelu", {"approximate": "tanh"}, ()), ("silu", {}, ()), ("mish", {}, ()),
    ("softplus", {}, ()), ("softplus", {"beta": 2.0, "threshold": 2.0}, (1.0,)),
    ("softsign", {}, (0,)), ("softshrink", {"lambd": 0.7}, (-0.7, 0.7)),
    ("hardshrink", {"lambd": 0.7}, (-0.7, 0.7)), ("tanhshrink", {}, ()), ("tanh", {}, ()),
    ("sigmoid", {}, ()), ("hardtanh", {"min_val": -1.5, "max_val": 2.0}, (-1.5, 2.0)),
    ("hardswish", {}, (-3, 3)), ("hardsigmoid", {}, (-3, 3)), ("logsigmoid", {}, ()),
    ("threshold", {"threshold": 0.5, "value": -2.0}, (0.5,)), ("glu", {"dim": 0}, ()),
    ("glu", {}, ()),
]


@pytest.mark.parametrize("name,kwargs,kinks", ACTIVATIONS,
                         ids=[f"{n}-{'-'.join(map(str, k.values()))}" for n, k, _ in ACTIVATIONS])
def test_activation_matches_torch(name, kwargs, kinks):
    x = _arr(4, 6, low=-5, high=5, avoid=kinks)
    _check(lambda t: getattr(F, name)(t, **kwargs), lambda t: getattr(TF, name)(t, **kwargs),
           [x])


@pytest.mark.parametrize("name,kwargs", [
    ("relu", {}), ("relu6", {}), ("leaky_relu", {"negative_slope": 0.3}), ("elu", {}),
    ("selu", {}), ("celu", {}), ("silu", {}), ("mish", {}), ("hardtanh", {}), ("hardswish", {}),
    ("hardsigmoid", {}), ("threshold", {"threshold": 0.5, "value": 1.0}),
    ("rrelu", {}),
])
def test_inplace_activation_matches_torch(name, kwargs):
    # In-place on a non-leaf: the input holds the result and gradients reach the leaf.
    x = _arr(3, 5, avoid=(0, 0.5, -3, 3, -1, 1, 6))

    def run(mod, lib):
        leaf = lib.tensor(x, requires_grad=True)
        y = leaf * 1.5
        out = getattr(mod, name)(y, **kwargs, inplace=True)
        assert out is y
        (out * out).sum().backward()
        return host(out), host(leaf.grad)

    for a, b in zip(run(F, polytorch), run(TF, torch)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_inplace_functions_and_leaf_error():
    x = polytorch.tensor([-1.0, 2.0])
    assert F.relu_(x) is x and x.tolist() == [0.0, 2.0]
    y = polytorch.tensor([-1.0, 2.0])
    F.leaky_relu_(y, 0.5)
    F.elu_(polytorch.tensor([1.0]))
    assert y.tolist() == [-0.5, 2.0]
    leaf = polytorch.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        F.elu(leaf, inplace=True)


def test_prelu_matches_torch():
    x = _arr(2, 3, 4, avoid=(0,))
    _check(lambda a, w: F.prelu(a, w), lambda a, w: TF.prelu(a, w),
           [x, np.array([0.1, 0.2, 0.3], np.float32)])
    _check(F.prelu, TF.prelu, [x, np.array([0.25], np.float32)])
    with pytest.raises(RuntimeError, match="parameter numbers = 2 and channel size = 3"):
        F.prelu(polytorch.tensor(x), polytorch.ones(2))


def test_rrelu_training_slopes_in_range():
    polytorch.manual_seed(0)
    x = -polytorch.rand(1000) - 0.5
    slope = F.rrelu(x, 0.1, 0.3, training=True) / x
    assert slope.min().item() >= 0.1 - 1e-6 and slope.max().item() <= 0.3 + 1e-6
    assert abs(slope.mean().item() - 0.2) < 0.01


def test_activation_errors():
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 1 is "
                                           "size 3"):
        F.glu(polytorch.ones(2, 3))
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        F.gelu(polytorch.ones(2), approximate="erf")
    with pytest.raises(ValueError, match="cannot be greater than max_val"):
        F.hardtanh(polytorch.ones(2), 2.0, 1.0)


def test_softplus_and_logsigmoid_are_stable():
    x = polytorch.tensor([-200.0, -30.0, 0.0, 30.0, 200.0], requires_grad=True)
    t = torch.tensor([-200.0, -30.0, 0.0, 30.0, 200.0], requires_grad=True)
    for ours, theirs in [(F.softplus, TF.softplus), (F.logsigmoid, TF.logsigmoid)]:
        a, b = ours(x), theirs(t)
        np.testing.assert_allclose(host(a), host(b), rtol=1e-6)
        ga, = polytorch.autograd.grad(a.sum(), x)
        gb, = torch.autograd.grad(b.sum(), t)
        np.testing.assert_allclose(host(ga), host(gb), rtol=1e-6, atol=1e-30)


# -- softmax --------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4), data=st.data(),
       fn=st.sampled_from(["softmax", "log_softmax", "softmin"]))
def test_softmax_family_matches_torch(shape, data, fn):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    scale = data.draw(st.sampled_from([1.0, 100.0]))
    x = (RNG.standard_normal(shape) * scale).astype(np.float32)
    _check(lambda t: getattr(F, fn)(t, dim), lambda t: getattr(TF, fn)(t, dim), [x],
           rtol=1e-4, atol=1e-5)


def test_softmax_dtype_methods_and_legacy_dim():
    x = _arr(2, 3)
    out = F.softmax(polytorch.tensor(x), 1, dtype=polytorch.float64)
    assert out.dtype == polytorch.float64
    np.testing.assert_allclose(host(out), host(TF.softmax(torch.tensor(x), 1,
                                                          dtype=torch.float64)))
    t = polytorch.tensor(x)
    np.testing.assert_allclose(host(t.softmax(0)), host(torch.tensor(x).softmax(0)), rtol=1e-6)
    np.testing.assert_allclose(host(t.log_softmax(-1)), host(torch.tensor(x).log_softmax(-1)),
                               rtol=1e-6)
    np.testing.assert_allclose(host(polytorch.softmax(t, 1)), host(torch.softmax(
        torch.tensor(x), 1)), rtol=1e-6)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        implicit = F.softmax(t)
    with pytest.warns(UserWarning):
        expected = TF.softmax(torch.tensor(x))
    np.testing.assert_allclose(host(implicit), host(expected), rtol=1e-6)
    with pytest.raises(IndexError, match="Dimension out of range"):
        F.softmax(t, 2)
    with pytest.raises(RuntimeError, match="not implemented for 'int64'"):
        F.softmax(polytorch.tensor([1, 2]), 0)
    # All -inf rows give nan, as in PyTorch; -inf entries get probability 0.
    row = polytorch.tensor([[-float("inf"), 0.0], [-float("inf"), -float("inf")]])
    np.testing.assert_array_equal(np.isnan(host(F.softmax(row, 1))), [[False, False],
                                                                       [True, True]])


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_primitive_gradcheck(spec):
    """float64 gradcheck and gradgradcheck of each nn primitive through its public call."""
    rng = np.random.RandomState(1)
    for sample in spec.samples(rng, polytorch.float64):
        if not sample.grad:
            continue
        args = [polytorch.tensor(getattr(a, "value", a), dtype=polytorch.float64,
                                 requires_grad=True)
                if isinstance(getattr(a, "value", a), np.ndarray)
                and getattr(a, "value", a).dtype.kind == "f"
                else polytorch.tensor(a) if isinstance(a, np.ndarray) else a
                for a in sample.args]
        if any(isinstance(a, polytorch.Tensor) and a.numel() == 0 for a in args):
            continue

        def fn(*tensors, _kw=sample.kwargs, _args=args):
            it = iter(tensors)
            full = [next(it) if isinstance(a, polytorch.Tensor) and a.requires_grad else a
                    for a in _args]
            return spec.call(*full, **_kw)

        leaves = [a for a in args if isinstance(a, polytorch.Tensor) and a.requires_grad]
        assert gradcheck(fn, leaves)
        if sample.gradgrad:
            assert gradgradcheck(fn, leaves)




# -- linear ---------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (4,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(shape, bias):
    arrays = [_arr(*shape), _arr(3, 4)] + ([_arr(3)] if bias else [])
    _check(F.linear, TF.linear, arrays, rtol=1e-5, atol=1e-5)


def test_bilinear_matches_torch():
    _check(F.bilinear, TF.bilinear, [_arr(2, 3, 4), _arr(2, 3, 5), _arr(6, 4, 5), _arr(6)],
           rtol=1e-4, atol=1e-4)
    _check(F.bilinear, TF.bilinear, [_arr(3, 4), _arr(3, 5), _arr(2, 4, 5)], rtol=1e-4,
           atol=1e-4)


def test_linear_errors():
    with pytest.raises(RuntimeError, match=r"in_features \(weight.shape\[-1\] = 4\).*\[2, 3\]"):
        F.linear(polytorch.ones(2, 3), polytorch.ones(5, 4))
    with pytest.raises(RuntimeError, match="bilinear"):
        F.bilinear(polytorch.ones(2, 3), polytorch.ones(2, 5), polytorch.ones(6, 4, 5))


# -- dropout --------------------------------------------------------------------------------


def test_dropout_rate_scaling_and_eval():
    polytorch.manual_seed(3)
    x = polytorch.rand(20000) + 0.5
    out = F.dropout(x, 0.3)
    zero = host(out) == 0
    assert abs(zero.mean() - 0.3) < 0.015
    np.testing.assert_allclose(host(out)[~zero], host(x)[~zero] / 0.7, rtol=1e-6)
    assert F.dropout(x, 0.3, training=False) is x
    assert not host(F.dropout(x, 1.0)).any()
    assert F.dropout(x, 0.0) is x


def test_dropout_gradient_uses_the_mask():
    polytorch.manual_seed(0)
    x = polytorch.ones(100, requires_grad=True)
    out = F.dropout(x, 0.4)
    out.sum().backward()
    np.testing.assert_allclose(host(x.grad), host(out))


@pytest.mark.parametrize("fn,shape,mask_shape", [
    (F.dropout1d, (4, 5, 6), (4, 5, 1)), (F.dropout1d, (20, 6), (20, 1)),
    (F.dropout2d, (4, 5, 3, 3), (4, 5, 1, 1)), (F.dropout3d, (2, 5, 2, 2, 2), (2, 5, 1, 1, 1)),
    (F.dropout3d, (20, 2, 2, 2), (20, 1, 1, 1)),
    (F.feature_alpha_dropout, (4, 5, 3), (4, 5, 1)),
])
def test_feature_dropout_drops_whole_channels(fn, shape, mask_shape):
    polytorch.manual_seed(1)
    x = polytorch.ones(*shape)
    out = host(fn(x, 0.5, training=True))
    per_channel = out.reshape(int(np.prod(mask_shape)), -1)  # the mask's 1s are trailing
    assert (per_channel == per_channel[..., :1]).all()
    assert len(np.unique(per_channel[..., 0])) == 2


def test_dropout_same_seed_same_mask(device):
    polytorch.manual_seed(7)
    a = host(F.dropout(polytorch.ones(64, device=device), 0.5))
    polytorch.manual_seed(7)
    b = host(F.dropout(polytorch.ones(64), 0.5))
    np.testing.assert_array_equal(a, b)
    assert 0 < (a == 0).sum() < 64


def test_alpha_dropout_values_match_torch():
    # For a constant input the output takes two values (kept, dropped): PyTorch's.
    x = np.full((4000,), 0.7, np.float32)
    polytorch.manual_seed(0)
    torch.manual_seed(0)
    for fn, tfn, shape in [(F.alpha_dropout, TF.alpha_dropout, (4000,)),
                           (F.feature_alpha_dropout, TF.feature_alpha_dropout, (40, 100, 1))]:
        ours = host(fn(polytorch.tensor(x.reshape(shape)), 0.2, training=True))
        theirs = host(tfn(torch.tensor(x.reshape(shape)), 0.2, training=True))
        np.testing.assert_allclose(np.unique(ours.round(5)), np.unique(theirs.round(5)),
                                   rtol=1e-5)
        assert abs((ours == ours.min()).mean() - 0.2) < 0.05
    # Standard normal inputs keep mean 0 and variance 1 (SELU's fixed point).
    polytorch.manual_seed(1)
    out = F.alpha_dropout(polytorch.randn(200000), 0.3, training=True)
    assert abs(out.mean().item()) < 0.02 and abs(out.std().item() - 1) < 0.02


def test_dropout_errors_and_warnings():
    for fn in (F.dropout, F.dropout1d, F.dropout2d, F.dropout3d, F.alpha_dropout,
               F.feature_alpha_dropout):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, "
                                             "but got 1.5"):
            fn(polytorch.ones(2, 2, 2, 2), 1.5)
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input, but received "
                                           "a 4D input"):
        F.dropout1d(polytorch.ones(2, 2, 2, 2))
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        F.dropout2d(polytorch.ones(2, 3, 4), training=False)
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout3d"):
        F.dropout3d(polytorch.ones(2, 3), training=False)


def test_dropout_inplace():
    polytorch.manual_seed(2)
    leaf = polytorch.ones(50, requires_grad=True)
    y = leaf * 2
    out = F.dropout(y, 0.5, inplace=True)
    assert out is y
    out.sum().backward()
    np.testing.assert_allclose(host(leaf.grad), host(out) / 2 * 2)


# -- normalization --------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training_matches_torch(shape, affine):
    c = shape[1]
    x = _arr(*shape)
    w, b = _arr(c), _arr(c)
    rm_o, rv_o = polytorch.zeros(c), polytorch.ones(c)
    rm_t, rv_t = torch.zeros(c), torch.ones(c)
    _check(lambda x_, w_, b_: F.batch_norm(x_, rm_o, rv_o, w_ if affine else None,
                                           b_ if affine else None, True, 0.3, 1e-3),
           lambda x_, w_, b_: TF.batch_norm(x_, rm_t, rv_t, w_ if affine else None,
                                            b_ if affine else None, True, 0.3, 1e-3),
           [x, w, b], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(host(rm_o), host(rm_t), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(host(rv_o), host(rv_t), rtol=1e-5, atol=1e-6)
    # Eval with the updated statistics; gradients reach input, weight and bias.
    _check(lambda x_, w_, b_: F.batch_norm(x_, rm_o, rv_o, w_, b_),
           lambda x_, w_, b_: TF.batch_norm(x_, rm_t, rv_t, w_, b_), [x, w, b], rtol=1e-4,
           atol=1e-5)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(2, 3), groups=st.integers(1, 3), per_group=st.integers(1, 2),
       spatial=st.lists(st.integers(1, 3), min_size=0, max_size=2),
       which=st.sampled_from(["layer_norm", "group_norm", "batch_norm", "instance_norm"]))
def test_norms_match_torch_over_shapes(n, groups, per_group, spatial, which):
    c = groups * per_group
    size = int(np.prod(spatial))
    count = {"layer_norm": c * size, "group_norm": per_group * size, "batch_norm": n * size,
             "instance_norm": size}[which]
    if count < 2:  # one element per statistic: the result is the bias, its gradient noise
        spatial = [*spatial, 2]
    shape = (n, c, *spatial)
    x, w, b = _arr(*shape), _arr(c), _arr(c)
    if which == "layer_norm":
        w, b = _arr(*shape[1:]), _arr(*shape[1:])
    lead = {"layer_norm": (shape[1:],), "group_norm": (groups,), "batch_norm": (None, None),
            "instance_norm": (None, None)}[which]
    tail = {"batch_norm": (True,)}.get(which, ())

    def call(fn, a, w_, b_):
        return fn(a, *lead, w_, b_, *tail)

    _check(lambda *a: call(getattr(F, which), *a), lambda *a: call(getattr(TF, which), *a),
           [x, w, b], rtol=1e-4, atol=1e-5)


def test_batch_norm_errors():
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        F.batch_norm(polytorch.ones(1, 3), None, None, training=True)
    with pytest.raises(RuntimeError, match=r"running_mean to have shape \[3\]"):
        F.batch_norm(polytorch.ones(2, 3), polytorch.zeros(4), polytorch.ones(3))


@pytest.mark.parametrize("use_input_stats", [True, False])
def test_instance_norm_matches_torch(use_input_stats):
    x, w, b = _arr(2, 3, 5), _arr(3), _arr(3)
    rm_o, rv_o = polytorch.tensor(_arr(3)), polytorch.tensor(_arr(3, low=0.5, high=2))
    rm_t, rv_t = torch.tensor(host(rm_o)), torch.tensor(host(rv_o))
    _check(lambda *a: F.instance_norm(a[0], rm_o, rv_o, a[1], a[2], use_input_stats, 0.2),
           lambda *a: TF.instance_norm(a[0], rm_t, rv_t, a[1], a[2], use_input_stats, 0.2),
           [x, w, b], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(host(rm_o), host(rm_t), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(host(rv_o), host(rv_t), rtol=1e-5, atol=1e-6)
    _check(F.instance_norm, TF.instance_norm, [_arr(2, 3, 2, 2)], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shape,normalized", [((3, 4), (4,)), ((2, 3, 4), (3, 4)),
                                              ((2, 3, 4), (4,))])
def test_layer_and_rms_norm_match_torch(shape, normalized):
    x, w, b = _arr(*shape), _arr(*normalized), _arr(*normalized)
    _check(lambda *a: F.layer_norm(a[0], normalized, a[1], a[2], 1e-4),
           lambda *a: TF.layer_norm(a[0], normalized, a[1], a[2], 1e-4), [x, w, b],
           rtol=1e-4, atol=1e-5)
    _check(lambda a: F.layer_norm(a, normalized), lambda a: TF.layer_norm(a, normalized), [x],
           rtol=1e-4, atol=1e-5)
    _check(lambda *a: F.rms_norm(a[0], normalized, a[1]),
           lambda *a: TF.rms_norm(a[0], normalized, a[1]), [x, w], rtol=1e-4, atol=1e-5)
    _check(lambda a: F.rms_norm(a, list(normalized), eps=0.1),
           lambda a: TF.rms_norm(a, list(normalized), eps=0.1), [x], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shape,groups", [((2, 6, 4), 3), ((2, 4, 2, 3), 4), ((3, 4), 2)])
def test_group_norm_matches_torch(shape, groups):
    c = shape[1]
    _check(lambda *a: F.group_norm(a[0], groups, a[1], a[2]),
           lambda *a: TF.group_norm(a[0], groups, a[1], a[2]),
           [_arr(*shape), _arr(c), _arr(c)], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shape,size", [((2, 5, 4), 3), ((2, 4, 3, 3), 2), ((1, 6, 2, 2, 2), 4)])
def test_local_response_norm_matches_torch(shape, size):
    _check(lambda a: F.local_response_norm(a, size, 0.1, 0.6, 1.5),
           lambda a: TF.local_response_norm(a, size, 0.1, 0.6, 1.5), [_arr(*shape)],
           rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("p,dim", [(2.0, 1), (1.0, 0), (3.0, -1)])
def test_normalize_matches_torch(p, dim):
    _check(lambda a: F.normalize(a, p, dim), lambda a: TF.normalize(a, p, dim),
           [_arr(3, 4, avoid=(0,))], rtol=1e-4, atol=1e-5)
    zero = F.normalize(polytorch.zeros(2, 3))
    assert not host(zero).any()


def test_norm_errors():
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[3\], expected input with "
                                           r"shape \[\*, 3\], but got input of size\[2, 4\]"):
        F.layer_norm(polytorch.ones(2, 4), (3,))
    with pytest.raises(RuntimeError, match="divisible by num_groups, but got input of shape "
                                           r"\[2, 6, 4\] and num_groups=4"):
        F.group_norm(polytorch.ones(2, 6, 4), 4)
    with pytest.raises(ValueError, match="Expected 3D or higher dimensionality input"):
        F.local_response_norm(polytorch.ones(2, 3), 2)


# -- embeddings -----------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 2}, {"padding_idx": -1},
                                    {"scale_grad_by_freq": True},
                                    {"padding_idx": 0, "scale_grad_by_freq": True}])
def test_embedding_matches_torch(kwargs):
    idx = RNG.integers(0, 6, size=(4, 5))
    idx[0, :3] = [0, 2, 5]
    ours, theirs = _pair([_arr(6, 3)])
    a = F.embedding(polytorch.tensor(idx), ours[0], **kwargs)
    b = TF.embedding(torch.tensor(idx), theirs[0], **kwargs)
    np.testing.assert_allclose(host(a), host(b))
    w = _arr(4, 5, 3)
    (a * polytorch.tensor(w)).sum().backward()
    (b * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(host(ours[0].grad), host(theirs[0].grad), rtol=1e-5, atol=1e-6)


def test_embedding_max_norm_renormalizes_like_torch():
    weight = _arr(6, 3) * 3
    idx = np.array([[0, 1, 1], [4, 5, 0]])
    ours, theirs = polytorch.tensor(weight), torch.tensor(weight)
    a = F.embedding(polytorch.tensor(idx), ours, max_norm=1.5, norm_type=3.0)
    b = TF.embedding(torch.tensor(idx), theirs, max_norm=1.5, norm_type=3.0)
    np.testing.assert_allclose(host(a), host(b), rtol=1e-5)
    np.testing.assert_allclose(host(ours), host(theirs), rtol=1e-5)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("layout", ["2d", "offsets", "last_offset", "padding"])
def test_embedding_bag_matches_torch(mode, layout):
    weight = _arr(7, 3)
    kwargs = {"mode": mode}
    if layout == "2d":
        idx, offsets = np.array([[0, 2, 2], [6, 1, 3]]), None
    else:
        idx, offsets = np.array([1, 2, 4, 5, 4, 3, 2, 6]), np.array([0, 2, 2, 5])
    if layout == "last_offset":
        offsets = np.array([0, 2, 2, 5, 8])  # the last offset is the input size
        kwargs["include_last_offset"] = True
    if layout == "padding":
        kwargs["padding_idx"] = 4
    ours, theirs = _pair([weight])
    a = F.embedding_bag(polytorch.tensor(idx), ours[0],
                        None if offsets is None else polytorch.tensor(offsets), **kwargs)
    b = TF.embedding_bag(torch.tensor(idx), theirs[0],
                         None if offsets is None else torch.tensor(offsets), **kwargs)
    np.testing.assert_allclose(host(a), host(b), rtol=1e-5, atol=1e-6)
    g = _arr(*b.shape)
    (a * polytorch.tensor(g)).sum().backward()
    (b * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(host(ours[0].grad), host(theirs[0].grad), rtol=1e-5, atol=1e-6)


def test_embedding_bag_per_sample_weights():
    weight, psw = _arr(7, 3), _arr(8)
    idx, offsets = np.array([1, 2, 4, 5, 4, 3, 2, 6]), np.array([0, 3, 5])
    _check(lambda w, s: F.embedding_bag(polytorch.tensor(idx), w, polytorch.tensor(offsets),
                                        mode="sum", per_sample_weights=s),
           lambda w, s: TF.embedding_bag(torch.tensor(idx), w, torch.tensor(offsets),
                                         mode="sum", per_sample_weights=s),
           [weight, psw], rtol=1e-5, atol=1e-5)
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        F.embedding_bag(polytorch.tensor(idx), polytorch.tensor(weight),
                        polytorch.tensor(offsets), mode="mean",
                        per_sample_weights=polytorch.tensor(psw))


def test_embedding_errors():
    w = polytorch.ones(5, 2)
    with pytest.raises(IndexError, match="index 5 is out of range.*num_embeddings=5"):
        F.embedding(polytorch.tensor([1, 5]), w)
    with pytest.raises(IndexError, match="index -1 is out of range"):
        F.embedding(polytorch.tensor([-1]), w)
    with pytest.raises(RuntimeError, match="integer dtype"):
        F.embedding(polytorch.tensor([1.0]), w)
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        F.embedding(polytorch.tensor([1]), w, padding_idx=5)
    with pytest.raises(ValueError, match="mode has to be one of sum, mean or max"):
        F.embedding_bag(polytorch.tensor([[1]]), w, mode="min")


def test_one_hot_matches_torch():
    idx = RNG.integers(0, 5, size=(3, 4))
    for n in (-1, 7):
        a = F.one_hot(polytorch.tensor(idx), n)
        b = TF.one_hot(torch.tensor(idx), n)
        assert a.dtype == polytorch.int64
        np.testing.assert_array_equal(host(a), host(b))
    assert F.one_hot(polytorch.tensor(np.zeros((0,), np.int64)), 3).shape == (0, 3)
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes"):
        F.one_hot(polytorch.tensor([3]), 3)
    with pytest.raises(RuntimeError, match="Class values must be non-negative"):
        F.one_hot(polytorch.tensor([-1]))
    with pytest.raises(RuntimeError, match="LongTensor"):
        F.one_hot(polytorch.tensor([1.0]))


# -- distances ------------------------------------------------------------------------------


@pytest.mark.parametrize("s1,s2,dim", [((3, 4), (3, 4), 1), ((2, 3, 4), (1, 4), -1),
                                       ((4,), (4,), 0)])
def test_cosine_similarity_matches_torch(s1, s2, dim):
    _check(lambda a, b: F.cosine_similarity(a, b, dim),
           lambda a, b: TF.cosine_similarity(a, b, dim), [_arr(*s1), _arr(*s2)], rtol=1e-4,
           atol=1e-5)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0])
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance_and_pdist_match_torch(p, keepdim):
    _check(lambda a, b: F.pairwise_distance(a, b, p, keepdim=keepdim),
           lambda a, b: TF.pairwise_distance(a, b, p, keepdim=keepdim),
           [_arr(3, 4), _arr(3, 4)], rtol=1e-4, atol=1e-5)
    _check(lambda a: F.pdist(a, p), lambda a: TF.pdist(a, p), [_arr(4, 3)], rtol=1e-4,
           atol=1e-5)


# -- every device ---------------------------------------------------------------------------


def test_representative_functions_on_every_device(device):
    """Softmaxes, softplus, normalize and group_norm on each backend, against PyTorch (the
    layer tests run Linear, LayerNorm, GELU, BatchNorm and Embedding there)."""
    x, w = _arr(4, 6), _arr(6)

    def model(fn, xs, ws):
        h = fn.softplus(xs) * ws
        h = fn.log_softmax(h, 1) + fn.softmax(h, 0)
        return fn.normalize(h, dim=0) + fn.group_norm(h.reshape(2, 2, 6), 2, ws[:2]).reshape(4, 6)

    ours, theirs = _pair([x, w], device)
    a = model(F, *ours)
    t = model(TF, *theirs)
    np.testing.assert_allclose(host(a), host(t), rtol=1e-4, atol=1e-4)
    (a * a).sum().backward()
    (t * t).sum().backward()
    for o, th in zip(ours, theirs):
        np.testing.assert_allclose(host(o.grad), host(th.grad), rtol=1e-3, atol=1e-4)


def test_torch_level_spellings_match_torch():
    """``polytorch.batch_norm`` etc. take torch's top-level argument orders."""
    x, w, b = _arr(4, 3, 5), _arr(3), _arr(3)
    rm, rv = _arr(3), _arr(3, low=0.5, high=2)
    cases = [
        ("batch_norm", lambda lib, *a: lib.batch_norm(a[0], a[1], a[2], lib.tensor(rm),
                                                      lib.tensor(rv), False, 0.1, 1e-5, False)),
        ("instance_norm", lambda lib, *a: lib.instance_norm(a[0], a[1], a[2], None, None, True,
                                                            0.1, 1e-5, False)),
        ("layer_norm", lambda lib, *a: lib.layer_norm(a[0], (5,))),
        ("group_norm", lambda lib, *a: lib.group_norm(a[0], 3, a[1], a[2])),
        ("rms_norm", lambda lib, *a: lib.rms_norm(a[0], [5])),
        ("selu", lambda lib, *a: lib.selu(a[0])), ("celu", lambda lib, *a: lib.celu(a[0], 0.5)),
        ("prelu", lambda lib, *a: lib.prelu(a[0], a[1])),
        ("threshold", lambda lib, *a: lib.threshold(a[0], 0.3, -1.0)),
        ("hardshrink", lambda lib, *a: a[0].hardshrink(0.3)),
        ("cosine_similarity", lambda lib, *a: lib.cosine_similarity(a[0], a[0] * 2 + 1)),
        ("pairwise_distance", lambda lib, *a: lib.pairwise_distance(a[0], a[0] * 0.5)),
        ("pdist", lambda lib, *a: lib.pdist(a[0][0])),
        ("dropout", lambda lib, *a: lib.dropout(a[0], 0.3, False)),
    ]
    for name, fn in cases:
        try:
            _check(lambda *a, f=fn: f(polytorch, *a), lambda *a, f=fn: f(torch, *a), [x, w, b],
                   rtol=1e-4, atol=1e-5)
        except AssertionError as e:
            raise AssertionError(f"polytorch.{name}: {e}") from None
