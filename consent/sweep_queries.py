"""SQL for the scheduled sweeps: marking expired mandates, and claiming expiry reminders once."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from consent.schemas import ExpiryReminder


async def update_expired(conn: asyncpg.Connection, at: datetime) -> list[tuple[UUID, UUID]]:
    """Mark every mandate whose state is now "expired" (ended, or offer lapsed) and not yet marked."""
    rows = await conn.fetch(
        """
        UPDATE mandates AS m SET expired_at = $1
        WHERE m.expired_at IS NULL AND m.revoked_at IS NULL AND m.declined_at IS NULL
          -- A cheap filter first (ended, or an offer that may have lapsed); mandate_state() has the last word.
          AND (m.ends_at <= $1 OR (m.accepted_at IS NULL AND (m.invitation_expires_at <= $1 OR m.until_date < $1)))
          AND mandate_state(m, $1) = 'expired'
        RETURNING citizen_id, mandate_id
        """,
        at,
    )
    return [(row["citizen_id"], row["mandate_id"]) for row in rows]


async def insert_expiry_reminders(conn: asyncpg.Connection, *, at: datetime, within_days: int) -> list[ExpiryReminder]:
    """Claim the reminders of active mandates ending within `within_days`, one row per side, and return them.

    Mandates shorter than the reminder window are left out: a one-day mandate needs no "ends soon" message.
    ON CONFLICT makes a reminder claimed by a concurrent sweep count for that sweep only.
    """
    rows = await conn.fetch(
        """
        WITH due AS (
            SELECT m.citizen_id, m.mandate_id
            FROM mandates AS m
            WHERE m.revoked_at IS NULL AND m.expired_at IS NULL
              AND m.ends_at <= $1::timestamptz + make_interval(days => $2)
              AND m.ends_at - m.starts_at > make_interval(days => $2)
              AND mandate_is_active(m, $1)
        ),
        claimed AS (
            INSERT INTO mandate_reminders (citizen_id, mandate_id, kind, created_at)
            SELECT due.citizen_id, due.mandate_id, side.kind, $1
            FROM due CROSS JOIN (VALUES ('expiry_citizen'), ('expiry_mandatary')) AS side (kind)
            ON CONFLICT (citizen_id, mandate_id, kind) DO NOTHING
            RETURNING citizen_id, mandate_id
        )
        SELECT m.citizen_id, m.mandate_id, m.mandatary_person_id, m.mandatary_org_id, m.ends_at
        FROM mandates AS m
        JOIN (SELECT DISTINCT citizen_id, mandate_id FROM claimed) AS c USING (citizen_id, mandate_id)
        ORDER BY m.ends_at, m.mandate_id
        """,
        at,
        within_days,
    )
    return [msgspec.convert(dict(row), ExpiryReminder) for row in rows]
