"""Fixtures of the notifications tests: an SMTP server in process, a committed database with a real pool, and a
real arq worker in burst mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec
import pytest
from arq.connections import ArqRedis
from arq.worker import Worker

from backend.core.db import ConnectionSource, connect, create_pool, pool_source
from backend.core.migrations import migrate
from backend.core.settings import Settings
from notifications.jobs import WORKER_FUNCTIONS
from notifications.push_keys import application_server_key, vapid_private_key
from notifications.sweeper import sweep_stuck_deliveries
from tests.push_service import PushService, running_push_service
from tests.smtp_server import SmtpServer, running_smtp_server


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    """An SMTP server on loopback that records what it accepts."""
    async with running_smtp_server() as server:
        yield server


@pytest.fixture
async def push_service(settings: Settings) -> AsyncIterator[PushService]:
    """A Web Push service on loopback that checks VAPID and decrypts what it accepts."""
    async with running_push_service(application_server_key(vapid_private_key(settings))) as service:
        yield service


@dataclass(frozen=True)
class LiveDatabase:
    """A migrated database of the test's own, where transactions really commit (relay, worker, sweeper)."""

    url: str
    pool: asyncpg.Pool
    source: ConnectionSource


@pytest.fixture
async def live_db(scratch_database_url: str) -> AsyncIterator[LiveDatabase]:
    """A fresh migrated database with a pool acting as the application role; dropped after the test."""
    owner = await connect(scratch_database_url, as_app=False)
    try:
        await migrate(owner)
    finally:
        await owner.close()
    pool = await create_pool(scratch_database_url, min_size=1, max_size=6)
    try:
        yield LiveDatabase(url=scratch_database_url, pool=pool, source=pool_source(pool))
    finally:
        await pool.close()


def worker_settings(settings: Settings, *, smtp_url: str, database_url: str | None = None) -> Settings:
    """The test settings pointing at the test's SMTP server (and database)."""
    return msgspec.structs.replace(
        settings, smtp_url=smtp_url, database_url=database_url or settings.database_url, base_url="https://vitrine.test"
    )


async def run_burst_worker(redis: ArqRedis, ctx: dict[str, Any]) -> Worker:
    """Run a real arq worker with the notifications jobs until the queue is empty (retries included)."""
    worker = Worker(
        functions=list(WORKER_FUNCTIONS),
        redis_pool=redis,
        burst=True,
        handle_signals=False,
        poll_delay=0.02,
        ctx={"delivery_retry_base_seconds": 0.05, **ctx},
    )
    await worker.async_run()
    return worker


async def deliver_everything(redis: ArqRedis, ctx: dict[str, Any], *, rounds: int = 5) -> int:
    """Run the worker, then sweep (no waiting) and run it again until nothing is stuck; how many sweeps queued.

    In a clean run the first sweep finds nothing. It finds something when Redis lost jobs under the worker (a
    concurrent test run sharing this Redis database empties it): exactly the loss the sweeper exists for.
    """
    swept = 0
    for _ in range(rounds):
        await run_burst_worker(redis, ctx)
        queued = await sweep_stuck_deliveries(ctx["connection_source"], redis, pending_after_seconds=0)
        if not queued:
            return swept
        swept += queued
    raise AssertionError(f"deliveries still stuck after {rounds} rounds")
