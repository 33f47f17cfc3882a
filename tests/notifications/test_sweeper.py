"""The sweeper in one rolled-back transaction: what is stuck is queued again by the same job id, once; a result
Redis still keeps for that id does not block it; what is fresh, finished or scheduled is left alone."""

from __future__ import annotations

from uuid import UUID

import asyncpg
from arq.connections import ArqRedis

from notifications import delivery_queries, notification_queries
from notifications.relay import delivery_job_id, run_relay_once
from notifications.sweeper import sweep_stuck_deliveries
from tests.conftest import source_of
from tests.factories import create_person
from tests.notifications.helpers import owe_answer_notice


async def _pending(conn: asyncpg.Connection, redis: ArqRedis, email: str) -> tuple[UUID, UUID]:
    person = await create_person(conn, email=email)
    await owe_answer_notice(conn, person.person_id, "00000000-0000-4000-8000-0000000000b0")
    await run_relay_once(source_of(conn), redis)
    (notice,) = await notification_queries.select_inbox(conn, person.person_id, archived=False, limit=1)
    return person.person_id, notice.notification_id


async def _age(conn: asyncpg.Connection, citizen_id: UUID, notification_id: UUID) -> None:
    await conn.execute(
        "UPDATE deliveries SET updated_at = now() - interval '1 hour' "
        "WHERE citizen_id = $1 AND notification_id = $2 AND channel = 'email' AND status IN ('pending', 'sending')",
        citizen_id,
        notification_id,
    )


async def test_a_lost_job_is_queued_again_once_even_over_a_kept_result(
    conn: asyncpg.Connection, redis: ArqRedis
) -> None:
    citizen_id, notification_id = await _pending(conn, redis, "lost@example.be")
    source = source_of(conn)
    assert await sweep_stuck_deliveries(source, redis) == 0, "fresh: its job is queued"
    await _age(conn, citizen_id, notification_id)
    assert await sweep_stuck_deliveries(source, redis) == 0, "its job still exists: the same id is not queued twice"

    # Redis lost the job, and arq kept a result for its id (a job it gave up on itself).
    job_id = delivery_job_id(citizen_id, notification_id)
    await redis.flushdb()
    await redis.set(f"arq:result:{job_id}", b"gave up")
    assert await sweep_stuck_deliveries(source, redis) == 1
    assert await redis.exists(f"arq:job:{job_id}") == 1
    assert await sweep_stuck_deliveries(source, redis) == 0


async def test_finished_and_scheduled_deliveries_are_left_alone(conn: asyncpg.Connection, redis: ArqRedis) -> None:
    sent_citizen, sent_notice = await _pending(conn, redis, "done@example.be")
    await delivery_queries.claim_delivery(conn, sent_citizen, sent_notice, "email", lease_seconds=150)
    await delivery_queries.update_sent(conn, sent_citizen, sent_notice, "email")
    retry_citizen, retry_notice = await _pending(conn, redis, "later@example.be")
    await delivery_queries.claim_delivery(conn, retry_citizen, retry_notice, "email", lease_seconds=150)
    await delivery_queries.update_retry(
        conn, retry_citizen, retry_notice, "email", error="SMTP 451: later", defer_seconds=600
    )
    await _age(conn, sent_citizen, sent_notice)
    await redis.flushdb()
    assert await sweep_stuck_deliveries(source_of(conn), redis, pending_after_seconds=0, lease_seconds=0) == 0
    # A retry long overdue (its job lost) is queued again.
    await conn.execute(
        "UPDATE deliveries SET next_attempt_at = now() - interval '1 hour' WHERE citizen_id = $1 AND channel = 'email'",
        retry_citizen,
    )
    assert await sweep_stuck_deliveries(source_of(conn), redis) == 1
