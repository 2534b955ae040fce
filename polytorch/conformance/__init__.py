"""The backend conformance suite (ARCHITECTURE §8).

One command certifies a backend or device::

    python -m polytorch.conformance DEVICE [--report DIR] [--layer L] [--list] [-k SUBSTRING]
    pytest conformance --device DEVICE          # the same cases as pytest tests

Every case is checked on DEVICE and reported as pass, fail, declared (a failure
the backend lists in its ``expected_failures`` attribute, test id or pattern
-> reason) or unsupported (a dtype the device does not have). The run exits 1
on any undeclared failure and writes ``report.json`` and ``report.md`` (a
section per layer). Layers (ops, device, dtypes, dlpack, rng, functional,
checkpoint, training) are listed in ``LAYERS`` (Note [Conformance layers] in
``_core.py``); ``--layer NAME`` runs one. The guide for backend authors is
docs/backends.md.

Example:
    >>> from polytorch import conformance
    >>> report = conformance.run("cpu", select="ops/exp/")
    >>> report.ok, report.summary()["ops"]["fail"]
    (True, 0)
"""

from ._cli import main, run
from ._core import (
    DECLARED,
    FAIL,
    LAYERS,
    PASS,
    STATUSES,
    UNSUPPORTED,
    Case,
    Outcome,
    Result,
    Target,
    collect,
    layer_notes,
    open_target,
    run_case,
    run_cases,
)
from ._report import Report, safe_name

__all__ = [
    "DECLARED", "FAIL", "LAYERS", "PASS", "STATUSES", "UNSUPPORTED", "Case", "Outcome",
    "Report", "Result", "Target", "collect", "layer_notes", "main", "open_target", "run",
    "run_case", "run_cases", "safe_name",
]
