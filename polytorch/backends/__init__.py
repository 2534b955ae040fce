"""Backends: the registry, the listing and the contract (docs/backends.md).

Example:
    >>> import polytorch
    >>> [row["name"] for row in polytorch.backends.available()]
    ['cupy', 'jax', 'numpy']
"""

from ._base import Backend, InfoBackend
from ._registry import (
    BackendConflictWarning,
    BackendUnavailableError,
    autoload_enabled,
    available,
    available_devices,
    known_types,
    load,
    names,
    register,
    set_type_backend,
    unregister,
)

__all__ = [
    "Backend",
    "InfoBackend",
    "BackendConflictWarning",
    "BackendUnavailableError",
    "autoload_enabled",
    "available",
    "available_devices",
    "known_types",
    "load",
    "names",
    "register",
    "set_type_backend",
    "unregister",
]
