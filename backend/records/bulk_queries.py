"""Set-based SQL for a whole ingest batch: one statement per step instead of one per item."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID

import asyncpg
import msgspec

from backend.records.queries import IngestedRef
from backend.records.schemas import RecordStatus, StoredRecord


class RecordRows(msgspec.Struct, kw_only=True):
    """New records column by column (what unnest reads); `payloads` are JSON texts or None."""

    record_ids: list[UUID] = msgspec.field(default_factory=list)
    citizen_ids: list[UUID] = msgspec.field(default_factory=list)
    categories: list[str] = msgspec.field(default_factory=list)
    type_versions: list[int] = msgspec.field(default_factory=list)
    kinds: list[str] = msgspec.field(default_factory=list)
    statuses: list[str] = msgspec.field(default_factory=list)
    sources: list[str] = msgspec.field(default_factory=list)
    source_event_ids: list[str] = msgspec.field(default_factory=list)
    occurred_ats: list[datetime] = msgspec.field(default_factory=list)
    valid_froms: list[date | None] = msgspec.field(default_factory=list)
    valid_tos: list[date | None] = msgspec.field(default_factory=list)
    payloads: list[str | None] = msgspec.field(default_factory=list)
    supersedes: list[UUID | None] = msgspec.field(default_factory=list)


async def select_source_owners(conn: asyncpg.Connection, sources: Sequence[str]) -> dict[str, UUID]:
    """The owners of those event sources that have one."""
    rows = await conn.fetch("SELECT source, org_id FROM ingest_sources WHERE source = ANY($1::text[])", list(sources))
    return {row["source"]: row["org_id"] for row in rows}


async def claim_sources(conn: asyncpg.Connection, sources: Sequence[str], org_id: UUID) -> dict[str, UUID]:
    """Make an organisation the owner of new sources; returns each source's owner (the first claimant wins)."""
    await conn.execute(
        """
        INSERT INTO ingest_sources (source, org_id) SELECT s, $2 FROM unnest($1::text[]) AS s
        ON CONFLICT (source) DO NOTHING
        """,
        list(sources),
        org_id,
    )
    return await select_source_owners(conn, sources)


async def select_ingested_many(
    conn: asyncpg.Connection, sources: Sequence[str], event_ids: Sequence[str]
) -> dict[tuple[str, str], IngestedRef]:
    """The records that events (by source and id, pairwise) became, for those ingested before."""
    rows = await conn.fetch(
        """
        SELECT e.source, e.source_event_id, e.citizen_id, e.record_id
        FROM unnest($1::text[], $2::text[]) AS k(source, source_event_id)
        JOIN ingested_events AS e USING (source, source_event_id)
        """,
        list(sources),
        list(event_ids),
    )
    return {
        (row["source"], row["source_event_id"]): IngestedRef(citizen_id=row["citizen_id"], record_id=row["record_id"])
        for row in rows
    }


async def select_people_by_insz(conn: asyncpg.Connection, numbers: Sequence[str]) -> dict[str, UUID]:
    """The people who have (or had) these national numbers (eleven digits), by number."""
    rows = await conn.fetch(
        "SELECT insz::text AS insz, person_id FROM person_identifiers WHERE insz = ANY($1::bpchar[])", list(numbers)
    )
    return {row["insz"]: row["person_id"] for row in rows}


async def lock_records(
    conn: asyncpg.Connection, citizen_ids: Sequence[UUID], record_ids: Sequence[UUID]
) -> list[tuple[StoredRecord, str | None]]:
    """Records (pairwise keys), locked until the end of the transaction, each with its successor's event id."""
    rows = await conn.fetch(
        """
        SELECT r.citizen_id, r.record_id, r.category, r.type_version, r.kind, r.status, r.source,
               r.source_event_id, r.occurred_at, r.valid_from, r.valid_to, r.payload, r.supersedes, r.received_at,
               s.source_event_id AS successor
        FROM records AS r
        LEFT JOIN records AS s ON s.citizen_id = r.citizen_id AND s.supersedes = r.record_id
        WHERE (r.citizen_id, r.record_id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[]))
        ORDER BY r.citizen_id, r.record_id
        FOR UPDATE OF r
        """,
        list(citizen_ids),
        list(record_ids),
    )
    found = []
    for row in rows:
        values = dict(row)
        successor = values.pop("successor")
        found.append((msgspec.convert(values, StoredRecord), None if successor is None else str(successor)))
    return found


