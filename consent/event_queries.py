"""SQL for the mandate history: rows are only ever added (the database refuses any change)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from consent.schemas import EventKind


class MandateEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One named step in a mandate's history."""

    event_id: UUID
    mandate_id: UUID
    occurred_at: datetime
    kind: EventKind
    actor_side: str
    actor_person_id: UUID | None
    actor_org_id: UUID | None
    theme_code: str | None
    agent_ref: str | None
    reason: str | None


async def insert_event(
    conn: asyncpg.Connection,
    *,
    citizen_id: UUID,
    mandate_id: UUID,
    kind: EventKind,
    actor_side: str,
    occurred_at: datetime,
    actor_person_id: UUID | None = None,
    actor_org_id: UUID | None = None,
    theme_code: str | None = None,
    agent_ref: str | None = None,
    reason: str | None = None,
) -> None:
    """Append one event to a mandate's history."""
    await conn.execute(
        """
        INSERT INTO mandate_events (citizen_id, mandate_id, occurred_at, kind, actor_side, actor_person_id,
                                    actor_org_id, theme_code, agent_ref, reason)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        """,
        citizen_id,
        mandate_id,
        occurred_at,
        kind,
        actor_side,
        actor_person_id,
        actor_org_id,
        theme_code,
        agent_ref,
        reason,
    )


async def insert_system_events(
    conn: asyncpg.Connection, keys: Sequence[tuple[UUID, UUID]], *, kind: EventKind, occurred_at: datetime
) -> None:
    """Append the same system event (expiry, reminder) to many mandates at once."""
    await conn.execute(
        """
        INSERT INTO mandate_events (citizen_id, mandate_id, occurred_at, kind, actor_side)
        SELECT citizen_id, mandate_id, $3, $4, 'system'
        FROM unnest($1::uuid[], $2::uuid[]) AS k (citizen_id, mandate_id)
        """,
        [citizen for citizen, _ in keys],
        [mandate for _, mandate in keys],
        occurred_at,
        kind,
    )


async def select_events(conn: asyncpg.Connection, citizen_id: UUID, mandate_id: UUID) -> list[MandateEvent]:
    """A mandate's history, oldest first."""
    rows = await conn.fetch(
        """
        SELECT event_id, mandate_id, occurred_at, kind, actor_side, actor_person_id, actor_org_id, theme_code,
               agent_ref, reason
        FROM mandate_events WHERE citizen_id = $1 AND mandate_id = $2
        ORDER BY occurred_at, recorded_at
        """,
        citizen_id,
        mandate_id,
    )
    return [msgspec.convert(dict(row), MandateEvent) for row in rows]
