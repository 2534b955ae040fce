"""``torch.cuda`` for polytorch: truthful answers about the backend serving ``cuda`` devices.

The backend that serves a bare ``"cuda"`` (CuPy unless ``POLYTORCH_BACKENDS`` or
``polytorch.backends.set_type_backend`` says e.g. ``cuda=jax``) answers every
question here. When that library is not installed nothing is imported:
``is_available()`` is False and ``device_count()`` 0, as in a CPU build of
PyTorch; the functions that need a device then raise a RuntimeError saying why.

Importing this package also imports ``polytorch.backends.cudnn``, ``.cuda`` and
``.mps``, so ``polytorch.backends.cudnn.benchmark = True`` works after
``import polytorch``.

Example:
    >>> import polytorch as torch
    >>> device = "cuda" if torch.cuda.is_available() else "cpu"
    >>> torch.cuda.device_count()
    0
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any

from .. import _random
from .._device import device as _Device
from ..backends import _registry
from ..backends import cuda as _backends_cuda  # noqa: F401 (polytorch.backends.cuda)
from ..backends import cudnn as _cudnn  # noqa: F401 (polytorch.backends.cudnn)
from ..backends import mps as _mps  # noqa: F401 (polytorch.backends.mps)
from . import amp

__all__ = [
    "amp", "current_device", "device", "device_count", "empty_cache", "get_device_capability",
    "get_device_name", "get_device_properties", "get_rng_state", "init", "initial_seed",
    "is_available", "is_bf16_supported", "is_initialized", "manual_seed", "manual_seed_all",
    "max_memory_allocated", "max_memory_reserved", "mem_get_info", "memory_allocated",
    "memory_reserved", "reset_peak_memory_stats", "seed", "seed_all", "set_device",
    "set_rng_state", "synchronize",
]

# The library each built-in backend imports: checked with find_spec, which imports nothing.
_LIBRARIES = {"cupy": "cupy", "jax": "jax"}
_current = 0  # the index set_device chose; a bare "cuda" still means cuda:0 in polytorch


def _backend_name() -> str | None:
    try:
        return _registry.backend_for_type("cuda")
    except Exception:  # no backend declares the type (a DeviceError): no CUDA here
        return None


def _cuda_backend_installed() -> bool:
    """Whether the backend serving ``cuda`` can be imported (imports nothing to find out)."""
    name = _backend_name()
    if name is None:
        return False
    library = _LIBRARIES.get(name)
    if library is not None:
        return importlib.util.find_spec(library) is not None
    return _registry.is_registered(name)


def _backend():
    """The loaded backend serving ``cuda``, or None when it is not installed or fails to load."""
    if not _cuda_backend_installed():
        return None
    try:
        return _registry.load(_backend_name())
    except _registry.BackendUnavailableError:
        return None


def _why_not() -> str:
    name = _backend_name()
    if name is None:
        return "no backend serves device type 'cuda'"
    if not _cuda_backend_installed():
        return (f"backend {name!r}, which serves device type 'cuda', is not installed "
                f"(pip install 'polytorch[cuda]' on a machine with an NVIDIA or AMD GPU)")
    try:
        _registry.load(name)
    except _registry.BackendUnavailableError as exc:
        return str(exc)
    return f"backend {name!r} sees no 'cuda' devices here"


def is_available() -> bool:
    """Whether a ``cuda`` device can be used: its backend is installed and sees a device.

    Example:
        >>> device = "cuda" if polytorch.cuda.is_available() else "cpu"
    """
    return device_count() > 0


def device_count() -> int:
    """How many ``cuda`` devices the serving backend sees (0 when it is not installed)."""
    backend = _backend()
    if backend is None:
        return 0
    try:
        return int(backend.device_count("cuda"))
    except Exception:  # a driver that cannot count devices has none usable
        return 0


def is_initialized() -> bool:
    """Whether the backend serving ``cuda`` has been loaded in this process."""
    name = _backend_name()
    return name is not None and name in _registry.loaded() and device_count() > 0


def init() -> None:
    """Load the backend serving ``cuda``; raises a RuntimeError saying why when there is none."""
    _require("init")


def _require(fn: str):
    backend = _backend()
    if backend is None or device_count() == 0:
        raise RuntimeError(f"polytorch.cuda.{fn}(): no CUDA device is available: {_why_not()}")
    return backend


def _index(dev: Any, fn: str) -> int:
    """The device index named by ``dev`` (None: the current device), checked against the count."""
    _require(fn)
    if dev is None:
        index = _current
    elif isinstance(dev, int) and not isinstance(dev, bool):
        index = dev
    else:
        d = dev if isinstance(dev, _Device) else _Device(dev)
        if d.type != "cuda":
            raise ValueError(f"polytorch.cuda.{fn}(): expected a cuda device, but got: {d}")
        index = _current if d.index is None else d.index
    count = device_count()
    if not 0 <= index < count:
        raise RuntimeError(
            f"polytorch.cuda.{fn}(): invalid device ordinal {index}: {count} cuda device(s) "
            f"(indices 0..{count - 1})"
        )
    return index


def current_device() -> int:
    """The index chosen by ``set_device`` (0 by default)."""
    _require("current_device")
    return _current


def set_device(device: Any) -> None:
    """Choose the index ``current_device()`` reports; a negative index does nothing.

    polytorch puts tensors where their device string says: a bare ``"cuda"`` is
    ``cuda:0`` whatever this is set to; write ``"cuda:1"`` to use device 1.
    """
    global _current
    if isinstance(device, int) and not isinstance(device, bool) and device < 0:
        return
    _current = _index(device, "set_device")


class device:  # noqa: N801 (PyTorch's name)
    """Context manager that makes ``device`` current for a block (``torch.cuda.device``)."""

    def __init__(self, device: Any) -> None:
        self.idx = -1 if device is None else device
        self.prev_idx = -1

    def __enter__(self) -> None:
        global _current
        self.prev_idx = _current
        set_device(self.idx)

    def __exit__(self, *exc: object) -> bool:
        global _current
        _current = self.prev_idx
        return False


# -- device facts ----------------------------------------------------------------------


@dataclass(frozen=True)
class _CudaDeviceProperties:
    name: str
    major: int
    minor: int
    total_memory: int
    multi_processor_count: int


def _native(fn: str, dev: Any):
    backend = _require(fn)
    index = _index(dev, fn)
    return backend, index, backend.native_device("cuda", index)


def _capability(text: str) -> tuple[int, int]:
    # CuPy writes "90" for 9.0, JAX "9.0".
    if "." in text:
        major, minor = text.split(".")[:2]
        return int(major), int(minor)
    return int(text[:-1]), int(text[-1])


def get_device_properties(device: Any = None) -> _CudaDeviceProperties:
    """Name, compute capability, memory and multiprocessor count of a ``cuda`` device."""
    return _properties(device, "get_device_properties")


def _properties(device: Any, fn: str) -> _CudaDeviceProperties:
    backend, index, native = _native(fn, device)
    if backend.name == "cupy":
        props = backend._cupy.cuda.runtime.getDeviceProperties(index)
        name = props["name"]
        return _CudaDeviceProperties(
            name.decode() if isinstance(name, bytes) else str(name), int(props["major"]),
            int(props["minor"]), int(props["totalGlobalMem"]), int(props["multiProcessorCount"]))
    major, minor = _capability(str(getattr(native, "compute_capability", "0.0")))
    stats = _memory_stats(backend, index, native)
    return _CudaDeviceProperties(
        str(getattr(native, "device_kind", native)), major, minor,
        int(stats.get("bytes_limit", 0)), int(getattr(native, "core_count", 0)))


def get_device_name(device: Any = None) -> str:
    """The device's product name, e.g. ``'NVIDIA H100 80GB HBM3'``."""
    return _properties(device, "get_device_name").name


