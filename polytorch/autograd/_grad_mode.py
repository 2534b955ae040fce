"""Grad mode: whether ops record the autograd graph (PyTorch's no_grad family)."""

from __future__ import annotations

import functools

__all__ = [
    "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode",
    "is_inference_mode_enabled",
]


class _State:
    __slots__ = ("enabled", "inference", "anomaly", "anomaly_nan")

    def __init__(self):
        self.enabled = True
        self.inference = False  # tensors made now are inference tensors
        self.anomaly = False  # Note [Anomaly mode] in anomaly_mode.py
        self.anomaly_nan = True


# Note [Grad mode is process-global]
# PyTorch keeps grad mode per thread. polytorch keeps one flag read on every op
# (the hot path reads ``state.enabled``); threads that need different modes at
# the same time are not supported yet.
state = _State()


def is_grad_enabled() -> bool:
    """Whether new ops record the graph."""
    return state.enabled


class _Mode:
    """Base for grad-mode switches usable as context managers and decorators."""

    _target = True

    def __enter__(self):
        self._prev = state.enabled
        state.enabled = self._target
        return self

    def __exit__(self, *exc):
        state.enabled = self._prev
        return False

    def __call__(self, fn):
        target = self._target

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = state.enabled
            state.enabled = target
            try:
                return fn(*args, **kwargs)
            finally:
                state.enabled = prev

        return wrapper


class _NoParamMode(_Mode):
    """A mode without parameters, usable as ``@mode``, ``@mode()`` and ``with mode():``."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        if not callable(orig_func):
            raise TypeError(f"{cls.__name__}() takes no arguments, got {orig_func!r}")
        return cls()(orig_func)


class no_grad(_NoParamMode):
    """Disable graph recording in a block or a decorated function.

    Example:
        >>> with polytorch.no_grad():
        ...     w -= 0.1 * w.grad
    """

    _target = False


class enable_grad(_NoParamMode):
    """Enable graph recording inside a ``no_grad`` block."""

    _target = True


class set_grad_enabled(_Mode):
    """Set grad mode to ``mode``; takes effect at once, and as a context manager restores it.

    Example:
        >>> with polytorch.set_grad_enabled(is_training):
        ...     loss = model(x)
    """

    def __init__(self, mode: bool):
        self._target = bool(mode)
        self._prev = state.enabled
        state.enabled = self._target

    def __enter__(self):
        return self

    def __call__(self, fn):
        state.enabled = self._prev  # used as a decorator: no effect until called
        return super().__call__(fn)


def is_inference_mode_enabled() -> bool:
    """Whether an ``inference_mode`` block is active."""
    return state.inference


class inference_mode(_Mode):
    """Like ``no_grad``; tensors made inside are inference tensors (``is_inference()``).

    ``inference_mode(False)`` leaves grad mode alone and turns inference mode off.
    Usable as ``with inference_mode():``, ``@inference_mode`` and ``@inference_mode()``.

    Example:
        >>> with polytorch.inference_mode():
        ...     y = model(x)
        >>> y.is_inference(), y.requires_grad
        (True, False)
    """

    def __new__(cls, mode=True):
        self = super().__new__(cls)
        if callable(mode) and not isinstance(mode, bool):  # bare ``@inference_mode``
            self.mode = True
            return self(mode)
        return self

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)

    def __enter__(self):
        self._prev = (state.enabled, state.inference)
        if self.mode:
            state.enabled = False
        state.inference = self.mode
        return self

    def __exit__(self, *exc):
        state.enabled, state.inference = self._prev
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return fn(*args, **kwargs)

        return wrapper
