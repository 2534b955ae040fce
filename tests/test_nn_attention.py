"""scaled_dot_product_attention and MultiheadAttention against PyTorch (and finite differences).

MultiheadAttention tests copy torch's initialised weights into ours through
``load_state_dict`` and compare outputs, attention weights and the gradients of
every parameter and input. cpu@jax and strict:1 see a few small cases (JAX compiles
every op once per shape).
"""

from __future__ import annotations

import inspect
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import polytorch
import polytorch.nn as nn
import polytorch.nn.functional as F
from polytorch.testing import gradcheck, gradgradcheck

RTOL, ATOL = 1e-5, 1e-5
_RNG = np.random.default_rng(0)


def _x(*shape, low=-1.5, high=1.5):
    return _RNG.uniform(low, high, shape).astype(np.float32)


def _close(ours, theirs, what=""):
    assert ours is not None and theirs is not None, what
    np.testing.assert_allclose(ours.detach().cpu().numpy(), theirs.detach().numpy(),
                               rtol=RTOL, atol=ATOL, err_msg=what)


def _pt(a, device, grad=False):
    return None if a is None else polytorch.tensor(a, device=device, requires_grad=grad)


def _th(a, grad=False):
    return None if a is None else torch.tensor(a, requires_grad=grad)


# -- scaled_dot_product_attention --------------------------------------------------------------


def _check_sdpa(q, k, v, mask, device, **kw):
    """Forward and the gradients of q, k, v (and a float mask) against torch."""
    float_mask = mask is not None and mask.dtype != np.bool_
    ours = [_pt(a, device, grad=True) for a in (q, k, v)]
    theirs = [_th(a, grad=True) for a in (q, k, v)]
    pm, tm = _pt(mask, device, grad=float_mask), _th(mask, grad=float_mask)
    out = F.scaled_dot_product_attention(*ours, pm, **kw)
    ref = TF.scaled_dot_product_attention(*theirs, tm, **kw)
    _close(out, ref, "output")
    g = _x(*ref.shape)
    out.backward(_pt(g, device))
    ref.backward(_th(g))
    for i, (a, b) in enumerate(zip(ours + [pm] * float_mask, theirs + [tm] * float_mask)):
        _close(a.grad, b.grad, f"grad of input {i}")


def _masks(L, S):
    bool_mask = _RNG.random((L, S)) < 0.6
    bool_mask[:, 0] = True
    empty_row = bool_mask.copy()
    empty_row[1] = False  # a row with no key: PyTorch's CPU kernel gives zeros
    float_mask = np.where(_RNG.random((L, S)) < 0.7, _x(L, S), -np.inf).astype(np.float32)
    float_mask[:, 0] = 0.0
    return {
        "none": None, "bool": bool_mask, "bool_empty_row": empty_row,
        "bool_4d": _RNG.random((2, 1, L, S)) < 0.6, "float": float_mask,
        "float_bcast": _x(1, 3, 1, S),
    }


_MASKS = _masks(4, 6)


@pytest.mark.parametrize("mask", list(_MASKS))
@pytest.mark.parametrize("scale", [None, 0.3])
def test_sdpa_masks_match_torch(mask, scale):
    m = _MASKS[mask]
    if m is not None and m.ndim == 4 and m.dtype == np.bool_:
        m = m | np.eye(4, 6, dtype=bool)  # keep a key per row
    _check_sdpa(_x(2, 3, 4, 5), _x(2, 3, 6, 5), _x(2, 3, 6, 7), m, "cpu", scale=scale)


@pytest.mark.parametrize("L,S", [(4, 6), (6, 4), (5, 5)])
def test_sdpa_causal_matches_torch(L, S):
    _check_sdpa(_x(2, 2, L, 3), _x(2, 2, S, 3), _x(2, 2, S, 3), None, "cpu", is_causal=True)


@pytest.mark.parametrize("shape", [(4, 5), (2, 4, 5), (2, 1, 3, 4, 5)])
def test_sdpa_other_ranks(shape):
    kshape = shape[:-2] + (6, 5)
    _check_sdpa(_x(*shape), _x(*kshape), _x(*kshape), _MASKS["bool"], "cpu")


@pytest.mark.parametrize("kw", [{}, {"is_causal": True}])
def test_sdpa_grouped_query_attention(kw):
    _check_sdpa(_x(2, 6, 4, 5), _x(2, 2, 6, 5), _x(2, 2, 6, 3), None, "cpu",
                enable_gqa=True, **kw)


