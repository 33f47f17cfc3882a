"""`python -m benchmarks.declaration_ingest`: declaration ingest through the real service beside a raw COPY.

A mix of flexi wages (which update the flexi counter) and Dimona declarations from the ONSS goes through
`ingest_declarations` in batches of 1,000 (each batch one transaction, as one API call would be); the raw side
COPYs rows with the same payloads into the same `records` table. Runs alternate; medians are reported.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import random
import statistics
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from backend.core.auth.assertions import InstitutionCaller
from backend.core.db import connect
from backend.core.identity.demo import INSTITUTIONS, demo_kbo
from backend.core.identity.queries import insert_organisation
from backend.core.identity.scale import generate_people
from backend.records.service import ingest_declarations
from benchmarks.cpu_cost import Cost, cpu_medians, measured, render_cpu
from benchmarks.report import write_section
from benchmarks.servers import create_database, drop_database

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "declaration-ingest.json"
DOCUMENT = ROOT / "docs" / "performance.md"
START = "<!-- declaration-ingest:start (written by `make bench`) -->"
END = "<!-- declaration-ingest:end -->"
GOAL_PER_SECOND = 10_000
EMPLOYERS = [demo_kbo(f"0{number:07d}") for number in range(7_100_000, 7_100_040)]


def _events(numbers: Sequence[str], count: int, run: int, rng: random.Random) -> list[dict[str, Any]]:
    events = []
    for index in range(count):
        flexi = index % 2 == 0
        data: dict[str, Any] = (
            {"employer_kbo": rng.choice(EMPLOYERS), "month": f"2026-{rng.randint(1, 10):02d}", "amount_cents": 48_000}
            if flexi
            else {"employer_kbo": rng.choice(EMPLOYERS), "worker_type": "FLX", "start": "2026-03-02"}
        )
        events.append(
            {
                "specversion": "1.0",
                "id": f"bench-{run}-{index}",
                "source": "/onss/bench",
                "type": f"be.socialsecurity.{'flexi_wages' if flexi else 'dimona'}.v1",
                "subject": rng.choice(numbers),
                "time": "2026-11-02T09:00:00+00:00",
                "data": data,
            }
        )
    return events


async def _service(conn: asyncpg.Connection, caller: InstitutionCaller, events: list[dict[str, Any]]) -> Cost:
    async def work() -> None:
        for first in range(0, len(events), 1_000):
            async with conn.transaction():
                outcome = await ingest_declarations(conn, caller, events[first : first + 1_000])
            accepted = sum(1 for item in outcome.answer.items if item.status == "accepted")
            if accepted != len(events[first : first + 1_000]):
                raise RuntimeError(f"only {accepted} of a batch accepted: {outcome.answer.items[0]}")

    return await measured(conn, len(events), work)


async def _raw(conn: asyncpg.Connection, rows: Sequence[tuple[object, ...]]) -> Cost:
    # CSV, because COPY's binary format has no encoder for jsonb through the msgspec codec.
    columns = [
        "citizen_id",
        "record_id",
        "category",
        "type_version",
        "kind",
        "producer_org_id",
        "source",
        "source_event_id",
        "occurred_at",
        "payload",
    ]

    async def work() -> None:
        for first in range(0, len(rows), 1_000):
            buffer = io.StringIO()
            csv.writer(buffer).writerows(rows[first : first + 1_000])
            async with conn.transaction():
                await conn.copy_to_table(
                    "records", source=io.BytesIO(buffer.getvalue().encode()), columns=columns, format="csv"
                )

    return await measured(conn, len(rows), work)


async def measure(database_url: str, *, citizens: int, events: int, repeat: int) -> dict[str, object]:
    """The alternating measurement in a scratch database."""
    name = f"vitrine_bench_declarations_{os.getpid()}"
    url = await create_database(database_url, name)
    try:
        conn = await connect(url)
        try:
            await generate_people(conn, citizens=citizens)
            rows = await conn.fetch("SELECT person_id, insz FROM person_identifiers")
            numbers = [row["insz"] for row in rows]
            by_number = {row["insz"]: row["person_id"] for row in rows}
            onss = next(demo for demo in INSTITUTIONS if demo.code == "ONSS")
            async with conn.transaction():
                organisation = await insert_organisation(
                    conn,
                    kbo=onss.kbo,
                    kind="institution",
                    code="ONSS",
                    name_nl=onss.name_nl,
                    name_fr=onss.name_fr,
                    name_de=onss.name_de,
                )
            caller = InstitutionCaller(client_id="onss-bench", org_id=organisation.org_id, org_code="ONSS", jti="-")
            rng = random.Random(2026)
            service: list[Cost] = []
            raw: list[Cost] = []
            for run in range(repeat):
                batch = _events(numbers, events, run, rng)
                raw_rows = [
                    (
                        by_number[item["subject"]],
                        uuid.uuid4(),
                        item["type"].split(".")[2],
                        1,
                        "declaration",
                        organisation.org_id,
                        "/onss/raw",
                        f"raw-{run}-{index}",
                        datetime.now(UTC),
                        msgspec.json.encode(item["data"]).decode(),
                    )
                    for index, item in enumerate(_events(numbers, events, run, rng))
                ]
                for side in ("service", "raw") if run % 2 == 0 else ("raw", "service"):
                    if side == "service":
                        service.append(await _service(conn, caller, batch))
                    else:
                        raw.append(await _raw(conn, raw_rows))
                print(
                    f"  run {run + 1}: service {service[-1].per_second:,.0f}/s, raw COPY {raw[-1].per_second:,.0f}/s",
                    flush=True,
                )
            version = await conn.fetchval("SHOW server_version")
            load = os.getloadavg()[0]
        finally:
            await conn.close()
    finally:
        await drop_database(database_url, name)
    service_rates = [cost.per_second for cost in service]
    raw_rates = [cost.per_second for cost in raw]
    service_median = statistics.median(service_rates)
    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "postgres": version,
        "cpus": os.cpu_count(),
        "citizens": citizens,
        "events_per_run": events,
        "repeat": repeat,
        "service_per_second": service_rates,
        "raw_copy_per_second": raw_rates,
        "service_median": service_median,
        "raw_median": statistics.median(raw_rates),
        "ratio_median": statistics.median(s / r for s, r in zip(service_rates, raw_rates, strict=True)),
        "minutes_for_45_million_dimona": 45_000_000 / service_median / 60,
        "load_average_1min_at_end": load,
        "service_cpu": cpu_medians(service),
        "raw_cpu": cpu_medians(raw),
    }


def render(figures: dict[str, Any]) -> str:
    """The generated part of the document."""
    met = "met" if figures["service_median"] >= GOAL_PER_SECOND else "NOT met"
    return "\n".join(
        [
            f"Measured {figures['measured_at']} on PostgreSQL {figures['postgres']}, {figures['cpus']} CPUs: "
            f"{figures['events_per_run']:,} declarations per run (half flexi wages, half Dimona) over "
            f"{figures['citizens']:,} citizens, batches of 1,000, {figures['repeat']} alternating runs.",
            "",
            "| Side | Median per second |",
            "| --- | --: |",
            "| Ingest service (checks, idempotency, set-based writes, flexi counter) | "
            f"{figures['service_median']:,.0f} |",
            f"| Raw COPY of the same payloads | {figures['raw_median']:,.0f} |",
            "",
            f"The service keeps {figures['ratio_median']:.0%} of raw COPY; a year of Dimona (45 million) would take "
            f"{figures['minutes_for_45_million_dimona']:,.0f} minutes. Goal: at least {GOAL_PER_SECOND:,} per second "
            f"(under 75 minutes). Goal {met}.",
            *render_cpu(
                figures, [("Ingest service", "service_cpu"), ("Raw COPY", "raw_cpu")], "declaration", GOAL_PER_SECOND
            ),
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.declaration_ingest", description=__doc__)
    parser.add_argument("--citizens", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a small smoke run; writes nothing")
    options = parser.parse_args(argv)
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        print("benchmarks: DATABASE_URL is not set (use `make bench`)", file=sys.stderr)
        return 2
    if options.quick:
        options.citizens, options.events, options.repeat = 2_000, 2_000, 2
    figures = asyncio.run(
        measure(database_url, citizens=options.citizens, events=options.events, repeat=options.repeat)
    )
    print(render(figures))
    if not options.quick:
        RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        write_section(DOCUMENT, START, END, render(figures), "## Declaration ingest")
        print(f"benchmarks: wrote {RESULTS.relative_to(ROOT)} and {DOCUMENT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
