"""Soak: Vitrine's web process and worker under a steady share of their measured capacity, for ten minutes.

First the capacity of the web process is measured on a mix of the pages a signed-in citizen uses (closed loop,
32 connections, the same Python client as below). Then requests are sent **open loop** at a fixed rate, 70 % of
that capacity by default: request *i* is due at `start + i / rate` whatever happened before, and its latency
counts from when it was due, so a stall shows up as latency instead of silently lowering the load. Every few
seconds the resident memory of the web process and of the worker is sampled.

Passes when no request failed, the server kept up (p99 from the due time under a second: a server that cannot
serve the offered rate builds a queue instead) and memory is flat: the resident size at the end is within 10 %
(or 10 MiB) of where it stood after the first minute, when caches and pools have filled. Bounded in time and in
count, loopback only; everything it starts is stopped and its database dropped.

    python -m benchmarks.soak                      # 10 minutes at 70 %
    python -m benchmarks.soak --minutes 1 --fraction 0.5
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import asyncpg

from backend.access_log.bulk import NewAccess, record_accesses
from backend.access_log.schemas import Accessor
from backend.core.auth import sessions
from backend.core.db import connect
from benchmarks.cases import BROWSER_HEADERS
from benchmarks.harness import (
    BenchmarkError,
    LoadRequest,
    OpenLoopTally,
    ResponseHead,
    encode_request,
    median,
    open_loop,
    percentile,
    read_response,
)
from benchmarks.http_pages import _signed_in_person
from benchmarks.report import write_section
from benchmarks.servers import HOST, ROOT, Server, create_database, drop_database, fetch, free_port, server_env

RESULTS = ROOT / "benchmarks" / "results" / "soak.json"
DOCUMENT = ROOT / "docs" / "performance.md"
START, END = "<!-- soak:start (written by `make bench`) -->", "<!-- soak:end -->"
OWN_EVENTS = 200
MAX_REQUESTS = 5_000_000
KEPT_UP_P99_MS = 1_000.0
PATHS = ("/healthz", "/", "/my", "/api/v1/me/access-events", "/access-log", "/api/v1/me/records", "/my-data")


@dataclass(frozen=True)
class Options:
    """How long and how hard."""

    minutes: float
    fraction: float
    capacity_seconds: int
    connections: int
    sample_seconds: float


@dataclass
class Sample:
    """Memory of both processes at one moment (MiB) and the requests answered so far; since the sample before,
    the p99 latency of what was answered and what the machine and PostgreSQL were doing (to explain a slow patch).
    """

    at_s: float
    web_rss_mib: float
    worker_rss_mib: float
    answered: int
    window_p99_ms: float | None = None
    load_1m: float | None = None
    # Running totals of the server: checkpoints written and autovacuum/autoanalyze runs on the soak's database.
    checkpoints: int | None = None
    autovacuums: int | None = None


@dataclass
class SoakTally(OpenLoopTally):
    """What the open-loop run saw, with the memory samples taken alongside."""

    samples: list[Sample] = field(default_factory=list)
    # Times the server renewed the session cookie and the client took the new one, as a browser does.
    cookie_renewals: int = 0


def _rss_mib(pid: int, key: str = "VmRSS:") -> float:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith(key):
            return int(line.split()[1]) / 1024
    raise BenchmarkError(f"no {key} for process {pid}")


async def _prepare(database_url: str) -> Mapping[str, str]:
    """A citizen with a session and a log of OWN_EVENTS events."""
    conn = await connect(database_url)
    try:
        async with conn.transaction():
            params = await _signed_in_person(conn, "")
            start = datetime(2026, 1, 5, 8, tzinfo=UTC)
            accesses = [
                NewAccess(
                    citizen_id=UUID(params["person_id"]),
                    accessor=Accessor(kind="institution", client_id="onem-demo"),
                    action="read",
                    channel="api",
                    categories=(("dimona", "dmfa", "drs")[index % 3],),
                    purpose_code="unemployment_benefit",
                    occurred_at=start + timedelta(hours=index),
                )
                for index in range(OWN_EVENTS)
            ]
            await record_accesses(conn, accesses)
    finally:
        await conn.close()
    return params


class CookieJar:
    """The mix's requests as a browser would send them: the cookies the server set, renewed when it renews them.

    Vitrine renews a session's token once it is five minutes old (`sessions.RENEW_AFTER`); a client that kept
    sending the first token would make every request after that renew it again (a write and a signature each),
    which no browser does.
    """

    def __init__(self, port: int, cookies: Mapping[str, str]) -> None:
        self.port = port
        self.cookies = dict(cookies)
        self.raws: list[bytes] = []
        self.renewals = 0
        self._encode()

    def _encode(self) -> None:
        headers = self.headers()
        # In place: requests being sent pick up the new bytes at once.
        self.raws[:] = [encode_request(LoadRequest(path=path, headers=headers), HOST, self.port) for path in PATHS]

    def headers(self) -> tuple[tuple[str, str], ...]:
        """A browser's headers with the current cookies."""
        cookie_header = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        return (*BROWSER_HEADERS.items(), ("Cookie", cookie_header))

    def update(self, set_cookies: Sequence[bytes]) -> None:
        """Take the new values of the cookies the jar holds from a response's Set-Cookie headers."""
        changed = False
        for raw in set_cookies:
            name, _, rest = raw.decode("latin-1").partition("=")
            value = rest.split(";", 1)[0]
            if name in self.cookies and value and value != self.cookies[name]:
                self.cookies[name] = value
                changed = True
        if changed:
            self.renewals += 1
            self._encode()


