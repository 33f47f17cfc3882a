"""SQL for the citizen's joined timeline: their mandates' history and the accesses to their data, each newest
first below the same keyset cursor (occurred_at, recorded, event_id), so that the two merge into one exact order.

`recorded` is when the row was written (a mandate event's recorded_at, an access's logged_at): it keeps the steps
of one transaction, which share their occurred_at, in the order they were taken.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from backend.access_log.event_rows import log_row
from backend.access_log.view_queries import LogRow
from consent.schemas import EventKind

Cursor = tuple[datetime, datetime, UUID]


class TimelineMandateEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One step of one of the citizen's mandates, with the names of the mandatary."""

    event_id: UUID
    mandate_id: UUID
    occurred_at: datetime
    recorded_at: datetime
    kind: EventKind
    actor_side: str
    theme_code: str | None
    agent_ref: str | None
    reason: str | None
    mandatary_person_id: UUID | None
    mandatary_org_id: UUID | None
    mandatary_person_name: str | None
    org_name_nl: str | None
    org_name_fr: str | None
    org_name_de: str | None


async def select_mandate_events(
    conn: asyncpg.Connection, citizen_id: UUID, *, before: Cursor | None, limit: int
) -> list[TimelineMandateEvent]:
    """The history of all the citizen's mandates, newest first, below the cursor."""
    rows = await conn.fetch(
        """
        SELECT e.event_id, e.mandate_id, e.occurred_at, e.recorded_at, e.kind, e.actor_side, e.theme_code,
               e.agent_ref, e.reason, m.mandatary_person_id, m.mandatary_org_id,
               mp.given_name || ' ' || mp.family_name AS mandatary_person_name,
               o.name_nl AS org_name_nl, o.name_fr AS org_name_fr, o.name_de AS org_name_de
        FROM mandate_events AS e
        JOIN mandates AS m ON m.citizen_id = e.citizen_id AND m.mandate_id = e.mandate_id
        LEFT JOIN people AS mp ON mp.person_id = m.mandatary_person_id
        LEFT JOIN organisations AS o ON o.org_id = m.mandatary_org_id
        WHERE e.citizen_id = $1
          AND ($2::timestamptz IS NULL OR (e.occurred_at, e.recorded_at, e.event_id) < ($2, $3::timestamptz, $4::uuid))
        ORDER BY e.occurred_at DESC, e.recorded_at DESC, e.event_id DESC
        LIMIT $5
        """,
        citizen_id,
        *(before or (None, None, None)),
        limit,
    )
    return [msgspec.convert(dict(row), TimelineMandateEvent) for row in rows]


async def select_access_events(
    conn: asyncpg.Connection,
    citizen_id: UUID,
    *,
    helpers: bool | None,
    before: Cursor | None,
    limit: int,
) -> list[LogRow]:
    """The accesses to the citizen's data, newest first, below the cursor: by helpers and agents only
    (`helpers=True`), by everyone else only (`False`), or all (`None`)."""
    rows = await conn.fetch(
        """
        SELECT e.citizen_id, e.seq, e.event_id, e.occurred_at, e.logged_at, e.actor_kind, e.actor_org_id,
               e.actor_client_id, e.actor_system, e.actor_role, e.actor_ref, e.mandate_id, e.purpose_code,
               e.legal_basis_ref, e.categories, e.record_refs, e.case_ref, e.channel, e.action, e.outcome, e.reason,
               e.source, e.source_event_id, e.prev_hash, e.hash, o.org_id AS o_org_id, o.kbo AS o_kbo,
               o.kind AS o_kind, o.code AS o_code, o.name_nl AS o_name_nl, o.name_fr AS o_name_fr,
               o.name_de AS o_name_de
        FROM access_events AS e
        LEFT JOIN organisations AS o ON o.org_id = e.actor_org_id
        WHERE e.citizen_id = $1
          AND ($2::boolean IS NULL OR (e.actor_kind IN ('helper', 'agent')) = $2)
          AND ($3::timestamptz IS NULL OR (e.occurred_at, e.logged_at, e.event_id) < ($3, $4::timestamptz, $5::uuid))
        ORDER BY e.occurred_at DESC, e.logged_at DESC, e.event_id DESC
        LIMIT $6
        """,
        citizen_id,
        helpers,
        *(before or (None, None, None)),
        limit,
    )
    return [log_row(row) for row in rows]
