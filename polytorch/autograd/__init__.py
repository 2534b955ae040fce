"""Define-by-run automatic differentiation (PyTorch's ``torch.autograd`` contract)."""

from __future__ import annotations

import importlib

from ._engine import Node, run_backward
from ._grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .anomaly_mode import (
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly,
)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = [
    "backward", "grad", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "inference_mode", "is_inference_mode_enabled", "Node", "Function", "FunctionCtx",
    "once_differentiable", "gradcheck", "gradgradcheck", "GradcheckError", "detect_anomaly",
    "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled", "functional",
    "graph",
]

# Imported on first use: these modules need polytorch.Tensor, which imports this package.
_LAZY = {
    "Function": "function", "FunctionCtx": "function", "once_differentiable": "function",
    "functional": None, "graph": None, "function": None,
}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f".{_LAZY[name] or name}", __name__)
    value = module if _LAZY[name] is None else getattr(module, name)
    globals()[name] = value
    return value


def _tensors(x, what):
    from .._tensor import Tensor

    if isinstance(x, Tensor):
        return (x,)
    if isinstance(x, (list, tuple)) and all(isinstance(t, Tensor) for t in x):
        return tuple(x)
    raise TypeError(f"{what} must be a Tensor or a sequence of Tensors, got {type(x).__name__}")


def _seed_grads(outputs, grad_outputs):
    from .._creation import ones_like
    from .._tensor import Tensor

    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(
            f"grad_tensors/grad_outputs has {len(grad_outputs)} entries but there are "
            f"{len(outputs)} outputs"
        )
    seeds = []
    for out, g in zip(outputs, grad_outputs):
        if not out._requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn"
            )
        if g is None:
            if out.numel() != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs (got an output of "
                    f"shape {list(out.shape)}); pass a gradient argument"
                )
            g = ones_like(out)
        else:
            if not isinstance(g, Tensor):
                raise TypeError(f"gradient must be a Tensor, got {type(g).__name__}")
            if g.shape != out.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[0] has a shape of {list(g.shape)} and "
                    f"output[0] has a shape of {list(out.shape)}."
                )
            if g._device != out._device:
                raise RuntimeError(
                    f"gradient is on device {g._device} but the output is on {out._device}"
                )
            if g._dtype is not out._dtype:
                g = g.to(out._dtype)
        seeds.append(g)
    return seeds


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate gradients of ``tensors`` into the ``.grad`` of the graph's leaves.

    Example:
        >>> w = polytorch.ones(3, requires_grad=True)
        >>> (w * w).sum().backward()
        >>> w.grad
        tensor([2., 2., 2.])
    """
    outputs = _tensors(tensors, "tensors")
    seeds = _seed_grads(outputs, grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = _tensors(inputs, "inputs")
        grads = run_backward(outputs, seeds, retain_graph=retain_graph,
                             create_graph=create_graph, inputs=inputs)
        for t, g in zip(inputs, grads):
            if g is not None:
                if not create_graph:
                    g = g.detach()
                t._grad = g if t._grad is None else t._grad + g
        return
    run_backward(outputs, seeds, retain_graph=retain_graph, create_graph=create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, materialize_grads=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned rather than accumulated.

    Example:
        >>> x = polytorch.tensor(3.0, requires_grad=True)
        >>> (dx,) = polytorch.autograd.grad(x ** 3, x, create_graph=True)
        >>> polytorch.autograd.grad(dx, x)[0]  # second derivative, 6x
        tensor(18.)
    """
    if materialize_grads and allow_unused is False:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True, "
            "but got: allow_unused=False."
        )
    outputs = _tensors(outputs, "outputs")
    inputs = _tensors(inputs, "inputs")
    for t in inputs:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    seeds = _seed_grads(outputs, grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph
    grads = run_backward(outputs, seeds, retain_graph=retain_graph, create_graph=create_graph,
                         inputs=inputs, accumulate=False)
    out = []
    for t, g in zip(inputs, grads):
        if g is None:
            if materialize_grads:
                from .._creation import zeros_like

                g = zeros_like(t)
            elif not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior."
                )
        elif not create_graph:
            g = g.detach()
        out.append(g)
    return tuple(out)
