"""The results file and the generated "Measured" section of docs/performance.md."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.cases import Kind
from benchmarks.harness import SideSummary, median

MEASURED_START = "<!-- measured:start (written by `make bench`; edit the text around it, not inside) -->"
MEASURED_END = "<!-- measured:end -->"
MEASURED_HEADING = "## Measured"


@dataclass(frozen=True)
class Goal:
    """A speed target from the issues: throughput as a share of the bare handler, with a p99 ceiling."""

    min_ratio: float
    max_p99_ms: float

    def describe(self) -> str:
        """For the table."""
        return f"≥ {self.min_ratio:.0%}, p99 < {self.max_p99_ms:g} ms"


GOALS: Mapping[Kind, Goal] = {"json": Goal(0.50, 25.0), "html": Goal(0.35, 25.0)}


@dataclass(frozen=True)
class CaseResult:
    """One case: Vitrine's runs, the baseline's runs, and the per-repetition ratios."""

    name: str
    method: str
    path: str
    kind: Kind
    description: str
    vitrine: SideSummary
    baseline: SideSummary
    ratios: tuple[float, ...]

    @property
    def ratio(self) -> float:
        """Median over repetitions of Vitrine rps / baseline rps (each pair measured back to back)."""
        return median(self.ratios)

    @property
    def goal(self) -> Goal:
        """The target for this kind of answer."""
        return GOALS[self.kind]

    @property
    def goal_met(self) -> bool:
        """Throughput share and p99 both within the target."""
        return self.ratio >= self.goal.min_ratio and self.vitrine.p99_ms < self.goal.max_p99_ms

    def as_json(self) -> dict[str, Any]:
        """The case as stored in the results file."""
        return {
            "name": self.name,
            "method": self.method,
            "path": self.path,
            "kind": self.kind,
            "description": self.description,
            "vitrine": self.vitrine.as_json(),
            "baseline": self.baseline.as_json(),
            "ratio_median": round(self.ratio, 4),
            "ratios": [round(ratio, 4) for ratio in self.ratios],
            "goal": {
                "min_ratio": self.goal.min_ratio,
                "max_p99_ms": self.goal.max_p99_ms,
                "met": self.goal_met,
            },
        }


@dataclass(frozen=True)
class Report:
    """Everything one benchmark run found."""

    generated_at: str
    machine: Mapping[str, Any]
    settings: Mapping[str, Any]
    cases: tuple[CaseResult, ...]
    peak_rss_mib: Mapping[str, float | None]
    complete: bool

    def as_json(self) -> dict[str, Any]:
        """The results file's content."""
        return {
            "generated_at": self.generated_at,
            "complete": self.complete,
            "machine": dict(self.machine),
            "settings": dict(self.settings),
            "peak_rss_mib": {
                name: None if value is None else round(value, 1) for name, value in self.peak_rss_mib.items()
            },
            "cases": [case.as_json() for case in self.cases],
        }


