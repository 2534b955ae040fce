"""parameters_to_vector and vector_to_parameters (PyTorch's ``convert_parameters``)."""

from __future__ import annotations

from collections.abc import Iterable

from ..._tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check_param_device(param: Tensor, old_device):
    if old_device is not None and param.device != old_device:
        raise TypeError(
            f"Found two parameters on different devices ({old_device} and {param.device}), "
            "this is currently not supported."
        )
    return param.device


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All ``parameters`` flattened and concatenated into one 1-D tensor (differentiable).

    Example:
        >>> ps = [polytorch.ones(2, 2), polytorch.zeros(3)]
        >>> parameters_to_vector(ps).shape
        polytorch.Size([7])
    """
    from ...ops.shape import cat

    param_device = None
    vec = []
    for param in parameters:
        param_device = _check_param_device(param, param_device)
        vec.append(param.reshape(-1))
    return cat(vec)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Set the data of ``parameters`` from consecutive slices of the 1-D ``vec``.

    The parameters take ``vec``'s values (and dtype), as PyTorch's ``param.data = ...``.
    Unlike PyTorch, a ``vec`` whose length is not the parameters' total size is an
    error raised before anything changes.

    Example:
        >>> ps = [polytorch.nn.Parameter(polytorch.zeros(2, 2))]
        >>> vector_to_parameters(polytorch.arange(4.0), ps)
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected polytorch.Tensor, but got: {type(vec).__name__}")
    if vec.ndim != 1:
        raise ValueError(f"vector_to_parameters: vec must be 1-D, got shape {list(vec.shape)}")
    parameters = list(parameters)
    param_device = None
    total = 0
    for param in parameters:
        param_device = _check_param_device(param, param_device)
        total += param.numel()
    if total != vec.numel():
        raise ValueError(
            f"vector_to_parameters: vec has {vec.numel()} elements but the parameters hold "
            f"{total}"
        )
    pointer = 0
    data = vec.detach()
    for param in parameters:
        n = param.numel()
        param.data = data[pointer:pointer + n].reshape(tuple(param.shape))
        pointer += n
