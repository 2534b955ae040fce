"""The backend registry: entry points discovered lazily, backends loaded on first use.

Note [Backends load lazily and never break import]
``import polytorch`` reads no entry point and imports no array library. The
first time a device is resolved, the ``polytorch.backends`` entry points are
listed (metadata only, nothing imported). A backend's module is imported the
first time one of its devices is used. A backend that fails to load is kept
with its error: the listing shows it, and using its device raises an error
chained to the original traceback.
"""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass, field

GROUP = "polytorch.backends"

# Which backend serves a bare device type unless configured otherwise.
_BUILTIN_TYPES = {"cpu": "numpy", "cuda": "cupy", "tpu": "jax"}


class BackendUnavailableError(RuntimeError):
    """A backend that is not installed, or that failed to load."""


@dataclass
class _Entry:
    name: str
    factory: object = None  # zero-argument callable returning the backend
    target: str | None = None  # "module:attr" of an entry point, not yet imported
    dist: str | None = None
    backend: object = None
    error: BaseException | None = None
    error_tb: str | None = None
    types: tuple = field(default_factory=tuple)


_entries: dict[str, _Entry] = {}
_discovered = False
_type_backend: dict[str, str] = {}  # explicit configuration: type -> backend name
_env_read = False


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    _discovered = True
    from importlib.metadata import entry_points

    for ep in entry_points(group=GROUP):
        if ep.name not in _entries:
            dist = getattr(ep, "dist", None)
            _entries[ep.name] = _Entry(ep.name, target=ep.value,
                                       dist=getattr(dist, "name", None))


def _read_env() -> None:
    global _env_read
    if _env_read:
        return
    _env_read = True
    spec = os.environ.get("POLYTORCH_BACKENDS", "").strip()
    if not spec:
        return
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        type_, sep, name = item.partition("=")
        if not sep or not type_.strip() or not name.strip():
            raise ValueError(
                f"POLYTORCH_BACKENDS={spec!r}: expected comma-separated TYPE=BACKEND pairs "
                f"such as 'cpu=jax,cuda=jax', got {item!r}"
            )
        _type_backend.setdefault(type_.strip(), name.strip())


def register(name: str, factory, *, types: tuple[str, ...] = ()) -> None:
    """Register a backend in code (tests, notebooks); entry points do the same for packages.

    ``factory`` is a zero-argument callable returning the backend. ``types`` may
    name the device types it serves so they resolve without loading it.
    """
    _discover()
    _entries[name] = _Entry(name, factory=factory, types=tuple(types))
    _bump()


def unregister(name: str) -> None:
    _entries.pop(name, None)
    _bump()


def set_type_backend(type_: str, name: str | None) -> None:
    """Choose which backend serves a bare device type (``None`` restores the default).

    Example:
        >>> polytorch.backends.set_type_backend("cpu", "jax")  # "cpu" now means cpu@jax
    """
    _read_env()
    if name is None:
        _type_backend.pop(type_, None)
    else:
        if not is_registered(name):
            raise BackendUnavailableError(
                f"no backend named {name!r} is registered; registered: {', '.join(names())}"
            )
        _type_backend[type_] = name
    _bump()


def _bump() -> None:
    # Parsed devices cache their resolution; configuration changes invalidate it.
    from .. import _device

    _device._PARSED.clear()
    d = _device._default
    if d is not None and not d._explicit:
        # A default device written as a bare type follows the new configuration.
        _device._default = _device.device(d.type, d.index)


def names() -> list[str]:
    _discover()
    return sorted(_entries)


def is_registered(name: str) -> bool:
    _discover()
    return name in _entries


def default_backend_name(type_: str) -> str | None:
    """The backend a bare ``type_`` would use without configuration (None if unknown)."""
    if type_ in _BUILTIN_TYPES:
        return _BUILTIN_TYPES[type_]
    _discover()
    for e in _entries.values():
        if type_ in e.types:
            return e.name
    return None


