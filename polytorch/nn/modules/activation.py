"""Activation modules (and MultiheadAttention, which PyTorch keeps here too).

Each module stores its arguments under PyTorch's attribute names and calls the
function of the same name in ``nn.functional``; ``extra_repr`` strings are PyTorch's.
"""

from __future__ import annotations

import warnings
from typing import Any

from ... import _creation
from ..._tensor import Tensor
from .. import _functional_core as F
from .. import init
from ..parameter import Parameter
from . import _multihead
from ._multihead import *  # noqa: F403
from .module import Module

__all__: list[str] = [
    "Threshold", "ReLU", "RReLU", "Hardtanh", "ReLU6", "Sigmoid", "Hardsigmoid", "Tanh", "SiLU",
    "Mish", "Hardswish", "ELU", "CELU", "SELU", "GLU", "GELU", "Hardshrink", "LeakyReLU",
    "LogSigmoid", "Softplus", "Softshrink", "PReLU", "Softsign", "Tanhshrink", "Softmin",
    "Softmax", "Softmax2d", "LogSoftmax",
    *_multihead.__all__,
]


def _inplace_str(inplace: bool, lead: str = ", ") -> str:
    return f"{lead}inplace=True" if inplace else ""


class _Inplace(Module):
    """An activation whose only argument is ``inplace``."""

    __constants__ = ["inplace"]
    _fn: Any = None

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._fn(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return _inplace_str(self.inplace, "")


class _Plain(Module):
    """An activation without arguments (PyTorch accepts and ignores any)."""

    _fn: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._fn(input)


class Threshold(Module):
    """``input`` where above ``threshold``, else ``value``.

    Example:
        >>> nn.Threshold(0.1, 20.0)(polytorch.tensor([0.0, 1.0]))
        tensor([20.,  1.])
    """

    __constants__ = ["threshold", "value", "inplace"]

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}{_inplace_str(self.inplace)}"


class ReLU(_Inplace):
    """``max(input, 0)``.

    Example:
        >>> nn.ReLU()(polytorch.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """

    _fn = staticmethod(F.relu)


class RReLU(Module):
    """Randomized leaky ReLU (random slopes in training, their mean in eval).

    Example:
        >>> nn.RReLU(0.1, 0.3).eval()(polytorch.tensor([-1.0]))
        tensor([-0.2000])
    """

    __constants__ = ["lower", "upper", "inplace"]

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False
                 ) -> None:
        super().__init__()
        self.lower = lower
        self.upper = upper
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}{_inplace_str(self.inplace)}"


class Hardtanh(Module):
    """``input`` clamped to ``[min_val, max_val]``.

    Example:
        >>> nn.Hardtanh()(polytorch.tensor([-2.0, 2.0]))
        tensor([-1.,  1.])
    """

    __constants__ = ["min_val", "max_val", "inplace"]

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False,
                 min_value: float | None = None, max_value: float | None = None) -> None:
        super().__init__()
        if min_value is not None:
            warnings.warn("keyword argument `min_value` is deprecated and renamed to `min_val`",
                          FutureWarning, stacklevel=2)
            min_val = min_value
        if max_value is not None:
            warnings.warn("keyword argument `max_value` is deprecated and renamed to `max_val`",
                          FutureWarning, stacklevel=2)
            max_val = max_value
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace
        if self.max_val <= self.min_val:
            raise AssertionError(
                f"max_val ({self.max_val}) must be greater than min_val ({self.min_val})")

    def forward(self, input: Tensor) -> Tensor:
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace_str(self.inplace)}"


