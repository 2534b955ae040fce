"""Padding layers: zero, constant, reflection, replication and circular, in 1, 2 and 3 dims."""

from __future__ import annotations

from .. import _functional_conv as F
from .module import Module

__all__ = [
    "CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d",
    "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
    "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d",
    "ZeroPad3d",
]


def _amounts(padding, n: int, name: str) -> tuple:
    """``padding`` as PyTorch's ``(left, right, top, bottom, ...)`` tuple of ``2 n`` ints."""
    if isinstance(padding, int):
        return (padding,) * (2 * n)
    out = tuple(padding)
    if len(out) != 2 * n:
        raise ValueError(f"{name}: padding must be an int or a tuple of {2 * n} ints, got "
                         f"{padding!r}")
    return out


class _PadNd(Module):
    __constants__ = ["padding", "mode"]
    _n = 1
    _mode = "constant"

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _amounts(padding, self._n, type(self).__name__)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    __constants__ = ["padding", "value"]

    def __init__(self, padding, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dim with ``value``: ``padding`` is ``(left, right)`` or an int.

    Example:
        >>> nn.ConstantPad1d(2, 3.5)(polytorch.ones(1, 2, 4)).shape
        polytorch.Size([1, 2, 8])
    """

    _n = 1


class ConstantPad2d(_ConstantPadNd):
    """Pads the last two dims with ``value``: ``(left, right, top, bottom)`` or an int.

    Example:
        >>> nn.ConstantPad2d((1, 1, 2, 0), 0.5)(polytorch.ones(1, 3, 3)).shape
        polytorch.Size([1, 5, 5])
    """

    _n = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last three dims with ``value``.

    Example:
        >>> nn.ConstantPad3d(1, 0.0)(polytorch.ones(1, 2, 2, 2)).shape
        polytorch.Size([1, 4, 4, 4])
    """

    _n = 3


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Pads the last dim with zeros.

    Example:
        >>> nn.ZeroPad1d(1)(polytorch.ones(1, 2, 4)).shape
        polytorch.Size([1, 2, 6])
    """

    _n = 1


class ZeroPad2d(_ZeroPadNd):
    """Pads the last two dims with zeros: ``(left, right, top, bottom)`` or an int.

    Example:
        >>> nn.ZeroPad2d((1, 1, 2, 0))(polytorch.ones(1, 3, 3)).shape
        polytorch.Size([1, 5, 5])
    """

    _n = 2


class ZeroPad3d(_ZeroPadNd):
    """Pads the last three dims with zeros.

    Example:
        >>> nn.ZeroPad3d(1)(polytorch.ones(1, 2, 2, 2)).shape
        polytorch.Size([1, 4, 4, 4])
    """

    _n = 3


class _ReflectionPadNd(_PadNd):
    _mode = "reflect"


class ReflectionPad1d(_ReflectionPadNd):
    """Pads the last dim with its reflection (the edge itself not repeated).

    Example:
        >>> nn.ReflectionPad1d(2)(polytorch.arange(4.).reshape(1, 1, 4))
        tensor([[[2., 1., 0., 1., 2., 3., 2., 1.]]])
    """

    _n = 1


class ReflectionPad2d(_ReflectionPadNd):
    """Pads the last two dims with their reflection.

    Example:
        >>> nn.ReflectionPad2d(1)(polytorch.ones(1, 3, 3)).shape
        polytorch.Size([1, 5, 5])
    """

    _n = 2


class ReflectionPad3d(_ReflectionPadNd):
    """Pads the last three dims with their reflection.

    Example:
        >>> nn.ReflectionPad3d(1)(polytorch.ones(1, 1, 2, 2, 2)).shape
        polytorch.Size([1, 1, 4, 4, 4])
    """

    _n = 3


class _ReplicationPadNd(_PadNd):
    _mode = "replicate"


class ReplicationPad1d(_ReplicationPadNd):
    """Pads the last dim by repeating its edge values.

    Example:
        >>> nn.ReplicationPad1d((1, 2))(polytorch.arange(3.).reshape(1, 1, 3))
        tensor([[[0., 0., 1., 2., 2., 2.]]])
    """

    _n = 1


class ReplicationPad2d(_ReplicationPadNd):
    """Pads the last two dims by repeating their edges.

    Example:
        >>> nn.ReplicationPad2d(1)(polytorch.ones(1, 3, 3)).shape
        polytorch.Size([1, 5, 5])
    """

    _n = 2


class ReplicationPad3d(_ReplicationPadNd):
    """Pads the last three dims by repeating their edges.

    Example:
        >>> nn.ReplicationPad3d(1)(polytorch.ones(1, 1, 2, 2, 2)).shape
        polytorch.Size([1, 1, 4, 4, 4])
    """

    _n = 3


class _CircularPadNd(_PadNd):
    _mode = "circular"


class CircularPad1d(_CircularPadNd):
    """Pads the last dim by wrapping around.

    Example:
        >>> nn.CircularPad1d(1)(polytorch.arange(3.).reshape(1, 1, 3))
        tensor([[[2., 0., 1., 2., 0.]]])
    """

    _n = 1


class CircularPad2d(_CircularPadNd):
    """Pads the last two dims by wrapping around.

    Example:
        >>> nn.CircularPad2d(1)(polytorch.ones(1, 3, 3)).shape
        polytorch.Size([1, 5, 5])
    """

    _n = 2


class CircularPad3d(_CircularPadNd):
    """Pads the last three dims by wrapping around.

    Example:
        >>> nn.CircularPad3d(1)(polytorch.ones(1, 1, 2, 2, 2)).shape
        polytorch.Size([1, 1, 4, 4, 4])
    """

    _n = 3
