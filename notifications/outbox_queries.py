"""SQL for the notification outbox: one typed function per statement."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final
from uuid import UUID

import asyncpg
import msgspec

from notifications.schemas import OutboxEntry

_SELECT_OUTBOX: Final = (
    "SELECT citizen_id, outbox_id, kind, dedup_key, payload, created_at, enqueued_at FROM notification_outbox"
)


async def insert_outbox(
    conn: asyncpg.Connection, *, citizen_id: UUID, kind: str, dedup_key: str, payload: dict[str, Any]
) -> UUID | None:
    """Write an outbox row; None when the person already has one with this deduplication key."""
    value = await conn.fetchval(
        """
        INSERT INTO notification_outbox (citizen_id, kind, dedup_key, payload)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (citizen_id, dedup_key) DO NOTHING
        RETURNING outbox_id
        """,
        citizen_id,
        kind,
        dedup_key,
        payload,
    )
    return None if value is None else UUID(str(value))


async def claim_waiting(conn: asyncpg.Connection, *, limit: int) -> list[OutboxEntry]:
    """Lock up to `limit` rows not relayed yet, oldest first, skipping rows another relay holds."""
    rows = await conn.fetch(
        _SELECT_OUTBOX
        + """
        WHERE enqueued_at IS NULL
        ORDER BY created_at, citizen_id, outbox_id
        LIMIT $1
        FOR UPDATE SKIP LOCKED
        """,
        limit,
    )
    return [msgspec.convert(dict(row), OutboxEntry) for row in rows]


async def update_enqueued(conn: asyncpg.Connection, citizen_id: UUID, outbox_id: UUID) -> bool:
    """Mark a row relayed (once)."""
    status = await conn.execute(
        """
        UPDATE notification_outbox SET enqueued_at = now()
        WHERE citizen_id = $1 AND outbox_id = $2 AND enqueued_at IS NULL
        """,
        citizen_id,
        outbox_id,
    )
    return status == "UPDATE 1"


async def update_enqueued_many(conn: asyncpg.Connection, rows: Sequence[tuple[UUID, UUID]]) -> int:
    """Mark rows relayed (once), given as (person, outbox id); how many."""
    status = await conn.execute(
        """
        UPDATE notification_outbox AS o SET enqueued_at = now()
        FROM unnest($1::uuid[], $2::uuid[]) AS r (citizen_id, outbox_id)
        WHERE o.citizen_id = r.citizen_id AND o.outbox_id = r.outbox_id AND o.enqueued_at IS NULL
        """,
        [citizen_id for citizen_id, _ in rows],
        [outbox_id for _, outbox_id in rows],
    )
    return int(status.split()[-1])


async def select_existing_keys(conn: asyncpg.Connection, citizen_id: UUID, keys: Sequence[str]) -> set[str]:
    """Which of these deduplication keys the person's outbox already holds."""
    rows = await conn.fetch(
        "SELECT dedup_key FROM notification_outbox WHERE citizen_id = $1 AND dedup_key = ANY($2::text[])",
        citizen_id,
        list(keys),
    )
    return {str(row["dedup_key"]) for row in rows}


async def count_waiting(conn: asyncpg.Connection) -> int:
    """How many rows wait for the relay (operations view)."""
    return int(await conn.fetchval("SELECT count(*) FROM notification_outbox WHERE enqueued_at IS NULL"))
