"""The long-running relay: woken by NOTIFY when an outbox row commits (long before its poll), started and stopped
with the worker."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from arq.connections import ArqRedis

from backend.core.db import transaction
from backend.core.settings import Settings
from notifications import notification_queries
from notifications.relay import relay_task, start_relay, stop_relay
from tests.factories import create_person
from tests.notifications.conftest import LiveDatabase, worker_settings
from tests.notifications.helpers import owe_answer_notice


def _ctx(live_db: LiveDatabase, redis: ArqRedis, settings: Settings) -> dict[str, Any]:
    return {
        "connection_source": live_db.source,
        "redis": redis,
        "settings": worker_settings(settings, smtp_url="smtp://127.0.0.1:1", database_url=live_db.url),
    }


async def test_a_commit_wakes_the_relay_at_once(live_db: LiveDatabase, redis: ArqRedis, settings: Settings) -> None:
    task = asyncio.create_task(relay_task(_ctx(live_db, redis, settings), poll_seconds=60))
    try:
        await asyncio.sleep(0.5)  # listening, first (empty) run done; the next poll is a minute away
        async with transaction(live_db.source) as conn:
            person = await create_person(conn, email="woken@example.be")
            await owe_answer_notice(conn, person.person_id, "00000000-0000-4000-8000-0000000000a1")
        started = time.monotonic()
        unread = 0
        while time.monotonic() - started < 5 and not unread:
            await asyncio.sleep(0.05)
            async with transaction(live_db.source) as conn:
                unread = await notification_queries.count_unread(conn, person.person_id)
        assert unread == 1, "the NOTIFY sent at commit woke the relay"
        assert len(await redis.queued_jobs()) == 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_the_worker_starts_and_stops_the_relay(
    live_db: LiveDatabase, redis: ArqRedis, settings: Settings
) -> None:
    ctx = _ctx(live_db, redis, settings)
    await start_relay(ctx)
    task = ctx["notification_relay"]
    await asyncio.sleep(0.2)
    assert not task.done()
    await stop_relay(ctx)
    assert task.cancelled()
    assert "notification_relay" not in ctx
    await stop_relay(ctx)  # twice is harmless
