"""SQL for anomaly flags and access alerts: one typed function per statement, the connection first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from backend.access_log.event_rows import log_row
from backend.access_log.schemas import AccessEvent
from backend.access_log.view_queries import LogRow


async def select_institution_seen_before(conn: asyncpg.Connection, citizen_id: UUID, org_id: UUID, seq: int) -> bool:
    """True when the organisation appears in the citizen's log before the event at seq (any outcome)."""
    # The head keeps the log's organisations in order of first appearance, and an append only ever adds its own
    # at the end (migration 0014). So when the event is the last one and its organisation is in the list but not
    # last, the organisation was there before it: answered from the head row alone. Otherwise (its organisation
    # is the newest one in the list, or later events followed) the events themselves are searched; CASE runs
    # that search only then.
    return bool(
        await conn.fetchval(
            """
            SELECT CASE
                WHEN h.last_seq = $3 AND $2 = ANY (h.org_ids) AND h.org_ids[cardinality(h.org_ids)] <> $2 THEN true
                ELSE EXISTS (
                    SELECT 1 FROM access_events AS e WHERE e.citizen_id = $1 AND e.actor_org_id = $2 AND e.seq < $3
                )
            END
            FROM access_log_heads AS h
            WHERE h.citizen_id = $1
            """,
            citizen_id,
            org_id,
            seq,
        )
    )


async def select_purpose_categories(conn: asyncpg.Connection, org_id: UUID, code: str) -> list[str] | None:
    """The categories an organisation's active purpose covers, or None when no such purpose is registered."""
    value = await conn.fetchval(
        "SELECT categories FROM purposes WHERE org_id = $1 AND code = $2 AND active", org_id, code
    )
    return None if value is None else list(value)


async def count_actor_events(conn: asyncpg.Connection, actor_ref: str, *, after: datetime, until: datetime) -> int:
    """Events by one pseudonymous person, across every citizen, that occurred in (after, until]."""
    return int(
        await conn.fetchval(
            """
            SELECT count(*) FROM access_events
            WHERE actor_ref = $1 AND occurred_at > $2 AND occurred_at <= $3
            """,
            actor_ref,
            after,
            until,
        )
    )


async def insert_flags(conn: asyncpg.Connection, event: AccessEvent, flags: Sequence[str]) -> list[str]:
    """Store the event's flags; returns those that were new (flagging the same event twice adds nothing)."""
    rows = await conn.fetch(
        """
        INSERT INTO access_event_flags (citizen_id, seq, flag, event_id, logged_at, occurred_at)
        SELECT $1, $2, flag, $3, $4, $5 FROM unnest($6::text[]) AS flag
        ON CONFLICT (citizen_id, seq, flag) DO NOTHING
        RETURNING flag
        """,
        event.citizen_id,
        event.seq,
        event.event_id,
        event.logged_at,
        event.occurred_at,
        list(flags),
    )
    return [str(row["flag"]) for row in rows]


async def select_event_flags(conn: asyncpg.Connection, citizen_id: UUID, seq: int) -> list[str]:
    """The flags raised on one event, by name."""
    rows = await conn.fetch(
        "SELECT flag FROM access_event_flags WHERE citizen_id = $1 AND seq = $2 ORDER BY flag", citizen_id, seq
    )
    return [str(row["flag"]) for row in rows]


async def select_alerts_enabled(conn: asyncpg.Connection, citizen_id: UUID) -> bool:
    """The citizen's opt-in for access alerts (off until they turn it on)."""
    value = await conn.fetchval("SELECT enabled FROM access_alert_preferences WHERE citizen_id = $1", citizen_id)
    return bool(value)


async def upsert_alerts_enabled(conn: asyncpg.Connection, citizen_id: UUID, enabled: bool) -> None:
    """Turn the citizen's access alerts on or off."""
    await conn.execute(
        """
        INSERT INTO access_alert_preferences (citizen_id, enabled) VALUES ($1, $2)
        ON CONFLICT (citizen_id) DO UPDATE SET enabled = EXCLUDED.enabled, updated_at = now()
        """,
        citizen_id,
        enabled,
    )


async def insert_alerts(conn: asyncpg.Connection, citizen_id: UUID, seq: int, flags: Sequence[str]) -> int:
    """Record the alerts owed for an event's flags (each at most once); returns how many were new."""
    result = await conn.execute(
        """
        INSERT INTO access_alerts (citizen_id, seq, flag)
        SELECT $1, $2, flag FROM unnest($3::text[]) AS flag
        ON CONFLICT (citizen_id, seq, flag) DO NOTHING
        """,
        citizen_id,
        seq,
        list(flags),
    )
    return int(result.split()[-1])


