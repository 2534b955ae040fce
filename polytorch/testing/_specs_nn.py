"""Op specs for neural-network functions (Note [One spec per op] in _specs.py).

``SPECS`` are the primitives of ``polytorch/ops/nn.py``; ``FUNCTIONAL`` the public
``nn.functional`` functions of ``_functional_core.py``, each with an independent
NumPy float64 reference. Samples keep the few shapes of Note [Few distinct shapes]
and stay away from kinks (relu-like functions at 0, shrink thresholds), where
finite differences and PyTorch's one-sided derivatives disagree.
"""

from __future__ import annotations

import math
import sys

import numpy as np

import polytorch

from ._specs import FLOATS, NonContig, OpSpec, Sample, _draw, _nonzero, functional_of, same

_NN = polytorch.ops.nn


def _fn(name: str):
    """``nn.functional.NAME`` of the first argument's library (see ``_lib``)."""
    return lambda x, *args, **kwargs: getattr(functional_of(x), name)(x, *args, **kwargs)


def _lib(x):
    """The library of the tensor ``x``: polytorch, or the one the oracle test passes (that
    test runs each spec's ``call`` on PyTorch tensors; the library is already imported)."""
    if isinstance(x, polytorch.Tensor):
        return polytorch
    return sys.modules[type(x).__module__.split(".")[0]]


# -- references ------------------------------------------------------------------------------


def _softmax_ref(x, dim, dtype=None):
    if np.ndim(x) == 0:
        return np.ones_like(x)
    if np.size(x) == 0:
        return np.asarray(x, copy=True)
    e = np.exp(x - np.max(x, axis=dim, keepdims=True))
    return e / np.sum(e, axis=dim, keepdims=True)


def _log_softmax_ref(x, dim, dtype=None):
    if np.ndim(x) == 0:
        return np.zeros_like(x)
    if np.size(x) == 0:
        return np.asarray(x, copy=True)
    z = x - np.max(x, axis=dim, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=dim, keepdims=True))


def _softplus_ref(x, beta=1.0, threshold=20.0):
    z = x * beta
    return np.where(z > threshold, x, np.logaddexp(0.0, z) / beta)


def _logsigmoid_ref(x):
    return -np.logaddexp(0.0, -x)