async def insert_records(conn: asyncpg.Connection, rows: RecordRows, producer_org_id: UUID) -> datetime:
    """Store new records and remember which record each event became, in one statement (a correction may
    supersede a record earlier in the same rows; a repeated event violates the primary key); returns the time
    the records were received (`now()`, the same for every row of the transaction).

    Nothing else is returned: the caller knows every stored value already, and sending the rows back (the
    payloads printed from jsonb and parsed again) cost the server and the client more than the inserts. The
    idempotency rows read the same arrays; their foreign key to records is checked at the end of the statement,
    when every record is in.
    """
    received_at = await conn.fetchval(
        """
        WITH new AS (
            INSERT INTO records (record_id, citizen_id, category, type_version, kind, status, producer_org_id,
                                 source, source_event_id, occurred_at, valid_from, valid_to, payload, supersedes)
            SELECT n.record_id, n.citizen_id, n.category, n.type_version, n.kind, n.status, $14, n.source,
                   n.source_event_id, n.occurred_at, n.valid_from, n.valid_to, n.payload::jsonb, n.supersedes
            FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::integer[], $5::text[], $6::text[], $7::text[],
                        $8::text[], $9::timestamptz[], $10::date[], $11::date[], $12::text[], $13::uuid[])
                 AS n(record_id, citizen_id, category, type_version, kind, status, source, source_event_id,
                      occurred_at, valid_from, valid_to, payload, supersedes)
        ), remembered AS (
            INSERT INTO ingested_events (source, source_event_id, citizen_id, record_id)
            SELECT * FROM unnest($7::text[], $8::text[], $2::uuid[], $1::uuid[])
        )
        SELECT now()
        """,
        rows.record_ids,
        rows.citizen_ids,
        rows.categories,
        rows.type_versions,
        rows.kinds,
        rows.statuses,
        rows.sources,
        rows.source_event_ids,
        rows.occurred_ats,
        rows.valid_froms,
        rows.valid_tos,
        rows.payloads,
        rows.supersedes,
        producer_org_id,
    )
    assert isinstance(received_at, datetime)
    return received_at


async def update_record_statuses(
    conn: asyncpg.Connection, citizen_ids: Sequence[UUID], record_ids: Sequence[UUID], statuses: Sequence[RecordStatus]
) -> int:
    """Mark active records corrected or cancelled (pairwise); how many were still active."""
    result = await conn.execute(
        """
        UPDATE records AS r SET status = u.status
        FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS u(citizen_id, record_id, status)
        WHERE r.citizen_id = u.citizen_id AND r.record_id = u.record_id AND r.status = 'active'
        """,
        list(citizen_ids),
        list(record_ids),
        list(statuses),
    )
    return int(result.split()[-1])


async def lock_flexi_counters(conn: asyncpg.Connection, keys: Sequence[tuple[UUID, int]]) -> None:
    """Hold counters until the end of the transaction, taking the locks in the order given (the same lock as
    queries.lock_flexi_counter, so single and set-based writers wait on each other)."""
    await conn.execute(
        "SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) FROM unnest($1::text[]) AS k",
        [f"flexi_counter:{citizen_id}:{income_year}" for citizen_id, income_year in keys],
    )


async def refresh_flexi_counters(conn: asyncpg.Connection, keys: Sequence[tuple[UUID, int]]) -> None:
    """Recompute several counters from the active flexi_wages records of their years, and store them (nothing
    is sent back: whoever needs a counter reads it, and most ingests need none)."""
    await conn.execute(
        """
        INSERT INTO flexi_counters (citizen_id, income_year, total_cents, last_declared_month, as_of)
        SELECT w.citizen_id, w.income_year,
               COALESCE(sum((r.payload ->> 'amount_cents')::bigint) FILTER (WHERE r.status = 'active'), 0),
               max(r.payload ->> 'month') FILTER (WHERE r.status = 'active'),
               COALESCE(max(r.occurred_at), now())
        FROM unnest($1::uuid[], $2::integer[]) AS w(citizen_id, income_year)
        LEFT JOIN records AS r
               ON r.citizen_id = w.citizen_id AND r.category = 'flexi_wages'
              AND r.valid_from >= make_date(w.income_year, 1, 1) AND r.valid_from < make_date(w.income_year + 1, 1, 1)
        GROUP BY w.citizen_id, w.income_year
        ON CONFLICT (citizen_id, income_year) DO UPDATE
            SET total_cents = EXCLUDED.total_cents, last_declared_month = EXCLUDED.last_declared_month,
                as_of = EXCLUDED.as_of
        """,
        [citizen_id for citizen_id, _ in keys],
        [income_year for _, income_year in keys],
    )
