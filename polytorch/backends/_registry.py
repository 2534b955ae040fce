"""The backend registry: entry points discovered lazily, backends loaded on first use.

Note [Backends load lazily and never break import]
``import polytorch`` reads no entry point and imports no array library. The
first time a device is resolved, the ``polytorch.backends`` entry points are
listed (metadata only, nothing imported). A backend's module is imported the
first time one of its devices is used. A backend that fails to load is kept
with its error: the listing shows it, and using its device raises an error
chained to the original traceback. ``POLYTORCH_BACKEND_AUTOLOAD=0`` skips the
third-party entry points altogether (the built-in backends and backends
registered in code still work).

Note [Which backend serves a device type]
A device string without ``@BACKEND`` is served by, in this order:

1. the backend configured for its type: ``set_type_backend(type, name)`` or
   ``POLYTORCH_BACKENDS=type=name,...`` (code wins over the environment);
2. the built-in backend of the type (``cpu`` -> numpy, ``cuda`` -> cupy,
   ``tpu`` -> jax), so a plugin can never take over ``cpu`` implicitly;
3. the backends that claim the type, alphabetically by backend name. A
   backend claims a type by listing it in its ``device_types``; a plugin may
   also declare it as metadata, in the ``polytorch.device_types`` entry-point
   group (``TYPE = BACKEND_NAME``), so that the type resolves without
   importing anything. When no backend declares the type, the third-party
   backends not loaded yet are loaded (alphabetically) to learn their types.

When several backends claim a type, a ``BackendConflictWarning`` names them
all, the one chosen, and how to choose another. Every backend stays reachable
explicitly as ``TYPE@BACKEND``.
"""

from __future__ import annotations

import os
import traceback
import warnings
from dataclasses import dataclass, field

GROUP = "polytorch.backends"
TYPES_GROUP = "polytorch.device_types"

# The built-in backends (also declared as entry points in polytorch's own
# metadata; listed here too so that they work from a source checkout and with
# POLYTORCH_BACKEND_AUTOLOAD=0).
_BUILTINS = {
    "numpy": "polytorch.backends._numpy:NumpyBackend",
    "jax": "polytorch.backends._jax:JaxBackend",
    "cupy": "polytorch.backends._cupy:CupyBackend",
}
# Which backend serves a bare device type unless configured otherwise.
_BUILTIN_TYPES = {"cpu": "numpy", "cuda": "cupy", "tpu": "jax"}


class BackendUnavailableError(RuntimeError):
    """A backend that is not installed, or that failed to load."""


class BackendConflictWarning(UserWarning):
    """Several backends claim one device type (Note [Which backend serves a device type])."""


@dataclass
class _Entry:
    name: str
    factory: object = None  # zero-argument callable returning the backend
    target: str | None = None  # "module:attr" of an entry point, not yet imported
    dist: str | None = None
    backend: object = None
    error: BaseException | None = None
    error_tb: str | None = None
    types: tuple = field(default_factory=tuple)  # declared or (once loaded) served
    declared: bool = False  # types known before loading (register(types=...) or metadata)
    builtin: bool = False


_entries: dict[str, _Entry] = {}
_discovered = False
_type_backend: dict[str, str] = {}  # explicit configuration: type -> backend name
_env_read = False


