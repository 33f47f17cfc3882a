"""Composition root for the worker process: every area's arq jobs and crons, wired to shared resources.

Jobs are plain async functions that take ids; resources (the database pool) live in `ctx`.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from datetime import UTC, datetime
from typing import Any

from arq import cron
from arq.connections import RedisSettings
from arq.worker import Worker
from prometheus_client import Counter, Histogram, start_http_server
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from backend.access_log.queries import create_partition
from backend.core.auth import rate_limit
from backend.core.auth.assertion_queries import delete_expired_assertions
from backend.core.auth.oidc_queries import delete_stale_login_attempts
from backend.core.db import create_pool, pool_source, transaction
from backend.core.log_setup import configure_logging
from backend.core.settings import Settings, SettingsError
from backend.core.worker_health import (
    delete_heartbeat,
    delete_stale_heartbeats,
    upsert_heartbeat,
    worker_name,
)
from backend.records.service import on_records_accepted
from consent.sweeps import sweep_expired_mandates
from notifications.flexi import evaluate_flexi_after_ingest
from notifications.jobs import WORKER_CRONS as NOTIFICATION_CRONS
from notifications.jobs import WORKER_FUNCTIONS as NOTIFICATION_FUNCTIONS
from notifications.jobs import start_email, stop_email
from notifications.push_keys import vapid_private_key
from notifications.relay import start_relay, stop_relay

on_records_accepted(evaluate_flexi_after_ingest)

logger = logging.getLogger("vitrine.worker")

JOBS_FINISHED = Counter("vitrine_jobs_finished", "Jobs finished by this worker", ["function", "outcome"])
JOB_SECONDS = Histogram("vitrine_job_seconds", "Time spent running a job", ["function"])
STALE_AFTER_SECONDS = 15 * 60
WORKER_MAX_JOBS = 50
WORKER_POLL_SECONDS = 0.05


async def heartbeat(ctx: dict[str, Any]) -> None:
    """Cron: say this worker is alive, and forget workers silent for a quarter of an hour."""
    async with transaction(ctx["connection_source"]) as conn:
        await upsert_heartbeat(
            conn, name=ctx["worker_name"], started_at=ctx["started_at"], jobs_done=ctx["stats"]["jobs_done"]
        )
        await delete_stale_heartbeats(conn, older_than_seconds=STALE_AFTER_SECONDS)


async def purge_expired_auth_state(ctx: dict[str, Any]) -> None:
    """Cron: forget spent assertion ids past their expiry, abandoned sign-ins and old rate-limit windows."""
    source = ctx["connection_source"]
    async with transaction(source) as conn:
        assertions = await delete_expired_assertions(conn)
        attempts = await delete_stale_login_attempts(conn)
    windows = await rate_limit.delete_old_windows(source)
    logger.info("purged", extra={"assertions": assertions, "login_attempts": attempts, "rate_windows": windows})


PARTITION_MONTHS_AHEAD = 3


async def create_access_log_partitions(ctx: dict[str, Any]) -> None:
    """Cron: make sure the access log has partitions for this month and the next three.

    Daily and idempotent, so a missed run or a stopped worker is caught up long before a month begins.
    """
    now = datetime.now(UTC)
    async with transaction(ctx["connection_source"]) as conn:
        for months in range(PARTITION_MONTHS_AHEAD + 1):
            year, month = divmod(now.month - 1 + months, 12)
            await create_partition(conn, datetime(now.year + year, month + 1, 1, tzinfo=UTC))


async def on_startup(ctx: dict[str, Any]) -> None:
    """Open the database pool and report the first heartbeat."""
    settings: Settings = ctx["settings"]
    assert settings.database_url is not None
    # Read the Web Push key now: a bad VAPID_PRIVATE_KEY stops the worker before it takes a job.
    vapid_private_key(settings)
    ctx["db_pool"] = await create_pool(
        settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max
    )
    ctx["connection_source"] = pool_source(ctx["db_pool"])
    ctx["worker_name"] = worker_name()
    ctx["started_at"] = datetime.now(UTC)
    # arq copies ctx for each job, so counters live in a dict shared by reference.
    ctx["stats"] = {"jobs_done": 0}
    await heartbeat(ctx)
    await start_email(ctx)
    await start_relay(ctx)
    logger.info("worker started", extra={"worker": ctx["worker_name"]})


async def on_shutdown(ctx: dict[str, Any]) -> None:
    """Stop the relay, remove the heartbeat row and close the pool."""
    await stop_relay(ctx)
    await stop_email(ctx)
    pool = ctx.get("db_pool")
    if pool is None:
        return
    async with transaction(ctx["connection_source"]) as conn:
        await delete_heartbeat(conn, name=ctx["worker_name"])
    await pool.close()


async def on_job_start(ctx: dict[str, Any]) -> None:
    """Remember when the job started, for the duration histogram."""
    ctx["job_started"] = time.perf_counter()


def job_label(job_id: str) -> str:
    """A metrics label from a deterministic job id such as `deliver:123` or `cron:heartbeat:…`."""
    parts = job_id.split(":")
    if parts[0] == "cron" and len(parts) > 1:
        return f"cron:{parts[1]}"
    return parts[0] or "unknown"


async def after_job_end(ctx: dict[str, Any]) -> None:
    """Count the finished job and time it."""
    ctx["stats"]["jobs_done"] += 1
    function = job_label(str(ctx.get("job_id", "")))
    started = ctx.pop("job_started", None)
    if started is not None:
        JOB_SECONDS.labels(function).observe(time.perf_counter() - started)
    JOBS_FINISHED.labels(function, "done").inc()


# A Redis restart is ridden out rather than fatal: each command retries its connection with backoff (up to a
# second apart, about a minute in all) before the worker gives up and exits for its supervisor to restart it.
REDIS_RETRIES = 60


def worker_redis_settings(redis_url: str) -> RedisSettings:
    """The worker's Redis connection: the URL's server, with commands retried while Redis is unreachable."""
    return dataclasses.replace(
        RedisSettings.from_dsn(redis_url),
        retry_on_error=[RedisConnectionError, RedisTimeoutError, OSError],
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), REDIS_RETRIES),
    )


def build_worker(settings: Settings, *, burst: bool = False, handle_signals: bool = True) -> Worker:
    """An arq worker with every job and cron of Vitrine."""
    if settings.database_url is None:
        raise SettingsError("DATABASE_URL: not set (`make run` starts an embedded database)")
    if settings.redis_url is None:
        raise SettingsError("REDIS_URL: not set (`make run` starts an embedded Redis)")
    return Worker(
        functions=[*NOTIFICATION_FUNCTIONS],
        cron_jobs=[
            cron(heartbeat, second={0, 30}, run_at_startup=False, unique=False),
            cron(purge_expired_auth_state, minute={7}, second={0}, unique=True),
            cron(sweep_expired_mandates, minute={5, 35}, second={0}, unique=True),
            cron(create_access_log_partitions, hour={3}, minute={15}, second={0}, run_at_startup=True, unique=True),
            *NOTIFICATION_CRONS,
        ],
        redis_settings=worker_redis_settings(settings.redis_url),
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        on_job_start=on_job_start,
        after_job_end=after_job_end,
        ctx={"settings": settings},
        burst=burst,
        max_tries=5,
        keep_result=3600,
        handle_signals=handle_signals,
        # Deliveries wait on SMTP and push services, not the CPU: many at once, and a short poll, so that a worker
        # takes new jobs as soon as slots free (arq starts at most the free slots per poll; its defaults, 10 jobs
        # and 0.5 s, cap a worker near 20 deliveries a second). docs/performance.md has the measurements.
        max_jobs=WORKER_MAX_JOBS,
        poll_delay=WORKER_POLL_SECONDS,
    )


def run_worker(settings: Settings) -> None:
    """Run the worker until SIGINT/SIGTERM."""
    configure_logging(settings.log_level)
    if settings.worker_metrics_port:
        start_http_server(settings.worker_metrics_port, addr=settings.host)
    build_worker(settings).run()
