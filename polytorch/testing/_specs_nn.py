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

from ._specs import FLOATS, NonContig, OpSpec, Sample, _draw, _nonzero, same

_NN = polytorch.ops.nn


def _fn(name: str):
    """``nn.functional.NAME`` of the first argument's library (see ``_lib``)."""
    return lambda x, *args, **kwargs: getattr(_lib(x).nn.functional, name)(x, *args, **kwargs)


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
    return _lib(weight).nn.functional.embedding(idx, weight, **kw)


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
    return _lib(x).nn.functional.batch_norm(x, rm.clone(), rv.clone(), w, b, training=training,
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
    OpSpec("softplus", lambda x, **kw: _lib(x).nn.functional.softplus(x, **kw), _softplus_ref,
           _softplus_samples, FLOATS, same),
    OpSpec("log_sigmoid", lambda x: _lib(x).nn.functional.logsigmoid(x), _logsigmoid_ref,
           _unary_samples(-30, 30), FLOATS, same),
    OpSpec("embedding", _embedding_call, _embedding_ref, _embedding_samples, FLOATS,
           _first_float),
    OpSpec("gelu", lambda x, **kw: _lib(x).nn.functional.gelu(x, **kw), _gelu_ref,
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
    OpSpec("leaky_relu", _fn("leaky_relu"),
           lambda x, negative_slope=0.01: np.where(x > 0, x, x * negative_slope),
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
]
