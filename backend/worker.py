"""Composition root for the worker process: every area's arq jobs and crons, wired to shared resources.

Jobs are plain async functions that take ids; resources (the database pool) live in `ctx`.

`vitrine worker` runs a supervisor (`WorkerSupervisor`) rather than a bare arq worker: it opens the process's
resources once (database pool, SMTP connections, outbox relay) and starts the arq worker again whenever it stops
because Redis is unreachable, so that no outage of Redis, however long, ends the process. The relay and the
heartbeat need only PostgreSQL and carry on meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
import time
from datetime import UTC, datetime
from typing import Any, Final

import asyncpg
from arq import cron
from arq.connections import RedisSettings
from arq.worker import Worker
from prometheus_client import Counter, Histogram, start_http_server
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from backend.access_log.queries import create_partition
from backend.core.auth import rate_limit
from backend.core.auth.assertion_queries import delete_expired_assertions
from backend.core.auth.oidc_queries import delete_stale_login_attempts
from backend.core.cancellation import RECANCEL_SECONDS, cancel_until_done
from backend.core.db import create_pool, pool_source, transaction
from backend.core.log_setup import configure_logging
from backend.core.redis_retry import WindowRetry
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
from notifications.relay import redis_answers, relay_redis, start_relay, stop_relay

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


# Set in ctx when a supervisor holds the process's resources: the arq worker's start-up and shutdown leave them.
SUPERVISED: Final = "supervised"


async def open_resources(ctx: dict[str, Any]) -> None:
    """Open the database pool, report the first heartbeat, open the SMTP pool and start the outbox relay."""
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


async def close_resources(ctx: dict[str, Any]) -> None:
    """Stop the relay, close the SMTP pool, remove the heartbeat row and close the database pool."""
    await stop_relay(ctx)
    await stop_email(ctx)
    pool = ctx.get("db_pool")
    if pool is None:
        return
    async with transaction(ctx["connection_source"]) as conn:
        await delete_heartbeat(conn, name=ctx["worker_name"])
    await pool.close()


async def on_startup(ctx: dict[str, Any]) -> None:
    """arq start-up: open the process's resources (`open_resources`), unless a supervisor already holds them."""
    if not ctx.get(SUPERVISED):
        await open_resources(ctx)


async def on_shutdown(ctx: dict[str, Any]) -> None:
    """arq shutdown: close what `on_startup` opened (a supervisor closes its own resources when it stops)."""
    if not ctx.get(SUPERVISED):
        await close_resources(ctx)


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


# A Redis restart is ridden out by the running arq worker: its commands retry their connection with backoff (up to
# a second apart) for WORKER_REDIS_RETRY_SECONDS from the first failure. Past that the arq worker stops, the
# process does not: the supervisor starts a new one as soon as Redis answers.
REDIS_BACKOFF: Final = ExponentialBackoff(cap=1.0, base=0.05)
# The supervisor's wait between attempts while Redis is away: doubling from one second, at most fifteen.
RESTART_FIRST_SECONDS: Final = 1.0
RESTART_MAX_SECONDS: Final = 15.0
# How long the jobs of an arq worker stopped by a signal may take to end (they are cancelled and queued again).
STOP_GRACE_SECONDS: Final = 10.0


def worker_redis_settings(redis_url: str, *, retry_seconds: float = 60.0) -> RedisSettings:
    """The worker's Redis connection: the URL's server, with commands retried while Redis is unreachable.

    The connection is tried once at start (its first command already retries for the window): waiting for Redis
    to come back is the supervisor's job.
    """
    return dataclasses.replace(
        RedisSettings.from_dsn(redis_url),
        conn_retries=0,
        retry_on_error=[RedisConnectionError, RedisTimeoutError, OSError],
        retry=WindowRetry(REDIS_BACKOFF, retry_seconds),
    )


