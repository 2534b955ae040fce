"""Transformer layers, stacks and the full model against PyTorch.

Each test builds the torch module (the oracle), copies its initialised weights into
ours through ``load_state_dict`` and compares outputs and, in training mode with
``dropout=0``, the gradients of every parameter and input. Eval mode keeps PyTorch's
default dropout (0.1), which eval turns off. cpu@jax and strict:1 run one small
encoder layer (JAX compiles every op once per shape).
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

import polytorch
import polytorch.nn as nn
import polytorch.nn.functional as F

pytestmark = pytest.mark.filterwarnings(
    "ignore:enable_nested_tensor is True, but self.use_nested_tensor is False")

RTOL, ATOL = 1e-5, 2e-5
_RNG = np.random.default_rng(0)
D_MODEL, NHEAD, FF = 8, 2, 16


def _x(*shape):
    return _RNG.standard_normal(shape).astype(np.float32)


def _close(ours, theirs, what=""):
    assert ours is not None and theirs is not None, what
    np.testing.assert_allclose(ours.detach().cpu().numpy(), theirs.detach().numpy(),
                               rtol=RTOL, atol=ATOL, err_msg=what)


def _pair(make_ours, make_theirs, device="cpu", seed=0):
    torch.manual_seed(seed)
    theirs = make_theirs()
    ours = make_ours(device)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: polytorch.tensor(v.detach().numpy(), device=device)
                          for k, v in theirs.state_dict().items()})
    return ours, theirs


def _check(ours, theirs, inputs, masks=None, train=True, device="cpu", **kw):
    """Forward (and backward in training mode) of both modules on the same inputs."""
    ours.train(train)
    theirs.train(train)
    p_in = [polytorch.tensor(a, device=device, requires_grad=train) for a in inputs]
    t_in = [torch.tensor(a, requires_grad=train) for a in inputs]
    masks = masks or {}
    p_masks = {k: polytorch.tensor(v, device=device) for k, v in masks.items()}
    t_masks = {k: torch.tensor(v) for k, v in masks.items()}
    out = ours(*p_in, **p_masks, **kw)
    ref = theirs(*t_in, **t_masks, **kw)
    _close(out, ref, "output")
    if not train:
        return
    g = _x(*ref.shape)
    out.backward(polytorch.tensor(g, device=device))
    ref.backward(torch.tensor(g))
    for i, (a, b) in enumerate(zip(p_in, t_in)):
        _close(a.grad, b.grad, f"grad of input {i}")
    t_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        _close(p.grad, t_params[name].grad, f"grad of {name}")


def _causal(n):
    return np.triu(np.full((n, n), -np.inf, np.float32), 1)


def _kpm(n, s):
    m = _RNG.random((n, s)) < 0.3
    m[:, 0] = False
    return m


# -- encoder layer ------------------------------------------------------------------------------


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_layer_matches_torch(norm_first, activation, batch_first):
    kw = dict(d_model=D_MODEL, nhead=NHEAD, dim_feedforward=FF, dropout=0.0,
              activation=activation, norm_first=norm_first, batch_first=batch_first)
    ours, theirs = _pair(lambda dev: nn.TransformerEncoderLayer(device=dev, **kw),
                         lambda: torch.nn.TransformerEncoderLayer(**kw))
    x = _x(3, 5, D_MODEL) if batch_first else _x(5, 3, D_MODEL)
    kpm = np.where(_kpm(3, 5), -np.inf, 0).astype(np.float32)  # float, like the causal mask
    _check(ours, theirs, [x], {"src_mask": _causal(5), "src_key_padding_mask": kpm})


@pytest.mark.parametrize("activation", [("callable", F.gelu, torch.nn.functional.gelu),
                                        ("module", nn.GELU, torch.nn.GELU)])
def test_encoder_layer_callable_activation(activation):
    name, ours_act, theirs_act = activation
    if name == "module":
        ours_act, theirs_act = ours_act(), theirs_act()
    kw = dict(d_model=D_MODEL, nhead=NHEAD, dim_feedforward=FF, dropout=0.0)
    ours, theirs = _pair(lambda dev: nn.TransformerEncoderLayer(activation=ours_act, **kw),
                         lambda: torch.nn.TransformerEncoderLayer(activation=theirs_act, **kw))
    _check(ours, theirs, [_x(4, 2, D_MODEL)])


def test_encoder_layer_unbatched_and_is_causal():
    kw = dict(d_model=D_MODEL, nhead=NHEAD, dim_feedforward=FF, dropout=0.0)
    ours, theirs = _pair(lambda dev: nn.TransformerEncoderLayer(**kw),
                         lambda: torch.nn.TransformerEncoderLayer(**kw))
    _check(ours, theirs, [_x(5, D_MODEL)], {"src_mask": _causal(5)}, is_causal=True)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_eval_matches_torch(norm_first):
    kw = dict(d_model=D_MODEL, nhead=NHEAD, dim_feedforward=FF, norm_first=norm_first,
              batch_first=True)
    ours, theirs = _pair(lambda dev: nn.TransformerEncoderLayer(**kw),
                         lambda: torch.nn.TransformerEncoderLayer(**kw))
    with torch.no_grad(), polytorch.no_grad():
        _check(ours, theirs, [_x(2, 5, D_MODEL)], {"src_mask": _causal(5)}, train=False)


def test_encoder_layer_on_every_device(device):
    if device.endswith("@jax"):
        # JAX compiles every op once per shape: its attention runs in test_nn_attention,
        # Linear, LayerNorm and the activations in the core tests.
        pytest.skip("MultiheadAttention and the core layers are tested on JAX elsewhere")
    kw = dict(d_model=4, nhead=2, dim_feedforward=8, dropout=0.0, batch_first=True)
    ours, theirs = _pair(lambda dev: nn.TransformerEncoderLayer(device=dev, **kw),
                         lambda: torch.nn.TransformerEncoderLayer(**kw), device=device)
    _check(ours, theirs, [_x(2, 3, 4)], {"src_key_padding_mask": np.array(
        [[False, False, True], [False, False, False]])}, device=device)


# -- decoder layer ------------------------------------------------------------------------------


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_decoder_layer_matches_torch(norm_first, batch_first):
    kw = dict(d_model=D_MODEL, nhead=NHEAD, dim_feedforward=FF, dropout=0.0,
              norm_first=norm_first, batch_first=batch_first, activation="gelu")
    ours, theirs = _pair(lambda dev: nn.TransformerDecoderLayer(**kw),
                         lambda: torch.nn.TransformerDecoderLayer(**kw))
    T, S, N = 4, 6, 3
    tgt, mem = (_x(N, T, D_MODEL), _x(N, S, D_MODEL)) if batch_first else (
        _x(T, N, D_MODEL), _x(S, N, D_MODEL))
    masks = {"tgt_mask": _causal(T), "memory_mask": np.where(_RNG.random((T, S)) < 0.2,
                                                             -np.inf, 0).astype(np.float32),
             "tgt_key_padding_mask": _kpm(N, T), "memory_key_padding_mask": _kpm(N, S)}
    masks["memory_mask"][:, 0] = 0
    masks["tgt_key_padding_mask"] = np.where(masks["tgt_key_padding_mask"], -np.inf,
                                             0).astype(np.float32)
    masks["memory_key_padding_mask"] = np.where(masks["memory_key_padding_mask"], -np.inf,
                                                0).astype(np.float32)
    _check(ours, theirs, [tgt, mem], masks)


# -- stacks and the full model ------------------------------------------------------------------


def test_encoder_and_decoder_stacks_match_torch():
    kw = dict(d_model=D_MODEL, nhead=NHEAD, dim_feedforward=FF, dropout=0.0)
    ours, theirs = _pair(
        lambda dev: nn.TransformerEncoder(nn.TransformerEncoderLayer(**kw), 2,
                                          norm=nn.LayerNorm(D_MODEL)),
        lambda: torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(**kw), 2,
                                            norm=torch.nn.LayerNorm(D_MODEL)))
    _check(ours, theirs, [_x(5, 3, D_MODEL)], {"mask": _causal(5)})
    ours, theirs = _pair(
        lambda dev: nn.TransformerDecoder(nn.TransformerDecoderLayer(**kw), 2),
        lambda: torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(**kw), 2))
    _check(ours, theirs, [_x(4, 3, D_MODEL), _x(5, 3, D_MODEL)], {"tgt_mask": _causal(4)})


def test_stack_layers_are_independent_copies():
    layer = nn.TransformerEncoderLayer(D_MODEL, NHEAD, FF)
    enc = nn.TransformerEncoder(layer, 2)
    a, b = enc.layers[0].linear1.weight, enc.layers[1].linear1.weight
    assert a is not b and a is not layer.linear1.weight
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


_FULL = dict(d_model=D_MODEL, nhead=NHEAD, num_encoder_layers=2, num_decoder_layers=1,
             dim_feedforward=FF)


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_train_mode_matches_torch(norm_first):
    kw = dict(_FULL, dropout=0.0, norm_first=norm_first)
    ours, theirs = _pair(lambda dev: nn.Transformer(**kw), lambda: torch.nn.Transformer(**kw))
    src_kpm = np.where(_kpm(3, 6), -np.inf, 0).astype(np.float32)
    _check(ours, theirs, [_x(6, 3, D_MODEL), _x(4, 3, D_MODEL)],
           {"tgt_mask": nn.Transformer.generate_square_subsequent_mask(4).numpy(),
            "src_key_padding_mask": src_kpm, "memory_key_padding_mask": src_kpm})


@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_eval_mode_matches_torch(batch_first):
    kw = dict(_FULL, batch_first=batch_first)  # dropout 0.1, off in eval
    ours, theirs = _pair(lambda dev: nn.Transformer(**kw), lambda: torch.nn.Transformer(**kw))
    src, tgt = (_x(3, 6, D_MODEL), _x(3, 4, D_MODEL)) if batch_first else (
        _x(6, 3, D_MODEL), _x(4, 3, D_MODEL))
    with torch.no_grad(), polytorch.no_grad():
        _check(ours, theirs, [src, tgt], {"tgt_mask": _causal(4)}, train=False)


def test_transformer_structure_matches_torch():
    ours, theirs = nn.Transformer(**_FULL), torch.nn.Transformer(**_FULL)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    np.testing.assert_array_equal(
        mask.numpy(), torch.nn.Transformer.generate_square_subsequent_mask(4).numpy())
    assert mask.dtype == polytorch.float32
    # xavier_uniform_ on every matrix, PyTorch's _reset_parameters
    w = ours.encoder.layers[0].linear1.weight.detach().numpy()
    assert np.all(np.abs(w) <= np.sqrt(6 / (D_MODEL + FF)))


@pytest.mark.parametrize("cls", ["TransformerEncoderLayer", "TransformerEncoder",
                                 "TransformerDecoderLayer", "TransformerDecoder", "Transformer"])
def test_signatures_match_torch(cls):
    for method in ("__init__", "forward"):
        ours = inspect.signature(getattr(getattr(nn, cls), method))
        theirs = inspect.signature(getattr(getattr(torch.nn, cls), method))
        assert list(ours.parameters) == list(theirs.parameters), (cls, method)
        for p, tp in zip(ours.parameters.values(), theirs.parameters.values()):
            if p.name != "activation":  # F.relu: ours and torch's are different functions
                assert p.default == tp.default, (cls, method, p.name)
    assert nn.TransformerEncoderLayer.__init__.__defaults__ is not None


def test_errors():
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(D_MODEL, NHEAD, activation="tanh")
    model = nn.Transformer(**_FULL)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        model(polytorch.randn(6, 3, D_MODEL), polytorch.randn(4, 2, D_MODEL))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal"):
        model(polytorch.randn(6, 3, D_MODEL), polytorch.randn(4, 3, D_MODEL + 1))


def test_docstring_examples_run():
    import doctest

    from polytorch.nn import _functional_attention
    from polytorch.nn.modules import _multihead, rnn, transformer

    globs = {"polytorch": polytorch, "F": F, "nn": nn}
    for module in (_functional_attention, rnn, transformer):
        result = doctest.testmod(module, extraglobs=globs)
        assert result.failed == 0 and result.attempted > 0, module.__name__
    # MultiheadAttention's __module__ is activation's (PyTorch's path), which testmod skips.
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner()
    for test in finder.find(_multihead.MultiheadAttention, globs=dict(vars(_multihead), **globs)):
        runner.run(test)
    assert runner.failures == 0 and runner.tries > 0
