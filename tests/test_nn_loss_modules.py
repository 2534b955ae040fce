"""Loss modules against PyTorch's: signatures, attributes, buffers, state_dict keys, values."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
from helpers import host

import polytorch
import polytorch.nn as nn

NAMES = [
    "BCELoss", "BCEWithLogitsLoss", "CTCLoss", "CosineEmbeddingLoss", "CrossEntropyLoss",
    "GaussianNLLLoss", "HingeEmbeddingLoss", "HuberLoss", "KLDivLoss", "L1Loss", "MSELoss",
    "MarginRankingLoss", "MultiLabelMarginLoss", "MultiLabelSoftMarginLoss", "MultiMarginLoss",
    "NLLLoss", "PoissonNLLLoss", "SmoothL1Loss", "SoftMarginLoss", "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
]


def _params(fn):
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("name", NAMES)
def test_signatures_match_pytorch(name):
    ours, theirs = getattr(nn, name), getattr(torch.nn, name)
    assert ours.__module__ == "polytorch.nn.modules.loss"
    assert _params(ours.__init__) == _params(theirs.__init__)
    assert _params(ours.forward) == _params(theirs.forward)
    assert issubclass(ours, nn.Module)
    assert repr(ours()) if name != "CTCLoss" else True


def test_functional_signatures_match_pytorch():
    import torch.nn.functional as TF

    import polytorch.nn.functional as F

    for name in ["cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss",
                 "huber_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
                 "kl_div", "poisson_nll_loss", "gaussian_nll_loss", "cosine_embedding_loss",
                 "margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss",
                 "multilabel_soft_margin_loss", "multi_margin_loss", "multilabel_margin_loss",
                 "triplet_margin_loss", "triplet_margin_with_distance_loss", "ctc_loss"]:
        assert _params(getattr(F, name)) == _params(getattr(TF, name)), name


def test_weights_are_buffers():
    w = polytorch.tensor([1.0, 2.0, 3.0])
    for cls in (nn.CrossEntropyLoss, nn.NLLLoss, nn.BCELoss, nn.MultiLabelSoftMarginLoss,
                nn.MultiMarginLoss):
        m = cls(weight=w)
        tm = getattr(torch.nn, cls.__name__)(weight=torch.tensor([1.0, 2.0, 3.0]))
        assert list(m.state_dict()) == list(tm.state_dict()) == ["weight"]
        assert m.weight is w and not list(m.parameters())
        assert list(cls().state_dict()) == list(getattr(torch.nn, cls.__name__)().state_dict())
    m = nn.BCEWithLogitsLoss(weight=w, pos_weight=w * 2)
    assert list(m.state_dict()) == ["weight", "pos_weight"]
    assert nn.BCEWithLogitsLoss().pos_weight is None
    assert m.double().pos_weight.dtype == polytorch.float64


def test_attributes_and_legacy_reduction():
    assert nn.CrossEntropyLoss(ignore_index=3, label_smoothing=0.1).label_smoothing == 0.1
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert nn.MSELoss(size_average=False).reduction == "sum"
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert nn.NLLLoss(reduce=False).reduction == "none"
    assert nn.CTCLoss(blank=2, zero_infinity=True).blank == 2
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match="expected margin to be greater than 0"):
        nn.TripletMarginLoss(margin=0.0)
    with pytest.raises(ValueError, match="expected margin to be greater than 0"):
        nn.TripletMarginWithDistanceLoss(margin=-1.0)
    with pytest.raises(TypeError, match="delta must be a float or int"):
        nn.HuberLoss(delta="1")
    with pytest.raises(ValueError, match="bad is not a valid value for reduction"):
        nn.L1Loss(reduction="bad")(polytorch.ones(2), polytorch.ones(2))


def _pair(arr):
    return polytorch.tensor(arr), torch.tensor(arr)


RNG = np.random.RandomState(1)


def _cases():
    x = RNG.uniform(-2, 2, (4, 3)).astype(np.float32)
    y = RNG.uniform(-2, 2, (4, 3)).astype(np.float32)
    p = RNG.uniform(0.05, 0.95, (4, 3)).astype(np.float32)
    t01 = RNG.uniform(0, 1, (4, 3)).astype(np.float32)
    idx = np.array([0, 2, 1, 2])
    pm = np.array([1.0, -1.0, -1.0, 1.0], np.float32)
    w = np.array([0.5, 1.0, 2.0], np.float32)
    return [
        ("CrossEntropyLoss", {"weight": w, "label_smoothing": 0.1}, (x, idx)),
        ("NLLLoss", {"weight": w, "ignore_index": 1}, (x, idx)),
        ("MSELoss", {}, (x, y)),
        ("L1Loss", {"reduction": "sum"}, (x, y)),
        ("SmoothL1Loss", {"beta": 0.5}, (x, y)),
        ("HuberLoss", {"delta": 0.5}, (x, y)),
        ("BCELoss", {"weight": w}, (p, t01)),
        ("BCEWithLogitsLoss", {"pos_weight": w}, (x, t01)),
        ("KLDivLoss", {"reduction": "batchmean", "log_target": True}, (x, y)),
        ("PoissonNLLLoss", {"full": True}, (x, t01 * 3)),
        ("GaussianNLLLoss", {"full": True}, (x, y, p)),
        ("CosineEmbeddingLoss", {"margin": 0.1}, (x, y, pm)),
        ("MarginRankingLoss", {"margin": 0.2}, (x[:, 0], y[:, 0], pm)),
        ("HingeEmbeddingLoss", {}, (x[:, 0], pm)),
        ("SoftMarginLoss", {}, (x, np.sign(y))),
        ("MultiLabelSoftMarginLoss", {"weight": w}, (x, t01)),
        ("MultiMarginLoss", {"p": 2, "weight": w}, (x, idx)),
        ("MultiLabelMarginLoss", {}, (x, np.array([[2, -1, 0]] * 4))),
        ("TripletMarginLoss", {"swap": True}, (x, y, p)),
        ("TripletMarginWithDistanceLoss", {"margin": 2.0}, (x, y, p)),
    ]


@pytest.mark.parametrize("name, kwargs, args", _cases(), ids=[c[0] for c in _cases()])
def test_modules_match_pytorch(name, kwargs, args):
    ours = getattr(nn, name)(**{k: polytorch.tensor(v) if isinstance(v, np.ndarray) else v
                                for k, v in kwargs.items()})
    theirs = getattr(torch.nn, name)(**{k: torch.tensor(v) if isinstance(v, np.ndarray) else v
                                        for k, v in kwargs.items()})
    pairs = [_pair(a) for a in args]
    for o, t in pairs[:1]:
        o.requires_grad_()
        t.requires_grad_()
    out = ours(*(o for o, _ in pairs))
    ref = theirs(*(t for _, t in pairs))
    np.testing.assert_allclose(host(out), host(ref), rtol=1e-5, atol=1e-6)
    out.backward()
    ref.backward()
    np.testing.assert_allclose(host(pairs[0][0].grad), host(pairs[0][1].grad), rtol=1e-5,
                               atol=1e-6)


def test_ctc_module_matches_pytorch():
    logits = RNG.randn(5, 2, 4)
    targets = np.array([[1, 2], [3, 0]])
    x = polytorch.tensor(logits, requires_grad=True)
    tx = torch.tensor(logits, requires_grad=True)
    out = nn.CTCLoss(blank=0)(x - x.logsumexp(2, keepdim=True), polytorch.tensor(targets),
                              [5, 4], [2, 1])
    ref = torch.nn.CTCLoss(blank=0)(tx.log_softmax(2), torch.tensor(targets), [5, 4], [2, 1])
    np.testing.assert_allclose(host(out), host(ref), rtol=1e-10)
    out.backward()
    ref.backward()
    np.testing.assert_allclose(host(x.grad), host(tx.grad), rtol=1e-8, atol=1e-12)


def test_docstring_examples():
    import doctest

    import polytorch.nn._functional_loss as functional_loss
    import polytorch.nn.functional as F
    import polytorch.nn.modules.loss as module_loss

    for module in (functional_loss, module_loss):
        result = doctest.testmod(module, extraglobs={"polytorch": polytorch, "F": F, "nn": nn})
        assert result.failed == 0, module.__name__
