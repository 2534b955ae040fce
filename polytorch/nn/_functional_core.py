"""nn.functional: activations, softmax, linear, dropout, normalization, embedding, distances.

Everything here is composed from polytorch ops (gradients for free); the few
primitives that buy stability live in ``polytorch/ops/nn.py`` (Note [Why these
are primitives]). Signatures and errors follow ``torch.nn.functional``.

Note [In-place activations]
``inplace=True`` computes the result out of place (from a snapshot of the input
when the gradient reads it) and commits it into the input, as the Tensor's own
in-place methods do (Note [In-place ops on immutable arrays]); so it works on
JAX, keeps PyTorch's leaf checks, and backward sees the old values.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _dtype as D
from .._creation import arange, full, zeros
from .._tensor import Tensor
from .._tensor_methods import _inplace, _self_requires_grad
from ..autograd import no_grad
from ..ops import elementwise as E
from ..ops import indexing as I
from ..ops import linalg as L
from ..ops import nn as NN
from ..ops import random as RNG
from ..ops import reduction as R
from ..ops import shape as S
from ..ops import sorting as SO
from ..ops.nn import _softmax_input

__all__ = [
    # linear
    "linear", "bilinear",
    # activations
    "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "prelu", "rrelu", "rrelu_", "elu",
    "elu_", "selu", "selu_", "celu", "celu_", "gelu", "silu", "mish", "softplus", "softsign",
    "softshrink", "hardshrink", "tanhshrink", "tanh", "sigmoid", "hardtanh", "hardtanh_",
    "hardswish", "hardsigmoid", "logsigmoid", "threshold", "threshold_", "glu",
    # softmax
    "softmax", "log_softmax", "softmin",
    # dropout
    "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
    # normalization
    "batch_norm", "instance_norm", "layer_norm", "group_norm", "rms_norm",
    "local_response_norm", "normalize",
    # embeddings and encodings
    "embedding", "embedding_bag", "one_hot",
    # distances
    "cosine_similarity", "pairwise_distance", "pdist",
]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _in_place(name: str, fn, input: Tensor, *args) -> Tensor:
    """``fn(input, *args)`` written into ``input`` (Note [In-place activations])."""
    return _inplace(name, fn, _self_requires_grad)(input, *args)


def _tensor(x, name: str, what: str = "input") -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{what}' must be Tensor, not {type(x).__name__}")
    return x


# -- linear ----------------------------------------------------------------------------------


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``.

    Example:
        >>> F.linear(polytorch.ones(2, 3), polytorch.ones(4, 3)).shape
        polytorch.Size([2, 4])
    """
    _tensor(input, "linear")
    _tensor(weight, "linear", "weight")
    in_features = weight._data.shape[-1]
    if input.ndim == 0 or input._data.shape[-1] != in_features:
        raise RuntimeError(
            f"linear(): input's last dimension must equal weight's in_features "
            f"(weight.shape[-1] = {in_features}); got input of shape {list(input.shape)} and "
            f"weight of shape {list(weight.shape)}"
        )
    wt = S.t(weight) if weight.ndim == 2 else weight
    if bias is not None and input.ndim == 2 and weight.ndim == 2:
        return L.addmm(bias, input, wt)
    out = L.matmul(input, wt)
    return out if bias is None else out + bias


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None
             ) -> Tensor:
    """``y[..., o] = sum_ij input1[..., i] * weight[o, i, j] * input2[..., j] + bias[o]``.

    Example:
        >>> F.bilinear(polytorch.ones(2, 3), polytorch.ones(2, 4), polytorch.ones(5, 3, 4)).shape
        polytorch.Size([2, 5])
    """
    if weight.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must be 3-D (out, in1, in2), got {weight.ndim}-D")
    o, i, j = weight.shape
    if input1.ndim == 0 or input1.shape[-1] != i or input2.ndim == 0 or input2.shape[-1] != j \
            or input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(
            f"bilinear(): expected input1 of shape [*, {i}] and input2 of shape [*, {j}] with the "
            f"same leading dimensions (weight of shape {list(weight.shape)}), but got "
            f"{list(input1.shape)} and {list(input2.shape)}"
        )
    lead = tuple(input1.shape[:-1])
    x1 = S.reshape(input1, (-1, i))
    x2 = S.reshape(input2, (-1, j))
    # (O, N, J): x1 through each output's matrix, then a dot with x2 per row.
    t = L.matmul(S.unsqueeze(x1, 0), weight)
    out = S.t(R.sum(t * x2, -1))
    if bias is not None:
        out = out + bias
    return S.reshape(out, lead + (o,))


