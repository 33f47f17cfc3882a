"""The outbox and the relay inside one rolled-back transaction: nothing owed twice, notices rendered in the
person's language, one delivery per enabled channel, jobs queued by deterministic id, and notices in the inbox
while Redis is down, their e-mail queued once it answers."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from arq.connections import ArqRedis

from notifications import delivery_queries, notification_queries, outbox_queries
from notifications.outbox import enqueue_notification
from notifications.preferences import set_preference
from notifications.relay import delivery_job_id, queue_pending, run_relay_once
from notifications.schemas import Delivery, EmailClaim
from tests.conftest import source_of
from tests.factories import create_person
from tests.notifications.helpers import owe_answer_notice

CONTEST = "00000000-0000-4000-8000-00000000c0de"


async def test_a_dedup_key_is_owed_once(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    first = await owe_answer_notice(conn, person.person_id, CONTEST)
    again = await owe_answer_notice(conn, person.person_id, CONTEST)
    assert first is not None
    assert again is None, "ON CONFLICT DO NOTHING: the same key for the same person is owed once"
    other = await create_person(conn)
    assert await owe_answer_notice(conn, other.person_id, CONTEST) is not None, "keys are per person"


async def test_an_unknown_kind_is_a_programming_error(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    with pytest.raises(ValueError, match="unknown notification kind"):
        await enqueue_notification(conn, citizen_id=person.person_id, kind="lottery_win", dedup_key="x", payload={})


async def test_the_relay_renders_in_the_persons_language_and_delivers_per_channel(
    conn: asyncpg.Connection, redis: ArqRedis
) -> None:
    with_mail = await create_person(conn, language="fr", email="claire@example.be")
    without_mail = await create_person(conn, language="de")
    mail_off = await create_person(conn, language="nl", email="piet@example.be")
    await set_preference(conn, mail_off.person_id, "contest_answered", "email", False)
    for person in (with_mail, without_mail, mail_off):
        await owe_answer_notice(conn, person.person_id, CONTEST)

    assert await run_relay_once(source_of(conn), redis) == 3
    assert await run_relay_once(source_of(conn), redis) == 0, "each row is relayed once"
    assert await outbox_queries.count_waiting(conn) == 0

    (french,) = await notification_queries.select_inbox(conn, with_mail.person_id, archived=False, limit=10)
    assert french.language == "fr"
    assert french.subject == "Votre question sur un accès a reçu une réponse"
    assert french.action_url == f"/access-log/contests/{CONTEST}"
    (german,) = await notification_queries.select_inbox(conn, without_mail.person_id, archived=False, limit=10)
    assert german.subject.startswith("Ihre Frage")

    def channels(deliveries: list[Delivery]) -> dict[str, str]:
        return {d.channel: d.status for d in deliveries}

    assert channels(await delivery_queries.select_deliveries(conn, with_mail.person_id, french.notification_id)) == {
        "inbox": "sent",
        "email": "pending",
    }
    assert channels(await delivery_queries.select_deliveries(conn, without_mail.person_id, german.notification_id)) == {
        "inbox": "sent"
    }
    (dutch,) = await notification_queries.select_inbox(conn, mail_off.person_id, archived=False, limit=10)
    assert channels(await delivery_queries.select_deliveries(conn, mail_off.person_id, dutch.notification_id)) == {
        "inbox": "sent"
    }

    job_id = delivery_job_id(with_mail.person_id, french.notification_id)
    assert job_id == f"deliver:email:{with_mail.person_id}:{french.notification_id}"
    assert await redis.exists(f"arq:job:{job_id}") == 1
    assert len(await redis.queued_jobs()) == 1, "only the e-mail delivery is queued"


async def test_the_inbox_fills_while_redis_is_unreachable_and_the_email_is_queued_once_it_answers(
    conn: asyncpg.Connection, redis: ArqRedis
) -> None:
    person = await create_person(conn, email="an@example.be")
    await owe_answer_notice(conn, person.person_id, CONTEST)
    unreachable = ArqRedis(host="127.0.0.1", port=1, socket_connect_timeout=1)
    try:
        assert await run_relay_once(source_of(conn), unreachable) == 1
        assert await queue_pending(source_of(conn), unreachable) == (0, False)
    finally:
        await unreachable.aclose()
    assert await outbox_queries.count_waiting(conn) == 0
    assert await notification_queries.count_unread(conn, person.person_id) == 1, "in the inbox at once"
    (notice,) = await notification_queries.select_inbox(conn, person.person_id, archived=False, limit=1)
    deliveries = await delivery_queries.select_deliveries(conn, person.person_id, notice.notification_id)
    assert {d.channel: d.status for d in deliveries} == {"email": "pending", "inbox": "sent"}
    assert await redis.queued_jobs() == []

    # Redis answers again: the pending e-mail is queued at once (not a minute later by the sweeper), once.
    assert await queue_pending(source_of(conn), redis) == (1, True)
    assert await queue_pending(source_of(conn), redis) == (0, True)
    assert await redis.exists(f"arq:job:{delivery_job_id(person.person_id, notice.notification_id)}") == 1
    assert len(await redis.queued_jobs()) == 1


async def test_a_row_that_cannot_be_rendered_waits_without_blocking_the_others(
    conn: asyncpg.Connection, redis: ArqRedis
) -> None:
    person = await create_person(conn)
    await outbox_queries.insert_outbox(
        conn, citizen_id=person.person_id, kind="flexi_ceiling", dedup_key="flexi:2026:75", payload={"year": 2026}
    )
    await owe_answer_notice(conn, person.person_id, CONTEST)
    assert await run_relay_once(source_of(conn), redis) == 1
    assert await outbox_queries.count_waiting(conn) == 1
    assert await notification_queries.count_unread(conn, person.person_id) == 1


async def _one_notice(conn: asyncpg.Connection, redis: ArqRedis) -> tuple[uuid.UUID, uuid.UUID]:
    person = await create_person(conn, email="forward@example.be")
    await owe_answer_notice(conn, person.person_id, CONTEST)
    await run_relay_once(source_of(conn), redis)
    (notice,) = await notification_queries.select_inbox(conn, person.person_id, archived=False, limit=1)
    return person.person_id, notice.notification_id


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE deliveries SET status = 'pending' WHERE citizen_id = $1 AND notification_id = $2 AND channel = 'inbox'",
        "UPDATE deliveries SET status = 'failed', last_error = 'x' "
        "WHERE citizen_id = $1 AND notification_id = $2 AND channel = 'inbox'",
        "UPDATE deliveries SET attempts = 3 WHERE citizen_id = $1 AND notification_id = $2 AND channel = 'inbox'",
        "UPDATE notifications SET body = 'rewritten' WHERE citizen_id = $1 AND notification_id = $2",
    ],
)
async def test_the_database_keeps_statuses_moving_forward(
    conn: asyncpg.Connection, redis: ArqRedis, statement: str
) -> None:
    citizen_id, notification_id = await _one_notice(conn, redis)
    with pytest.raises(asyncpg.PostgresError, match="only moves forward"):
        async with conn.transaction():
            await conn.execute(statement, citizen_id, notification_id)


async def test_read_and_archived_stay_set(conn: asyncpg.Connection, redis: ArqRedis) -> None:
    citizen_id, notification_id = await _one_notice(conn, redis)
    assert await notification_queries.update_read(conn, citizen_id, notification_id)
    assert not await notification_queries.update_read(conn, citizen_id, notification_id)
    with pytest.raises(asyncpg.PostgresError, match="only moves forward"):
        async with conn.transaction():
            await conn.execute(
                "UPDATE notifications SET read_at = NULL WHERE citizen_id = $1 AND notification_id = $2",
                citizen_id,
                notification_id,
            )
    # The e-mail delivery: pending -> sending -> sent, and no way back.
    claimed = await delivery_queries.claim_delivery(conn, citizen_id, notification_id, "email", lease_seconds=60)
    assert claimed is not None
    assert claimed.attempts == 1
    again = await delivery_queries.claim_delivery(conn, citizen_id, notification_id, "email", lease_seconds=60)
    assert again is None, "an attempt under way is not taken twice"
    assert await delivery_queries.update_sent(conn, citizen_id, notification_id, "email")
    assert not await delivery_queries.update_failed(conn, citizen_id, notification_id, "email", error="late")
    assert await delivery_queries.claim_delivery(conn, citizen_id, notification_id, "email", lease_seconds=0) is None


async def test_an_email_claim_reads_what_the_message_needs_and_is_taken_once(
    conn: asyncpg.Connection, redis: ArqRedis
) -> None:
    citizen_id, notification_id = await _one_notice(conn, redis)
    claim = await delivery_queries.claim_email_delivery(conn, citizen_id, notification_id, lease_seconds=60)
    assert claim == EmailClaim(attempts=1, language="nl", email="forward@example.be")
    delivery = await delivery_queries.select_delivery(conn, citizen_id, notification_id, "email")
    assert delivery is not None
    assert delivery.status == "sending"
    assert await delivery_queries.claim_email_delivery(conn, citizen_id, notification_id, lease_seconds=60) is None
    # Past its lease, an abandoned attempt is taken again, and counted.
    again = await delivery_queries.claim_email_delivery(conn, citizen_id, notification_id, lease_seconds=-1)
    assert again is not None
    assert again.attempts == 2
    assert await delivery_queries.update_sent(conn, citizen_id, notification_id, "email")
    assert await delivery_queries.claim_email_delivery(conn, citizen_id, notification_id, lease_seconds=-1) is None
