"""Convolutions: Conv1d/2d/3d, ConvTranspose1d/2d/3d."""

from __future__ import annotations

from ...ops import conv as C
from .. import _functional_conv as F
from .linear import _parameter, _reset_linear_like
from .module import Module

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
           "ConvTranspose3d"]

_PADDING_MODES = {"zeros", "reflect", "replicate", "circular"}
_SHAPES = {1: "(C, L) or (N, C, L)", 2: "(C, H, W) or (N, C, H, W)",
           3: "(C, D, H, W) or (N, C, D, H, W)"}


def _tuple(value, n: int, name: str, cls: str) -> tuple:
    if isinstance(value, int):
        return (value,) * n
    out = tuple(value)
    if len(out) == 1:
        return out * n
    if len(out) != n:
        raise ValueError(f"{cls}: expected {name} to be an int or a tuple of {n} ints, "
                         f"got {value!r}")
    return out


class _ConvNd(Module):
    """What convolutions and transposed convolutions share: arguments, weights, init, repr."""

    __constants__ = ["stride", "padding", "dilation", "groups", "padding_mode",
                     "output_padding", "in_channels", "out_channels", "kernel_size"]
    _nd = 2
    _transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None, output_padding=0) -> None:
        super().__init__()
        name = type(self).__name__
        nd = self._nd
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        if in_channels % groups != 0:
            raise ValueError(f"{name}: in_channels must be divisible by groups "
                             f"(in_channels={in_channels}, groups={groups})")
        if out_channels % groups != 0:
            raise ValueError(f"{name}: out_channels must be divisible by groups "
                             f"(out_channels={out_channels}, groups={groups})")
        kernel_size = _tuple(kernel_size, nd, "kernel_size", name)
        stride = _tuple(stride, nd, "stride", name)
        dilation = _tuple(dilation, nd, "dilation", name)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: Invalid padding string {padding!r}, should be one "
                                 f"of {{'valid', 'same'}}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided "
                                 f"convolutions")
        else:
            padding = _tuple(padding, nd, "padding", name)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {sorted(_PADDING_MODES)}, "
                             f"but got padding_mode='{padding_mode}'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = self._transposed
        self.output_padding = _tuple(output_padding, nd, "output_padding", name)
        self.groups = groups
        self.padding_mode = padding_mode
        # F.pad's last-dim-first amounts for the non-zero padding modes.
        if padding == "same":
            pads = []
            for d, k in zip(reversed(dilation), reversed(kernel_size)):
                total = d * (k - 1)
                pads += [total // 2, total - total // 2]
            self._reversed_padding_repeated_twice = pads
        elif padding == "valid":
            self._reversed_padding_repeated_twice = [0, 0] * nd
        else:
            self._reversed_padding_repeated_twice = [p for p in reversed(padding)
                                                     for _ in range(2)]
        if self._transposed:
            shape = (in_channels, out_channels // groups) + kernel_size
        else:
            shape = (out_channels, in_channels // groups) + kernel_size
        self.weight = _parameter(shape, device, dtype)
        self.register_parameter("bias", _parameter(out_channels, device, dtype) if bias else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_linear_like(self.weight, self.bias)

    def _check(self, input) -> None:
        nd = self._nd
        name = type(self).__name__
        shape = list(input.shape)
        if len(shape) not in (nd + 1, nd + 2):
            raise RuntimeError(f"{name}: expected input with {nd + 1} or {nd + 2} dimensions "
                               f"{_SHAPES[nd]}, got shape {shape}")
        c = shape[-nd - 1]
        if c != self.in_channels:
            raise RuntimeError(f"{name}: expected input{shape} to have {self.in_channels} "
                               f"channels, but got {c} channels")

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, " \
            f"stride={self.stride}"
        if self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def __setstate__(self, state):
        super().__setstate__(state)
        if not hasattr(self, "padding_mode"):
            self.padding_mode = "zeros"


class _Conv(_ConvNd):
    _conv = None  # the functional convolution, set per class

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)

    def _conv_forward(self, input, weight, bias):
        conv = type(self)._conv
        if self.padding_mode != "zeros":
            input = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return conv(input, weight, bias, self.stride, 0, self.dilation, self.groups)
        return conv(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input):
        self._check(input)
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    """1-D convolution over ``(N, C_in, L)`` or ``(C_in, L)``.

    Example:
        >>> nn.Conv1d(2, 4, 3)(polytorch.ones(1, 2, 8)).shape
        polytorch.Size([1, 4, 6])
    """

    _nd = 1
    _conv = staticmethod(C.conv1d)


class Conv2d(_Conv):
    """2-D convolution over ``(N, C_in, H, W)`` or ``(C_in, H, W)``.

    ``padding_mode`` is ``"zeros"``, ``"reflect"``, ``"replicate"`` or ``"circular"``;
    weights start as PyTorch's (``kaiming_uniform_(a=sqrt(5))``, bias ±1/sqrt(fan_in)).

    Example:
        >>> nn.Conv2d(3, 8, 3, padding=1)(polytorch.ones(2, 3, 16, 16)).shape
        polytorch.Size([2, 8, 16, 16])
    """

    _nd = 2
    _conv = staticmethod(C.conv2d)


class Conv3d(_Conv):
    """3-D convolution over ``(N, C_in, D, H, W)`` or ``(C_in, D, H, W)``.

    Example:
        >>> nn.Conv3d(1, 2, 3)(polytorch.ones(1, 1, 5, 5, 5)).shape
        polytorch.Size([1, 2, 3, 3, 3])
    """

    _nd = 3
    _conv = staticmethod(C.conv3d)


class _ConvTransposeNd(_ConvNd):
    _transposed = True
    _conv = None

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None) -> None:
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for '
                             f'{type(self).__name__}')
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype, output_padding)

    def _output_padding(self, input, output_size) -> tuple:
        if output_size is None:
            return self.output_padding
        nd = self._nd
        name = type(self).__name__
        output_size = tuple(int(s) for s in output_size)
        if len(output_size) in (nd + 1, nd + 2):
            output_size = output_size[-nd:]
        if len(output_size) != nd:
            raise ValueError(f"{name}: output_size must have {nd} or {nd + 2} elements "
                             f"(got {len(output_size)})")
        spatial = tuple(input.shape[-nd:])
        out = []
        for i in range(nd):
            least = ((spatial[i] - 1) * self.stride[i] - 2 * self.padding[i]
                     + self.dilation[i] * (self.kernel_size[i] - 1) + 1)
            most = least + self.stride[i] - 1
            if not least <= output_size[i] <= most:
                raise ValueError(f"{name}: requested an output size of {list(output_size)}, "
                                 f"but valid sizes range from {least} to {most} (for an input "
                                 f"of {list(spatial)})")
            out.append(output_size[i] - least)
        return tuple(out)

    def forward(self, input, output_size=None):
        self._check(input)
        output_padding = self._output_padding(input, output_size)
        return type(self)._conv(input, self.weight, self.bias, self.stride, self.padding,
                                output_padding, self.groups, self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution; ``forward(input, output_size=None)``.

    Example:
        >>> nn.ConvTranspose1d(2, 3, 3, stride=2)(polytorch.ones(1, 2, 4)).shape
        polytorch.Size([1, 3, 9])
    """

    _nd = 1
    _conv = staticmethod(C.conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution; ``output_size`` in forward picks the output padding.

    Example:
        >>> nn.ConvTranspose2d(4, 2, 3, stride=2)(polytorch.ones(1, 4, 5, 5)).shape
        polytorch.Size([1, 2, 11, 11])
    """

    _nd = 2
    _conv = staticmethod(C.conv_transpose2d)


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution.

    Example:
        >>> nn.ConvTranspose3d(1, 1, 2)(polytorch.ones(1, 1, 3, 3, 3)).shape
        polytorch.Size([1, 1, 4, 4, 4])
    """

    _nd = 3
    _conv = staticmethod(C.conv_transpose3d)