def configured_backend_name(type_: str) -> str | None:
    """The backend a bare ``type_`` means now (configuration first, then the default)."""
    _read_env()
    return _type_backend.get(type_) or default_backend_name(type_)


def backend_for_type(type_: str) -> str:
    _read_env()
    name = _type_backend.get(type_) or default_backend_name(type_)
    if name is None:
        # A plugin's device types are only known once it is loaded: load the
        # third-party entries that are not loaded yet, then look again.
        for e in list(_entries.values()):
            if e.backend is None and e.error is None and e.name not in _BUILTIN_TYPES.values():
                _try_load(e)
                if type_ in e.types:
                    name = e.name
                    break
    if name is None:
        from .._device import DeviceError

        raise DeviceError(
            f"unknown device type {type_!r}; known device types: {', '.join(known_types())}"
        )
    return name


def known_types() -> list[str]:
    _discover()
    types = set(_BUILTIN_TYPES) | set(_type_backend)
    for e in _entries.values():
        types.update(e.types)
    return sorted(types)


def _try_load(e: _Entry):
    if e.backend is not None or e.error is not None:
        return e.backend
    try:
        factory = e.factory
        if factory is None:
            from importlib.metadata import EntryPoint

            factory = EntryPoint(e.name, e.target, GROUP).load()
        backend = factory()
        if not getattr(backend, "name", None):
            backend.name = e.name
        e.backend = backend
        e.types = tuple(backend.device_types)
    except Exception as exc:  # a broken plugin must not break polytorch
        e.error = exc
        e.error_tb = traceback.format_exc()
    return e.backend


def load(name: str, *, for_device: str | None = None):
    """Load (once) and return the backend called ``name``."""
    _discover()
    e = _entries.get(name)
    what = f"device {for_device!r}" if for_device else f"backend {name!r}"
    if e is None:
        raise BackendUnavailableError(
            f"{what}: no backend named {name!r} is installed; installed backends: "
            f"{', '.join(names()) or 'none'}. Available devices: {', '.join(available_devices())}"
        )
    backend = _try_load(e)
    if backend is None:
        hint = {"jax": " (pip install 'polytorch[jax]')",
                "cupy": " (pip install 'polytorch[cuda]' on a machine with a GPU)"}
        raise BackendUnavailableError(
            f"{what}: backend {name!r} failed to load: "
            f"{type(e.error).__name__}: {e.error}{hint.get(name, '')}. "
            f"Available devices: {', '.join(available_devices())}"
        ) from e.error
    return backend


def available_devices() -> list[str]:
    """Device strings usable right now (loading backends that are not loaded yet)."""
    out = []
    for info in available():
        out.extend(info["devices"])
    return out


def available() -> list[dict]:
    """One row per registered backend: its name, types, devices and load error.

    Example:
        >>> for row in polytorch.backends.available():
        ...     print(row["name"], row["devices"], row["error"])
    """
    _read_env()
    rows = []
    for name in names():
        e = _entries[name]
        backend = _try_load(e)
        devices = []
        if backend is not None:
            for t in backend.device_types:
                try:
                    n = backend.device_count(t)
                except Exception:  # a driver that cannot count devices has none usable
                    n = 0
                served_bare = (_type_backend.get(t) or default_backend_name(t)) == name
                suffix = "" if served_bare else f"@{name}"
                if t == "cpu" and n == 1:
                    devices.append(f"cpu{suffix}")
                else:
                    devices.extend(f"{t}:{i}{suffix}" for i in range(n))
        rows.append({
            "name": name,
            "types": list(e.types),
            "devices": devices,
            "loaded": backend is not None,
            "error": None if e.error is None else f"{type(e.error).__name__}: {e.error}",
            "traceback": e.error_tb,
            "source": e.dist or ("code" if e.factory is not None else None),
        })
    return rows


def loaded() -> dict:
    return {n: e.backend for n, e in _entries.items() if e.backend is not None}
