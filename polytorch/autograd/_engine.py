"""The autograd graph and the backward walk.

A ``Node`` is one recorded op application: its op, what it saved, and one edge
per tensor input. An edge is ``None`` (no gradient wanted), a leaf ``Tensor``
(gradients accumulate into ``.grad``), or ``(node, output_nr)``.

The walk is iterative: a depth-first pass counts how many edges point at each
node, then nodes run in an order where all of a node's consumers ran first.
Gradient rules are written in polytorch ops, so with ``create_graph=True`` the
walk itself is recorded and can be differentiated again.
"""

from __future__ import annotations

import os
import traceback

from . import _grad_mode

_state = _grad_mode.state

_FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved "
    "tensors after they have already been freed). Saved intermediate values of the graph "
    "are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if "
    "you need to backward through the graph a second time or if you need to access saved "
    "tensors after calling backward."
)


class Node:
    """One recorded op application (``tensor.grad_fn``)."""

    __slots__ = (
        "op", "params", "saved", "next", "in_meta", "n_out", "out_meta",
        "hooks", "retained", "freed", "holds_saved", "fn_hooks", "trace", "__weakref__",
    )

    def __init__(self, op, params, next_edges, in_meta, n_out):
        self.op = op
        self.params = params
        self.saved = None
        self.next = next_edges
        self.in_meta = in_meta  # per edge: (shape, dtype) of the input, for the engine
        self.n_out = n_out
        self.out_meta = None  # per output: (shape, dtype, device, backend), for zero grads
        self.hooks = None  # output_nr -> [hook]
        self.retained = None  # output_nr -> weakref to a tensor that retains its grad
        self.freed = False
        self.holds_saved = False  # saved tensors (not just numbers) that backward frees
        self.fn_hooks = None  # ([pre-hook], [hook]) registered on the node itself
        # The forward call site, kept only in anomaly mode (Note [Anomaly mode]).
        self.trace = _forward_trace() if _state.anomaly else None

    def name(self) -> str:
        return f"{self.op.backward_name}"

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"

    @property
    def next_functions(self):
        out = []
        for e in self.next:
            if e is None:
                out.append((None, 0))
            elif isinstance(e, tuple):
                out.append(e)
            else:
                out.append((_AccumulateGrad(e), 0))
        return tuple(out)

    def register_hook(self, fn):
        """Call ``fn(grad_inputs, grad_outputs)`` after this node ran; it may return new
        ``grad_inputs`` (a tuple with one entry per input, None where none flows).
        """
        return self._add_hook(1, fn)

    def register_prehook(self, fn):
        """Call ``fn(grad_outputs)`` before this node runs; it may return new ``grad_outputs``."""
        return self._add_hook(0, fn)

    def _add_hook(self, which, fn):
        from .._tensor import _RemovableHandle

        if self.fn_hooks is None:
            self.fn_hooks = ([], [])
        hooks = self.fn_hooks[which]
        hooks.append(fn)
        return _RemovableHandle(hooks, fn)

    def __getattr__(self, name):
        # A custom Function's node shows its ctx's attributes, as PyTorch's does
        # (``y.grad_fn.saved_tensors``, ``y.grad_fn.scale``).
        if name.startswith("__"):
            raise AttributeError(name)
        ctx = Node.params.__get__(self)
        if getattr(self.op, "is_function", False):
            return getattr(ctx, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _forward_trace():
    """The current stack without the innermost frames inside polytorch (the dispatch)."""
    frames = traceback.extract_stack()
    while len(frames) > 1 and frames[-1].filename.startswith(_PACKAGE):
        frames.pop()
    return frames


class _AccumulateGrad:
    """What ``next_functions`` shows for a leaf, as in PyTorch."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "AccumulateGrad"

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"


class SavedTensor:
    """A tensor saved for backward, with the version it had (PyTorch's SavedVariable)."""

    __slots__ = ("tensor", "version", "counter", "data", "is_output")

    def __init__(self, tensor, is_output: bool):
        vc = tensor._vc
        if vc is None:
            vc = tensor._vc = [0]
        self.counter = vc
        self.version = vc[0]
        self.is_output = is_output
        if is_output:
            # An output is saved by value: holding the tensor would make a
            # cycle tensor -> node -> tensor. It is rebuilt with this node as grad_fn.
            self.tensor = None
            self.data = (tensor._data, tensor._device, tensor._dtype)
        else:
            self.tensor = tensor
            self.data = None

    def unpack(self, node, output_nr=0):
        if self.counter[0] != self.version:
            from .._tensor import _type_desc

            t = self.tensor
            if t is None:
                from .._tensor import _wrap

                t = _wrap(*self.data)
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: [{_type_desc(t)}], which is output {output_nr} of "
                f"{node.name()}, "
                f"is at version {self.counter[0]}; expected version {self.version} instead."
            )
        if self.tensor is not None:
            return self.tensor
        from .._tensor import _wrap

        data, device, dtype = self.data
        t = _wrap(data, device, dtype)
        t._grad_fn = (node, output_nr)
        t._requires_grad = True
        t._vc = self.counter
        return t


class Context:
    """What a gradient rule sees: saved inputs, the result, params and needs_input_grad."""

    __slots__ = ("node", "inputs", "_result", "params", "needs_input_grad")

    def __init__(self, node):
        self.node = node
        self.params = node.params
        self.needs_input_grad = tuple(e is not None for e in node.next)
        saved = node.saved
        if saved is None:
            if node.freed:
                raise RuntimeError(_FREED_MSG)
            self.inputs = ()
            self._result = None
            return
        ins, res = saved
        self.inputs = tuple(None if s is None else s.unpack(node) for s in ins)
        self._result = res

    @property
    def result(self):
        res = self._result
        if isinstance(res, tuple):
            return tuple(s.unpack(self.node, i) for i, s in enumerate(res))
        return res.unpack(self.node)


def _sum_to(grad, shape):
    """Sum a broadcast gradient back to ``shape`` (the engine does this for every rule)."""
    gshape = grad.shape
    if gshape == shape:
        return grad
    lead = len(gshape) - len(shape)
    dims = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and gshape[i + lead] != 1
    )
    if dims:
        grad = grad.sum(dim=dims, keepdim=False) if lead else grad.sum(dim=dims, keepdim=True)
        if lead and len(grad.shape) != len(shape):
            grad = grad.reshape(shape)
    if tuple(grad.shape) != tuple(shape):
        grad = grad.reshape(shape)
    return grad


