"""`python -m benchmarks`: set up, measure Vitrine and the baseline alternately, write the figures."""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from backend.core.db import connect
from benchmarks.baseline import FIXTURES_VARIABLE, READY_PATH, Fixture, write_fixtures
from benchmarks.cases import Case, CaseContext, load_cases, select_cases
from benchmarks.harness import (
    BenchmarkError,
    GeneratorChoice,
    LoadGenerator,
    LoadRequest,
    LoadSpec,
    RunResult,
    choose_generator,
    pair_ratios,
    summarize,
)
from benchmarks.report import CaseResult, Report, update_document, write_results
from benchmarks.scale_data import CITIZENS, EVENTS, SCALE_DATABASE, ensure_scale_data
from benchmarks.servers import (
    HOST,
    ROOT,
    Server,
    baseline_command,
    create_database,
    drop_database,
    fetch,
    free_port,
    server_env,
    service_versions,
    vitrine_command,
)

RESULTS_DIR = ROOT / "benchmarks" / "results"
# Both servers run as many uvicorn workers as the machine has cores, as Vitrine is deployed (PostgreSQL and Redis
# share the same cores here, so neither side gets a core to itself).
DEFAULT_WORKERS: Final = os.cpu_count() or 1
LATEST = RESULTS_DIR / "latest.json"
PARTIAL = RESULTS_DIR / "partial.json"
DOCUMENT = ROOT / "docs" / "performance.md"


@dataclass(frozen=True)
class Options:
    """What the command line asked for."""

    repeat: int
    duration_s: int
    warmup_s: int
    connections: int
    only: list[str]
    quick: bool
    generator: GeneratorChoice
    # uvicorn worker processes, the same number for Vitrine and the baseline.
    workers: int

    @property
    def complete(self) -> bool:
        """A full run: the only kind that replaces the published figures."""
        return not self.quick and not self.only


