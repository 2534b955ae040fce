"""Specs for losses (Note [One spec per op] in _specs.py).

``SPECS`` holds the loss primitives (polytorch/ops/loss.py); ``FUNCTIONAL`` the
public ``nn.functional`` losses, each with an independent NumPy float64 reference
(loops where that is clearer). Class indices are int64 arrays in every sample, so
the references cast them back from the float64 copies they receive.
"""

from __future__ import annotations

import numpy as np

import polytorch

from ._specs import FLOATS, OpSpec, Sample, _draw, functional_of, promoted, same

SPECS: list = []  # OpSpec records of registered primitives
FUNCTIONAL: list = []  # OpSpec records of nn.functional functions, named as in F


class _Functional:
    """``F.name(x, ...)`` from the library of the first tensor: polytorch, or PyTorch when
    the oracle test (tests/test_conformance.py) runs a spec's call on PyTorch tensors."""

    def __getattr__(self, name):
        def call(x, *args, **kwargs):
            return getattr(functional_of(x), name)(x, *args, **kwargs)

        return call


F = _Functional()


def _bce_ref(x, t):
    return -(t * np.maximum(np.log(x), -100) + (1 - t) * np.maximum(np.log1p(-x), -100))


def _bce_samples(rng, dt):
    def p(*s):
        return _draw(rng, s, dt, 0.05, 0.95)

    return [
        Sample((p(3, 4), p(3, 4))),
        Sample((p(), p())),
        Sample((p(0, 3), p(0, 3))),
    ]


def _ce_indices_ref(x, t):
    logp = _log_softmax_last(np.moveaxis(x, 0 if x.ndim == 1 else 1, -1))
    t = np.asarray(t).astype(np.int64)
    return -np.take_along_axis(logp, t[..., None], axis=-1)[..., 0]


def _ce_indices_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -3, 3)

    def idx(*s):
        return np.asarray(rng.randint(0, 4, size=s), dtype=np.int64)

    return [
        Sample((x(3, 4), idx(3))),
        Sample((x(2, 4, 3), idx(2, 3))),
        Sample((x(4), idx())),
        Sample((x(0, 4), idx(0))),
    ]


SPECS += [
    OpSpec("binary_cross_entropy",
           lambda x, t: F.binary_cross_entropy(x, t, reduction="none"), _bce_ref,
           _bce_samples, FLOATS, promoted),
    OpSpec("cross_entropy_indices",
           lambda x, t: F.cross_entropy(x, t, reduction="none"), _ce_indices_ref,
           _ce_indices_samples, FLOATS, same),
]



# -- references (NumPy float64, written from the formulas, loops where clearer) ----------------


def _log_softmax_last(z):
    m = z.max(axis=-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))


def _finish(per, reduction, denom=None):
    if reduction == "none":
        return per
    if reduction == "sum":
        return np.sum(per)
    return np.sum(per) / (per.size if denom is None else denom)


