"""The outbox relay: waiting outbox rows become notices and deliveries; commit; then delivery jobs are enqueued.

Woken by LISTEN (the outbox trigger notifies at commit) and polling every few seconds as a safety net. Rows are
claimed with FOR UPDATE SKIP LOCKED, so several workers may relay at once without taking the same row.

PostgreSQL alone decides what a person has: the relay turns rows into notices (in the inbox at once) and pending
e-mail and push deliveries whether or not Redis answers. Only the queueing of delivery jobs needs Redis; a job
that could not be queued stays 'pending' in PostgreSQL, and the relay task queues every pending delivery as soon
as Redis answers again (`queue_pending`), by the same deterministic job id. Only ids travel through Redis; a job
lost after it was queued is found again by the sweeper (notifications.sweeper).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final, NamedTuple, cast
from uuid import UUID

import asyncpg
from arq.connections import ArqRedis
from arq.constants import result_key_prefix
from redis.exceptions import RedisError

from backend.core.db import ConnectionSource, connect, transaction
from backend.core.settings import Settings
from notifications import delivery_queries, notification_queries, outbox_queries, preference_queries, push_queries
from notifications.outbox import RELAY_CHANNEL
from notifications.preferences import DEFAULT_ENABLED
from notifications.rendering import RenderError, render_notice
from notifications.schemas import Channel, DeliveryJob, DeliveryStatus, OutboxEntry, Rendered

logger = logging.getLogger("vitrine.notifications.relay")

POLL_SECONDS: Final = 5.0
BATCH_SIZE: Final = 100
# Pending deliveries read per statement when queueing what waited for Redis.
PENDING_PAGE: Final = 500
# The relay's own Redis client gives up on a connection or an answer after this long.
REDIS_TIMEOUT_SECONDS: Final = 2.0
DELIVER_EMAIL: Final = "deliver_email"
DELIVER_PUSH: Final = "deliver_push"
# The arq function that delivers each channel's deliveries.
DELIVERY_FUNCTIONS: Final[dict[Channel, str]] = {"email": DELIVER_EMAIL, "push": DELIVER_PUSH}


def delivery_job_id(citizen_id: UUID, notification_id: UUID, channel: Channel = "email") -> str:
    """The deterministic arq job id of a delivery: the same delivery is queued once, whoever enqueues it."""
    return f"deliver:{channel}:{citizen_id}:{notification_id}"


async def enqueue_delivery(redis: ArqRedis, job: DeliveryJob, *, forget_result: bool = False) -> bool:
    """Queue the delivery job (ids only); False when a job with its id is already queued or running.

    `forget_result` (the sweeper): PostgreSQL says the delivery is unfinished, so a result Redis still keeps for
    this id (a job arq itself gave up on) must not stop it being queued again.
    """
    job_id = delivery_job_id(job.citizen_id, job.notification_id, job.channel)
    if forget_result:
        await redis.delete(result_key_prefix + job_id)
    function = DELIVERY_FUNCTIONS[job.channel]
    queued = await redis.enqueue_job(function, str(job.citizen_id), str(job.notification_id), _job_id=job_id)
    return queued is not None


async def materialise_batch(conn: asyncpg.Connection, entries: Sequence[OutboxEntry]) -> tuple[int, list[DeliveryJob]]:
    """Render outbox rows into notices with their deliveries and mark them relayed, in the caller's transaction,
    a few statements for the whole batch; how many rows were relayed, and the jobs to queue.

    The inbox is always delivered (the notice is there); e-mail when the person has an address and did not turn
    e-mail off for this kind; push when the person has an active device and did not turn push off for this kind.
    The text is rendered now, in the person's language, and kept. A row that cannot be rendered is logged and
    left waiting; it never blocks the others.
    """
    citizens = sorted({entry.citizen_id for entry in entries})
    recipients = await notification_queries.select_recipients(conn, citizens)
    rendered: list[tuple[OutboxEntry, Rendered]] = []
    for entry in entries:
        language, _ = recipients[entry.citizen_id]
        try:
            rendered.append((entry, render_notice(entry.kind, entry.payload, language)))
        except RenderError:
            logger.exception("outbox row cannot be rendered", extra={"outbox_id": str(entry.outbox_id)})
    if not rendered:
        return 0, []
    choices = await preference_queries.select_choices(conn, [(entry.citizen_id, entry.kind) for entry, _ in rendered])
    with_devices = await push_queries.select_with_active(conn, citizens)
    notice_ids = await notification_queries.insert_notifications(
        conn, [(entry.citizen_id, entry.outbox_id, notice) for entry, notice in rendered]
    )
    rows: list[tuple[UUID, UUID, Channel, DeliveryStatus]] = []
    jobs: list[DeliveryJob] = []
    for entry, _ in rendered:
        notification_id = notice_ids[entry.outbox_id]
        rows.append((entry.citizen_id, notification_id, "inbox", "sent"))
        wanted: tuple[tuple[Channel, bool], ...] = (
            ("email", recipients[entry.citizen_id][1]),
            ("push", entry.citizen_id in with_devices),
        )
        for channel, reachable in wanted:
            if reachable and choices.get((entry.citizen_id, entry.kind, channel), DEFAULT_ENABLED):
                rows.append((entry.citizen_id, notification_id, channel, "pending"))
                jobs.append(DeliveryJob(citizen_id=entry.citizen_id, notification_id=notification_id, channel=channel))
    await delivery_queries.insert_delivery_rows(conn, rows)
    await outbox_queries.update_enqueued_many(conn, [(entry.citizen_id, entry.outbox_id) for entry, _ in rendered])
    return len(rendered), jobs


async def materialise(conn: asyncpg.Connection, entry: OutboxEntry) -> list[DeliveryJob]:
    """One outbox row into its notice and deliveries, marked relayed (see materialise_batch)."""
    _, jobs = await materialise_batch(conn, [entry])
    return jobs


async def redis_answers(redis: ArqRedis) -> bool:
    """Whether Redis answers a PING now."""
    try:
        await redis.ping()
    except (RedisError, OSError, TimeoutError):
        return False
    return True


async def enqueue_until_failure(
    redis: ArqRedis, jobs: Sequence[DeliveryJob], *, forget_results: bool = False
) -> tuple[int, int]:
    """Queue jobs until Redis fails: (how many were newly queued, how many were left unqueued by a failure).

    A job left unqueued stays 'pending' (or 'sending') in PostgreSQL: nothing is lost, it is queued later.
    """
    queued = 0
    for index, job in enumerate(jobs):
        try:
            queued += await enqueue_delivery(redis, job, forget_result=forget_results)
        except (RedisError, OSError, TimeoutError):
            left = len(jobs) - index
            logger.warning("could not enqueue deliveries; they wait in PostgreSQL", extra={"left": left})
            return queued, left
    return queued, 0


async def enqueue_all(redis: ArqRedis, jobs: list[DeliveryJob], *, forget_results: bool = False) -> int:
    """Queue jobs until Redis fails; what is left stays unfinished in PostgreSQL. How many were newly queued."""
    queued, _ = await enqueue_until_failure(redis, jobs, forget_results=forget_results)
    return queued


class RelayRun(NamedTuple):
    """What one relay run did: outbox rows turned into notices, and delivery jobs it could not queue."""

    relayed: int
    unqueued: int


async def relay_outbox(source: ConnectionSource, redis: ArqRedis | None, *, batch_size: int = BATCH_SIZE) -> RelayRun:
    """Relay every waiting outbox row, a batch per transaction, and queue each batch's jobs after its commit.

    `redis` None means Redis is known to be unreachable: the rows still become notices and pending deliveries,
    and no job is queued. Once a queueing fails, the rest of the run queues nothing (it would only fail again).
    """
    relayed = unqueued = 0
    while True:
        async with transaction(source) as conn:
            entries = await outbox_queries.claim_waiting(conn, limit=batch_size)
            done, jobs = await materialise_batch(conn, entries)
        relayed += done
        if redis is None:
            unqueued += len(jobs)
        else:
            _, left = await enqueue_until_failure(redis, jobs)
            unqueued += left
            if left:
                redis = None
        # A short batch was the last; a batch of rows that all failed to render would only come back again.
        if len(entries) < batch_size or not done:
            return RelayRun(relayed=relayed, unqueued=unqueued)


async def run_relay_once(source: ConnectionSource, redis: ArqRedis, *, batch_size: int = BATCH_SIZE) -> int:
    """Relay every waiting outbox row, a batch per transaction; how many rows were relayed.

    Each batch is committed before its jobs are queued, so a job never names a notice that might be rolled
    back. The rows are relayed even when Redis cannot be reached: their notices are in the inbox, and the jobs
    left unqueued wait in PostgreSQL as pending deliveries for `queue_pending` (or the sweeper). A row that cannot
    be rendered is logged and left waiting (it never blocks the others).
    """
    reachable = await redis_answers(redis)
    run = await relay_outbox(source, redis if reachable else None, batch_size=batch_size)
    return run.relayed


async def queue_pending(
    source: ConnectionSource, redis: ArqRedis, *, page_size: int = PENDING_PAGE
) -> tuple[int, bool]:
    """Queue the job of every due 'pending' e-mail and push delivery, however recent: (newly queued, complete).

    Run when Redis answers again after the relay could not queue. Exactly once holds: the job id is the
    delivery's own, so a job still queued is not queued twice, and a job that runs for a delivery already taken
    or finished finds nothing to claim in PostgreSQL. `complete` is False when Redis failed again part way.
    """
    queued = 0
    after: tuple[datetime, UUID, UUID, str] | None = None
    while True:
        async with transaction(source) as conn:
            page = await delivery_queries.select_pending_page(conn, after=after, limit=page_size)
        newly, left = await enqueue_until_failure(redis, [job for _, job in page])
        queued += newly
        if left:
            return queued, False
        if len(page) < page_size:
            return queued, True
        updated_at, last = page[-1]
        after = (updated_at, last.citizen_id, last.notification_id, last.channel)


async def _listen(dsn: str, wake: asyncio.Event) -> asyncpg.Connection:
    listener = await connect(dsn)
    await listener.add_listener(RELAY_CHANNEL, lambda *_: wake.set())
    return listener


def relay_redis(redis_url: str) -> ArqRedis:
    """The relay's own Redis client: it connects on first use and fails fast, so that an unreachable Redis never
    holds up the notices (the relay task tries again at its next run)."""
    # from_url hands the connection pool to the client, so closing the client closes its connections too.
    client = ArqRedis.from_url(
        redis_url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
    )
    return cast(ArqRedis, client)


async def relay_task(
    ctx: dict[str, Any],
    *,
    poll_seconds: float = POLL_SECONDS,
    redis: ArqRedis | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Relay forever: after each NOTIFY, and every `poll_seconds` anyway. Survives database and Redis outages.

    Listens on a connection of its own (a LISTEN holds its connection for as long as it listens), and queues
    through `redis` or, by default, a Redis client of its own that fails fast. Whenever jobs could not be queued
    (and once at start, for what a previous process left), it queues every pending delivery at the first run that
    finds Redis answering. Ends when cancelled, or at its next turn once `stop` is set.
    """
    source: ConnectionSource = ctx["connection_source"]
    settings: Settings = ctx["settings"]
    assert settings.database_url is not None
    own_redis: ArqRedis | None = None
    if redis is None and settings.redis_url is not None:
        redis = own_redis = relay_redis(settings.redis_url)
    wake = asyncio.Event()
    listener: asyncpg.Connection | None = None
    owed = True
    try:
        while stop is None or not stop.is_set():
            try:
                if listener is None or listener.is_closed():
                    listener = await _listen(settings.database_url, wake)
                # Cleared before the run: a NOTIFY arriving during the run wakes the next one at once.
                wake.clear()
                reachable = redis is not None and await redis_answers(redis)
                if owed and reachable and redis is not None:
                    queued, complete = await queue_pending(source, redis)
                    owed = not complete
                    if queued:
                        logger.info("queued deliveries left pending while Redis was away", extra={"queued": queued})
                run = await relay_outbox(source, redis if reachable else None)
                if run.unqueued and not owed:
                    logger.warning(
                        "Redis cannot be reached: notices are in the inbox, their deliveries wait in PostgreSQL",
                        extra={"unqueued": run.unqueued},
                    )
                owed = owed or run.unqueued > 0
            except (OSError, RedisError, asyncpg.PostgresError, asyncpg.InterfaceError):
                logger.exception("relay run failed; trying again")
                if listener is not None:
                    listener.terminate()
                listener = None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=poll_seconds)
    finally:
        if listener is not None and not listener.is_closed():
            await listener.close()
        if own_redis is not None:
            await own_redis.aclose()


# How long stop_relay waits for the relay to end before cancelling it again.
STOP_RETRY_SECONDS: Final = 1.0


async def start_relay(ctx: dict[str, Any]) -> None:
    """Start the relay beside the worker's jobs (call from the worker's on_startup, after the pool exists)."""
    stop = ctx["notification_relay_stop"] = asyncio.Event()
    ctx["notification_relay"] = asyncio.create_task(relay_task(ctx, stop=stop), name="notification-relay")


async def stop_relay(ctx: dict[str, Any]) -> None:
    """Stop the relay (call from the worker's on_shutdown, before the pool closes).

    A cancellation can be lost inside a library's clean-up: a rollback or a disconnect that fails on the
    cancelled operation raises an error the relay treats as a failed run, and its loop goes on. So the relay is
    also told to stop (it checks at every turn), and cancelled again until it has ended.
    """
    stop: asyncio.Event | None = ctx.pop("notification_relay_stop", None)
    if stop is not None:
        stop.set()
    task: asyncio.Task[None] | None = ctx.pop("notification_relay", None)
    if task is None:
        return
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=STOP_RETRY_SECONDS)
    if not task.cancelled() and task.exception() is not None:
        logger.error("the relay ended with an error", exc_info=task.exception())