def get_device_capability(device: Any = None) -> tuple[int, int]:
    """The device's compute capability ``(major, minor)``."""
    props = _properties(device, "get_device_capability")
    return props.major, props.minor


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """Whether the current ``cuda`` device holds bfloat16 tensors (False without CUDA)."""
    from .. import _dtype as D

    if not is_available():
        return False
    backend = _backend()
    return D.bfloat16 in backend.supported_dtypes("cuda", _current)


def synchronize(device: Any = None) -> None:
    """Wait until the device has finished the work queued on it (for timing code)."""
    backend, index, native = _native("synchronize", device)
    if backend.name == "cupy":
        backend._cupy.cuda.Device(index).synchronize()
    elif backend.name == "jax":
        # JAX has no device-wide barrier: wait for every live array instead.
        for array in backend._jax.live_arrays():
            array.block_until_ready()


# -- memory ----------------------------------------------------------------------------


def _memory_stats(backend, index: int, native) -> dict:
    """Allocator statistics in JAX's names: bytes_in_use, peak_bytes_in_use, ..."""
    if backend.name == "cupy":
        cupy = backend._cupy
        pool = cupy.get_default_memory_pool()
        with cupy.cuda.Device(index):
            used, held = pool.used_bytes(), pool.total_bytes()
            free, total = cupy.cuda.runtime.memGetInfo()
        # CuPy keeps no peak: the bytes its pool holds bound the peak since empty_cache().
        return {"bytes_in_use": used, "peak_bytes_in_use": held, "bytes_reserved": held,
                "peak_bytes_reserved": held, "bytes_limit": total, "bytes_free": free}
    stats = getattr(native, "memory_stats", None)
    return (stats() or {}) if callable(stats) else {}


