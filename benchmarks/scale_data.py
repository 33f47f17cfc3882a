"""The national-scale benchmark database: a million people, twenty million chained access events, their records.

It lives in its own database (``vitrine_bench_scale`` on the server in ``DATABASE_URL``), never in a test
database, and it is kept between runs: generating it takes a while, and every step is resumable, so a second
run only checks what is there and an interrupted one carries on where it stopped.

- People come from ``generate_people`` (the same population as ``vitrine seed --scale``), the institutions and
  their purposes from the demo identity seed.
- Access events are written per block of citizens (in ``person_id`` order), each block in one transaction with
  COPY: the events, then the citizens' heads. Every chain is a real one (``chain.event_hash``), so
  ``vitrine verify-log`` holds on the generated log too. A block is done when any of its citizens has a head.
- Events per citizen follow a log-normal spread around a mean of 20 (most people are looked at a few times a
  year, people on benefits far more), over the twelve months of :data:`WINDOW_START` to :data:`WINDOW_END`,
  so they fall into twelve monthly partitions.
- The first person in id order is the reference citizen: a busy year's log (150 to 250 events) drawn from its
  own seed, whatever the mean, so databases of different sizes (``--events``) share one signed-in citizen with
  the very same log, and a page's latency can be compared between them (benchmarks/log_growth.py).
- Records: Dimona declarations (a few employments per person) for the first RECORD_CITIZENS people, COPY'd per
  block the same way; a block is done when any of its citizens has a record.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

import asyncpg
import msgspec

from backend.access_log.chain import GENESIS, event_hash
from backend.access_log.schemas import EVENT_COLUMNS
from backend.core.db import connect
from backend.core.identity.demo import seed_identity
from backend.core.identity.scale import generate_people
from backend.core.migrations import migrate
from backend.records.categories.dimona import DimonaPayload
from benchmarks.servers import with_database

SCALE_DATABASE: Final = "vitrine_bench_scale"
CITIZENS: Final = 1_000_000
EVENTS: Final = 20_000_000
# A fixed year, so a database generated once stays the same whatever day the benchmark runs.
WINDOW_START: Final = datetime(2025, 12, 1, tzinfo=UTC)
WINDOW_END: Final = datetime(2026, 12, 1, tzinfo=UTC)
BLOCK_CITIZENS: Final = 10_000
# Records for the first 300,000 people in id order (about 870,000 Dimona declarations): the overview's query reads
# one person's rows by index, so the table need not be national for the measure, and records load far slower
# than events (JSON payloads, three foreign keys, two unique indexes).
RECORD_CITIZENS: Final = 300_000
# ln-normal spread: sigma 1.2 gives about 1 % of people over 150 accesses a year; mu is set for the mean.
_SIGMA: Final = 1.2
_MAX_EVENTS_PER_CITIZEN: Final = 3_000
# The reference citizen's log: its length and its events come from this seed alone (see the module docstring).
REFERENCE_EVENTS: Final = (150, 250)
_REFERENCE_SEED: Final = 150_250
# The seed secret only derives pseudonyms of the demo staff; the benchmark never signs anything with it.
_SEED_SECRET: Final = "benchmark-scale-data-not-a-secret-0123456789"  # noqa: S105 (see above)


@dataclass(frozen=True)
class Purpose:
    """An institution's registered purpose, as events name it."""

    org_id: uuid.UUID
    org_code: str
    code: str
    categories: tuple[str, ...]
    authorisation_ref: str