def _requests(port: int, params: Mapping[str, str], secret_key: str) -> CookieJar:
    """The mix, each checked once like a browser would (cookies it sets are sent back from then on)."""
    token = sessions.issue_token(secret_key, session_id=UUID(params["session_id"]), person_id=UUID(params["person_id"]))
    cookies = {sessions.cookie_name(secure=False): token}
    first = fetch(port, "/", headers=BROWSER_HEADERS)
    cookies.update(first.set_cookies())
    jar = CookieJar(port, cookies)
    for path in PATHS:
        answer = fetch(port, path, headers=dict(jar.headers()))
        if answer.status != 200:
            raise BenchmarkError(f"{path} answered {answer.status} before the soak: {answer.body[:300]!r}")
    return jar


class _Connection:
    """One keep-alive connection of the pool."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer


async def _open(port: int) -> _Connection:
    reader, writer = await asyncio.open_connection(HOST, port)
    return _Connection(reader, writer)


async def _send(connection: _Connection, jar: CookieJar, index: int) -> int:
    connection.writer.write(jar.raws[index % len(jar.raws)])
    head = await read_response(connection.reader)
    if head.set_cookies:
        jar.update(head.set_cookies)
    if not head.keep_alive:
        raise ConnectionError("the server closed the connection")
    return head.status


async def _closed_loop(port: int, jar: CookieJar, connections: int, seconds: int) -> float:
    """Requests per second the server answers with every connection busy (the capacity)."""
    answered = 0
    deadline = time.monotonic() + seconds

    async def one(offset: int) -> None:
        nonlocal answered
        connection = await _open(port)
        index = offset
        try:
            while time.monotonic() < deadline:
                await _send(connection, jar, index)
                answered += 1
                index += 1
        finally:
            connection.writer.close()

    started = time.monotonic()
    await asyncio.gather(*(one(offset) for offset in range(connections)))
    return answered / (time.monotonic() - started)


async def _server_counters(conn: asyncpg.Connection) -> tuple[int, int]:
    """Checkpoints the server has written, and autovacuum plus autoanalyze runs on this database's tables."""
    row = await conn.fetchrow(
        """
        SELECT (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter) AS checkpoints,
               (SELECT coalesce(sum(autovacuum_count + autoanalyze_count), 0) FROM pg_stat_user_tables) AS autovacuums
        """
    )
    assert row is not None
    return int(row["checkpoints"]), int(row["autovacuums"])


def _load_1m() -> float | None:
    try:
        return float(Path("/proc/loadavg").read_text(encoding="ascii").split()[0])
    except (OSError, ValueError, IndexError):
        return None


async def _open_loop(
    port: int,
    jar: CookieJar,
    rate: float,
    options: Options,
    pids: tuple[int, int],
    tally: SoakTally,
    database_url: str,
) -> None:
    """Requests due at a fixed rate for the whole duration (the mix in turn); memory sampled alongside."""
    duration = options.minutes * 60
    started = time.monotonic()

    async def sampler() -> None:
        counters = await connect(database_url, as_app=False)
        seen = 0
        try:
            while time.monotonic() - started < duration:
                window = sorted(tally.latencies_ms[seen:])
                seen += len(window)
                checkpoints, autovacuums = await _server_counters(counters)
                tally.samples.append(
                    Sample(
                        round(time.monotonic() - started, 1),
                        _rss_mib(pids[0]),
                        _rss_mib(pids[1]),
                        len(tally.latencies_ms),
                        window_p99_ms=round(percentile(window, 99), 1) if window else None,
                        load_1m=_load_1m(),
                        checkpoints=checkpoints,
                        autovacuums=autovacuums,
                    )
                )
                await asyncio.sleep(options.sample_seconds)
        finally:
            await counters.close()

    def on_head(head: ResponseHead) -> None:
        if head.set_cookies:
            jar.update(head.set_cookies)

    sampling = asyncio.create_task(sampler())
    await open_loop(
        HOST,
        port,
        request=lambda index: jar.raws[index % len(jar.raws)],
        expect_status=200,
        rate=rate,
        seconds=duration,
        connections=options.connections,
        tally=tally,
        on_head=on_head,
        max_requests=MAX_REQUESTS,
    )
    await sampling


