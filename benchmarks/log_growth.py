"""`python -m benchmarks.log_growth`: how the citizen's access log slows down as the table grows from about
1 million to about 50 million access events (goal: p50 and p99 less than 1.5 times the 1-million figures).

Two kept databases of the same 1,000,000 people (benchmarks/scale_data.py, generated on first use, then kept
like ``vitrine_bench_scale``) differ only in the size of the log. In both, the signed-in citizen is the
generator's reference citizen: the same person with the very same entries (checked entry by entry), so
the pages are the same size and only the table around them differs. The access-log cases of
benchmarks/access_log_pages.py (JSON and HTML) are served by one Vitrine and one bare baseline per database,
all four at once; the runs alternate between the databases (and between Vitrine and the baseline), so a
noisy machine's drift hits both sides of each ratio alike. The baseline runs the same two statements without
Vitrine's layers: when it slows down as much as Vitrine does, the growth comes from the database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import uuid
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from backend.core.db import connect
from benchmarks.cases import Case, select_cases
from benchmarks.harness import (
    BenchmarkError,
    LoadGenerator,
    RunResult,
    SideSummary,
    choose_generator,
    summarize,
)
from benchmarks.log_growth_report import render
from benchmarks.report import write_section
from benchmarks.run import Benchmark, Options, machine_info, options_from, serving
from benchmarks.scale_data import CITIZENS, ensure_scale_data
from benchmarks.servers import ROOT, Server

RESULTS: Final = ROOT / "benchmarks" / "results" / "log-growth.json"
DOCUMENT: Final = ROOT / "docs" / "performance.md"
START: Final = "<!-- log-growth:start (written by `make bench`) -->"
END: Final = "<!-- log-growth:end -->"
CASE_NAMES: Final = ("access_log_json", "access_log_html")
GOAL_RATIO: Final = 1.5
SIDES: Final = ("vitrine", "baseline")


@dataclass(frozen=True)
class LogDatabase:
    """One kept database of the comparison."""

    label: str
    name: str
    # What the generator is asked for: it rounds each person's count down, so asking a little more than the
    # target gives about the target (1.42 M asked gives about 1.0 M, 50.2 M about 50 M).
    events: int


SMALL: Final = LogDatabase("1M", "vitrine_bench_growth_1m", 1_420_000)
LARGE: Final = LogDatabase("50M", "vitrine_bench_growth_50m", 50_200_000)
DATABASES: Final = (SMALL, LARGE)


@dataclass(frozen=True)
class Growth:
    """How much slower one side got on the large database than on the small one (large / small)."""

    p50_ratio: float
    p99_ratio: float
    rps_ratio: float

    @property
    def goal_met(self) -> bool:
        """Both latency ratios under the goal."""
        return self.p50_ratio < GOAL_RATIO and self.p99_ratio < GOAL_RATIO

    def as_json(self) -> dict[str, Any]:
        """As stored in the results file."""
        return {
            "p50_ratio": round(self.p50_ratio, 3),
            "p99_ratio": round(self.p99_ratio, 3),
            "rps_ratio": round(self.rps_ratio, 3),
            "goal_met": self.goal_met,
        }


def _ratio(large: float, small: float) -> float:
    return large / small if small > 0 else float("inf")


def growth(small: SideSummary, large: SideSummary) -> Growth:
    """Large over small for the medians of p50, p99 and requests per second."""
    return Growth(
        p50_ratio=_ratio(large.p50_ms, small.p50_ms),
        p99_ratio=_ratio(large.p99_ms, small.p99_ms),
        rps_ratio=_ratio(large.rps_median, small.rps_median),
    )


def database_order(repetition: int, case_index: int) -> tuple[LogDatabase, LogDatabase]:
    """Which database goes first for this repetition of this case: it switches every time."""
    return DATABASES if (repetition + case_index) % 2 == 0 else (LARGE, SMALL)


def build_parser() -> argparse.ArgumentParser:
    """The command-line grammar."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.log_growth", description=__doc__)
    parser.add_argument("--repeat", type=int, default=5, help="runs per case, database and server (default 5)")
    parser.add_argument("--duration", type=int, default=5, help="seconds measured per run (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of discarded warm-up before each run")
    parser.add_argument("--connections", type=int, default=32, help="concurrent keep-alive connections (32)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 run of 1 s each; writes nothing")
    return parser


