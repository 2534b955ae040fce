"""Custom differentiable functions: ``autograd.Function`` (PyTorch's contract).

Note [A custom Function is one graph node]
``MyFn.apply(*args)`` runs ``MyFn.forward`` with grad mode off, then records one
``Node`` (polytorch/autograd/_engine.py) whose op is a per-class ``_FunctionOp``:
its gradient rule calls ``MyFn.backward(ctx, *grads)``. The node's ``params``
are the user's ``ctx``, so the engine treats a custom Function like any
primitive: hooks, ``retain_graph``, ``create_graph`` (the user's backward runs
with grad mode on and is recorded like any rule) and the iterative walk all
apply. Tensors passed to ``ctx.save_for_backward`` become ``SavedTensor``s once
``forward`` has returned (so in-place changes made inside ``forward`` and
declared with ``mark_dirty`` are part of the saved version), are version-checked
when unpacked, and are freed after backward unless the graph is retained.
"""

from __future__ import annotations

import functools
import inspect
import weakref

from .._tensor import _ALIAS, Tensor, _bump, _make_view, _wrap
from . import _grad_mode
from ._engine import _FREED_MSG, Node, SavedTensor

__all__ = ["Function", "FunctionCtx", "once_differentiable"]

_state = _grad_mode.state


class FunctionCtx:
    """The ``ctx`` of a custom Function: saves tensors and flags for ``backward``.

    Any other attribute may be set on it in ``forward`` and read in ``backward``.
    """

    def save_for_backward(self, *tensors) -> None:
        """Save tensors (or None) for ``backward``; read them back with ``saved_tensors``."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"save_for_backward can only save variables, but argument {i} is of type "
                    f"{type(t).__name__}"
                )
        self.to_save = tensors

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to ``save_for_backward``, checked against in-place changes."""
        ref = self.__dict__.get("_node")
        node = ref() if ref is not None else None
        if node is None:
            return tuple(self.__dict__.get("to_save", ()))
        saved = node.saved
        if saved is None:
            if node.freed:
                raise RuntimeError(_FREED_MSG)
            return ()
        return saved[1].unpack(node)

    def mark_dirty(self, *tensors) -> None:
        """Declare inputs that ``forward`` modified in place (they must be returned)."""
        self.dirty_tensors = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        """Declare outputs that get no gradient (``requires_grad=False``)."""
        self.non_differentiable = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """Whether ``backward`` sees zeros (default) or None for outputs that got no gradient."""
        self.materialize_grads = bool(value)


class _FunctionOp:
    """What the engine sees as the op of a custom Function's node."""

    is_function = True

    def __init__(self, cls):
        self.cls = cls
        self.name = cls.__name__
        self.backward_name = f"{cls.__name__}Backward"

    def vjp(self, ectx, grad):
        node = ectx.node
        ctx = node.params
        grads = grad if node.n_out > 1 else (grad,)
        if ctx.__dict__.get("materialize_grads", True):
            grads = tuple(
                _zeros(meta) if g is None and meta is not None else g
                for g, meta in zip(grads, ctx._out_meta)
            )
        cls = self.cls
        backward = cls.backward if cls.backward is not Function.backward else cls.vjp
        out = backward(ctx, *grads)
        if not isinstance(out, tuple):
            out = (out,)
        n = len(node.next)
        if len(out) > n and all(g is None for g in out[n:]):
            out = out[:n]
        if len(out) != n:
            raise RuntimeError(
                f"function {self.backward_name} returned an incorrect number of gradients "
                f"(expected {n}, got {len(out)})"
            )
        for i, (g, meta) in enumerate(zip(out, node.in_meta)):
            if g is None:
                continue
            if meta is None:
                raise RuntimeError(
                    f"function {self.backward_name} returned a gradient different than None "
                    f"at position {i + 1}, but the corresponding forward input was not a "
                    "Variable"
                )
            if not isinstance(g, Tensor):
                raise TypeError(
                    f"function {self.backward_name} returned a {type(g).__name__} as the "
                    f"gradient at position {i + 1}; expected a Tensor or None"
                )
            if not _expandable(meta[0], g.shape):
                raise RuntimeError(
                    f"Function {self.backward_name} returned an invalid gradient at index {i} - "
                    f"got {list(g.shape)} but expected shape compatible with {list(meta[0])}"
                )
        return out

    def __repr__(self):
        return f"<custom function {self.name}>"


def _expandable(shape, grad_shape) -> bool:
    """Whether a tensor of ``shape`` broadcasts to ``grad_shape`` (the engine sums it back)."""
    if len(shape) > len(grad_shape):
        return False
    return all(s == g or s == 1 for s, g in zip(reversed(shape), reversed(grad_shape)))


def _zeros(meta):
    shape, dtype, device = meta
    backend = device._impl[1]
    return _wrap(backend.xp.zeros(shape, dtype=backend.native_dtype(dtype),
                                  device=device._native), device, dtype)


class _SavedGroup:
    """The tensors of one ``save_for_backward`` call, as the node's saved result."""

    __slots__ = ("items",)

    def __init__(self, items):
        self.items = items  # per tensor: None or (SavedTensor, output_nr)

    def unpack(self, node, output_nr=0):
        return tuple(None if it is None else it[0].unpack(node, it[1]) for it in self.items)


