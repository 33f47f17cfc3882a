"""The long-running relay: woken by NOTIFY when an outbox row commits (long before its poll), started and stopped
with the worker, filling the inbox while Redis is down and queueing what waited as soon as Redis answers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from arq.connections import ArqRedis

from backend.core.db import transaction
from backend.core.settings import Settings
from notifications import delivery_queries, notification_queries, relay
from notifications.relay import delivery_job_id, relay_redis, relay_task, start_relay, stop_relay
from tests.factories import create_person
from tests.faults.servers import PrivateRedis
from tests.notifications.conftest import LiveDatabase, worker_settings
from tests.notifications.helpers import owe_answer_notice


def _ctx(live_db: LiveDatabase, settings: Settings) -> dict[str, Any]:
    return {
        "connection_source": live_db.source,
        "settings": worker_settings(settings, smtp_url="smtp://127.0.0.1:1", database_url=live_db.url),
    }


async def test_a_commit_wakes_the_relay_at_once(live_db: LiveDatabase, redis: ArqRedis, settings: Settings) -> None:
    task = asyncio.create_task(relay_task(_ctx(live_db, settings), poll_seconds=60, redis=redis))
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
    ctx = _ctx(live_db, settings)
    await start_relay(ctx)
    task = ctx["notification_relay"]
    await asyncio.sleep(0.2)
    assert not task.done()
    await stop_relay(ctx)
    assert task.cancelled()
    assert "notification_relay" not in ctx
    await stop_relay(ctx)  # twice is harmless


async def test_while_redis_is_down_the_inbox_fills_and_the_email_is_queued_as_soon_as_it_answers(
    live_db: LiveDatabase, settings: Settings
) -> None:
    # A Redis of the test's own, not started yet: the relay's client fails fast until it is.
    later = PrivateRedis()
    client = relay_redis(later.url)
    task = asyncio.create_task(relay_task(_ctx(live_db, settings), poll_seconds=0.2, redis=client))
    try:
        async with transaction(live_db.source) as conn:
            person = await create_person(conn, email="patient@example.be")
            await owe_answer_notice(conn, person.person_id, "00000000-0000-4000-8000-0000000000a2")
        await _until(lambda: _unread(live_db, person.person_id), "the notice reached the inbox while Redis was down")
        async with transaction(live_db.source) as conn:
            (notice,) = await notification_queries.select_inbox(conn, person.person_id, archived=False, limit=1)
            email = await delivery_queries.select_delivery(conn, person.person_id, notice.notification_id, "email")
        assert email is not None
        assert email.status == "pending"

        await asyncio.to_thread(later.start)
        job_key = f"arq:job:{delivery_job_id(person.person_id, notice.notification_id)}"
        await _until(lambda: client.exists(job_key), "queued within a few polls of Redis answering")
        assert len(await client.queued_jobs()) == 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await client.aclose()
        await asyncio.to_thread(later.remove)


async def _unread(live_db: LiveDatabase, citizen_id: UUID) -> int:
    async with transaction(live_db.source) as conn:
        return await notification_queries.count_unread(conn, citizen_id)


async def _until(check: Callable[[], Awaitable[int]], why: str, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, why
        await asyncio.sleep(0.05)


async def test_the_relay_stops_even_when_a_cancellation_is_lost_in_a_clean_up(
    live_db: LiveDatabase, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    cancelled_runs = 0

    async def run_that_loses_its_cancellation(*_: Any, **__: Any) -> Any:
        # As a rollback that fails on a cancelled query would: the cancellation surfaces as a database error.
        nonlocal cancelled_runs
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled_runs += 1
            raise asyncpg.InterfaceError("cannot perform operation: another operation is in progress") from None

    monkeypatch.setattr(relay, "relay_outbox", run_that_loses_its_cancellation)
    ctx = _ctx(live_db, settings)
    await start_relay(ctx)
    task = ctx["notification_relay"]
    await asyncio.sleep(0.3)  # inside its (endless) run
    await asyncio.wait_for(stop_relay(ctx), timeout=10)
    assert task.done()
    assert cancelled_runs == 1, "the stop flag ended the loop after the lost cancellation"