def _ce_ref(x, t, w=None, *, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    cd = 0 if x.ndim == 1 else 1
    n_classes = x.shape[cd]
    logp = _log_softmax_last(np.moveaxis(x, cd, -1))
    w = np.ones(n_classes) if w is None else w
    ls = label_smoothing
    if np.shape(t) == np.shape(x):  # class probabilities
        q = np.moveaxis(t, cd, -1) * (1 - ls) + ls / n_classes
        per = -(logp * q * w).sum(axis=-1)
        return _finish(per, reduction, per.size)
    t = np.asarray(t).astype(np.int64)
    per = np.zeros(t.shape)
    denom = 0.0
    for idx in np.ndindex(*t.shape):
        c = int(t[idx])
        if c == ignore_index:
            continue
        row = logp[idx]
        per[idx] = (1 - ls) * -w[c] * row[c] + ls / n_classes * -(w * row).sum()
        denom += w[c]
    return _finish(per, reduction, denom)


def _nll_ref(x, t, w=None, *, ignore_index=-100, reduction="mean"):
    cd = 0 if x.ndim == 1 else 1
    xm = np.moveaxis(x, cd, -1)
    w = np.ones(xm.shape[-1]) if w is None else w
    t = np.asarray(t).astype(np.int64)
    per = np.zeros(t.shape)
    denom = 0.0
    for idx in np.ndindex(*t.shape):
        c = int(t[idx])
        if c != ignore_index:
            per[idx] = -w[c] * xm[idx][c]
            denom += w[c]
    return _finish(per, reduction, denom)


def _smooth_l1_ref(x, y, *, reduction="mean", beta=1.0):
    d = np.abs(x - y)
    return _finish(np.where(d < beta, 0.5 * d**2 / beta, d - 0.5 * beta), reduction)


def _huber_ref(x, y, *, reduction="mean", delta=1.0):
    d = np.abs(x - y)
    return _finish(np.where(d < delta, 0.5 * d**2, delta * (d - 0.5 * delta)), reduction)


def _bce_full_ref(x, t, w=None, *, reduction="mean"):
    per = _bce_ref(x, t)
    return _finish(per if w is None else per * w, reduction)


def _bce_logits_ref(x, t, w=None, pw=None, *, reduction="mean"):
    p = 1 / (1 + np.exp(-x))
    pw = 1.0 if pw is None else pw
    per = -(pw * t * np.log(p) + (1 - t) * np.log(1 - p))
    return _finish(per if w is None else per * w, reduction)


def _kl_ref(x, t, *, reduction="mean", log_target=False):
    if log_target:
        per = np.exp(t) * (t - x)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            per = np.where(t > 0, t * np.log(np.where(t > 0, t, 1.0)), 0.0) - t * x
    if reduction == "batchmean":
        return per.sum() / x.shape[0]
    return _finish(per, reduction)


def _cosine_ref(a, b, y, *, margin=0.0, reduction="mean"):
    cos = (a * b).sum(-1) / np.sqrt(((a * a).sum(-1) + 1e-12) * ((b * b).sum(-1) + 1e-12))
    per = np.where(y == 1, 1 - cos, np.where(y == -1, np.maximum(cos - margin, 0), 0.0))
    return _finish(per, reduction)


def _ranking_ref(a, b, y, *, margin=0.0, reduction="mean"):
    return _finish(np.maximum(-y * (a - b) + margin, 0), reduction)


def _triplet_ref(a, p, n, *, margin=1.0, p_norm=2.0, eps=1e-6, swap=False, reduction="mean"):
    def dist(u, v):
        return (np.abs(u - v + eps) ** p_norm).sum(-1) ** (1 / p_norm)

    d_neg = dist(a, n)
    if swap:
        d_neg = np.minimum(d_neg, dist(p, n))
    return _finish(np.maximum(margin + dist(a, p) - d_neg, 0), reduction)


def _ctc_ref(lp, targets, *, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """The CTC forward recursion per sequence, with np.logaddexp over the predecessors."""
    targets = np.asarray(targets).astype(np.int64)
    losses = []
    for b, (n_time, k) in enumerate(zip(input_lengths, target_lengths)):
        labels = targets[b, :k]
        ext = [blank]
        for c in labels:
            ext += [int(c), blank]
        alpha = np.full(len(ext), -np.inf)
        alpha[0] = lp[0, b, ext[0]]
        if len(ext) > 1:
            alpha[1] = lp[0, b, ext[1]]
        for t in range(1, n_time):
            new = np.full(len(ext), -np.inf)
            for s in range(len(ext)):
                acc = alpha[s]
                if s >= 1:
                    acc = np.logaddexp(acc, alpha[s - 1])
                if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                    acc = np.logaddexp(acc, alpha[s - 2])
                new[s] = acc + lp[t, b, ext[s]]
            alpha = new
        ll = alpha[-1] if len(ext) == 1 else np.logaddexp(alpha[-1], alpha[-2])
        loss = -ll
        losses.append(0.0 if zero_infinity and np.isinf(loss) else loss)
    losses = np.asarray(losses)
    if reduction == "mean":
        return np.mean(losses / np.maximum(np.asarray(target_lengths, np.float64), 1))
    return _finish(losses, reduction)


# -- samples (Note [Few distinct shapes]: (3, 4) mostly) -------------------------------------------


def _idx(rng, *shape, high=4):
    return np.asarray(rng.randint(0, high, size=shape), dtype=np.int64)


def _probs(rng, dt, *shape, axis=1):
    e = np.exp(rng.randn(*shape))
    return np.asarray(e / e.sum(axis=axis, keepdims=True), dtype=dt.name)


def _ce_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -2, 2)

    def w():
        return _draw(rng, (4,), dt, 0.5, 2)

    ignored = np.array([1, -100, 3], dtype=np.int64)
    return [
        Sample((x(3, 4), _idx(rng, 3))),
        Sample((x(3, 4), ignored, w()), {"reduction": "sum"}),
        Sample((x(3, 4), _idx(rng, 3)), {"label_smoothing": 0.2, "reduction": "none"}),
        Sample((x(3, 4), ignored, w()), {"label_smoothing": 0.1}),
        Sample((x(3, 4), np.array([0, 2, 2], dtype=np.int64)), {"ignore_index": 2}),
        Sample((x(2, 4, 3), _idx(rng, 2, 3))),
        Sample((x(4), np.asarray(2, dtype=np.int64))),
        Sample((x(3, 4), _probs(rng, dt, 3, 4))),
        Sample((x(3, 4), _probs(rng, dt, 3, 4), w()), {"label_smoothing": 0.3,
                                                      "reduction": "none"}),
    ]


def _nll_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -3, 0)

    return [
        Sample((x(3, 4), _idx(rng, 3))),
        Sample((x(3, 4), np.array([1, -100, 3], dtype=np.int64), _draw(rng, (4,), dt, 0.5, 2)),
               {"reduction": "none"}),
        Sample((x(2, 4, 3), _idx(rng, 2, 3)), {"reduction": "sum"}),
        Sample((x(4), np.asarray(1, dtype=np.int64))),
    ]


