"""Shared fixtures: every frontend test runs on every installed backend.

``device`` is parametrised over cpu (NumPy), cpu@jax, the strict test backend
(array_api_strict), and cuda / cuda@jax when a GPU is present; a backend that is
not installed shows up as a skipped parameter with the reason.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

import polytorch
from polytorch.testing import register_strict_backend

register_strict_backend()

# CI replays the same examples on every run (a red CI names a real, reproducible
# case); developers' runs draw new ones, to find what CI would not.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def _status(spec: str):
    """None if ``spec`` is usable here, else the reason it is not."""
    try:
        polytorch.zeros(1, device=spec)
    except Exception as e:  # the reason is shown in the skip message
        return f"{spec} unavailable: {type(e).__name__}: {e}".split(". Available")[0]
    return None


DEVICES = [
    pytest.param("cpu", id="cpu"),
    pytest.param("cpu@jax", id="cpu@jax"),
    pytest.param("strict:1", id="strict"),
    pytest.param("cuda", id="cuda", marks=pytest.mark.gpu),
    pytest.param("cuda@jax", id="cuda@jax", marks=pytest.mark.gpu),
]


@pytest.fixture(params=DEVICES)
def device(request):
    reason = _status(request.param)
    if reason is not None:
        pytest.skip(reason)
    return request.param


@pytest.fixture(params=[d for d in DEVICES if d.id not in ("strict",)])
def float64_device(request):
    """Devices with float64 (gradchecks); strict:1 has it too but is slow, so not here."""
    reason = _status(request.param)
    if reason is not None:
        pytest.skip(reason)
    return request.param


@pytest.fixture(autouse=True)
def _restore_global_state():
    dt = polytorch.get_default_dtype()
    yield
    polytorch.set_default_dtype(dt)
    polytorch.set_default_device(None)
    polytorch.set_grad_enabled(True)
