"""Faults, each against real PostgreSQL (committed transactions), real Redis, a real arq worker in burst mode and
an SMTP server in process: Redis down during a large ingest, a worker killed during a delivery, SMTP answering
4xx then accepting, SMTP answering 5xx, SMTP unreachable."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from arq.connections import ArqRedis

from backend.core.db import transaction
from backend.core.settings import Settings
from notifications import delivery_queries, notification_queries
from notifications.delivery_policy import MAX_ATTEMPTS
from notifications.operations import failed_deliveries, pipeline_counts
from notifications.relay import queue_pending, run_relay_once
from notifications.schemas import Delivery, PersonStatus
from notifications.statuses import set_person_status
from notifications.sweeper import sweep_stuck_deliveries
from tests.backend.records.cloud_events import event, flexi
from tests.factories import create_person, new_insz, new_kbo
from tests.notifications.conftest import LiveDatabase, deliver_everything, run_burst_worker, worker_settings
from tests.notifications.helpers import ingest_and_evaluate, onss_caller, owe_answer_notice
from tests.smtp_server import SmtpServer

DECLARED = datetime(2026, 1, 12, 8, tzinfo=UTC).isoformat()


def _ctx(live_db: LiveDatabase, settings: Settings, smtp_url: str) -> dict[str, Any]:
    return {
        "settings": worker_settings(settings, smtp_url=smtp_url, database_url=live_db.url),
        "connection_source": live_db.source,
    }


async def _email_delivery(live_db: LiveDatabase, citizen_id: UUID) -> Delivery:
    async with transaction(live_db.source) as conn:
        (notice,) = await notification_queries.select_inbox(conn, citizen_id, archived=False, limit=5)
        delivery = await delivery_queries.select_delivery(conn, citizen_id, notice.notification_id, "email")
    assert delivery is not None
    return delivery


async def _one_notice_owed(live_db: LiveDatabase, email: str) -> UUID:
    async with transaction(live_db.source) as conn:
        person = await create_person(conn, email=email, language="nl")
        await owe_answer_notice(conn, person.person_id, "00000000-0000-4000-8000-0000000000f1")
    return person.person_id


async def test_redis_down_during_a_thousand_declarations_then_every_warning_once(
    live_db: LiveDatabase, redis: ArqRedis, settings: Settings, smtp: SmtpServer
) -> None:
    employer = new_kbo()
    people: dict[str, tuple[str, str]] = {}  # insz -> (role, e-mail)
    async with transaction(live_db.source) as conn:
        caller = await onss_caller(conn)
        for index in range(100):
            role = "ordinary" if index < 80 else "pensioner" if index < 90 else "early_retiree"
            insz, email = new_insz(), f"person{index}@example.be"
            person = await create_person(conn, insz=insz, email=email, language=("nl", "fr", "de", "en")[index % 4])
            if role != "ordinary":
                status = PersonStatus(pensioner=True) if role == "pensioner" else PersonStatus(early_retiree=True)
                await set_person_status(conn, person.person_id, status)
            people[insz] = (role, email)
    monthly = {"ordinary": 190_000, "pensioner": 250_000, "early_retiree": 90_000}

    unreachable = ArqRedis(host="127.0.0.1", port=1, socket_connect_timeout=1)
    relayed = 0
    try:
        # Ten batches of one hundred declarations (one month for everyone), each in its own committed transaction,
        # with the relay trying in between while Redis cannot be reached.
        for month in range(1, 11):
            batch = [
                event(
                    insz,
                    f"{insz}-{month:02d}",
                    data=flexi(employer, f"2025-{month:02d}", monthly[role]),
                    time=DECLARED,
                )
                for insz, (role, _) in people.items()
            ]
            async with transaction(live_db.source) as conn:
                outcome = await ingest_and_evaluate(conn, caller, batch)
            assert outcome.answer.accepted == 100
            relayed += await run_relay_once(live_db.source, unreachable)
        # Corrections for twenty people: October down to nothing, then back up; no warning is repeated.
        corrected = [insz for insz, (role, _) in people.items() if role == "ordinary"][:20]
        for step, (amount, refers) in enumerate([(0, "{insz}-10"), (190_000, "{insz}-down")]):
            batch = [
                event(
                    insz,
                    f"{insz}-{'down' if step == 0 else 'up'}",
                    data=flexi(employer, "2025-10", amount),
                    time=DECLARED,
                    corrects=refers.format(insz=insz),
                )
                for insz in corrected
            ]
            async with transaction(live_db.source) as conn:
                outcome = await ingest_and_evaluate(conn, caller, batch)
            assert outcome.answer.accepted == 20
            relayed += await run_relay_once(live_db.source, unreachable)
    finally:
        await unreachable.aclose()

    # 80 people past 75, 90 and 100 %; 10 early retirees past 75, 90 and 100 % of the pension limit: every notice
    # is in its inbox while Redis is still down, and every e-mail waits in PostgreSQL.
    assert relayed == 80 * 3 + 10 * 3
    async with transaction(live_db.source) as conn:
        waiting = await pipeline_counts(conn)
    assert (waiting.outbox_waiting, waiting.pending, waiting.sent) == (0, 270, 270)
    assert await redis.queued_jobs() == []
    assert smtp.messages == []

    # Redis is back: what waited is queued at once (each job once), the worker delivers.
    assert await queue_pending(live_db.source, redis, page_size=100) == (270, True)
    assert await queue_pending(live_db.source, redis) == (0, True), "queued jobs are not queued twice"
    assert await run_relay_once(live_db.source, redis) == 0
    await deliver_everything(redis, _ctx(live_db, settings, smtp.url))
    # Another sweep and worker run change nothing: every warning exactly once.
    assert await sweep_stuck_deliveries(live_db.source, redis, pending_after_seconds=0, lease_seconds=0) == 0
    await run_burst_worker(redis, _ctx(live_db, settings, smtp.url))

    per_address = Counter(str(message["To"]) for message in smtp.messages)
    for role, email in people.values():
        assert per_address[email] == (0 if role == "pensioner" else 3), (role, email)
    assert len(smtp.messages) == 270
    async with transaction(live_db.source) as conn:
        counts = await pipeline_counts(conn)
        kinds = await conn.fetch("SELECT kind, count(*) AS n FROM notifications GROUP BY kind ORDER BY kind")
    assert counts.outbox_waiting == 0
    assert (counts.pending, counts.sending, counts.failed) == (0, 0, 0)
    assert counts.sent == 270 * 2, "inbox and e-mail"
    assert {row["kind"]: row["n"] for row in kinds} == {"flexi_ceiling": 240, "flexi_pension_limit": 30}


async def test_a_worker_killed_during_a_delivery_is_swept_and_delivered_once(
    live_db: LiveDatabase, redis: ArqRedis, settings: Settings, smtp: SmtpServer
) -> None:
    citizen_id = await _one_notice_owed(live_db, "killed@example.be")
    assert await run_relay_once(live_db.source, redis) == 1
    delivery = await _email_delivery(live_db, citizen_id)
    # The worker took the job, marked the delivery 'sending', and died; the job is gone from Redis.
    async with transaction(live_db.source) as conn:
        claimed = await delivery_queries.claim_delivery(
            conn, citizen_id, delivery.notification_id, "email", lease_seconds=150
        )
        assert claimed is not None
        await conn.execute(
            "UPDATE deliveries SET updated_at = now() - interval '1 hour' "
            "WHERE citizen_id = $1 AND notification_id = $2 AND channel = 'email' AND status = 'sending'",
            citizen_id,
            delivery.notification_id,
        )
    await redis.flushdb()
    await run_burst_worker(redis, _ctx(live_db, settings, smtp.url))
    assert smtp.messages == [], "no job, nothing happens until the sweeper"

    assert await sweep_stuck_deliveries(live_db.source, redis) == 1
    assert await sweep_stuck_deliveries(live_db.source, redis) == 0, "the deterministic job id keeps it single"
    await run_burst_worker(redis, _ctx(live_db, settings, smtp.url))
    assert len(smtp.to("killed@example.be")) == 1
    after = await _email_delivery(live_db, citizen_id)
    assert (after.status, after.attempts) == ("sent", 2)
    assert await sweep_stuck_deliveries(live_db.source, redis, pending_after_seconds=0, lease_seconds=0) == 0


async def test_smtp_answering_4xx_then_accepting_delivers_after_a_retry(
    live_db: LiveDatabase, redis: ArqRedis, settings: Settings, smtp: SmtpServer
) -> None:
    citizen_id = await _one_notice_owed(live_db, "retry@example.be")
    smtp.answer_next("451 4.3.0 Mailbox busy for <retry@example.be>, try again later")
    await run_relay_once(live_db.source, redis)
    await deliver_everything(redis, _ctx(live_db, settings, smtp.url))
    (message,) = smtp.to("retry@example.be")
    assert message["Subject"] == "U hebt een nieuw bericht in Vitrine"
    delivery = await _email_delivery(live_db, citizen_id)
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert delivery.last_error is not None
    assert delivery.last_error.startswith("SMTP 451")
    assert "retry@example.be" not in delivery.last_error


async def test_smtp_answering_5xx_fails_at_once_and_the_notice_stays_in_the_inbox(
    live_db: LiveDatabase, redis: ArqRedis, settings: Settings, smtp: SmtpServer
) -> None:
    citizen_id = await _one_notice_owed(live_db, "refused@example.be")
    smtp.answer_next("554 5.7.1 Message refused for <refused@example.be>")
    await run_relay_once(live_db.source, redis)
    await deliver_everything(redis, _ctx(live_db, settings, smtp.url))
    assert smtp.messages == []
    delivery = await _email_delivery(live_db, citizen_id)
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    async with transaction(live_db.source) as conn:
        assert await notification_queries.count_unread(conn, citizen_id) == 1, "still in the inbox"
        failed = await failed_deliveries(conn)
    assert [(f.notification_id, f.kind, f.channel) for f in failed] == [
        (delivery.notification_id, "contest_answered", "email")
    ]
    assert failed[0].last_error == "SMTP 554: 5.7.1 Message refused for <<address>>"


async def test_an_unreachable_smtp_server_is_retried_then_given_up(
    live_db: LiveDatabase, redis: ArqRedis, settings: Settings
) -> None:
    citizen_id = await _one_notice_owed(live_db, "nobody-listens@example.be")
    await run_relay_once(live_db.source, redis)
    await deliver_everything(redis, _ctx(live_db, settings, "smtp://127.0.0.1:1"))
    delivery = await _email_delivery(live_db, citizen_id)
    assert (delivery.status, delivery.attempts) == ("failed", MAX_ATTEMPTS)
    assert delivery.last_error is not None
    assert f"after {MAX_ATTEMPTS} attempts" in delivery.last_error


async def test_a_delivery_job_run_again_after_success_sends_nothing(
    live_db: LiveDatabase, redis: ArqRedis, settings: Settings, smtp: SmtpServer
) -> None:
    citizen_id = await _one_notice_owed(live_db, "twice@example.be")
    await run_relay_once(live_db.source, redis)
    await run_burst_worker(redis, _ctx(live_db, settings, smtp.url))
    delivery = await _email_delivery(live_db, citizen_id)
    # Redis lost its memory of the job and someone queues it again by hand.
    await redis.enqueue_job("deliver_email", str(citizen_id), str(delivery.notification_id))
    await run_burst_worker(redis, _ctx(live_db, settings, smtp.url))
    assert len(smtp.to("twice@example.be")) == 1
    assert (await _email_delivery(live_db, citizen_id)).status == "sent"
