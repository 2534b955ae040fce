"""PyTorch's process-wide switches, accepted so that PyTorch scripts run unchanged.

``compile`` returns the model itself (polytorch runs eagerly; no tracing, no
graph breaks), ``autocast`` is a no-op region (Note [autocast is a no-op] in
``polytorch/amp/autocast_mode.py``), and the precision, determinism and thread
settings are recorded and reported back. What they would steer is decided by
the backend libraries: NumPy's BLAS threads follow ``OMP_NUM_THREADS`` at
start-up, polytorch's CPU ops are deterministic already.

Example:
    >>> import polytorch as torch
    >>> model = torch.compile(model)           # the same model, eager
    >>> torch.set_float32_matmul_precision("high")
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any

from .amp import autocast

__all__ = [
    "are_deterministic_algorithms_enabled", "autocast", "compile",
    "get_float32_matmul_precision", "get_num_interop_threads", "get_num_threads",
    "is_autocast_enabled", "is_deterministic_algorithms_warn_only_enabled",
    "set_float32_matmul_precision", "set_num_interop_threads", "set_num_threads",
    "use_deterministic_algorithms",
]

_state: dict[str, Any] = {
    "matmul_precision": "highest",
    "deterministic": False,
    "warn_only": False,
    "num_threads": None,
    "num_interop_threads": None,
}


def compile(model: Callable | None = None, *, fullgraph: bool = False,  # noqa: A001
            dynamic: bool | None = None, backend: str | Callable | None = None,
            mode: str | None = None, options: dict | None = None, name: str | None = None,
            disable: bool = False, recompile_limit: int | None = None,
            isolate_recompiles: bool = False, shapes_spec: Any = None) -> Callable:
    """Return ``model`` unchanged: polytorch runs eagerly (a decorator too, as in PyTorch).

    Example:
        >>> model = polytorch.compile(model)
        >>> @polytorch.compile(mode="max-autotune")
        ... def f(x):
        ...     return x.sin()
    """
    if model is None:
        return lambda fn: fn
    if not callable(model):
        raise RuntimeError(f"compile(): model must be callable, got {type(model).__name__}")
    return model


def set_float32_matmul_precision(precision: str) -> None:
    """Record ``"highest"``, ``"high"`` or ``"medium"``; another value warns and is ignored.

    Example:
        >>> polytorch.set_float32_matmul_precision("high")
    """
    if precision not in ("highest", "high", "medium"):
        warnings.warn(
            f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
            f"set_float32_matmul_precision call has no effect.", UserWarning, stacklevel=2)
        return
    _state["matmul_precision"] = precision


def get_float32_matmul_precision() -> str:
    """The precision last set (``"highest"`` by default, as in PyTorch)."""
    return _state["matmul_precision"]


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Record the setting; polytorch's ops have no nondeterministic variant to switch off."""
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms expects a bool, but got {type(mode)}")
    _state["deterministic"] = mode
    _state["warn_only"] = bool(warn_only) and mode


def are_deterministic_algorithms_enabled() -> bool:
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _state["warn_only"]


def _check_threads(fn: str, n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise RuntimeError(f"{fn} expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError(f"{fn} expects a positive integer")
    return n


def set_num_threads(int: int) -> None:  # noqa: A002 (PyTorch's parameter name)
    """Record the intra-op thread count ``get_num_threads`` reports.

    The backend libraries size their thread pools at start-up: set
    ``OMP_NUM_THREADS`` (NumPy's BLAS) or XLA's flags before starting Python.
    """
    _state["num_threads"] = _check_threads("set_num_threads", int)


def get_num_threads() -> int:
    """The count last set, else the CPUs this process may use."""
    n = _state["num_threads"]
    return n if n is not None else _cpu_count()


def set_num_interop_threads(int: int) -> None:  # noqa: A002 (PyTorch's parameter name)
    """Record the inter-op thread count ``get_num_interop_threads`` reports."""
    _state["num_interop_threads"] = _check_threads("set_num_interop_threads", int)


def get_num_interop_threads() -> int:
    n = _state["num_interop_threads"]
    return n if n is not None else _cpu_count()


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """False: no autocast region changes dtypes in polytorch (Note [autocast is a no-op])."""
    return False
