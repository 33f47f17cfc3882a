"""The worker process: heartbeats, job metrics labels, and a real arq worker run."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from backend.core.db import connect, transaction
from backend.core.settings import Settings
from backend.worker import (
    build_worker,
    create_access_log_partitions,
    job_label,
    on_shutdown,
    on_startup,
    purge_expired_auth_state,
)


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
