"""Identity, Linear, Bilinear."""

from __future__ import annotations

import math
from typing import Any

from ... import _creation
from ..._tensor import Tensor
from ...ops import linalg as L
from .. import _functional_core as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["Identity", "Linear", "Bilinear"]


def _parameter(shape, device=None, dtype=None) -> Parameter:
    """A zero-filled Parameter of ``shape``, for ``reset_parameters`` to initialise."""
    return Parameter(_creation.empty(shape, device=device, dtype=dtype))


def _reset_linear_like(weight: Tensor, bias: Tensor | None) -> None:
    """PyTorch's init of Linear and convolution layers.

    ``kaiming_uniform_(weight, a=sqrt(5))`` amounts to U(±1/sqrt(fan_in)); the bias
    is drawn from the same range (all zeros for a layer with no inputs).
    """
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


class Identity(Module):
    """Returns its input; the arguments are accepted and ignored.

    Example:
        >>> nn.Identity(54, unused="argument")(polytorch.ones(2)).shape
        polytorch.Size([2])
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """``y = x @ weight.T + bias`` with ``weight`` of shape ``(out_features, in_features)``.

    Initialised as PyTorch: ``kaiming_uniform_(weight, a=sqrt(5))``, bias
    uniform in ``±1/sqrt(in_features)``.

    Example:
        >>> nn.Linear(3, 4)(polytorch.ones(2, 3)).shape
        polytorch.Size([2, 4])
    """

    __constants__ = ["in_features", "out_features"]

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = _parameter((out_features, in_features), device, dtype)
        self.register_parameter("bias", _parameter(out_features, device, dtype) if bias else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_linear_like(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        shape = input.shape
        if not shape or shape[-1] != self.in_features:
            raise RuntimeError(
                f"{type(self).__name__}: expected input with last dimension "
                f"{self.in_features} (in_features), got shape {list(shape)}"
            )
        if self.bias is not None and len(shape) == 2:
            return L.addmm(self.bias, input, self.weight.t())
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class NonDynamicallyQuantizableLinear(Linear):
    """The ``Linear`` PyTorch uses for ``MultiheadAttention.out_proj`` (the same maths; the
    name only matters to PyTorch's quantization, and to ``repr``)."""


class Bilinear(Module):
    """``y = x1^T A x2 + b`` for each output feature.

    Example:
        >>> nn.Bilinear(2, 3, 4)(polytorch.ones(5, 2), polytorch.ones(5, 3)).shape
        polytorch.Size([5, 4])
    """

    __constants__ = ["in1_features", "in2_features", "out_features"]

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = _parameter((out_features, in1_features, in2_features), device, dtype)
        self.register_parameter("bias", _parameter(out_features, device, dtype) if bias else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.size(1))
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
