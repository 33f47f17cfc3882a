"""SQL that finds what other areas owe people a notice about: access alerts not handed over yet, contests
answered but not announced, and who receives an organisation's mandate reminders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final
from uuid import UUID

import asyncpg
import msgspec


class PendingAlertRow(msgspec.Struct, frozen=True, kw_only=True):
    """An access alert still to hand over to the notifications pipeline."""

    citizen_id: UUID
    seq: int
    flag: str
    occurred_at: datetime


class AnsweredRow(msgspec.Struct, frozen=True, kw_only=True):
    """A case that has its answer: a contested access, or an error report."""

    citizen_id: UUID
    case_id: UUID
    answered_at: datetime


# The answered cases the notices announce, by notice kind: the table, its case id column, and the prefix of the
# notice's deduplication key. Fixed identifiers only: they are written into the statement below.
ANSWERED_CASES: Final[dict[str, tuple[str, str, str]]] = {
    "contest_answered": ("access_contests", "contest_id", "contest-answered:"),
    "error_report_answered": ("record_error_reports", "report_id", "error-report-answered:"),
}


def answer_dedup_key(kind: str, case_id: UUID) -> str:
    """The deduplication key of the notice announcing one case's answer."""
    return f"{ANSWERED_CASES[kind][2]}{case_id}"


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
    conn: asyncpg.Connection, kind: str, *, answered_since: datetime, limit: int
) -> list[AnsweredRow]:
    """Cases of one kind answered since a moment whose answer has no outbox row yet, oldest answer first."""
    table, column, prefix = ANSWERED_CASES[kind]
    rows = await conn.fetch(
        f"""
        SELECT a.citizen_id, a.{column} AS case_id, a.answered_at
        FROM {table} AS a
        WHERE a.status IN ('answered', 'closed') AND a.answered_at >= $1
          AND NOT EXISTS (
              SELECT FROM notification_outbox AS o
              WHERE o.citizen_id = a.citizen_id AND o.dedup_key = $3 || a.{column}::text
          )
        ORDER BY a.answered_at, a.{column}
        LIMIT $2
        """,  # noqa: S608 (table and column come from ANSWERED_CASES, never from input)
        answered_since,
        limit,
        prefix,
    )
    return [msgspec.convert(dict(row), AnsweredRow) for row in rows]


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