async def select_pending_alerts(conn: asyncpg.Connection, citizen_id: UUID, *, limit: int) -> list[tuple[LogRow, str]]:
    """The citizen's alerts not yet delivered, newest first, each with its event and flag."""
    rows = await conn.fetch(
        """
        SELECT a.flag AS alert_flag,
               e.citizen_id, e.seq, e.event_id, e.occurred_at, e.logged_at, e.actor_kind, e.actor_org_id,
               e.actor_client_id, e.actor_system, e.actor_role, e.actor_ref, e.mandate_id, e.purpose_code,
               e.legal_basis_ref, e.categories, e.record_refs, e.case_ref, e.channel, e.action, e.outcome, e.reason,
               e.source, e.source_event_id, e.prev_hash, e.hash, o.org_id AS o_org_id, o.kbo AS o_kbo,
               o.kind AS o_kind, o.code AS o_code, o.name_nl AS o_name_nl, o.name_fr AS o_name_fr,
               o.name_de AS o_name_de
        FROM access_alerts AS a
        JOIN access_event_flags AS f USING (citizen_id, seq, flag)
        JOIN access_events AS e ON e.citizen_id = f.citizen_id AND e.seq = f.seq AND e.logged_at = f.logged_at
        LEFT JOIN organisations AS o ON o.org_id = e.actor_org_id
        WHERE a.citizen_id = $1 AND a.delivered_at IS NULL
        ORDER BY a.created_at DESC, a.seq DESC, a.flag
        LIMIT $2
        """,
        citizen_id,
        limit,
    )
    return [(log_row(row), str(row["alert_flag"])) for row in rows]


class FlagCursor(msgspec.Struct, frozen=True):
    """Where a page of flagged events ends: the last event's flagging time, citizen and seq (the list's order)."""

    raised_at: datetime
    citizen_id: UUID
    seq: int


async def select_flagged_events(
    conn: asyncpg.Connection,
    *,
    flag: str | None,
    limit: int,
    actor_org_id: UUID | None = None,
    before: FlagCursor | None = None,
) -> list[tuple[LogRow, list[str], FlagCursor]]:
    """Flagged events across citizens, most recently flagged first, each with all its flags and its place in the
    list; `flag` narrows, and so does `actor_org_id` (only that organisation's accesses:
    backend.access_log.review_scope); `before` pages on from where an earlier page ended (keyset, never OFFSET).
    """
    # The flags of one event are raised together, in one transaction, so they share raised_at, and the newest
    # 5 × limit flags hold the newest `limit` flagged events. Both the inner scan and the list are ordered by
    # (raised_at, citizen_id, seq), newest first: a bulk ingest flags many events at the very same time, and only
    # a total order lets the next page start exactly where this one stopped. The scan follows an index on
    # raised_at (the organisation's events are found by following it too, each flag joined to its event by
    # primary key).
    rows = await conn.fetch(
        """
        WITH picked AS (
            SELECT citizen_id, seq, logged_at, max(raised_at) AS raised_at
            FROM (
                SELECT f.citizen_id, f.seq, f.logged_at, f.raised_at FROM access_event_flags AS f
                WHERE ($1::text IS NULL OR f.flag = $1)
                  AND ($4::timestamptz IS NULL OR (f.raised_at, f.citizen_id, f.seq) < ($4, $5::uuid, $6::bigint))
                  AND ($3::uuid IS NULL OR EXISTS (
                      SELECT FROM access_events AS scoped
                      WHERE scoped.citizen_id = f.citizen_id AND scoped.seq = f.seq
                        AND scoped.logged_at = f.logged_at AND scoped.actor_org_id = $3
                  ))
                ORDER BY f.raised_at DESC, f.citizen_id DESC, f.seq DESC
                LIMIT $2 * 5
            ) AS recent
            GROUP BY citizen_id, seq, logged_at
            ORDER BY max(raised_at) DESC, citizen_id DESC, seq DESC
            LIMIT $2
        )
        SELECT (
                SELECT array_agg(f.flag ORDER BY f.flag) FROM access_event_flags AS f
                WHERE f.citizen_id = picked.citizen_id AND f.seq = picked.seq
            ) AS flags, picked.raised_at AS flags_raised_at,
               e.citizen_id, e.seq, e.event_id, e.occurred_at, e.logged_at, e.actor_kind, e.actor_org_id,
               e.actor_client_id, e.actor_system, e.actor_role, e.actor_ref, e.mandate_id, e.purpose_code,
               e.legal_basis_ref, e.categories, e.record_refs, e.case_ref, e.channel, e.action, e.outcome, e.reason,
               e.source, e.source_event_id, e.prev_hash, e.hash, o.org_id AS o_org_id, o.kbo AS o_kbo,
               o.kind AS o_kind, o.code AS o_code, o.name_nl AS o_name_nl, o.name_fr AS o_name_fr,
               o.name_de AS o_name_de
        FROM picked
        JOIN access_events AS e
            ON e.citizen_id = picked.citizen_id AND e.seq = picked.seq AND e.logged_at = picked.logged_at
        LEFT JOIN organisations AS o ON o.org_id = e.actor_org_id
        ORDER BY picked.raised_at DESC, e.citizen_id DESC, e.seq DESC
        """,
        flag,
        limit,
        actor_org_id,
        None if before is None else before.raised_at,
        None if before is None else before.citizen_id,
        None if before is None else before.seq,
    )
    return [
        (log_row(row), list(row["flags"]), FlagCursor(row["flags_raised_at"], row["citizen_id"], row["seq"]))
        for row in rows
    ]


__all__ = [
    "FlagCursor",
    "count_actor_events",
    "insert_alerts",
    "insert_flags",
    "select_alerts_enabled",
    "select_event_flags",
    "select_flagged_events",
    "select_institution_seen_before",
    "select_pending_alerts",
    "select_purpose_categories",
    "upsert_alerts_enabled",
]