def _pair_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -2, 2)

    return [
        Sample((x(3, 4), x(3, 4))),
        Sample((x(3, 4), x(3, 4)), {"reduction": "sum"}),
        Sample((x(3, 4), x(3, 4)), {"reduction": "none"}),
        Sample((x(), x())),
    ]


def _threshold_samples(key):
    def samples(rng, dt):
        # |d| in [0.1, 0.4] or [0.6, 2]: away from the thresholds 0.5 and 1.0 (the kinks).
        def x():
            return _draw(rng, (3, 4), dt, -2, 2)

        def near(a, lo, hi):
            d = _draw(rng, (3, 4), dt, lo, hi) * np.where(rng.rand(3, 4) < 0.5, -1, 1)
            return np.asarray(a + d, dtype=dt.name)

        a, b = x(), x()
        return [
            Sample((a, near(a, 0.05, 0.4))),
            Sample((b, near(b, 1.1, 2.0)), {"reduction": "sum"}),
            Sample((a, near(a, 0.6, 0.9)), {key: 0.5, "reduction": "none"}),
        ]

    return samples


def _bce_full_samples(rng, dt):
    def p(*s):
        return _draw(rng, s, dt, 0.05, 0.95)

    return [
        Sample((p(3, 4), p(3, 4))),
        Sample((p(3, 4), p(3, 4), _draw(rng, (4,), dt, 0.5, 2)), {"reduction": "sum"}),
        Sample((p(3, 4), p(3, 4)), {"reduction": "none"}),
    ]


