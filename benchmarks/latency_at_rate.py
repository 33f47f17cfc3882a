"""Latency at 32 connections under a steady load: Vitrine and the bare handler at the same offered rate.

`python -m benchmarks` keeps every connection busy (closed loop). With 32 requests always in flight the mean
latency is 32 ÷ throughput whatever the server does (Little's law), so the p99 of those runs is mostly the length
of the queue the load generator itself keeps full: on two cores, no server below 1,280 requests a second can have
a mean under 25 ms there, and the bare access-log handlers serve about 1,000.

Here requests arrive **open loop** at a fixed rate, a share of Vitrine's own capacity measured just before
(closed loop, 32 connections), spread over 32 keep-alive connections: request *i* is due at `start + i / rate`,
whatever happened before, and its latency counts from when it was due, so a slow answer that holds up the next
ones counts in full for each of them. The bare handler gets the very same rate and the same requests, Vitrine
and the bare handler alternating, on the national-scale database.

    python -m benchmarks.latency_at_rate                     # the national-scale cases at 50 % and 70 %
    python -m benchmarks.latency_at_rate --fractions 0.5 --seconds 10 --repeat 1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from benchmarks.cases import Case, select_cases
from benchmarks.harness import (
    BenchmarkError,
    LoadRequest,
    OpenLoopTally,
    choose_generator,
    encode_request,
    median,
    open_loop,
    percentile,
    uvloop_factory,
)
from benchmarks.report import write_section
from benchmarks.run import DEFAULT_WORKERS, Benchmark, Options, _commit, serving
from benchmarks.scale_data import ensure_scale_data
from benchmarks.servers import HOST, ROOT, Server

CASES: Final = ("access_log_json", "access_log_html", "records_overview")
RESULTS: Final = ROOT / "benchmarks" / "results" / "latency.json"
PARTIAL: Final = ROOT / "benchmarks" / "results" / "latency-partial.json"
DOCUMENT: Final = ROOT / "docs" / "performance.md"
START, END = "<!-- latency:start (written by `make bench`) -->", "<!-- latency:end -->"
HEADING: Final = "## Latency under a steady load"
P99_GOAL_MS: Final = 25.0
# Bounds a run whatever the options say (a rate from a wildly fast capacity run, say).
MAX_REQUESTS: Final = 200_000


@dataclass(frozen=True)
class RateOptions:
    """What the command line asked for."""

    fractions: tuple[float, ...] = (0.5, 0.7)
    seconds: int = 10
    repeat: int = 3
    connections: int = 32
    cases: tuple[str, ...] = CASES


@dataclass(frozen=True)
class OpenLoopRun:
    """One open-loop run on one server: what was offered and how long the answers took from their due time."""

    rate: float
    sent: int
    # Requests that got no answer or an unexpected status.
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    # How long it took until the last answer; beyond the planned duration when the server fell behind.
    elapsed_s: float


def run_summary(tally: OpenLoopTally, *, rate: float) -> OpenLoopRun:
    """The run's percentiles (ms) over the answered requests; no answer and a wrong status are both errors."""
    ordered = sorted(tally.latencies_ms)
    if not ordered:
        raise BenchmarkError("no request was answered")
    return OpenLoopRun(
        rate=round(rate, 1),
        sent=len(tally.latencies_ms) + tally.errors,
        errors=tally.errors + sum(tally.unexpected.values()),
        p50_ms=round(percentile(ordered, 50), 2),
        p90_ms=round(percentile(ordered, 90), 2),
        p99_ms=round(percentile(ordered, 99), 2),
        max_ms=round(ordered[-1], 2),
        elapsed_s=round(tally.elapsed_s, 2),
    )


async def open_loop_run(
    port: int, raw: bytes, *, expect_status: int, rate: float, seconds: int, connections: int
) -> OpenLoopRun:
    """Send `raw` at `rate` a second for `seconds` over a pool of keep-alive connections; latency from due time."""
    tally = OpenLoopTally()
    await open_loop(
        HOST,
        port,
        request=lambda _index: raw,
        expect_status=expect_status,
        rate=rate,
        seconds=seconds,
        connections=connections,
        tally=tally,
        max_requests=MAX_REQUESTS,
    )
    return run_summary(tally, rate=rate)


