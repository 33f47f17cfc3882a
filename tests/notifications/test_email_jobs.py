"""The e-mail delivery job with the worker's SMTP pool: many notices go out over a few connections, each once,
and a worker without a pool (a one-off run) still delivers over a connection of its own."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from arq.connections import ArqRedis

from backend.core.db import transaction
from backend.core.settings import Settings
from notifications.channels.smtp_pool import SmtpPool
from notifications.jobs import start_email, stop_email
from notifications.operations import pipeline_counts
from notifications.relay import run_relay_once
from tests.factories import create_person
from tests.notifications.conftest import LiveDatabase, run_burst_worker, worker_settings
from tests.notifications.helpers import owe_answer_notice
from tests.smtp_server import SmtpServer

PEOPLE = 12


async def _owe_notices(live_db: LiveDatabase) -> list[UUID]:
    people = []
    async with transaction(live_db.source) as conn:
        for index in range(PEOPLE):
            person = await create_person(
                conn, email=f"pooled{index}@example.be", language=("nl", "fr", "de", "en")[index % 4]
            )
            await owe_answer_notice(conn, person.person_id, f"00000000-0000-4000-8000-{index:012x}")
            people.append(person.person_id)
    return people


async def test_a_worker_sends_many_notices_over_its_few_pooled_connections_each_once(
    live_db: LiveDatabase, redis: ArqRedis, settings: Settings, smtp: SmtpServer
) -> None:
    await _owe_notices(live_db)
    assert await run_relay_once(live_db.source, redis) == PEOPLE
    pool = SmtpPool(smtp.url, size=2)
    ctx: dict[str, Any] = {
        "settings": worker_settings(settings, smtp_url=smtp.url, database_url=live_db.url),
        "connection_source": live_db.source,
        "smtp_pool": pool,
    }
    try:
        await run_burst_worker(redis, ctx)
    finally:
        await pool.close()
    assert sorted(str(message["To"]) for message in smtp.messages) == sorted(
        f"pooled{index}@example.be" for index in range(PEOPLE)
    )
    assert pool.connections_opened <= 2
    async with transaction(live_db.source) as conn:
        counts = await pipeline_counts(conn)
        attempts = await conn.fetchval("SELECT max(attempts) FROM deliveries WHERE channel = 'email'")
    assert (counts.pending, counts.sending, counts.failed) == (0, 0, 0)
    assert counts.sent == PEOPLE * 2, "inbox and e-mail"
    assert attempts == 1


async def test_the_pool_is_opened_and_closed_with_the_worker(settings: Settings, smtp: SmtpServer) -> None:
    ctx: dict[str, Any] = {"settings": worker_settings(settings, smtp_url=smtp.url)}
    await start_email(ctx)
    pool = ctx["smtp_pool"]
    assert isinstance(pool, SmtpPool)
    await stop_email(ctx)
    assert "smtp_pool" not in ctx
