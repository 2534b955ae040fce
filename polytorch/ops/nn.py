"""Neural-network primitives (family ``nn``): softmax, log_softmax, softplus, logsigmoid and
embedding.

Note [Why these are primitives]
Each is a primitive because its composite would be unstable or slow: softmax and
log_softmax subtract the maximum before ``exp`` (one pass, no overflow, and a
gradient from the result alone); softplus and logsigmoid use
``max(z, 0) + log1p(exp(-|z|))``, whose composite gradient is wrong at ``z = 0``
(``abs`` and ``maximum`` split there); embedding's gradient skips ``padding_idx``
and can scale by frequency, which a plain gather cannot express. Every gradient
rule is written in polytorch ops, so second derivatives come for free.
"""

from __future__ import annotations

import math
import warnings

from .. import _dtype as D
from .._tensor import Tensor
from . import elementwise as E
from . import indexing as I
from . import reduction as R
from . import shape as S
from ._registry import defop

__all__ = [
    "softmax", "log_softmax", "embedding",
    # torch.* spellings of nn.functional (their argument orders are torch's, not F's)
    "dropout", "alpha_dropout", "feature_alpha_dropout", "layer_norm", "group_norm",
    "batch_norm", "instance_norm", "rms_norm", "selu", "celu", "prelu", "rrelu", "threshold",
    "hardshrink", "cosine_similarity", "pairwise_distance", "pdist", "bilinear",
]

TENSOR_METHODS: dict = {}  # filled at the end of the module
INPLACE_METHODS: dict = {}


# -- softmax and log_softmax -------------------------------------------------------------


@defop("softmax", promote=None, save_result=True)
def softmax_op(xp, x, *, dim):
    """``exp(x) / sum(exp(x))`` along ``dim``, shifted by the maximum (no overflow)."""
    if x.size == 0:
        return x + 0
    e = xp.exp(x - xp.max(x, axis=dim, keepdims=True))
    return e / xp.sum(e, axis=dim, keepdims=True)


@softmax_op.defvjp
def _(ctx, grad):
    y = ctx.result
    dim = ctx.params["dim"]
    return (y * (grad - R.sum(grad * y, dim, keepdim=True)),)


@defop("log_softmax", promote=None, save_result=True)
def log_softmax_op(xp, x, *, dim):
    """``x - logsumexp(x)`` along ``dim``, shifted by the maximum (no overflow)."""
    if x.size == 0:
        return x + 0
    z = x - xp.max(x, axis=dim, keepdims=True)
    return z - xp.log(xp.sum(xp.exp(z), axis=dim, keepdims=True))


@log_softmax_op.defvjp
def _(ctx, grad):
    dim = ctx.params["dim"]
    return (grad - ctx.result.exp() * R.sum(grad, dim, keepdim=True),)


