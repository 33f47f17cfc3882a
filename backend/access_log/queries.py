"""SQL for the access log: one typed function per statement, the connection first."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from backend.access_log.schemas import AccessEvent

_SELECT_EVENT = """
    SELECT citizen_id, seq, event_id, occurred_at, logged_at, actor_kind, actor_org_id, actor_client_id,
           actor_system, actor_role, actor_ref, mandate_id, purpose_code, legal_basis_ref, categories,
           record_refs, case_ref, channel, action, outcome, reason, source, source_event_id, prev_hash, hash
    FROM access_events
"""


def _event(row: asyncpg.Record) -> AccessEvent:
    return msgspec.convert(dict(row), AccessEvent)


async def lock_head(conn: asyncpg.Connection, citizen_id: UUID, genesis: bytes) -> tuple[int, bytes, datetime]:
    """Lock the citizen's chain head (creating it at the genesis) and return last seq, last hash and now()."""
    row = await conn.fetchrow(
        """
        INSERT INTO access_log_heads AS h (citizen_id, last_seq, last_hash) VALUES ($1, 0, $2)
        ON CONFLICT (citizen_id) DO UPDATE SET citizen_id = h.citizen_id
        RETURNING last_seq, last_hash, now() AS now
        """,
        citizen_id,
        genesis,
    )
    assert row is not None
    return int(row["last_seq"]), bytes(row["last_hash"]), row["now"]


async def append_event(conn: asyncpg.Connection, event: AccessEvent) -> None:
    """Insert the event and move the head to it (adding its organisation to the head's), in one statement."""
    await conn.execute(
        """
        WITH added AS (
            INSERT INTO access_events (
                citizen_id, seq, event_id, occurred_at, logged_at, actor_kind, actor_org_id, actor_client_id,
                actor_system, actor_role, actor_ref, mandate_id, purpose_code, legal_basis_ref, categories,
                record_refs, case_ref, channel, action, outcome, reason, source, source_event_id, prev_hash, hash
            ) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
                      $21, $22, $23, $24, $25)
            RETURNING citizen_id, seq, hash, actor_org_id
        )
        UPDATE access_log_heads AS h
        SET last_seq = added.seq, last_hash = added.hash, updated_at = now(),
            org_ids = CASE
                WHEN added.actor_org_id IS NULL OR added.actor_org_id = ANY (h.org_ids) THEN h.org_ids
                ELSE h.org_ids || added.actor_org_id
            END
        FROM added WHERE h.citizen_id = added.citizen_id
        """,
        event.citizen_id,
        event.seq,
        event.event_id,
        event.occurred_at,
        event.logged_at,
        event.actor_kind,
        event.actor_org_id,
        event.actor_client_id,
        event.actor_system,
        event.actor_role,
        event.actor_ref,
        event.mandate_id,
        event.purpose_code,
        event.legal_basis_ref,
        event.categories,
        event.record_refs,
        event.case_ref,
        event.channel,
        event.action,
        event.outcome,
        event.reason,
        event.source,
        event.source_event_id,
        event.prev_hash,
        event.hash,
    )


async def select_chain(conn: asyncpg.Connection, citizen_id: UUID) -> list[AccessEvent]:
    """A citizen's whole chain in sequence order (verification)."""
    rows = await conn.fetch(_SELECT_EVENT + " WHERE citizen_id = $1 ORDER BY seq", citizen_id)
    return [_event(row) for row in rows]


async def select_head(conn: asyncpg.Connection, citizen_id: UUID) -> tuple[int, bytes] | None:
    """The citizen's chain head without locking it."""
    row = await conn.fetchrow("SELECT last_seq, last_hash FROM access_log_heads WHERE citizen_id = $1", citizen_id)
    return None if row is None else (int(row["last_seq"]), bytes(row["last_hash"]))


async def select_head_with_organisations(
    conn: asyncpg.Connection, citizen_id: UUID
) -> tuple[tuple[int, bytes], list[UUID]] | None:
    """The citizen's chain head (last seq, last hash) and the organisations it keeps (migration 0014, in order of
    first appearance), read together without locking (verification)."""
    row = await conn.fetchrow(
        "SELECT last_seq, last_hash, org_ids FROM access_log_heads WHERE citizen_id = $1", citizen_id
    )
    return None if row is None else ((int(row[0]), bytes(row[1])), list(row[2]))


async def select_citizens_with_log(conn: asyncpg.Connection, *, after: UUID | None, limit: int) -> list[UUID]:
    """Citizens who have a log, in id order, for walking every chain in pages."""
    rows = await conn.fetch(
        """
        SELECT citizen_id FROM access_log_heads
        WHERE $1::uuid IS NULL OR citizen_id > $1
        ORDER BY citizen_id LIMIT $2
        """,
        after,
        limit,
    )
    return [row["citizen_id"] for row in rows]


async def select_events_page(
    conn: asyncpg.Connection, citizen_id: UUID, *, before_seq: int | None, limit: int
) -> list[AccessEvent]:
    """A citizen's events, newest first, after a keyset cursor (the last seq of the previous page)."""
    rows = await conn.fetch(
        _SELECT_EVENT
        + """
        WHERE citizen_id = $1 AND ($2::bigint IS NULL OR seq < $2)
        ORDER BY seq DESC LIMIT $3
        """,
        citizen_id,
        before_seq,
        limit,
    )
    return [_event(row) for row in rows]


async def select_reported(
    conn: asyncpg.Connection, citizen_id: UUID, source: str, source_event_id: str
) -> tuple[UUID, int] | None:
    """The event already stored for a reported access (idempotency by source and id)."""
    row = await conn.fetchrow(
        """
        SELECT event_id, seq FROM reported_access_ids
        WHERE citizen_id = $1 AND source = $2 AND source_event_id = $3
        """,
        citizen_id,
        source,
        source_event_id,
    )
    return None if row is None else (row["event_id"], int(row["seq"]))


async def insert_reported(
    conn: asyncpg.Connection, citizen_id: UUID, source: str, source_event_id: str, event_id: UUID, seq: int
) -> None:
    """Remember which event a reported access became."""
    await conn.execute(
        """
        INSERT INTO reported_access_ids (citizen_id, source, source_event_id, event_id, seq)
        VALUES ($1, $2, $3, $4, $5)
        """,
        citizen_id,
        source,
        source_event_id,
        event_id,
        seq,
    )


async def create_partition(conn: asyncpg.Connection, day: datetime) -> str:
    """Create the month's partition if it is missing; returns its name."""
    return str(await conn.fetchval("SELECT vitrine_create_access_partition($1::date)", day.date()))
