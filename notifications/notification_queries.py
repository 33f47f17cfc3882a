"""SQL for notices in people's inboxes: one typed function per statement, the owner always in the WHERE clause."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final
from uuid import UUID

import asyncpg
import msgspec

from backend.core.i18n import Language
from notifications.schemas import Notification, Rendered

_COLUMNS: Final = """
    citizen_id, notification_id, kind, template_version, language, subject, body, action_url, action_label, critical,
    created_at, read_at, archived_at
"""
_SELECT_NOTIFICATION: Final = "SELECT" + _COLUMNS + "FROM notifications"


def _notification(row: asyncpg.Record) -> Notification:
    return msgspec.convert(dict(row), Notification)


async def insert_notification(
    conn: asyncpg.Connection, *, citizen_id: UUID, outbox_id: UUID, rendered: Rendered
) -> Notification:
    """Store a rendered notice for the person."""
    row = await conn.fetchrow(
        """
        INSERT INTO notifications (citizen_id, outbox_id, kind, template_version, language, subject, body,
                                   action_url, action_label, critical)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        RETURNING citizen_id, notification_id, kind, template_version, language, subject, body, action_url,
                  action_label, critical, created_at, read_at, archived_at
        """,
        citizen_id,
        outbox_id,
        rendered.kind,
        rendered.template_version,
        rendered.language,
        rendered.subject,
        rendered.body,
        rendered.action_url,
        rendered.action_label,
        rendered.critical,
    )
    assert row is not None
    return _notification(row)


async def insert_notifications(
    conn: asyncpg.Connection, notices: Sequence[tuple[UUID, UUID, Rendered]]
) -> dict[UUID, UUID]:
    """Store rendered notices, one per (person, outbox row), in one statement; notice id by outbox id."""
    rows = await conn.fetch(
        """
        INSERT INTO notifications (citizen_id, outbox_id, kind, template_version, language, subject, body,
                                   action_url, action_label, critical)
        SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[],
                             $8::text[], $9::text[], $10::bool[])
        RETURNING outbox_id, notification_id
        """,
        [citizen_id for citizen_id, _, _ in notices],
        [outbox_id for _, outbox_id, _ in notices],
        [rendered.kind for _, _, rendered in notices],
        [rendered.template_version for _, _, rendered in notices],
        [rendered.language for _, _, rendered in notices],
        [rendered.subject for _, _, rendered in notices],
        [rendered.body for _, _, rendered in notices],
        [rendered.action_url for _, _, rendered in notices],
        [rendered.action_label for _, _, rendered in notices],
        [rendered.critical for _, _, rendered in notices],
    )
    return {row["outbox_id"]: row["notification_id"] for row in rows}


async def select_recipients(conn: asyncpg.Connection, citizen_ids: Sequence[UUID]) -> dict[UUID, tuple[Language, bool]]:
    """For the relay: each person's language and whether an e-mail address is on file (the identity register)."""
    rows = await conn.fetch(
        "SELECT person_id, language, email IS NOT NULL AND email <> '' AS has_email FROM people "
        "WHERE person_id = ANY($1::uuid[])",
        list(citizen_ids),
    )
    return {row["person_id"]: (row["language"], bool(row["has_email"])) for row in rows}


async def select_inbox(conn: asyncpg.Connection, citizen_id: UUID, *, archived: bool, limit: int) -> list[Notification]:
    """The person's notices (archived ones or the others): unread first, then newest first."""
    rows = await conn.fetch(
        _SELECT_NOTIFICATION
        + """
        WHERE citizen_id = $1 AND (archived_at IS NOT NULL) = $2
        ORDER BY (read_at IS NULL) DESC, created_at DESC, notification_id
        LIMIT $3
        """,
        citizen_id,
        archived,
        limit,
    )
    return [_notification(row) for row in rows]


async def select_notification(conn: asyncpg.Connection, citizen_id: UUID, notification_id: UUID) -> Notification | None:
    """One of the person's notices, or None (also when it belongs to someone else)."""
    row = await conn.fetchrow(
        _SELECT_NOTIFICATION + " WHERE citizen_id = $1 AND notification_id = $2",
        citizen_id,
        notification_id,
    )
    return None if row is None else _notification(row)


async def select_notification_by_id(conn: asyncpg.Connection, notification_id: UUID) -> Notification | None:
    """A notice by its id alone (delivery jobs already hold the owner; this is for tests and operations)."""
    row = await conn.fetchrow(_SELECT_NOTIFICATION + " WHERE notification_id = $1", notification_id)
    return None if row is None else _notification(row)


async def update_read(conn: asyncpg.Connection, citizen_id: UUID, notification_id: UUID) -> bool:
    """Mark a notice read (the first time only)."""
    status = await conn.execute(
        "UPDATE notifications SET read_at = now() WHERE citizen_id = $1 AND notification_id = $2 AND read_at IS NULL",
        citizen_id,
        notification_id,
    )
    return status == "UPDATE 1"


async def update_archived(conn: asyncpg.Connection, citizen_id: UUID, notification_id: UUID) -> bool:
    """Archive a notice (the first time only); archiving also counts as reading it."""
    status = await conn.execute(
        """
        UPDATE notifications SET archived_at = now(), read_at = COALESCE(read_at, now())
        WHERE citizen_id = $1 AND notification_id = $2 AND archived_at IS NULL
        """,
        citizen_id,
        notification_id,
    )
    return status == "UPDATE 1"


async def count_unread(conn: asyncpg.Connection, citizen_id: UUID) -> int:
    """How many of the person's notices are neither read nor archived."""
    value = await conn.fetchval(
        "SELECT count(*) FROM notifications WHERE citizen_id = $1 AND read_at IS NULL AND archived_at IS NULL",
        citizen_id,
    )
    return int(value)
