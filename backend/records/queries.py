"""SQL for records, ingested events, event sources and flexi counters: one typed function per statement."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final
from uuid import UUID

import asyncpg
import msgspec

from backend.records.schemas import FlexiCounter, NewRecord, RecordStatus, StoredRecord

_RECORD_COLUMNS: Final = """
    citizen_id, record_id, category, type_version, kind, status, source, source_event_id, occurred_at, valid_from,
    valid_to, payload, supersedes, received_at
"""
_SELECT_RECORD: Final = "SELECT" + _RECORD_COLUMNS + "FROM records"


class IngestedRef(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """Where an ingested event went: whose record, which one."""

    citizen_id: UUID
    record_id: UUID


def _record(row: asyncpg.Record) -> StoredRecord:
    return msgspec.convert(dict(row), StoredRecord)


async def select_ingested(conn: asyncpg.Connection, source: str, source_event_id: str) -> IngestedRef | None:
    """The record an event (by source and id) became, if it was ingested before."""
    row = await conn.fetchrow(
        "SELECT citizen_id, record_id FROM ingested_events WHERE source = $1 AND source_event_id = $2",
        source,
        source_event_id,
    )
    return None if row is None else msgspec.convert(dict(row), IngestedRef)


async def insert_ingested(
    conn: asyncpg.Connection, source: str, source_event_id: str, citizen_id: UUID, record_id: UUID
) -> None:
    """Remember which record an event became (a repeat violates the primary key)."""
    await conn.execute(
        "INSERT INTO ingested_events (source, source_event_id, citizen_id, record_id) VALUES ($1, $2, $3, $4)",
        source,
        source_event_id,
        citizen_id,
        record_id,
    )


async def select_source_owner(conn: asyncpg.Connection, source: str) -> UUID | None:
    """The organisation that owns an event source, or None for a source not seen yet."""
    value = await conn.fetchval("SELECT org_id FROM ingest_sources WHERE source = $1", source)
    return None if value is None else UUID(str(value))


async def claim_source(conn: asyncpg.Connection, source: str, org_id: UUID) -> UUID:
    """Make an organisation the owner of a new source; returns the owner (the first claimant wins)."""
    await conn.execute(
        "INSERT INTO ingest_sources (source, org_id) VALUES ($1, $2) ON CONFLICT (source) DO NOTHING", source, org_id
    )
    owner = await select_source_owner(conn, source)
    assert owner is not None
    return owner


async def insert_record(conn: asyncpg.Connection, record: NewRecord) -> StoredRecord:
    """Store a record and return it as stored."""
    row = await conn.fetchrow(
        """
        INSERT INTO records (citizen_id, category, type_version, kind, status, producer_org_id, source,
                             source_event_id, occurred_at, valid_from, valid_to, payload, supersedes)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
        RETURNING citizen_id, record_id, category, type_version, kind, status, source, source_event_id,
                  occurred_at, valid_from, valid_to, payload, supersedes, received_at
        """,
        record.citizen_id,
        record.category,
        record.type_version,
        record.kind,
        record.status,
        record.producer_org_id,
        record.source,
        record.source_event_id,
        record.occurred_at,
        record.valid_from,
        record.valid_to,
        record.payload,
        record.supersedes,
    )
    assert row is not None
    return _record(row)


async def lock_record(conn: asyncpg.Connection, citizen_id: UUID, record_id: UUID) -> StoredRecord | None:
    """A person's record, locked until the end of the transaction (a correction changes its status)."""
    row = await conn.fetchrow(
        _SELECT_RECORD + " WHERE citizen_id = $1 AND record_id = $2 FOR UPDATE",
        citizen_id,
        record_id,
    )
    return None if row is None else _record(row)


async def update_record_status(
    conn: asyncpg.Connection, citizen_id: UUID, record_id: UUID, status: RecordStatus
) -> bool:
    """Mark an active record corrected or cancelled; False when it was no longer active."""
    result = await conn.execute(
        "UPDATE records SET status = $3 WHERE citizen_id = $1 AND record_id = $2 AND status = 'active'",
        citizen_id,
        record_id,
        status,
    )
    return result.split()[-1] == "1"


async def select_successor_event_id(conn: asyncpg.Connection, citizen_id: UUID, record_id: UUID) -> str | None:
    """The event id of the record that corrected or cancelled a record (to point the producer at it)."""
    value = await conn.fetchval(
        "SELECT source_event_id FROM records WHERE citizen_id = $1 AND supersedes = $2", citizen_id, record_id
    )
    return None if value is None else str(value)