# -- activations -----------------------------------------------------------------------------


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(input, 0)``.

    Example:
        >>> F.relu(polytorch.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """
    return input.relu_() if inplace else E.relu(input)


def relu_(input: Tensor) -> Tensor:
    """In-place ``relu``."""
    return input.relu_()


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False
             ) -> Tensor:
    """``input`` clamped to ``[min_val, max_val]``.

    Example:
        >>> F.hardtanh(polytorch.tensor([-2.0, 0.5, 2.0]))
        tensor([-1.0000,  0.5000,  1.0000])
    """
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val "
                         f"({max_val})")
    if inplace:
        return input.clamp_(min_val, max_val)
    return E.clamp(input, min_val, max_val)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place ``hardtanh``."""
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(input, 0), 6)``.

    Example:
        >>> F.relu6(polytorch.tensor([-1.0, 7.0]))
        tensor([0., 6.])
    """
    return hardtanh(input, 0.0, 6.0, inplace)


def _leaky_relu(input, negative_slope):
    return E.where(input > 0, input, input * negative_slope)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``input`` where positive, else ``negative_slope * input``.

    Example:
        >>> F.leaky_relu(polytorch.tensor([-1.0, 2.0]), 0.1)
        tensor([-0.1000,  2.0000])
    """
    if inplace:
        return _in_place("leaky_relu_", _leaky_relu, input, negative_slope)
    return _leaky_relu(input, negative_slope)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place ``leaky_relu``."""
    return leaky_relu(input, negative_slope, inplace=True)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``input`` where positive, else ``weight * input``, one learned slope per channel (dim 1).

    Example:
        >>> F.prelu(polytorch.tensor([[-1.0, 2.0]]), polytorch.tensor([0.25]))
        tensor([[-0.2500,  2.0000]])
    """
    n = weight.numel()
    if n != 1:
        channels = input.shape[1] if input.ndim >= 2 else (input.shape[0] if input.ndim else 1)
        if weight.ndim != 1 or n != channels:
            raise RuntimeError(
                f"prelu: mismatch of parameter numbers and input channel size. Found parameter "
                f"numbers = {n} and channel size = {channels}."
            )
        if input.ndim >= 2:
            weight = S.reshape(weight, (n,) + (1,) * (input.ndim - 2))
    elif weight.ndim:
        weight = S.reshape(weight, ())
    return E.where(input > 0, input, weight * input)