def test_sdpa_on_every_device(device):
    _check_sdpa(_x(1, 2, 3, 4), _x(1, 2, 5, 4), _x(1, 2, 5, 4), _masks(3, 5)["bool_empty_row"],
                device)


def test_sdpa_fully_masked_rows_give_zeros_and_zero_grads():
    mask = np.ones((3, 5), bool)
    mask[1] = False
    q = polytorch.randn(1, 3, 4, requires_grad=True)
    kv = polytorch.randn(1, 5, 4)
    out = F.scaled_dot_product_attention(q, kv, kv, polytorch.tensor(mask))
    assert np.all(out.detach().numpy()[0, 1] == 0)
    out.sum().backward()
    assert np.all(q.grad.numpy()[0, 1] == 0) and np.all(np.isfinite(q.grad.numpy()))


def test_sdpa_dropout_scales_kept_weights():
    # With value = identity the output is the (dropped) attention weights themselves.
    polytorch.manual_seed(0)
    q, k = polytorch.randn(2, 8, 6), polytorch.randn(2, 8, 6)
    eye = polytorch.eye(8).expand(2, 8, 8)
    plain = F.scaled_dot_product_attention(q, k, eye).numpy()
    dropped = F.scaled_dot_product_attention(q, k, eye, dropout_p=0.25).numpy()
    kept = dropped != 0
    np.testing.assert_allclose(dropped[kept], plain[kept] / 0.75, rtol=1e-5)
    assert 0.55 < kept.mean() < 0.95
    polytorch.manual_seed(1)
    a = F.scaled_dot_product_attention(q, k, eye, dropout_p=0.25).numpy()
    polytorch.manual_seed(1)
    b = F.scaled_dot_product_attention(q, k, eye, dropout_p=0.25).numpy()
    np.testing.assert_array_equal(a, b)


def test_sdpa_gradcheck_float64():
    dt = polytorch.float64
    q = polytorch.randn(1, 2, 3, 4, dtype=dt, requires_grad=True)
    k = polytorch.randn(1, 2, 5, 4, dtype=dt, requires_grad=True)
    v = polytorch.randn(1, 2, 5, 3, dtype=dt, requires_grad=True)
    bias = polytorch.randn(3, 5, dtype=dt, requires_grad=True)
    mask = polytorch.tensor(_masks(3, 5)["bool_empty_row"])
    assert gradcheck(lambda q, k, v, b: F.scaled_dot_product_attention(q, k, v, b),
                     (q, k, v, bias))
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, mask), (q, k, v))
    assert gradgradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
                         (q, k, v))


def test_sdpa_errors():
    q = polytorch.randn(1, 4, 3, 8)
    kv = polytorch.randn(1, 3, 5, 8)
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set when "
                                           "is_causal=True"):
        F.scaled_dot_product_attention(q, q, q, polytorch.ones(3, 3, dtype=polytorch.bool),
                                       is_causal=True)
    with pytest.raises(RuntimeError, match=r"number of query heads \(4\) must be a multiple"):
        F.scaled_dot_product_attention(q, kv, kv, enable_gqa=True)
    with pytest.raises(RuntimeError, match=r"query.size\(-1\) must equal key.size\(-1\)"):
        F.scaled_dot_product_attention(q, polytorch.randn(1, 4, 5, 7), kv)
    with pytest.raises(RuntimeError, match="attn_mask must be bool or floating point"):
        F.scaled_dot_product_attention(q, q, q, polytorch.ones(3, 3, dtype=polytorch.int64))


def test_functional_signatures_match_torch():
    ours = inspect.signature(F.multi_head_attention_forward)
    theirs = inspect.signature(TF.multi_head_attention_forward)
    assert list(ours.parameters) == list(theirs.parameters)
    for p, tp in zip(ours.parameters.values(), theirs.parameters.values()):
        assert p.default == tp.default, p.name
    # torch's sdpa is a builtin without a signature: its docstring states it.
    doc = TF.scaled_dot_product_attention.__doc__.split("->")[0]
    sdpa = inspect.signature(F.scaled_dot_product_attention)
    stated = "(" + ", ".join(
        p.name if p.default is inspect.Parameter.empty else f"{p.name}={p.default}"
        for p in sdpa.parameters.values()) + ")"
    assert " ".join(doc.split()) == "scaled_dot_product_attention" + stated


# -- MultiheadAttention ----------------------------------------------------------------------


def _mha_pair(device, seed=0, **kw):
    torch.manual_seed(seed)
    theirs = torch.nn.MultiheadAttention(**kw)
    ours = nn.MultiheadAttention(device=device, **kw)
    sd = theirs.state_dict()
    ours.load_state_dict({k: polytorch.tensor(v.detach().numpy(), device=device)
                          for k, v in sd.items()})
    return ours, theirs


