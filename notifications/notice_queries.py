"""SQL that finds what other areas owe people a notice about: access alerts not handed over yet, contests
answered but not announced, and who receives an organisation's mandate reminders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec


class PendingAlertRow(msgspec.Struct, frozen=True, kw_only=True):
    """An access alert still to hand over to the notifications pipeline."""

    citizen_id: UUID
    seq: int
    flag: str
    occurred_at: datetime


class AnsweredReportRow(msgspec.Struct, frozen=True, kw_only=True):
    """An error report that the declaring institution has answered."""

    citizen_id: UUID
    report_id: UUID
    answered_at: datetime


class AnsweredContestRow(msgspec.Struct, frozen=True, kw_only=True):
    """A contested access that has its answer."""

    citizen_id: UUID
    contest_id: UUID
    answered_at: datetime


async def claim_pending_alerts(conn: asyncpg.Connection, *, limit: int) -> list[PendingAlertRow]:
    """Lock up to `limit` undelivered alerts, oldest first, skipping those another sweep holds."""
    rows = await conn.fetch(
        """
        SELECT a.citizen_id, a.seq, a.flag, f.occurred_at
        FROM access_alerts AS a JOIN access_event_flags AS f USING (citizen_id, seq, flag)
        WHERE a.delivered_at IS NULL
        ORDER BY a.created_at, a.citizen_id, a.seq, a.flag
        LIMIT $1
        FOR UPDATE OF a SKIP LOCKED
        """,
        limit,
    )
    return [msgspec.convert(dict(row), PendingAlertRow) for row in rows]


async def update_alerts_delivered(conn: asyncpg.Connection, alerts: Sequence[PendingAlertRow]) -> int:
    """Mark alerts handed over (their outbox rows are written in the same transaction)."""
    status = await conn.execute(
        """
        UPDATE access_alerts AS a SET delivered_at = now()
        FROM unnest($1::uuid[], $2::bigint[], $3::text[]) AS t (citizen_id, seq, flag)
        WHERE a.citizen_id = t.citizen_id AND a.seq = t.seq AND a.flag = t.flag AND a.delivered_at IS NULL
        """,
        [alert.citizen_id for alert in alerts],
        [alert.seq for alert in alerts],
        [alert.flag for alert in alerts],
    )
    return int(status.split()[-1])


async def select_unannounced_answers(
    conn: asyncpg.Connection, *, answered_since: datetime, limit: int
) -> list[AnsweredContestRow]:
    """Contests answered since a moment whose answer has no outbox row yet, oldest answer first."""
    rows = await conn.fetch(
        """
        SELECT c.citizen_id, c.contest_id, c.answered_at
        FROM access_contests AS c
        WHERE c.status IN ('answered', 'closed') AND c.answered_at >= $1
          AND NOT EXISTS (
              SELECT FROM notification_outbox AS o
              WHERE o.citizen_id = c.citizen_id AND o.dedup_key = 'contest-answered:' || c.contest_id::text
          )
        ORDER BY c.answered_at, c.contest_id
        LIMIT $2
        """,
        answered_since,
        limit,
    )
    return [msgspec.convert(dict(row), AnsweredContestRow) for row in rows]


async def select_unannounced_report_answers(
    conn: asyncpg.Connection, *, answered_since: datetime, limit: int
) -> list[AnsweredReportRow]:
    """Error reports answered since a moment whose answer has no outbox row yet, oldest answer first."""
    rows = await conn.fetch(
        """
        SELECT r.citizen_id, r.report_id, r.answered_at
        FROM record_error_reports AS r
        WHERE r.status IN ('answered', 'closed') AND r.answered_at >= $1
          AND NOT EXISTS (
              SELECT FROM notification_outbox AS o
              WHERE o.citizen_id = r.citizen_id AND o.dedup_key = 'error-report-answered:' || r.report_id::text
          )
        ORDER BY r.answered_at, r.report_id
        LIMIT $2
        """,
        answered_since,
        limit,
    )
    return [msgspec.convert(dict(row), AnsweredReportRow) for row in rows]


async def select_access_managers(conn: asyncpg.Connection, org_id: UUID) -> list[UUID]:
    """The active access managers of an organisation: they receive its mandate reminders."""
    rows = await conn.fetch(
        """
        SELECT person_id FROM organisation_members
        WHERE org_id = $1 AND role = 'access_manager' AND active
        ORDER BY person_id
        """,
        org_id,
    )
    return [row["person_id"] for row in rows]