def _call_hooks(hooks, grad):
    for h in hooks:
        out = h(grad)
        if out is not None:
            grad = out
    return grad


def _collect(roots):
    """Dependency counts of the nodes reachable from ``roots`` (iterative DFS)."""
    deps = {}
    stack = [n for n in roots]
    seen = set(map(id, stack))
    while stack:
        node = stack.pop()
        for e in node.next:
            if type(e) is tuple:
                child = e[0]
                k = id(child)
                deps[k] = deps.get(k, 0) + 1
                if k not in seen:
                    seen.add(k)
                    stack.append(child)
    return deps


def run_backward(tensors, grad_tensors, *, retain_graph, create_graph, inputs=None,
                 accumulate=True):
    """Backpropagate from ``tensors``; accumulate into leaves, or return grads of ``inputs``.

    With ``accumulate=False`` (``autograd.grad``) nothing is written to ``.grad``;
    the gradients reaching ``inputs`` are returned in order (None where none arrived).
    """
    capture = None
    if inputs is not None:
        capture = {}
        for i, t in enumerate(inputs):
            key = id(t) if t._grad_fn is None else (id(t._grad_fn[0]), t._grad_fn[1])
            capture.setdefault(key, []).append(i)
    results = [None] * (len(inputs) if inputs is not None else 0)

    pending = {}  # id(leaf) -> [leaf, summed grad]; applied once the walk succeeded
    prev_mode = _grad_mode.state.enabled
    _grad_mode.state.enabled = create_graph
    try:
        buffers = {}  # id(node) -> [grad per output]
        nodes = {}
        roots = []
        for t, g in zip(tensors, grad_tensors):
            if t._grad_fn is None:
                # Backward from a leaf: its own gradient is the seed.
                _pend(pending, t, g)
                continue
            node, nr = t._grad_fn
            k = id(node)
            if k not in buffers:
                buffers[k] = [None] * node.n_out
                nodes[k] = node
                roots.append(node)
            buf = buffers[k]
            buf[nr] = g if buf[nr] is None else buf[nr] + g
        deps = _collect(roots)
        ready = [n for n in roots if deps.get(id(n), 0) == 0]
        while ready:
            node = ready.pop()
            k = id(node)
            grads = buffers.pop(k)
            nodes.pop(k, None)
            if node.hooks or node.retained:
                grads = _run_output_hooks(node, grads, pending)
            if node.fn_hooks and node.fn_hooks[0]:
                grads = _run_prehooks(node, grads)
            if capture is not None:
                for nr, g in enumerate(grads):
                    idx = capture.get((k, nr))
                    if idx is not None:
                        for i in idx:
                            results[i] = g
            if _state.anomaly:
                in_grads = _apply_rule_checked(node, grads, create_graph)
            else:
                in_grads = _apply_rule(node, grads, create_graph)
            if node.fn_hooks and node.fn_hooks[1]:
                in_grads = _run_posthooks(node, in_grads, grads)
            for e, g, meta in zip(node.next, in_grads, node.in_meta):
                if e is None:
                    continue
                if g is not None:
                    if g._dtype is not meta[1]:
                        g = g.to(meta[1])
                    if g._data.shape != meta[0]:
                        g = _sum_to(g, meta[0])
                if type(e) is tuple:
                    child, nr = e
                    ck = id(child)
                    buf = buffers.get(ck)
                    if buf is None:
                        buf = buffers[ck] = [None] * child.n_out
                        nodes[ck] = child
                    if g is not None:
                        buf[nr] = g if buf[nr] is None else buf[nr] + g
                    left = deps[ck] - 1
                    deps[ck] = left
                    if left == 0:
                        ready.append(child)
                elif g is not None:
                    _pend(pending, e, g)
            if not retain_graph and node.holds_saved:
                node.saved = None
                node.freed = True
        for t, g in pending.values():
            if type(t) is tuple:  # a non-leaf that retains its grad
                t = t[0]
                t._grad = g if t._grad is None else t._grad + g
            else:
                _deliver_leaf(t, g, capture, results, accumulate, create_graph)
    finally:
        _grad_mode.state.enabled = prev_mode
    return results