def _check_mha(kw, inputs, call_kw, device="cpu", train=True, self_attention=False):
    """Compare output, weights and gradients; ``inputs`` are q, k, v NumPy arrays."""
    ours, theirs = _mha_pair(device, **kw)
    ours.train(train)
    theirs.train(train)
    pq, tq = _pt(inputs[0], device, True), _th(inputs[0], True)
    if self_attention:
        p_in, t_in = (pq, pq, pq), (tq, tq, tq)
        p_leaves, t_leaves = [pq], [tq]
    else:
        p_in = (pq, *(_pt(a, device, True) for a in inputs[1:]))
        t_in = (tq, *(_th(a, True) for a in inputs[1:]))
        p_leaves, t_leaves = list(p_in), list(t_in)
    p_kw = {k: _pt(v, device) if isinstance(v, np.ndarray) else v for k, v in call_kw.items()}
    t_kw = {k: _th(v) if isinstance(v, np.ndarray) else v for k, v in call_kw.items()}
    out, w = ours(*p_in, **p_kw)
    ref, tw = theirs(*t_in, **t_kw)
    _close(out, ref, "output")
    if tw is None:
        assert w is None
    else:
        _close(w, tw, "attention weights")
    if not train:
        return
    g = _x(*ref.shape)
    loss = (out * _pt(g, device)).sum() + (0 if w is None else w.sum())
    tloss = (ref * _th(g)).sum() + (0 if tw is None else tw.sum())
    loss.backward()
    tloss.backward()
    for i, (a, b) in enumerate(zip(p_leaves, t_leaves)):
        _close(a.grad, b.grad, f"grad of input {i}")
    t_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        _close(p.grad, t_params[name].grad, f"grad of {name}")


E, H, L, S, N = 8, 2, 4, 5, 3


def _kpm():
    m = _RNG.random((N, S)) < 0.3
    m[:, 0] = False
    return m


_MHA_CASES = {
    "plain": ({}, {}),
    "no_weights": ({}, {"need_weights": False}),
    "per_head_weights": ({}, {"average_attn_weights": False}),
    "kpm_bool": ({}, {"key_padding_mask": _kpm()}),
    "kpm_bool_no_weights": ({}, {"key_padding_mask": _kpm(), "need_weights": False}),
    "attn_mask_bool": ({}, {"attn_mask": np.triu(np.ones((L, S), bool), 1)}),
    "attn_mask_float_3d": ({}, {"attn_mask": _x(N * H, L, S)}),
    "both_masks_float": ({}, {"key_padding_mask": np.where(_kpm(), -np.inf, 0.0).astype(
        np.float32), "attn_mask": _x(L, S), "need_weights": False}),
    "kdim_vdim": ({"kdim": 6, "vdim": 3}, {}),
    "bias_kv_zero_attn": ({"add_bias_kv": True, "add_zero_attn": True},
                          {"key_padding_mask": np.where(_kpm(), -np.inf, 0.0).astype(np.float32),
                           "attn_mask": _x(L, S)}),
    "no_bias": ({"bias": False}, {"need_weights": False}),
    "batch_first": ({"batch_first": True}, {"key_padding_mask": _kpm()}),
}


@pytest.mark.parametrize("case", list(_MHA_CASES))
def test_mha_matches_torch(case):
    kw, call_kw = _MHA_CASES[case]
    kw = {"embed_dim": E, "num_heads": H, **kw}
    kdim, vdim = kw.get("kdim", E), kw.get("vdim", E)
    if kw.get("batch_first"):
        inputs = (_x(N, L, E), _x(N, S, kdim), _x(N, S, vdim))
    else:
        inputs = (_x(L, N, E), _x(S, N, kdim), _x(S, N, vdim))
    _check_mha(kw, inputs, call_kw)


@pytest.mark.parametrize("batch_first,need_weights", list(itertools.product([False, True],
                                                                           [False, True])))
def test_mha_self_attention_causal(batch_first, need_weights):
    x = _x(N, L, E) if batch_first else _x(L, N, E)
    mask = np.triu(np.full((L, L), -np.inf, np.float32), 1)
    _check_mha({"embed_dim": E, "num_heads": H, "batch_first": batch_first}, (x,),
               {"attn_mask": mask, "is_causal": True, "need_weights": need_weights},
               self_attention=True)


