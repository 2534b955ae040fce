"""The conformance report: a summary per layer, ``report.json`` and ``report.md``."""

from __future__ import annotations

import importlib
import json
import platform
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polytorch

from ._core import DECLARED, FAIL, LAYERS, PASS, STATUSES, UNSUPPORTED, Result, Target


def safe_name(device: str) -> str:
    """A directory name for a device string: ``cpu@jax`` -> ``cpu_jax``."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", device)


@dataclass
class Report:
    """The results of one run on one target, and each layer's notes (coverage and the like)."""

    target: Target
    results: list[Result]
    seconds: float
    notes: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """No failure that the backend has not declared."""
        return not any(r.status == FAIL for r in self.results)

    def summary(self) -> dict[str, dict]:
        """Per layer (``LAYERS`` order, then ``total``): counts per status, seconds, worst errors.

        A layer with notes has a row even before it has cases.
        """
        rows: dict[str, dict] = {layer: _empty_row() for layer in self.notes}
        total = _empty_row()
        for r in self.results:
            for row in (rows.setdefault(r.layer, _empty_row()), total):
                row[r.status] += 1
                row["seconds"] += r.seconds
                for kind in ("abs", "rel"):
                    v = getattr(r, f"max_{kind}")
                    if v is not None and (row[f"worst_{kind}"] is None or v > row[f"worst_{kind}"]):
                        row[f"worst_{kind}"], row[f"worst_{kind}_id"] = v, r.id
        order = list(LAYERS)
        rows = dict(sorted(rows.items(), key=lambda kv: (
            order.index(kv[0]) if kv[0] in order else len(order), kv[0])))
        for row in (*rows.values(), total):
            row["seconds"] = round(row["seconds"], 3)
        rows["total"] = total
        return rows

    def to_json(self) -> dict:
        t = self.target
        return {
            "device": str(t.device),
            "requested": t.spec,
            "backend": t.backend.name,
            "dtypes": sorted(d.name for d in t.dtypes),
            "expected_failures": dict(t.expected_failures),
            "polytorch": polytorch.__version__,
            "python": platform.python_version(),
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": round(self.seconds, 3),
            "ok": self.ok,
            "summary": self.summary(),
            "layers": {layer: {"description": _description(layer), "summary": row,
                               "notes": self.notes.get(layer, [])}
                       for layer, row in self.summary().items() if layer != "total"},
            "results": [r.to_dict() for r in self.results],
        }

    def table(self) -> str:
        """The summary as a plain-text table (what the CLI prints)."""
        header = ("layer", PASS, FAIL, DECLARED, UNSUPPORTED, "seconds", "worst abs err",
                  "worst rel err")
        lines = [header]
        for layer, row in self.summary().items():
            lines.append((layer, *(str(row[s]) for s in STATUSES), f"{row['seconds']:.1f}",
                          _err(row["worst_abs"], row["worst_abs_id"]),
                          _err(row["worst_rel"], row["worst_rel_id"])))
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        out = []
        for line in lines:
            if line[0] == "total":
                out.append("-" * len(out[0]))
            cells = [c.ljust(w) if i in (0, 6, 7) else c.rjust(w)
                     for i, (c, w) in enumerate(zip(line, widths))]
            out.append("  ".join(cells).rstrip())
        return "\n".join(out)

    def markdown(self) -> str:
        t = self.target
        verdict = "PASSED" if self.ok else "FAILED"
        out = [
            f"# polytorch conformance: `{t.device}` ({verdict})",
            "",
            f"- backend: `{t.backend.name}`; dtypes: {', '.join(sorted(d.name for d in t.dtypes))}",
            f"- polytorch {polytorch.__version__}, Python {platform.python_version()}; "
            f"{len(self.results)} tests in {self.seconds:.1f} s",
            f"- declared failures: {len(t.expected_failures)}",
            "",
            "## Summary",
            "",
            "| layer | pass | fail | declared | unsupported | seconds | worst abs err | "
            "worst rel err |",
            "|---|---:|---:|---:|---:|---:|---|---|",
        ]
        for layer, row in self.summary().items():
            out.append(f"| {layer} | " + " | ".join(str(row[s]) for s in STATUSES) + " | "
                       f"{row['seconds']:.1f} | {_err(row['worst_abs'], row['worst_abs_id'])} | "
                       f"{_err(row['worst_rel'], row['worst_rel_id'])} |")
        for layer, row in self.summary().items():
            if layer != "total":
                out += self._section(layer, row)
        return "\n".join(out) + "\n"

    def _section(self, layer: str, row: dict) -> list[str]:
        """A layer's section: what it checks, counts, notes, failures, then every result."""
        results = [r for r in self.results if r.layer == layer]
        counts = ", ".join(f"{row[s]} {s}" for s in STATUSES)
        out = ["", f"## Layer `{layer}`", "", _description(layer), "",
               f"- {len(results)} tests in {row['seconds']:.1f} s: {counts}",
               f"- worst abs err {_err(row['worst_abs'], row['worst_abs_id'])}; "
               f"worst rel err {_err(row['worst_rel'], row['worst_rel_id'])}"]
        out += [f"- {note}" for note in self.notes.get(layer, [])]
        bad = [r for r in results if r.status in (FAIL, DECLARED)]
        if bad:
            out += ["", f"### Failures in `{layer}`", "", "| test | status | message |",
                    "|---|---|---|"]
            out += [f"| `{r.id}` | {r.status} | {_cell(r.message)} |" for r in bad]
        out += ["", f"### Results of `{layer}`", "",
                "| test | status | max abs err | max rel err | seconds | message |",
                "|---|---|---:|---:|---:|---|"]
        out += [f"| `{r.id}` | {r.status} | {_num(r.max_abs)} | {_num(r.max_rel)} | "
                f"{r.seconds:.3f} | {_cell(r.message)} |" for r in results]
        return out

    def write(self, directory: str | Path) -> tuple[Path, Path]:
        """Write ``report.json`` and ``report.md`` into ``directory`` (created if needed)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        js, md = directory / "report.json", directory / "report.md"
        js.write_text(json.dumps(self.to_json(), indent=1) + "\n")
        md.write_text(self.markdown())
        return js, md


def _description(layer: str) -> str:
    """The first line of the layer module's docstring (what the layer checks)."""
    module = LAYERS.get(layer)
    doc = importlib.import_module(module).__doc__ if module else None
    return (doc or layer).strip().splitlines()[0]


def _empty_row() -> dict:
    return {**dict.fromkeys(STATUSES, 0), "seconds": 0.0, "worst_abs": None, "worst_abs_id": None,
            "worst_rel": None, "worst_rel_id": None}


def _num(v: float | None) -> str:
    return "-" if v is None else f"{v:.3g}"


def _err(v: float | None, test_id: str | None) -> str:
    return "-" if v is None else f"{v:.3g} ({test_id})"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
