"""The in-app inbox: every notice reaches it. Unread first; read and archived only move forward."""

from __future__ import annotations

from typing import Final
from uuid import UUID

import asyncpg

from notifications import notification_queries
from notifications.schemas import Notification

INBOX_SIZE: Final = 100


async def inbox(
    conn: asyncpg.Connection, citizen_id: UUID, *, archived: bool = False, limit: int = INBOX_SIZE
) -> list[Notification]:
    """The person's notices: unread first, then newest; the archived ones instead when asked."""
    return await notification_queries.select_inbox(conn, citizen_id, archived=archived, limit=limit)


async def notice(conn: asyncpg.Connection, citizen_id: UUID, notification_id: UUID) -> Notification | None:
    """One of the person's notices, unchanged; None when it is not theirs."""
    return await notification_queries.select_notification(conn, citizen_id, notification_id)


async def open_notice(conn: asyncpg.Connection, citizen_id: UUID, notification_id: UUID) -> Notification | None:
    """One of the person's notices, marked read as it is opened; None when it is not theirs."""
    await notification_queries.update_read(conn, citizen_id, notification_id)
    return await notification_queries.select_notification(conn, citizen_id, notification_id)


async def mark_read(conn: asyncpg.Connection, citizen_id: UUID, notification_id: UUID) -> Notification | None:
    """Mark a notice read (already read: unchanged); None when it is not theirs."""
    return await open_notice(conn, citizen_id, notification_id)


async def archive(conn: asyncpg.Connection, citizen_id: UUID, notification_id: UUID) -> Notification | None:
    """Archive a notice (kept, shown under "Archived"); None when it is not theirs."""
    await notification_queries.update_archived(conn, citizen_id, notification_id)
    return await notification_queries.select_notification(conn, citizen_id, notification_id)


async def unread_count(conn: asyncpg.Connection, citizen_id: UUID) -> int:
    """How many notices wait to be read: for the header's inbox link."""
    return await notification_queries.count_unread(conn, citizen_id)