class ReLU6(Hardtanh):
    """``min(max(input, 0), 6)``.

    Example:
        >>> nn.ReLU6()(polytorch.tensor([7.0]))
        tensor([6.])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return _inplace_str(self.inplace, "")


class Sigmoid(_Plain):
    """``1 / (1 + exp(-input))``.

    Example:
        >>> nn.Sigmoid()(polytorch.tensor([0.0]))
        tensor([0.5000])
    """

    _fn = staticmethod(F.sigmoid)


class Hardsigmoid(_Inplace):
    """``relu6(input + 3) / 6``.

    Example:
        >>> nn.Hardsigmoid()(polytorch.tensor([0.0]))
        tensor([0.5000])
    """

    _fn = staticmethod(F.hardsigmoid)

    def extra_repr(self) -> str:
        return ""


class Tanh(_Plain):
    """Hyperbolic tangent.

    Example:
        >>> nn.Tanh()(polytorch.tensor([0.0]))
        tensor([0.])
    """

    _fn = staticmethod(F.tanh)


class SiLU(_Inplace):
    """``input * sigmoid(input)``.

    Example:
        >>> nn.SiLU()(polytorch.tensor([0.0]))
        tensor([0.])
    """

    _fn = staticmethod(F.silu)


class Mish(_Inplace):
    """``input * tanh(softplus(input))``.

    Example:
        >>> nn.Mish()(polytorch.tensor([0.0]))
        tensor([0.])
    """

    _fn = staticmethod(F.mish)


class Hardswish(_Inplace):
    """``input * relu6(input + 3) / 6``.

    Example:
        >>> nn.Hardswish()(polytorch.tensor([3.0]))
        tensor([3.])
    """

    _fn = staticmethod(F.hardswish)

    def extra_repr(self) -> str:
        return ""


class ELU(Module):
    """``input`` where positive, else ``alpha * (exp(input) - 1)``.

    Example:
        >>> nn.ELU()(polytorch.tensor([1.0]))
        tensor([1.])
    """

    __constants__ = ["alpha", "inplace"]

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}{_inplace_str(self.inplace)}"


class CELU(ELU):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``.

    Example:
        >>> nn.CELU()(polytorch.tensor([1.0]))
        tensor([1.])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.celu(input, self.alpha, self.inplace)


class SELU(_Inplace):
    """Scaled ELU with the self-normalizing constants.

    Example:
        >>> nn.SELU()(polytorch.tensor([0.0]))
        tensor([0.])
    """

    _fn = staticmethod(F.selu)


class GLU(Module):
    """Gated linear unit over the halves of ``dim``.

    Example:
        >>> nn.GLU()(polytorch.ones(2, 4)).shape
        polytorch.Size([2, 2])
    """

    __constants__ = ["dim"]

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class GELU(Module):
    """Gaussian error linear unit (``approximate="tanh"``: the tanh formula).

    Example:
        >>> nn.GELU()(polytorch.tensor([0.0]))
        tensor([0.])
    """

    __constants__ = ["approximate"]

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Hardshrink(Module):
    """``input`` where ``|input| > lambd``, else 0.

    Example:
        >>> nn.Hardshrink()(polytorch.tensor([0.2, 1.0]))
        tensor([0., 1.])
    """

    __constants__ = ["lambd"]

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:
        return F.hardshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    """Shrink towards 0 by ``lambd`` (0 inside ``[-lambd, lambd]``).

    Example:
        >>> nn.Softshrink()(polytorch.tensor([1.0]))
        tensor([0.5000])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.softshrink(input, self.lambd)


class LeakyReLU(Module):
    """``input`` where positive, else ``negative_slope * input``.

    Example:
        >>> nn.LeakyReLU(0.1)(polytorch.tensor([-1.0]))
        tensor([-0.1000])
    """

    __constants__ = ["inplace", "negative_slope"]

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}{_inplace_str(self.inplace)}"


class LogSigmoid(_Plain):
    """``log(sigmoid(input))``.

    Example:
        >>> nn.LogSigmoid()(polytorch.tensor([0.0]))
        tensor([-0.6931])
    """

    _fn = staticmethod(F.logsigmoid)


class Softplus(Module):
    """``log(1 + exp(beta * x)) / beta``, linear above ``threshold``.

    Example:
        >>> nn.Softplus()(polytorch.tensor([0.0]))
        tensor([0.6931])
    """

    __constants__ = ["beta", "threshold"]

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class PReLU(Module):
    """Leaky ReLU with learned slopes: one, or one per channel (dim 1).

    Example:
        >>> nn.PReLU()(polytorch.tensor([-1.0]))
        tensor([-0.2500], grad_fn=<WhereBackward0>)
    """

    __constants__ = ["num_parameters"]

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None
                 ) -> None:
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(_creation.empty(num_parameters, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class Softsign(_Plain):
    """``input / (1 + |input|)``.

    Example:
        >>> nn.Softsign()(polytorch.tensor([1.0]))
        tensor([0.5000])
    """

    _fn = staticmethod(F.softsign)


class Tanhshrink(_Plain):
    """``input - tanh(input)``.

    Example:
        >>> nn.Tanhshrink()(polytorch.tensor([0.0]))
        tensor([0.])
    """

    _fn = staticmethod(F.tanhshrink)


class _SoftmaxBase(Module):
    __constants__ = ["dim"]
    _fn: Any = None

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def __setstate__(self, state):
        super().__setstate__(state)
        if not hasattr(self, "dim"):
            self.dim = None

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._fn(input, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmin(_SoftmaxBase):
    """``softmax(-input, dim)``.

    Example:
        >>> nn.Softmin(dim=0)(polytorch.tensor([0.0, 0.0]))
        tensor([0.5000, 0.5000])
    """

    _fn = staticmethod(F.softmin)


class Softmax(_SoftmaxBase):
    """Softmax along ``dim``.

    Example:
        >>> nn.Softmax(dim=0)(polytorch.tensor([0.0, 0.0]))
        tensor([0.5000, 0.5000])
    """

    _fn = staticmethod(F.softmax)


class LogSoftmax(_SoftmaxBase):
    """``log(softmax(input, dim))``.

    Example:
        >>> nn.LogSoftmax(dim=0)(polytorch.tensor([0.0, 0.0]))
        tensor([-0.6931, -0.6931])
    """

    _fn = staticmethod(F.log_softmax)


class Softmax2d(_Plain):
    """Softmax over the channels (dim -3) of a 3-D or 4-D input.

    Example:
        >>> nn.Softmax2d()(polytorch.zeros(1, 2, 1, 1)).flatten()
        tensor([0.5000, 0.5000])
    """

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (3, 4):
            raise ValueError(
                f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D instead")
        return F.softmax(input, -3, _stacklevel=5)
