"""Web Push delivery against a push service on loopback that checks VAPID and decrypts each message: delivered
once per device; 429 then success; 410 disables the device; quiet hours hold a push until they end; a kind
turned off gets no push; a worker killed during a delivery still delivers once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from arq import Retry
from arq.connections import ArqRedis

from backend.core.db import transaction
from backend.core.settings import Settings
from notifications import delivery_queries, notification_queries, preference_queries, push_queries
from notifications.delivery_policy import MAX_ATTEMPTS
from notifications.preferences import set_preference
from notifications.push_jobs import deliver_push
from notifications.push_subscriptions import register_subscription, remove_device
from notifications.relay import run_relay_once
from notifications.schemas import Delivery
from notifications.sweeper import sweep_stuck_deliveries
from tests.factories import create_person
from tests.notifications.conftest import LiveDatabase, deliver_everything, run_burst_worker, worker_settings
from tests.notifications.helpers import owe_answer_notice
from tests.push_service import BrowserSubscription, PushService

BRUSSELS = ZoneInfo("Europe/Brussels")


def _ctx(live_db: LiveDatabase, settings: Settings) -> dict[str, Any]:
    return {
        "settings": worker_settings(settings, smtp_url="smtp://127.0.0.1:1", database_url=live_db.url),
        "connection_source": live_db.source,
    }


async def _person_with_devices(
    live_db: LiveDatabase, push_service: PushService, devices: int = 1, language: str = "nl"
) -> tuple[UUID, list[BrowserSubscription]]:
    """A person without e-mail (so only the inbox and push are owed) with registered browser subscriptions."""
    subscriptions = [push_service.new_subscription() for _ in range(devices)]
    async with transaction(live_db.source) as conn:
        person = await create_person(conn, language=language)
        for subscription in subscriptions:
            await register_subscription(
                conn, person.person_id, subscription.as_json(), user_agent="Firefox/133.0", allow_loopback_http=True
            )
    return person.person_id, subscriptions


async def _owe(live_db: LiveDatabase, citizen_id: UUID, contest: str = "00000000-0000-4000-8000-0000000000a1") -> None:
    async with transaction(live_db.source) as conn:
        await owe_answer_notice(conn, citizen_id, contest)


async def _push_delivery(live_db: LiveDatabase, citizen_id: UUID) -> Delivery:
    async with transaction(live_db.source) as conn:
        (notice,) = await notification_queries.select_inbox(conn, citizen_id, archived=False, limit=5)
        delivery = await delivery_queries.select_delivery(conn, citizen_id, notice.notification_id, "push")
    assert delivery is not None
    return delivery


async def test_a_notice_is_pushed_once_encrypted_signed_and_without_personal_details(
    live_db: LiveDatabase, redis: ArqRedis, settings: Settings, push_service: PushService
) -> None:
    citizen_id, (phone,) = await _person_with_devices(live_db, push_service)
    await _owe(live_db, citizen_id)
    assert await run_relay_once(live_db.source, redis) == 1
    await deliver_everything(redis, _ctx(live_db, settings))

    assert push_service.refused == []
    (message,) = push_service.to(phone)
    delivery = await _push_delivery(live_db, citizen_id)
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    assert message.payload == {
        "title": "Nieuw bericht in Vitrine",
        "body": "Open het om het te lezen nadat u zich hebt aangemeld.",
        "url": f"https://vitrine.test/inbox/{delivery.notification_id}",
        "tag": str(delivery.notification_id),
        "lang": "nl",
    }
    assert message.claims["aud"] == push_service.origin
    assert message.claims["sub"] == settings.push_contact
    assert int(message.headers["ttl"]) > 0
    assert message.headers["urgency"] == "normal"
    async with transaction(live_db.source) as conn:
        (device,) = await push_queries.select_subscriptions(conn, citizen_id)
    assert device.last_success_at is not None

    # Sweeping and running the worker again push nothing more.
    assert await sweep_stuck_deliveries(live_db.source, redis, pending_after_seconds=0, lease_seconds=0) == 0
    await run_burst_worker(redis, _ctx(live_db, settings))
    assert len(push_service.received) == 1

    # The person removes the device: its record of sends goes with it (the application role may do that).
    async with transaction(live_db.source) as conn:
        assert await remove_device(conn, citizen_id, device.subscription_id)
        assert await push_queries.count_sends(conn, citizen_id, delivery.notification_id) == 0


async def test_429_then_success_retries_only_the_device_that_failed(
    live_db: LiveDatabase, redis: ArqRedis, settings: Settings, push_service: PushService
) -> None:
    citizen_id, (phone, laptop) = await _person_with_devices(live_db, push_service, devices=2, language="fr")
    push_service.answer_next(laptop.token, 429)
    await _owe(live_db, citizen_id)
    await run_relay_once(live_db.source, redis)
    await deliver_everything(redis, _ctx(live_db, settings))

    assert len(push_service.to(phone)) == 1, "the device that accepted at once is not pushed again on retry"
    (late,) = push_service.to(laptop)
    assert late.payload["title"] == "Nouveau message dans Vitrine"
    delivery = await _push_delivery(live_db, citizen_id)
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert delivery.last_error is not None
    assert delivery.last_error == "127.0.0.1 answered 429"
    assert laptop.token not in delivery.last_error


async def test_410_disables_the_device_and_ends_the_delivery_as_failed(
    live_db: LiveDatabase, redis: ArqRedis, settings: Settings, push_service: PushService
) -> None:
    citizen_id, (gone,) = await _person_with_devices(live_db, push_service)
    push_service.answer_next(gone.token, 410)
    await _owe(live_db, citizen_id)
    await run_relay_once(live_db.source, redis)
    await deliver_everything(redis, _ctx(live_db, settings))

    assert push_service.received == []
    delivery = await _push_delivery(live_db, citizen_id)
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.last_error == "127.0.0.1 answered 410: subscription gone"
    async with transaction(live_db.source) as conn:
        (device,) = await push_queries.select_subscriptions(conn, citizen_id)
        assert await notification_queries.count_unread(conn, citizen_id) == 1, "the notice is in the inbox"
    assert device.disabled_at is not None
    assert device.disabled_reason == "127.0.0.1 answered 410: subscription gone"

    # The next notice owes no push at all: no device is left.
    await _owe(live_db, citizen_id, "00000000-0000-4000-8000-0000000000a2")
    await run_relay_once(live_db.source, redis)
    async with transaction(live_db.source) as conn:
        channels = await conn.fetch("SELECT channel FROM deliveries WHERE citizen_id = $1", citizen_id)
    assert sorted(row["channel"] for row in channels) == ["inbox", "inbox", "push"]


async def test_a_push_service_that_keeps_failing_is_given_up_after_the_last_attempt(
    live_db: LiveDatabase, redis: ArqRedis, settings: Settings, push_service: PushService
) -> None:
    citizen_id, (busy,) = await _person_with_devices(live_db, push_service)
    push_service.answer_next(busy.token, *([503] * MAX_ATTEMPTS))
    await _owe(live_db, citizen_id)
    await run_relay_once(live_db.source, redis)
    await deliver_everything(redis, _ctx(live_db, settings))
    assert push_service.received == []
    delivery = await _push_delivery(live_db, citizen_id)
    assert (delivery.status, delivery.attempts) == ("failed", MAX_ATTEMPTS)
    assert delivery.last_error == f"127.0.0.1 answered 503 (after {MAX_ATTEMPTS} attempts)"
    async with transaction(live_db.source) as conn:
        (device,) = await push_queries.select_subscriptions(conn, citizen_id)
    assert device.disabled_at is None, "a busy push service does not end the subscription"


async def test_a_push_in_quiet_hours_waits_until_they_end(
    live_db: LiveDatabase, redis: ArqRedis, settings: Settings, push_service: PushService
) -> None:
    citizen_id, (phone,) = await _person_with_devices(live_db, push_service)
    await _owe(live_db, citizen_id)
    await run_relay_once(live_db.source, redis)
    delivery = await _push_delivery(live_db, citizen_id)
    # Quiet hours that began an hour ago and end four seconds from now (Brussels wall-clock time), set just before
    # the job runs, so that a slow machine cannot let them end first.
    now = datetime.now(BRUSSELS)
    ends = now + timedelta(seconds=4)
    async with transaction(live_db.source) as conn:
        await preference_queries.upsert_quiet_hours(
            conn, citizen_id, (now - timedelta(hours=1)).time(), ends.time().replace(tzinfo=None)
        )

    # Run directly, the job holds the push until the end of the quiet hours, without counting an attempt.
    with pytest.raises(Retry):
        await deliver_push(_ctx(live_db, settings), str(citizen_id), str(delivery.notification_id))
    held = await _push_delivery(live_db, citizen_id)
    assert (held.status, held.attempts) == ("pending", 0)
    assert held.next_attempt_at is not None
    assert abs((held.next_attempt_at - ends).total_seconds()) < 0.01
    assert push_service.received == []
    assert await sweep_stuck_deliveries(live_db.source, redis, pending_after_seconds=0) == 0, "held, not stuck"

    # The worker waits too, then pushes once the quiet hours are over.
    await run_burst_worker(redis, _ctx(live_db, settings))
    (message,) = push_service.to(phone)
    assert message.at >= ends.astimezone(UTC)
    sent = await _push_delivery(live_db, citizen_id)
    assert (sent.status, sent.attempts) == ("sent", 1)


async def test_push_turned_off_for_a_kind_sends_nothing_for_it(
    live_db: LiveDatabase, redis: ArqRedis, settings: Settings, push_service: PushService
) -> None:
    citizen_id, (phone,) = await _person_with_devices(live_db, push_service)
    async with transaction(live_db.source) as conn:
        await set_preference(conn, citizen_id, "contest_answered", "push", False)
    await _owe(live_db, citizen_id)
    await run_relay_once(live_db.source, redis)
    await deliver_everything(redis, _ctx(live_db, settings))
    assert push_service.to(phone) == []
    async with transaction(live_db.source) as conn:
        (notice,) = await notification_queries.select_inbox(conn, citizen_id, archived=False, limit=5)
        deliveries = await delivery_queries.select_deliveries(conn, citizen_id, notice.notification_id)
        # Another kind still reaches the device.
        await conn.execute(
            "INSERT INTO notification_outbox (citizen_id, kind, dedup_key, payload) VALUES ($1, $2, $3, $4)",
            citizen_id,
            "access_alert",
            "access-alert:1:test",
            {"seq": 1, "flag": "first_institution", "occurred_at": "2026-11-20T10:00:00+00:00"},
        )
    assert [d.channel for d in deliveries] == ["inbox"]
    await run_relay_once(live_db.source, redis)
    await deliver_everything(redis, _ctx(live_db, settings))
    assert len(push_service.to(phone)) == 1


async def test_a_worker_killed_during_a_push_is_swept_and_delivered_once(
    live_db: LiveDatabase, redis: ArqRedis, settings: Settings, push_service: PushService
) -> None:
    citizen_id, (phone, tablet) = await _person_with_devices(live_db, push_service, devices=2)
    await _owe(live_db, citizen_id)
    assert await run_relay_once(live_db.source, redis) == 1
    delivery = await _push_delivery(live_db, citizen_id)
    async with transaction(live_db.source) as conn:
        # The worker took the job, started the attempt, pushed to the phone (recorded), then died before the
        # tablet; its job is gone from Redis.
        claimed = await delivery_queries.claim_delivery(
            conn, citizen_id, delivery.notification_id, "push", lease_seconds=150
        )
        assert claimed is not None
        (phone_row, _) = await push_queries.select_subscriptions(conn, citizen_id)
        await push_queries.insert_send(conn, citizen_id, delivery.notification_id, phone_row.subscription_id)
        await conn.execute(
            "UPDATE deliveries SET updated_at = now() - interval '1 hour' "
            "WHERE citizen_id = $1 AND notification_id = $2 AND channel = 'push'",
            citizen_id,
            delivery.notification_id,
        )
    await redis.flushdb()
    await run_burst_worker(redis, _ctx(live_db, settings))
    assert push_service.received == [], "no job, nothing happens until the sweeper"

    assert await sweep_stuck_deliveries(live_db.source, redis) == 1
    assert await sweep_stuck_deliveries(live_db.source, redis) == 0, "the deterministic job id keeps it single"
    await run_burst_worker(redis, _ctx(live_db, settings))
    pushed = {item.token for item in push_service.received}
    assert len(push_service.received) == 1
    assert pushed == {tablet.token if phone_row.endpoint == phone.endpoint else phone.token}
    after = await _push_delivery(live_db, citizen_id)
    assert (after.status, after.attempts) == ("sent", 2)