def _softmax_dim(name: str, ndim: int, stacklevel: int = 4) -> int:
    # PyTorch's legacy rule for a call without ``dim``: warn, then pick 0 or 1.
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to "
        f"include dim=X as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_input(input: Tensor, dim, dtype, name: str) -> tuple[Tensor, int]:
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if dim is None:
        dim = _softmax_dim(name, input.ndim, stacklevel=5)
    n = max(input.ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    if dtype is not None:
        input = input.to(dtype)
    if input._dtype.kind != "f":
        raise RuntimeError(
            f'"{name}" not implemented for \'{input._dtype.name}\' (pass a floating dtype= or '
            f"cast the input)"
        )
    return input, dim % n


def _on_0d(op, input: Tensor, dim: int) -> Tensor:
    if input.ndim == 0:
        return S.reshape(op(S.reshape(input, (1,)), dim=0), ())
    return op(input, dim=dim)


def softmax(input: Tensor, dim: int | None = None, dtype: D.dtype | None = None) -> Tensor:
    """Softmax along ``dim``: ``exp(x) / exp(x).sum(dim)``, computed without overflow.

    Example:
        >>> polytorch.softmax(polytorch.tensor([0.0, 0.0]), dim=0)
        tensor([0.5000, 0.5000])
    """
    input, dim = _softmax_input(input, dim, dtype, "softmax")
    return _on_0d(softmax_op, input, dim)


def log_softmax(input: Tensor, dim: int | None = None, dtype: D.dtype | None = None) -> Tensor:
    """``log(softmax(input, dim))``, computed without overflow or ``log(0)``.

    Example:
        >>> polytorch.log_softmax(polytorch.tensor([0.0, 0.0]), dim=0)
        tensor([-0.6931, -0.6931])
    """
    input, dim = _softmax_input(input, dim, dtype, "log_softmax")
    return _on_0d(log_softmax_op, input, dim)


# -- softplus and logsigmoid ---------------------------------------------------------------


@defop("softplus", promote=None, save=(0,))
def softplus_op(xp, x, *, beta, threshold):
    """``log(1 + exp(beta * x)) / beta``; ``x`` itself where ``beta * x > threshold``."""
    z = x * beta if beta != 1 else x
    soft = xp.maximum(z, xp.zeros_like(z)) + xp.log1p(xp.exp(-xp.abs(z)))
    if beta != 1:
        soft = soft / beta
    return xp.where(z > threshold, x, soft)


@softplus_op.defvjp
def _(ctx, grad):
    (x,) = ctx.inputs
    beta, threshold = ctx.params["beta"], ctx.params["threshold"]
    z = x * beta if beta != 1 else x
    return (E.where(z > threshold, grad, grad * E.sigmoid(z)),)


@defop("log_sigmoid", promote=None, save=(0,))
def log_sigmoid_op(xp, x):
    """``log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|))`` (no overflow, no ``log(0)``)."""
    return xp.minimum(x, xp.zeros_like(x)) - xp.log1p(xp.exp(-xp.abs(x)))


@log_sigmoid_op.defvjp
def _(ctx, grad):
    (x,) = ctx.inputs
    return (grad * E.sigmoid(E.neg(x)),)


# -- gelu -----------------------------------------------------------------------------------

_SQRT1_2 = 1 / math.sqrt(2.0)
_SQRT_2_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1 / math.sqrt(2.0 * math.pi)


def _gelu(xp, x, approximate):
    if approximate == "tanh":
        return 0.5 * x * (1 + xp.tanh((x + 0.044715 * (x * x * x)) * _SQRT_2_PI))
    return 0.5 * x * (1 + E._erf(xp, x * _SQRT1_2))


@defop("gelu", promote=None, save=(0,))
def gelu_op(xp, x, *, approximate):
    """``x * Phi(x)`` (``approximate="tanh"``: ``Phi`` by the tanh formula), in one op."""
    return _gelu(xp, x, approximate)


@gelu_op.register_kernel("jax")
def _(xp, x, *, approximate):
    # One compiled kernel per mode: eagerly, erf's forty-odd small ops would each dispatch.
    fn = _GELU_JIT.get(approximate)
    if fn is None:
        import jax

        fn = _GELU_JIT[approximate] = jax.jit(lambda v: _gelu(xp, v, approximate))
    return fn(x)


_GELU_JIT: dict = {}


@gelu_op.defvjp
def _(ctx, grad):
    (x,) = ctx.inputs
    if ctx.params["approximate"] == "tanh":
        x2 = x * x
        t = E.tanh((x + x2 * x * 0.044715) * _SQRT_2_PI)
        slope = (t + 1) * 0.5 + x * (1 - t * t) * ((x2 * (3 * 0.044715) + 1) * (0.5 * _SQRT_2_PI))
        return (grad * slope,)
    cdf = (E.erf(x * _SQRT1_2) + 1) * 0.5
    pdf = E.exp(x * x * -0.5) * _INV_SQRT_2PI
    return (grad * (cdf + x * pdf),)


# -- standardization (the core of every normalization layer) -------------------------------


@defop("standardize", promote=None, n_out=3, save=(0,), save_result=True,
       differentiable_outputs=(0,))
def standardize_op(xp, x, *, dims, eps):
    """``((x - mean) * rstd, mean, rstd)`` over ``dims`` (kept), ``rstd = 1/sqrt(var + eps)``
    with the biased variance: one pass for layer, group, instance and batch norm."""
    mean = xp.mean(x, axis=dims, keepdims=True)
    centered = x - mean
    rstd = 1 / xp.sqrt(xp.mean(centered * centered, axis=dims, keepdims=True) + eps)
    return centered * rstd, mean, rstd


@standardize_op.defvjp
def _(ctx, grads):
    from ..autograd import is_grad_enabled

    grad = grads[0]
    y, _, rstd = ctx.result
    dims, eps = ctx.params["dims"], ctx.params["eps"]
    if is_grad_enabled():
        # create_graph: rstd as a function of x, so that second derivatives see it (the
        # saved rstd is not a differentiable output).
        (x,) = ctx.inputs
        rstd = E.rsqrt(R.var(x, dims, correction=0, keepdim=True) + eps)
    return (rstd * (grad - R.mean(grad, dims, keepdim=True)
                    - y * R.mean(grad * y, dims, keepdim=True)),)


# -- embedding -------------------------------------------------------------------------------


@defop("embedding", promote=None, save={1: (0,)}, quiet=False)
def embedding_op(xp, weight, indices, *, padding_idx, scale_grad_by_freq):
    """The rows of ``weight`` at ``indices`` (shape ``indices.shape + weight.shape[1:]``)."""
    flat = xp.reshape(indices, (-1,))
    rows = xp.take(weight, flat, axis=0)
    return xp.reshape(rows, tuple(indices.shape) + tuple(weight.shape[1:]))


@embedding_op.defvjp
def _(ctx, grad):
    from .._creation import zeros

    indices = ctx.inputs[1]
    shape = ctx.node.in_meta[0][0]
    flat = S.reshape(indices, (-1,))
    g = S.reshape(grad, (-1,) + tuple(shape[1:]))
    scale = None
    if ctx.params["padding_idx"] is not None:
        scale = E.ne(flat, ctx.params["padding_idx"]).to(grad._dtype)
    if ctx.params["scale_grad_by_freq"]:
        counts = I.bincount(flat, minlength=shape[0]).to(grad._dtype)
        inv = I.index_select(counts, 0, flat).reciprocal()
        scale = inv if scale is None else scale * inv
    if scale is not None:
        g = g * S.reshape(scale, (-1,) + (1,) * (len(shape) - 1))
    base = zeros(shape, dtype=grad._dtype, device=grad._device)
    return I.index_put_op(base, g, flat, dims=(0,), accumulate=True), None


def embedding(weight: Tensor, indices: Tensor, padding_idx: int = -1,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """The rows of ``weight`` at the integer ``indices`` (bounds-checked), as ``torch.embedding``.

    Row ``padding_idx`` (-1: none) gets no gradient. ``nn.functional.embedding``
    is the user-facing form (``input`` first, ``max_norm``).

    Example:
        >>> w = polytorch.arange(6.0).reshape(3, 2)
        >>> polytorch.embedding(w, polytorch.tensor([2, 0]))
        tensor([[4., 5.],
                [0., 1.]])
    """
    if not isinstance(indices, Tensor) or indices._dtype.kind not in "iu":
        got = indices._dtype.name if isinstance(indices, Tensor) else type(indices).__name__
        raise RuntimeError(
            f"embedding(): expected indices of an integer dtype (Long or Int), but got {got}"
        )
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        got = f"{weight.ndim}-D" if isinstance(weight, Tensor) else type(weight).__name__
        raise RuntimeError(f"embedding(): 'weight' must be a 2-D tensor, but got {got}")
    n = weight._data.shape[0]
    I._check_bounds(indices, n, 0, lambda v: (
        f"index {v} is out of range in self (embedding with num_embeddings={n}: indices must be "
        f"in [0, {n - 1}])"), negative=False)
    return embedding_op(weight, indices, padding_idx=None if padding_idx < 0 else padding_idx,
                        scale_grad_by_freq=bool(scale_grad_by_freq))


# -- torch.* spellings of nn.functional ------------------------------------------------------
# PyTorch exposes these at the top level too, some with their own argument order
# (``torch.batch_norm(input, weight, bias, running_mean, ...)``). They defer to
# ``nn.functional``, imported on first call (it imports this module).


def _F():
    from ..nn import functional

    return functional


def dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """``torch.dropout``: ``nn.functional.dropout(input, p, train)``."""
    return _F().dropout(input, p, train)


def alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """``torch.alpha_dropout``: ``nn.functional.alpha_dropout(input, p, train)``."""
    return _F().alpha_dropout(input, p, train)


def feature_alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """``torch.feature_alpha_dropout``: ``nn.functional.feature_alpha_dropout``."""
    return _F().feature_alpha_dropout(input, p, train)


def layer_norm(input: Tensor, normalized_shape, weight=None, bias=None, eps: float = 1e-5,
               cudnn_enable: bool = True) -> Tensor:
    """``torch.layer_norm``: ``nn.functional.layer_norm``."""
    return _F().layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input: Tensor, num_groups: int, weight=None, bias=None, eps: float = 1e-5,
               cudnn_enabled: bool = True) -> Tensor:
    """``torch.group_norm``: ``nn.functional.group_norm``."""
    return _F().group_norm(input, num_groups, weight, bias, eps)


def batch_norm(input: Tensor, weight, bias, running_mean, running_var, training: bool,
               momentum: float, eps: float, cudnn_enabled: bool = True) -> Tensor:
    """``torch.batch_norm`` (weight and bias first): ``nn.functional.batch_norm``."""
    return _F().batch_norm(input, running_mean, running_var, weight, bias, training, momentum,
                           eps)


def instance_norm(input: Tensor, weight, bias, running_mean, running_var,
                  use_input_stats: bool, momentum: float, eps: float,
                  cudnn_enabled: bool = True) -> Tensor:
    """``torch.instance_norm`` (weight and bias first): ``nn.functional.instance_norm``."""
    return _F().instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                              momentum, eps)


