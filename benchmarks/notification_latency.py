"""`python -m benchmarks.notification_latency`: how soon a flexi warning reaches the inbox and the mailbox while
declarations pour in, and how many deliveries one worker process makes per second.

Everything is real and on loopback: Vitrine's web process (`vitrine web`) takes CloudEvents batches on the
ingest API at a sustained rate (500 declarations per second by default, signed assertions, one per call); the
worker (`vitrine worker`) relays the outbox and sends e-mail to an SMTP server in this process. Among the
declarations, some flexi wages carry a prepared person past 75 % of the year's ceiling: for each, the time from
the ingest call's answer to (a) the notice's row in the inbox (its `created_at`, same machine clock) and (b) the
e-mail's acceptance by the SMTP server. Then, with the worker stopped, notices are owed in bulk and a fresh worker
delivers them: e-mails accepted per second. Bounded in time; every process it starts is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from backend.core.db import connect
from benchmarks.harness import BenchmarkError, percentile
from benchmarks.mail_sink import MailSink, claimed_redis_database, running_mail_sink
from benchmarks.notification_load import Setup, offer_load
from benchmarks.report import write_section
from benchmarks.servers import HOST, Server, create_database, drop_database, free_port, server_env
from notifications.outbox import enqueue_notification

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "notification-latency.json"
DOCUMENT = ROOT / "docs" / "performance.md"
START = "<!-- notification-latency:start (written by `make bench`) -->"
END = "<!-- notification-latency:end -->"
GOAL_P99_SECONDS = 1.0
GOAL_PEAK_MIB = 150
SETTLE_SECONDS = 60.0
INTRODUCTION = (
    "`python -m benchmarks.notification_latency` (part of `make bench`): declarations posted through the real "
    "ingest API at a sustained rate to a real `vitrine web`, a real `vitrine worker` relaying the outbox and "
    "sending e-mail to an SMTP server in a process of the benchmark's own, all on loopback. For each flexi "
    "declaration that carries a person past a ceiling threshold: the time from the ingest call's answer to the "
    "notice in the inbox and to the e-mail accepted. Then one worker process alone delivers a backlog of owed notices."
)


async def _settle(check: Any, within: float) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise BenchmarkError("notices or e-mails still missing after the wait")
        await asyncio.sleep(0.2)


async def latency(url: str, sink: MailSink, setup: Setup, answered: dict[str, float]) -> dict[str, list[float]]:
    """Seconds from each answer to the inbox row and to the e-mail, once all have arrived."""
    conn = await connect(url)
    try:
        people = {
            row["insz"].strip(): row["person_id"]
            for row in await conn.fetch(
                "SELECT insz, person_id FROM person_identifiers WHERE insz = ANY($1::bpchar[])", list(answered)
            )
        }

        async def inbox_rows() -> dict[uuid.UUID, datetime]:
            rows = await conn.fetch(
                "SELECT citizen_id, created_at FROM notifications "
                "WHERE kind = 'flexi_ceiling' AND citizen_id = ANY($1)",
                list(people.values()),
            )
            return {row["citizen_id"]: row["created_at"] for row in rows}

        async def arrived() -> bool:
            accepted = sink.accepted
            mails = sum(1 for insz in answered if setup.watched[insz] in accepted)
            return len(await inbox_rows()) == len(answered) and mails == len(answered)

        await _settle(arrived, SETTLE_SECONDS)
        created = await inbox_rows()
    finally:
        await conn.close()
    accepted = sink.accepted
    return {
        "inbox": [created[people[insz]].timestamp() - moment for insz, moment in answered.items()],
        "email": [accepted[setup.watched[insz]][0] - moment for insz, moment in answered.items()],
    }


async def owe_bulk(url: str, setup: Setup) -> None:
    """One notice owed to each person of the bulk group, committed at once (the worker is stopped)."""
    conn = await connect(url)
    try:
        async with conn.transaction():
            for person_id in setup.bulk:
                await enqueue_notification(
                    conn,
                    citizen_id=person_id,
                    kind="contest_answered",
                    dedup_key=f"bench:{person_id}",
                    payload={"contest_id": str(uuid.uuid4())},
                )
    finally:
        await conn.close()


def _summary(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50": percentile(ordered, 50), "p99": percentile(ordered, 99), "max": ordered[-1] if ordered else 0.0}


async def measure(database_url: str, redis_url: str, options: argparse.Namespace) -> dict[str, Any]:
    """Set up, run the load with a real web process and worker, measure, stop everything."""
    name = f"vitrine_bench_notifications_{os.getpid()}"
    url = await create_database(database_url, name)
    try:
        setup = Setup()
        conn = await connect(url, as_app=False)
        try:
            await setup.prepare(conn, citizens=options.citizens, watched=options.watched, bulk=options.bulk)
        finally:
            await conn.close()
        with claimed_redis_database(redis_url) as redis_db, tempfile.TemporaryDirectory() as local:
            async with running_mail_sink(Path(local)) as sink:
                web_port, metrics_port = free_port(), free_port()
                common = {
                    "VITRINE_ENV": "test",
                    "DATABASE_URL": url,
                    "REDIS_URL": redis_db,
                    "SMTP_URL": sink.url,
                    "SECRET_KEY": uuid.uuid4().hex * 2,
                    "VITRINE_HOST": HOST,
                    "VITRINE_LOCAL_DIR": local,
                    "LOG_LEVEL": "WARNING",
                    "BASE_URL": f"http://{HOST}:{web_port}",
                }
                worker_env = server_env({**common, "WORKER_METRICS_PORT": str(metrics_port)})
                worker_command = [sys.executable, "-m", "backend.cli", "worker"]
                web_env = server_env({**common, "VITRINE_PORT": str(web_port)})
                web_command = [sys.executable, "-m", "backend.cli", "web"]
                web = Server("web", web_command, web_env, web_port, "/healthz")
                worker = Server("worker", worker_command, worker_env, metrics_port, "/metrics")
                async with running(web), running(worker):
                    answered, accepted, took = await offer_load(
                        web_port, setup, rate=options.rate, seconds=options.seconds, batch=options.batch
                    )
                    seconds = await latency(url, sink, setup, answered)
                    # Peak resident memory under the ingest load (read before the processes stop).
                    peaks = {"web": web.peak_rss_mib(), "worker": worker.peak_rss_mib()}
                before = sink.count
                await owe_bulk(url, setup)
                bulk_worker = Server("worker", worker_command, worker_env, metrics_port, "/metrics")
                async with running(bulk_worker):
                    started = time.time()
                    await _settle(lambda: _done(sink, before + len(setup.bulk)), SETTLE_SECONDS * 3)
                    peaks["bulk_worker"] = bulk_worker.peak_rss_mib()
                times = sink.times()[before:]
            postgres, relay_span = await _version(url), await _relay_span(url, setup)
    finally:
        await drop_database(database_url, name)
    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "postgres": postgres,
        "cpus": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "offered_per_second": options.rate,
        "achieved_per_second": accepted / took,
        "batch": options.batch,
        "seconds": options.seconds,
        "warnings": len(answered),
        "transport_retries": setup.transport_retries,
        "inbox_seconds": _summary(seconds["inbox"]),
        "email_seconds": _summary(seconds["email"]),
        "bulk_notices": len(setup.bulk),
        "deliveries_per_second": (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0,
        "bulk_seconds_from_start": times[-1] - started if times else 0.0,
        "bulk_relay_seconds": relay_span,
        "peak_rss_mib": {name: None if value is None else round(value, 1) for name, value in peaks.items()},
    }


@asynccontextmanager
async def running(server: Server) -> AsyncIterator[Server]:
    """Start and stop a server subprocess in a thread: waiting for it must not stall the SMTP server on this loop."""
    await asyncio.to_thread(server.__enter__)
    try:
        yield server
    finally:
        await asyncio.to_thread(server.stop)


async def _done(sink: MailSink, expected: int) -> bool:
    return sink.count >= expected


async def _relay_span(url: str, setup: Setup) -> float:
    """Seconds between the first and the last bulk notice the relay wrote."""
    conn = await asyncpg.connect(url)
    try:
        span = await conn.fetchval(
            "SELECT extract(epoch FROM max(created_at) - min(created_at)) FROM notifications "
            "WHERE citizen_id = ANY($1) AND kind = 'contest_answered'",
            setup.bulk,
        )
    finally:
        await conn.close()
    return float(span or 0.0)


async def _version(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


def render(figures: dict[str, Any]) -> str:
    """The generated part of the document."""
    inbox, email = figures["inbox_seconds"], figures["email_seconds"]
    met = "met" if max(inbox["p99"], email["p99"]) < GOAL_P99_SECONDS else "NOT met"
    ms = 1000
    return "\n".join(
        [
            f"Measured {figures['measured_at']} on PostgreSQL {figures['postgres']}, {figures['cpus']} CPUs, one web "
            f"process and one worker process, load average {figures['load_average_1min']} at the end. The machine is "
            "shared with other work and noisy: read these as one run's figures, not a stable baseline.",
            "",
            f"Declarations offered at {figures['offered_per_second']:,} per second for {figures['seconds']} s in "
            f"batches of {figures['batch']} (achieved {figures['achieved_per_second']:,.0f} per second); "
            f"{figures['warnings']} of them carried a person past 75 % of the flexi ceiling"
            f" ({figures.get('transport_retries', 0)} calls sent again after a dropped keep-alive connection).",
            "",
            "| From the ingest call's answer to | p50 | p99 | max |",
            "| --- | --: | --: | --: |",
            f"| the notice in the inbox | {inbox['p50'] * ms:,.0f} ms | {inbox['p99'] * ms:,.0f} ms | "
            f"{inbox['max'] * ms:,.0f} ms |",
            f"| the e-mail accepted by the SMTP server | {email['p50'] * ms:,.0f} ms | {email['p99'] * ms:,.0f} ms | "
            f"{email['max'] * ms:,.0f} ms |",
            "",
            f"Goal: p99 under {GOAL_P99_SECONDS:.0f} s for both. Goal {met}. (The inbox time is the notice row's "
            "`created_at`, the start of the relay's transaction; it can precede the answer's arrival at the caller.)",
            "",
            f"One worker process delivered {figures['bulk_notices']:,} owed e-mails at "
            f"{figures['deliveries_per_second']:,.0f} deliveries per second (first to last acceptance; "
            f"{figures['bulk_seconds_from_start']:,.1f} s from its start, relay included; the relay wrote the notices "
            f"over {figures['bulk_relay_seconds']:,.1f} s).",
            "",
            _memory(figures.get("peak_rss_mib") or {}),
        ]
    )


def _memory(peaks: dict[str, float | None]) -> str:
    """The peak resident memory sentence, against the goal."""

    def mib(name: str) -> str:
        value = peaks.get(name)
        return "not known" if value is None else f"{value:,.0f} MiB"

    known = [value for value in peaks.values() if value is not None]
    verdict = "not known" if not known else ("met" if max(known) < GOAL_PEAK_MIB else "NOT met")
    return (
        f"Peak resident memory (VmHWM): web process {mib('web')} and worker {mib('worker')} under the ingest load, "
        f"worker {mib('bulk_worker')} delivering the owed e-mails. Goal: under {GOAL_PEAK_MIB} MiB each; {verdict}."
    )


def write_document(figures: dict[str, Any]) -> None:
    """Replace the generated block of docs/performance.md, or add the section."""
    write_section(DOCUMENT, START, END, render(figures), f"## Notification latency\n\n{INTRODUCTION}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.notification_latency", description=__doc__)
    parser.add_argument("--rate", type=int, default=500, help="declarations offered per second (500)")
    parser.add_argument("--seconds", type=int, default=20, help="seconds of load (20)")
    parser.add_argument("--batch", type=int, default=50, help="declarations per ingest call (50)")
    parser.add_argument("--watched", type=int, default=400, help="declarations that raise a warning (400)")
    parser.add_argument("--bulk", type=int, default=2_000, help="notices owed for the throughput phase (2000)")
    parser.add_argument("--citizens", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true", help="a small smoke run; writes nothing")
    options = parser.parse_args(argv)
    database_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if not database_url or not redis_url:
        print("benchmarks: DATABASE_URL and REDIS_URL must be set (use `make bench`)", file=sys.stderr)
        return 2
    if options.quick:
        options.rate, options.seconds, options.watched, options.bulk, options.citizens = 100, 3, 20, 100, 2_000
    try:
        figures = asyncio.run(measure(database_url, redis_url, options))
    except BenchmarkError as problem:
        print(f"benchmarks: {problem}", file=sys.stderr)
        return 2
    print(render(figures))
    if not options.quick:
        RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        write_document(figures)
        print(f"benchmarks: wrote {RESULTS.relative_to(ROOT)} and {DOCUMENT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