async def ensure_database(server_url: str, name: str = SCALE_DATABASE) -> str:
    """Create the scale database if it is missing and bring it to the current migrations; returns its URL."""
    admin = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        if not await admin.fetchval("SELECT true FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = with_database(server_url, name)
    conn = await connect(url, as_app=False)
    try:
        await migrate(conn)
        # One partition per month of the window (the migration only made those around the day it ran).
        month = WINDOW_START
        while month < WINDOW_END:
            await conn.execute("SELECT vitrine_create_access_partition($1)", month.date())
            month = (month + timedelta(days=32)).replace(day=1)
        async with conn.transaction():
            await seed_identity(conn, secret=_SEED_SECRET)
    finally:
        await conn.close()
    return url


def _events_per_citizen(rng: random.Random, mean: float) -> int:
    mu = math.log(mean) - _SIGMA**2 / 2
    return min(_MAX_EVENTS_PER_CITIZEN, int(rng.lognormvariate(mu, _SIGMA)))


def _moments(rng: random.Random, count: int) -> list[datetime]:
    span = (WINDOW_END - WINDOW_START).total_seconds() - 3_600
    # Whole seconds, office hours more likely than the night (people's data is read when offices work).
    moments = []
    for _ in range(count):
        day = rng.random() * span // 86_400
        hour = rng.choice((7, 8, 9, 9, 10, 10, 11, 11, 13, 14, 14, 15, 16, 17, 20, 2))
        moments.append(WINDOW_START + timedelta(days=day, hours=hour, seconds=rng.randrange(3_600)))
    return sorted(moments)


def _access(rng: random.Random, purposes: Sequence[Purpose], citizen: uuid.UUID, index: int) -> dict[str, Any]:
    """One access's fields besides citizen, seq and times: mostly institutions, some helpers, desks, refusals."""
    draw = rng.random()
    purpose = rng.choice(purposes)
    fields: dict[str, Any] = {
        "actor_kind": "institution",
        "actor_org_id": purpose.org_id,
        "actor_client_id": f"{purpose.org_code.lower()}-prod",
        "actor_system": None,
        "actor_role": None,
        "actor_ref": None,
        "mandate_id": None,
        "purpose_code": purpose.code,
        "legal_basis_ref": purpose.authorisation_ref,
        "categories": sorted(rng.sample(purpose.categories, k=rng.randint(1, len(purpose.categories)))),
        "record_refs": [],
        "case_ref": f"{purpose.org_code}-{index:09d}",
        "channel": "api",
        "action": "read",
        "outcome": "granted",
        "reason": None,
        "source": None,
        "source_event_id": None,
    }
    if draw < 0.04:
        fields.update(outcome="denied", reason="the purpose does not cover flexi_wages", categories=["flexi_wages"])
    elif draw < 0.08:
        fields.update(
            actor_kind="helper",
            actor_org_id=None,
            actor_client_id=None,
            actor_ref=f"psn-{rng.getrandbits(48):012x}",
            mandate_id=uuid.UUID(int=rng.getrandbits(128), version=4),
            purpose_code=None,
            legal_basis_ref=None,
            case_ref=None,
            channel="web",
        )
    elif draw < 0.10:
        fields.update(actor_kind="staff", actor_ref=f"psn-{rng.getrandbits(48):012x}", channel="desk", case_ref=None)
    return fields


HEAD_COLUMNS: Final = ("citizen_id", "last_seq", "last_hash", "org_ids")


def block_events(
    citizens: Sequence[uuid.UUID],
    purposes: Sequence[Purpose],
    seed: int,
    mean: float,
    reference: uuid.UUID | None = None,
) -> tuple[list[tuple[Any, ...]], list[tuple[uuid.UUID, int, bytes, list[uuid.UUID]]]]:
    """The events of a block of citizens (rows in EVENT_COLUMNS order) and each citizen's head, chained, with the
    organisations of the log in order of first appearance (HEAD_COLUMNS).

    The reference citizen, when in the block, gets a log drawn from its own seed: the same whatever the mean.
    """
    block_rng = random.Random(seed)
    rows: list[tuple[Any, ...]] = []
    heads: list[tuple[uuid.UUID, int, bytes, list[uuid.UUID]]] = []
    for citizen in citizens:
        if citizen == reference:
            rng = random.Random(_REFERENCE_SEED)
            count = rng.randint(*REFERENCE_EVENTS)
        else:
            rng = block_rng
            count = _events_per_citizen(rng, mean)
        if count == 0:
            continue
        last_hash = GENESIS
        organisations: dict[uuid.UUID, None] = {}
        for seq, occurred in enumerate(_moments(rng, count), start=1):
            fields = _access(rng, purposes, citizen, rng.getrandbits(30))
            fields.update(
                citizen_id=citizen,
                seq=seq,
                event_id=uuid.UUID(int=rng.getrandbits(128), version=4),
                occurred_at=occurred,
                logged_at=occurred + timedelta(seconds=rng.randrange(1, 30)),
            )
            digest = event_hash(last_hash, fields)
            fields.update(prev_hash=last_hash, hash=digest)
            rows.append(tuple(fields[column] for column in EVENT_COLUMNS))
            if fields["actor_org_id"] is not None:
                organisations.setdefault(fields["actor_org_id"])
            last_hash = digest
        heads.append((citizen, count, last_hash, list(organisations)))
    return rows, heads


_DIMONA_TYPES: Final = ("OTH", "OTH", "OTH", "OTH", "STU", "FLX", "EXT", "A17")
_JOINT_COMMITTEES: Final = ("200", "302", "118.03", "124", "140.03", "330", "319.01")


def block_records(
    citizens: Sequence[uuid.UUID], employers: Sequence[str], onss: uuid.UUID, seed: int
) -> list[tuple[Any, ...]]:
    """A few Dimona declarations per citizen: employments over the last years, most of them ended."""
    rng = random.Random(seed)
    rows: list[tuple[Any, ...]] = []
    for citizen in citizens:
        for number in range(rng.choice((0, 1, 1, 2, 2, 3, 3, 4, 5, 8))):
            start = date(2016, 1, 1) + timedelta(days=rng.randrange(3_900))
            end = None if rng.random() < 0.25 else start + timedelta(days=rng.randrange(1, 900))
            payload = DimonaPayload(
                employer_kbo=rng.choice(employers),  # type: ignore[arg-type]
                worker_type=rng.choice(_DIMONA_TYPES),
                start=start,
                end=end,
                joint_committee=rng.choice(_JOINT_COMMITTEES),
            )
            occurred = datetime(start.year, start.month, start.day, 7, tzinfo=UTC) - timedelta(days=1)
            rows.append(
                (
                    citizen,
                    uuid.UUID(int=rng.getrandbits(128), version=4),
                    "dimona",
                    1,
                    "declaration",
                    "active",
                    onss,
                    "/onss/dimona",
                    f"scale-{citizen.hex[:12]}-{number}",
                    occurred,
                    start,
                    end,
                    payload,
                    occurred + timedelta(minutes=5),
                )
            )
    return rows


_RECORD_COLUMNS: Final = (
    "citizen_id",
    "record_id",
    "category",
    "type_version",
    "kind",
    "status",
    "producer_org_id",
    "source",
    "source_event_id",
    "occurred_at",
    "valid_from",
    "valid_to",
    "payload",
    "received_at",
)


async def _purposes(conn: asyncpg.Connection) -> list[Purpose]:
    rows = await conn.fetch(
        """
        SELECT p.org_id, o.code AS org_code, p.code, p.categories, p.authorisation_ref
        FROM purposes AS p JOIN organisations AS o ON o.org_id = p.org_id
        WHERE o.kind = 'institution' ORDER BY o.code, p.code
        """
    )
    return [
        Purpose(row["org_id"], row["org_code"], row["code"], tuple(row["categories"]), row["authorisation_ref"])
        for row in rows
    ]


async def _fill_events(conn: asyncpg.Connection, citizens: Sequence[uuid.UUID], events: int) -> int:
    purposes = await _purposes(conn)
    mean = events / len(citizens)
    started, written = time.monotonic(), 0
    for block_start in range(0, len(citizens), BLOCK_CITIZENS):
        block = citizens[block_start : block_start + BLOCK_CITIZENS]
        # A block is written in one transaction: any head in it means all of it is there.
        if await conn.fetchval("SELECT true FROM access_log_heads WHERE citizen_id = ANY($1::uuid[]) LIMIT 1", block):
            continue
        rows, heads = block_events(block, purposes, seed=block_start, mean=mean, reference=citizens[0])
        async with conn.transaction():
            await conn.copy_records_to_table("access_events", records=rows, columns=list(EVENT_COLUMNS))
            await conn.copy_records_to_table("access_log_heads", records=heads, columns=list(HEAD_COLUMNS))
        written += len(rows)
        rate = written / max(time.monotonic() - started, 1e-6)
        print(f"  access events: block {block_start // BLOCK_CITIZENS + 1}, {written:,} written ({rate:,.0f}/s)")
    return written


# Probes the index citizen by citizen: a generic plan of `citizen_id = ANY($1)` scans the whole table and tests
# each row against the block's 50,000 ids (minutes per block once the table holds a few blocks).
_ANY_RECORD: Final = """
    SELECT true FROM unnest($1::uuid[]) AS block(citizen_id)
    WHERE EXISTS (SELECT FROM records AS r WHERE r.citizen_id = block.citizen_id) LIMIT 1
"""


async def _fill_records(conn: asyncpg.Connection, citizens: Sequence[uuid.UUID]) -> int:
    # COPY speaks binary: jsonb is a version byte, then the JSON text.
    await conn.set_type_codec(
        "jsonb",
        encoder=lambda value: b"\x01" + msgspec.json.encode(value),
        decoder=lambda data: msgspec.json.decode(data[1:]),
        schema="pg_catalog",
        format="binary",
    )
    onss = await conn.fetchval("SELECT org_id FROM organisations WHERE code = 'ONSS'")
    employers = [row["kbo"] for row in await conn.fetch("SELECT kbo FROM organisations ORDER BY kbo")]
    written = 0
    for block_start in range(0, len(citizens), BLOCK_CITIZENS * 5):
        block = citizens[block_start : block_start + BLOCK_CITIZENS * 5]
        if await conn.fetchval(_ANY_RECORD, block):
            continue
        rows = block_records(block, employers, onss, seed=block_start)
        async with conn.transaction():
            await conn.copy_records_to_table("records", records=rows, columns=list(_RECORD_COLUMNS))
        written += len(rows)
        print(f"  records: block {block_start // (BLOCK_CITIZENS * 5) + 1}, {len(rows):,} Dimona declarations")
    return written


async def ensure_scale_data(
    server_url: str, *, citizens: int = CITIZENS, events: int = EVENTS, name: str = SCALE_DATABASE
) -> str:
    """Make sure the scale database holds the population, the log and the records; returns its URL."""
    url = await ensure_database(server_url, name)
    conn = await connect(url, as_app=False)
    try:
        # Loading benchmark data: a lost last commit after a crash is simply generated again.
        await conn.execute("SET synchronous_commit = off")
        started = time.monotonic()
        added = await generate_people(conn, citizens=citizens)
        print(f"scale data: {added:,} people added ({time.monotonic() - started:.0f} s)", flush=True)
        ids = [row["person_id"] for row in await conn.fetch("SELECT person_id FROM people ORDER BY person_id")]
        events_added = await _fill_events(conn, ids, events)
        records_added = await _fill_records(conn, ids[:RECORD_CITIZENS])
        if added or events_added or records_added:
            # Fresh statistics for the planner, and a visibility map and hint bits set once here: otherwise the
            # first measured runs pay for them (index-only scans visiting the heap, reads that write).
            await conn.execute("VACUUM (ANALYZE)")
        total = await conn.fetchval("SELECT sum(last_seq) FROM access_log_heads")
        print(f"scale data: {len(ids):,} people, {total:,} access events ({time.monotonic() - started:.0f} s)")
    finally:
        await conn.close()
    return url


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m benchmarks.scale_data`: generate (or finish generating) the scale database."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale_data", description=__doc__)
    parser.add_argument("--citizens", type=int, default=CITIZENS)
    parser.add_argument("--events", type=int, default=EVENTS)
    parser.add_argument("--database", default=SCALE_DATABASE, help=f"database name (default {SCALE_DATABASE})")
    options = parser.parse_args(argv)
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        print("benchmarks: DATABASE_URL is not set (use `make bench`)", file=sys.stderr)
        return 2
    asyncio.run(
        ensure_scale_data(database_url, citizens=options.citizens, events=options.events, name=options.database)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
