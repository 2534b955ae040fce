"""The backend contract, and a base that makes any array-API namespace a backend.

A backend is bindings, not policy (ARCHITECTURE §3): it names its namespace
``xp``, its device types and devices, declares capabilities as data, and moves
arrays to and from the host. Dtype promotion, argument checks and error text
live in the frontend, once.
"""

from __future__ import annotations

from .. import _dtype as D

# The DLPack device-type codes of the standard, for placing foreign arrays.
DLPACK_CPU, DLPACK_CUDA, DLPACK_ROCM = 1, 2, 10


class Backend:
    """Base class for backends over an array-API namespace.

    Subclasses set ``name``, ``device_types`` and ``xp`` (or override
    ``_load_namespace``), and override what their library does differently.
    A third-party backend should start from ``InfoBackend``, which needs less.

    Capabilities (data, checked by the frontend; see ``capabilities``):
        mutable: arrays support in-place ``__setitem__`` (False: JAX).
        dlpack: arrays can be exchanged through DLPack (``__dlpack__`` and
            ``xp.from_dlpack``); the conformance suite tests it where True.
        kernels: op name -> native kernel ``fn(xp, *arrays, **params)``, with the
            signature of the op's forward, used instead of the reference written
            over ``xp`` (the conformance suite checks it against the reference).
        expected_failures: conformance test id or ``fnmatch`` pattern -> reason.
        supported_dtypes(type, index): the dtypes a device holds; anything else
            is refused with an error naming what the device supports.
    """

    name: str = ""
    device_types: tuple[str, ...] = ("cpu",)
    mutable: bool = True
    dlpack: bool = True
    kernels: dict = {}
    expected_failures: dict = {}
    # The library warns on floating-point errors (NumPy's divide-by-zero and
    # invalid-value warnings); PyTorch never does, so such ops run quietly.
    quiet_context = None

    def __init__(self):
        self.xp = self._load_namespace()
        if self.quiet_context is not None:
            self._register_quiet_kernels()
        if self.kernels:
            self._register_kernels(self.kernels)
        self._to_native = {}
        self._from_native = {}
        for d in D.ALL_DTYPES:
            nd = self._native_dtype_or_none(d)
            if nd is not None:
                self._to_native[d] = nd
                self._from_native[nd] = d
        self._dtype_cache = {}

    def _register_quiet_kernels(self) -> None:
        from ..ops._registry import REGISTRY

        for op in REGISTRY.values():
            if op.quiet and self.name not in op.kernels:
                op.kernels[self.name] = self._quiet_kernel(op.forward)

    def _register_kernels(self, kernels: dict) -> None:
        from ..ops._registry import REGISTRY

        unknown = sorted(set(kernels) - set(REGISTRY))
        if unknown:
            raise ValueError(
                f"backend {self.name!r} declares kernels for unknown ops {unknown}; "
                f"kernels replace registered ops (polytorch.ops registry)"
            )
        for op_name, fn in kernels.items():
            REGISTRY[op_name].kernels[self.name] = fn

    def capabilities(self, type_: str, index: int = 0) -> dict:
        """The device's capabilities as data: what the frontend checks and the report shows.

        Example:
            >>> polytorch.backends.load("numpy").capabilities("cpu")["mutable"]
            True
        """
        return {
            "dtypes": sorted(d.name for d in self.supported_dtypes(type_, index)),
            "mutable": self.mutable,
            "dlpack": self.dlpack,
            "kernels": sorted(self.kernels),
        }

    def _quiet_kernel(self, forward):
        """``forward`` run under ``quiet_context``."""
        quiet = self.quiet_context

        def kernel(xp, *args, **params):
            with quiet():
                return forward(xp, *args, **params)

        return kernel

    # -- what a subclass provides -----------------------------------------
    def _load_namespace(self):
        raise NotImplementedError

    def device_count(self, type_: str) -> int:
        return 1 if type_ == "cpu" else 0

    def native_device(self, type_: str, index: int):
        """The library's own device object for ``type_:index``."""
        return None

    def _native_dtype_or_none(self, d: D.dtype):
        return getattr(self.xp, d.name, None)

    def supported_dtypes(self, type_: str, index: int) -> frozenset:
        """The polytorch dtypes this device can hold (a capability, declared as data)."""
        return frozenset(self._to_native)

    # -- dtypes --------------------------------------------------------------
    def native_dtype(self, d: D.dtype):
        return self._to_native[d]

    def dtype_of(self, array) -> D.dtype:
        return self._from_native[array.dtype]

    # -- creation and transfer ------------------------------------------------
    def asarray(self, obj, dtype: D.dtype, native_device):
        """An array of ``dtype`` on the device from nested lists, scalars or host arrays."""
        return self.xp.asarray(obj, dtype=self._to_native[dtype], device=native_device)

    def from_numpy(self, array, native_device, copy: bool = False):
        """A device array with a NumPy array's values (shared where possible unless ``copy``)."""
        return self.xp.asarray(array, device=native_device, copy=True if copy else None)

    def to_numpy(self, array):
        """A NumPy array with the values (a view where the array already lives on host)."""
        import numpy as np

        return np.asarray(array)

    def move(self, array, native_device):
        """The array on another device of this backend."""
        return self.xp.asarray(array, device=native_device, copy=True)

    def from_dlpack(self, obj, native_device):
        return self.xp.from_dlpack(obj)

    def device_of(self, array):
        """The device type and index an array of this library lives on."""
        return "cpu", None

    # -- mutation (Note [In-place ops on immutable arrays] in polytorch/_tensor.py) --
    def assign(self, dst, src):
        """Write ``src`` into ``dst`` and return the array the tensor should hold."""
        if self.mutable:
            dst[...] = src
            return dst
        return src

    def setitem(self, array, key, value):
        """``array`` with ``array[key] = value`` (in place when mutable); ``value`` broadcasts.

        ``key`` is a normalized basic key (polytorch.ops.shape.normalize_key); its
        ``None`` entries, which the array API allows only when reading, are dropped
        here together with the size-one axes they put into ``value``.
        """
        if None in key:
            key, value = _drop_newaxes(self.xp, key, value, len(array.shape))
        if self.mutable:
            array[key] = value
            return array
        return array.at[key].set(value)

    def scalar(self, value, dtype: D.dtype, native_device):
        """A Python number as an operand of a binary ``xp`` function of ``dtype``."""
        return self.xp.asarray(value, dtype=self._to_native[dtype], device=native_device)

    def __repr__(self) -> str:
        return f"<polytorch backend {self.name!r} types={self.device_types}>"