def _open_loop_run(
    port: int, raw: bytes, *, expect_status: int, rate: float, seconds: int, connections: int
) -> OpenLoopRun:
    with asyncio.Runner(loop_factory=uvloop_factory()) as runner:
        return runner.run(
            open_loop_run(port, raw, expect_status=expect_status, rate=rate, seconds=seconds, connections=connections)
        )


def _request(benchmark: Benchmark, case: Case, server: Server) -> bytes:
    headers = tuple(benchmark.headers(case).items())
    request = LoadRequest(case.path, case.method, headers, case.body, case.expect_status)
    return encode_request(request, HOST, server.port)


def measure(options: RateOptions, benchmark: Benchmark, vitrine: Server, baseline: Server) -> list[dict[str, object]]:
    """For each case: both capacities (closed loop), then the open-loop runs at each share of Vitrine's."""
    results: list[dict[str, object]] = []
    for case in benchmark.cases:
        capacity = {server.name: benchmark.run_case(case, server).rps for server in (vitrine, baseline)}
        print(
            f"  {case.name}: capacity vitrine {capacity['vitrine']:.0f}/s, baseline {capacity['baseline']:.0f}/s",
            flush=True,
        )
        for fraction in options.fractions:
            rate = fraction * capacity["vitrine"]
            runs: dict[str, list[OpenLoopRun]] = {"vitrine": [], "baseline": []}
            for repetition in range(options.repeat):
                order = (vitrine, baseline) if repetition % 2 == 0 else (baseline, vitrine)
                for server in order:
                    run = _open_loop_run(
                        server.port,
                        _request(benchmark, case, server),
                        expect_status=case.expect_status,
                        rate=rate,
                        seconds=options.seconds,
                        connections=options.connections,
                    )
                    runs[server.name].append(run)
                    print(
                        f"    {fraction:.0%} ({rate:.0f}/s) {server.name:8} p50 {run.p50_ms:7.2f} ms  "
                        f"p99 {run.p99_ms:7.2f} ms  errors {run.errors}",
                        flush=True,
                    )
            results.append(
                {
                    "case": case.name,
                    "path": case.path,
                    "fraction": fraction,
                    "rate": round(rate, 1),
                    "capacity": {name: round(value, 1) for name, value in capacity.items()},
                    "vitrine": summary(runs["vitrine"]),
                    "baseline": summary(runs["baseline"]),
                    "runs": {name: [asdict(run) for run in side] for name, side in runs.items()},
                }
            )
    return results


def summary(runs: Sequence[OpenLoopRun]) -> dict[str, float | int]:
    """Medians over the runs of one side, with the errors summed."""
    return {
        "p50_ms": round(median([run.p50_ms for run in runs]), 2),
        "p90_ms": round(median([run.p90_ms for run in runs]), 2),
        "p99_ms": round(median([run.p99_ms for run in runs]), 2),
        "max_ms": max(run.max_ms for run in runs),
        "errors": sum(run.errors for run in runs),
    }