def _erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def _gelu_ref(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
    return 0.5 * x * (1 + _erf(x / np.sqrt(2)))


def _elu_ref(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def _embedding_call(weight, idx, **kw):
    return _lib(weight).embedding(weight, idx, **kw)


def _embedding_ref(weight, idx, **kw):
    return weight[np.asarray(idx).astype(np.int64)]


def _f_embedding_call(idx, weight, **kw):
    return functional_of(weight).embedding(idx, weight, **kw)


def _f_embedding_ref(idx, weight, **kw):
    return weight[np.asarray(idx).astype(np.int64)]


def _linear_ref(x, w, b=None):
    out = x @ w.T
    return out if b is None else out + b


def _layer_norm_ref(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    out = (x - mu) / np.sqrt(var + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def _group_norm_ref(x, num_groups, weight=None, bias=None, eps=1e-5):
    n, c = x.shape[:2]
    g = x.reshape(n, num_groups, -1)
    mu = g.mean(axis=2, keepdims=True)
    var = g.var(axis=2, keepdims=True)
    out = ((g - mu) / np.sqrt(var + eps)).reshape(x.shape)
    shape = (1, c) + (1,) * (x.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def _batch_norm_call(x, rm, rv, w, b, training=False, momentum=0.1, eps=1e-5):
    # Copies of the running statistics: training updates them in place.
    return functional_of(x).batch_norm(x, rm.clone(), rv.clone(), w, b, training=training,
                         momentum=momentum, eps=eps)


def _batch_norm_ref(x, rm, rv, w, b, training=False, momentum=0.1, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if training:
        mu = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True)
    else:
        mu, var = rm.reshape(shape), rv.reshape(shape)
    return (x - mu) / np.sqrt(var + eps) * w.reshape(shape) + b.reshape(shape)


def _rms_norm_ref(x, normalized_shape, weight=None, eps=None):
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    out = x / np.sqrt((x * x).mean(axis=axes, keepdims=True) + eps)
    return out if weight is None else out * weight


def _normalize_ref(x, p=2.0, dim=1, eps=1e-12):
    n = np.sum(np.abs(x) ** p, axis=dim, keepdims=True) ** (1 / p)
    return x / np.maximum(n, eps)


def _cosine_ref(x1, x2, dim=1, eps=1e-8):
    x1, x2 = np.broadcast_arrays(x1, x2)
    n1 = np.maximum(np.sqrt((x1 * x1).sum(axis=dim, keepdims=True)), eps)
    n2 = np.maximum(np.sqrt((x2 * x2).sum(axis=dim, keepdims=True)), eps)
    return ((x1 / n1) * (x2 / n2)).sum(axis=dim)


def _pairwise_ref(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    d = np.abs(x1 - x2 + eps)
    return np.sum(d**p, axis=-1, keepdims=keepdim) ** (1 / p)


def _one_hot_ref(x, num_classes=-1):
    x = np.asarray(x).astype(np.int64)
    n = int(x.max()) + 1 if num_classes == -1 else num_classes
    return (x[..., None] == np.arange(n)).astype(np.float64)


def _glu_ref(x, dim=-1):
    a, b = np.split(x, 2, axis=dim)
    return a / (1 + np.exp(-b))


# -- references: activations, norms, distances, embedding bags, dropout ---------------------------

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _sigmoid_ref(x):
    return 1 / (1 + np.exp(-x))


def _leaky_relu_ref(x, negative_slope=0.01):
    return np.where(x > 0, x, x * negative_slope)


def _celu_ref(x, alpha=1.0):
    return np.maximum(x, 0) + np.minimum(0, alpha * np.expm1(np.minimum(x, 0) / alpha))


def _selu_ref(x):
    negative = _SELU_ALPHA * np.expm1(np.minimum(x, 0))
    return _SELU_SCALE * (np.maximum(x, 0) + np.minimum(0, negative))


def _hardtanh_ref(x, min_val=-1.0, max_val=1.0):
    return np.clip(x, min_val, max_val)


def _softshrink_ref(x, lambd=0.5):
    return np.where(x > lambd, x - lambd, np.where(x < -lambd, x + lambd, 0.0))


def _threshold_ref(x, threshold, value):
    return np.where(x > threshold, x, value)


def _rrelu_ref(x, lower=1.0 / 8, upper=1.0 / 3, training=False):
    # Outside training the slope of negative inputs is the mean of [lower, upper].
    return _leaky_relu_ref(x, (lower + upper) / 2)


def _softmin_ref(x, dim):
    return _softmax_ref(-x, dim)


def _prelu_ref(x, weight):
    # One weight per channel (dim 1), or one for all.
    if weight.size > 1:
        weight = weight.reshape((1, -1) + (1,) * (x.ndim - 2))
    return np.where(x > 0, x, weight * x)


def _bilinear_ref(x1, x2, weight, bias=None):
    out = np.einsum("...i,oij,...j->...o", x1, weight, x2)
    return out if bias is None else out + bias


def _pdist_ref(x, p=2.0):
    n = x.shape[0]
    return np.asarray([np.sum(np.abs(x[i] - x[j]) ** p) ** (1 / p)
                       for i in range(n) for j in range(i + 1, n)])


def _instance_norm_call(x, running_mean=None, running_var=None, *args, **kwargs):
    # Copies of the running statistics: use_input_stats updates them in place.
    def copy(t):
        return None if t is None else t.clone()

    return functional_of(x).instance_norm(x, copy(running_mean), copy(running_var), *args,
                                               **kwargs)


def _instance_norm_ref(x, running_mean=None, running_var=None, weight=None, bias=None,
                       use_input_stats=True, momentum=0.1, eps=1e-5):
    axes = tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if use_input_stats:
        mu, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    else:
        mu, var = running_mean.reshape(shape), running_var.reshape(shape)
    out = (x - mu) / np.sqrt(var + eps)
    if weight is not None:
        out = out * weight.reshape(shape)
    return out if bias is None else out + bias.reshape(shape)


def _local_response_norm_ref(x, size, alpha=1e-4, beta=0.75, k=1.0):
    # Channel c is divided by the mean of x**2 over channels c - size//2 .. c + (size-1)//2
    # (zero padded, so the mean always divides by size).
    channels = x.shape[1]
    sums = np.zeros_like(x)
    for c in range(channels):
        lo, hi = max(0, c - size // 2), min(channels, c + (size - 1) // 2 + 1)
        sums[:, c] = (x[:, lo:hi] ** 2).sum(axis=1)
    return x / (k + alpha * sums / size) ** beta


def _embedding_bag_call(idx, weight, offsets=None, per_sample_weights=None, **kwargs):
    return functional_of(weight).embedding_bag(
        idx, weight, offsets, per_sample_weights=per_sample_weights, **kwargs)


def _embedding_bag_ref(idx, weight, offsets=None, per_sample_weights=None, *, mode="mean",
                       include_last_offset=False, padding_idx=None):
    idx = np.asarray(idx).astype(np.int64)
    psw = np.ones(idx.shape) if per_sample_weights is None else per_sample_weights
    if idx.ndim == 2:  # one bag per row
        bags = list(zip(idx, psw))
    else:
        bounds = [int(o) for o in offsets]
        if not include_last_offset:
            bounds.append(len(idx))
        bags = [(idx[a:b], psw[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    out = np.zeros((len(bags), weight.shape[1]))
    for n, (bag, scale) in enumerate(bags):
        keep = bag != padding_idx
        rows = weight[bag[keep]] * scale[keep][:, None]
        if len(rows):  # an empty bag gives zeros
            out[n] = {"sum": np.sum, "mean": np.mean, "max": np.max}[mode](rows, axis=0)
    return out


def _dropout_ref(training_default: bool):
    """The deterministic cases of the dropout family: identity, or zeros when p == 1."""

    def ref(x, p=0.5, training=training_default, inplace=False):
        return np.zeros_like(x) if training and p == 1 else np.array(x, copy=True)

    return ref


# -- samples ---------------------------------------------------------------------------------


def _softmax_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -3, 3)

    big = np.asarray(_draw(rng, (3, 4), dt, -3, 3) * 300, dtype=dt.name)
    return [
        Sample((x(3, 4),), {"dim": 1}),
        Sample((x(2, 3, 4),), {"dim": 0}),
        Sample((x(3, 4),), {"dim": -1}),
        Sample((x(),), {"dim": 0}),
        Sample((NonContig(x(3, 4)),), {"dim": 0}),
        Sample((x(0, 3),), {"dim": 1}),
        Sample((big,), {"dim": 1}),
    ]


def _unary_samples(low=-3.0, high=3.0, avoid=None, **kwargs):
    """Unary samples (``kwargs`` passed to the call); values within 0.1 of ``avoid`` are moved."""

    def samples(rng, dt):
        def x(*s):
            v = _draw(rng, s, dt, low, high)
            for a in avoid or ():
                v = np.where(np.abs(v - a) < 0.1, v + 0.25, v)
            return np.asarray(v, dtype=dt.name)

        return [Sample((x(3, 4),), dict(kwargs)), Sample((x(),), dict(kwargs)),
                Sample((x(0, 3),), dict(kwargs)), Sample((NonContig(x(3, 4)),), dict(kwargs))]

    return samples


def _gelu_samples(rng, dt):
    return _unary_samples()(rng, dt) + _unary_samples(approximate="tanh")(rng, dt)


def _softplus_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -4, 4)

    return _unary_samples(-4, 4)(rng, dt) + [
        Sample((x(3, 4),), {"beta": 2.0, "threshold": 3.0}),
        Sample((np.asarray(_draw(rng, (3, 4), dt, -40, 40)),), {}),
    ]


def _standardize_call(x, *, dims, eps):
    if isinstance(x, polytorch.Tensor):
        return _NN.standardize_op(x, dims=dims, eps=eps)[0]
    mean = x.mean(dims, keepdim=True)  # the oracle's spelling
    return (x - mean) / (x.var(dims, correction=0, keepdim=True) + eps).sqrt()


def _standardize_ref(x, *, dims, eps):
    mu = x.mean(axis=dims, keepdims=True)
    return (x - mu) / np.sqrt(((x - mu) ** 2).mean(axis=dims, keepdims=True) + eps)


def _standardize_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -2, 2)

    return [
        Sample((x(3, 4),), {"dims": (1,), "eps": 1e-5}),
        Sample((x(2, 3, 4),), {"dims": (0, 2), "eps": 1e-5}),
        Sample((x(2, 3, 4),), {"dims": (1, 2), "eps": 0.1}),
        Sample((NonContig(x(3, 4)),), {"dims": (0,), "eps": 1e-5}),
    ]


def _embedding_samples(rng, dt):
    w = _draw(rng, (5, 3), dt, -2, 2)
    idx = rng.randint(0, 5, size=(2, 3)).astype(np.int64)
    return [
        Sample((w, idx)),
        # Not the derivative on purpose (PyTorch's rules): tested against PyTorch instead.
        Sample((w, idx), {"padding_idx": 2}, grad=False),
        Sample((w, idx), {"scale_grad_by_freq": True}, grad=False),
        Sample((w, np.asarray(3, np.int64))),
        Sample((NonContig(_draw(rng, (3, 5), dt, -2, 2)), np.zeros((0, 2), np.int64))),
    ]


def _f_embedding_samples(rng, dt):
    return [Sample((s.args[1], s.args[0]), s.kwargs, s.grad) for s in _embedding_samples(rng, dt)]


def _linear_samples(rng, dt):
    def m(*s):
        return _draw(rng, s, dt, -2, 2)

    return [
        Sample((m(3, 4), m(5, 4), m(5))),
        Sample((m(3, 4), m(5, 4))),
        Sample((m(2, 3, 4), m(5, 4), m(5))),
        Sample((m(4), m(5, 4), m(5))),
        Sample((NonContig(m(3, 4)), m(5, 4), m(5))),
        Sample((m(0, 4), m(5, 4), m(5))),
    ]


def _norm_input(rng, dt, *s):
    return _draw(rng, s, dt, -2, 2)


def _layer_norm_samples(rng, dt):
    def x(*s):
        return _norm_input(rng, dt, *s)

    return [
        Sample((x(3, 4), (4,), x(4), x(4))),
        Sample((x(2, 3, 4), (3, 4), x(3, 4), x(3, 4))),
        Sample((x(3, 4), (4,)), {"eps": 1e-3}),
        Sample((NonContig(x(3, 4)), (4,), x(4), None)),
    ]


def _group_norm_samples(rng, dt):
    def x(*s):
        return _norm_input(rng, dt, *s)

    return [
        Sample((x(2, 6, 4), 3, x(6), x(6))),
        Sample((x(2, 4, 2, 3), 2, x(4), x(4))),
        Sample((x(3, 4), 4), {"eps": 1e-3}),
        Sample((x(2, 4, 3), 1, None, x(4))),
    ]


def _batch_norm_samples(rng, dt):
    def x(*s):
        return _norm_input(rng, dt, *s)

    def stats(c):
        return _draw(rng, (c,), dt, -0.5, 0.5), _draw(rng, (c,), dt, 0.5, 2.0)

    out = []
    for shape in ((4, 3), (2, 3, 4), (2, 3, 2, 2)):
        rm, rv = stats(3)
        out.append(Sample((x(*shape), rm, rv, x(3), x(3)), {"training": True}))
        out.append(Sample((x(*shape), rm, rv, x(3), x(3)), {"training": False}))
    return out


def _rms_norm_samples(rng, dt):
    def x(*s):
        return _norm_input(rng, dt, *s)

    # eps=None (the dtype's machine epsilon) is left to the tests: a float64 reference
    # cannot know which epsilon its input's dtype had.
    return [
        Sample((x(3, 4), (4,), x(4)), {"eps": 1e-5}),
        Sample((x(2, 3, 4), (3, 4)), {"eps": 1e-3}),
        Sample((NonContig(x(3, 4)), (4,), x(4), 1e-6)),
    ]


def _normalize_samples(rng, dt):
    def x(*s):
        return _nonzero(rng, s, dt, 0.2, 2)

    return [
        Sample((x(3, 4),), {}),
        Sample((x(3, 4),), {"p": 1.0, "dim": 0}),
        Sample((x(2, 3, 4),), {"p": 3.0, "dim": -1}),
        Sample((NonContig(x(3, 4)),), {"dim": 1}),
    ]


def _cosine_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -2, 2)

    return [
        Sample((x(3, 4), x(3, 4))),
        Sample((x(3, 4), x(1, 4)), {"dim": 1}),
        Sample((x(2, 3, 4), x(2, 3, 4)), {"dim": -1}),
        Sample((x(4), x(4)), {"dim": 0}),
    ]


def _pairwise_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -2, 2)

    return [
        Sample((x(3, 4), x(3, 4))),
        Sample((x(3, 4), x(1, 4)), {"p": 1.0}),
        Sample((x(3, 4), x(3, 4)), {"p": 3.0, "keepdim": True}),
        Sample((x(4), x(4))),
    ]


def _one_hot_samples(rng, dt):
    return [
        Sample((rng.randint(0, 4, size=(3, 2)).astype(np.int64),), {"num_classes": 5}),
        Sample((np.asarray([0, 3, 1], np.int64),), {}),
        Sample((np.asarray(2, np.int64),), {"num_classes": 3}),
    ]


def _glu_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -3, 3)

    return [Sample((x(3, 4),), {}), Sample((x(4, 3),), {"dim": 0}),
            Sample((x(2, 2, 6),), {"dim": -1}), Sample((NonContig(x(3, 4)),), {"dim": 1})]


def _away(v, avoid):
    """``v`` with values within 0.1 of each kink in ``avoid`` moved by 0.25."""
    for a in avoid or ():
        v = np.where(np.abs(v - a) < 0.1, v + 0.25, v)
    return v


def _pointwise_samples(low=-3.0, high=3.0, avoid=(), first=None, inplace=False, **kwargs):
    """Two small samples, ``[3, 4]`` (with ``first`` added to ``kwargs``) and 0-d; or, for an
    in-place function (applied to a clone), one non-contiguous ``[3, 4]``."""

    def samples(rng, dt):
        def x(*s):
            return np.asarray(_away(_draw(rng, s, dt, low, high), avoid), dtype=dt.name)

        if inplace:
            return [Sample((NonContig(x(3, 4)),), {**kwargs, **(first or {})})]
        return [Sample((x(3, 4),), {**kwargs, **(first or {})}), Sample((x(),), dict(kwargs))]

    return samples


def _inplace(name: str):
    """``nn.functional.NAME`` (an in-place function) applied to a clone, so gradients flow."""
    return lambda x, *args, **kwargs: getattr(functional_of(x), name)(x.clone(), *args,
                                                                            **kwargs)


def _pointwise(name: str, ref, *, low=-3.0, high=3.0, avoid=(), first=None, **kwargs) -> OpSpec:
    """The record of an elementwise function (``kwargs`` passed to every call)."""
    return OpSpec(name, _fn(name), ref, _pointwise_samples(low, high, avoid, first, **kwargs),
                  FLOATS, same)


def _pointwise_(name: str, ref, *, low=-3.0, high=3.0, avoid=(), first=None, **kwargs) -> OpSpec:
    """The record of an in-place elementwise function ``name`` (ends in ``_``), on a clone."""
    return OpSpec(name, _inplace(name), ref,
                  _pointwise_samples(low, high, avoid, first, inplace=True, **kwargs),
                  FLOATS, same)


def _softmin_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -3, 3)

    return [Sample((x(3, 4),), {"dim": 1}), Sample((NonContig(x(3, 4)),), {"dim": 0})]


def _prelu_samples(rng, dt):
    def x(*s):
        return _nonzero(rng, s, dt, 0.1, 3)

    return [Sample((x(3, 4), _draw(rng, (1,), dt, 0.1, 0.5))),
            Sample((x(2, 3, 4), _draw(rng, (3,), dt, -0.5, 0.5)))]


def _bilinear_samples(rng, dt):
    def m(*s):
        return _draw(rng, s, dt, -2, 2)

    return [Sample((m(3, 4), m(3, 2), m(2, 4, 2), m(2))),
            Sample((m(2, 3, 4), m(2, 3, 2), m(2, 4, 2)))]


def _pdist_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -2, 2)

    return [Sample((x(3, 4),)), Sample((NonContig(x(3, 4)),), {"p": 1.0}),
            Sample((x(3, 4),), {"p": 3.0})]


def _instance_norm_samples(rng, dt):
    def x(*s):
        return _norm_input(rng, dt, *s)

    rm, rv = _draw(rng, (3,), dt, -0.5, 0.5), _draw(rng, (3,), dt, 0.5, 2.0)
    return [
        Sample((x(2, 3, 4), rm, rv, x(3), x(3))),  # statistics given but not used
        Sample((x(2, 3, 2, 2), rm, rv), {"use_input_stats": False, "eps": 1e-3}),
        Sample((x(2, 3, 4),)),
    ]


def _local_response_norm_samples(rng, dt):
    def x(*s):
        return _norm_input(rng, dt, *s)

    return [Sample((x(2, 3, 4), 2)),
            Sample((x(2, 3, 2, 2), 3), {"alpha": 0.5, "beta": 0.5, "k": 2.0})]


def _embedding_bag_samples(rng, dt):
    w = _draw(rng, (5, 3), dt, -2, 2)
    bags = np.asarray([[0, 2, 4], [1, 3, 0]], np.int64)  # no repeats within a bag (max)
    flat = np.asarray([0, 2, 4, 1, 3], np.int64)
    return [
        Sample((bags, w), {"mode": "sum"}),
        Sample((bags, w), {"mode": "max"}),
        # Bags [0, 2], [] and [4, 1, 3]; index 2 is padding, left out of the mean.
        Sample((flat, w, np.asarray([0, 2, 2], np.int64)), {"mode": "mean", "padding_idx": 2}),
        Sample((flat, w, np.asarray([0, 1, 5], np.int64), _draw(rng, (5,), dt, -1, 1)),
               {"mode": "sum", "include_last_offset": True}),
    ]


def _dropout_samples(*shapes):
    """The deterministic cases: not training, p=0 and p=1 while training. The random path
    is the rng layer's and the unit tests' (tests/test_nn_functional.py)."""

    def samples(rng, dt):
        def x(s):
            return _draw(rng, s, dt, -2, 2)

        return [Sample((x(shapes[0]),), {"p": 0.5, "training": False}),
                Sample((x(shapes[-1]),), {"p": 0.0, "training": True}),
                Sample((x(shapes[0]),), {"p": 1.0, "training": True})]

    return samples


def _int64(*args, **kwargs):
    return "int64"


def _first_float(*args, **kwargs):
    return same(args[0])


def _second_float(*args, **kwargs):
    return same(args[1])


SPECS = [
    OpSpec("softmax", lambda x, dim: x.softmax(dim), _softmax_ref, _softmax_samples, FLOATS,
           same),
    OpSpec("log_softmax", lambda x, dim: x.log_softmax(dim), _log_softmax_ref,
           _softmax_samples, FLOATS, same),
    OpSpec("softplus", lambda x, **kw: functional_of(x).softplus(x, **kw), _softplus_ref,
           _softplus_samples, FLOATS, same),
    OpSpec("log_sigmoid", lambda x: functional_of(x).logsigmoid(x), _logsigmoid_ref,
           _unary_samples(-30, 30), FLOATS, same),
    OpSpec("embedding", _embedding_call, _embedding_ref, _embedding_samples, FLOATS,
           _first_float),
    OpSpec("gelu", lambda x, **kw: functional_of(x).gelu(x, **kw), _gelu_ref,
           _gelu_samples, FLOATS, same),
    OpSpec("standardize", _standardize_call, _standardize_ref, _standardize_samples, FLOATS,
           same),
]

FUNCTIONAL = [
    OpSpec("softmax", _fn("softmax"), _softmax_ref, _softmax_samples,
           FLOATS, same),
    OpSpec("log_softmax", _fn("log_softmax"), _log_softmax_ref,
           _softmax_samples, FLOATS, same),
    OpSpec("linear", _fn("linear"), _linear_ref, _linear_samples, FLOATS, same),
    OpSpec("gelu", _fn("gelu"), _gelu_ref, _gelu_samples, FLOATS, same),
    OpSpec("silu", _fn("silu"), lambda x: x / (1 + np.exp(-x)), _unary_samples(),
           FLOATS, same),
    OpSpec("softplus", _fn("softplus"), _softplus_ref, _softplus_samples,
           FLOATS, same),
    OpSpec("elu", _fn("elu"), _elu_ref, _unary_samples(avoid=(0,)),
           FLOATS, same),
    OpSpec("leaky_relu", _fn("leaky_relu"), _leaky_relu_ref,
           _unary_samples(avoid=(0,), negative_slope=0.2), FLOATS, same),
    OpSpec("hardswish", _fn("hardswish"),
           lambda x: x * np.clip(x + 3, 0, 6) / 6, _unary_samples(-5, 5, avoid=(-3, 3)),
           FLOATS, same),
    OpSpec("layer_norm", _fn("layer_norm"), _layer_norm_ref,
           _layer_norm_samples, FLOATS, same),
    OpSpec("group_norm", _fn("group_norm"), _group_norm_ref,
           _group_norm_samples, FLOATS, same),
    OpSpec("batch_norm", _batch_norm_call, _batch_norm_ref, _batch_norm_samples, FLOATS, same),
    OpSpec("rms_norm", _fn("rms_norm"), _rms_norm_ref,
           _rms_norm_samples, FLOATS, same),
    OpSpec("embedding", _f_embedding_call, _f_embedding_ref, _f_embedding_samples, FLOATS,
           _second_float),
    OpSpec("normalize", _fn("normalize"), _normalize_ref,
           _normalize_samples, FLOATS, same),
    OpSpec("cosine_similarity", _fn("cosine_similarity"),
           _cosine_ref, _cosine_samples, FLOATS, same),
    OpSpec("pairwise_distance", _fn("pairwise_distance"),
           _pairwise_ref, _pairwise_samples, FLOATS, same),
    OpSpec("one_hot", _fn("one_hot"), _one_hot_ref, _one_hot_samples,
           (polytorch.int64,), _int64, differentiable=False),
    OpSpec("glu", _fn("glu"), _glu_ref, _glu_samples, FLOATS, same),
    # -- activations ------------------------------------------------------------------
    _pointwise("relu", lambda x: np.maximum(x, 0), avoid=(0,)),
    _pointwise_("relu_", lambda x: np.maximum(x, 0), avoid=(0,)),
    _pointwise("relu6", lambda x: np.clip(x, 0, 6), low=-3, high=8, avoid=(0, 6)),
    _pointwise_("elu_", _elu_ref, avoid=(0,), alpha=0.5),
    _pointwise_("leaky_relu_", _leaky_relu_ref, avoid=(0,), negative_slope=0.2),
    _pointwise("celu", _celu_ref, avoid=(0,), first={"alpha": 2.0}),
    _pointwise_("celu_", _celu_ref, avoid=(0,), alpha=0.5),
    _pointwise("selu", _selu_ref, avoid=(0,)),
    _pointwise_("selu_", _selu_ref, avoid=(0,)),
    _pointwise("hardshrink", lambda x, lambd=0.5: np.where(np.abs(x) > lambd, x, 0.0),
               avoid=(-0.5, 0.5, -1.0, 1.0), first={"lambd": 1.0}),
    _pointwise("hardsigmoid", lambda x: np.clip(x / 6 + 0.5, 0, 1), low=-5, high=5,
               avoid=(-3, 3)),
    _pointwise("hardtanh", _hardtanh_ref, avoid=(-1, 1, -2, 0.5),
               first={"min_val": -2.0, "max_val": 0.5}),
    _pointwise_("hardtanh_", _hardtanh_ref, avoid=(-1, 1)),
    _pointwise("logsigmoid", _logsigmoid_ref, low=-30, high=30),
    _pointwise("mish", lambda x: x * np.tanh(np.logaddexp(0, x)), low=-5, high=5),
    _pointwise("sigmoid", _sigmoid_ref, low=-6, high=6),
    _pointwise("tanh", np.tanh),
    _pointwise("tanhshrink", lambda x: x - np.tanh(x)),
    _pointwise("softshrink", _softshrink_ref, avoid=(-0.5, 0.5, -1.0, 1.0), first={"lambd": 1.0}),
    _pointwise("softsign", lambda x: x / (1 + np.abs(x)), avoid=(0,)),
    _pointwise("threshold", _threshold_ref, avoid=(0.5,), threshold=0.5, value=-2.0),
    _pointwise_("threshold_", _threshold_ref, avoid=(0.5,), threshold=0.5, value=-2.0),
    # training=False only: the random slopes are the rng layer's and the unit tests'.
    _pointwise("rrelu", _rrelu_ref, avoid=(0,), first={"lower": 0.1, "upper": 0.5},
               training=False),
    _pointwise_("rrelu_", _rrelu_ref, avoid=(0,), training=False),
    OpSpec("softmin", _fn("softmin"), _softmin_ref, _softmin_samples, FLOATS, same),
    OpSpec("prelu", _fn("prelu"), _prelu_ref, _prelu_samples, FLOATS, same),
    # -- layers, norms and distances ------------------------------------------------------
    OpSpec("bilinear", _fn("bilinear"), _bilinear_ref, _bilinear_samples, FLOATS, same),
    OpSpec("instance_norm", _instance_norm_call, _instance_norm_ref, _instance_norm_samples,
           FLOATS, same),
    OpSpec("local_response_norm", _fn("local_response_norm"), _local_response_norm_ref,
           _local_response_norm_samples, FLOATS, same),
    OpSpec("pdist", _fn("pdist"), _pdist_ref, _pdist_samples, FLOATS, same),
    OpSpec("embedding_bag", _embedding_bag_call, _embedding_bag_ref, _embedding_bag_samples,
           FLOATS, _second_float),
    # -- dropout: deterministic cases (see _dropout_samples) -------------------------------
    OpSpec("dropout", _fn("dropout"), _dropout_ref(True), _dropout_samples((3, 4)), FLOATS,
           same),
    OpSpec("dropout1d", _fn("dropout1d"), _dropout_ref(True), _dropout_samples((2, 3, 4), (3, 4)),
           FLOATS, same),
    OpSpec("dropout2d", _fn("dropout2d"), _dropout_ref(True), _dropout_samples((2, 3, 2, 2)),
           FLOATS, same),
    # A 4-d input is one unbatched (C, D, H, W) sample.
    OpSpec("dropout3d", _fn("dropout3d"), _dropout_ref(True), _dropout_samples((2, 3, 2, 2)),
           FLOATS, same),
    OpSpec("alpha_dropout", _fn("alpha_dropout"), _dropout_ref(False), _dropout_samples((3, 4)),
           FLOATS, same),
    OpSpec("feature_alpha_dropout", _fn("feature_alpha_dropout"), _dropout_ref(False),
           _dropout_samples((2, 3, 4)), FLOATS, same),
]
