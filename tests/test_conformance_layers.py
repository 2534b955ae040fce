"""The conformance layers beyond ops: device, dtypes, dlpack, rng (issue 5).

Each layer passes on the built-in devices, and each catches a backend that
breaks its contract: such backends are built here by subclassing a working one
and breaking one thing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import polytorch
from polytorch import conformance
from polytorch.backends._numpy import NumpyBackend
from polytorch.testing import register_strict_backend

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("device", "dtypes", "dlpack", "rng")


def _summary(device: str, layers=LAYERS, select=None) -> tuple[dict, list]:
    report = conformance.run(device, layers=list(layers), select=select)
    bad = [f"{r.id}: {r.message}" for r in report.results if r.status == conformance.FAIL]
    return report.summary(), bad


@pytest.mark.parametrize("device", ["cpu", "strict:1", "strict:3"])
def test_layers_pass(device):
    register_strict_backend()
    summary, bad = _summary(device)
    assert not bad, "\n".join(bad)
    assert set(summary) == {*LAYERS, "total"}
    for layer in LAYERS:
        assert summary[layer]["pass"] > 0, layer


def test_layers_pass_on_jax():
    # A cross-section (JAX compiles per shape and dtype; the CLI runs the rest).
    want = {"dtypes/float32/create", "dtypes/float32/move", "dtypes/float32/compute",
            "dlpack/float32/export", "dlpack/float32/import", "device/inplace/views",
            "device/inplace/setitem", "rng/manual_seed"}
    target = conformance.open_target("cpu@jax")
    cases = [c for c in conformance.collect(target, layers=list(LAYERS)) if c.id in want]
    results = conformance.run_cases(cases, target)
    assert {r.id: r.status for r in results} == dict.fromkeys(want, conformance.PASS), [
        f"{r.id}: {r.message}" for r in results if r.status != conformance.PASS]


def test_layer_ids_and_capability_driven_cases():
    register_strict_backend()
    full = conformance.open_target("strict:1")
    no64 = conformance.open_target("strict:3")
    ids = {c.id for c in conformance.collect(full, layers=list(LAYERS))}
    ids3 = {c.id for c in conformance.collect(no64, layers=list(LAYERS))}
    assert {"device/to/cpu_roundtrip", "dtypes/float64/compute", "dtypes/float16/refused",
            "dlpack/float64/export", "rng/randn/float64", "rng/stream"} <= ids
    assert {"dtypes/float64/refused", "dtypes/complex128/refused"} <= ids3
    assert not {"dtypes/float64/compute", "rng/randn/float64", "dlpack/float64/export"} & ids3


# -- each layer catches a broken backend ---------------------------------------------------


class _Broken(NumpyBackend):
    device_types = ("brk",)

    def device_count(self, type_):
        return 1 if type_ == "brk" else 0


class _LossyTransfers(_Broken):
    """Flushes -0.0 and subnormals on the way to the host."""

    name = "lossy"

    def to_numpy(self, array):
        if array.dtype.kind == "f":
            tiny = np.finfo(array.dtype).smallest_normal
            return np.where(np.abs(array) < tiny, 0, array).astype(array.dtype)
        return array


class _FakeFloat16(_Broken):
    """Declares float16 but keeps its values in float32."""

    name = "fakef16"

    def _native_dtype_or_none(self, d):
        return np.dtype("float32") if d.name == "float16" else super()._native_dtype_or_none(d)

    def dtype_of(self, array):
        return super().dtype_of(array)


class _Immutable(_Broken):
    """Claims mutable arrays but writes into copies."""

    name = "nowrite"

    def setitem(self, array, key, value):
        array = array.copy()
        array[key] = value
        return array


class _NoDlpack(_Broken):
    name = "nodlpack"
    dlpack = False


def _run_broken(cls, layer, select=None):
    polytorch.backends.register(cls.name, cls)
    try:
        return conformance.run(f"brk@{cls.name}", layers=[layer], select=select)
    finally:
        polytorch.backends.unregister(cls.name)


def _failed(report) -> set:
    return {r.id for r in report.results if r.status == conformance.FAIL}


def test_device_layer_catches_lossy_transfers():
    report = _run_broken(_LossyTransfers, "device", select="device/to/")
    assert "device/to/cpu_roundtrip" in _failed(report)
    assert not report.ok


def test_dtypes_layer_catches_a_dtype_held_as_another():
    report = _run_broken(_FakeFloat16, "dtypes", select="float16")
    assert _failed(report) >= {"dtypes/float16/create"}


def test_device_layer_catches_lost_writes():
    report = _run_broken(_Immutable, "device", select="inplace")
    assert "device/inplace/views" in _failed(report)  # a view no longer sees its base


def test_dlpack_layer_unsupported_when_not_declared():
    report = _run_broken(_NoDlpack, "dlpack")
    assert {r.status for r in report.results} == {conformance.UNSUPPORTED}
    assert report.ok


def test_declared_failures_and_report_sections(tmp_path):
    class Declared(_LossyTransfers):
        name = "declared"
        expected_failures = {"device/to/*": "the host copy flushes subnormals (example)"}

    report = _run_broken(Declared, "device", select="device/to/")
    assert report.ok
    row = report.summary()["device"]
    assert row["declared"] >= 1 and row["fail"] == 0
    js, md = report.write(tmp_path)
    text = md.read_text()
    assert "| device |" in text and "flushes subnormals" in text


def test_rng_layer_compares_bits():
    from polytorch.conformance._rng import _compare

    a = polytorch.tensor([0.5, -0.0, 1.0])
    b = polytorch.tensor([0.5, 0.0, 1.0])
    _compare(a, a.clone(), "same")
    with pytest.raises(AssertionError, match="1 of 3 values differ.*index 1"):
        _compare(a, b, "signed zero")


def test_pytest_front_runs_a_layer():
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--device", "strict:3",
         "conformance/test_dlpack.py", "conformance/test_dtypes.py", "-k", "float64 or int8"],
        capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "passed" in proc.stdout
