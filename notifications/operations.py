"""What operations staff see of the pipeline: failed deliveries and the counts per status (no personal data)."""

from __future__ import annotations

from typing import Final

import asyncpg
import msgspec

from notifications import delivery_queries, outbox_queries
from notifications.schemas import FailedDelivery

FAILED_SHOWN: Final = 200


class PipelineCounts(msgspec.Struct, frozen=True, kw_only=True):
    """How much waits where."""

    outbox_waiting: int
    pending: int
    sending: int
    sent: int
    failed: int


async def failed_deliveries(conn: asyncpg.Connection, *, limit: int = FAILED_SHOWN) -> list[FailedDelivery]:
    """Deliveries given up on, newest first (the notices are still in their inboxes)."""
    return await delivery_queries.select_failed(conn, limit=limit)


async def pipeline_counts(conn: asyncpg.Connection) -> PipelineCounts:
    """Outbox rows waiting for the relay, and deliveries per status."""
    by_status = await delivery_queries.count_by_status(conn)
    return PipelineCounts(
        outbox_waiting=await outbox_queries.count_waiting(conn),
        pending=by_status.get("pending", 0),
        sending=by_status.get("sending", 0),
        sent=by_status.get("sent", 0),
        failed=by_status.get("failed", 0),
    )
