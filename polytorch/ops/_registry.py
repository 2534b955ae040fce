"""The op registry and the one dispatch path every tensor operation takes.

Note [One op, declared once]
A primitive is its forward over ``xp`` (the backend's array-API namespace), its
gradient rule written in polytorch ops right after it, and what it saves for
backward. ``apply`` does everything else, once, for every op: device checks,
dtype promotion (polytorch/_dtype.py), native-kernel lookup, wrapping the
result and recording the graph node. The registry is data: tests and the
conformance suite iterate over ``REGISTRY``.
"""

from __future__ import annotations

from types import MethodType

from .. import _dtype as D
from .._tensor import Tensor, _wrap
from ..autograd import _grad_mode
from ..autograd._engine import Node, SavedTensor

REGISTRY: dict[str, Op] = {}

# How an op decides dtypes (Note [Type promotion lives here] in polytorch/_dtype.py):
#   "same"    operands promoted to their result type; the result has it
#   "float"   like "same", but integer and bool results become the default float
#   "compare" operands promoted; the result is bool
#   "match"   operands must already share a dtype (matmul); the result has it
#   None      no promotion; the result has the first input's dtype
PROMOTIONS = ("same", "float", "compare", "match", None)

_state = _grad_mode.state


class Op:
    """A registered primitive. Call it with tensors (and Python numbers) and params."""

    __slots__ = (
        "name", "forward", "vjp", "save", "save_result", "save_any", "promote",
        "n_out", "kernels", "family", "backward_name", "differentiable_outputs",
        "promote_skip", "needs_backend", "bool_forward", "check", "out_dtype", "quiet", "doc",
        "__weakref__",
    )

    def __init__(self, name, forward, *, promote, save=(), save_result=False, n_out=1,
                 family="", differentiable_outputs=None, promote_skip=(), needs_backend=False,
                 out_dtype=None, quiet=True):
        if promote not in PROMOTIONS:
            raise ValueError(f"op {name!r}: promote must be one of {PROMOTIONS}")
        self.name = name
        self.forward = forward
        self.vjp = None
        # What the gradient rule reads, and when: ``save`` maps an input position
        # to the input positions whose gradients need it (a plain tuple of
        # positions means "whenever any gradient is needed"); ``save_result`` is
        # True or such a tuple of positions. Saving only what the needed
        # gradients read keeps memory down and lets a graph that saved nothing
        # (``(x + y).sum()``) run backward twice, as in PyTorch.
        if not isinstance(save, dict):
            save = {i: None for i in save}
        self.save = tuple(save.items())
        if save_result is True:
            save_result = None
        elif save_result is False:
            save_result = ()
        self.save_result = save_result
        self.save_any = bool(save) or save_result != ()
        self.promote = promote
        self.n_out = n_out
        self.kernels = {}
        self.family = family
        self.backward_name = "".join(p.capitalize() for p in name.split("_")) + "Backward0"
        self.differentiable_outputs = differentiable_outputs
        self.promote_skip = tuple(promote_skip)  # argument positions left out of promotion
        self.needs_backend = needs_backend  # forward takes the backend, not just xp
        # Forward used when the compute dtype is bool: the array API has no
        # arithmetic or ordering on bools, PyTorch does (add is or, mul is and).
        self.bool_forward = None
        # Optional ``check(args, params)`` run before anything else, for argument
        # errors PyTorch raises that promotion cannot express (``-`` on bools).
        self.check = None
        # The result's dtype when it is not the compute dtype: a dtype (argmax:
        # int64), or ``fn(compute_dtype) -> dtype``; a tuple of those for
        # several outputs. "compare" ops give bool.
        if out_dtype is None and promote == "compare":
            out_dtype = D.bool
        self.out_dtype = out_dtype
        # Whether the forward can meet floating-point errors (overflow, 0/0):
        # backends that warn on them (NumPy) run it quietly, as PyTorch does.
        self.quiet = quiet
        self.doc = forward.__doc__

    def defvjp(self, rule):
        """Attach the gradient rule ``rule(ctx, grad) -> tuple of input grads``."""
        self.vjp = rule
        return rule

    def register_kernel(self, backend_name: str):
        """Register a native kernel for one backend (same signature as the forward)."""

        def deco(fn):
            self.kernels[backend_name] = fn
            return fn

        return deco

    @property
    def differentiable(self) -> bool:
        return self.vjp is not None

    def __call__(self, *args, **params):
        return apply(self, args, params)

    def __get__(self, obj, objtype=None):
        # Bound as a Tensor method, ``x.exp()`` calls ``exp(x)``.
        return self if obj is None else MethodType(self, obj)

    def __repr__(self) -> str:
        return f"<op {self.name}>"