def _stat(fn: str, device: Any, key: str) -> int:
    if not is_available():
        return 0  # PyTorch answers 0 without CUDA
    backend, index, native = _native(fn, device)
    return int(_memory_stats(backend, index, native).get(key, 0))


def memory_allocated(device: Any = None) -> int:
    """Bytes held by tensors on the device (0 without CUDA)."""
    return _stat("memory_allocated", device, "bytes_in_use")


def max_memory_allocated(device: Any = None) -> int:
    """Peak bytes held by tensors (CuPy keeps no peak: the bytes its pool holds, an upper bound)."""
    return _stat("max_memory_allocated", device, "peak_bytes_in_use")


def memory_reserved(device: Any = None) -> int:
    """Bytes the allocator holds on the device (0 without CUDA)."""
    return _stat("memory_reserved", device, "bytes_reserved")


def max_memory_reserved(device: Any = None) -> int:
    """Peak bytes the allocator held on the device (0 without CUDA)."""
    return _stat("max_memory_reserved", device, "peak_bytes_reserved")


def reset_peak_memory_stats(device: Any = None) -> None:
    """Accepted; neither CuPy nor JAX lets the peak be reset, so the peaks keep counting."""
    _require("reset_peak_memory_stats")


def mem_get_info(device: Any = None) -> tuple[int, int]:
    """``(free, total)`` bytes of device memory."""
    backend, index, native = _native("mem_get_info", device)
    stats = _memory_stats(backend, index, native)
    total = int(stats.get("bytes_limit", 0))
    return int(stats.get("bytes_free", total - stats.get("bytes_in_use", 0))), total


def empty_cache() -> None:
    """Return the CuPy pool's unused blocks to the driver (nothing to do elsewhere)."""
    name = _backend_name()
    backend = _registry.loaded().get(name) if name else None
    if backend is not None and backend.name == "cupy":
        backend._cupy.get_default_memory_pool().free_all_blocks()


# -- random numbers (the counter-based generators of polytorch/_random.py) -------------


def _generators(all_devices: bool) -> list:
    n = device_count()
    if n == 0:
        return []  # PyTorch seeds lazily; with no device there is nothing to seed
    indices = range(n) if all_devices else [_current]
    return [_random._default_for(_Device("cuda", i)) for i in indices]


def manual_seed(seed: int) -> None:
    """Seed the current ``cuda`` device's default generator (a no-op without CUDA)."""
    for g in _generators(False):
        g.manual_seed(seed)


def manual_seed_all(seed: int) -> None:
    """Seed every ``cuda`` device's default generator (a no-op without CUDA)."""
    for g in _generators(True):
        g.manual_seed(seed)


def seed() -> None:
    """Seed the current ``cuda`` device's generator non-deterministically."""
    for g in _generators(False):
        g.seed()


def seed_all() -> None:
    """Seed every ``cuda`` device's generator non-deterministically (one seed for all)."""
    gens = _generators(True)
    if gens:
        s = gens[0].seed()
        for g in gens[1:]:
            g.manual_seed(s)


def initial_seed() -> int:
    """The seed of the current ``cuda`` device's generator."""
    _require("initial_seed")
    return _generators(False)[0].initial_seed()


def get_rng_state(device: Any = "cuda"):
    """The state of a ``cuda`` device's generator, as a uint8 tensor."""
    return _random._default_for(_Device("cuda", _index(device, "get_rng_state"))).get_state()


def set_rng_state(new_state: Any, device: Any = "cuda") -> None:
    """Restore a state returned by ``get_rng_state``."""
    _random._default_for(_Device("cuda", _index(device, "set_rng_state"))).set_state(new_state)