def _flat(values: Sequence[float], settled_after: int) -> tuple[float, float, bool]:
    """(settled, end, flat): medians of the first-minute-after-warm-up window and of the last window."""
    settled = median(values[settled_after : settled_after * 2] or values[:1])
    end = median(values[-settled_after:] or values[-1:])
    return settled, end, end - settled <= max(10.0, settled * 0.10)


def slow_windows(samples: Sequence[Sample]) -> list[dict[str, object]]:
    """The sample windows whose p99 was over the kept-up limit, with what happened on the server meanwhile."""
    slow: list[dict[str, object]] = []
    for before, sample in itertools.pairwise(samples):
        if sample.window_p99_ms is None or sample.window_p99_ms <= KEPT_UP_P99_MS:
            continue
        slow.append(
            {
                "from_s": before.at_s,
                "to_s": sample.at_s,
                "p99_ms": sample.window_p99_ms,
                "answered": sample.answered - before.answered,
                "load_1m": sample.load_1m,
                "checkpoints": _delta(before.checkpoints, sample.checkpoints),
                "autovacuums": _delta(before.autovacuums, sample.autovacuums),
            }
        )
    return slow


def _delta(before: int | None, after: int | None) -> int | None:
    return None if before is None or after is None else after - before


def summarise(
    options: Options, capacity: float, rate: float, tally: SoakTally, peaks: tuple[float, float]
) -> dict[str, object]:
    """The figures for the report and the JSON file."""
    per_minute = max(1, int(60 / options.sample_seconds))
    web = [sample.web_rss_mib for sample in tally.samples]
    worker = [sample.worker_rss_mib for sample in tally.samples]
    web_settled, web_end, web_flat = _flat(web, per_minute)
    worker_settled, worker_end, worker_flat = _flat(worker, per_minute)
    latencies = sorted(tally.latencies_ms)
    failed = tally.errors + sum(tally.unexpected.values())
    # Open loop: a server that cannot serve the offered rate builds a queue, and latency from the due time grows
    # without bound. A p99 under a second says it kept up.
    kept_up = bool(latencies) and percentile(latencies, 99) <= KEPT_UP_P99_MS
    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "minutes": options.minutes,
        "fraction": options.fraction,
        "capacity_rps": round(capacity, 1),
        "target_rps": round(rate, 1),
        "achieved_rps": round(len(latencies) / max(tally.elapsed_s, options.minutes * 60), 1),
        "requests": len(latencies),
        "errors": tally.errors,
        "unexpected_statuses": tally.unexpected,
        "cookie_renewals": tally.cookie_renewals,
        "latency_ms": {
            "p50": round(percentile(latencies, 50), 1) if latencies else None,
            "p99": round(percentile(latencies, 99), 1) if latencies else None,
        },
        "web_rss_mib": {"settled": round(web_settled, 1), "end": round(web_end, 1), "peak": round(peaks[0], 1)},
        "worker_rss_mib": {
            "settled": round(worker_settled, 1),
            "end": round(worker_end, 1),
            "peak": round(peaks[1], 1),
        },
        "slow_windows": slow_windows(tally.samples),
        "memory_flat": web_flat and worker_flat,
        "kept_up": kept_up,
        "passed": failed == 0 and web_flat and worker_flat and kept_up,
        "samples": [asdict(sample) for sample in tally.samples],
        "sample_seconds": options.sample_seconds,
        "paths": list(PATHS),
    }


