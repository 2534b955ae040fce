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

from . import _grad_mode

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
        "hooks", "retained", "freed", "holds_saved", "__weakref__",
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
        raise NotImplementedError(
            "Node.register_hook is not supported yet; use Tensor.register_hook"
        )


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
            if capture is not None:
                for nr, g in enumerate(grads):
                    idx = capture.get((k, nr))
                    if idx is not None:
                        for i in idx:
                            results[i] = g
            in_grads = _apply_rule(node, grads, create_graph)
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


def _apply_rule(node, grads, create_graph):
    if all(g is None for g in grads):
        return (None,) * len(node.next)
    if node.n_out == 1:
        grad = grads[0]
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