async def select_active_records(
    conn: asyncpg.Connection, citizen_id: UUID, categories: Sequence[str]
) -> list[StoredRecord]:
    """A person's records that count now, in the given categories, oldest period first."""
    rows = await conn.fetch(
        _SELECT_RECORD
        + """
        WHERE citizen_id = $1 AND category = ANY($2::text[]) AND status = 'active'
        ORDER BY category, valid_from NULLS FIRST, occurred_at, record_id
        """,
        citizen_id,
        list(categories),
    )
    return [_record(row) for row in rows]


async def select_records(conn: asyncpg.Connection, citizen_id: UUID) -> list[StoredRecord]:
    """Every record of a person, corrected and cancelled ones included, newest first (their own view)."""
    rows = await conn.fetch(
        _SELECT_RECORD + " WHERE citizen_id = $1 ORDER BY received_at DESC, record_id",
        citizen_id,
    )
    return [_record(row) for row in rows]


async def lock_flexi_counter(conn: asyncpg.Connection, citizen_id: UUID, income_year: int) -> None:
    """Hold one counter until the end of the transaction, so that a concurrent ingest recomputes it only after
    this one commits, and then sees this one's records (each statement reads what was committed when it began)."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"flexi_counter:{citizen_id}:{income_year}"
    )


async def refresh_flexi_counter(conn: asyncpg.Connection, citizen_id: UUID, income_year: int) -> FlexiCounter:
    """Recompute a person's flexi counter for a year from the active flexi_wages records, and store it."""
    row = await conn.fetchrow(
        """
        WITH year_records AS (
            SELECT status, payload, occurred_at FROM records
            WHERE citizen_id = $1 AND category = 'flexi_wages'
              AND valid_from >= make_date($2, 1, 1) AND valid_from < make_date($2 + 1, 1, 1)
        )
        INSERT INTO flexi_counters (citizen_id, income_year, total_cents, last_declared_month, as_of)
        SELECT $1, $2,
               COALESCE(sum((payload ->> 'amount_cents')::bigint) FILTER (WHERE status = 'active'), 0),
               max(payload ->> 'month') FILTER (WHERE status = 'active'),
               COALESCE(max(occurred_at), now())
        FROM year_records
        ON CONFLICT (citizen_id, income_year) DO UPDATE
            SET total_cents = EXCLUDED.total_cents, last_declared_month = EXCLUDED.last_declared_month,
                as_of = EXCLUDED.as_of
        RETURNING citizen_id, income_year, total_cents, last_declared_month, as_of
        """,
        citizen_id,
        income_year,
    )
    assert row is not None
    return msgspec.convert(dict(row), FlexiCounter)


async def select_flexi_counter(conn: asyncpg.Connection, citizen_id: UUID, income_year: int) -> FlexiCounter | None:
    """A person's flexi counter for an income year, if any flexi wage was declared for it."""
    row = await conn.fetchrow(
        """
        SELECT citizen_id, income_year, total_cents, last_declared_month, as_of
        FROM flexi_counters WHERE citizen_id = $1 AND income_year = $2
        """,
        citizen_id,
        income_year,
    )
    return None if row is None else msgspec.convert(dict(row), FlexiCounter)


async def select_flexi_counters(
    conn: asyncpg.Connection, keys: Sequence[tuple[UUID, int]]
) -> dict[tuple[UUID, int], FlexiCounter]:
    """Several counters (by person and income year) in one statement; a key without a counter is left out."""
    rows = await conn.fetch(
        """
        SELECT c.citizen_id, c.income_year, c.total_cents, c.last_declared_month, c.as_of
        FROM unnest($1::uuid[], $2::integer[]) AS k(citizen_id, income_year)
        JOIN flexi_counters AS c USING (citizen_id, income_year)
        """,
        [citizen_id for citizen_id, _ in keys],
        [income_year for _, income_year in keys],
    )
    # Built directly (the columns are the table's own, already typed): converting each row cost more than reading it.
    return {
        (row[0], row[1]): FlexiCounter(
            citizen_id=row[0], income_year=row[1], total_cents=row[2], last_declared_month=row[3], as_of=row[4]
        )
        for row in rows
    }