@pytest.mark.parametrize("need_weights", [False, True])
def test_mha_unbatched(need_weights):
    _check_mha({"embed_dim": E, "num_heads": H}, (_x(L, E), _x(S, E), _x(S, E)),
               {"key_padding_mask": _kpm()[0], "need_weights": need_weights})


@pytest.mark.parametrize("need_weights", [False, True])
def test_mha_fully_padded_sequence_like_torch(need_weights):
    # No key to attend: zeros through sdpa (need_weights=False), NaN through the plain
    # softmax (need_weights=True), as in PyTorch.
    kpm = np.zeros((N, S), bool)
    kpm[1] = True
    ours, theirs = _mha_pair("cpu", embed_dim=E, num_heads=H)
    x, y = _x(L, N, E), _x(S, N, E)
    with torch.no_grad(), polytorch.no_grad():
        out, _ = ours(_pt(x, "cpu"), _pt(y, "cpu"), _pt(y, "cpu"), key_padding_mask=_pt(kpm, "cpu"),
                      need_weights=need_weights)
        ref, _ = theirs(_th(x), _th(y), _th(y), key_padding_mask=_th(kpm),
                        need_weights=need_weights)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=RTOL, atol=ATOL)
    assert np.isnan(ref.numpy()[:, 1]).all() == need_weights


def test_mha_eval_mode_matches_torch_fast_path():
    x = _x(N, L, E)
    _check_mha({"embed_dim": E, "num_heads": H, "batch_first": True, "dropout": 0.5}, (x,),
               {"need_weights": False}, train=False, self_attention=True)


def test_mha_on_every_device(device):
    _check_mha({"embed_dim": 4, "num_heads": 2}, (_x(3, 2, 4), _x(3, 2, 4), _x(3, 2, 4)),
               {"key_padding_mask": np.array([[False, False, True], [False, False, False]])},
               device=device)


def test_mha_structure_matches_torch():
    for kw in ({}, {"kdim": 3, "vdim": 5, "bias": False}, {"add_bias_kv": True}):
        ours = nn.MultiheadAttention(E, H, **kw)
        theirs = torch.nn.MultiheadAttention(E, H, **kw)
        sd, tsd = ours.state_dict(), theirs.state_dict()
        assert list(sd) == list(tsd)
        for k in sd:
            assert tuple(sd[k].shape) == tuple(tsd[k].shape), k
        assert repr(ours) == repr(theirs)
    assert nn.MultiheadAttention.__module__ == "polytorch.nn.modules.activation"
    from polytorch.nn.modules.activation import MultiheadAttention

    assert MultiheadAttention is nn.MultiheadAttention
    for method in ("__init__", "forward"):
        ours = inspect.signature(getattr(nn.MultiheadAttention, method))
        theirs = inspect.signature(getattr(torch.nn.MultiheadAttention, method))
        assert list(ours.parameters) == list(theirs.parameters)
        for p, tp in zip(ours.parameters.values(), theirs.parameters.values()):
            assert p.default == tp.default, p.name


def test_mha_init():
    polytorch.manual_seed(0)
    m = nn.MultiheadAttention(64, 4, add_bias_kv=True)
    w = m.in_proj_weight.detach().numpy()
    bound = np.sqrt(6 / (64 + 3 * 64))  # xavier_uniform on (3E, E)
    assert np.all(np.abs(w) <= bound) and w.std() > 0.5 * bound
    assert np.all(m.in_proj_bias.detach().numpy() == 0)
    assert np.all(m.out_proj.bias.detach().numpy() == 0)


def test_mha_errors():
    with pytest.raises(ValueError, match="embed_dim and num_heads must be greater than 0"):
        nn.MultiheadAttention(0, 2)
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(7, 2)
    m = nn.MultiheadAttention(E, H)
    x = polytorch.randn(L, N, E)
    with pytest.raises(RuntimeError, match=r"The shape of the 2D attn_mask is \(3, 3\), but "
                                           r"should be \(4, 4\)"):
        m(x, x, x, attn_mask=polytorch.zeros(3, 3))
    with pytest.raises(AssertionError, match="query should be unbatched 2D or batched 3D"):
        m(x[None], x[None], x[None])
    with pytest.raises(AssertionError, match="only bool and floating types of attn_mask"):
        m(x, x, x, attn_mask=polytorch.zeros(4, 4, dtype=polytorch.int64))
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        m(x, x, x, is_causal=True)
    with pytest.raises(AssertionError, match="was expecting embedding dimension of 8, but got 6"):
        m(x[..., :6], x[..., :6], x[..., :6])
