"""Fold and Unfold: sliding local blocks to columns and back."""

from __future__ import annotations

from .. import _functional_conv as F
from .module import Module

__all__ = ["Fold", "Unfold"]


class Fold(Module):
    """Sums ``(N, C * prod(kernel_size), L)`` blocks into ``(N, C, *output_size)``.

    Example:
        >>> nn.Fold((4, 4), 2)(polytorch.ones(1, 8, 9)).shape
        polytorch.Size([1, 2, 4, 4])
    """

    __constants__ = ["output_size", "kernel_size", "dilation", "padding", "stride"]

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.output_size = output_size
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")


class Unfold(Module):
    """Extracts sliding local blocks: ``(N, C, H, W)`` -> ``(N, C * prod(kernel_size), L)``.

    Example:
        >>> nn.Unfold(2)(polytorch.ones(1, 2, 4, 4)).shape
        polytorch.Size([1, 8, 9])
    """

    __constants__ = ["kernel_size", "dilation", "padding", "stride"]

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")