def rms_norm(input: Tensor, normalized_shape, weight=None, eps=None) -> Tensor:
    """``torch.rms_norm``: ``nn.functional.rms_norm``."""
    return _F().rms_norm(input, normalized_shape, weight, eps)


def selu(input: Tensor) -> Tensor:
    """``torch.selu``: ``nn.functional.selu``."""
    return _F().selu(input)


def celu(input: Tensor, alpha: float = 1.0) -> Tensor:
    """``torch.celu``: ``nn.functional.celu``."""
    return _F().celu(input, alpha)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``torch.prelu``: ``nn.functional.prelu``."""
    return _F().prelu(input, weight)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
          training: bool = False, generator=None) -> Tensor:
    """``torch.rrelu``: ``nn.functional.rrelu`` (the default generator only)."""
    return _F().rrelu(input, lower, upper, training)


def threshold(input: Tensor, threshold: float, value: float) -> Tensor:
    """``torch.threshold``: ``nn.functional.threshold``."""
    return _F().threshold(input, threshold, value)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``torch.hardshrink``: ``nn.functional.hardshrink``."""
    return _F().hardshrink(input, lambd)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``torch.cosine_similarity``: ``nn.functional.cosine_similarity``."""
    return _F().cosine_similarity(x1, x2, dim, eps)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """``torch.pairwise_distance``: ``nn.functional.pairwise_distance``."""
    return _F().pairwise_distance(x1, x2, p, eps, keepdim)


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """``torch.pdist``: ``nn.functional.pdist``."""
    return _F().pdist(input, p)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias=None) -> Tensor:
    """``torch.bilinear``: ``nn.functional.bilinear``."""
    return _F().bilinear(input1, input2, weight, bias)


TENSOR_METHODS.update({"softmax": softmax, "log_softmax": log_softmax,
                       "hardshrink": hardshrink, "prelu": prelu})