def _bce_logits_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -4, 4)

    def p(*s):
        return _draw(rng, s, dt, 0, 1)

    def w(*s):
        return _draw(rng, s, dt, 0.5, 2)

    return [
        Sample((x(3, 4), p(3, 4))),
        Sample((x(3, 4), p(3, 4), w(4), w(4)), {"reduction": "sum"}),
        Sample((x(3, 4), p(3, 4), None, w(3, 1)), {"reduction": "none"}),
    ]


def _kl_samples(rng, dt):
    logq = np.asarray(np.log(_probs(rng, np.dtype("float64"), 3, 4)), dtype=dt.name)
    return [
        Sample((logq, _probs(rng, dt, 3, 4)), {"reduction": "batchmean"}),
        Sample((logq, _probs(rng, dt, 3, 4)), {"reduction": "none"}),
        Sample((logq, np.asarray(np.log(_probs(rng, dt, 3, 4)), dtype=dt.name)),
               {"reduction": "sum", "log_target": True}),
    ]


def _pm1(rng, *shape):
    return np.asarray(np.where(rng.rand(*shape) < 0.5, -1, 1), dtype=np.int64)


def _cosine_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -2, 2)

    return [
        Sample((x(3, 4), x(3, 4), _pm1(rng, 3))),
        Sample((x(3, 4), x(3, 4), _pm1(rng, 3)), {"margin": -0.5, "reduction": "none"}),
        Sample((x(4), x(4), np.asarray(-1, dtype=np.int64)), {"margin": -0.9}),
    ]


def _ranking_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -2, 2)

    y = np.asarray(_pm1(rng, 4), dtype=dt.name)
    return [
        Sample((x(4), x(4), y), {"margin": 0.1}),
        Sample((x(3, 4), x(3, 4), np.asarray(_pm1(rng, 3, 4), dtype=dt.name)),
               {"reduction": "none"}),
    ]


def _triplet_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -2, 2)

    return [
        Sample((x(3, 4), x(3, 4), x(3, 4))),
        Sample((x(3, 4), x(3, 4), x(3, 4)), {"margin": 2.0, "swap": True, "reduction": "none"}),
        Sample((x(3, 4), x(3, 4), x(3, 4)), {"p": 1.0, "margin": 3.0, "reduction": "sum"}),
    ]


def _ctc_samples(rng, dt):
    logits = rng.randn(4, 2, 3)
    lp = np.asarray(logits - np.log(np.exp(logits).sum(-1, keepdims=True)), dtype=dt.name)
    targets = np.array([[1, 1], [2, 0]], dtype=np.int64)
    lengths = {"input_lengths": (4, 3), "target_lengths": (2, 1)}
    return [
        Sample((lp, targets), dict(lengths)),
        Sample((lp, targets), dict(lengths, reduction="none")),
        Sample((lp, np.array([[0, 0], [1, 2]], dtype=np.int64)),
               dict(lengths, blank=2, reduction="sum")),
        # Too short for the repeated label: infinite loss, zeroed.
        Sample((lp, targets), {"input_lengths": (2, 3), "target_lengths": (2, 1),
                               "zero_infinity": True, "reduction": "none"}),
    ]


def _triplet_call(anchor, positive, negative, **kw):
    return F.triplet_margin_loss(anchor, positive, negative, **kw)


def _triplet_ref_call(anchor, positive, negative, **kw):
    if "p" in kw:
        kw["p_norm"] = kw.pop("p")
    return _triplet_ref(anchor, positive, negative, **kw)


def _ctc_call(lp, targets, **kw):
    return F.ctc_loss(lp, targets, kw.pop("input_lengths"), kw.pop("target_lengths"), **kw)


