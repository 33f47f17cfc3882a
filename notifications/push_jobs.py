"""The Web Push delivery job: one delivery per notice, sent to each of the person's active devices once.

`deliver_push(ctx, citizen_id, notification_id)` is idempotent like the e-mail job: a finished delivery is
skipped, an attempt under way elsewhere is left alone, and a device that already accepted the notice (a row in
push_sends) is not sent it again when a later attempt retries the others. Quiet hours are kept: a push that
falls in them waits, without counting an attempt, until they end. 404/410 disables the device; 429, 5xx and
network trouble are retried with backoff (or the push service's Retry-After) up to MAX_ATTEMPTS attempts.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import aiohttp
from arq import Retry

from backend.core.db import ConnectionSource, transaction
from backend.core.settings import Settings
from notifications import delivery_queries, notification_queries, preference_queries, push_queries
from notifications.channels.failures import PermanentFailure
from notifications.channels.push import PushTemporaryFailure, SubscriptionGone, build_push_message, send_push
from notifications.delivery_policy import LEASE_SECONDS, MAX_ATTEMPTS, RETRY_BASE_SECONDS, retry_delay
from notifications.preferences import in_quiet_hours, quiet_hours_end
from notifications.push_keys import vapid_private_key

logger = logging.getLogger("vitrine.notifications.push")


def _now(ctx: dict[str, Any]) -> datetime:
    # Tests may set the clock; the worker uses the real time.
    clock = ctx.get("clock")
    return clock() if callable(clock) else datetime.now(UTC)


async def _finish(source: ConnectionSource, citizen_id: UUID, notification_id: UUID, *, error: str | None) -> str:
    async with transaction(source) as conn:
        if error is None:
            await delivery_queries.update_sent(conn, citizen_id, notification_id, "push")
            return "sent"
        await delivery_queries.update_failed(conn, citizen_id, notification_id, "push", error=error[:500])
    logger.warning("push delivery failed", extra={"notification_id": str(notification_id), "reason": error})
    return "failed"


async def _wait_for_quiet_hours(ctx: dict[str, Any], citizen_id: UUID, notification_id: UUID) -> None:
    """Raise Retry to wait until the person's quiet hours end, when now is inside them (no attempt counted)."""
    source: ConnectionSource = ctx["connection_source"]
    now = _now(ctx)
    async with transaction(source) as conn:
        hours = await preference_queries.select_quiet_hours(conn, citizen_id)
        if not in_quiet_hours(hours, now):
            return
        assert hours is not None
        until = quiet_hours_end(hours, now)
        await delivery_queries.update_deferred(conn, citizen_id, notification_id, "push", until=until)
    raise Retry(defer=max((until - now).total_seconds(), 0.0))


async def deliver_push(ctx: dict[str, Any], citizen_id: str, notification_id: str) -> str:
    """Push the "a message is waiting" line for one notice to each of the person's devices; what happened."""
    source: ConnectionSource = ctx["connection_source"]
    settings: Settings = ctx["settings"]
    person_id, notice_id = UUID(citizen_id), UUID(notification_id)
    async with transaction(source) as conn:
        current = await delivery_queries.select_delivery(conn, person_id, notice_id, "push")
    if current is None or current.status in ("sent", "failed"):
        return f"skipped ({'unknown' if current is None else current.status})"
    await _wait_for_quiet_hours(ctx, person_id, notice_id)
    async with transaction(source) as conn:
        delivery = await delivery_queries.claim_delivery(
            conn, person_id, notice_id, "push", lease_seconds=LEASE_SECONDS
        )
        if delivery is None:
            return "skipped (another attempt is under way)"
        notice = await notification_queries.select_notification(conn, person_id, notice_id)
        targets = await push_queries.select_unsent_active(conn, person_id, notice_id)
        already = await push_queries.count_sends(conn, person_id, notice_id)
    if notice is None:
        return await _finish(source, person_id, notice_id, error="the notice no longer exists")
    if not targets:
        # Every active device has it (an earlier attempt died before recording the outcome), or none is left.
        return await _finish(source, person_id, notice_id, error=None if already else "no active push subscription")

    message = build_push_message(
        language=notice.language,
        notification_url=f"{settings.base_url.rstrip('/')}/inbox/{notice_id}",
        notification_id=str(notice_id),
    )
    key = vapid_private_key(settings)
    sent = already
    temporary: list[str] = []
    permanent: list[str] = []
    wait_at_least = 0.0
    async with aiohttp.ClientSession() as session:
        for target in targets:
            try:
                await send_push(
                    session,
                    target,
                    message,
                    key=key,
                    subject=settings.push_contact,
                    urgency="high" if notice.critical else "normal",
                )
            except SubscriptionGone as gone:
                async with transaction(source) as conn:
                    await push_queries.disable_subscription(conn, person_id, target.subscription_id, gone.reason)
                permanent.append(gone.reason)
            except PermanentFailure as failure:
                permanent.append(failure.reason)
            except PushTemporaryFailure as failure:
                temporary.append(failure.reason)
                wait_at_least = max(wait_at_least, failure.retry_after or 0.0)
            else:
                # Recorded at once: a worker killed after this line never pushes to this device again.
                async with transaction(source) as conn:
                    await push_queries.insert_send(conn, person_id, notice_id, target.subscription_id)
                sent += 1

    if temporary and delivery.attempts < MAX_ATTEMPTS:
        delay = max(
            retry_delay(delivery.attempts, float(ctx.get("delivery_retry_base_seconds", RETRY_BASE_SECONDS))),
            wait_at_least,
        )
        async with transaction(source) as conn:
            await delivery_queries.update_retry(
                conn, person_id, notice_id, "push", error="; ".join(temporary)[:500], defer_seconds=delay
            )
        raise Retry(defer=delay)
    if sent:
        return await _finish(source, person_id, notice_id, error=None)
    reasons = "; ".join(permanent + temporary)
    if temporary:
        reasons += f" (after {delivery.attempts} attempts)"
    return await _finish(source, person_id, notice_id, error=reasons)
