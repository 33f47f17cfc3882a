"""The generated part of the "Access log growth" section of docs/performance.md, from the results file's figures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_PATHS = {"access_log_json": "GET /api/v1/me/access-events", "access_log_html": "GET /access-log"}


def _ms(value: float) -> str:
    return f"{value:.1f}" if value >= 1 else f"{value:.2f}"


def _latencies(side: Mapping[str, Any]) -> str:
    return f"{_ms(side['p50_ms_median'])} / {_ms(side['p90_ms_median'])} / {_ms(side['p99_ms_median'])}"


def _rate(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ")


def _gigabytes(size: int) -> str:
    return f"{size / 1024**3:.1f} GB"


def _database_lines(databases: Mapping[str, Mapping[str, Any]]) -> list[str]:
    lines = []
    for label, facts in databases.items():
        lines.append(
            f"- `{facts['name']}` ({label}): {facts['people']:,} people, {facts['events']:,} access events, "
            f"{_gigabytes(facts['size_bytes'])} on disk (`pg_database_size`)."
        )
    citizen = next(iter(databases.values()))
    lines.append(
        f"- The signed-in citizen is the same person in both, with the same {citizen['citizen_events']} events "
        "(checked entry by entry): the generator's reference citizen. Each page shows the newest 50."
    )
    return lines


def _medians_table(cases: Mapping[str, Any]) -> list[str]:
    rows = [
        "| Request | Events in the table | Vitrine req/s | Vitrine p50 / p90 / p99 ms | Bare req/s "
        "| Bare p50 / p90 / p99 ms |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for name, case in cases.items():
        for label, sides in case["databases"].items():
            vitrine, baseline = sides["vitrine"], sides["baseline"]
            rows.append(
                f"| `{_PATHS.get(name, case['path'])}` | {label} | {_rate(vitrine['rps_median'])} "
                f"| {_latencies(vitrine)} | {_rate(baseline['rps_median'])} | {_latencies(baseline)} |"
            )
    return rows


def _growth_table(cases: Mapping[str, Any], goal: float) -> list[str]:
    rows = [
        f"| Request | Vitrine p50 50M / 1M | Vitrine p99 50M / 1M | Bare p50 / p99 50M / 1M | Goal (< {goal:g}×) |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for name, case in cases.items():
        vitrine, baseline = case["growth"]["vitrine"], case["growth"]["baseline"]
        verdict = "met" if vitrine["goal_met"] else "**not met**"
        rows.append(
            f"| `{_PATHS.get(name, case['path'])}` | **{vitrine['p50_ratio']:.2f}×** | **{vitrine['p99_ratio']:.2f}×** "
            f"| {baseline['p50_ratio']:.2f}× / {baseline['p99_ratio']:.2f}× | {verdict} |"
        )
    return rows


def render(figures: Mapping[str, Any]) -> str:
    """The Markdown between the section's markers."""
    machine, settings = figures["machine"], figures["settings"]
    load = settings["load_average_1min"]
    cases = figures["cases"]
    errors = sum(
        side["errors"] for case in cases.values() for sides in case["databases"].values() for side in sides.values()
    )
    lines = [
        f"Measured {figures['measured_at']} on {machine.get('cpu_model') or 'an unknown CPU'} "
        f"({machine.get('cpu_count')} CPUs), PostgreSQL {machine.get('postgres')}"
        + (f", commit {machine['commit']}" if machine.get("commit") else "")
        + f"; 1-minute load average {load['start']} before, {load['end']} after.",
        "",
        *_database_lines(figures["databases"]),
        "",
        f"Load: {machine.get('generator_version')}, {settings['connections']} connections, {settings['repeat']} "
        f"run{'s' if settings['repeat'] != 1 else ''} of {settings['duration_s']} s (after {settings['warmup_s']} s "
        "of discarded warm-up) per request, database "
        "and server; one Vitrine web process and one bare baseline per database, the runs alternating between the "
        "databases and between Vitrine and the baseline. Figures are medians over the runs.",
        "",
        *_medians_table(cases),
        "",
        *_growth_table(cases, figures["goal"]["max_ratio"]),
        "",
        f"Goal {'met' if figures['goal'].get('met') else '**not met**'}: the 50-million medians of p50 and p99 "
        f"over the 1-million ones, for Vitrine, must stay under {figures['goal']['max_ratio']:g}×. The bare "
        "baseline runs the same two statements without Vitrine's layers: growth it shares comes from the database.",
        "",
        "Errors: none." if not errors else f"Errors (non-2xx/3xx answers, socket errors): {errors}.",
        "",
        "Every run's figures: `benchmarks/results/log-growth.json`.",
    ]
    return "\n".join(lines)