FUNCTIONAL += [
    OpSpec("cross_entropy", lambda x, t, w=None, **kw: F.cross_entropy(x, t, weight=w, **kw),
           _ce_ref, _ce_samples, FLOATS, same),
    OpSpec("nll_loss", lambda x, t, w=None, **kw: F.nll_loss(x, t, weight=w, **kw),
           _nll_ref, _nll_samples, FLOATS, same),
    OpSpec("mse_loss", F.mse_loss, lambda x, y, reduction="mean": _finish((x - y) ** 2, reduction),
           _pair_samples, FLOATS, same),
    # |x - y| is not differentiable at 0; random pairs never meet there.
    OpSpec("l1_loss", F.l1_loss, lambda x, y, reduction="mean": _finish(np.abs(x - y), reduction),
           _pair_samples, FLOATS, same),
    OpSpec("smooth_l1_loss", F.smooth_l1_loss, _smooth_l1_ref, _threshold_samples("beta"),
           FLOATS, same),
    OpSpec("huber_loss", F.huber_loss, _huber_ref, _threshold_samples("delta"), FLOATS, same),
    OpSpec("binary_cross_entropy",
           lambda x, t, w=None, **kw: F.binary_cross_entropy(x, t, weight=w, **kw),
           _bce_full_ref, _bce_full_samples, FLOATS, same),
    OpSpec("binary_cross_entropy_with_logits",
           lambda x, t, w=None, pw=None, **kw: F.binary_cross_entropy_with_logits(
               x, t, weight=w, pos_weight=pw, **kw),
           _bce_logits_ref, _bce_logits_samples, FLOATS, same),
    OpSpec("kl_div", F.kl_div, _kl_ref, _kl_samples, FLOATS, same),
    OpSpec("cosine_embedding_loss", F.cosine_embedding_loss, _cosine_ref, _cosine_samples,
           FLOATS, same),
    OpSpec("margin_ranking_loss", F.margin_ranking_loss, _ranking_ref, _ranking_samples,
           FLOATS, same),
    OpSpec("triplet_margin_loss", _triplet_call, _triplet_ref_call, _triplet_samples, FLOATS,
           same),
    OpSpec("ctc_loss", _ctc_call, _ctc_ref, _ctc_samples, FLOATS, same,
           tolerances={polytorch.float32: (1e-5, 1e-5)}),
]


# -- likelihood, hinge and multi-class margin losses ---------------------------------------------


def _gaussian_nll_ref(x, t, var, *, full=False, eps=1e-6, reduction="mean"):
    var = np.broadcast_to(np.asarray(var, np.float64), np.shape(x)) if np.ndim(var) == 0 else var
    if np.shape(var) == np.shape(x)[:-1]:  # one dimension short: one variance per row
        var = var[..., None]
    var = np.maximum(var, eps)
    per = 0.5 * (np.log(var) + (x - t) ** 2 / var)
    if full:
        per = per + 0.5 * np.log(2 * np.pi)
    return _finish(np.broadcast_to(per, np.broadcast_shapes(np.shape(x), np.shape(var))),
                   reduction)


def _poisson_nll_ref(x, t, *, log_input=True, full=False, eps=1e-8, reduction="mean"):
    per = np.exp(x) - t * x if log_input else x - t * np.log(x + eps)
    if full:  # Stirling's approximation of log(t!), only where t > 1
        safe = np.where(t > 1, t, 2.0)
        per = per + np.where(t > 1, safe * np.log(safe) - safe + 0.5 * np.log(2 * np.pi * safe),
                             0.0)
    return _finish(per, reduction)


def _hinge_embedding_ref(x, t, *, margin=1.0, reduction="mean"):
    return _finish(np.where(t == 1, x, np.maximum(0.0, margin - x)), reduction)


def _soft_margin_ref(x, t, *, reduction="mean"):
    return _finish(np.log1p(np.exp(-t * x)), reduction)


def _multilabel_soft_margin_ref(x, t, w=None, *, reduction="mean"):
    p = 1 / (1 + np.exp(-x))
    per = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    if w is not None:
        per = per * w
    return _finish(per.mean(axis=-1), reduction)


