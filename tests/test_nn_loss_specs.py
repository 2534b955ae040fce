"""The loss spec records (polytorch/testing/_specs_loss.py) pass the conformance checks on cpu.

The conformance suite runs them on every backend; this keeps the records honest in
the project's own tests: forward against the NumPy float64 references, gradcheck
and gradgradcheck in float64.
"""

from __future__ import annotations

import pytest

from polytorch.conformance import _ops
from polytorch.conformance._core import PASS, open_target
from polytorch.testing import _specs_loss

RECORDS = _specs_loss.FUNCTIONAL + _specs_loss.SPECS


@pytest.fixture(scope="module")
def cpu():
    return open_target("cpu")


@pytest.mark.parametrize("spec", RECORDS, ids=[s.name for s in RECORDS])
def test_loss_spec(spec, cpu):
    for dt in spec.dtypes:
        out = _ops.forward(spec, dt, cpu)
        assert out.status == PASS, out.message
    for second in (False, True):
        out = _ops.grad(spec, cpu, second=second)
        assert out.status == PASS, out.message