def render(figures: Mapping[str, object]) -> str:
    """The generated text of the soak section of docs/performance.md (between its markers)."""
    web = figures["web_rss_mib"]
    worker = figures["worker_rss_mib"]
    latency = figures["latency_ms"]
    assert isinstance(web, dict)
    assert isinstance(worker, dict)
    assert isinstance(latency, dict)
    verdict = "passed" if figures["passed"] else "NOT passed"
    slow = figures.get("slow_windows") or []
    assert isinstance(slow, list)
    behind = (
        [
            "",
            f"It fell behind in {len(slow)} of the {figures['sample_seconds']}-second windows; the first ones "
            "(p99 of the requests answered in the window, requests answered, load average, checkpoints and "
            "autovacuum runs during the window):",
            "",
            "| Window | p99 | Answered | Load | Checkpoints | Autovacuum |",
            "| --- | --: | --: | --: | --: | --: |",
            *(
                f"| {w['from_s']:.0f}–{w['to_s']:.0f} s | {w['p99_ms']} ms | {w['answered']} | {w['load_1m']} "
                f"| {w['checkpoints']} | {w['autovacuums']} |"
                for w in slow[:8]
            ),
        ]
        if slow
        else []
    )
    return "\n".join(
        [
            f"Measured {figures['measured_at']} on {figures['cpus']} CPUs: {figures['minutes']} minutes open loop at "
            f"{int(float(str(figures['fraction'])) * 100)} % of the measured capacity ({figures['capacity_rps']} req/s "
            f"on the mix {', '.join(f'`{p}`' for p in PATHS)}), target {figures['target_rps']} req/s, "
            f"achieved {figures['achieved_rps']} req/s, {figures['requests']:,} requests.",
            "",
            "| | Settled (after 1 min) | End | Peak (VmHWM) | Goal |",
            "| --- | --: | --: | --: | --- |",
            f"| Web process RSS, MiB | {web['settled']} | {web['end']} | {web['peak']} | under 150, flat |",
            f"| Worker RSS, MiB | {worker['settled']} | {worker['end']} | {worker['peak']} | under 150, flat |",
            "",
            f"Errors: {figures['errors']}; unexpected statuses: {figures['unexpected_statuses'] or 'none'}; latency "
            f"from when each request was due: p50 {latency['p50']} ms, p99 {latency['p99']} ms "
            f"({'kept up' if figures['kept_up'] else 'fell behind the offered rate'}: p99 under 1 s). Soak {verdict}.",
            *behind,
        ]
    )


def update_document(figures: Mapping[str, object]) -> None:
    """Replace (or append) the soak section of docs/performance.md."""
    write_section(DOCUMENT, START, END, render(figures), "## Soak and memory")


def _worker(env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "worker"],
        env=dict(env),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def soak(options: Options) -> dict[str, object]:
    """Start everything, measure capacity, soak, stop everything; the figures."""
    server_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if not server_url or not redis_url:
        raise BenchmarkError("DATABASE_URL and REDIS_URL must be set (make bench sets them)")
    name = f"vitrine_soak_{os.getpid()}"
    database_url = asyncio.run(create_database(server_url, name))
    try:
        params = asyncio.run(_prepare(database_url))
        secret_key = secrets.token_urlsafe(48)
        port = free_port()
        env = server_env(
            {
                "DATABASE_URL": database_url,
                "REDIS_URL": redis_url,
                "VITRINE_ENV": "test",
                "SECRET_KEY": secret_key,
                "VITRINE_PORT": str(port),
                "LOG_LEVEL": "WARNING",
            }
        )
        worker = _worker(env)
        try:
            with Server("vitrine", [sys.executable, "-m", "backend.cli", "web"], env, port, "/readyz") as web:
                jar = _requests(port, params, secret_key)
                capacity = asyncio.run(_closed_loop(port, jar, options.connections, options.capacity_seconds))
                rate = capacity * options.fraction
                tally = SoakTally()
                asyncio.run(_open_loop(port, jar, rate, options, (web.pid, worker.pid), tally, database_url))
                tally.cookie_renewals = jar.renewals
                peaks = (_rss_mib(web.pid, "VmHWM:"), _rss_mib(worker.pid, "VmHWM:"))
                if worker.poll() is not None:
                    raise BenchmarkError("the worker stopped during the soak")
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
    finally:
        asyncio.run(drop_database(server_url, name))
    return summarise(options, capacity, rate, tally, peaks)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the soak, write benchmarks/results/soak.json and the docs section; exit 1 if it did not pass."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--fraction", type=float, default=0.7, help="share of the measured capacity (0-1)")
    parser.add_argument("--capacity-seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--sample-seconds", type=float, default=5.0)
    parser.add_argument("--no-write", action="store_true", help="print only; leave the report files alone")
    args = parser.parse_args(argv)
    if not 0 < args.fraction <= 1 or args.minutes <= 0 or args.minutes > 60:
        parser.error("--fraction must be in (0, 1] and --minutes in (0, 60]")
    options = Options(args.minutes, args.fraction, args.capacity_seconds, args.connections, args.sample_seconds)
    figures = soak(options)
    summary = {key: value for key, value in figures.items() if key != "samples"}
    print(json.dumps(summary, indent=2))
    if not args.no_write:
        RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        update_document(figures)
    return 0 if figures["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