def _rrelu(input, lower, upper, training):
    if not training:
        return _leaky_relu(input, (lower + upper) / 2)
    slope = RNG.rand(tuple(input.shape), dtype=input._dtype, device=input._device)
    return E.where(input >= 0, input, input * (slope * (upper - lower) + lower))


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Randomized leaky ReLU: slopes uniform in ``[lower, upper]`` in training, their mean else.

    Example:
        >>> F.rrelu(polytorch.tensor([-1.0, 2.0]), 0.2, 0.4)
        tensor([-0.3000,  2.0000])
    """
    if inplace:
        return _in_place("rrelu_", _rrelu, input, lower, upper, training)
    return _rrelu(input, lower, upper, training)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False
           ) -> Tensor:
    """In-place ``rrelu``."""
    return rrelu(input, lower, upper, training, inplace=True)


def _elu(input, alpha, scale=1.0, input_scale=1.0):
    # expm1 of min(x, 0): the unused branch never overflows (no inf * 0 in the gradient).
    neg = E.expm1(E.clamp_max(input, 0.0) if input_scale == 1.0
                  else E.clamp_max(input, 0.0) * input_scale) * (alpha * scale)
    pos = input if scale == 1.0 else input * scale
    return E.where(input > 0, pos, neg)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``input`` where positive, else ``alpha * (exp(input) - 1)``.

    Example:
        >>> F.elu(polytorch.tensor([0.0, 1.0]))
        tensor([0., 1.])
    """
    if inplace:
        return _in_place("elu_", _elu, input, alpha)
    return _elu(input, alpha)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place ``elu``."""
    return elu(input, alpha, inplace=True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """``scale * elu(input, alpha)`` with the self-normalizing constants.

    Example:
        >>> F.selu(polytorch.tensor([1.0]))
        tensor([1.0507])
    """
    if inplace:
        return _in_place("selu_", _elu, input, _SELU_ALPHA, _SELU_SCALE)
    return _elu(input, _SELU_ALPHA, _SELU_SCALE)


def selu_(input: Tensor) -> Tensor:
    """In-place ``selu``."""
    return selu(input, inplace=True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``.

    Example:
        >>> F.celu(polytorch.tensor([1.0]))
        tensor([1.])
    """
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: celu's alpha must not be 0")
    if inplace:
        return _in_place("celu_", _elu, input, alpha, 1.0, 1.0 / alpha)
    return _elu(input, alpha, 1.0, 1.0 / alpha)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place ``celu``."""
    return celu(input, alpha, inplace=True)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit: ``x * Phi(x)`` (``approximate="tanh"``: the tanh formula).

    Example:
        >>> F.gelu(polytorch.tensor([0.0, 1.0]))
        tensor([0.0000, 0.8413])
    """
    if approximate not in ("none", "tanh"):
        raise RuntimeError(
            f"approximate argument must be either none or tanh, got {approximate!r}")
    _tensor(input, "gelu")
    if input._dtype.kind != "f":
        raise RuntimeError(f"\"GeluKernelImpl\" not implemented for '{input._dtype.name}'")
    return NN.gelu_op(input, approximate=approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``input * sigmoid(input)`` (swish).

    Example:
        >>> F.silu(polytorch.tensor([0.0]))
        tensor([0.])
    """
    if inplace:
        return _in_place("silu_", lambda x: x * E.sigmoid(x), input)
    return input * E.sigmoid(input)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``.

    Example:
        >>> F.softplus(polytorch.tensor([0.0]))
        tensor([0.6931])
    """
    _tensor(input, "softplus")
    if input._dtype.kind != "f":
        raise NotImplementedError(f"\"softplus\" not implemented for '{input._dtype.name}'")
    return NN.softplus_op(input, beta=float(beta), threshold=float(threshold))


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``input * tanh(softplus(input))``.

    Example:
        >>> F.mish(polytorch.tensor([0.0]))
        tensor([0.])
    """
    def fn(x):
        return x * E.tanh(softplus(x))

    return _in_place("mish_", fn, input) if inplace else fn(input)


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(input))``, without overflow.

    Example:
        >>> F.logsigmoid(polytorch.tensor([0.0]))
        tensor([-0.6931])
    """
    _tensor(input, "logsigmoid")
    if input._dtype.kind != "f":
        raise NotImplementedError(f"\"log_sigmoid\" not implemented for '{input._dtype.name}'")
    return NN.log_sigmoid_op(input)


def softsign(input: Tensor) -> Tensor:
    """``input / (1 + |input|)``.

    Example:
        >>> F.softsign(polytorch.tensor([1.0]))
        tensor([0.5000])
    """
    return input / (E.abs(input) + 1.0)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0.

    Example:
        >>> F.softshrink(polytorch.tensor([-1.0, 0.2, 1.0]))
        tensor([-0.5000,  0.0000,  0.5000])
    """
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return input - E.clamp(input, -lambd, lambd)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``input`` where ``|input| > lambd``, else 0.

    Example:
        >>> F.hardshrink(polytorch.tensor([-1.0, 0.2]))
        tensor([-1.,  0.])
    """
    return E.where(E.abs(input) > lambd, input, 0.0)


def tanhshrink(input: Tensor) -> Tensor:
    """``input - tanh(input)``.

    Example:
        >>> F.tanhshrink(polytorch.tensor([0.0]))
        tensor([0.])
    """
    return input - E.tanh(input)


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent.

    Example:
        >>> F.tanh(polytorch.tensor([0.0]))
        tensor([0.])
    """
    return E.tanh(input)


def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + exp(-input))``.

    Example:
        >>> F.sigmoid(polytorch.tensor([0.0]))
        tensor([0.5000])
    """
    return E.sigmoid(input)


def _hardsigmoid(input):
    return E.clamp(input * (1.0 / 6.0) + 0.5, 0.0, 1.0)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``relu6(input + 3) / 6``.

    Example:
        >>> F.hardsigmoid(polytorch.tensor([0.0]))
        tensor([0.5000])
    """
    return _in_place("hardsigmoid_", _hardsigmoid, input) if inplace else _hardsigmoid(input)


def _hardswish(input):
    return input * _hardsigmoid(input)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``input * relu6(input + 3) / 6``.

    Example:
        >>> F.hardswish(polytorch.tensor([1.0]))
        tensor([0.6667])
    """
    return _in_place("hardswish_", _hardswish, input) if inplace else _hardswish(input)


def _threshold(input, threshold, value):
    return E.where(input > threshold, input, value)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``input`` where above ``threshold``, else ``value``.

    Example:
        >>> F.threshold(polytorch.tensor([0.5, 2.0]), 1.0, -1.0)
        tensor([-1.,  2.])
    """
    if inplace:
        return _in_place("threshold_", _threshold, input, threshold, value)
    return _threshold(input, threshold, value)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place ``threshold``."""
    return _threshold_inplace(input, threshold, value)


def _threshold_inplace(input, threshold_value, value):
    return threshold(input, threshold_value, value, inplace=True)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: ``a * sigmoid(b)`` for the halves ``a, b`` of ``input`` along ``dim``.

    Example:
        >>> F.glu(polytorch.tensor([1.0, 0.0]))
        tensor([0.5000])
    """
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = dim % input.ndim if -input.ndim <= dim < input.ndim else dim
    if not 0 <= d < input.ndim:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-input.ndim}, "
            f"{input.ndim - 1}], but got {dim})"
        )
    size = input.shape[d]
    if size % 2:
        raise RuntimeError(
            f"Halving dimension must be even, but dimension {d} is size {size}")
    a = S.narrow(input, d, 0, size // 2)
    b = S.narrow(input, d, size // 2, size // 2)
    return a * E.sigmoid(b)


# -- softmax ---------------------------------------------------------------------------------


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: D.dtype | None = None) -> Tensor:
    """Softmax along ``dim`` (``dtype`` casts the input first), computed without overflow.

    Example:
        >>> F.softmax(polytorch.tensor([0.0, 0.0]), dim=0)
        tensor([0.5000, 0.5000])
    """
    input, dim = _softmax_input(input, dim, dtype, "softmax")
    return NN._on_0d(NN.softmax_op, input, dim)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype: D.dtype | None = None) -> Tensor:
    """``log(softmax(input, dim))``, computed without overflow.

    Example:
        >>> F.log_softmax(polytorch.tensor([0.0, 0.0]), dim=0)
        tensor([-0.6931, -0.6931])
    """
    input, dim = _softmax_input(input, dim, dtype, "log_softmax")
    return NN._on_0d(NN.log_softmax_op, input, dim)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: D.dtype | None = None) -> Tensor:
    """``softmax(-input, dim)``.

    Example:
        >>> F.softmin(polytorch.tensor([0.0, 0.0]), dim=0)
        tensor([0.5000, 0.5000])
    """
    input, dim = _softmax_input(input, dim, dtype, "softmin")
    return NN._on_0d(NN.softmax_op, E.neg(input), dim)


# -- dropout ---------------------------------------------------------------------------------


def _check_p(p) -> float:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    return float(p)


def _keep_mask(input: Tensor, p: float, shape) -> Tensor:
    """A bool mask of ``shape``: True with probability ``1 - p`` (polytorch's generator)."""
    dt = input._dtype if input._dtype in (D.float32, D.float64) else D.float32
    return RNG.rand(tuple(shape), dtype=dt, device=input._device) < (1.0 - p)


def _dropout(input, p, shape):
    if p == 1.0:
        return input * 0.0
    return E.where(_keep_mask(input, p, shape), input * (1.0 / (1.0 - p)), 0.0)


def _alpha_dropout(input, p, shape):
    if p == 1.0:
        return input * 0.0
    # PyTorch's constants: keep the SELU fixed point (mean 0, variance 1).
    alpha = 1.7580993408473766
    a = 1.0 / math.sqrt((alpha * alpha * p + 1) * (1 - p))
    keep = _keep_mask(input, p, shape).to(input._dtype)
    return input * (keep * a) + (keep * (alpha * a) + (alpha * a * p - alpha * a))


def _run_dropout(name, fn, input, p, training, inplace, shape):
    p = _check_p(p)
    _tensor(input, name)
    if not training or p == 0.0:
        return input
    if inplace:
        return _inplace(name + "_", fn, None)(input, p, shape)
    return fn(input, p, shape)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
            ) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    Example:
        >>> F.dropout(polytorch.ones(3), 0.5, training=False)
        tensor([1., 1., 1.])
    """
    return _run_dropout("dropout", _dropout, input, p, training, inplace,
                        tuple(getattr(input, "shape", ())))


def _feature_shape(input: Tensor, batched: bool) -> tuple:
    shape = tuple(input.shape)
    if batched:
        return shape[:2] + (1,) * (len(shape) - 2)
    return shape[:1] + (1,) * (len(shape) - 1)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
              ) -> Tensor:
    """Zero whole channels of a ``(N, C, L)`` or ``(C, L)`` input with probability ``p``.

    Example:
        >>> F.dropout1d(polytorch.ones(2, 3), training=False).shape
        polytorch.Size([2, 3])
    """
    _check_p(p)
    if _tensor(input, "dropout1d").ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
            f"dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
            f"dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
            f"inputs)."
        )
    return _run_dropout("dropout1d", _dropout, input, p, training, inplace,
                        _feature_shape(input, input.ndim == 3))


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
              ) -> Tensor:
    """Zero whole channels of a ``(N, C, H, W)`` input with probability ``p``.

    Example:
        >>> F.dropout2d(polytorch.ones(1, 2, 3, 3), training=False).shape
        polytorch.Size([1, 2, 3, 3])
    """
    _check_p(p)
    nd = _tensor(input, "dropout2d").ndim
    if nd not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {nd}-D input to dropout2d, which is deprecated and will "
            f"result in an error in a future release. To retain the behavior and silence this "
            f"warning, please use dropout instead. Note that dropout2d exists to provide "
            f"channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, and "
            f"an optional batch dimension (i.e. 3D or 4D inputs).", UserWarning, stacklevel=2)
    if nd == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            UserWarning, stacklevel=2)
    return _run_dropout("dropout2d", _dropout, input, p, training, inplace,
                        _feature_shape(input, nd >= 2))


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
              ) -> Tensor:
    """Zero whole channels of a ``(N, C, D, H, W)`` or ``(C, D, H, W)`` input.

    Example:
        >>> F.dropout3d(polytorch.ones(1, 2, 2, 2, 2), training=False).shape
        polytorch.Size([1, 2, 2, 2, 2])
    """
    _check_p(p)
    nd = _tensor(input, "dropout3d").ndim
    if nd not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {nd}-D input to dropout3d, which is deprecated and will "
            f"result in an error in a future release. To retain the behavior and silence this "
            f"warning, please use dropout instead. Note that dropout3d exists to provide "
            f"channel-wise dropout on inputs with 3 spatial dimensions, a channel dimension, and "
            f"an optional batch dimension (i.e. 4D or 5D inputs).", UserWarning, stacklevel=2)
    return _run_dropout("dropout3d", _dropout, input, p, training, inplace,
                        _feature_shape(input, nd != 4))


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False
                  ) -> Tensor:
    """Dropout that keeps a SELU network's mean and variance (dropped values go to the
    saturation value, then an affine map restores the statistics).

    Example:
        >>> F.alpha_dropout(polytorch.ones(3), 0.5)
        tensor([1., 1., 1.])
    """
    return _run_dropout("alpha_dropout", _alpha_dropout, input, p, training, inplace,
                        tuple(getattr(input, "shape", ())))


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """``alpha_dropout`` of whole channels (dim 1).

    Example:
        >>> F.feature_alpha_dropout(polytorch.ones(2, 3), 0.5).shape
        polytorch.Size([2, 3])
    """
    return _run_dropout("feature_alpha_dropout", _alpha_dropout, input, p, training, inplace,
                        _feature_shape(input, True) if isinstance(input, Tensor) else ())


# -- normalization ---------------------------------------------------------------------------


def _channel_view(t: Tensor | None, ndim: int) -> Tensor | None:
    """A per-channel vector shaped to broadcast along dim 1 of an ``ndim``-D input."""
    if t is None or ndim <= 2:
        return t
    return S.reshape(t, (t.shape[0],) + (1,) * (ndim - 2))


def _variance(rstd: Tensor, eps: float) -> Tensor:
    """The biased variance back from ``rstd = 1 / sqrt(var + eps)`` (for running statistics)."""
    with no_grad():
        return E.reciprocal(rstd * rstd) - eps


def _update_running(running: Tensor, stat: Tensor, momentum: float) -> None:
    with no_grad():
        stat = stat.detach()
        if stat._dtype is not running._dtype:
            stat = stat.to(running._dtype)
        running.mul_(1.0 - momentum).add_(stat * momentum)


def _affine(out, weight, bias, ndim):
    if weight is not None:
        out = out * _channel_view(weight, ndim)
    if bias is not None:
        out = out + _channel_view(bias, ndim)
    return out


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel (dim 1) by batch statistics (training) or running ones (eval).

    In training, ``running_mean`` and ``running_var`` (the unbiased batch
    variance) are updated in place: ``r = (1 - momentum) * r + momentum * stat``.

    Example:
        >>> x = polytorch.tensor([[1.0], [3.0]])
        >>> F.batch_norm(x, None, None, training=True, eps=0.0)
        tensor([[-1.],
                [ 1.]])
    """
    _tensor(input, "batch_norm")
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected at least 2D input (got {input.ndim}D input)")
    c = input._data.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (c,):
            raise RuntimeError(
                f"batch_norm: expected {name} to have shape [{c}] (the input's {c} channels), "
                f"but got {list(t.shape)}"
            )
    nd = input.ndim
    if training or running_mean is None or running_var is None:
        count = input.numel() // c if c else 0
        if training and count <= 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size "
                f"{input.shape}"
            )
        dims = (0,) + tuple(range(2, nd))
        out, mean, rstd = NN.standardize_op(input, dims=dims, eps=float(eps))
        if training:
            if running_mean is not None:
                _update_running(running_mean, S.reshape(mean, (c,)), momentum)
            if running_var is not None:
                unbiased = _variance(rstd, eps) * (count / (count - 1))
                _update_running(running_var, S.reshape(unbiased, (c,)), momentum)
        return _affine(out, weight, bias, nd)
    # Eval: fold the statistics into one scale and shift per channel (two passes over input).
    scale = E.rsqrt(running_var + eps)
    if weight is not None:
        scale = scale * weight
    shift = -running_mean * scale
    if bias is not None:
        shift = shift + bias
    if input._dtype is not scale._dtype:
        scale, shift = scale.to(input._dtype), shift.to(input._dtype)
    return input * _channel_view(scale, nd) + _channel_view(shift, nd)


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel of each sample over its spatial dims.

    Example:
        >>> F.instance_norm(polytorch.tensor([[[1.0, 3.0]]]), eps=0.0)
        tensor([[[-1.,  1.]]])
    """
    _tensor(input, "instance_norm")
    if input.ndim < 3:
        raise ValueError(
            f"instance_norm: expected at least 3D input (N, C, *), got {input.ndim}D input")
    nd = input.ndim
    c = input._data.shape[1]
    dims = tuple(range(2, nd))
    count = math.prod(input._data.shape[2:])
    if use_input_stats or running_mean is None or running_var is None:
        if use_input_stats and count <= 1:
            raise ValueError(
                f"Expected more than 1 spatial element when training, got input size "
                f"{input.shape}"
            )
        out, mean, rstd = NN.standardize_op(input, dims=dims, eps=float(eps))
        if use_input_stats and running_mean is not None:
            _update_running(running_mean, R.mean(S.reshape(mean, (-1, c)), 0), momentum)
        if use_input_stats and running_var is not None:
            var = S.reshape(_variance(rstd, eps), (-1, c))
            _update_running(running_var, R.mean(var, 0) * (count / (count - 1)), momentum)
    else:
        out = (input - _channel_view(running_mean, nd)) * \
            _channel_view(E.rsqrt(running_var + eps), nd)
    return _affine(out, weight, bias, nd)


def _normalized_dims(input: Tensor, normalized_shape, name: str) -> tuple[int, ...]:
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(int(s) for s in normalized_shape)
    k = len(normalized_shape)
    if k == 0 or tuple(input.shape[input.ndim - k:]) != normalized_shape or input.ndim < k:
        shape = ", ".join(map(str, normalized_shape))
        raise RuntimeError(
            f"{name}: Given normalized_shape=[{shape}], expected input with shape "
            f"[*, {shape}], but got input of size{list(input.shape)}"
        )
    return tuple(range(input.ndim - k, input.ndim))


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalize over the trailing ``normalized_shape`` dims, then scale and shift.

    Example:
        >>> F.layer_norm(polytorch.tensor([[1.0, 3.0]]), (2,), eps=0.0)
        tensor([[-1.,  1.]])
    """
    dims = _normalized_dims(_tensor(input, "layer_norm"), normalized_shape, "layer_norm")
    out = NN.standardize_op(input, dims=dims, eps=float(eps))[0]
    if weight is not None:
        out = out * weight
    return out if bias is None else out + bias


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalize each group of ``C // num_groups`` channels of each sample.

    Example:
        >>> F.group_norm(polytorch.tensor([[1.0, 3.0]]), 1, eps=0.0)
        tensor([[-1.,  1.]])
    """
    _tensor(input, "group_norm")
    if input.ndim < 2:
        raise RuntimeError(
            f"group_norm: Expected at least 2 dimensions for input tensor but received "
            f"{input.ndim}")
    shape = tuple(input.shape)
    n, c = shape[:2]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(
            f"Expected number of channels in input to be divisible by num_groups, but got input "
            f"of shape {list(shape)} and num_groups={num_groups}"
        )
    g = S.reshape(input, (n, num_groups, -1))
    out = S.reshape(NN.standardize_op(g, dims=(2,), eps=float(eps))[0], shape)
    return _affine(out, weight, bias, len(shape))


_EPS = {D.float16: 0.0009765625, D.bfloat16: 0.0078125, D.float32: 1.1920928955078125e-07,
        D.float64: 2.220446049250313e-16}


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """``input / sqrt(mean(input ** 2) + eps) * weight`` over the trailing dims.

    ``eps=None`` is the machine epsilon of the input's dtype.

    Example:
        >>> F.rms_norm(polytorch.tensor([[3.0, 4.0]]), (2,), eps=0.0)
        tensor([[0.8485, 1.1314]])
    """
    dims = _normalized_dims(_tensor(input, "rms_norm"), normalized_shape, "rms_norm")
    if eps is None:
        eps = _EPS.get(input._dtype, _EPS[D.float32])
    out = input * E.rsqrt(R.mean(input * input, dims, keepdim=True) + eps)
    return out if weight is None else out * weight


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """Divide by ``(k + alpha * mean of squares over size neighbouring channels) ** beta``.

    Example:
        >>> F.local_response_norm(polytorch.ones(1, 2, 2), 2).shape
        polytorch.Size([1, 2, 2])
    """
    nd = _tensor(input, "local_response_norm").ndim
    if nd < 3:
        raise ValueError(
            f"Expected 3D or higher dimensionality input (got {nd} dimensions)")
    if input.numel() == 0:
        return input
    shape = tuple(input.shape)
    sq = input * input
    before, after = size // 2, (size - 1) // 2
    pad = [t for t in (zeros((shape[0], before) + shape[2:], dtype=input._dtype,
                             device=input._device) if before else None,
                       sq,
                       zeros((shape[0], after) + shape[2:], dtype=input._dtype,
                             device=input._device) if after else None) if t is not None]
    padded = S.cat(pad, 1) if len(pad) > 1 else sq
    c = shape[1]
    total = S.narrow(padded, 1, 0, c)
    for i in range(1, size):
        total = total + S.narrow(padded, 1, i, c)
    div = E.pow(total * (alpha / size) + k, beta)
    return input / div


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Tensor | None = None) -> Tensor:
    """``input / max(||input||_p, eps)`` along ``dim``.

    Example:
        >>> F.normalize(polytorch.tensor([[3.0, 4.0]]))
        tensor([[0.6000, 0.8000]])
    """
    denom = E.clamp_min(R.norm(_tensor(input, "normalize"), p, dim, keepdim=True), eps)
    result = input / denom
    if out is not None:
        return out.copy_(result)
    return result


# -- embeddings ------------------------------------------------------------------------------


def _padding_index(padding_idx, n: int) -> int:
    if padding_idx is None:
        return -1
    if padding_idx >= n or padding_idx < -n:
        raise AssertionError(
            f"Padding_idx must be within num_embeddings (padding_idx={padding_idx}, "
            f"num_embeddings={n})")
    return padding_idx % n


def _renorm_rows(weight: Tensor, input: Tensor, max_norm: float, norm_type: float) -> None:
    """Rescale in place the rows of ``weight`` that ``input`` reads to norm <= ``max_norm``."""
    with no_grad():
        rows = SO.unique(S.reshape(input, (-1,)))
        picked = I.index_select(weight, 0, rows)
        norms = R.norm(picked, norm_type, 1, keepdim=True)
        scale = E.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        weight.index_copy_(0, rows, picked * scale)


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """The rows of ``weight`` at the integer indices ``input``.

    ``padding_idx``'s row gets no gradient; ``max_norm`` renormalizes the rows
    read, in place; ``scale_grad_by_freq`` divides gradients by index counts.
    ``sparse`` gradients are computed densely.

    Example:
        >>> w = polytorch.arange(6.0).reshape(3, 2)
        >>> F.embedding(polytorch.tensor([2, 0]), w)
        tensor([[4., 5.],
                [0., 1.]])
    """
    _tensor(weight, "embedding", "weight")
    if weight.ndim != 2:
        raise RuntimeError(f"embedding(): 'weight' must be 2-D, but got {weight.ndim}-D")
    pad = _padding_index(padding_idx, weight._data.shape[0])
    if max_norm is not None:
        NN.embedding(weight.detach(), input)  # bounds check before the write
        _renorm_rows(weight, input, max_norm, norm_type)
    return NN.embedding(weight, input, pad, scale_grad_by_freq)


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None,
                  max_norm: float | None = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """Sums, means or maxima of bags of embeddings (rows of a 2-D ``input``, or the slices of a
    1-D ``input`` that start at ``offsets``).

    Example:
        >>> w = polytorch.arange(6.0).reshape(3, 2)
        >>> F.embedding_bag(polytorch.tensor([[0, 2]]), w, mode="sum")
        tensor([[4., 6.]])
    """
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max, but got {mode!r}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}').")
    dev = weight._device
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(
                "if input is 2D, then offsets has to be None, as input is treated is a "
                "mini-batch of fixed length sequences. However, found offsets of type Tensor")
        b, n = input.shape
        flat = S.reshape(input, (-1,))
        bag = S.reshape(S.expand(S.unsqueeze(arange(b, device=dev), 1), (b, n)), (-1,))
        valid = None
    elif input.ndim == 1:
        if offsets is None or offsets.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor but got "
                             + ("None" if offsets is None else f"{offsets.ndim}D"))
        flat = input
        starts = S.narrow(offsets, 0, 0, offsets.shape[0] - 1) if include_last_offset \
            else offsets
        b = starts.shape[0]
        pos = arange(flat.shape[0], device=dev)
        bag = I.searchsorted(starts, pos, right=True) - 1
        valid = bag >= 0
        if include_last_offset:
            valid = valid & (pos < S.narrow(offsets, 0, offsets.shape[0] - 1, 1))
        bag = E.clamp(bag, 0, max(b - 1, 0))
    else:
        raise ValueError(
            f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.ndim}")
    if per_sample_weights is not None and tuple(per_sample_weights.shape) != tuple(input.shape):
        raise ValueError(
            f"embedding_bag: per_sample_weights must have the input's shape "
            f"{list(input.shape)}, but got {list(per_sample_weights.shape)}")
    rows = embedding(flat, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq)
    if padding_idx is not None:
        keep = flat != _padding_index(padding_idx, weight._data.shape[0])
        valid = keep if valid is None else valid & keep
    d = weight._data.shape[1]
    if mode == "max":
        if valid is not None:
            rows = E.where(S.unsqueeze(valid, 1), rows, -math.inf)
        base = full((b, d), -math.inf, dtype=weight._dtype, device=dev)
        idx = S.expand(S.unsqueeze(bag, 1), tuple(rows.shape))
        out = I.scatter_reduce(base, 0, idx, rows, "amax", include_self=False)
        return E.where(E.isinf(out) & (out < 0), 0.0, out)
    if per_sample_weights is not None:
        rows = rows * S.unsqueeze(S.reshape(per_sample_weights, (-1,)), 1)
    if valid is not None:
        rows = E.where(S.unsqueeze(valid, 1), rows, 0.0)
    out = zeros((b, d), dtype=weight._dtype, device=dev).index_add(0, bag, rows)
    if mode == "sum":
        return out
    ones = E.where(valid, 1.0, 0.0) if valid is not None else \
        full((flat.shape[0],), 1.0, dtype=weight._dtype, device=dev)
    ones = ones.to(weight._dtype)
    counts = zeros((b,), dtype=weight._dtype, device=dev).index_add(0, bag, ones)
    return out / S.unsqueeze(E.clamp_min(counts, 1.0), 1)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """``int64`` one-hot encoding of integer class indices (a new last dimension).

    ``num_classes=-1`` infers ``max + 1`` from the data.

    Example:
        >>> F.one_hot(polytorch.tensor([0, 2]), 3)
        tensor([[1, 0, 0],
                [0, 0, 1]])
    """
    if not isinstance(tensor, Tensor) or tensor._dtype is not D.int64:
        raise RuntimeError(
            "one_hot is only applicable to index tensor of type LongTensor (int64), got "
            + (tensor._dtype.name if isinstance(tensor, Tensor) else type(tensor).__name__))
    if tensor.numel() == 0:
        if num_classes == -1:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
    else:
        lo, hi = S.stack([R.amin(tensor), R.amax(tensor)]).tolist()
        if lo < 0:
            raise RuntimeError(f"Class values must be non-negative (got {lo}).")
        if num_classes == -1:
            num_classes = hi + 1
        elif hi >= num_classes:
            raise RuntimeError(
                f"Class values must be smaller than num_classes (got {hi} with "
                f"num_classes={num_classes}).")
    classes = arange(num_classes, device=tensor._device)
    return (S.unsqueeze(tensor, -1) == classes).to(D.int64)


# -- distances -------------------------------------------------------------------------------


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim`` (norms clamped to ``eps``).

    Example:
        >>> F.cosine_similarity(polytorch.tensor([[1.0, 0.0]]), polytorch.tensor([[1.0, 1.0]]))
        tensor([0.7071])
    """
    if x1.shape != x2.shape:
        x1, x2 = S.broadcast_tensors(x1, x2)
    n1 = E.clamp_min(R.norm(x1, 2, dim, keepdim=True), eps)
    n2 = E.clamp_min(R.norm(x2, 2, dim, keepdim=True), eps)
    return R.sum((x1 / n1) * (x2 / n2), dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """``||x1 - x2 + eps||_p`` along the last dimension.

    Example:
        >>> F.pairwise_distance(polytorch.tensor([[0.0, 0.0]]), polytorch.tensor([[3.0, 4.0]]),
        ...                     eps=0.0)
        tensor([5.])
    """
    nd = max(x1.ndim, x2.ndim)
    diff = x1 - x2 + eps
    if nd == 0:
        return E.abs(diff)
    return R.norm(diff, p, nd - 1, keepdim=keepdim)


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """The ``p``-norm distances between all pairs ``i < j`` of rows of the 2-D ``input``.

    Example:
        >>> F.pdist(polytorch.tensor([[0.0, 0.0], [3.0, 4.0]]))
        tensor([5.])
    """
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    i, j = np.triu_indices(input.shape[0], 1)
    dev = input._device
    from .._creation import tensor as _as_tensor

    a = I.index_select(input, 0, _as_tensor(i.astype(np.int64), device=dev))
    b = I.index_select(input, 0, _as_tensor(j.astype(np.int64), device=dev))
    return R.norm(a - b, p, 1)
