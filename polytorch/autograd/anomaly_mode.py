"""Anomaly detection for autograd (PyTorch's ``detect_anomaly`` and ``set_detect_anomaly``).

Note [Anomaly mode]
While anomaly mode is on, every graph node records the stack of the forward
call that created it (``Node.trace``), and the backward walk checks what each
gradient rule returns: NaN in a returned gradient raises
``RuntimeError("Function 'MulBackward0' returned nan values in its 0th output.")``,
and any error raised inside a rule gets a note naming the node and showing that
forward stack. Off (the default), nodes record nothing and the walk checks
nothing: the only cost is reading one flag per node and per rule.
"""

from __future__ import annotations

import functools
import warnings

from ._grad_mode import state

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled"]


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on."""
    return state.anomaly


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection checks gradients for NaN."""
    return state.anomaly_nan


class detect_anomaly:
    """Turn anomaly detection on in a block or a decorated function.

    Example:
        >>> with polytorch.autograd.detect_anomaly():
        ...     (x / x).sum().backward()  # raises if a gradient rule returns NaN
    """

    def __init__(self, check_nan: bool = True):
        self.check_nan = bool(check_nan)
        warnings.warn(
            "Anomaly Detection has been enabled. This mode will increase the runtime and "
            "should only be enabled for debugging.",
            stacklevel=2,
        )

    def __enter__(self):
        self._prev = (state.anomaly, state.anomaly_nan)
        state.anomaly, state.anomaly_nan = True, self.check_nan
        return self

    def __exit__(self, *exc):
        state.anomaly, state.anomaly_nan = self._prev
        return False

    def __call__(self, fn):
        check_nan = self.check_nan

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = (state.anomaly, state.anomaly_nan)
            state.anomaly, state.anomaly_nan = True, check_nan
            try:
                return fn(*args, **kwargs)
            finally:
                state.anomaly, state.anomaly_nan = prev

        return wrapper


class set_detect_anomaly:
    """Set anomaly detection on or off; takes effect at once, and as a context manager
    restores the previous setting.

    Example:
        >>> polytorch.autograd.set_detect_anomaly(True)
    """

    def __init__(self, mode: bool, check_nan: bool = True):
        self._prev = (state.anomaly, state.anomaly_nan)
        state.anomaly, state.anomaly_nan = bool(mode), bool(check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        state.anomaly, state.anomaly_nan = self._prev
        return False
