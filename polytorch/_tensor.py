"""The Tensor: a light handle on a backend array, its device, dtype and autograd state.

Ops are attached as methods in polytorch/_tensor_methods.py; this file holds the
state, the autograd-facing API, conversions, in-place writes and views.
"""

from __future__ import annotations

import weakref

from . import _dtype as D
from ._device import resolve
from .autograd import _grad_mode

_state = _grad_mode.state


class Size(tuple):
    """A tensor's shape: a tuple, as ``torch.Size`` is."""

    __slots__ = ()

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self) -> str:
        return f"polytorch.Size([{', '.join(map(str, self))}])"


class Tensor:
    """A multi-dimensional array on a device, with define-by-run autograd.

    Create tensors with ``polytorch.tensor``, ``zeros``, ``arange``... rather than
    this constructor.
    """

    __slots__ = (
        "_data", "_device", "_dtype", "_requires_grad", "_grad_fn", "_grad", "_vc",
        "_view", "_views", "_hooks", "_post_hooks", "_retains", "_inference", "__weakref__",
    )

    # The array API's `__array_priority__` equivalent: make NumPy defer to us.
    __array_priority__ = 1000

    def __init__(self, *args, **kwargs):
        raise TypeError(
            "use polytorch.tensor(data), polytorch.zeros(...), polytorch.empty(...) and friends "
            "to create tensors"
        )

    # -- basic properties ---------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        """The shape, or the size of dimension ``dim``."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self.ndim, "size")]

    @property
    def ndim(self) -> int:
        return len(self._data.shape)

    def dim(self) -> int:
        return len(self._data.shape)

    ndimension = dim

    def numel(self) -> int:
        n = 1
        for s in self._data.shape:
            n *= s
        return n

    nelement = numel

    def __len__(self) -> int:
        if not self._data.shape:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    @property
    def dtype(self) -> D.dtype:
        return self._dtype

    @property
    def device(self):
        return self._device

    @property
    def is_cuda(self) -> bool:
        return self._device.type == "cuda"

    def pin_memory(self, device=None) -> Tensor:
        """Accepted for PyTorch scripts: host memory is not page-locked here, so ``self``."""
        return self

    def is_pinned(self, device=None) -> bool:
        return False

    @property
    def is_cpu(self) -> bool:
        return self._device.type == "cpu"

    def is_floating_point(self) -> bool:
        return self._dtype.is_floating_point

    def is_complex(self) -> bool:
        return self._dtype.is_complex

    def element_size(self) -> int:
        return self._dtype.itemsize

    @property
    def itemsize(self) -> int:
        return self._dtype.itemsize

    # -- autograd state ------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set whether autograd records ops on this leaf tensor; returns ``self``."""
        if self._grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to "
                    "use a computed variable in a subgraph that doesn't require differentiation "
                    "use var_no_grad = var.detach()."
                )
            return self
        if requires_grad and self._dtype.kind not in "fc":
            raise RuntimeError(
                f"only Tensors of floating point and complex dtype can require gradients, "
                f"got {self._dtype}"
            )
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad must be a Tensor or None, got {type(value).__name__}"
                )
            if value.shape != self.shape:
                raise RuntimeError(
                    f"assigned grad has data of a different size: {list(value.shape)} vs "
                    f"{list(self.shape)}"
                )
            if value._dtype is not self._dtype:
                raise RuntimeError(
                    f"assigned grad has data of a different type: {value._dtype} vs {self._dtype}"
                )
            if value._device != self._device:
                raise RuntimeError(
                    f"assigned grad has data located on a different device: {value._device} vs "
                    f"{self._device}"
                )
        self._grad = value

    @property
    def grad_fn(self):
        return None if self._grad_fn is None else self._grad_fn[0]

    def is_inference(self) -> bool:
        """Whether this tensor was made inside ``polytorch.inference_mode()``."""
        return self._inference

    @property
    def is_leaf(self) -> bool:
        return self._grad_fn is None

    @property
    def _version(self) -> int:
        return 0 if self._vc is None else self._vc[0]

    @property
    def retains_grad(self) -> bool:
        return bool(self._retains)

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if self._grad_fn is None:
            if not self._requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        node, nr = self._grad_fn
        if node.retained is None:
            node.retained = {}
        node.retained[nr] = weakref.ref(self)
        self._retains = True

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new one.

        Returns a handle whose ``remove()`` unregisters the hook.
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            node, nr = self._grad_fn
            if node.hooks is None:
                node.hooks = {}
            hooks = node.hooks.setdefault(nr, [])
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` after a gradient was accumulated into this leaf's ``.grad``."""
        if self._grad_fn is not None:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors"
            )
        if self._post_hooks is None:
            self._post_hooks = []
        self._post_hooks.append(hook)
        return _RemovableHandle(self._post_hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate the gradient of this tensor into the ``.grad`` of the leaves."""
        from .autograd import backward

        backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph,
                 inputs=inputs)

    def detach(self) -> Tensor:
        """A tensor sharing this one's data, outside the graph."""
        out = _wrap(self._data, self._device, self._dtype)
        _make_view(out, self, _ALIAS)
        return out

    def detach_(self) -> Tensor:
        if self._view is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self) -> Tensor:
        out = _wrap(self._data, self._device, self._dtype)
        _make_view(out, self, _ALIAS, share_version=False)
        return out

    @data.setter
    def data(self, value: Tensor) -> None:
        self._data = value._data
        self._device = value._device
        self._dtype = value._dtype

    # -- conversions -------------------------------------------------------------------
    def numpy(self, *, force: bool = False):
        """The values as a NumPy array (sharing memory on the NumPy backend, as in PyTorch)."""
        if self._requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        return self._device._impl[1].to_numpy(self._data)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        n = self.numel()
        if n != 1:
            raise RuntimeError(
                f"a Tensor with {n} elements cannot be converted to Scalar "
                f"(shape {list(self.shape)}); use .tolist() or index it first"
            )
        return self._device._impl[1].to_numpy(self._data).reshape(()).item()

    def tolist(self):
        """The values as (nested) Python lists of numbers."""
        return self._device._impl[1].to_numpy(self._data).tolist()

    def __float__(self):
        return float(self._scalar())

    def __int__(self):
        return int(self._scalar())

    def _scalar(self):
        if self.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __bool__(self):
        n = self.numel()
        if n != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with more than one value is ambiguous "
                f"(shape {list(self.shape)})"
            )
        return bool(self.item())

    def __index__(self):
        if self._dtype.kind not in "biu" or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __array__(self, dtype=None, copy=None):
        import numpy as np

        arr = np.asarray(self._device._impl[1].to_numpy(self._data))
        return arr if dtype is None else arr.astype(dtype)

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        if self._requires_grad:
            raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
        kwargs = {}
        if stream is not None:
            kwargs["stream"] = stream
        if max_version is not None:
            kwargs["max_version"] = max_version
        if dl_device is not None:
            kwargs["dl_device"] = dl_device
        if copy is not None:
            kwargs["copy"] = copy
        try:
            return self._data.__dlpack__(**kwargs)
        except TypeError:
            if "max_version" in kwargs and len(kwargs) == 1:
                return self._data.__dlpack__()
            raise

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def to(self, *args, **kwargs) -> Tensor:
        """Move and/or cast: ``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(other)``.

        Returns ``self`` when nothing changes (as PyTorch does); ``copy=True`` forces a copy.
        """
        device, dtype, copy = _parse_to(args, kwargs)
        from .ops import shape as _shape_ops  # noqa: F401 (ops register on import)
        from .ops.transfer import cast, transfer

        out = self
        # A narrowing cast goes first: less data moves, and the target device need
        # not hold the source dtype (float64 -> a device without float64).
        narrow_first = dtype is not None and dtype.itemsize <= out._dtype.itemsize
        if narrow_first and dtype is not out._dtype:
            out = cast(out, dtype)
        if device is not None:
            dev, _ = resolve(device)
            if dev != out._device:
                out = transfer(out, dev)
        if dtype is not None and dtype is not out._dtype:
            out = cast(out, dtype)
        if copy and out is self:
            out = self.clone()
        return out

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self, device=None) -> Tensor:
        if device is None:
            device = "cuda"
        elif isinstance(device, int):
            device = f"cuda:{device}"
        return self.to(device)

    def type(self, dtype=None):
        if dtype is None:
            return f"polytorch.{_TYPE_NAMES[self._dtype]}Tensor"
        return self.to(D.as_dtype(dtype))

    def float(self) -> Tensor:
        return self.to(D.float32)

    def double(self) -> Tensor:
        return self.to(D.float64)

    def half(self) -> Tensor:
        return self.to(D.float16)

    def bfloat16(self) -> Tensor:
        return self.to(D.bfloat16)

    def long(self) -> Tensor:
        return self.to(D.int64)

    def int(self) -> Tensor:
        return self.to(D.int32)

    def bool(self) -> Tensor:
        return self.to(D.bool)

    # -- printing -------------------------------------------------------------------------
    def __repr__(self) -> str:
        from ._printing import tensor_repr

        return tensor_repr(self)

    __str__ = __repr__

    def __format__(self, spec):
        if self.ndim == 0:
            return format(self.item(), spec)
        return repr(self)

    def __hash__(self):
        return id(self)

    def __iter__(self):
        if not self._data.shape:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __deepcopy__(self, memo):
        # PyTorch's rule: graph leaves copy (values, requires_grad and .grad); a
        # tensor inside a graph does not, as its history cannot be copied.
        if self._grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the "
                "deepcopy protocol at the moment (detach() it first)"
            )
        if id(self) in memo:
            return memo[id(self)]
        from .autograd._grad_mode import no_grad

        with no_grad():
            out = self.clone()
        out._requires_grad = self._requires_grad
        memo[id(self)] = out
        if self._grad is not None:
            out._grad = self._grad.__deepcopy__(memo)
        return out

    def __reduce_ex__(self, proto):
        raise TypeError(
            "polytorch tensors are not pickled; use polytorch.save / polytorch.load "
            "(safetensors) to store them"
        )


_TYPE_NAMES = {D.float32: "Float", D.float64: "Double", D.float16: "Half", D.bfloat16: "BFloat16",
               D.int64: "Long", D.int32: "Int", D.int16: "Short", D.int8: "Char",
               D.uint8: "Byte", D.bool: "Bool", D.complex64: "ComplexFloat",
               D.complex128: "ComplexDouble"}


def _type_desc(t) -> str:
    """``torch.FloatTensor [3, 4]`` as PyTorch names tensors in autograd errors."""
    return f"polytorch.{_TYPE_NAMES[t._dtype]}Tensor [{', '.join(map(str, t._data.shape))}]"


class _RemovableHandle:
    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks, hook):
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        try:
            self._hooks.remove(self._hook)
        except ValueError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _wrap(data, device, dtype, cls=None) -> Tensor:
    """A new tensor (of ``cls``: Tensor by default) around a backend array (no checks: the
    caller knows device and dtype)."""
    t = object.__new__(cls or Tensor)
    t._data = data
    t._device = device
    t._dtype = dtype
    t._requires_grad = False
    t._grad_fn = None
    t._grad = None
    t._vc = None
    t._view = None
    t._views = None
    t._hooks = None
    t._post_hooks = None
    t._retains = False
    t._inference = _state.inference
    return t


def _wrap_dim(dim: int, ndim: int, what: str = "dim") -> int:
    n = max(ndim, 1)
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"{what}: dim must be an int, got {type(dim).__name__}")
    if dim < -n or dim >= n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    return dim % n


def _parse_to(args, kwargs):
    from ._device import device as Device

    device = kwargs.pop("device", None)
    dtype = D.as_dtype(kwargs.pop("dtype", None))
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            device, dtype = a._device, a._dtype
        elif isinstance(a, D.dtype):
            dtype = a
        elif isinstance(a, (str, Device)):
            device = a
        elif a is None:
            continue
        else:
            try:
                dtype = D.as_dtype(a)
            except TypeError:
                raise TypeError(
                    f"to() expects a device, a dtype or a tensor, got {a!r}"
                ) from None
    return device, dtype, copy


# ---------------------------------------------------------------------------------
# Note [Views and in-place ops on every backend]
# PyTorch's views share memory with their base: writing into ``x[0]`` changes
# ``x``. NumPy and CuPy views alias natively; JAX arrays are immutable. So the
# frontend records, for every view, its root tensor and the steps that derive it
# (getitem, reshape, permute, expand, alias), and shares one version counter
# between a root and its views. An in-place write then:
#   * without autograd on a mutable backend: writes the array (aliasing does the rest);
#   * without autograd on an immutable backend: rebinds the array, scatters the
#     new values into the root and re-derives the root's other live views;
#   * with autograd through a view: rebuilds the root with a differentiable
#     scatter (``setitem``, inverse reshape or permute) and re-derives the view
#     from it, so gradients flow to the root as PyTorch's CopySlices does.
# Every backend thus shows the same values, versions and gradients.
# ---------------------------------------------------------------------------------

_ALIAS = ("alias", None)

# Steps whose result does not share memory with its input even on a mutable
# backend (a reshape the library had to copy, a diagonal): writes through a
# view made by one are scattered into the root, and the root's views re-derived.
_NON_ALIASING = frozenset({"reshape_nc", "diagonal"})


def _make_view(out: Tensor, base: Tensor, step, share_version: bool = True) -> Tensor:
    if base._view is not None:
        root, steps = base._view
    else:
        root, steps = base, ()
    out._view = (root, steps + (step,))
    if share_version:
        vc = root._vc
        if vc is None:
            vc = root._vc = [0]
        out._vc = vc
    # The root knows its live views: to re-derive their arrays after a write on
    # immutable backends, and their graph after a recorded write on all backends.
    if root._views is None:
        root._views = weakref.WeakSet()
    root._views.add(out)
    return out


def _non_aliasing(steps) -> bool:
    for kind, _ in steps:
        if kind in _NON_ALIASING:
            return True
    return False


def _forward_step(xp, arr, step):
    kind, arg = step
    if kind == "alias":
        return arr
    if kind == "getitem":
        return arr[arg]
    if kind == "reshape" or kind == "reshape_nc":
        return xp.reshape(arr, arg)
    if kind == "permute":
        return xp.permute_dims(arr, arg)
    if kind == "expand":
        return xp.broadcast_to(arr, arg)
    if kind == "diagonal":
        from .ops.shape import _diagonal_array

        return _diagonal_array(xp, arr, *arg)
    raise AssertionError(kind)


def _derive(xp, root_arr, steps):
    for step in steps:
        root_arr = _forward_step(xp, root_arr, step)
    return root_arr


def _scatter_array(backend, root_arr, steps, value):
    """The root array with the view described by ``steps`` replaced by ``value``."""
    xp = backend.xp
    if not steps:
        return value
    kind, arg = steps[0]
    if kind == "alias":
        return _scatter_array(backend, root_arr, steps[1:], value)
    inner = _forward_step(xp, root_arr, steps[0])
    new_inner = _scatter_array(backend, inner, steps[1:], value)
    if kind == "getitem":
        if backend.mutable:
            root_arr = xp.asarray(root_arr, copy=True)
        return backend.setitem(root_arr, arg, new_inner)
    if kind == "reshape" or kind == "reshape_nc":
        return xp.reshape(new_inner, root_arr.shape)
    if kind == "permute":
        return xp.permute_dims(new_inner, _inverse_perm(arg))
    if kind == "diagonal":
        from .ops.shape import _diagonal_scatter_array

        return _diagonal_scatter_array(backend, root_arr, new_inner, *arg)
    raise RuntimeError(_EXPANDED_WRITE)


def _scatter_tensor(root: Tensor, steps, value: Tensor) -> Tensor:
    """Differentiable version of ``_scatter_array`` in polytorch ops."""
    from .ops import shape as S

    if not steps:
        return value
    kind, arg = steps[0]
    if kind == "alias":
        return _scatter_tensor(root, steps[1:], value)
    inner = _derive_tensor(root, steps[:1])
    new_inner = _scatter_tensor(inner, steps[1:], value)
    if kind == "getitem":
        return S.setitem_op(root, new_inner, key=arg)
    if kind == "reshape" or kind == "reshape_nc":
        return S.reshape_op(new_inner, shape=tuple(root._data.shape))
    if kind == "permute":
        return S.permute_op(new_inner, dims=_inverse_perm(arg))
    if kind == "diagonal":
        offset, dim1, dim2 = arg
        return S.diagonal_scatter_op(root, new_inner, offset=offset, dim1=dim1, dim2=dim2)
    raise RuntimeError(_EXPANDED_WRITE)


def _derive_tensor(root: Tensor, steps) -> Tensor:
    from .ops import shape as S

    t = root
    for kind, arg in steps:
        if kind == "getitem":
            t = S.getitem_op(t, key=arg)
        elif kind == "reshape" or kind == "reshape_nc":
            t = S.reshape_op(t, shape=arg)
        elif kind == "permute":
            t = S.permute_op(t, dims=arg)
        elif kind == "expand":
            t = S.expand_op(t, shape=arg)
        elif kind == "diagonal":
            offset, dim1, dim2 = arg
            t = S.diagonal_op(t, offset=offset, dim1=dim1, dim2=dim2)
    return t


_EXPANDED_WRITE = (
    "unsupported operation: more than one element of the written-to tensor refers to a single "
    "memory location (it is an expanded view). Please clone() the tensor before performing the "
    "operation."
)


def _inverse_perm(perm):
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


# ---------------------------------------------------------------------------------
# Note [Logical strides]
# PyTorch code relies on layouts: ``view`` refuses a tensor whose elements it
# cannot address with new strides ("Use .reshape(...) instead"), and
# ``x.t().contiguous().view(-1)`` is the idiom around it. Backends keep their own
# physical layouts (NumPy may even store a fresh result in Fortran order), so the
# frontend models PyTorch's: a root tensor (any op's result) is C-contiguous, and
# a view's strides follow from its root's shape and the steps that derive it
# (slicing multiplies strides, permute reorders them, expand zeroes them, a
# reshape view uses PyTorch's computeStride). Nothing is stored: strides are
# computed when ``view``, ``is_contiguous`` or ``stride`` asks.
# Known difference: PyTorch's elementwise results and clones keep their inputs'
# layout (``(x.t() * 2).is_contiguous()`` is False there); here they are contiguous.
# ---------------------------------------------------------------------------------


def _contiguous_strides(shape) -> tuple:
    strides = [1] * len(shape)
    acc = 1
    for i in range(len(shape) - 1, -1, -1):
        strides[i] = acc
        acc *= max(shape[i], 1)
    return tuple(strides)


def _is_contiguous(shape, strides) -> bool:
    expected = 1
    for size, stride in zip(reversed(shape), reversed(strides)):
        if size == 0:
            return True
        if size != 1:
            if stride != expected:
                return False
            expected *= size
    return True


def _view_strides(oldshape, oldstride, newshape):
    """Strides of ``newshape`` addressing the same elements, or None (ATen's computeStride)."""
    if not oldshape:
        return (1,) * len(newshape)
    numel = 1
    for s in oldshape:
        numel *= s
    if numel == 0:
        if tuple(oldshape) == tuple(newshape):
            return tuple(oldstride)
        return _contiguous_strides(newshape)
    newstride = [0] * len(newshape)
    view_d = len(newshape) - 1
    chunk_base_stride = oldstride[-1]
    tensor_numel = 1
    view_numel = 1
    for tensor_d in range(len(oldshape) - 1, -1, -1):
        tensor_numel *= oldshape[tensor_d]
        if tensor_d == 0 or (oldshape[tensor_d - 1] != 1
                             and oldstride[tensor_d - 1] != tensor_numel * chunk_base_stride):
            while view_d >= 0 and (view_numel < tensor_numel or newshape[view_d] == 1):
                newstride[view_d] = view_numel * chunk_base_stride
                view_numel *= newshape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base_stride = oldstride[tensor_d - 1]
                tensor_numel = 1
                view_numel = 1
    if view_d != -1:
        return None
    return tuple(newstride)


def _layout(t: Tensor) -> tuple:
    """``(shape, strides)`` of ``t`` in PyTorch's terms (Note [Logical strides])."""
    if t._view is None:
        shape = tuple(t._data.shape)
        return shape, _contiguous_strides(shape)
    root, steps = t._view
    shape = tuple(root._data.shape)
    strides = _contiguous_strides(shape)
    for kind, arg in steps:
        if kind == "getitem":
            shape, strides = _getitem_layout(shape, strides, arg)
        elif kind == "reshape" or kind == "reshape_nc":
            new = _view_strides(shape, strides, arg)
            strides = _contiguous_strides(arg) if new is None else new
            shape = tuple(arg)
        elif kind == "permute":
            shape = tuple(shape[d] for d in arg)
            strides = tuple(strides[d] for d in arg)
        elif kind == "expand":
            lead = len(arg) - len(shape)
            strides = (0,) * lead + tuple(
                0 if (old == 1 and new != 1) else st
                for old, new, st in zip(shape, arg[lead:], strides))
            shape = tuple(arg)
        elif kind == "diagonal":
            offset, d1, d2 = arg
            keep = [d for d in range(len(shape)) if d not in (d1, d2)]
            size = max(0, min(shape[d1] - max(0, -offset), shape[d2] - max(0, offset)))
            shape = tuple(shape[d] for d in keep) + (size,)
            strides = tuple(strides[d] for d in keep) + (strides[d1] + strides[d2],)
    return shape, strides


def _getitem_layout(shape, strides, key):
    n_real = sum(1 for k in key if k is not None and k is not Ellipsis)
    out_shape, out_strides = [], []
    dim = 0
    for k in key:
        if k is Ellipsis:
            span = len(shape) - n_real
            out_shape += shape[dim:dim + span]
            out_strides += strides[dim:dim + span]
            dim += span
        elif k is None:
            # As unsqueeze: the stride that steps over the next dimension.
            out_strides.append(shape[dim] * strides[dim] if dim < len(shape) else 1)
            out_shape.append(1)
        elif isinstance(k, slice):
            out_shape.append(len(range(k.start, k.stop, k.step)))
            out_strides.append(strides[dim] * k.step)
            dim += 1
        else:
            dim += 1
    return tuple(out_shape), tuple(out_strides)


def _check_inplace(self: Tensor, what: str) -> None:
    """Errors PyTorch raises before an in-place op, so nothing is modified."""
    if _state.enabled and self._requires_grad and self._grad_fn is None and self._view is None:
        raise RuntimeError(
            f"a leaf Variable that requires grad is being used in an in-place operation "
            f"({what}). Wrap it in polytorch.no_grad() to update parameters."
        )
    if self._view is not None:
        root = self._view[0]
        if _state.enabled and self._requires_grad and root._requires_grad and \
                root._grad_fn is None and _ALIAS not in self._view[1]:
            raise RuntimeError(
                f"a view of a leaf Variable that requires grad is being used in an in-place "
                f"operation ({what})."
            )
        if any(k == "expand" for k, _ in self._view[1]):
            raise RuntimeError(_EXPANDED_WRITE)


def _commit(self: Tensor, result: Tensor, what: str) -> Tensor:
    """Make ``self`` hold ``result``'s values (and graph), as an in-place op does."""
    if result._dtype is not self._dtype:
        if not D.can_cast(result._dtype, self._dtype):
            raise RuntimeError(
                f"result type {_TYPE_NAMES[result._dtype]} can't be cast to the desired output "
                f"type {_TYPE_NAMES[self._dtype]} (in {what})"
            )
        from .ops.transfer import cast

        result = cast(result, self._dtype)
    _check_fits(self, result._data.shape, what)
    backend = self._device._impl[1]
    tracked = result._requires_grad and _state.enabled
    view = self._view
    if view is not None and tracked and _ALIAS not in view[1]:
        # Autograd through a view: rebuild the root differentiably (CopySlices).
        root, steps = view
        new_root = _scatter_tensor(root, steps, result)
        _rebind(root, new_root._data, backend, new_root._grad_fn)
        root._requires_grad = True
        fresh = _derive_tensor(root, steps)
        self._data, self._grad_fn, self._requires_grad = fresh._data, fresh._grad_fn, True
        _refresh_views(root, backend, skip=self, graph=True)
    elif view is not None and (not backend.mutable or _non_aliasing(view[1])):
        root, steps = view
        new_root = _scatter_array(backend, root._data, steps, result._data)
        if backend.mutable:
            backend.assign(root._data, new_root)  # in place: aliasing views see it
        else:
            root._data = new_root
        self._data = _derive(backend.xp, root._data, steps)
        _refresh_views(root, backend, skip=self)
    else:
        _rebind(self, result._data, backend, self._grad_fn)
        if view is not None:
            _refresh_views(view[0], backend, skip=self)  # views that do not alias
    if tracked and (view is None or _ALIAS in view[1]):
        self._grad_fn = result._grad_fn
        self._requires_grad = True
    if view is None and self._views:
        _refresh_views(self, backend, graph=tracked)
    _bump(self)
    return self


def _check_fits(self: Tensor, shape, what: str) -> None:
    if tuple(shape) != self._data.shape:
        raise RuntimeError(
            f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
            f"{list(shape)} (in {what})"
        )


def _rebind(t: Tensor, data, backend, grad_fn) -> None:
    if backend.mutable and t._data is not data:
        backend.assign(t._data, data)
    else:
        t._data = data
    t._grad_fn = grad_fn


def _refresh_views(root: Tensor, backend, skip=None, graph: bool = False) -> None:
    """Bring ``root``'s live views up to date after an in-place write to it.

    On immutable backends their arrays are re-derived from the root's. With
    ``graph`` (the write was recorded) their ``grad_fn`` is re-derived too, so a
    view taken before the write backpropagates through it, as in PyTorch;
    detached aliases stay outside the graph.
    """
    if not root._views:
        return
    xp = backend.xp
    mutable = backend.mutable
    for v in list(root._views):
        if v is skip:
            continue
        steps = v._view[1]
        stale = not mutable or _non_aliasing(steps)
        if graph and _ALIAS not in steps:
            fresh = _derive_tensor(root, steps)
            v._grad_fn, v._requires_grad = fresh._grad_fn, fresh._requires_grad
            if stale:
                v._data = fresh._data
        elif stale:
            v._data = _derive(xp, root._data, steps)


def _bump(t: Tensor) -> None:
    vc = t._vc
    if vc is None:
        t._vc = [1]
    else:
        vc[0] += 1
