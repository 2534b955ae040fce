"""nn.functional losses against PyTorch (values and gradients), finite differences, and errors.

Every loss is checked on cpu for each reduction and the options that change its
formula; a representative subset runs on cpu@jax and strict:1 too (JAX compiles
per shape, so those reuse a few shapes).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from helpers import host
from hypothesis import given, settings
from hypothesis import strategies as st

import polytorch
import polytorch.nn.functional as F
from polytorch.testing import gradcheck

REDUCTIONS = ["none", "mean", "sum"]
RNG = np.random.RandomState(0)


def _array(a):
    return isinstance(a, np.ndarray)


def check(name, args, kwargs=None, device="cpu", grad=None, rtol=1e-5, atol=1e-6, torch_fn=None):
    """Run ``F.name`` and PyTorch's on the same arrays; compare values and input gradients.

    ``grad`` lists the positions of the arguments to differentiate (default: every
    floating array). The upstream gradient is random, so every output element counts.
    """
    kwargs = kwargs or {}
    if grad is None:
        grad = [i for i, a in enumerate(args) if _array(a) and a.dtype.kind == "f"]
    ours = [polytorch.tensor(a, device=device, requires_grad=i in grad) if _array(a) else a
            for i, a in enumerate(args)]
    theirs = [torch.tensor(a, requires_grad=i in grad) if _array(a) else a
              for i, a in enumerate(args)]
    tkw = {k: torch.tensor(v) if _array(v) else v for k, v in kwargs.items()}
    okw = {k: polytorch.tensor(v, device=device) if _array(v) else v for k, v in kwargs.items()}
    out = getattr(F, name)(*ours, **okw)
    ref = (torch_fn or getattr(TF, name))(*theirs, **tkw)
    assert out.dtype.name == str(ref.dtype).split(".")[-1]
    assert tuple(out.shape) == tuple(ref.shape)
    np.testing.assert_allclose(host(out), host(ref), rtol=rtol, atol=atol)
    if grad:
        up = RNG.uniform(0.5, 1.5, size=tuple(ref.shape)).astype(host(ref).dtype)
        (out * polytorch.tensor(up, device=device)).sum().backward()
        (ref * torch.tensor(up)).sum().backward()
        for i in grad:
            np.testing.assert_allclose(host(ours[i].grad), host(theirs[i].grad), rtol=rtol,
                                       atol=atol, err_msg=f"gradient of argument {i}")
    return out


def f32(*shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, size=shape).astype(np.float32)


def f64(*shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, size=shape)


def ints(high, *shape, low=0):
    return RNG.randint(low, high, size=shape).astype(np.int64)


def probs(*shape, dim=1):
    e = np.exp(RNG.randn(*shape))
    return (e / e.sum(axis=dim, keepdims=True)).astype(np.float32)


# -- cross_entropy and nll_loss --------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(4, 5), (5,), (2, 5, 3), (2, 5, 2, 3)])
@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_class_indices(fn, shape, reduction):
    x = f32(*shape)
    t = ints(5, *((shape[0],) + shape[2:])) if len(shape) > 1 else np.int64(3)
    t = np.asarray(t)
    check(fn, (x, t), {"reduction": reduction})
    w = f32(5, low=0.1, high=2.0)
    check(fn, (x, t), {"reduction": reduction, "weight": w})


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_ignore_index(fn, reduction):
    x = f32(6, 4)
    t = np.array([0, -100, 3, 2, -100, 1])
    check(fn, (x, t), {"reduction": reduction})
    check(fn, (x, t), {"reduction": reduction, "weight": f32(4, low=0.1, high=2.0)})
    check(fn, (x, np.array([0, 2, 3, 2, 1, 1])), {"reduction": reduction, "ignore_index": 2})
    x3 = f32(2, 4, 3)
    check(fn, (x3, np.array([[0, 1, -1], [-1, 3, 3]])), {"reduction": reduction,
                                                        "ignore_index": -1})


def test_unbatched_input_with_one_target():
    # (C,) with (1,) is one unbatched sample (PyTorch's backward fails there: values only)
    for reduction in REDUCTIONS:
        check("cross_entropy", (f32(4), np.array([3])), {"reduction": reduction}, grad=[])
        check("nll_loss", (f32(4), np.array([3])), {"reduction": reduction}, grad=[])


def test_all_ignored_mean_is_nan():
    check("cross_entropy", (f32(2, 3), np.array([-100, -100])))
    check("nll_loss", (f32(2, 3), np.array([-100, -100])),
          {"weight": f32(3, low=0.5, high=1.0)})


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.1, 1.0])
def test_label_smoothing_indices(reduction, smoothing):
    x = f32(6, 4)
    t = np.array([0, -100, 3, 2, 1, 1])
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    check("cross_entropy", (x, t), kw)
    check("cross_entropy", (x, t), dict(kw, weight=f32(4, low=0.1, high=2.0)))
    check("cross_entropy", (f32(2, 4, 3), ints(4, 2, 3)), kw)
    check("cross_entropy", (f32(4), np.asarray(np.int64(1))), kw)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_class_probabilities(reduction, smoothing):
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    check("cross_entropy", (f32(4, 5), probs(4, 5)), kw)
    check("cross_entropy", (f32(2, 5, 3), probs(2, 5, 3)), kw)
    check("cross_entropy", (f32(5), probs(5, dim=0)), kw)
    check("cross_entropy", (f32(4, 5), probs(4, 5)), dict(kw, weight=f32(5, low=0.1, high=2)))


def test_cross_entropy_large_logits_stay_finite():
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]], np.float32)
    out = check("cross_entropy", (x, np.array([1, 2])), {"reduction": "none"}, atol=1e-3)
    assert np.isfinite(host(out)).all()
    check("cross_entropy", (x, probs(2, 3)), atol=1e-2)
    check("binary_cross_entropy_with_logits", (x, f32(2, 3, low=0, high=1)), atol=1e-2)


def test_uint8_target_and_legacy_arguments():
    check("nll_loss", (f32(3, 4), np.array([1, 0, 3], np.uint8)))
    with pytest.warns(UserWarning, match="reduction='sum'"):
        out = F.cross_entropy(polytorch.tensor(f32(3, 4)), polytorch.tensor([1, 0, 3]),
                              size_average=False)
    assert out.shape == ()
    with pytest.warns(UserWarning, match="reduction='none'") as record:
        assert F.mse_loss(polytorch.ones(2), polytorch.ones(2), reduce=False).shape == (2,)
    assert record[0].filename == __file__  # the warning points at the caller's line
    with pytest.warns(UserWarning, match="reduction='none'") as record:
        polytorch.nn.CrossEntropyLoss(reduce=False)
    assert record[0].filename == __file__


def test_class_index_errors():
    x = polytorch.tensor(f32(3, 5))
    with pytest.raises(IndexError, match="Target 7 is out of bounds.*5 classes"):
        F.cross_entropy(x, polytorch.tensor([1, 7, 2]))
    with pytest.raises(IndexError, match="Target -3 is out of bounds"):
        F.nll_loss(x, polytorch.tensor([1, -3, 2]))
    with pytest.raises(IndexError, match="Target 9 is out of bounds"):
        F.cross_entropy(polytorch.tensor(f32(2, 5, 4)), polytorch.full((2, 4), 9))
    with pytest.raises(ValueError, match=r"input batch_size \(3\) to match target batch_size "
                                         r"\(2\)"):
        F.cross_entropy(x, polytorch.tensor([1, 2]))
    with pytest.raises(RuntimeError, match=r"Expected target size \[2, 4\], got \[2, 3\]"):
        F.cross_entropy(polytorch.tensor(f32(2, 5, 4)), polytorch.zeros((2, 3)).long())
    with pytest.raises(RuntimeError, match="Long or Byte, but got Float"):
        F.cross_entropy(x, polytorch.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="bad is not a valid value for reduction"):
        F.cross_entropy(x, polytorch.tensor([1, 2, 3]), reduction="bad")
    with pytest.raises(RuntimeError, match="for all 5 classes .* shape: \\[3\\]"):
        F.cross_entropy(x, polytorch.tensor([1, 2, 3]), weight=polytorch.ones(3))
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0"):
        F.cross_entropy(x, polytorch.tensor([1, 2, 3]), label_smoothing=1.5)
    with pytest.raises(RuntimeError, match="ignore_index is not supported"):
        F.cross_entropy(x, polytorch.rand(3, 5), ignore_index=1)
    with pytest.raises(RuntimeError, match="Expected floating point type for target"):
        F.cross_entropy(x, polytorch.zeros((3, 5)).long())
    with pytest.raises(ValueError, match="For 1D input, 1D target must have size 1"):
        F.nll_loss(polytorch.tensor(f32(5)), polytorch.tensor([2, 1]))
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
        F.cross_entropy(x, polytorch.tensor([1, 2, 3]), weight=polytorch.ones(5).double())


# -- regression losses -------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression(reduction):
    x, y = f32(3, 4), f32(3, 4)
    y[0, 0] = x[0, 0]  # a zero difference: l1's derivative there is 0 in both
    kw = {"reduction": reduction}
    check("mse_loss", (x, y), kw)
    check("l1_loss", (x, y), kw)
    check("mse_loss", (x, y), dict(kw, weight=f32(3, 4, low=0.1, high=2.0)), grad=[0, 1])
    check("l1_loss", (x, y), dict(kw, weight=f32(3, 4, low=0.1, high=2.0)), grad=[0, 1])
    for beta in (1.0, 0.5, 0.0):
        check("smooth_l1_loss", (x, y), dict(kw, beta=beta))
    for delta in (1.0, 0.5, 2.5):
        check("huber_loss", (x, y), dict(kw, delta=delta))
    check("huber_loss", (x, y), dict(kw, weight=f32(3, 4, low=0.1, high=2)), grad=[0, 1])


def test_regression_broadcast_warns_and_mismatch_raises():
    x, y = f32(3, 4), f32(4)
    with pytest.warns(UserWarning, match=r"Using a target size .*\[4\].* different to the "
                                         r"input size .*\[3, 4\]"):
        out = F.mse_loss(polytorch.tensor(x), polytorch.tensor(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = TF.mse_loss(torch.tensor(x), torch.tensor(y))
    np.testing.assert_allclose(host(out), host(ref), rtol=1e-6)
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="size of tensor"):
        F.l1_loss(polytorch.tensor(x), polytorch.tensor(f32(3, 5)))
    with pytest.raises(RuntimeError, match="negative values for beta"):
        F.smooth_l1_loss(polytorch.tensor(x), polytorch.tensor(x), beta=-1.0)
    with pytest.raises(RuntimeError, match="non-positive values for delta"):
        F.huber_loss(polytorch.tensor(x), polytorch.tensor(x), delta=0.0)


def test_regression_dtypes():
    check("mse_loss", (f32(3, 4), f64(3, 4)))
    check("l1_loss", (f64(3, 4), f32(3, 4)))


# -- binary losses ------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction):
    x, t = f32(3, 4, low=0.02, high=0.98), f32(3, 4, low=0.0, high=1.0)
    kw = {"reduction": reduction}
    check("binary_cross_entropy", (x, t), kw)
    check("binary_cross_entropy", (x, t), dict(kw, weight=f32(4, low=0.1, high=2.0)))
    # Saturated probabilities: logs clamped at -100, gradients finite as PyTorch's.
    edge = np.array([0.0, 1.0, 1.0, 0.0, 1e-30], np.float32)
    out = check("binary_cross_entropy", (edge, np.array([1.0, 0.0, 1.0, 0.0, 1.0], np.float32)),
                kw, grad=[0])
    assert np.isfinite(host(out)).all()


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits(reduction):
    x, t = f32(3, 4, low=-5, high=5), f32(3, 4, low=0, high=1)
    x[0, 0] = 0.0  # log_sigmoid's gradient at 0 is exactly 1/2
    kw = {"reduction": reduction}
    check("binary_cross_entropy_with_logits", (x, t), kw)
    check("binary_cross_entropy_with_logits", (x, t),
          dict(kw, weight=f32(4, low=0.1, high=2), pos_weight=f32(4, low=0.5, high=3)))
    check("binary_cross_entropy_with_logits", (x, t), dict(kw, pos_weight=f32(3, 1, low=0.5)))


def test_binary_errors():
    p = polytorch.tensor([0.5, 0.5])
    with pytest.raises(RuntimeError, match="input should be between 0 and 1"):
        F.binary_cross_entropy(polytorch.tensor([0.5, 1.5]), polytorch.tensor([0.0, 1.0]))
    with pytest.raises(RuntimeError, match="target should be between 0 and 1"):
        F.binary_cross_entropy(p, polytorch.tensor([0.0, 1.5]))
    with pytest.raises(ValueError, match=r"target size .*\[3\].* input size .*\[2\]"):
        F.binary_cross_entropy(p, polytorch.tensor([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match=r"Target size .*\[3\].* must be the same as input size"):
        F.binary_cross_entropy_with_logits(p, polytorch.tensor([0.0, 1.0, 1.0]))


# -- probabilistic losses -------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["none", "batchmean", "sum", "mean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    x = np.log(probs(3, 4))
    t = probs(3, 4)
    t[0, 1] = 0.0  # xlogy(0, 0) = 0
    if log_target:
        t = np.log(probs(3, 4))
    kw = {"reduction": reduction, "log_target": log_target}
    if reduction == "mean":
        with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
            F.kl_div(polytorch.tensor(x), polytorch.tensor(t), **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # both warn for "mean" (checked above)
        check("kl_div", (x, t), kw, grad=[0, 1] if log_target else [0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_poisson_and_gaussian_nll(reduction):
    kw = {"reduction": reduction}
    x, t = f32(3, 4, low=0.1, high=2), np.floor(f32(3, 4, low=0, high=4))
    for log_input in (True, False):
        for full in (False, True):
            check("poisson_nll_loss", (x, t), dict(kw, log_input=log_input, full=full),
                  grad=[0])
    mu, y = f32(3, 4), f32(3, 4)
    check("gaussian_nll_loss", (mu, y, f32(3, 4, low=0.1, high=2)), kw)
    check("gaussian_nll_loss", (mu, y, f32(3, low=0.1, high=2)), dict(kw, full=True))
    check("gaussian_nll_loss", (mu, y, f32(3, 1, low=0.1, high=2)), kw)
    var = f32(3, 4, low=0.1, high=2)
    var[0, 0] = 1e-9  # clamped to eps without blocking its gradient
    check("gaussian_nll_loss", (mu, y, var), kw)
    check("gaussian_nll_loss", (mu, y, 0.7), kw)
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(polytorch.tensor(mu), polytorch.tensor(y), polytorch.ones(2))
    with pytest.raises(ValueError, match="var has negative"):
        F.gaussian_nll_loss(polytorch.tensor(mu), polytorch.tensor(y), -1.0)


# -- margin and embedding losses ----------------------------------------------------------------


def pm1(*shape):
    return np.where(RNG.rand(*shape) < 0.5, -1.0, 1.0).astype(np.float32)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_losses(reduction):
    kw = {"reduction": reduction}
    a, b, y = f32(6), f32(6), pm1(6)
    check("margin_ranking_loss", (a, b, y), dict(kw, margin=0.3))
    check("hinge_embedding_loss", (a, y), dict(kw, margin=0.5), grad=[0])
    check("soft_margin_loss", (f32(3, 4), pm1(3, 4)), kw, grad=[0])
    check("multilabel_soft_margin_loss", (f32(3, 4), f32(3, 4, low=0, high=1)), kw)
    check("multilabel_soft_margin_loss", (f32(3, 4), f32(3, 4, low=0, high=1)),
          dict(kw, weight=f32(4, low=0.1, high=2)))
    x1, x2, yy = f32(5, 3), f32(5, 3), pm1(5)
    check("cosine_embedding_loss", (x1, x2, yy), dict(kw, margin=0.2), grad=[0, 1])
    check("cosine_embedding_loss", (f32(3), f32(3), np.asarray(np.float32(-1.0))), kw,
          grad=[0, 1])
    t = ints(4, 5)
    for p in (1, 2):
        check("multi_margin_loss", (f32(5, 4), t), dict(kw, p=p, margin=0.7))
    check("multi_margin_loss", (f32(5, 4), t), dict(kw, weight=f32(4, low=0.1, high=2)))
    check("multi_margin_loss", (f32(4), np.asarray(np.int64(2))), kw)
    with pytest.raises(RuntimeError, match="target out of range"):
        F.multi_margin_loss(polytorch.tensor(f32(3, 4)), polytorch.tensor([1, 7, 2]))
    with pytest.raises(RuntimeError, match="Expected target size \\[3\\], but got \\[2\\]"):
        F.multi_margin_loss(polytorch.tensor(f32(3, 4)), polytorch.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="'target' is out of range"):
        F.multilabel_margin_loss(polytorch.tensor(f32(1, 4)), polytorch.tensor([[1, 7, -1, 0]]))
    target = np.array([[3, 0, -1, 1], [1, 2, 3, 0], [-1, 1, 2, 2]])
    check("multilabel_margin_loss", (f32(3, 4), target), kw)
    check("multilabel_margin_loss", (f32(4), np.array([2, 1, -1, 0])), kw)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_triplet(reduction):
    a, p, n = f32(5, 3), f32(5, 3), f32(5, 3)
    for opts in ({}, {"margin": 0.5, "p": 1.0}, {"swap": True}, {"p": 3.0, "eps": 1e-3}):
        check("triplet_margin_loss", (a, p, n), dict(opts, reduction=reduction))
    check("triplet_margin_loss", (f32(3), f32(3), f32(3)), {"reduction": reduction})
    check("triplet_margin_with_distance_loss", (a, p, n),
          {"reduction": reduction, "swap": True, "margin": 2.0})

    def cosine(x, y):
        return 1 - (x * y).sum(-1) / ((x * x).sum(-1) * (y * y).sum(-1)).sqrt()

    check("triplet_margin_with_distance_loss", (a, p, n),
          {"reduction": reduction, "distance_function": cosine})
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        F.triplet_margin_loss(*(polytorch.tensor(v) for v in (a, p, n)), margin=0)
    with pytest.raises(RuntimeError, match="anchor 2D, positive 2D, and negative 1D"):
        F.triplet_margin_loss(*(polytorch.tensor(v) for v in (a, p, n[0])))


# -- ctc_loss -----------------------------------------------------------------------------------


def _ctc_case(n_time=6, n=3, n_classes=4, lengths=(6, 5, 4), tlens=(3, 2, 0), labels=None):
    logits = f64(n_time, n, n_classes)
    targets = np.zeros((n, max(tlens)), np.int64)
    low, high = labels or (1, n_classes)
    for i, k in enumerate(tlens):
        targets[i, :k] = RNG.randint(low, high, size=k)
    targets[0, :2] = [2, 2]  # a repeated label needs a blank between
    return logits, targets, list(lengths), list(tlens)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("layout", ["padded", "concatenated"])
def test_ctc_loss(reduction, layout):
    logits, targets, lens, tlens = _ctc_case()
    if layout == "concatenated":
        targets = np.concatenate([targets[i, :k] for i, k in enumerate(tlens)])
    x = polytorch.tensor(logits, requires_grad=True)
    tx = torch.tensor(logits, requires_grad=True)
    out = F.ctc_loss(x.log_softmax(2) if hasattr(x, "log_softmax") else
                     x - x.logsumexp(2, keepdim=True), polytorch.tensor(targets),
                     polytorch.tensor(lens), polytorch.tensor(tlens), reduction=reduction)
    ref = TF.ctc_loss(tx.log_softmax(2), torch.tensor(targets), torch.tensor(lens),
                      torch.tensor(tlens), reduction=reduction)
    np.testing.assert_allclose(host(out), host(ref), rtol=1e-10)
    # PyTorch's CTC gradient assumes log_softmax inputs: compare through it.
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_allclose(host(x.grad), host(tx.grad), rtol=1e-8, atol=1e-10)


def test_ctc_zero_infinity_and_blank():
    # Sample 0 cannot be aligned: 3 labels with a repeat need 4 steps, it has 3.
    logits, targets, _, tlens = _ctc_case(labels=(0, 3))  # blank is 3
    lens = [3, 5, 4]
    for zero_infinity in (False, True):
        x = polytorch.tensor(logits, requires_grad=True)
        tx = torch.tensor(logits, requires_grad=True)
        lp = x - x.logsumexp(2, keepdim=True)
        out = F.ctc_loss(lp, polytorch.tensor(targets), lens, tlens, blank=3,
                         reduction="none", zero_infinity=zero_infinity)
        ref = TF.ctc_loss(tx.log_softmax(2), torch.tensor(targets), lens, tlens, blank=3,
                          reduction="none", zero_infinity=zero_infinity)
        np.testing.assert_allclose(host(out), host(ref), rtol=1e-10)
        if zero_infinity:
            out.sum().backward()
            ref.sum().backward()
            np.testing.assert_allclose(host(x.grad), host(tx.grad), rtol=1e-8, atol=1e-10)


def test_ctc_unbatched_and_errors():
    logits = f64(5, 4)
    lp = polytorch.tensor(logits)
    lp = lp - lp.logsumexp(1, keepdim=True)
    out = F.ctc_loss(lp, polytorch.tensor([1, 2]), polytorch.tensor(5), polytorch.tensor(2),
                     reduction="none")
    ref = TF.ctc_loss(torch.tensor(logits).log_softmax(1), torch.tensor([1, 2]),
                      torch.tensor(5), torch.tensor(2), reduction="none")
    assert out.shape == ref.shape == ()
    np.testing.assert_allclose(host(out), host(ref), rtol=1e-10)
    lp3 = lp.unsqueeze(1)
    with pytest.raises(RuntimeError, match="input_lengths to have value at most 5"):
        F.ctc_loss(lp3, polytorch.tensor([[1, 2]]), [6], [2])
    with pytest.raises(RuntimeError, match="size at least 3 at dimension 1"):
        F.ctc_loss(lp3, polytorch.tensor([[1, 2]]), [5], [3])
    with pytest.raises(RuntimeError, match="input_lengths must be of size batch_size"):
        F.ctc_loss(lp3, polytorch.tensor([[1, 2]]), [5, 5], [2])
    with pytest.raises(RuntimeError, match="blank must be in label range"):
        F.ctc_loss(lp3, polytorch.tensor([[1, 2]]), [5], [2], blank=4)
    # A label equal to the blank is not refused by PyTorch: same recursion, same value.
    out = F.ctc_loss(lp3, polytorch.tensor([[0, 1, 1]]), [5], [3], reduction="sum")
    ref = TF.ctc_loss(torch.tensor(logits).log_softmax(1)[:, None], torch.tensor([[0, 1, 1]]),
                      [5], [3], reduction="sum")
    np.testing.assert_allclose(host(out), host(ref), rtol=1e-10)


def test_ctc_gradcheck():
    logits, targets, lens, tlens = _ctc_case(n_time=4, n=2, n_classes=3, lengths=(4, 3),
                                             tlens=(2, 1))
    x = polytorch.tensor(logits - np.log(np.exp(logits).sum(2, keepdims=True)),
                         requires_grad=True)
    assert gradcheck(lambda lp: F.ctc_loss(lp, polytorch.tensor(targets), lens, tlens,
                                           reduction="none"), (x,))


def test_cross_entropy_gradcheck():
    x = polytorch.tensor(f64(3, 4), requires_grad=True)
    w = polytorch.tensor(f64(4, low=0.5, high=2), requires_grad=True)
    t = polytorch.tensor([1, -100, 3])
    assert gradcheck(lambda x, w: F.cross_entropy(x, t, weight=w, label_smoothing=0.3), (x, w))
    p = polytorch.tensor(probs(3, 4).astype(np.float64), requires_grad=True)
    assert gradcheck(lambda x, p: F.cross_entropy(x, p, label_smoothing=0.1), (x, p))


# -- other backends -------------------------------------------------------------------------


def test_representative_losses_on_every_device(device):
    x, t = f32(4, 5), np.array([1, -100, 4, 0])
    check("cross_entropy", (x, t), device=device)
    check("cross_entropy", (x, t), {"label_smoothing": 0.2, "weight": f32(5, low=0.1, high=2),
                                    "reduction": "sum"}, device=device)
    check("cross_entropy", (x, probs(4, 5)), {"label_smoothing": 0.1}, device=device)
    check("binary_cross_entropy_with_logits", (x, f32(4, 5, low=0, high=1)),
          {"pos_weight": f32(5, low=0.5, high=2)}, device=device)
    check("mse_loss", (x, f32(4, 5)), device=device)
    with pytest.raises(IndexError, match="Target 5 is out of bounds"):
        F.cross_entropy(polytorch.tensor(x, device=device),
                        polytorch.tensor([1, 5, 0, 0], device=device))


def test_ctc_on_every_device(device):
    dt = np.float32 if device.startswith("strict") else np.float64
    logits, targets, lens, tlens = _ctc_case(n_time=4, n=2, n_classes=3, lengths=(4, 3),
                                             tlens=(2, 1))
    logits = logits.astype(dt)
    x = polytorch.tensor(logits, device=device, requires_grad=True)
    tx = torch.tensor(logits, requires_grad=True)
    out = F.ctc_loss(x - x.logsumexp(2, keepdim=True), polytorch.tensor(targets, device=device),
                     lens, tlens)
    ref = TF.ctc_loss(tx.log_softmax(2), torch.tensor(targets), lens, tlens)
    np.testing.assert_allclose(host(out), host(ref), rtol=1e-5)
    out.backward()
    ref.backward()
    np.testing.assert_allclose(host(x.grad), host(tx.grad), rtol=1e-4, atol=1e-6)


# -- property-based: random shapes, targets and options against PyTorch -------------------------


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_hypothesis_class_index_losses(data):
    n_classes = data.draw(st.integers(1, 5), "C")
    batch = data.draw(st.lists(st.integers(0, 3), min_size=0, max_size=2), "batch dims")
    shape = (batch[0], n_classes, *batch[1:]) if batch else (n_classes,)
    seed = data.draw(st.integers(0, 2**16), "seed")
    rng = np.random.RandomState(seed)
    x = rng.uniform(-5, 5, size=shape)
    tshape = (shape[0], *shape[2:]) if batch else ()
    ignore_index = data.draw(st.sampled_from([-100, 0, n_classes - 1]), "ignore_index")
    t = np.asarray(rng.randint(0, n_classes, size=tshape), dtype=np.int64)
    t = np.where(rng.rand(*tshape) < 0.2, ignore_index, t)
    kw = {"reduction": data.draw(st.sampled_from(REDUCTIONS), "reduction"),
          "ignore_index": int(ignore_index)}
    if data.draw(st.booleans(), "weight"):
        kw["weight"] = rng.uniform(0.1, 2.0, size=n_classes)
    fn = data.draw(st.sampled_from(["cross_entropy", "nll_loss"]), "fn")
    if fn == "cross_entropy":
        kw["label_smoothing"] = data.draw(st.sampled_from([0.0, 0.25]), "label_smoothing")
    if x.size == 0 and kw["reduction"] == "mean":
        kw["reduction"] = "sum"  # PyTorch's mean of nothing is NaN with a NaN-free gradient
    check(fn, (x, t), kw, rtol=1e-9, atol=1e-12)