def defop(name=None, *, promote=None, save=(), save_result=False, n_out=1, family="",
          differentiable_outputs=None, promote_skip=(), needs_backend=False, out_dtype=None,
          quiet=True):
    """Declare a primitive from its forward ``fn(xp, *arrays, **params)``.

    Example:
        >>> @defop(promote="float", save_result=True)
        ... def exp(xp, x):
        ...     return xp.exp(x)
        >>> @exp.defvjp
        ... def _(ctx, grad):
        ...     return (grad * ctx.result,)
    """

    def deco(fn):
        op_name = name or fn.__name__.strip("_")
        if op_name in REGISTRY:
            raise ValueError(f"op {op_name!r} is already registered")
        op = Op(op_name, fn, promote=promote, save=save, save_result=save_result, n_out=n_out,
                family=family or fn.__module__.rsplit(".", 1)[-1],
                differentiable_outputs=differentiable_outputs, promote_skip=promote_skip,
                needs_backend=needs_backend, out_dtype=out_dtype, quiet=quiet)
        REGISTRY[op_name] = op
        return op

    return deco


def _devices_differ(op, a, b):
    raise RuntimeError(
        f"Expected all tensors to be on the same device, but found at least two devices, "
        f"{a} and {b}! (in {op.name}; move one with .to(device))"
    )


_WEAK_KIND = {bool: 0, int: 1, float: 2, complex: 3}


def _py_scalar(value, dt: D.dtype):
    if dt.kind == "f":
        return float(value)
    if dt.kind == "c":
        return complex(value)
    if dt.kind == "b":
        return bool(value)
    return int(value)


def apply(op: Op, args: tuple, params: dict):
    """Run ``op`` on ``args``: check devices, promote dtypes, run the kernel, record grads."""
    if op.check is not None:
        op.check(args, params)
    device = None
    first = None
    uniform = True  # every argument is a tensor of one dtype: no promotion work
    grad = False
    for a in args:
        if isinstance(a, Tensor):
            if device is None:
                device = a._device
                first = a._dtype
            else:
                if a._device is not device and a._device != device:
                    _devices_differ(op, device, a._device)
                if a._dtype is not first:
                    uniform = False
            if a._requires_grad:
                grad = True
        else:
            uniform = False
    if device is None:
        raise TypeError(f"{op.name}() expects at least one tensor argument")
    backend = device._impl[1]

    promote = op.promote
    if promote is None:
        compute = first
        arrays = [a._data if isinstance(a, Tensor) else a for a in args]
    elif uniform:
        compute = first
        if promote == "float" and compute.kind not in "fc":
            compute = D._default_float
            native = backend.native_dtype(compute)
            arrays = [backend.xp.astype(a._data, native) for a in args]
        else:
            arrays = [a._data for a in args]
    else:
        compute, arrays = _promote(op, args, backend, device)

    try:
        kernel = op.kernels.get(backend.name) if op.kernels else op.forward
        if compute is D.bool and op.bool_forward is not None:
            kernel = op.bool_forward
        out = (kernel or op.forward)(backend if op.needs_backend else backend.xp, *arrays,
                                     **params)
    except Exception as exc:
        _explain(op, args, exc)
        raise

    if op.n_out == 1:
        dt = op.out_dtype
        if dt is None:
            dt = compute
        elif type(dt) is not D.dtype:
            dt = dt(compute)
        result = _wrap(out, device, dt)
        if grad and _state.enabled and op.vjp is not None:
            _record(op, params, args, (result,))
        return result
    dts = op.out_dtype
    if dts is None:
        outputs = tuple(_wrap(o, device, backend.dtype_of(o)) for o in out)
    else:
        outputs = tuple(
            _wrap(o, device, compute if dt is None else dt if type(dt) is D.dtype else dt(compute))
            for o, dt in zip(out, dts)
        )
    if grad and _state.enabled and op.vjp is not None:
        _record(op, params, args, outputs)
    return outputs


