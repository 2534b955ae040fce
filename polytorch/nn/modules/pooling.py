"""Pooling: max, average, power-average, adaptive, and max unpooling."""

from __future__ import annotations

from .. import _functional_conv as F
from .module import Module

__all__ = [
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "LPPool1d",
    "LPPool2d", "LPPool3d", "MaxPool1d", "MaxPool2d", "MaxPool3d", "MaxUnpool1d", "MaxUnpool2d",
    "MaxUnpool3d",
]


class _MaxPoolNd(Module):
    __constants__ = ["kernel_size", "stride", "padding", "dilation", "return_indices",
                     "ceil_mode"]
    _fn = None  # the functional max pool, set per class

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")

    def forward(self, input):
        return type(self)._fn(input, self.kernel_size, self.stride, self.padding, self.dilation,
                              ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class MaxPool1d(_MaxPoolNd):
    """Max pooling over ``(N, C, L)`` or ``(C, L)``.

    Example:
        >>> nn.MaxPool1d(2)(polytorch.ones(1, 3, 8)).shape
        polytorch.Size([1, 3, 4])
    """

    _fn = staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """Max pooling over ``(N, C, H, W)`` or ``(C, H, W)``; the stride defaults to the kernel.

    Example:
        >>> nn.MaxPool2d(2)(polytorch.ones(1, 3, 8, 8)).shape
        polytorch.Size([1, 3, 4, 4])
    """

    _fn = staticmethod(F.max_pool2d)


class MaxPool3d(_MaxPoolNd):
    """Max pooling over ``(N, C, D, H, W)`` or ``(C, D, H, W)``.

    Example:
        >>> nn.MaxPool3d(2)(polytorch.ones(1, 1, 4, 4, 4)).shape
        polytorch.Size([1, 1, 2, 2, 2])
    """

    _fn = staticmethod(F.max_pool3d)


class _AvgPoolNd(Module):
    __constants__ = ["kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"]

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


def _single(v):
    return (v,) if isinstance(v, int) else tuple(v)


class AvgPool1d(_AvgPoolNd):
    """Average pooling over ``(N, C, L)`` or ``(C, L)``.

    Example:
        >>> nn.AvgPool1d(2)(polytorch.ones(1, 3, 8)).shape
        polytorch.Size([1, 3, 4])
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


class _AvgPool(_AvgPoolNd):
    __constants__ = _AvgPoolNd.__constants__ + ["divisor_override"]
    _fn = None

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        return type(self)._fn(input, self.kernel_size, self.stride, self.padding,
                              self.ceil_mode, self.count_include_pad, self.divisor_override)


class AvgPool2d(_AvgPool):
    """Average pooling over ``(N, C, H, W)`` or ``(C, H, W)``.

    Example:
        >>> nn.AvgPool2d(2)(polytorch.ones(1, 3, 8, 8)).shape
        polytorch.Size([1, 3, 4, 4])
    """

    _fn = staticmethod(F.avg_pool2d)


class AvgPool3d(_AvgPool):
    """Average pooling over ``(N, C, D, H, W)`` or ``(C, D, H, W)``.

    Example:
        >>> nn.AvgPool3d(2)(polytorch.ones(1, 1, 4, 4, 4)).shape
        polytorch.Size([1, 1, 2, 2, 2])
    """

    _fn = staticmethod(F.avg_pool3d)


class _LPPoolNd(Module):
    __constants__ = ["norm_type", "kernel_size", "stride", "ceil_mode"]
    _fn = None

    def __init__(self, norm_type: float, kernel_size, stride=None,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")

    def forward(self, input):
        return type(self)._fn(input, float(self.norm_type), self.kernel_size, self.stride,
                              self.ceil_mode)


class LPPool1d(_LPPoolNd):
    """Power-average pooling: ``(sum of x ** p over a window) ** (1 / p)``.

    Example:
        >>> nn.LPPool1d(2, 2)(polytorch.ones(1, 3, 8)).shape
        polytorch.Size([1, 3, 4])
    """

    _fn = staticmethod(F.lp_pool1d)


class LPPool2d(_LPPoolNd):
    """2-D power-average pooling.

    Example:
        >>> nn.LPPool2d(2, 2)(polytorch.ones(1, 3, 8, 8)).shape
        polytorch.Size([1, 3, 4, 4])
    """

    _fn = staticmethod(F.lp_pool2d)


class LPPool3d(_LPPoolNd):
    """3-D power-average pooling.

    Example:
        >>> nn.LPPool3d(2, 2)(polytorch.ones(1, 1, 4, 4, 4)).shape
        polytorch.Size([1, 1, 2, 2, 2])
    """

    _fn = staticmethod(F.lp_pool3d)


class _AdaptiveAvgPoolNd(Module):
    __constants__ = ["output_size"]
    _fn = None

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    def forward(self, input):
        return type(self)._fn(input, self.output_size)


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Averages over ``output_size`` adaptive windows of the last dim.

    Example:
        >>> nn.AdaptiveAvgPool1d(3)(polytorch.ones(1, 2, 8)).shape
        polytorch.Size([1, 2, 3])
    """

    _fn = staticmethod(F.adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Averages over an ``output_size`` grid of adaptive windows (``None`` keeps a size).

    Example:
        >>> nn.AdaptiveAvgPool2d((1, 1))(polytorch.ones(2, 8, 5, 7)).shape
        polytorch.Size([2, 8, 1, 1])
    """

    _fn = staticmethod(F.adaptive_avg_pool2d)


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """Averages over an ``output_size`` grid of adaptive 3-D windows.

    Example:
        >>> nn.AdaptiveAvgPool3d(1)(polytorch.ones(1, 2, 3, 4, 5)).shape
        polytorch.Size([1, 2, 1, 1, 1])
    """

    _fn = staticmethod(F.adaptive_avg_pool3d)


class _AdaptiveMaxPoolNd(Module):
    __constants__ = ["output_size", "return_indices"]
    _fn = None

    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    def forward(self, input):
        return type(self)._fn(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Maxima over ``output_size`` adaptive windows of the last dim.

    Example:
        >>> nn.AdaptiveMaxPool1d(3)(polytorch.ones(1, 2, 8)).shape
        polytorch.Size([1, 2, 3])
    """

    _fn = staticmethod(F.adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Maxima over an ``output_size`` grid of adaptive windows.

    Example:
        >>> nn.AdaptiveMaxPool2d(2)(polytorch.ones(1, 2, 5, 7)).shape
        polytorch.Size([1, 2, 2, 2])
    """

    _fn = staticmethod(F.adaptive_max_pool2d)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """Maxima over an ``output_size`` grid of adaptive 3-D windows.

    Example:
        >>> nn.AdaptiveMaxPool3d(1)(polytorch.ones(1, 2, 3, 4, 5)).shape
        polytorch.Size([1, 2, 1, 1, 1])
    """

    _fn = staticmethod(F.adaptive_max_pool3d)


class _MaxUnpoolNd(Module):
    _fn = None

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input, indices, output_size=None):
        return type(self)._fn(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)


class MaxUnpool1d(_MaxUnpoolNd):
    """Puts a max pool's values back at its indices; zeros elsewhere.

    Example:
        >>> x, i = nn.MaxPool1d(2, return_indices=True)(polytorch.ones(1, 1, 4))
        >>> nn.MaxUnpool1d(2)(x, i).shape
        polytorch.Size([1, 1, 4])
    """

    _fn = staticmethod(F.max_unpool1d)


class MaxUnpool2d(_MaxUnpoolNd):
    """The partial inverse of ``MaxPool2d``.

    Example:
        >>> x, i = nn.MaxPool2d(2, return_indices=True)(polytorch.ones(1, 1, 4, 4))
        >>> nn.MaxUnpool2d(2)(x, i).shape
        polytorch.Size([1, 1, 4, 4])
    """

    _fn = staticmethod(F.max_unpool2d)


class MaxUnpool3d(_MaxUnpoolNd):
    """The partial inverse of ``MaxPool3d``.

    Example:
        >>> x, i = nn.MaxPool3d(2, return_indices=True)(polytorch.ones(1, 1, 2, 2, 2))
        >>> nn.MaxUnpool3d(2)(x, i).shape
        polytorch.Size([1, 1, 2, 2, 2])
    """

    _fn = staticmethod(F.max_unpool3d)