def parse_options(argv: Sequence[str] | None) -> Options:
    """Options from the command line, in the shape the HTTP harness takes."""
    args = build_parser().parse_args(argv)
    # One worker per server: growth compares one server with itself on two databases, as first measured.
    return options_from(
        args, only=list(CASE_NAMES), generator="auto", prog="python -m benchmarks.log_growth", workers=1
    )


# The citizen's log, entry by entry, with institutions named by code: each database's seed gives the
# institutions ids of its own, so the chain hashes differ even where every entry is the same.
_LOG_FINGERPRINT = """
SELECT count(*) AS events, md5(string_agg(concat_ws('|', e.seq, e.event_id, e.occurred_at, e.logged_at,
    e.actor_kind, o.code, e.actor_client_id, e.actor_ref, e.mandate_id, e.purpose_code, e.legal_basis_ref,
    e.categories::text, e.case_ref, e.channel, e.action, e.outcome, e.reason), ',' ORDER BY e.seq)) AS fingerprint
FROM access_events AS e LEFT JOIN organisations AS o ON o.org_id = e.actor_org_id
WHERE e.citizen_id = $1
"""


async def describe_database(url: str, person_id: str) -> dict[str, Any]:
    """The database's size on disk, its people and events, and the signed-in citizen's log (count, fingerprint)."""
    conn = await connect(url, as_app=False)
    try:
        log = await conn.fetchrow(_LOG_FINGERPRINT, uuid.UUID(person_id))
        return {
            "size_bytes": await conn.fetchval("SELECT pg_database_size(current_database())::bigint"),
            "people": await conn.fetchval("SELECT count(*) FROM people"),
            "events": await conn.fetchval("SELECT sum(last_seq)::bigint FROM access_log_heads"),
            "citizen_events": log["events"] if log else 0,
            "citizen_log_md5": log["fingerprint"] if log else None,
        }
    finally:
        await conn.close()


def check_same_citizen(benchmarks: dict[str, Benchmark], facts: dict[str, dict[str, Any]]) -> None:
    """Refuse to compare unless both databases sign in the same person with the very same log."""
    people = {benchmark.params[CASE_NAMES[0]]["person_id"] for benchmark in benchmarks.values()}
    logs = {(fact["citizen_events"], fact["citizen_log_md5"]) for fact in facts.values()}
    if len(people) != 1 or len(logs) != 1:
        raise BenchmarkError("the two databases do not sign in the same citizen with the same log: generate them again")


class Growing:
    """One run of the comparison: a Benchmark (cases, tokens, primed answers) per database, and their runs."""

    def __init__(self, options: Options, cases: list[Case], generator: LoadGenerator) -> None:
        self.options = options
        self.cases = cases
        self.generator = generator
        self.benchmarks = {database.label: Benchmark(options, cases, generator) for database in DATABASES}
        self.runs: dict[str, dict[str, dict[str, list[RunResult]]]] = {
            case.name: {database.label: {side: [] for side in SIDES} for database in DATABASES} for case in cases
        }

    def run_once(self, database: LogDatabase, case: Case, server: Server) -> RunResult:
        """One measured run of one case on one server."""
        return self.benchmarks[database.label].run_case(case, server)

    def measure(self, servers: dict[str, tuple[Server, Server]]) -> None:
        """Every repetition of every case on both databases and both servers, alternating the order of each."""
        total = self.options.repeat * len(self.cases) * len(DATABASES) * len(SIDES)
        done = 0
        for repetition in range(self.options.repeat):
            for index, case in enumerate(self.cases):
                for database in database_order(repetition, index):
                    vitrine, baseline = servers[database.label]
                    order = (vitrine, baseline) if repetition % 2 == 0 else (baseline, vitrine)
                    for server in order:
                        result = self.run_once(database, case, server)
                        self.runs[case.name][database.label][server.name].append(result)
                        done += 1
                        print(
                            f"  [{done:3}/{total}] run {repetition + 1} {case.name:15} {database.label:3} "
                            f"{server.name:8} {result.rps:7.0f} req/s  p50 {result.p50_ms:6.2f} ms  "
                            f"p99 {result.p99_ms:6.2f} ms" + (f"  errors {result.errors}" if result.errors else ""),
                            flush=True,
                        )

    def figures(self) -> dict[str, Any]:
        """Medians per case, database and side, and the growth from the small database to the large one."""
        cases: dict[str, Any] = {}
        for case in self.cases:
            runs = self.runs[case.name]
            summaries = {
                database.label: {side: summarize(runs[database.label][side]) for side in SIDES}
                for database in DATABASES
            }
            cases[case.name] = {
                "path": case.path,
                "kind": case.kind,
                "databases": {
                    label: {side: summary.as_json() for side, summary in sides.items()}
                    for label, sides in summaries.items()
                },
                "growth": {
                    side: growth(summaries[SMALL.label][side], summaries[LARGE.label][side]).as_json() for side in SIDES
                },
            }
        return cases


