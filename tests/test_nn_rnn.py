"""RNN, LSTM, GRU and their cells against PyTorch: outputs, final states, parameter gradients.

Each test builds the torch layer (the oracle), copies its initialised weights into
ours through ``load_state_dict``, runs both on the same inputs and compares the
outputs, the final states and the gradients of every parameter and input after
backward with the same upstream gradient. cpu@jax and strict:1 see a few small cases
(JAX compiles every op once per shape).
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

import polytorch
import polytorch.nn as nn
from polytorch.testing import gradcheck, gradgradcheck

RTOL, ATOL = 1e-5, 1e-5


def _copy_weights(theirs: torch.nn.Module, ours: nn.Module, device: str) -> None:
    ours.load_state_dict({k: polytorch.tensor(v.detach().numpy(), device=device)
                          for k, v in theirs.state_dict().items()})


def _flat(x):
    """Tensors of a nested tuple output, in order."""
    if isinstance(x, (tuple, list)):
        return [t for item in x for t in _flat(item)]
    return [x]


def _close(a, b, what: str) -> None:
    np.testing.assert_allclose(a.detach().cpu().numpy() if hasattr(a, "cpu") else a,
                               b.detach().numpy(), rtol=RTOL, atol=ATOL, err_msg=what)


def _compare(make_ours, make_theirs, x_np, states_np, device, seed=0):
    """Run both layers forward and backward; compare everything that comes out."""
    torch.manual_seed(seed)
    theirs = make_theirs()
    ours = make_ours(device)
    _copy_weights(theirs, ours, device)
    tx = torch.tensor(x_np, requires_grad=True)
    px = polytorch.tensor(x_np, device=device, requires_grad=True)
    t_states = None if states_np is None else tuple(
        torch.tensor(s, requires_grad=True) for s in states_np)
    p_states = None if states_np is None else tuple(
        polytorch.tensor(s, device=device, requires_grad=True) for s in states_np)

    def call(mod, x, states):
        if states is None:
            return mod(x)
        return mod(x, states[0] if len(states) == 1 else states)

    t_out = _flat(call(theirs, tx, t_states))
    p_out = _flat(call(ours, px, p_states))
    assert len(t_out) == len(p_out)
    rng = np.random.default_rng(1)
    grads = [rng.standard_normal(tuple(t.shape)).astype(np.float32) for t in t_out]
    for i, (p, t) in enumerate(zip(p_out, t_out)):
        assert tuple(p.shape) == tuple(t.shape), f"output {i}: {p.shape} vs {t.shape}"
        _close(p, t, f"output {i}")
    torch.autograd.backward(t_out, [torch.tensor(g) for g in grads])
    polytorch.autograd.backward(p_out, [polytorch.tensor(g, device=device) for g in grads])
    _close(px.grad, tx.grad, "input grad")
    if states_np is not None:
        for i, (p, t) in enumerate(zip(p_states, t_states)):
            _close(p.grad, t.grad, f"state {i} grad")
    t_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        _close(p.grad, t_params[name].grad, f"grad of {name}")
    return ours, theirs


_RNG = np.random.default_rng(0)


def _x(*shape):
    return _RNG.standard_normal(shape).astype(np.float32)


# Every pair of the four options in every combination (a pairwise covering design).
_OPTIONS = [(1, False, False, False), (1, True, True, True), (2, False, True, True),
            (2, True, False, True), (2, True, True, False)]
GRID = [(kind, *opts) for kind in ("RNN", "LSTM", "GRU") for opts in _OPTIONS]


@pytest.mark.parametrize("kind,num_layers,bidirectional,batch_first,with_h0", GRID)
def test_layers_match_torch_cpu(kind, num_layers, bidirectional, batch_first, with_h0):
    T, B, I, H = 4, 3, 5, 6
    kwargs = dict(num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first)
    x = _x(B, T, I) if batch_first else _x(T, B, I)
    D = 2 if bidirectional else 1
    states = None
    if with_h0:
        states = (_x(num_layers * D, B, H),) * (2 if kind == "LSTM" else 1)
    _compare(lambda dev: getattr(nn, kind)(I, H, device=dev, **kwargs),
             lambda: getattr(torch.nn, kind)(I, H, **kwargs), x, states, "cpu")


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("with_h0", [False, True])
def test_unbatched_input(kind, with_h0):
    T, I, H = 4, 5, 6
    states = None
    if with_h0:
        states = (_x(2, H),) * (2 if kind == "LSTM" else 1)
    _compare(lambda dev: getattr(nn, kind)(I, H, bidirectional=True, device=dev),
             lambda: getattr(torch.nn, kind)(I, H, bidirectional=True), _x(T, I), states, "cpu")


@pytest.mark.parametrize("variant", [
    {"nonlinearity": "relu"}, {"bias": False}, {"num_layers": 2, "bias": False},
])
def test_rnn_variants(variant):
    _compare(lambda dev: nn.RNN(5, 6, device=dev, **variant),
             lambda: torch.nn.RNN(5, 6, **variant), _x(4, 3, 5), None, "cpu")


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
@pytest.mark.parametrize("bidirectional,with_h0", [(False, False), (True, True)])
def test_lstm_projection(bidirectional, with_h0):
    kw = dict(num_layers=2, proj_size=3, bidirectional=bidirectional)
    D = 2 if bidirectional else 1
    states = (_x(2 * D, 2, 3), _x(2 * D, 2, 6)) if with_h0 else None
    _compare(lambda dev: nn.LSTM(5, 6, device=dev, **kw), lambda: torch.nn.LSTM(5, 6, **kw),
             _x(4, 2, 5), states, "cpu")


def test_gru_without_bias():
    _compare(lambda dev: nn.GRU(5, 6, bias=False, device=dev),
             lambda: torch.nn.GRU(5, 6, bias=False), _x(4, 3, 5), (_x(1, 3, 6),), "cpu")


def test_lstm_on_every_device(device):
    # LSTM runs every op the layers use but GRU's and RNN's gate arithmetic; the cell
    # test below covers GRU's (few shapes: JAX compiles each op once per shape).
    states = (_x(2, 2, 3),) * 2
    _compare(lambda dev: nn.LSTM(4, 3, bidirectional=True, batch_first=True, device=dev),
             lambda: torch.nn.LSTM(4, 3, bidirectional=True, batch_first=True),
             _x(2, 2, 4), states, device)


# -- cells ------------------------------------------------------------------------------------


CELLS = [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("LSTMCell", {}),
         ("GRUCell", {}), ("GRUCell", {"bias": False}), ("LSTMCell", {"bias": False})]


@pytest.mark.parametrize("kind,kw", CELLS)
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_h0", [True, False])
def test_cells_match_torch(kind, kw, batched, with_h0):
    x = _x(3, 5) if batched else _x(5)
    states = None
    if with_h0:
        h = _x(3, 6) if batched else _x(6)
        states = (h, h * 0.5) if kind == "LSTMCell" else (h,)
    _compare(lambda dev: getattr(nn, kind)(5, 6, device=dev, **kw),
             lambda: getattr(torch.nn, kind)(5, 6, **kw), x, states, "cpu")


def test_gru_cell_on_every_device(device):
    if device.endswith("@jax"):
        pytest.skip("test_lstm_on_every_device covers JAX (it compiles every op per shape)")
    _compare(lambda dev: nn.GRUCell(4, 3, device=dev), lambda: torch.nn.GRUCell(4, 3),
             _x(2, 4), (_x(2, 3),), device)


# -- structure: names, init, signatures, repr -------------------------------------------------


@pytest.mark.parametrize("kind,kw", [
    ("RNN", dict(num_layers=2, bidirectional=True)), ("LSTM", dict(proj_size=2, num_layers=2)),
    ("GRU", dict(bias=False, bidirectional=True)), ("RNNCell", {}), ("LSTMCell", {}),
    ("GRUCell", dict(bias=False)),
])
def test_state_dict_keys_shapes_and_init(kind, kw):
    polytorch.manual_seed(0)
    ours, theirs = getattr(nn, kind)(5, 4, **kw), getattr(torch.nn, kind)(5, 4, **kw)
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert list(sd) == list(tsd)
    for k in sd:
        assert tuple(sd[k].shape) == tuple(tsd[k].shape), k
    # uniform(-1/sqrt(hidden), 1/sqrt(hidden)) on every parameter: std bound / sqrt(3)
    values = np.concatenate([v.detach().numpy().ravel() for v in sd.values()])
    bound = 1 / np.sqrt(4)
    assert np.all(np.abs(values) <= bound)
    assert abs(values.std() - bound / np.sqrt(3)) < 0.25 * bound / np.sqrt(3)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("kind", ["RNNBase", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell",
                                  "GRUCell"])
def test_signatures_match_torch(kind):
    for method in ("__init__", "forward"):
        if kind == "RNNBase" and method == "forward":
            continue
        ours = inspect.signature(getattr(getattr(nn, kind), method))
        theirs = inspect.signature(getattr(getattr(torch.nn, kind), method))
        assert list(ours.parameters) == list(theirs.parameters), (kind, method)
        for name, p in theirs.parameters.items():
            assert ours.parameters[name].default == p.default, (kind, method, name)


def test_dropout_between_layers_only_in_training():
    polytorch.manual_seed(0)
    m = nn.LSTM(4, 8, num_layers=2, dropout=0.5)
    x = polytorch.randn(3, 2, 4)
    m.eval()
    with polytorch.no_grad():
        a, b = m(x)[0], m(x)[0]
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        m.train()
        c, d = m(x)[0], m(x)[0]
        assert not np.array_equal(c.numpy(), d.numpy())


def test_dropout_warns_with_one_layer():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.LSTM(4, 8, dropout=0.2)


# -- errors ------------------------------------------------------------------------------------


def test_errors_name_the_layer_and_what_is_wrong():
    lstm = nn.LSTM(10, 20, num_layers=2)
    with pytest.raises(RuntimeError, match=r"LSTM: input.size\(-1\) must be equal to "
                                           r"input_size. Expected 10, got 7"):
        lstm(polytorch.randn(5, 3, 7))
    with pytest.raises(ValueError, match="LSTM: Expected input to be 2D or 3D, got 4D"):
        lstm(polytorch.randn(5, 3, 7, 1))
    h = polytorch.zeros(1, 3, 20)
    with pytest.raises(RuntimeError, match=re_escape("Expected hidden[0] size (2, 3, 20), "
                                                     "got [1, 3, 20]")):
        lstm(polytorch.randn(5, 3, 10), (h, h))
    gru = nn.GRU(10, 20, num_layers=2)
    with pytest.raises(RuntimeError, match=re_escape("GRU: Expected hidden size (2, 3, 20), "
                                                     "got [1, 3, 20]")):
        gru(polytorch.randn(5, 3, 10), h)
    with pytest.raises(RuntimeError, match="For batched 3-D input, hx should also be 3-D"):
        gru(polytorch.randn(5, 3, 10), polytorch.zeros(3, 20))
    with pytest.raises(ValueError, match="input must have the type"):
        gru(polytorch.randn(5, 3, 10, dtype=polytorch.float64))
    with pytest.raises(ValueError, match="Unknown nonlinearity 'gelu'"):
        nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        nn.GRU(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nn.GRU(3, 4, dropout=1.5)
    cell = nn.LSTMCell(10, 20)
    with pytest.raises(RuntimeError, match="LSTMCell: input has inconsistent input_size: "
                                           "got 7 expected 10"):
        cell(polytorch.randn(3, 7))
    with pytest.raises(RuntimeError, match="Input batch size 3 doesn't match hidden0 batch"):
        cell(polytorch.randn(3, 10), (polytorch.zeros(2, 20), polytorch.zeros(2, 20)))


def re_escape(s: str) -> str:
    import re

    return re.escape(s)


# -- gradients by finite differences -------------------------------------------------------


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_gradcheck_small_layer_float64(kind):
    polytorch.manual_seed(0)
    m = getattr(nn, kind)(2, 2, dtype=polytorch.float64)  # small: one Jacobian column each
    params = list(m.parameters())
    x = polytorch.randn(3, 2, 2, dtype=polytorch.float64, requires_grad=True)
    h0 = polytorch.randn(1, 2, 2, dtype=polytorch.float64, requires_grad=True)

    def fn(x, h0, *weights):
        hx = (h0, h0 * 0.5) if kind == "LSTM" else h0
        out, _ = _functional_call(m, dict(zip([n for n, _ in m.named_parameters()], weights)),
                                  x, hx)
        return out

    assert gradcheck(fn, (x, h0, *[p.detach().requires_grad_() for p in params]))


def _functional_call(module, params: dict, *args):
    """Call ``module`` with ``params`` in place of its parameters (restored afterwards)."""
    saved = {name: module._parameters[name] for name in params}
    try:
        for name, value in params.items():
            module._parameters[name] = value
        return module(*args)
    finally:
        module._parameters.update(saved)


def test_double_backward_through_the_recurrence():
    # create_graph through the step/gate splits (their backward is itself differentiable)
    polytorch.manual_seed(0)
    m = nn.LSTM(2, 2, dtype=polytorch.float64)
    x = polytorch.randn(2, 1, 2, dtype=polytorch.float64, requires_grad=True)
    assert gradgradcheck(lambda x: m(x)[0], (x,), fast_mode=True)
    cell = nn.GRUCell(2, 2, dtype=polytorch.float64)
    assert gradgradcheck(lambda x: cell(x), (x[0],), fast_mode=True)


# -- packed sequences ---------------------------------------------------------------------------

from torch.nn.utils import rnn as torch_rnn  # noqa: E402

from polytorch.nn.modules import rnn as packing  # noqa: E402  (nn.utils.rnn re-exports these)


@pytest.mark.parametrize("kind,batch_first", [("LSTM", False), ("GRU", True), ("RNN", False)])
def test_packed_sequences_match_torch(kind, batch_first):
    lengths = [3, 5, 1, 5]  # unsorted, with ties
    x = _x(4, 5, 3) if batch_first else _x(5, 4, 3)
    h0 = _x(4, 4, 4)
    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind)(3, 4, 2, bidirectional=True, batch_first=batch_first)
    ours = getattr(nn, kind)(3, 4, 2, bidirectional=True, batch_first=batch_first)
    _copy_weights(theirs, ours, "cpu")
    px, tx = polytorch.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ph, th = polytorch.tensor(h0, requires_grad=True), torch.tensor(h0, requires_grad=True)
    p_hx, t_hx = ((ph, ph * 0.5), (th, th * 0.5)) if kind == "LSTM" else (ph, th)
    p_out, p_last = ours(packing.pack_padded_sequence(px, lengths, batch_first,
                                                      enforce_sorted=False), p_hx)
    t_out, t_last = theirs(torch_rnn.pack_padded_sequence(tx, lengths, batch_first,
                                                          enforce_sorted=False), t_hx)
    assert p_out.batch_sizes.tolist() == t_out.batch_sizes.tolist()
    _close(p_out.data, t_out.data, "packed output")
    for i, (a, b) in enumerate(zip(_flat(p_last), _flat(t_last))):
        _close(a, b, f"final state {i}")
    p_pad, p_len = packing.pad_packed_sequence(p_out, batch_first, total_length=6)
    t_pad, t_len = torch_rnn.pad_packed_sequence(t_out, batch_first, total_length=6)
    _close(p_pad, t_pad, "padded output")
    assert p_len.tolist() == t_len.tolist() and p_len.dtype == polytorch.int64
    g = _x(*t_pad.shape)
    last_p, last_t = _flat(p_last)[0], _flat(t_last)[0]
    ((p_pad * polytorch.tensor(g)).sum() + last_p.sum()).backward()
    ((t_pad * torch.tensor(g)).sum() + last_t.sum()).backward()
    _close(px.grad, tx.grad, "input grad")
    _close(ph.grad, th.grad, "h0 grad")
    t_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        _close(p.grad, t_params[name].grad, f"grad of {name}")


def test_pack_and_pad_sequence_helpers_match_torch():
    seqs = [_x(2, 3), _x(4, 3), _x(1, 3)]
    for batch_first, side in [(True, "left"), (False, "right")]:
        ours = packing.pad_sequence([polytorch.tensor(s) for s in seqs], batch_first, -1.0, side)
        theirs = torch_rnn.pad_sequence([torch.tensor(s) for s in seqs], batch_first, -1.0,
                                        side)
        _close(ours, theirs, f"pad_sequence {side}")
    a = packing.pack_sequence([polytorch.tensor(s) for s in seqs], enforce_sorted=False)
    b = torch_rnn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    _close(a.data, b.data, "pack_sequence")
    assert a.sorted_indices.tolist() == b.sorted_indices.tolist()
    assert a.unsorted_indices.tolist() == b.unsorted_indices.tolist()
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        packing.pack_sequence([polytorch.tensor(s) for s in seqs])
    with pytest.raises(ValueError, match="Expected total_length to be at least"):
        packing.pad_packed_sequence(a, total_length=2)


def test_packed_sequence_on_every_device(device):
    if device.endswith("@jax"):
        pytest.skip("test_lstm_on_every_device covers JAX (it compiles every op per shape)")
    polytorch.manual_seed(0)
    m = nn.GRU(2, 3, device=device)
    x = polytorch.randn(3, 2, 2, device=device)
    out, h = m(packing.pack_padded_sequence(x, [3, 1]))
    padded, _ = packing.pad_packed_sequence(out)
    full, h_full = m(x[:, :1])
    np.testing.assert_allclose(padded[:, 0].cpu().detach().numpy(),
                               full[:, 0].cpu().detach().numpy(), rtol=1e-5, atol=1e-6)
    assert np.all(padded[1:, 1].cpu().detach().numpy() == 0)
    assert out.data.device == polytorch.device(device)