class InfoBackend(Backend):
    """The base for a backend over any array-API library: a few declarations, nothing more.

    Declare (class attributes):
        name: the backend's name (the entry point's name).
        device_types: the device types it serves, e.g. ``("mydev",)``.
        _load_namespace(): return the library's array-API namespace (imported here,
            so that nothing is imported before the device is used).
    And optionally:
        native_devices(): the library's devices; ``TYPE:i`` is the i-th. Default:
            ``xp.__array_namespace_info__().devices()``.
        supported_dtypes(type, index): default ``info.dtypes(device=...)``.
        mutable, dlpack, kernels, expected_failures, quiet_context (see ``Backend``).

    Everything else is inherited: creation from host data, transfers to and from
    the host (DLPack first, then the library's ``asarray``), moves between its
    devices, DLPack import, the reference kernel of every op (written over
    ``xp``) and the counter-based RNG (built from ``xp`` integer ops).

    Example (the whole backend of ``examples/strict_plugin``)::

        class StrictPluginBackend(InfoBackend):
            name = "strictplug"
            device_types = ("strictdev",)

            def _load_namespace(self):
                import array_api_strict
                return array_api_strict
    """

    def __init__(self):
        super().__init__()
        self._info = self.xp.__array_namespace_info__()
        self._devices = list(self.native_devices())

    def native_devices(self) -> list:
        """The library's device objects, in index order."""
        return list(self._info.devices())

    def device_count(self, type_: str) -> int:
        return len(self._devices) if type_ in self.device_types else 0

    def native_device(self, type_: str, index: int):
        return self._devices[index]

    def supported_dtypes(self, type_: str, index: int) -> frozenset:
        names = self._info.dtypes(device=self._devices[index])
        return frozenset(D.BY_NAME[n] for n in names
                         if n in D.BY_NAME and D.BY_NAME[n] in self._to_native)

    def device_of(self, array):
        return self.device_types[0], self._devices.index(array.device)

    def asarray(self, obj, dtype: D.dtype, native_device):
        import numpy as np

        try:
            host = np.asarray(obj, dtype=dtype.name)
        except TypeError:  # a dtype NumPy lacks (bfloat16): convert on the device
            host = np.asarray(obj)
            return self.xp.astype(self.from_numpy(host, native_device), self._to_native[dtype])
        return self.from_numpy(host, native_device, copy=True)

    def from_numpy(self, array, native_device, copy: bool = False):
        return self.xp.asarray(array, device=native_device, copy=True if copy else None)

    def to_numpy(self, array):
        import numpy as np

        try:
            return np.from_dlpack(array)
        except (BufferError, RuntimeError, TypeError, ValueError, AttributeError):
            pass  # not on the host: ask the library for a host copy
        try:
            return np.from_dlpack(array, device="cpu", copy=True)
        except (BufferError, RuntimeError, TypeError, ValueError, AttributeError):
            return np.asarray(array)

    def from_dlpack(self, obj, native_device):
        try:
            return self.xp.from_dlpack(obj, device=native_device)
        except TypeError:  # a library before the 2023.12 standard: no device argument
            return self.move(self.xp.from_dlpack(obj), native_device)


def _drop_newaxes(xp, key, value, ndim: int):
    """``key`` without ``None`` and ``value`` without the axes those entries added."""
    n_real = sum(1 for k in key if k is not None and k is not Ellipsis)
    newaxes = []
    pos = 0  # axis of ``key``'s result
    for k in key:
        if k is None:
            newaxes.append(pos)
            pos += 1
        elif k is Ellipsis:
            pos += ndim - n_real
        elif isinstance(k, slice):
            pos += 1
    key = tuple(k for k in key if k is not None)
    shape = getattr(value, "shape", None)
    if shape:
        full = (1,) * (pos - len(shape)) + tuple(shape)
        keep = tuple(s for i, s in enumerate(full) if i not in newaxes)
        value = xp.reshape(value, keep)
    return key, value

