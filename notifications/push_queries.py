"""SQL for push subscriptions and per-device sends: one typed function per statement, the connection first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final
from uuid import UUID

import asyncpg
import msgspec

from notifications.schemas import PushSubscription

_COLUMNS: Final = (
    " citizen_id, subscription_id, endpoint, p256dh, auth, device_label, created_at, last_success_at, disabled_at,"
    " disabled_reason "
)

_SELECT: Final = "SELECT" + _COLUMNS + "FROM push_subscriptions AS s"


def _subscription(row: asyncpg.Record) -> PushSubscription:
    return msgspec.convert(dict(row), PushSubscription)


async def lock_endpoint(conn: asyncpg.Connection, endpoint: str) -> None:
    """Serialise registrations of one endpoint until the transaction ends (it may move between people)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('vitrine-push:' || $1, 0))", endpoint)


async def disable_endpoint_elsewhere(conn: asyncpg.Connection, endpoint: str, citizen_id: UUID) -> int:
    """Another person signed in on this browser took the endpoint: their subscription stops; how many."""
    status = await conn.execute(
        """
        UPDATE push_subscriptions SET disabled_at = now(), disabled_reason = 'taken over by another sign-in'
        WHERE endpoint = $1 AND citizen_id <> $2 AND disabled_at IS NULL
        """,
        endpoint,
        citizen_id,
    )
    return int(status.split()[-1])


async def upsert_subscription(
    conn: asyncpg.Connection, citizen_id: UUID, *, endpoint: str, p256dh: str, auth: str, device_label: str
) -> PushSubscription:
    """Register the device, or renew it (new keys, active again) when the person already had this endpoint."""
    row = await conn.fetchrow(
        """
        INSERT INTO push_subscriptions (citizen_id, endpoint, p256dh, auth, device_label)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (citizen_id, endpoint) DO UPDATE
            SET p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth, device_label = EXCLUDED.device_label,
                disabled_at = NULL, disabled_reason = NULL
        RETURNING citizen_id, subscription_id, endpoint, p256dh, auth, device_label, created_at, last_success_at,
                  disabled_at, disabled_reason
        """,
        citizen_id,
        endpoint,
        p256dh,
        auth,
        device_label,
    )
    assert row is not None
    return _subscription(row)


async def select_subscriptions(conn: asyncpg.Connection, citizen_id: UUID) -> list[PushSubscription]:
    """Every device of the person, active first, newest first."""
    rows = await conn.fetch(
        _SELECT + " WHERE citizen_id = $1 ORDER BY disabled_at IS NOT NULL, created_at DESC, subscription_id",
        citizen_id,
    )
    return [_subscription(row) for row in rows]


async def count_active(conn: asyncpg.Connection, citizen_id: UUID) -> int:
    """How many devices currently receive the person's push messages."""
    value = await conn.fetchval(
        "SELECT count(*) FROM push_subscriptions WHERE citizen_id = $1 AND disabled_at IS NULL", citizen_id
    )
    return int(value or 0)


async def select_with_active(conn: asyncpg.Connection, citizen_ids: Sequence[UUID]) -> set[UUID]:
    """Which of these people have at least one active device."""
    rows = await conn.fetch(
        "SELECT DISTINCT citizen_id FROM push_subscriptions WHERE citizen_id = ANY($1::uuid[]) AND disabled_at IS NULL",
        list(citizen_ids),
    )
    return {row["citizen_id"] for row in rows}


async def select_unsent_active(
    conn: asyncpg.Connection, citizen_id: UUID, notification_id: UUID
) -> list[PushSubscription]:
    """The person's active devices that have not yet accepted this notice."""
    rows = await conn.fetch(
        """
        SELECT citizen_id, subscription_id, endpoint, p256dh, auth, device_label, created_at, last_success_at,
               disabled_at, disabled_reason
        FROM push_subscriptions AS s
        WHERE s.citizen_id = $1 AND s.disabled_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM push_sends AS p
                          WHERE p.citizen_id = s.citizen_id AND p.notification_id = $2
                            AND p.subscription_id = s.subscription_id)
        ORDER BY s.created_at, s.subscription_id
        """,
        citizen_id,
        notification_id,
    )
    return [_subscription(row) for row in rows]


async def count_sends(conn: asyncpg.Connection, citizen_id: UUID, notification_id: UUID) -> int:
    """On how many devices the push service accepted this notice."""
    value = await conn.fetchval(
        "SELECT count(*) FROM push_sends WHERE citizen_id = $1 AND notification_id = $2", citizen_id, notification_id
    )
    return int(value or 0)


async def insert_send(conn: asyncpg.Connection, citizen_id: UUID, notification_id: UUID, subscription_id: UUID) -> None:
    """The push service accepted the notice for this device; the device's last success moves too."""
    await conn.execute(
        """
        WITH sent AS (
            INSERT INTO push_sends (citizen_id, notification_id, subscription_id) VALUES ($1, $2, $3)
            ON CONFLICT DO NOTHING
        )
        UPDATE push_subscriptions SET last_success_at = now() WHERE citizen_id = $1 AND subscription_id = $3
        """,
        citizen_id,
        notification_id,
        subscription_id,
    )


async def disable_subscription(conn: asyncpg.Connection, citizen_id: UUID, subscription_id: UUID, reason: str) -> bool:
    """Stop pushing to a device (the push service said it is gone)."""
    status = await conn.execute(
        """
        UPDATE push_subscriptions SET disabled_at = now(), disabled_reason = $3
        WHERE citizen_id = $1 AND subscription_id = $2 AND disabled_at IS NULL
        """,
        citizen_id,
        subscription_id,
        reason,
    )
    return status == "UPDATE 1"


async def delete_subscription(conn: asyncpg.Connection, citizen_id: UUID, subscription_id: UUID) -> bool:
    """Forget one of the person's devices (its per-notice sends go with it)."""
    status = await conn.execute(
        "DELETE FROM push_subscriptions WHERE citizen_id = $1 AND subscription_id = $2", citizen_id, subscription_id
    )
    return status == "DELETE 1"
