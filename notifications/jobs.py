"""arq jobs and crons of the notifications area: plain async functions that take ids.

`deliver_email(ctx, citizen_id, notification_id)` is idempotent: a delivery already sent (or given up on) is
skipped, and a delivery another attempt is working on is left alone. Temporary failures (SMTP 4xx, connection
refused, timeouts) are retried with exponential backoff up to MAX_ATTEMPTS attempts in all, counted in
PostgreSQL, then the delivery is marked failed; a 5xx answer marks it failed at once. The notice itself is in the
inbox whatever happens to the e-mail.

`deliver_push` (notifications.push_jobs) does the same for Web Push.

Wiring (backend/worker.py): `functions=[*WORKER_FUNCTIONS]`, `cron_jobs=[..., *WORKER_CRONS]`, and
`start_relay(ctx)` / `stop_relay(ctx)` from notifications.relay and `start_email(ctx)` / `stop_email(ctx)` where
the process opens and closes its resources (open_resources / close_resources: once per process, not per arq
worker, so that the relay carries on while Redis is away).
"""

from __future__ import annotations

import logging
from typing import Any, Final
from uuid import UUID

from arq import Retry, cron
from arq.cron import CronJob
from arq.worker import Function, func

from backend.core.db import ConnectionSource
from backend.core.settings import Settings
from notifications import delivery_queries
from notifications.channels.email import OutgoingEmail, waiting_message
from notifications.channels.failures import PermanentFailure, TemporaryFailure
from notifications.channels.smtp_pool import SmtpPool, send_once
from notifications.delivery_policy import (
    DELIVERY_TIMEOUT_SECONDS,
    LEASE_SECONDS,
    MAX_ATTEMPTS,
    RETRY_BASE_SECONDS,
    retry_delay,
)
from notifications.flexi import evaluate_flexi_daily
from notifications.notices import collect_notices
from notifications.push_jobs import deliver_push
from notifications.relay import DELIVER_EMAIL, DELIVER_PUSH
from notifications.sweeper import sweep_deliveries

logger = logging.getLogger("vitrine.notifications.jobs")


def inbox_url(settings: Settings, notification_id: UUID) -> str:
    """The absolute address of a notice's page (an internal id only: no personal data in URLs)."""
    return f"{settings.base_url.rstrip('/')}/inbox/{notification_id}"


async def _give_up(source: ConnectionSource, citizen_id: UUID, notification_id: UUID, reason: str) -> str:
    async with source() as conn:
        await delivery_queries.update_failed(conn, citizen_id, notification_id, "email", error=reason)
    logger.warning("e-mail delivery failed", extra={"notification_id": str(notification_id), "reason": reason})
    return "failed"


async def start_email(ctx: dict[str, Any]) -> None:
    """Worker start-up: open the worker's pool of SMTP connections (shared by every delivery job)."""
    settings: Settings = ctx["settings"]
    ctx["smtp_pool"] = SmtpPool(settings.smtp_url)


async def stop_email(ctx: dict[str, Any]) -> None:
    """Worker shutdown: close the SMTP connections."""
    pool: SmtpPool | None = ctx.pop("smtp_pool", None)
    if pool is not None:
        await pool.close()


async def _send(ctx: dict[str, Any], email: OutgoingEmail) -> None:
    pool: SmtpPool | None = ctx.get("smtp_pool")
    if pool is None:
        await send_once(email, ctx["settings"].smtp_url)
    else:
        await pool.send(email)


async def deliver_email(ctx: dict[str, Any], citizen_id: str, notification_id: str) -> str:
    """Send the "a message is waiting" e-mail for one notice, at most once successfully; what happened.

    Two round trips to PostgreSQL when all goes well, each one statement in its own transaction: claim the
    delivery and read what the message needs, then record the result. The claim commits before the SMTP
    exchange, so the lease protects the attempt whatever happens to this job.
    """
    source: ConnectionSource = ctx["connection_source"]
    settings: Settings = ctx["settings"]
    person_id, notice_id = UUID(citizen_id), UUID(notification_id)
    async with source() as conn:
        claim = await delivery_queries.claim_email_delivery(conn, person_id, notice_id, lease_seconds=LEASE_SECONDS)
        if claim is None:
            current = await delivery_queries.select_delivery(conn, person_id, notice_id, "email")
            return f"skipped ({'unknown' if current is None else current.status})"
    if claim.language is None or not claim.email:
        return await _give_up(source, person_id, notice_id, "no e-mail address on file")
    try:
        email = waiting_message(
            to=claim.email,
            mail_from=settings.mail_from,
            language=claim.language,
            notification_url=inbox_url(settings, notice_id),
            preferences_url=f"{settings.base_url.rstrip('/')}/inbox/preferences",
        )
    except ValueError:
        return await _give_up(source, person_id, notice_id, "the e-mail address on file is not valid")
    try:
        await _send(ctx, email)
    except PermanentFailure as failure:
        return await _give_up(source, person_id, notice_id, failure.reason)
    except TemporaryFailure as failure:
        if claim.attempts >= MAX_ATTEMPTS:
            return await _give_up(source, person_id, notice_id, f"{failure.reason} (after {claim.attempts} attempts)")
        delay = retry_delay(claim.attempts, float(ctx.get("delivery_retry_base_seconds", RETRY_BASE_SECONDS)))
        async with source() as conn:
            await delivery_queries.update_retry(
                conn, person_id, notice_id, "email", error=failure.reason, defer_seconds=delay
            )
        raise Retry(defer=delay) from None
    async with source() as conn:
        await delivery_queries.update_sent(conn, person_id, notice_id, "email")
    return "sent"


# keep_result=0: nothing is kept in Redis once a delivery job ends, so the sweeper can queue the same id again at
# once if PostgreSQL says the delivery is unfinished. max_tries is above MAX_ATTEMPTS: PostgreSQL counts attempts.
WORKER_FUNCTIONS: Final[list[Function]] = [
    func(
        deliver_email,
        name=DELIVER_EMAIL,
        keep_result=0,
        max_tries=MAX_ATTEMPTS * 4,
        timeout=DELIVERY_TIMEOUT_SECONDS,
    ),
    func(
        deliver_push,
        name=DELIVER_PUSH,
        keep_result=0,
        max_tries=MAX_ATTEMPTS * 4,
        timeout=DELIVERY_TIMEOUT_SECONDS,
    ),
]

WORKER_CRONS: Final[list[CronJob]] = [
    # Re-enqueue deliveries whose job was lost, and relay anything the relay task missed.
    cron(sweep_deliveries, second={10}, unique=True, run_at_startup=True),
    # Mandate reminders, access alerts and contest answers become outbox rows.
    cron(collect_notices, second={40}, unique=True),
    # The flexi rule again for every counter near a limit: a safety net behind the evaluation at ingest.
    cron(evaluate_flexi_daily, hour={4}, minute={20}, second={0}, unique=True),
]
