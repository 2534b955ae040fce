"""``python -m polytorch.conformance DEVICE [--report DIR] [--layer L] [--list] [-k SUBSTRING]``."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from ._core import DECLARED, FAIL, LAYERS, collect, layer_notes, open_target, run_cases
from ._report import Report, safe_name


def run(device: str, *, select: str | None = None, layers: Sequence[str] | None = None,
        verbose: bool = False, stream=None) -> Report:
    """Run the suite on ``device`` and return the report (nothing is written).

    Example:
        >>> report = run("cpu", select="ops/add/")
        >>> report.ok
        True
    """
    target = open_target(device)
    cases = collect(target, layers=layers, select=select)

    def progress(result):
        if stream is not None and (verbose or result.status in (FAIL, DECLARED)):
            print(f"{result.status.upper():<11} {result.id}: {result.message}", file=stream)

    start = time.perf_counter()
    results = run_cases(cases, target, progress)
    ran = {c.layer for c in cases}  # with -k, only the layers it selected
    notes = {k: v for k, v in layer_notes(target, layers).items() if select is None or k in ran}
    return Report(target, results, time.perf_counter() - start, notes)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m polytorch.conformance",
        description="Certify a polytorch backend: run the conformance suite on DEVICE, print a "
                    "summary, write report.json and report.md, and exit 1 on any failure the "
                    "backend has not declared in its expected_failures.",
    )
    p.add_argument("device", help="the device to test, e.g. cpu, cpu@jax, cuda:1@jax, strict:1")
    p.add_argument("--report", metavar="DIR",
                   help="where to write the report (default: conformance-report/<device>)")
    p.add_argument("--list", action="store_true", help="print the test ids and exit")
    p.add_argument("-k", metavar="SUBSTRING", dest="select",
                   help="only the tests whose id contains SUBSTRING")
    p.add_argument("--layer", action="append", choices=sorted(LAYERS),
                   help="only this layer (repeatable; default: all)")
    p.add_argument("-v", "--verbose", action="store_true", help="print every result")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit status (0 ok, 1 undeclared failures, 2 usage)."""
    args = _parser().parse_args(argv)
    try:
        if args.list:
            target = open_target(args.device)
            for case in collect(target, layers=args.layer, select=args.select):
                print(case.id)
            return 0
        report = run(args.device, select=args.select, layers=args.layer, verbose=args.verbose,
                     stream=sys.stdout)
    except Exception as exc:  # an unusable device: say why, do not print a traceback
        print(f"polytorch conformance: cannot test {args.device!r}: {type(exc).__name__}: {exc}",
              file=sys.stderr)
        return 2
    t = report.target
    print(f"\npolytorch conformance on {t.device} (backend {t.backend.name}): "
          f"{len(report.results)} tests in {report.seconds:.1f} s")
    print(report.table())
    for layer, lines in report.notes.items():
        for line in lines:
            print(f"{layer}: {line}")
    directory = args.report or f"conformance-report/{safe_name(str(t.device))}"
    js, md = report.write(directory)
    print(f"\n{'PASSED' if report.ok else 'FAILED'}; report written to {js} and {md}")
    return 0 if report.ok else 1
