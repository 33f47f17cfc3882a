"""Scheduled sweeps: mark expired mandates with their event, and claim expiry reminders once.

Expiry does not wait for the sweep: decisions treat a mandate whose end has passed as expired at once. The
sweep only writes the history (an "expired" event, once) so that both sides' timelines show it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from backend.core.db import Connection, transaction
from consent import event_queries, sweep_queries
from consent.schemas import ExpiryReminder


async def expire_mandates(conn: Connection, *, now: datetime | None = None) -> int:
    """Mark mandates (and lapsed invitations) that have expired, with one "expired" event each; how many."""
    at = now or datetime.now(UTC)
    expired = await sweep_queries.update_expired(conn, at)
    if expired:
        await event_queries.insert_system_events(conn, expired, kind="expired", occurred_at=at)
    return len(expired)


async def due_expiry_reminders(
    conn: Connection, *, within_days: int = 14, now: datetime | None = None
) -> list[ExpiryReminder]:
    """Active mandates ending within `within_days` not reminded yet; writes the reminder rows for both sides.

    Call it in the transaction that turns the reminders into messages: if that fails, the claim is undone too.
    """
    at = now or datetime.now(UTC)
    due = await sweep_queries.insert_expiry_reminders(conn, at=at, within_days=within_days)
    if due:
        await event_queries.insert_system_events(
            conn, [(r.citizen_id, r.mandate_id) for r in due], kind="expiry_reminded", occurred_at=at
        )
    return due


async def sweep_expired_mandates(ctx: dict[str, Any]) -> int:
    """Worker cron: expire_mandates in a transaction of its own."""
    async with transaction(ctx["connection_source"]) as conn:
        return await expire_mandates(conn)