def autoload_enabled() -> bool:
    """Whether third-party entry points are read (``POLYTORCH_BACKEND_AUTOLOAD``, default on)."""
    value = os.environ.get("POLYTORCH_BACKEND_AUTOLOAD", "1").strip().lower()
    return value not in ("0", "false", "no", "off")


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    _discovered = True
    for name, target in _BUILTINS.items():
        _entries.setdefault(name, _Entry(name, target=target, dist="polytorch", builtin=True))
    if not autoload_enabled():
        return
    from importlib.metadata import entry_points

    for ep in entry_points(group=GROUP):
        dist = getattr(getattr(ep, "dist", None), "name", None)
        e = _entries.get(ep.name)
        if e is not None:
            if e.builtin and ep.value == e.target:
                continue  # polytorch's own metadata for a built-in
            if e.target != ep.value:
                warnings.warn(
                    f"polytorch backend entry point {ep.name!r} = {ep.value!r} (from "
                    f"{dist or 'an unknown distribution'}) is ignored: the name is taken by "
                    f"{e.target or 'a backend registered in code'}",
                    BackendConflictWarning, stacklevel=2)
            continue
        _entries[ep.name] = _Entry(ep.name, target=ep.value, dist=dist)
    for ep in entry_points(group=TYPES_GROUP):
        e = _entries.get(ep.value.strip())
        if e is not None and e.backend is None and ep.name not in e.types:
            e.types = (*e.types, ep.name)
            e.declared = True


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
    _entries[name] = _Entry(name, factory=factory, types=tuple(types), declared=bool(types))
    _warned.clear()
    _bump()


def unregister(name: str) -> None:
    """Forget a backend (registered in code or by entry point) for the rest of the process."""
    _discover()
    _entries.pop(name, None)
    _warned.clear()
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


def _claimants(type_: str) -> list[str]:
    """The backends known (without loading) to serve ``type_``, alphabetically."""
    _discover()
    return sorted(n for n, e in _entries.items() if type_ in e.types)


def default_backend_name(type_: str) -> str | None:
    """The backend a bare ``type_`` would use without configuration (None if unknown).

    Loads nothing (Note [Which backend serves a device type]).
    """
    if type_ in _BUILTIN_TYPES:
        return _BUILTIN_TYPES[type_]
    claimants = _claimants(type_)
    return claimants[0] if claimants else None


def configured_backend_name(type_: str) -> str | None:
    """The backend a bare ``type_`` means now (configuration first, then the default)."""
    _read_env()
    return _type_backend.get(type_) or default_backend_name(type_)


_warned: set[str] = set()  # types whose conflict was reported


def backend_for_type(type_: str) -> str:
    """The backend serving a bare ``type_`` (Note [Which backend serves a device type])."""
    _read_env()
    name = _type_backend.get(type_)
    if name is not None:
        return name
    if type_ in _BUILTIN_TYPES:
        return _BUILTIN_TYPES[type_]
    claimants = _claimants(type_)
    if not claimants:
        # A plugin that does not declare its types as metadata is loaded to learn them.
        for e in sorted(_entries.values(), key=lambda e: e.name):
            if not e.builtin and not e.declared and e.backend is None and e.error is None:
                _try_load(e)
        claimants = _claimants(type_)
    if not claimants:
        from .._device import DeviceError

        broken = [e for e in _entries.values() if e.error is not None and not e.builtin]
        hint = "".join(f"; backend {e.name!r} failed to load "
                       f"({type(e.error).__name__}: {e.error})" for e in broken)
        raise DeviceError(
            f"unknown device type {type_!r}; known device types: {', '.join(known_types())}"
            f"{hint}"
        ) from (broken[0].error if len(broken) == 1 else None)
    if len(claimants) > 1 and type_ not in _warned:
        _warned.add(type_)
        others = ", ".join(repr(n) for n in claimants[1:])
        warnings.warn(
            f"device type {type_!r} is claimed by backends {', '.join(map(repr, claimants))}; "
            f"using {claimants[0]!r} (alphabetically first). Choose another with "
            f"POLYTORCH_BACKENDS={type_}=NAME or polytorch.backends.set_type_backend("
            f"{type_!r}, NAME), or name it in the device string ({type_}@NAME); other "
            f"claimants: {others}",
            BackendConflictWarning, stacklevel=4)
    return claimants[0]


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
        types = getattr(backend, "device_types", None)
        if not hasattr(backend, "xp") or not isinstance(types, (tuple, list)) or not types:
            raise TypeError(
                f"the factory of backend {e.name!r} returned {backend!r}, which is not a "
                f"polytorch backend (it needs an array namespace xp and device_types)"
            )
        if not getattr(backend, "name", None):
            backend.name = e.name
        e.types = tuple(types)
        e.backend = backend
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