def check_worker_settings(settings: Settings) -> None:
    """Raise SettingsError naming the URL a worker needs and lacks."""
    if settings.database_url is None:
        raise SettingsError("DATABASE_URL: not set (`make run` starts an embedded database)")
    if settings.redis_url is None:
        raise SettingsError("REDIS_URL: not set (`make run` starts an embedded Redis)")


def build_worker(
    settings: Settings, *, burst: bool = False, handle_signals: bool = True, ctx: dict[str, Any] | None = None
) -> Worker:
    """An arq worker with every job and cron of Vitrine (`ctx`: resources a supervisor already holds)."""
    check_worker_settings(settings)
    assert settings.redis_url is not None
    return Worker(
        functions=[*NOTIFICATION_FUNCTIONS],
        cron_jobs=[
            cron(heartbeat, second={0, 30}, run_at_startup=False, unique=False),
            cron(purge_expired_auth_state, minute={7}, second={0}, unique=True),
            cron(sweep_expired_mandates, minute={5, 35}, second={0}, unique=True),
            cron(create_access_log_partitions, hour={3}, minute={15}, second={0}, run_at_startup=True, unique=True),
            *NOTIFICATION_CRONS,
        ],
        redis_settings=worker_redis_settings(settings.redis_url, retry_seconds=settings.worker_redis_retry_seconds),
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        on_job_start=on_job_start,
        after_job_end=after_job_end,
        ctx=ctx if ctx is not None else {"settings": settings},
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


class WorkerSupervisor:
    """Runs the process: resources opened once, an arq worker (re)started whenever Redis answers, until a signal.

    SIGTERM and SIGINT stop it at any moment: during a job (arq cancels the job, which is queued again and whose
    delivery PostgreSQL still holds), while Redis is away (the wait ends at once), or while the arq worker starts.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.ctx: dict[str, Any] = {"settings": settings, SUPERVISED: True}
        self.stopping = asyncio.Event()
        self.worker: Worker | None = None

    def stop(self, signum: signal.Signals) -> None:
        """Signal handler: stop the arq worker if one runs, and end the supervisor's loop."""
        if not self.stopping.is_set():
            logger.info("stopping", extra={"signal": signum.name})
        self.stopping.set()
        if self.worker is not None:
            self.worker.handle_sig(signum)

    async def run(self) -> None:
        """Open the resources, keep an arq worker running while Redis answers, close everything on a signal."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self.stop, signum)
        try:
            await open_resources(self.ctx)
            try:
                await self._supervise()
            finally:
                await close_resources(self.ctx)
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)

    async def _redis_answers(self) -> bool:
        # A client of its own each time, failing fast: nothing stale is left from before an outage.
        assert self.settings.redis_url is not None
        probe = relay_redis(self.settings.redis_url)
        try:
            return await redis_answers(probe)
        finally:
            await probe.aclose()

    async def _supervise(self) -> None:
        delay = RESTART_FIRST_SECONDS
        attempt = 0
        while not self.stopping.is_set():
            attempt += 1
            details: dict[str, Any] = {}
            if await self._redis_answers():
                started = time.monotonic()
                failure = await self._run_arq_worker()
                if failure is None:
                    return
                if time.monotonic() - started > RESTART_MAX_SECONDS:
                    # It ran a good while: this is a new outage, start the backoff over.
                    delay, attempt = RESTART_FIRST_SECONDS, 1
                message = "the worker lost Redis; it takes jobs again once Redis answers"
                details["error"] = f"{type(failure).__name__}: {failure}"
            else:
                message = "Redis cannot be reached; the worker takes jobs again once it answers"
            # One line per attempt, no stack trace: an outage is an expected state, not a fault of the program.
            logger.warning(message, extra={**details, "attempt": attempt, "next_try_in_seconds": delay})
            await self._beat()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), timeout=delay)
            delay = min(delay * 2, RESTART_MAX_SECONDS)

    async def _run_arq_worker(self) -> BaseException | None:
        """Run one arq worker until it stops; the Redis failure that stopped it, or None after a signal.

        Any other failure is raised: it is a fault of the program, not of Redis.
        """
        worker = build_worker(self.settings, handle_signals=False, ctx=self.ctx)
        self.worker = worker
        main = asyncio.create_task(worker.main(), name="arq-worker")
        # arq's handle_sig cancels main_task: a signal stops the worker wherever it is.
        worker.main_task = main
        if self.stopping.is_set():
            main.cancel()
        try:
            await asyncio.wait({main})
        finally:
            await self._retire(worker)
            self.worker = None
        if main.cancelled():
            return None
        failure = main.exception()
        if failure is None or self.stopping.is_set():
            return None
        if isinstance(failure, RedisError | OSError | TimeoutError):
            return failure
        raise failure

    async def _retire(self, worker: Worker) -> None:
        """Let a stopped arq worker's jobs end, then close its Redis connections.

        After a signal the jobs were cancelled (arq queues them again), and are cancelled again while they run on;
        after a lost Redis they end when their own Redis calls give up, or are cancelled when they do not in time.
        """
        tasks = [task for task in worker.tasks.values() if not task.done()]
        if tasks:
            # Bounded: a job that ignores cancellation altogether must not hold the stop for ever.
            late = await self._wait_unless_stopped(tasks, STOP_GRACE_SECONDS + self.settings.worker_redis_retry_seconds)
            await cancel_until_done(late, within=STOP_GRACE_SECONDS)
        # What the ended ones raised is expected here, and must not be reported as unretrieved.
        await asyncio.gather(*(task for task in worker.tasks.values() if task.done()), return_exceptions=True)
        pool = worker._pool
        if pool is None:
            return
        if self.stopping.is_set():
            # A clean stop forgets arq's health mark, as arq's own close does; Redis may be gone, so only briefly.
            with contextlib.suppress(RedisError, OSError, TimeoutError):
                await asyncio.wait_for(pool.delete(worker.health_check_key), timeout=2.0)
        await pool.aclose(close_connection_pool=True)

    async def _wait_unless_stopped(self, tasks: list[asyncio.Task[Any]], seconds: float) -> set[asyncio.Task[Any]]:
        """The jobs still running after up to `seconds` of waiting for them, a wait a signal ends at once.

        After a signal arq has cancelled them (handle_sig), whether it came before the wait or during it; a
        cancellation can be lost (backend.core.cancellation), so those still running after a moment's clean-up
        are returned to be cancelled again. Without a signal (a lost Redis) they have the whole wait to end.
        """
        pending = set(tasks)
        stopped = asyncio.ensure_future(self.stopping.wait())
        deadline = asyncio.get_running_loop().time() + seconds
        try:
            while pending and not self.stopping.is_set():
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    break
                done, _ = await asyncio.wait(
                    {*pending, stopped}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
                )
                pending -= done
        finally:
            stopped.cancel()
            await asyncio.gather(stopped, return_exceptions=True)
        if pending and self.stopping.is_set():
            # arq's handle_sig cancelled them; those still running a moment later lost that cancellation.
            _, pending = await asyncio.wait(pending, timeout=RECANCEL_SECONDS)
        return pending

    async def _beat(self) -> None:
        """The heartbeat while no arq worker runs its cron: the process is alive, PostgreSQL permitting."""
        try:
            await heartbeat(self.ctx)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            logger.warning("could not record the heartbeat", extra={"error": type(error).__name__})


def run_worker(settings: Settings) -> None:
    """Run the worker until SIGINT/SIGTERM, through Redis outages of any length."""
    configure_logging(settings.log_level)
    if settings.worker_metrics_port:
        start_http_server(settings.worker_metrics_port, addr=settings.host)
    check_worker_settings(settings)
    asyncio.run(WorkerSupervisor(settings).run())