def _multi_margin_ref(x, t, w=None, *, p=1, margin=1.0, reduction="mean"):
    # PyTorch's kernel weighs the powered hinge by weight[y] (its docs put w[y] inside the max).
    rows, labels = np.atleast_2d(x), np.atleast_1d(np.asarray(t).astype(np.int64))
    n_classes = rows.shape[1]
    per = np.zeros(rows.shape[0])
    for i, (row, y) in enumerate(zip(rows, labels)):
        for j in range(n_classes):
            if j != y:
                per[i] += max(0.0, margin - row[y] + row[j]) ** p * (1.0 if w is None else w[y])
    per = per / n_classes
    return _finish(per if np.ndim(x) == 2 else per[0], reduction)


def _multilabel_margin_ref(x, t, *, reduction="mean"):
    rows, targets = np.atleast_2d(x), np.atleast_2d(np.asarray(t).astype(np.int64))
    n_classes = rows.shape[1]
    per = np.zeros(rows.shape[0])
    for i, (row, target) in enumerate(zip(rows, targets)):
        listed = []
        for c in target:  # the targets run up to the first -1
            if c == -1:
                break
            listed.append(int(c))
        for j in listed:
            for k in range(n_classes):
                if k not in listed:
                    per[i] += max(0.0, 1 - (row[j] - row[k]))
    per = per / n_classes
    return _finish(per if np.ndim(x) == 2 else per[0], reduction)


def _squared_distance(a, b):
    """A custom distance written with operators only: it runs on NumPy arrays (the
    reference), polytorch tensors and PyTorch tensors (the oracle test) alike."""
    return ((a - b) ** 2).sum(-1)


def _triplet_distance_ref(a, p, n, *, distance_function=None, margin=1.0, swap=False,
                          reduction="mean"):
    if distance_function is None:
        return _triplet_ref(a, p, n, margin=margin, swap=swap, reduction=reduction)
    d_neg = distance_function(a, n)
    if swap:
        d_neg = np.minimum(d_neg, distance_function(p, n))
    return _finish(np.maximum(margin + distance_function(a, p) - d_neg, 0), reduction)


def _gaussian_nll_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -2, 2)

    def var(*s):
        return _draw(rng, s, dt, 0.2, 2)

    return [
        Sample((x(3, 4), x(3, 4), var(3, 4))),
        Sample((x(3, 4), x(3, 4), var(3)), {"full": True, "reduction": "none"}),
        Sample((x(3, 4), x(3, 4), var(3, 1)), {"reduction": "sum"}),
        # A number below eps: clamped (a tensor below eps would be clamped too, but its
        # gradient passes the clamp as in PyTorch, which finite differences cannot see).
        Sample((x(3, 4), x(3, 4), 0.001), {"eps": 0.01}),
    ]


def _poisson_nll_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -2, 2)

    def rate(*s):
        return _draw(rng, s, dt, 0.2, 3)

    # Counts in [0, 4]: the full loss's Stirling term switches on past 1.
    return [
        Sample((x(3, 4), rate(3, 4))),
        Sample((rate(3, 4), rate(3, 4)), {"log_input": False, "full": True, "eps": 0.01,
                                          "reduction": "none"}),
        Sample((x(3, 4), _draw(rng, (3, 4), dt, 0, 4)), {"full": True, "reduction": "sum"}),
    ]


def _hinge_embedding_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -2, 2)

    # Integer targets: the loss selects on target == +-1, a jump that finite differences
    # of a floating target would see. A floating target is checked forward only.
    return [
        Sample((x(3, 4), _pm1(rng, 3, 4))),
        Sample((x(3, 4), _pm1(rng, 3, 4)), {"margin": 0.5, "reduction": "none"}),
        Sample((x(4), np.asarray(_pm1(rng, 4), dtype=dt.name)), {"reduction": "sum"},
               grad=False),
    ]


