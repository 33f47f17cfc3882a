"""SQL for deliveries: one typed function per statement; every UPDATE names the statuses it may leave, so a
status only moves forward (the database trigger refuses the rest)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final
from uuid import UUID

import asyncpg
import msgspec

from notifications.schemas import Channel, Delivery, DeliveryJob, DeliveryStatus, EmailClaim, FailedDelivery

_COLUMNS: Final = " citizen_id, notification_id, channel, status, attempts, last_error, next_attempt_at, updated_at "
_SELECT_DELIVERY: Final = "SELECT" + _COLUMNS + "FROM deliveries"


def _delivery(row: asyncpg.Record) -> Delivery:
    return msgspec.convert(dict(row), Delivery)


async def insert_delivery_rows(
    conn: asyncpg.Connection, rows: Sequence[tuple[UUID, UUID, Channel, DeliveryStatus]]
) -> None:
    """Delivery rows of new notices, (person, notice, channel, status) each, in one statement."""
    await conn.execute(
        """
        INSERT INTO deliveries (citizen_id, notification_id, channel, status)
        SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[])
        """,
        [row[0] for row in rows],
        [row[1] for row in rows],
        [row[2] for row in rows],
        [row[3] for row in rows],
    )


async def select_delivery(
    conn: asyncpg.Connection, citizen_id: UUID, notification_id: UUID, channel: Channel
) -> Delivery | None:
    """One delivery, or None."""
    row = await conn.fetchrow(
        _SELECT_DELIVERY + " WHERE citizen_id = $1 AND notification_id = $2 AND channel = $3",
        citizen_id,
        notification_id,
        channel,
    )
    return None if row is None else _delivery(row)


async def select_deliveries(conn: asyncpg.Connection, citizen_id: UUID, notification_id: UUID) -> list[Delivery]:
    """Every channel's delivery of one of the person's notices."""
    rows = await conn.fetch(
        _SELECT_DELIVERY + " WHERE citizen_id = $1 AND notification_id = $2 ORDER BY channel",
        citizen_id,
        notification_id,
    )
    return [_delivery(row) for row in rows]


async def claim_delivery(
    conn: asyncpg.Connection, citizen_id: UUID, notification_id: UUID, channel: Channel, *, lease_seconds: float
) -> Delivery | None:
    """Start an attempt: pending, a scheduled retry, or an attempt abandoned past its lease becomes 'sending'.

    None when it is finished, or when another attempt is under way (started less than a lease ago): two jobs for
    the same delivery never send at the same time.
    """
    row = await conn.fetchrow(
        """
        UPDATE deliveries
        SET status = 'sending', attempts = attempts + 1, next_attempt_at = NULL, updated_at = now()
        WHERE citizen_id = $1 AND notification_id = $2 AND channel = $3
          AND (status = 'pending'
               OR (status = 'sending'
                   AND (next_attempt_at IS NOT NULL OR updated_at < now() - make_interval(secs => $4))))
        RETURNING citizen_id, notification_id, channel, status, attempts, last_error, next_attempt_at, updated_at
        """,
        citizen_id,
        notification_id,
        channel,
        lease_seconds,
    )
    return None if row is None else _delivery(row)


async def claim_email_delivery(
    conn: asyncpg.Connection, citizen_id: UUID, notification_id: UUID, *, lease_seconds: float
) -> EmailClaim | None:
    """Start an e-mail attempt as `claim_delivery` does, and read the notice's language and the address on file,
    in one statement (one round trip: a delivery job's first step). None when there is nothing to attempt."""
    row = await conn.fetchrow(
        """
        WITH claimed AS (
            UPDATE deliveries
            SET status = 'sending', attempts = attempts + 1, next_attempt_at = NULL, updated_at = now()
            WHERE citizen_id = $1 AND notification_id = $2 AND channel = 'email'
              AND (status = 'pending'
                   OR (status = 'sending'
                       AND (next_attempt_at IS NOT NULL OR updated_at < now() - make_interval(secs => $3))))
            RETURNING citizen_id, notification_id, attempts
        )
        SELECT c.attempts, n.language, p.email
        FROM claimed AS c
        LEFT JOIN notifications AS n USING (citizen_id, notification_id)
        LEFT JOIN people AS p ON p.person_id = c.citizen_id
        """,
        citizen_id,
        notification_id,
        lease_seconds,
    )
    if row is None:
        return None
    return EmailClaim(attempts=row["attempts"], language=row["language"], email=row["email"])


async def update_sent(conn: asyncpg.Connection, citizen_id: UUID, notification_id: UUID, channel: Channel) -> bool:
    """The attempt under way succeeded."""
    status = await conn.execute(
        """
        UPDATE deliveries SET status = 'sent', next_attempt_at = NULL, updated_at = now()
        WHERE citizen_id = $1 AND notification_id = $2 AND channel = $3 AND status = 'sending'
        """,
        citizen_id,
        notification_id,
        channel,
    )
    return status == "UPDATE 1"


async def update_retry(
    conn: asyncpg.Connection,
    citizen_id: UUID,
    notification_id: UUID,
    channel: Channel,
    *,
    error: str,
    defer_seconds: float,
) -> bool:
    """The attempt under way failed for now: keep 'sending' with the time of the next attempt."""
    status = await conn.execute(
        """
        UPDATE deliveries
        SET last_error = $4, next_attempt_at = now() + make_interval(secs => $5), updated_at = now()
        WHERE citizen_id = $1 AND notification_id = $2 AND channel = $3 AND status = 'sending'
        """,
        citizen_id,
        notification_id,
        channel,
        error,
        defer_seconds,
    )
    return status == "UPDATE 1"


async def update_deferred(
    conn: asyncpg.Connection, citizen_id: UUID, notification_id: UUID, channel: Channel, *, until: datetime
) -> bool:
    """Hold an unfinished delivery until a moment (quiet hours): no attempt is counted, the status stays."""
    status = await conn.execute(
        """
        UPDATE deliveries SET next_attempt_at = $4, updated_at = now()
        WHERE citizen_id = $1 AND notification_id = $2 AND channel = $3 AND status IN ('pending', 'sending')
        """,
        citizen_id,
        notification_id,
        channel,
        until,
    )
    return status == "UPDATE 1"


async def update_failed(
    conn: asyncpg.Connection, citizen_id: UUID, notification_id: UUID, channel: Channel, *, error: str
) -> bool:
    """Give up on a delivery (the notice stays in the inbox)."""
    status = await conn.execute(
        """
        UPDATE deliveries SET status = 'failed', last_error = $4, next_attempt_at = NULL, updated_at = now()
        WHERE citizen_id = $1 AND notification_id = $2 AND channel = $3 AND status IN ('pending', 'sending')
        """,
        citizen_id,
        notification_id,
        channel,
        error,
    )
    return status == "UPDATE 1"


async def select_stuck(
    conn: asyncpg.Connection, *, pending_after_seconds: float, lease_seconds: float, limit: int
) -> list[DeliveryJob]:
    """Deliveries whose job may be lost: pending too long, an attempt abandoned past its lease, or a retry long
    overdue."""
    rows = await conn.fetch(
        """
        SELECT citizen_id, notification_id, channel FROM deliveries
        WHERE status IN ('pending', 'sending') AND channel <> 'inbox'
          AND ((status = 'pending' AND updated_at < now() - make_interval(secs => $1)
                AND (next_attempt_at IS NULL OR next_attempt_at < now() - make_interval(secs => $1)))
               OR (status = 'sending' AND next_attempt_at IS NULL
                   AND updated_at < now() - make_interval(secs => $2))
               OR (status = 'sending' AND next_attempt_at < now() - make_interval(secs => $1)))
        ORDER BY updated_at
        LIMIT $3
        """,
        pending_after_seconds,
        lease_seconds,
        limit,
    )
    return [msgspec.convert(dict(row), DeliveryJob) for row in rows]


async def select_pending_page(
    conn: asyncpg.Connection, *, after: tuple[datetime, UUID, UUID, str] | None, limit: int
) -> list[tuple[datetime, DeliveryJob]]:
    """A page of e-mail and push deliveries still 'pending' and due (however recent), in (updated_at, key) order
    after `after`: the jobs the relay could not queue while Redis was away. Each comes with its updated_at, to
    page on."""
    rows = await conn.fetch(
        """
        SELECT updated_at, citizen_id, notification_id, channel FROM deliveries
        WHERE status = 'pending' AND channel <> 'inbox'
          AND (next_attempt_at IS NULL OR next_attempt_at <= now())
          AND ($1::timestamptz IS NULL
               OR (updated_at, citizen_id, notification_id, channel) > ($1, $2::uuid, $3::uuid, $4::text))
        ORDER BY updated_at, citizen_id, notification_id, channel
        LIMIT $5
        """,
        *(after or (None, None, None, None)),
        limit,
    )
    return [
        (
            row["updated_at"],
            DeliveryJob(citizen_id=row["citizen_id"], notification_id=row["notification_id"], channel=row["channel"]),
        )
        for row in rows
    ]


async def select_failed(conn: asyncpg.Connection, *, limit: int) -> list[FailedDelivery]:
    """Deliveries given up on, newest first, with the kind of notice (operations view)."""
    rows = await conn.fetch(
        """
        SELECT d.notification_id, n.kind, d.channel, d.attempts, d.last_error, d.updated_at
        FROM deliveries AS d JOIN notifications AS n USING (citizen_id, notification_id)
        WHERE d.status = 'failed'
        ORDER BY d.updated_at DESC, d.notification_id
        LIMIT $1
        """,
        limit,
    )
    return [msgspec.convert(dict(row), FailedDelivery) for row in rows]


async def count_by_status(conn: asyncpg.Connection) -> dict[str, int]:
    """How many deliveries are in each status (operations view)."""
    rows = await conn.fetch("SELECT status, count(*) AS n FROM deliveries GROUP BY status")
    return {str(row["status"]): int(row["n"]) for row in rows}