def render(figures: dict[str, object]) -> str:
    """The generated section of docs/performance.md."""
    settings = figures["settings"]
    assert isinstance(settings, dict)
    lines = [
        f"Last run: {figures['generated_at']}, commit {figures.get('commit') or 'unknown'}. Open loop over "
        f"{settings['connections']} keep-alive connections, {settings['seconds']} s per run, {settings['repeat']} "
        f"run(s) per side and rate, Vitrine and the bare handler alternating at the same rate (a share of Vitrine's "
        "capacity, measured just before with every connection busy); latency from each request's due time; "
        "medians over the runs.",
        "",
        "| Case | Share of Vitrine's capacity | Rate | Vitrine p50 / p90 / p99 ms | Bare p50 / p90 / p99 ms | "
        f"p99 < {P99_GOAL_MS:.0f} ms |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    cases = figures["cases"]
    assert isinstance(cases, list)
    for row in cases:
        vitrine, bare = row["vitrine"], row["baseline"]
        errors = vitrine["errors"] + bare["errors"]
        met = "**met**" if vitrine["p99_ms"] < P99_GOAL_MS else "not met"
        lines.append(
            f"| `GET {row['path']}` | {row['fraction']:.0%} | {row['rate']:,.0f}/s | "
            f"{vitrine['p50_ms']:.1f} / {vitrine['p90_ms']:.1f} / {vitrine['p99_ms']:.1f} | "
            f"{bare['p50_ms']:.1f} / {bare['p90_ms']:.1f} / {bare['p99_ms']:.1f} | {met}"
            + (f" ({errors} errors)" if errors else "")
            + " |"
        )
    lines += ["", f"Every run: `{RESULTS.relative_to(ROOT).as_posix()}`."]
    return "\n".join(lines)


def latency_at_rate(options: RateOptions) -> dict[str, object]:
    """Serve the national-scale database with Vitrine and the baseline, measure, and return the figures."""
    database_url = os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    if not database_url or not redis_url:
        raise BenchmarkError("DATABASE_URL and REDIS_URL must be set: run `make bench`, which starts embedded ones")
    cases = select_cases(list(options.cases))
    if any(case.database != "scale" for case in cases):
        raise BenchmarkError("only the national-scale cases are measured here: " + ", ".join(CASES))
    scale_url = asyncio.run(ensure_scale_data(database_url))
    closed = Options(
        repeat=1,
        duration_s=5,
        warmup_s=1,
        connections=options.connections,
        only=list(options.cases),
        quick=False,
        generator="auto",
        workers=DEFAULT_WORKERS,
    )
    with tempfile.TemporaryDirectory(prefix="vitrine-latency-") as workdir:
        benchmark = Benchmark(closed, cases, choose_generator("auto", Path(workdir)))
        with serving(benchmark, scale_url, redis_url, Path(workdir) / "fixtures.json") as (vitrine, baseline):
            results = measure(options, benchmark, vitrine, baseline)
    return {
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _commit(),
        "settings": {
            "connections": options.connections,
            "seconds": options.seconds,
            "repeat": options.repeat,
            "fractions": list(options.fractions),
            "workers": DEFAULT_WORKERS,
        },
        "cases": results,
    }


def parse_options(argv: Sequence[str] | None) -> RateOptions:
    """Options from the command line; exits naming a bad value."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.latency_at_rate", description=__doc__.split("\n")[0])
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.5, 0.7], help="shares of Vitrine's capacity")
    parser.add_argument("--seconds", type=int, default=10, help="seconds per run (default 10)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per side and rate (default 3)")
    parser.add_argument("--connections", type=int, default=32, help="keep-alive connections (default 32)")
    parser.add_argument("--only", nargs="+", default=list(CASES), metavar="CASE", help="cases (national-scale ones)")
    args = parser.parse_args(argv)
    if any(not 0 < fraction <= 1 for fraction in args.fractions):
        parser.error("--fractions must be above 0 and at most 1")
    if args.seconds < 1 or args.repeat < 1 or args.connections < 1:
        parser.error("--seconds, --repeat and --connections must be at least 1")
    return RateOptions(
        fractions=tuple(args.fractions),
        seconds=args.seconds,
        repeat=args.repeat,
        connections=args.connections,
        cases=tuple(args.only),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m benchmarks.latency_at_rate`."""
    options = parse_options(argv)
    try:
        figures = latency_at_rate(options)
    except (BenchmarkError, ValueError) as exc:
        print(f"latency_at_rate: {exc}")
        return 2
    # Only a run with the defaults replaces the published figures, as for `python -m benchmarks`.
    complete = options == RateOptions()
    target = RESULTS if complete else PARTIAL
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    if complete:
        write_section(DOCUMENT, START, END, render(figures), HEADING)
        print(f"latency_at_rate: wrote {RESULTS.relative_to(ROOT)} and {DOCUMENT.relative_to(ROOT)}")
    else:
        print(f"latency_at_rate: wrote {PARTIAL.relative_to(ROOT)} only (a run with the defaults writes the document)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