def _soft_margin_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -2, 2)

    return [
        Sample((x(3, 4), np.asarray(_pm1(rng, 3, 4), dtype=dt.name))),
        Sample((x(4), np.asarray(_pm1(rng, 4), dtype=dt.name)), {"reduction": "none"}),
    ]


def _multilabel_soft_margin_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -3, 3)

    labels = np.asarray(rng.rand(3, 4) < 0.5, dtype=dt.name)
    return [
        Sample((x(3, 4), labels)),
        Sample((x(3, 4), _draw(rng, (3, 4), dt, 0, 1), _draw(rng, (4,), dt, 0.5, 2)),
               {"reduction": "none"}),
    ]


def _multi_margin_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -2, 2)

    return [
        Sample((x(3, 4), _idx(rng, 3))),
        Sample((x(3, 4), _idx(rng, 3), _draw(rng, (4,), dt, 0.5, 2)),
               {"p": 2, "margin": 0.5, "reduction": "none"}),
        Sample((x(4), np.asarray(1, dtype=np.int64)), {"margin": 2.0, "reduction": "sum"}),
    ]


def _multilabel_margin_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -2, 2)

    # Rows: two targets then the -1 that ends them (later entries ignored); no target
    # at all; every class a target (nothing to compare against: zero loss).
    targets = np.array([[3, 0, -1, 1], [-1, 2, 1, 0], [0, 1, 2, 3]], dtype=np.int64)
    return [
        Sample((x(3, 4), targets)),
        Sample((x(3, 4), np.array([[1, -1, 0, 0], [2, 3, 0, -1], [3, -1, -1, -1]],
                                  dtype=np.int64)), {"reduction": "none"}),
        Sample((x(4), np.array([2, 1, -1, 3], dtype=np.int64)), {"reduction": "sum"}),
    ]


def _triplet_distance_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -2, 2)

    return [
        Sample((x(3, 4), x(3, 4), x(3, 4))),
        Sample((x(3, 4), x(3, 4), x(3, 4)), {"distance_function": _squared_distance,
                                             "margin": 2.0, "swap": True, "reduction": "none"}),
        Sample((x(3, 4), x(3, 4), x(3, 4)), {"swap": True, "margin": 0.5, "reduction": "sum"}),
    ]


FUNCTIONAL += [
    OpSpec("gaussian_nll_loss", F.gaussian_nll_loss, _gaussian_nll_ref, _gaussian_nll_samples,
           FLOATS, same),
    OpSpec("poisson_nll_loss", F.poisson_nll_loss, _poisson_nll_ref, _poisson_nll_samples,
           FLOATS, same),
    # The hinges' kinks (margin - x == 0 and the like) are never met by random inputs.
    OpSpec("hinge_embedding_loss", F.hinge_embedding_loss, _hinge_embedding_ref,
           _hinge_embedding_samples, FLOATS, same),
    OpSpec("soft_margin_loss", F.soft_margin_loss, _soft_margin_ref, _soft_margin_samples,
           FLOATS, same),
    OpSpec("multilabel_soft_margin_loss",
           lambda x, t, w=None, **kw: F.multilabel_soft_margin_loss(x, t, weight=w, **kw),
           _multilabel_soft_margin_ref, _multilabel_soft_margin_samples, FLOATS, same),
    OpSpec("multi_margin_loss",
           lambda x, t, w=None, **kw: F.multi_margin_loss(x, t, weight=w, **kw),
           _multi_margin_ref, _multi_margin_samples, FLOATS, same),
    OpSpec("multilabel_margin_loss", F.multilabel_margin_loss, _multilabel_margin_ref,
           _multilabel_margin_samples, FLOATS, same),
    OpSpec("triplet_margin_with_distance_loss", F.triplet_margin_with_distance_loss,
           _triplet_distance_ref, _triplet_distance_samples, FLOATS, same),
]
