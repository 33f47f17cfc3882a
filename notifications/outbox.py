"""The one way a business transaction says "this person must be told": an outbox row in its own transaction.

Nothing is sent from here. The row is committed with the business change (or rolled back with it); a trigger
wakes the relay at commit; the relay renders the notice and enqueues deliveries. The unique deduplication key per
person makes a repeat a no-op, so a retried transaction or a second evaluation never sends anything twice.
"""

from __future__ import annotations

from typing import Any, Final
from uuid import UUID

import asyncpg

from notifications import outbox_queries
from notifications.schemas import KINDS

# The LISTEN/NOTIFY channel the outbox trigger (migration 0008) notifies at commit.
RELAY_CHANNEL: Final = "vitrine_notification_outbox"


async def enqueue_notification(
    conn: asyncpg.Connection, *, citizen_id: UUID, kind: str, dedup_key: str, payload: dict[str, Any]
) -> UUID | None:
    """Owe the person a notice, in the caller's transaction; the outbox id, or None when this deduplication key
    was already used for them (nothing is sent twice)."""
    if kind not in KINDS:
        # A programming error, not bad input: every kind needs a template before it can be owed.
        raise ValueError(f"unknown notification kind {kind!r}")
    return await outbox_queries.insert_outbox(
        conn, citizen_id=citizen_id, kind=kind, dedup_key=dedup_key, payload=payload
    )