def build_parser() -> argparse.ArgumentParser:
    """The command-line grammar."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Measure Vitrine against a bare Litestar baseline, side by side (needs DATABASE_URL, REDIS_URL).",
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs per case and server (default 5)")
    parser.add_argument("--duration", type=int, default=5, help="seconds measured per run (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of discarded warm-up before each run")
    parser.add_argument("--connections", type=int, default=32, help="concurrent keep-alive connections (32)")
    parser.add_argument(
        "--workers",
        type=int,
        default=DEFAULT_WORKERS,
        help=f"uvicorn workers of each server (default {DEFAULT_WORKERS}: one per core, as deployed on this machine)",
    )
    parser.add_argument("--only", nargs="+", metavar="CASE", default=[], help="run only these cases")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 run of 1 s per case and server")
    parser.add_argument(
        "--generator", choices=["auto", "wrk", "python"], default="auto", help="load generator (auto: wrk if installed)"
    )
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    return parser


def parse_options(argv: Sequence[str] | None) -> Options | None:
    """Options from the command line; None after listing the cases."""
    args = build_parser().parse_args(argv)
    if args.list:
        for case in load_cases().values():
            print(f"{case.name:12} {case.method} {case.path:12} {case.description}")
        return None
    return options_from(
        args, only=list(args.only), generator=args.generator, prog="python -m benchmarks", workers=args.workers
    )


def options_from(
    args: argparse.Namespace, *, only: list[str], generator: GeneratorChoice, prog: str, workers: int
) -> Options:
    """The load options from parsed arguments (`--quick` shortens every run); exits naming a bad value."""
    if args.quick:
        args.repeat, args.duration, args.warmup = 1, 1, 1
    if args.repeat < 1 or args.duration < 1 or args.warmup < 0 or args.connections < 1 or workers < 1:
        raise SystemExit(f"{prog}: --repeat, --duration, --connections and --workers must be at least 1")
    return Options(
        repeat=args.repeat,
        duration_s=args.duration,
        warmup_s=args.warmup,
        connections=args.connections,
        only=only,
        quick=args.quick,
        generator=generator,
        workers=workers,
    )


def merge_cookies(header: str | None, extra: Mapping[str, str]) -> str | None:
    """A Cookie header with the extra cookies added (those already present keep their value)."""
    pairs = [part.strip() for part in (header or "").split(";") if part.strip()]
    present = {pair.partition("=")[0] for pair in pairs}
    pairs += [f"{name}={value}" for name, value in extra.items() if name not in present]
    return "; ".join(pairs) or None


@dataclass(frozen=True)
class Primed:
    """What a first visit to Vitrine gave for one case."""

    cookies: Mapping[str, str]
    fixture: Fixture


class Benchmark:
    """One run of the whole benchmark."""

    def __init__(self, options: Options, cases: list[Case], generator: LoadGenerator) -> None:
        self.options = options
        self.cases = cases
        self.generator = generator
        self.secret_key = secrets.token_urlsafe(48)
        self.params: dict[str, Mapping[str, str]] = {}
        self.primed: dict[str, Primed] = {}

    def run_case(self, case: Case, server: Server) -> RunResult:
        """One measured run of one case on one server (a warm-up first), with fresh headers."""
        request = LoadRequest(
            path=case.path,
            method=case.method,
            headers=tuple(self.headers(case).items()),
            body=case.body,
            expect_status=case.expect_status,
        )
        spec = LoadSpec(
            host=HOST,
            port=server.port,
            connections=self.options.connections,
            duration_s=self.options.duration_s,
            warmup_s=self.options.warmup_s,
        )
        return self.generator.run(spec, request)

    def headers(self, case: Case) -> dict[str, str]:
        """The case's headers for the next run, with a fresh token and the primed cookies."""
        context = CaseContext(params=self.params.get(case.name, {}), secret_key=self.secret_key)
        headers = dict(case.headers(context))
        primed = self.primed.get(case.name)
        cookie = merge_cookies(headers.pop("Cookie", None), primed.cookies if primed else {})
        if cookie:
            headers["Cookie"] = cookie
        return headers

    async def prepare(self, database_url: str) -> None:
        """Each case's setup in the benchmark database (people, sessions...)."""
        conn = await connect(database_url)
        try:
            for case in self.cases:
                if case.prepare is not None:
                    async with conn.transaction():
                        self.params[case.name] = await case.prepare(conn, self.secret_key)
        finally:
            await conn.close()

    def prime(self, vitrine: Server) -> None:
        """Visit each case once as a browser would, keep the cookies Vitrine sets and its answer for the baseline."""
        for case in self.cases:
            headers = self.headers(case)
            first = fetch(vitrine.port, case.path, method=case.method, headers=headers)
            sent = headers.get("Cookie", "")
            cookies = {
                name: value
                for name, value in first.set_cookies().items()
                if case.browser_cookies and value and f"{name}=" not in sent
            }
            self.primed[case.name] = Primed(cookies, Fixture(b"", "", {}))
            answer = fetch(vitrine.port, case.path, method=case.method, headers=self.headers(case))
            self.check(case, "Vitrine", answer.status, answer.body)
            media_type = answer.header("content-type") or "application/octet-stream"
            self.primed[case.name] = Primed(cookies, Fixture(answer.body, media_type, self.params.get(case.name, {})))

    def verify_baseline(self, baseline: Server) -> None:
        """The baseline answers each case like Vitrine did."""
        for case in self.cases:
            answer = fetch(baseline.port, case.path, method=case.method, headers=self.headers(case))
            self.check(case, "baseline", answer.status, answer.body)
            if answer.body != self.primed[case.name].fixture.body:
                raise BenchmarkError(f"{case.name}: the baseline's answer differs from Vitrine's")

    @staticmethod
    def check(case: Case, who: str, status: int, body: bytes) -> None:
        """Refuse to measure an answer that is not the one the case is about."""
        if status != case.expect_status:
            raise BenchmarkError(f"{case.name}: {who} answered {status}, expected {case.expect_status}")
        if case.expect_text is not None and case.expect_text.encode() not in body:
            raise BenchmarkError(f"{case.name}: {who}'s answer lacks {case.expect_text!r}")

    def measure(self, vitrine: Server, baseline: Server) -> dict[str, dict[str, list[RunResult]]]:
        """Every repetition of every case on both servers, alternating which goes first."""
        runs: dict[str, dict[str, list[RunResult]]] = {
            case.name: {"vitrine": [], "baseline": []} for case in self.cases
        }
        total = self.options.repeat * len(self.cases) * 2
        done = 0
        for repetition in range(self.options.repeat):
            for index, case in enumerate(self.cases):
                order = (vitrine, baseline) if (repetition + index) % 2 == 0 else (baseline, vitrine)
                for server in order:
                    result = self.run_case(case, server)
                    runs[case.name][server.name].append(result)
                    done += 1
                    print(
                        f"  [{done:3}/{total}] run {repetition + 1} {case.name:10} {server.name:8} "
                        f"{result.rps:9.0f} req/s  p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms"
                        + (f"  errors {result.errors}" if result.errors else ""),
                        flush=True,
                    )
        return runs