class Function:
    """Base class of custom differentiable functions.

    Subclasses define static ``forward(ctx, *args, **kwargs)`` and
    ``backward(ctx, *grad_outputs)`` (one gradient per forward input, None for
    non-tensor inputs or where no gradient is needed), and are called with
    ``apply``. Alternatively ``forward(*args)`` plus ``setup_context(ctx, inputs,
    output)``.

    Example:
        >>> class Square(polytorch.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x * x
        ...     @staticmethod
        ...     def backward(ctx, grad):
        ...         (x,) = ctx.saved_tensors
        ...         return 2 * x * grad
        >>> y = Square.apply(polytorch.tensor(3.0, requires_grad=True))
    """

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. "
            "Please use new-style autograd function with static forward method. "
            "(Example: https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)"
        )

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function."
        )

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )

    @classmethod
    def vjp(cls, ctx, *grad_outputs):
        return cls.backward(ctx, *grad_outputs)

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` and, when an input requires grad, record one graph node."""
        setup = cls.setup_context is not Function.setup_context
        if setup:
            bound = inspect.signature(cls.forward).bind(*args, **kwargs)
            bound.apply_defaults()
            args, kwargs = bound.args, bound.kwargs
        ctx = FunctionCtx()
        grad_mode = _state.enabled
        needs = tuple(grad_mode and isinstance(a, Tensor) and a._requires_grad for a in args)
        ctx.needs_input_grad = needs
        prev = _state.enabled
        _state.enabled = False
        try:
            if setup:
                out = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, out)
            else:
                out = cls.forward(ctx, *args, **kwargs)
        finally:
            _state.enabled = prev
        return _record(cls, ctx, args, out, any(needs))


def _function_op(cls) -> _FunctionOp:
    op = cls.__dict__.get("_polytorch_op")
    if op is None:
        op = _FunctionOp(cls)
        cls._polytorch_op = op
    return op


def _record(cls, ctx, args, out, record: bool):
    """Wrap ``forward``'s outputs and, when ``record``, attach the node to them."""
    is_tuple = isinstance(out, tuple)
    outs = list(out) if is_tuple else [out]
    dirty = {id(t) for t in ctx.__dict__.get("dirty_tensors", ())}
    nondiff = {id(t) for t in ctx.__dict__.get("non_differentiable", ())}
    if dirty - {id(o) for o in outs}:
        raise RuntimeError(
            "Some elements marked as dirty during the forward method were not returned as "
            "output. The inputs that are modified inplace must all be outputs of the Function."
        )
    inputs = {id(a) for a in args if isinstance(a, Tensor)}
    for o in outs:
        if id(o) in dirty:
            _bump(o)  # as PyTorch does when it rebases a dirty tensor on the new node
    if record:
        for o in outs:
            if id(o) in dirty and o._requires_grad and o._grad_fn is None:
                raise RuntimeError(
                    "a leaf Variable that requires grad has been used in an in-place operation."
                )
    for i, o in enumerate(outs):
        if isinstance(o, Tensor) and id(o) in inputs and id(o) not in dirty:
            # An input returned as is: the output is a new alias of it (PyTorch's view_as).
            alias = _wrap(o._data, o._device, o._dtype)
            _make_view(alias, o, _ALIAS)
            outs[i] = alias
    if not record:
        return tuple(outs) if is_tuple else outs[0]

    from ..ops._registry import graph_edges

    edges, meta = graph_edges(args)
    node = Node(_function_op(cls), ctx, edges, meta, len(outs))
    ctx._node = weakref.ref(node)
    out_meta = []
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            out_meta.append(None)
            continue
        out_meta.append((o._data.shape, o._dtype, o._device))
        if id(o) in nondiff or o._dtype.kind not in "fc":
            o._requires_grad = False
            if id(o) in dirty:
                o._grad_fn = None
            continue
        o._grad_fn = (node, i)
        o._requires_grad = True
        if id(o) in dirty:
            from .._tensor import _refresh_views

            if o._views:  # views of the modified input now see the new graph
                _refresh_views(o, o._device._impl[1], graph=True)
    ctx._out_meta = tuple(out_meta)

    to_save = ctx.__dict__.pop("to_save", None)
    if to_save:
        items = []
        for t in to_save:
            if t is None:
                items.append(None)
                continue
            nr = next((j for j, o in enumerate(outs) if o is t and o._grad_fn is not None), None)
            items.append((SavedTensor(t, nr is not None), nr or 0))
        node.saved = ((), _SavedGroup(tuple(items)))
        node.holds_saved = True
    return tuple(outs) if is_tuple else outs[0]


# -- once_differentiable --------------------------------------------------------------


class _DelayedErrorOp:
    """A node whose gradient rule raises: what ``once_differentiable`` outputs lead to."""

    is_function = False
    name = "delayed_error"
    backward_name = "DelayedError"

    def vjp(self, ctx, grad):
        raise RuntimeError(ctx.params)


_DELAYED_ERROR = _DelayedErrorOp()


def once_differentiable(fn):
    """Decorate a custom Function's ``backward`` that cannot itself be differentiated.

    ``backward`` runs with grad mode off; with ``create_graph=True`` its results
    lead to a node that raises if a double backward reaches it.
    """

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        prev = _state.enabled
        _state.enabled = False
        try:
            outputs = fn(ctx, *args)
        finally:
            _state.enabled = prev
        if not prev or not any(isinstance(a, Tensor) and a._requires_grad for a in args):
            return outputs
        is_tuple = isinstance(outputs, tuple)
        outs = outputs if is_tuple else (outputs,)
        node = Node(_DELAYED_ERROR,
                    "trying to differentiate twice a function that was marked with "
                    "@once_differentiable", (), (), len(outs))
        wrapped = []
        for i, o in enumerate(outs):
            if isinstance(o, Tensor) and o._dtype.kind in "fc":
                o = _wrap(o._data, o._device, o._dtype)
                o._grad_fn = (node, i)
                o._requires_grad = True
            wrapped.append(o)
        return tuple(wrapped) if is_tuple else wrapped[0]

    return wrapper