def _rate(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ")


def _ms(value: float) -> str:
    return f"{value:.1f}" if value >= 1 else f"{value:.2f}"


def _percent(value: float) -> str:
    return f"{value * 100:.0f} %"


def render_table(cases: Sequence[CaseResult]) -> str:
    """The Markdown table of medians and ratios."""
    rows = [
        "| Case | Vitrine req/s | Bare req/s | Vitrine / bare (range) | Vitrine p50 / p90 / p99 ms "
        "| Bare p50 / p90 / p99 ms "
        "| Goal (later issues) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for case in cases:
        low, high = min(case.ratios), max(case.ratios)
        verdict = "met" if case.goal_met else "**not met**"
        rows.append(
            f"| `{case.method} {case.path}` ({case.name}, {case.kind}) "
            f"| {_rate(case.vitrine.rps_median)} | {_rate(case.baseline.rps_median)} "
            f"| **{_percent(case.ratio)}** ({_percent(low)}–{_percent(high)}) "
            f"| {_ms(case.vitrine.p50_ms)} / {_ms(case.vitrine.p90_ms)} / {_ms(case.vitrine.p99_ms)} "
            f"| {_ms(case.baseline.p50_ms)} / {_ms(case.baseline.p90_ms)} / {_ms(case.baseline.p99_ms)} "
            f"| {case.goal.describe()}: {verdict} |"
        )
    return "\n".join(rows)


def render_measured(report: Report, results_path: str) -> str:
    """The generated part of the Measured section."""
    machine, settings = report.machine, report.settings
    lines = [
        f"Last run: {report.generated_at} on {machine.get('cpu_model', 'an unknown CPU')} "
        f"({machine.get('cpu_count')} CPUs), Python {machine.get('python')}, "
        f"PostgreSQL {machine.get('postgres')}, Redis {machine.get('redis')}, "
        f"Litestar {machine.get('litestar')}, uvicorn {machine.get('uvicorn')}"
        + (f", commit {machine['commit']}" if machine.get("commit") else "")
        + ".",
        "",
        f"Load: {settings.get('generator_version', settings.get('generator'))}, "
        f"{settings.get('connections')} connections, {settings.get('workers', 1)} uvicorn worker(s) per server, "
        f"{settings.get('repeat')} runs of {settings.get('duration_s')} s "
        f"per case and server (each after {settings.get('warmup_s')} s of discarded warm-up), Vitrine and baseline "
        "alternating. Figures are medians over the runs; the ratio is the median of the per-run ratios, with their "
        "range in brackets.",
        "",
    ]
    load = settings.get("load_average_1min")
    if isinstance(load, Mapping) and load.get("start") is not None:
        lines += [
            f"1-minute load average before / after the run: {load.get('start')} / {load.get('end')} (before the run "
            "it is all other work on the machine; the benchmark itself adds about 2).",
            "",
        ]
    lines += [
        render_table(report.cases),
        "",
    ]
    vitrine_rss = report.peak_rss_mib.get("vitrine")
    baseline_rss = report.peak_rss_mib.get("baseline")
    if vitrine_rss is not None:
        memory = f"Peak RSS (VmHWM) of the Vitrine web process over the whole run: {vitrine_rss:.0f} MiB"
        if baseline_rss is not None:
            memory += f" (bare baseline: {baseline_rss:.0f} MiB)"
        lines += [memory + ".", ""]
    errors = {case.name: case.vitrine.errors + case.baseline.errors for case in report.cases}
    failed = {name: count for name, count in errors.items() if count}
    lines.append(
        "Errors: none."
        if not failed
        else "Errors (non-2xx/3xx answers, socket errors): "
        + ", ".join(f"{name} {count}" for name, count in failed.items())
        + "."
    )
    lines += ["", f"Every run's figures: `{results_path}`."]
    return "\n".join(lines)


def replace_section(document: str, start_marker: str, end_marker: str, body: str, heading: str) -> str:
    """The document with the text between the markers replaced by body; appended under heading when missing."""
    block = f"{start_marker}\n{body.strip()}\n{end_marker}"
    start = document.find(start_marker)
    end = document.find(end_marker)
    if start != -1 and end > start:
        return document[:start] + block + document[end + len(end_marker) :]
    return document.rstrip("\n") + f"\n\n{heading}\n\n{block}\n"


def write_section(path: Path, start_marker: str, end_marker: str, body: str, heading: str) -> None:
    """Rewrite one benchmark's generated section of a document in place (see `replace_section`)."""
    document = path.read_text(encoding="utf-8")
    path.write_text(replace_section(document, start_marker, end_marker, body, heading), encoding="utf-8")


def replace_measured(document: str, measured: str) -> str:
    """The document with the text between the markers replaced; the section is appended when missing."""
    return replace_section(document, MEASURED_START, MEASURED_END, measured, MEASURED_HEADING)


def write_results(report: Report, path: Path) -> None:
    """The JSON results file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def update_document(report: Report, document_path: Path, results_path: str) -> None:
    """Rewrite the Measured section of the performance document, keeping the hand-written text."""
    document = document_path.read_text(encoding="utf-8") if document_path.exists() else "# Performance\n"
    document_path.write_text(
        replace_measured(document, render_measured(report, results_path)).rstrip("\n") + "\n", encoding="utf-8"
    )
