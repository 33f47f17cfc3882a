"""The sweeper: deliveries whose job was lost are queued again, by the same deterministic job id.

A job can be lost when Redis loses its data, a worker is killed during an attempt, or the relay committed but
could not reach Redis and its process stopped before Redis answered again (the relay task itself queues what it
left pending as soon as Redis answers). PostgreSQL knows what is unfinished; queuing the same job id again is a
no-op while the original job still exists, so sweeping never doubles a delivery.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from arq.connections import ArqRedis

from backend.core.db import ConnectionSource, transaction
from notifications import delivery_queries
from notifications.delivery_policy import LEASE_SECONDS, PENDING_AFTER_SECONDS
from notifications.relay import enqueue_all, run_relay_once

logger = logging.getLogger("vitrine.notifications.sweeper")

SWEEP_BATCH: Final = 500


async def sweep_stuck_deliveries(
    source: ConnectionSource,
    redis: ArqRedis,
    *,
    pending_after_seconds: float = PENDING_AFTER_SECONDS,
    lease_seconds: float = LEASE_SECONDS,
    limit: int = SWEEP_BATCH,
) -> int:
    """Queue again the jobs of deliveries stuck in 'pending' or 'sending'; how many jobs were newly queued."""
    async with transaction(source) as conn:
        stuck = await delivery_queries.select_stuck(
            conn, pending_after_seconds=pending_after_seconds, lease_seconds=lease_seconds, limit=limit
        )
    queued = await enqueue_all(redis, stuck, forget_results=True)
    if queued:
        logger.info("re-enqueued stuck deliveries", extra={"queued": queued, "stuck": len(stuck)})
    return queued


async def sweep_deliveries(ctx: dict[str, Any]) -> int:
    """Worker cron: relay what the relay task missed, then re-enqueue stuck deliveries."""
    source: ConnectionSource = ctx["connection_source"]
    redis: ArqRedis = ctx["redis"]
    await run_relay_once(source, redis)
    return await sweep_stuck_deliveries(source, redis)