def _promote(op, args, backend, device):
    """The compute dtype of ``args`` (PyTorch's rules) and the arrays cast to it."""
    skip = op.promote_skip
    if len(args) == 2 and not skip:
        # Fast path: a tensor and a Python number of no higher category keep the
        # tensor's dtype (the number is "weak").
        a, b = args
        t, s = (a, b) if isinstance(a, Tensor) else (b, a)
        if not isinstance(s, Tensor) and type(s) in _WEAK_KIND and \
                _WEAK_KIND[type(s)] <= D._CATEGORY[t._dtype.kind]:
            compute = t._dtype
            if op.promote == "float" and compute.kind not in "fc":
                pass  # falls through to the general path below
            else:
                s = backend.scalar(_py_scalar(s, compute), compute, device._native)
                return compute, ([t._data, s] if t is a else [s, t._data])
    if op.promote == "match":
        dts = [a._dtype for a in args if isinstance(a, Tensor)]
        if len(set(dts)) > 1:
            raise RuntimeError(
                f"{op.name}: expected both operands to have the same dtype, but got "
                + " and ".join(d.name for d in dts)
            )
    keys = tuple(
        (a._dtype, len(a._data.shape) > 0) if isinstance(a, Tensor) else D._scalar_key(a)
        for i, a in enumerate(args) if i not in skip
    )
    compute = D.result_type_of(keys)
    if op.promote == "float" and compute.kind not in "fc":
        compute = D._default_float
    native = None
    arrays = []
    for i, a in enumerate(args):
        if skip and i in skip:
            arrays.append(a._data if isinstance(a, Tensor) else a)
        elif isinstance(a, Tensor):
            arr = a._data
            if a._dtype is not compute:
                if native is None:
                    native = backend.native_dtype(compute)
                arr = backend.xp.astype(arr, native)
            arrays.append(arr)
        else:
            arrays.append(backend.scalar(_py_scalar(a, compute), compute, device._native))
    return compute, arrays


def _explain(op, args, exc):
    """Turn a backend's failure into PyTorch's error when the arguments are at fault."""
    shapes = [tuple(a._data.shape) for a in args if isinstance(a, Tensor)]
    if op.family == "elementwise" and len(shapes) > 1:
        out = ()
        for shape in shapes:
            n = max(len(out), len(shape))
            a = (1,) * (n - len(out)) + tuple(out)
            b = (1,) * (n - len(shape)) + shape
            merged = []
            for i, (x, y) in enumerate(zip(a, b)):
                if x != y and x != 1 and y != 1:
                    raise RuntimeError(
                        f"The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                        f"non-singleton dimension {i} (shapes {list(out)} and {list(shape)}, "
                        f"in {op.name})"
                    ) from exc
                merged.append(max(x, y) if min(x, y) != 0 else 0)
            out = tuple(merged)


def graph_edges(args):
    """Per argument: the edge a node takes to it (None, a leaf, or ``(node, output_nr)``)
    and the (shape, dtype) the engine needs to fit its gradient."""
    edges = []
    meta = []
    for a in args:
        if isinstance(a, Tensor):
            edges.append((a._grad_fn or a) if a._requires_grad else None)
            meta.append((a._data.shape, a._dtype))
        else:
            edges.append(None)
            meta.append(None)
    return tuple(edges), tuple(meta)


def _record(op, params, args, outputs):
    """Attach a graph node to ``outputs``. Edges, metadata and saved values are per argument."""
    edges, meta = graph_edges(args)
    node = Node(op, params, edges, meta, len(outputs))
    if op.save_any:
        ins = [None] * len(args)
        any_saved = False
        for i, needed_by in op.save:
            if i < len(args) and _needed(needed_by, edges):
                a = args[i]
                # PyTorch saves a Python number as a wrapped tensor, freed alike.
                ins[i] = SavedTensor(a, False) if isinstance(a, Tensor) else _Const(a)
                any_saved = True
        res = None
        if op.save_result != () and _needed(op.save_result, edges):
            res = (SavedTensor(outputs[0], True) if len(outputs) == 1
                   else tuple(SavedTensor(o, True) for o in outputs))
            any_saved = True
        node.saved = (tuple(ins), res)
        node.holds_saved = any_saved
    diff = op.differentiable_outputs
    if len(outputs) > 1:
        node.out_meta = tuple(
            (o._data.shape, o._dtype, o._device, o._device._impl[1]) for o in outputs
        )
    for nr, o in enumerate(outputs):
        if (diff is None or nr in diff) and o._dtype.kind in "fc":
            o._grad_fn = (node, nr)
            o._requires_grad = True
    return node


def _needed(needed_by, edges) -> bool:
    if needed_by is None:
        return True
    return any(j < len(edges) and edges[j] is not None for j in needed_by)


class _Const:
    """A Python number saved for backward (it cannot change in place)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def unpack(self, node, output_nr=0):
        return self.value
