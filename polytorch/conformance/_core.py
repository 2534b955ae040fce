"""Targets, cases, results, the layer table and the runner of the conformance suite.

Note [Conformance layers]
The suite is a list of layers (``LAYERS``): ops, device semantics (``_device``),
dtype capabilities (``_dtypes``), DLPack exchange (``_dlpack``), RNG streams
(``_rng``), nn.functional (``_functional``), checkpoints (``_checkpoint``) and a
golden training run (``_training``); docs/backends.md describes each for
backend authors. A layer is a module with a function
``cases(target) -> Iterable[Case]`` and, optionally, ``notes(target) -> list[str]``
(what its report section should say besides results, e.g. coverage); a
``Case`` is a test id
(``LAYER/...``, e.g. ``ops/add/float32/forward``) and a zero-argument callable
returning an ``Outcome``. Collecting cases runs nothing, so ``--list``, ``-k`` and
pytest's parametrisation see the same ids as the report. The runner, not the
layer, times each case, turns exceptions into failures and applies the
backend's declared failures. Adding a layer is adding a module and one entry
in ``LAYERS``.
"""

from __future__ import annotations

import fnmatch
import importlib
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polytorch

from .. import _dtype as D

PASS, FAIL, DECLARED, UNSUPPORTED = "pass", "fail", "declared", "unsupported"
STATUSES = (PASS, FAIL, DECLARED, UNSUPPORTED)

# layer name -> module (imported on first use) defining ``cases(target)``
LAYERS: dict[str, str] = {
    "ops": "polytorch.conformance._ops",
    "device": "polytorch.conformance._device",
    "dtypes": "polytorch.conformance._dtypes",
    "dlpack": "polytorch.conformance._dlpack",
    "rng": "polytorch.conformance._rng",
    "functional": "polytorch.conformance._functional",
    "checkpoint": "polytorch.conformance._checkpoint",
    "training": "polytorch.conformance._training",
}


@dataclass(frozen=True)
class Target:
    """The device under test, its backend, its dtypes and its declared failures.

    ``expected_failures`` comes from the backend's ``expected_failures``
    attribute: test id (or an ``fnmatch`` pattern such as ``ops/tanh/*``) -> reason.
    """

    spec: str
    device: polytorch.device
    backend: Any
    dtypes: frozenset
    expected_failures: Mapping[str, str] = field(default_factory=dict)

    def has(self, dtype: D.dtype) -> bool:
        return dtype in self.dtypes

    def declared(self, test_id: str) -> str | None:
        """The reason ``test_id`` is declared to fail on this backend, or None."""
        reason = self.expected_failures.get(test_id)
        if reason is not None:
            return reason
        for pattern, reason in self.expected_failures.items():
            if any(c in pattern for c in "*?[") and fnmatch.fnmatchcase(test_id, pattern):
                return reason
        return None


def open_target(spec: str) -> Target:
    """Resolve a device string to a ``Target`` (registering the strict test backend if named).

    Example:
        >>> open_target("cpu").backend.name
        'numpy'
    """
    _maybe_register_strict(spec)
    dev, backend = polytorch._device.resolve(spec)
    dtypes = frozenset(backend.supported_dtypes(dev.type, dev.index or 0))
    declared = dict(getattr(backend, "expected_failures", None) or {})
    return Target(spec, dev, backend, dtypes, declared)


def _maybe_register_strict(spec: str) -> None:
    """``strict`` devices are the test-only array_api_strict backend: register it on demand."""
    type_, _, backend = spec.partition("@")
    if type_.partition(":")[0] != "strict" and backend != "strict":
        return
    try:
        import array_api_strict  # noqa: F401 (only whether it is installed)
    except ImportError:
        return  # resolving the device then names what is available
    from ..testing import register_strict_backend

    register_strict_backend()


@dataclass(frozen=True)
class Outcome:
    """What a case found: a status, a message and the worst errors seen (None: not measured)."""

    status: str
    message: str = ""
    max_abs: float | None = None
    max_rel: float | None = None


@dataclass(frozen=True)
class Case:
    """One test: its id (``LAYER/...``) and the callable that runs it."""

    id: str
    run: Callable[[], Outcome]

    @property
    def layer(self) -> str:
        return self.id.split("/", 1)[0]


@dataclass(frozen=True)
class Result:
    """A finished case, as reported: ``status`` is pass, fail, declared or unsupported."""

    id: str
    status: str
    message: str = ""
    max_abs: float | None = None
    max_rel: float | None = None
    seconds: float = 0.0

    @property
    def layer(self) -> str:
        return self.id.split("/", 1)[0]

    def to_dict(self) -> dict:
        return {"layer": self.layer, "id": self.id, "status": self.status,
                "max_abs": self.max_abs, "max_rel": self.max_rel, "message": self.message,
                "seconds": round(self.seconds, 4)}


def _layer_modules(layers: Sequence[str] | None) -> dict[str, Any]:
    names = list(LAYERS) if layers is None else list(dict.fromkeys(layers))
    unknown = [n for n in names if n not in LAYERS]
    if unknown:
        raise ValueError(f"unknown conformance layer(s) {unknown}; layers: {list(LAYERS)}")
    return {name: importlib.import_module(LAYERS[name]) for name in names}


def collect(target: Target, *, layers: Sequence[str] | None = None,
            select: str | None = None) -> list[Case]:
    """The cases of ``layers`` (default: all) whose id contains ``select``."""
    cases: list[Case] = []
    for module in _layer_modules(layers).values():
        cases.extend(module.cases(target))
    return [c for c in cases if select is None or select in c.id]


def layer_notes(target: Target, layers: Sequence[str] | None = None) -> dict[str, list[str]]:
    """Each layer's notes for its report section (coverage and the like): layer -> lines."""
    out = {}
    for name, module in _layer_modules(layers).items():
        notes = getattr(module, "notes", None)
        if notes is not None:
            out[name] = list(notes(target))
    return out


def run_case(case: Case, target: Target) -> Result:
    """Run one case under the suite's fixed settings and apply the declared failures."""
    prev_dtype = polytorch.get_default_dtype()
    polytorch.set_default_dtype(D.float32)  # the specs assume PyTorch's default
    start = time.perf_counter()
    try:
        with polytorch.enable_grad():
            out = case.run()
    except Exception as exc:  # a harness or backend error is this case's failure
        where = traceback.extract_tb(exc.__traceback__)[-1]
        out = Outcome(FAIL, f"{type(exc).__name__}: {exc} (at {where.filename}:{where.lineno})")
    finally:
        polytorch.set_default_dtype(prev_dtype)
    seconds = time.perf_counter() - start
    status, message = out.status, out.message
    reason = target.declared(case.id)
    if reason is not None:
        if status == FAIL:
            status, message = DECLARED, f"declared: {reason} [{message}]"
        elif status == PASS:
            message = f"declared to fail ({reason}) but passed; remove the declaration. {message}"
    return Result(case.id, status, message, out.max_abs, out.max_rel, seconds)


def run_cases(cases: Iterable[Case], target: Target,
              progress: Callable[[Result], None] | None = None) -> list[Result]:
    results = []
    for case in cases:
        result = run_case(case, target)
        if progress is not None:
            progress(result)
        results.append(result)
    return results