def machine_info(database_url: str, redis_url: str, generator: LoadGenerator) -> dict[str, object]:
    """What the figures were measured on."""
    postgres, redis = asyncio.run(service_versions(database_url, redis_url))
    return {
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "postgres": postgres,
        "redis": redis,
        "litestar": importlib.metadata.version("litestar"),
        "uvicorn": importlib.metadata.version("uvicorn"),
        "generator": generator.name,
        "generator_version": generator.version(),
        "commit": _commit(),
    }


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or None


def _load_average() -> float | None:
    """The 1-minute load average: how busy the machine was with other work."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def _commit() -> str | None:
    """The checked-out commit (read only), marked when the tree has changes."""
    git = shutil.which("git")
    if git is None:
        return None
    try:
        head = subprocess.run(  # noqa: S603 (read-only git query)
            [git, "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head or None


@contextmanager
def serving(
    benchmark: Benchmark, bench_url: str, redis_url: str, fixtures_path: Path
) -> Iterator[tuple[Server, Server]]:
    """Vitrine and the baseline serving one database, primed and checked for the benchmark's cases."""
    asyncio.run(benchmark.prepare(bench_url))
    common = {
        "VITRINE_ENV": "test",
        "DATABASE_URL": bench_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": benchmark.secret_key,
        "VITRINE_HOST": HOST,
        "VITRINE_WEB_WORKERS": str(benchmark.options.workers),
    }
    vitrine_port, baseline_port = free_port(), free_port()
    vitrine_env = server_env({**common, "VITRINE_PORT": str(vitrine_port), "BASE_URL": f"http://{HOST}:{vitrine_port}"})
    with Server("vitrine", vitrine_command(), vitrine_env, vitrine_port, "/healthz") as vitrine:
        benchmark.prime(vitrine)
        write_fixtures(fixtures_path, {name: primed.fixture for name, primed in benchmark.primed.items()})
        baseline_env = server_env({**common, "VITRINE_PORT": str(baseline_port), FIXTURES_VARIABLE: str(fixtures_path)})
        with Server("baseline", baseline_command(), baseline_env, baseline_port, READY_PATH) as baseline:
            benchmark.verify_baseline(baseline)
            yield vitrine, baseline


def measure_group(
    options: Options, cases: list[Case], generator: LoadGenerator, bench_url: str, redis_url: str, workdir: Path
) -> tuple[dict[str, dict[str, list[RunResult]]], dict[str, float | None]]:
    """Prepare the cases in one database, serve it with Vitrine and the baseline, measure; runs and peak RSS."""
    benchmark = Benchmark(options, cases, generator)
    fixtures_path = workdir / f"fixtures-{cases[0].database}.json"
    with serving(benchmark, bench_url, redis_url, fixtures_path) as (vitrine, baseline):
        runs = benchmark.measure(vitrine, baseline)
        return runs, {"vitrine": vitrine.peak_rss_mib(), "baseline": baseline.peak_rss_mib()}


