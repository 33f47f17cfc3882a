"""`python -m benchmarks.access_ingest`: bulk ingest of chained access events beside a raw COPY of the same rows.

Both sides write into the same partitioned `access_events` table of a scratch database, in batches of the same
size, each batch its own transaction, alternating runs so machine drift hits both. The chained side does what
production does (lock heads, compute SHA-256 chains, COPY, move heads); the raw side COPYs rows whose hashes are
already computed. The ratio says how much of PostgreSQL's raw COPY speed the chains keep.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from backend.access_log.bulk import NewAccess, record_accesses
from backend.access_log.schemas import EVENT_COLUMNS, Accessor
from backend.core.db import connect
from backend.core.identity.scale import generate_people
from benchmarks.cpu_cost import Cost, cpu_medians, measured, render_cpu
from benchmarks.report import write_section
from benchmarks.servers import create_database, drop_database

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "access-ingest.json"
DOCUMENT = ROOT / "docs" / "performance.md"
START = "<!-- access-ingest:start (written by `make bench`) -->"
END = "<!-- access-ingest:end -->"
EVENTS_PER_YEAR = 1_500_000_000
GOAL_RATIO = 0.20


def _accesses(citizens: Sequence[uuid.UUID], count: int, rng: random.Random) -> list[NewAccess]:
    institutions = [Accessor(kind="institution", client_id=f"{code}-demo") for code in ("onem", "inami", "sfp")]
    start = datetime(2026, 3, 1, tzinfo=UTC)
    return [
        NewAccess(
            citizen_id=rng.choice(citizens),
            accessor=rng.choice(institutions),
            action="read",
            channel="api",
            categories=(rng.choice(("dimona", "dmfa", "drs")),),
            purpose_code="unemployment_benefit",
            legal_basis_ref="IVC/KSZG/DEMO/001",
            case_ref=f"CASE-{index:09d}",
            occurred_at=start + timedelta(seconds=index),
        )
        for index in range(count)
    ]


def _raw_rows(accesses: Sequence[NewAccess], seq_base: int, rng: random.Random) -> list[tuple[object, ...]]:
    now = datetime.now(UTC)
    rows = []
    for offset, access in enumerate(accesses):
        values = {
            "citizen_id": access.citizen_id,
            "seq": seq_base + offset,
            "event_id": uuid.uuid4(),
            "occurred_at": access.occurred_at,
            "logged_at": now,
            "actor_kind": access.accessor.kind,
            "actor_org_id": None,
            "actor_client_id": access.accessor.client_id,
            "actor_system": None,
            "actor_role": None,
            "actor_ref": None,
            "mandate_id": None,
            "purpose_code": access.purpose_code,
            "legal_basis_ref": access.legal_basis_ref,
            "categories": list(access.categories),
            "record_refs": [],
            "case_ref": access.case_ref,
            "channel": access.channel,
            "action": access.action,
            "outcome": access.outcome,
            "reason": None,
            "source": None,
            "source_event_id": None,
            "prev_hash": rng.randbytes(32),
            "hash": rng.randbytes(32),
        }
        rows.append(tuple(values[column] for column in EVENT_COLUMNS))
    return rows


async def _chained(conn: asyncpg.Connection, accesses: Sequence[NewAccess], batch: int) -> Cost:
    async def work() -> None:
        for first in range(0, len(accesses), batch):
            async with conn.transaction():
                await record_accesses(conn, accesses[first : first + batch])

    return await measured(conn, len(accesses), work)


async def _raw(conn: asyncpg.Connection, rows: Sequence[tuple[object, ...]], batch: int) -> Cost:
    async def work() -> None:
        for first in range(0, len(rows), batch):
            async with conn.transaction():
                await conn.copy_records_to_table(
                    "access_events", records=rows[first : first + batch], columns=list(EVENT_COLUMNS)
                )

    return await measured(conn, len(rows), work)


async def measure(database_url: str, *, citizens: int, events: int, batch: int, repeat: int) -> dict[str, object]:
    """Run the alternating measurement in a scratch database and return the figures."""
    name = f"vitrine_bench_ingest_{os.getpid()}"
    url = await create_database(database_url, name)
    try:
        conn = await connect(url)
        try:
            await generate_people(conn, citizens=citizens)
            ids = [row["person_id"] for row in await conn.fetch("SELECT person_id FROM people")]
            rng = random.Random(2026)
            chained: list[Cost] = []
            raw: list[Cost] = []
            for run in range(repeat):
                accesses = _accesses(ids, events, rng)
                rows = _raw_rows(_accesses(ids, events, rng), 1_000_000_000 + run * events, rng)
                order = ("chained", "raw") if run % 2 == 0 else ("raw", "chained")
                for side in order:
                    if side == "chained":
                        chained.append(await _chained(conn, accesses, batch))
                    else:
                        raw.append(await _raw(conn, rows, batch))
                print(
                    f"  run {run + 1}: chained {chained[-1].per_second:,.0f} events/s, "
                    f"raw COPY {raw[-1].per_second:,.0f} rows/s",
                    flush=True,
                )
            load = os.getloadavg()[0]
            version = await conn.fetchval("SHOW server_version")
        finally:
            await conn.close()
    finally:
        await drop_database(database_url, name)
    chained_rates = [cost.per_second for cost in chained]
    raw_rates = [cost.per_second for cost in raw]
    ratios = [ours / theirs for ours, theirs in zip(chained_rates, raw_rates, strict=True)]
    chained_median = statistics.median(chained_rates)
    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "postgres": version,
        "cpus": os.cpu_count(),
        "citizens": citizens,
        "events_per_run": events,
        "batch": batch,
        "repeat": repeat,
        "chained_events_per_second": chained_rates,
        "raw_copy_rows_per_second": raw_rates,
        "chained_median": chained_median,
        "raw_median": statistics.median(raw_rates),
        "ratio_median": statistics.median(ratios),
        "ratio_range": [min(ratios), max(ratios)],
        "hours_for_a_year": EVENTS_PER_YEAR / chained_median / 3600,
        "load_average_1min_at_end": load,
        "chained_cpu": cpu_medians(chained),
        "raw_cpu": cpu_medians(raw),
    }


def render(figures: dict[str, object]) -> str:
    """The generated part of the document."""
    ratio = float(figures["ratio_median"])  # type: ignore[arg-type]
    low, high = (float(value) for value in figures["ratio_range"])  # type: ignore[attr-defined]
    hours = float(figures["hours_for_a_year"])  # type: ignore[arg-type]
    goal = "met" if ratio >= GOAL_RATIO and hours < 12 else "NOT met"
    return "\n".join(
        [
            f"Measured {figures['measured_at']} on PostgreSQL {figures['postgres']}, {figures['cpus']} CPUs: "
            f"{figures['events_per_run']:,} events per run over {figures['citizens']:,} citizens, batches of "
            f"{figures['batch']:,}, {figures['repeat']} alternating runs.",
            "",
            "| Side | Median per second |",
            "| --- | --: |",
            f"| Chained ingest (heads locked, SHA-256 chains, COPY) | {float(figures['chained_median']):,.0f} events |",  # type: ignore[arg-type]
            f"| Raw COPY of the same rows | {float(figures['raw_median']):,.0f} rows |",  # type: ignore[arg-type]
            "",
            f"Chained ingest keeps **{ratio:.0%}** of raw COPY (range {low:.0%}–{high:.0%}); goal at least "
            f"{GOAL_RATIO:.0%}. A year of Belgian access events (1.5 billion) would take **{hours:.1f} hours** at the "
            f"chained rate on this machine; goal under 12 hours. Goal {goal}.",
            *render_cpu(figures, [("Chained ingest", "chained_cpu"), ("Raw COPY", "raw_cpu")], "event", 34_722),
        ]
    )


def update_document(figures: dict[str, object]) -> None:
    """Replace the generated block in docs/performance.md, or append it under its own heading."""
    write_section(DOCUMENT, START, END, render(figures), "## Access-event ingest")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.access_ingest", description=__doc__)
    parser.add_argument("--citizens", type=int, default=50_000)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a small smoke run; writes nothing")
    options = parser.parse_args(argv)
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        print("benchmarks: DATABASE_URL is not set (use `make bench`)", file=sys.stderr)
        return 2
    if options.quick:
        options.citizens, options.events, options.repeat = 2_000, 10_000, 2
    figures = asyncio.run(
        measure(
            database_url, citizens=options.citizens, events=options.events, batch=options.batch, repeat=options.repeat
        )
    )
    print(render(figures))
    if not options.quick:
        RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        update_document(figures)
        print(f"benchmarks: wrote {RESULTS.relative_to(ROOT)} and {DOCUMENT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