def measure(database_url: str, redis_url: str, options: Options) -> dict[str, Any]:
    """Make sure both databases are there, serve them, measure, and gather the figures."""
    urls = {}
    for database in DATABASES:
        print(f"benchmarks: {database.name} (generated on first use, then kept)", flush=True)
        urls[database.label] = asyncio.run(
            ensure_scale_data(database_url, citizens=CITIZENS, events=database.events, name=database.name)
        )
    load_at_start = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory(prefix="vitrine-log-growth-") as workdir, ExitStack() as stack:
        generator = choose_generator(options.generator, Path(workdir))
        growing = Growing(options, select_cases(list(CASE_NAMES)), generator)
        servers = {
            label: stack.enter_context(
                serving(growing.benchmarks[label], url, redis_url, Path(workdir) / f"fixtures-{label}.json")
            )
            for label, url in urls.items()
        }
        person_id = growing.benchmarks[SMALL.label].params[CASE_NAMES[0]]["person_id"]
        facts = {label: asyncio.run(describe_database(url, person_id)) for label, url in urls.items()}
        check_same_citizen(growing.benchmarks, facts)
        growing.measure(servers)
        peak = {label: pair[0].peak_rss_mib() for label, pair in servers.items()}
        machine = machine_info(database_url, redis_url, generator)
    return {
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine,
        "settings": {
            "connections": options.connections,
            "duration_s": options.duration_s,
            "warmup_s": options.warmup_s,
            "repeat": options.repeat,
            "load_average_1min": {"start": load_at_start, "end": round(os.getloadavg()[0], 2)},
        },
        "goal": {"max_ratio": GOAL_RATIO, "of": "50M / 1M, medians of p50 and of p99, Vitrine"},
        "databases": {
            database.label: {"name": database.name, "events_asked": database.events, **facts[database.label]}
            for database in DATABASES
        },
        "vitrine_peak_rss_mib": {label: None if value is None else round(value, 1) for label, value in peak.items()},
        "cases": growing.figures(),
    }


def goal_met(figures: dict[str, Any]) -> bool:
    """Vitrine's growth within the goal on every case."""
    return all(case["growth"]["vitrine"]["goal_met"] for case in figures["cases"].values())


INTRODUCTION: Final = (
    "`python -m benchmarks.log_growth` (part of `make bench`): the citizen's access log, as JSON "
    "(`GET /api/v1/me/access-events`) and as the page (`GET /access-log`), on two kept databases of the same "
    "1,000,000 people, one with about 1 million access events and one with about 50 million "
    "(`vitrine_bench_growth_1m`, `vitrine_bench_growth_50m`, generated by `benchmarks/scale_data.py` on first use "
    "and kept). Goal: the 50-million p50 and p99 less than 1.5 times the 1-million ones."
)


def write_document(figures: dict[str, Any]) -> None:
    """Replace the generated block of docs/performance.md, or add the section."""
    write_section(DOCUMENT, START, END, render(figures), f"## Access log growth\n\n{INTRODUCTION}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    options = parse_options(argv)
    database_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if not database_url or not redis_url:
        print("benchmarks: DATABASE_URL and REDIS_URL must be set (use `make bench`)", file=sys.stderr)
        return 2
    try:
        figures = measure(database_url, redis_url, options)
    except BenchmarkError as problem:
        print(f"benchmarks: {problem}", file=sys.stderr)
        return 2
    figures["goal"]["met"] = goal_met(figures)
    print(render(figures))
    if not options.quick:
        RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        write_document(figures)
        print(f"benchmarks: wrote {RESULTS.relative_to(ROOT)} and {DOCUMENT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
