"""The worker process: heartbeats, job metrics labels, a real arq worker run, and the supervisor that keeps the
process alive while Redis is away."""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec
import pytest
from arq.worker import Worker

from backend.core.db import connect, transaction
from backend.core.settings import Settings
from backend.worker import (
    STOP_GRACE_SECONDS,
    WorkerSupervisor,
    build_worker,
    create_access_log_partitions,
    job_label,
    on_shutdown,
    on_startup,
    purge_expired_auth_state,
)
from tests.faults.servers import free_port


@pytest.mark.parametrize(
    ("job_id", "label"),
    [("deliver:42", "deliver"), ("cron:heartbeat:1732540800000", "cron:heartbeat"), ("", "unknown")],
)
def test_job_labels_come_from_deterministic_ids(job_id: str, label: str) -> None:
    assert job_label(job_id) == label


async def test_a_worker_reports_a_heartbeat_and_removes_it_on_shutdown(settings: Settings) -> None:
    ctx: dict[str, Any] = {"settings": settings}
    await on_startup(ctx)
    observer = await connect(settings.database_url or "")
    try:
        row = await observer.fetchrow(
            "SELECT jobs_done, beat_at FROM worker_heartbeats WHERE worker_name = $1", ctx["worker_name"]
        )
        assert row is not None
        assert row["jobs_done"] == 0
        await on_shutdown(ctx)
        gone = await observer.fetchval(
            "SELECT count(*) FROM worker_heartbeats WHERE worker_name = $1", ctx["worker_name"]
        )
        assert gone == 0
    finally:
        await observer.close()


async def test_a_burst_worker_starts_and_stops_cleanly(settings: Settings, conn: asyncpg.Connection) -> None:
    worker = build_worker(settings, burst=True, handle_signals=False)
    await worker.main()
    await worker.close()
    leftover = await conn.fetchval("SELECT count(*) FROM worker_heartbeats")
    assert leftover == 0


async def test_the_purge_cron_forgets_only_expired_auth_state(settings: Settings) -> None:
    ctx: dict[str, Any] = {"settings": settings}
    await on_startup(ctx)
    try:
        async with transaction(ctx["connection_source"]) as setup:
            await setup.execute(
                "INSERT INTO oidc_login_attempts (state, nonce, code_verifier, created_at) VALUES "
                "('purge-old-state', 'n', 'v', now() - interval '2 hours'), ('purge-new-state', 'n', 'v', now())"
            )
        await purge_expired_auth_state(ctx)
        async with transaction(ctx["connection_source"]) as check:
            left = await check.fetch("SELECT state FROM oidc_login_attempts WHERE state LIKE 'purge-%'")
            assert [row["state"] for row in left] == ["purge-new-state"]
            await check.execute("DELETE FROM oidc_login_attempts WHERE state LIKE 'purge-%'")
    finally:
        await on_shutdown(ctx)


async def test_partitions_are_created_ahead_by_the_worker(settings: Settings) -> None:
    ctx: dict[str, Any] = {"settings": settings}
    await on_startup(ctx)
    try:
        await create_access_log_partitions(ctx)
        await create_access_log_partitions(ctx)  # idempotent
        async with transaction(ctx["connection_source"]) as conn:
            names = {
                row["name"]
                for row in await conn.fetch(
                    "SELECT inhrelid::regclass::text AS name FROM pg_inherits "
                    "WHERE inhparent = 'access_events'::regclass"
                )
            }
        now = datetime.now(UTC)
        for months in range(4):
            year, month = divmod(now.month - 1 + months, 12)
            assert f"access_events_{now.year + year}_{month + 1:02d}" in names
    finally:
        await on_shutdown(ctx)


async def test_the_supervisor_outlives_an_absent_redis_and_stops_at_once_on_a_signal(
    settings: Settings, conn: asyncpg.Connection
) -> None:
    nowhere = msgspec.structs.replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    supervisor = WorkerSupervisor(nowhere)
    running = asyncio.create_task(supervisor.run())
    try:
        # Resources are open and the heartbeat written although no arq worker could start.
        deadline = time.monotonic() + 10
        while "worker_name" not in supervisor.ctx or await _beats(conn, supervisor.ctx["worker_name"]) == 0:
            assert not running.done(), running
            assert time.monotonic() < deadline, "no heartbeat while Redis is absent"
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.5)  # a few attempts
        assert not running.done(), "an absent Redis does not end the worker"
        assert supervisor.worker is None
        supervisor.stop(signal.SIGTERM)
        await asyncio.wait_for(running, timeout=2)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    assert await _beats(conn, supervisor.ctx["worker_name"]) == 0, "a clean stop removes the heartbeat"


async def _running_a_job_that_loses_its_first_cancellation(
    settings: Settings, cancellations: list[int]
) -> tuple[WorkerSupervisor, Worker, asyncio.Task[None]]:
    """A supervisor whose arq worker runs one job that goes on after its first cancellation, as Python 3.11's
    asyncio.wait_for lets a job go on when a cancellation meets a completing operation."""
    supervisor = WorkerSupervisor(settings)
    worker = build_worker(settings, handle_signals=False, ctx=supervisor.ctx)

    async def job() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancellations.append(1)
        await asyncio.sleep(30)

    task = asyncio.create_task(job())
    await asyncio.sleep(0)
    worker.tasks["deliver:lost"] = task
    supervisor.worker = worker
    return supervisor, worker, task


async def test_a_stopping_supervisor_cancels_again_a_job_that_lost_its_cancellation(settings: Settings) -> None:
    cancellations: list[int] = []
    supervisor, worker, task = await _running_a_job_that_loses_its_first_cancellation(settings, cancellations)
    supervisor.stop(signal.SIGTERM)  # arq's handle_sig cancels the job
    # Well within the grace period: the stop does not wait it out for a job that went on.
    await asyncio.wait_for(supervisor._retire(worker), timeout=STOP_GRACE_SECONDS / 2)
    assert task.cancelled()
    assert cancellations == [1]


async def test_a_signal_while_jobs_wind_down_after_a_lost_redis_ends_the_wait(settings: Settings) -> None:
    cancellations: list[int] = []
    supervisor, worker, task = await _running_a_job_that_loses_its_first_cancellation(settings, cancellations)
    # Redis was lost (no signal yet): the supervisor waits for the job; SIGTERM comes a moment later.
    retiring = asyncio.create_task(supervisor._retire(worker))
    await asyncio.sleep(0.2)
    assert not retiring.done(), "without a signal the supervisor lets the job run on"
    supervisor.stop(signal.SIGTERM)
    # Before: the wait went on for the grace period plus the Redis retry window.
    await asyncio.wait_for(retiring, timeout=STOP_GRACE_SECONDS / 2)
    assert task.cancelled()
    assert cancellations == [1]


async def _beats(conn: asyncpg.Connection, name: str) -> int:
    count: int = await conn.fetchval("SELECT count(*) FROM worker_heartbeats WHERE worker_name = $1", name)
    return count
