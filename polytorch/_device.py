"""Device strings: the one parser (ARCHITECTURE §2).

    DEVICE := TYPE [":" INDEX] ["@" BACKEND]

A ``device`` names hardware (``type``, ``index``) and the backend that drives it.
When no ``@BACKEND`` is written, the backend configured for the type is used
(``cpu`` -> numpy, ``cuda`` -> cupy, ``tpu`` -> jax unless ``POLYTORCH_BACKENDS``
or ``polytorch.backends.set_type_backend`` say otherwise). Parsing never imports a
backend; whether the backend loads and the index exists is checked when the
device is first used, with an error that lists what is available.
"""

from __future__ import annotations

import re

from .backends import _registry

__all__ = ["device", "get_default_device", "set_default_device"]

_GRAMMAR = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?::(\d+))?(?:@([A-Za-z_][A-Za-z0-9_.\-]*))?$")


class DeviceError(RuntimeError):
    """A device string or device use that polytorch cannot satisfy."""


class device:
    """A device: ``device("cuda:1")``, ``device("cpu@jax")``, ``device("cuda", 1)``.

    Example:
        >>> d = polytorch.device("cuda:1@jax")
        >>> d.type, d.index, d.backend
        ('cuda', 1, 'jax')
        >>> with polytorch.device("cpu@jax"):
        ...     x = polytorch.zeros(3)  # created on cpu@jax
    """

    __slots__ = ("type", "index", "backend", "_explicit", "_impl", "_native", "_dtypes", "_prev",
                 "_hash")

    def __new__(cls, spec=None, index=None, *, backend=None):
        if isinstance(spec, device):
            if index is None and backend is None:
                return spec
            spec = spec.type if spec._explicit is False else f"{spec.type}@{spec.backend}"
        if not isinstance(spec, str):
            raise TypeError(
                f"device() expects a string such as 'cpu', 'cuda:0' or 'cpu@jax', "
                f"got {type(spec).__name__}"
            )
        m = _GRAMMAR.match(spec.strip())
        if m is None:
            raise DeviceError(
                f"invalid device string {spec!r}: expected TYPE[:INDEX][@BACKEND], "
                f"e.g. 'cpu', 'cuda:1', 'cpu@jax'"
            )
        type_, idx, be = m.group(1), m.group(2), m.group(3)
        if idx is not None:
            if index is not None:
                raise DeviceError(f"device {spec!r} already has an index; got index={index} too")
            index = int(idx)
        if index is not None:
            index = int(index)
            if index < 0:
                raise DeviceError(f"device index must be non-negative, got {index}")
        if be is not None and backend is not None and be != backend:
            raise DeviceError(f"device {spec!r} names backend {be!r} but backend={backend!r}")
        backend = be or backend
        explicit = backend is not None
        if backend is None:
            backend = _registry.backend_for_type(type_)
        elif not _registry.is_registered(backend):
            raise DeviceError(
                f"device {spec!r}: no backend named {backend!r} is registered; "
                f"registered backends: {', '.join(_registry.names()) or 'none'}"
            )
        self = object.__new__(cls)
        self.type = type_
        self.index = index
        self.backend = backend
        self._explicit = explicit and backend != _registry.configured_backend_name(type_)
        self._impl = None
        self._native = None
        self._dtypes = None
        self._prev = []
        self._hash = hash((type_, index, backend))
        return self

    def __str__(self) -> str:
        s = self.type if self.index is None else f"{self.type}:{self.index}"
        return f"{s}@{self.backend}" if self._explicit else s

    def __repr__(self) -> str:
        args = f"type='{self.type}'"
        if self.index is not None:
            args += f", index={self.index}"
        if self._explicit:
            args += f", backend='{self.backend}'"
        return f"device({args})"

    def __eq__(self, other) -> bool:
        if self is other:
            return True
        if isinstance(other, str):
            try:
                other = device(other)
            except (DeviceError, TypeError):
                return False
        if not isinstance(other, device):
            return NotImplemented
        return (self.type, self.index, self.backend) == (other.type, other.index, other.backend)

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self):
        return (device, (str(self),))

    # Context manager: a default device for the block (PyTorch's `with torch.device(...)`).
    def __enter__(self):
        global _default
        self._prev.append(_default)
        _default = self
        return self

    def __exit__(self, *exc):
        global _default
        _default = self._prev.pop()
        return False


def canonical(d: device):
    """The device a tensor lives on: validated, with the index filled in, backend loaded.

    Returns ``(device, backend)``. Raises an error naming what is available when the
    backend cannot load or the index is past the device count.
    """
    impl = d._impl
    if impl is not None:
        return impl
    backend = _registry.load(d.backend, for_device=str(d))
    types = backend.device_types
    if d.type not in types:
        raise DeviceError(
            f"backend {backend.name!r} does not serve device type {d.type!r}; "
            f"it serves: {', '.join(types)}"
        )
    count = backend.device_count(d.type)
    if count == 0:
        raise DeviceError(
            f"device {str(d)!r} is not available: backend {backend.name!r} sees no "
            f"{d.type!r} devices here. Available devices: "
            f"{', '.join(_registry.available_devices())}"
        )
    index = d.index
    if index is not None and index >= count:
        raise DeviceError(
            f"device index {index} is out of range for {d.type!r} on backend "
            f"{backend.name!r}: it has {count} device(s) (indices 0..{count - 1})"
        )
    if index is None and d.type != "cpu":
        index = 0
    full = d
    if index != d.index:
        full = device(d.type, index, backend=d.backend)
        full._explicit = d._explicit
    native = backend.native_device(d.type, index or 0)
    full._native = d._native = native
    full._dtypes = d._dtypes = backend.supported_dtypes(d.type, index or 0)
    full._impl = d._impl = (full, backend)
    return full, backend


_default: device | None = None


def get_default_device() -> device:
    """The device new tensors go to when none is given (``POLYTORCH_DEFAULT_DEVICE`` or cpu)."""
    global _default
    if _default is None:
        import os

        _default = device(os.environ.get("POLYTORCH_DEFAULT_DEVICE", "cpu"))
    return _default


def set_default_device(d) -> None:
    """Set the device new tensors go to when none is given.

    Example:
        >>> polytorch.set_default_device("cpu@jax")
    """
    global _default
    _default = None if d is None else as_device(d)


_PARSED: dict[str, device] = {}  # cleared when backend configuration changes


def as_device(d) -> device:
    if isinstance(d, device):
        return d
    if isinstance(d, str):
        out = _PARSED.get(d)
        if out is None:
            out = _PARSED[d] = device(d)
        return out
    if isinstance(d, int):
        raise DeviceError(
            "an integer device is ambiguous in polytorch; write 'cuda:N' (or another type)"
        )
    return device(d)


def resolve(d):
    """(device, backend) for a ``device=`` argument (None means the default device)."""
    if d is None:
        d = _default if _default is not None else get_default_device()
    elif not isinstance(d, device):
        d = as_device(d)
    impl = d._impl
    return impl if impl is not None else canonical(d)
