"""``nn.Parameter`` and ``nn.Buffer``: tensors that a Module registers by assignment."""

from __future__ import annotations

from .._tensor import Tensor, _wrap
from ..autograd import _grad_mode

__all__ = ["Buffer", "Parameter"]



def _adopt(cls, data, what: str) -> Tensor:
    """A new ``cls`` instance sharing ``data``'s array (as PyTorch's ``_make_subclass``)."""
    if data is None:
        from .._creation import empty

        data = empty(0)
    elif not isinstance(data, Tensor):
        raise TypeError(f"{what}: data must be a Tensor, got {type(data).__name__}")
    return _wrap(data._data, data._device, data._dtype, cls)


class Parameter(Tensor):
    """A Tensor that is a module parameter: assigning it to a Module attribute registers it.

    It shares the data of the tensor it is built from, and requires gradients by default.

    Args:
        data: the parameter's tensor (an empty one if None).
        requires_grad: whether the parameter requires gradient.

    Example:
        >>> import polytorch as torch
        >>> w = torch.nn.Parameter(torch.zeros(2, 3))
        >>> w.requires_grad
        True
    """

    __slots__ = ()

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True):
        p = _adopt(cls, data, "Parameter")
        if requires_grad:
            p.requires_grad_(True)  # errors on integer dtypes, as PyTorch
        return p

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True):
        pass  # everything happens in __new__ (Tensor.__init__ refuses direct construction)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __deepcopy__(self, memo: dict) -> Parameter:
        if id(self) in memo:
            return memo[id(self)]
        with _grad_mode.no_grad():
            result = type(self)(self.detach().clone(), self._requires_grad)
        if self._grad is not None:
            with _grad_mode.no_grad():
                result._grad = self._grad.detach().clone()
        memo[id(self)] = result
        return result


class Buffer(Tensor):
    """A Tensor that a Module registers as a buffer when assigned to one of its attributes.

    Args:
        data: the buffer's tensor (an empty one if None).
        persistent: whether the buffer is part of the module's ``state_dict``.

    Example:
        >>> import polytorch as torch
        >>> m = torch.nn.Module()
        >>> m.running = torch.nn.Buffer(torch.zeros(3))
        >>> list(m.state_dict())
        ['running']
    """

    __slots__ = ("persistent",)

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True):
        b = _adopt(cls, data, "Buffer")
        b.persistent = persistent
        return b

    def __init__(self, data: Tensor | None = None, *, persistent: bool = True):
        pass
