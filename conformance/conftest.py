"""The ``--device`` option and the fixtures that turn conformance cases into pytest tests.

A test module names its layer (``LAYER = "ops"``) and takes the ``result``
fixture; it is parametrised over that layer's cases for ``--device``.
"""

from __future__ import annotations

import pytest

from polytorch import conformance

_TARGET = pytest.StashKey[conformance.Target]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--device", default="cpu",
                     help="device to run the conformance suite on (default: cpu), e.g. cpu@jax, "
                          "cuda:1@jax, strict:1")


def _target(config: pytest.Config) -> conformance.Target:
    if _TARGET not in config.stash:
        device = config.getoption("--device")
        try:
            config.stash[_TARGET] = conformance.open_target(device)
        except Exception as exc:
            raise pytest.UsageError(
                f"--device {device}: cannot use this device: {type(exc).__name__}: {exc}"
            ) from exc
    return config.stash[_TARGET]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" in metafunc.fixturenames:
        layer = getattr(metafunc.module, "LAYER", None)
        cases = conformance.collect(_target(metafunc.config),
                                    layers=None if layer is None else [layer])
        metafunc.parametrize("case", cases, ids=[c.id for c in cases])


@pytest.fixture
def target(request: pytest.FixtureRequest) -> conformance.Target:
    return _target(request.config)


@pytest.fixture
def result(case: conformance.Case, target: conformance.Target) -> conformance.Result:
    """The case's result; unsupported cases skip and declared failures xfail."""
    out = conformance.run_case(case, target)
    if out.status == conformance.UNSUPPORTED:
        pytest.skip(out.message)
    if out.status == conformance.DECLARED:
        pytest.xfail(out.message)
    return out