def _pend(pending, t, g):
    k = id(t) if type(t) is not tuple else ("retained", id(t[0]))
    entry = pending.get(k)
    if entry is None:
        pending[k] = [t, g]
    else:
        entry[1] = entry[1] + g


def _run_output_hooks(node, grads, pending):
    grads = list(grads)
    if node.hooks:
        for nr, hooks in node.hooks.items():
            if grads[nr] is not None:
                grads[nr] = _call_hooks(hooks, grads[nr])
    if node.retained:
        for nr, ref in node.retained.items():
            t = ref()
            if t is not None and grads[nr] is not None:
                _pend(pending, (t,), grads[nr].detach())
    return grads


def _run_prehooks(node, grads):
    grads = tuple(grads)
    for h in node.fn_hooks[0]:
        out = h(grads)
        if out is not None:
            grads = _checked_hook_result(h, out, len(grads))
    return list(grads)


def _run_posthooks(node, in_grads, grads):
    in_grads = tuple(g if e is not None else None for g, e in zip(in_grads, node.next))
    for h in node.fn_hooks[1]:
        out = h(in_grads, tuple(grads))
        if out is not None:
            in_grads = _checked_hook_result(h, out, len(in_grads))
    return in_grads


def _checked_hook_result(hook, out, n):
    if not isinstance(out, (tuple, list)):
        out = (out,)
    if len(out) != n:
        raise RuntimeError(
            f"hook '{getattr(hook, '__name__', hook)}' has returned an incorrect number of "
            f"values (got {len(out)}, but expected {n})"
        )
    return tuple(out)


def _apply_rule_checked(node, grads, create_graph):
    """``_apply_rule`` in anomaly mode: NaN checks and the forward call site on errors."""
    try:
        out = _apply_rule(node, grads, create_graph)
        if _state.anomaly_nan:
            for i, g in enumerate(out):
                if g is not None and _has_nan(g):
                    raise RuntimeError(
                        f"Function '{node.name()}' returned nan values in its {i}th output."
                    )
    except Exception as exc:
        if node.trace is not None and not getattr(exc, "_polytorch_traced", False):
            exc._polytorch_traced = True
            exc.add_note(
                f"Error detected in {node.name()}. Traceback of forward call that caused the "
                "error:\n" + "".join(traceback.format_list(node.trace)).rstrip()
            )
        raise
    return out


def _has_nan(g) -> bool:
    if g._dtype.kind not in "fc":
        return False
    xp = g._device._impl[1].xp
    return bool(xp.any(xp.isnan(g._data)))


def _apply_rule(node, grads, create_graph):
    if all(g is None for g in grads):
        return (None,) * len(node.next)
    if node.n_out == 1:
        grad = grads[0]
    elif node.out_meta is None:  # the rule materializes (custom Functions)
        grad = tuple(grads)
    else:
        grad = tuple(
            g if g is not None else _zeros_for(node.out_meta[i]) for i, g in enumerate(grads)
        )
    ctx = Context(node)
    out = node.op.vjp(ctx, grad)
    if not isinstance(out, tuple):
        out = (out,)
    if len(out) != len(node.next):
        raise RuntimeError(
            f"gradient rule of {node.op.name!r} returned {len(out)} gradients for "
            f"{len(node.next)} inputs"
        )
    return out


def _zeros_for(meta):
    from .._tensor import _wrap

    shape, dtype, device, backend = meta
    xp = backend.xp
    return _wrap(xp.zeros(shape, dtype=backend.native_dtype(dtype), device=device._native),
                 device, dtype)


def _deliver_leaf(t, g, capture, results, accumulate, create_graph):
    if capture is not None:
        idx = capture.get(id(t))
        if idx is not None:
            if t._hooks:
                g = _call_hooks(t._hooks, g)
            for i in idx:
                results[i] = g if results[i] is None else results[i] + g
        return
    if not accumulate or not t._requires_grad:
        return
    if t._hooks:
        g = _call_hooks(t._hooks, g)
    old = t._grad
    if old is None:
        if not create_graph:
            # Note [A leaf's .grad owns its memory]
            # Gradient rules may pass one tensor to several inputs (add gives the
            # same grad to both); an in-place update of one .grad (clip_grad_norm_)
            # must not change another. A fresh array on mutable backends, a fresh
            # handle (not a view) on immutable ones.
            from .._tensor import _wrap

            data = g._data
            if t._device._impl[1].mutable:
                data = g._device._impl[1].xp.asarray(data, copy=True)
            g = _wrap(data, g._device, g._dtype)
        t._grad = g
    else:
        t._grad = old + (g if create_graph else g.detach())
    if t._post_hooks:
        for h in t._post_hooks:
            h(t)