def _highest(values: Sequence[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return max(known) if known else None


def run(options: Options) -> Report:
    """Set everything up, measure, tear everything down; the report of what was measured.

    Cases on the fresh database and cases on the national-scale one are measured in two groups, each with its
    own pair of servers; the scale database is generated on first use and kept for the next run.
    """
    database_url = os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    if not database_url or not redis_url:
        raise BenchmarkError("DATABASE_URL and REDIS_URL must be set: run `make bench`, which starts embedded ones")
    cases = select_cases(options.only)
    started = time.monotonic()
    load_at_start = _load_average()
    database = f"vitrine_bench_{os.getpid()}"
    runs: dict[str, dict[str, list[RunResult]]] = {}
    peaks: list[dict[str, float | None]] = []
    with tempfile.TemporaryDirectory(prefix="vitrine-bench-") as workdir:
        generator = choose_generator(options.generator, Path(workdir))
        print(f"benchmarks: {len(cases)} case(s), generator {generator.version()}", flush=True)
        machine = machine_info(database_url, redis_url, generator)
        fresh = [case for case in cases if case.database == "fresh"]
        scale = [case for case in cases if case.database == "scale"]
        if fresh:
            bench_url = asyncio.run(create_database(database_url, database))
            try:
                group_runs, peak = measure_group(options, fresh, generator, bench_url, redis_url, Path(workdir))
                runs.update(group_runs)
                peaks.append(peak)
            finally:
                asyncio.run(drop_database(database_url, database))
        if scale:
            print("benchmarks: national-scale database (generated on first use, then kept)", flush=True)
            scale_url = asyncio.run(ensure_scale_data(database_url))
            group_runs, peak = measure_group(options, scale, generator, scale_url, redis_url, Path(workdir))
            runs.update(group_runs)
            peaks.append(peak)
    peak = {side: _highest([group[side] for group in peaks]) for side in ("vitrine", "baseline")}
    print(f"benchmarks: measured in {time.monotonic() - started:.0f} s", flush=True)
    results = tuple(
        CaseResult(
            name=case.name,
            method=case.method,
            path=case.path,
            kind=case.kind,
            description=case.description,
            vitrine=summarize(runs[case.name]["vitrine"]),
            baseline=summarize(runs[case.name]["baseline"]),
            ratios=tuple(pair_ratios(runs[case.name]["vitrine"], runs[case.name]["baseline"])),
        )
        for case in cases
    )
    return Report(
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        machine=machine,
        settings={
            "generator": generator.name,
            "generator_version": machine["generator_version"],
            "connections": options.connections,
            "workers": options.workers,
            "duration_s": options.duration_s,
            "warmup_s": options.warmup_s,
            "repeat": options.repeat,
            "cases": [case.name for case in cases],
            "database": (
                "own database per run, migrated, dropped at the end; scale cases: the kept national-scale "
                f"database ({SCALE_DATABASE}: {CITIZENS:,} people, {EVENTS:,} access events)"
            ),
            "load_average_1min": {"start": load_at_start, "end": _load_average()},
        },
        cases=results,
        peak_rss_mib=peak,
        complete=options.complete,
    )


def print_summary(report: Report) -> None:
    """The medians, on the terminal."""
    print(
        f"\n{'case':10} {'vitrine req/s':>14} {'bare req/s':>11} {'ratio':>7} {'p50 ms':>7} {'p90 ms':>7} "
        f"{'p99 ms':>7}  goal"
    )
    for case in report.cases:
        print(
            f"{case.name:10} {case.vitrine.rps_median:14.0f} {case.baseline.rps_median:11.0f} "
            f"{case.ratio:7.1%} {case.vitrine.p50_ms:7.2f} {case.vitrine.p90_ms:7.2f} {case.vitrine.p99_ms:7.2f}  "
            f"{'met' if case.goal_met else 'NOT MET'} ({case.goal.describe()})"
        )
    rss = report.peak_rss_mib.get("vitrine")
    if rss is not None:
        print(f"peak RSS of the Vitrine web process: {rss:.0f} MiB")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m benchmarks`."""
    try:
        options = parse_options(argv)
        if options is None:
            return 0
        report = run(options)
    except (BenchmarkError, ValueError) as exc:
        print(f"benchmarks: {exc}", file=sys.stderr)
        return 2
    print_summary(report)
    if options.complete:
        write_results(report, LATEST)
        update_document(report, DOCUMENT, LATEST.relative_to(ROOT).as_posix())
        print(f"benchmarks: wrote {LATEST.relative_to(ROOT)} and {DOCUMENT.relative_to(ROOT)}")
    else:
        write_results(report, PARTIAL)
        print(f"benchmarks: partial run (--quick or --only): wrote {PARTIAL.relative_to(ROOT)} only")
    return 0
