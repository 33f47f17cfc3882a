"""Contesting an access: one-step opening with receipt and deadline, forward-only handling, the reveal, the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from litestar import Litestar

from backend.access_log import contest_queries, queries
from backend.access_log.contests import (
    ContestAlreadyPending,
    add_message,
    answer_contest,
    answer_due,
    close_contest,
    escalate_contest,
    open_contest,
    reveal_actor,
)
from backend.access_log.receipts import service_jwks, verify_receipt
from backend.access_log.schemas import AccessEvent, Accessor
from backend.access_log.service import record_access
from backend.core.auth import sessions
from backend.core.errors import Problem
from backend.core.identity import queries as identity_queries
from backend.core.identity.schemas import Person, StaffMember
from backend.core.settings import Settings
from tests.factories import create_agent, create_mandate, create_organisation, create_person, create_staff

KEY = ec.generate_private_key(ec.SECP256R1())


@pytest.mark.parametrize(
    ("opened", "due"),
    [
        # 10:00 Brussels (CET) on 31 January: February has no 31st.
        (datetime(2026, 1, 31, 9, 0, tzinfo=UTC), datetime(2026, 2, 28, 9, 0, tzinfo=UTC)),
        (datetime(2028, 1, 31, 9, 0, tzinfo=UTC), datetime(2028, 2, 29, 9, 0, tzinfo=UTC)),
        # Across the change to summer time: the same Brussels wall-clock time, one hour less in UTC.
        (datetime(2026, 3, 15, 9, 0, tzinfo=UTC), datetime(2026, 4, 15, 8, 0, tzinfo=UTC)),
        (datetime(2026, 12, 15, 9, 0, tzinfo=UTC), datetime(2027, 1, 15, 9, 0, tzinfo=UTC)),
        # 23:30 UTC on 30 April is 1 May in Brussels: due 1 June, 01:30 Brussels.
        (datetime(2026, 4, 30, 23, 30, tzinfo=UTC), datetime(2026, 5, 31, 23, 30, tzinfo=UTC)),
    ],
)
def test_the_answer_is_due_one_brussels_calendar_month_later(opened: datetime, due: datetime) -> None:
    assert answer_due(opened) == due


def test_the_deadline_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        answer_due(datetime(2026, 1, 1, 12, 0))  # noqa: DTZ001 (the point of the test)


async def _institution_event(conn: asyncpg.Connection, person: Person, **overrides: Any) -> AccessEvent:
    organisation = await create_organisation(conn, kind="institution", code=f"I{uuid4().hex[:8].upper()}")
    return await record_access(
        conn,
        citizen_id=person.person_id,
        **{
            "accessor": Accessor(kind="institution", org_id=organisation.org_id, client_id="test"),
            "action": "read",
            "channel": "api",
            "categories": ["dimona"],
            **overrides,
        },
    )


async def _reviewer(conn: asyncpg.Connection) -> StaffMember:
    person = await create_staff(conn, "reviewer")
    staff = await identity_queries.select_staff(conn, person.person_id)
    assert staff is not None
    return staff


async def test_a_contest_opens_at_once_pinning_the_event_with_a_receipt_and_a_deadline(
    conn: asyncpg.Connection,
) -> None:
    person = await create_person(conn)
    event = await _institution_event(conn, person)
    await _institution_event(conn, person)
    contest = await open_contest(conn, citizen_id=person.person_id, event_id=event.event_id, key=KEY)
    assert (contest.citizen_id, contest.seq, contest.event_id) == (person.person_id, 1, event.event_id)
    assert contest.event_hash == event.hash
    assert contest.status == "open"
    assert contest.due_at == answer_due(contest.opened_at)
    assert contest.accessor_org_id == event.actor_org_id
    receipt = verify_receipt(contest.receipt, service_jwks(KEY))
    assert receipt.citizen_id == person.person_id
    assert receipt.events == 2, "the receipt covers the whole log when the question was asked"
    history = await contest_queries.select_history(conn, person.person_id, contest.contest_id)
    assert [(step.kind, step.status_entered, step.actor_person_id) for step in history] == [
        ("opened", "open", person.person_id)
    ]


async def test_a_second_contest_of_the_same_event_is_refused_while_one_waits_for_an_answer(
    conn: asyncpg.Connection,
) -> None:
    person = await create_person(conn)
    reviewer = await _reviewer(conn)
    event = await _institution_event(conn, person)
    first = await open_contest(conn, citizen_id=person.person_id, event_id=event.event_id, key=KEY)
    with pytest.raises(ContestAlreadyPending) as refused:
        await open_contest(conn, citizen_id=person.person_id, event_id=event.event_id, key=KEY)
    assert refused.value.contest.contest_id == first.contest_id
    assert refused.value.status == 409

    await escalate_contest(conn, contest_id=first.contest_id, reviewer=reviewer, reason="ask the DPO")
    with pytest.raises(ContestAlreadyPending):
        await open_contest(conn, citizen_id=person.person_id, event_id=event.event_id, key=KEY)

    # Once answered, the citizen may ask again (not satisfied with the answer): a new case, a new deadline.
    await answer_contest(conn, contest_id=first.contest_id, reviewer=reviewer, answer="Because …")
    second = await open_contest(conn, citizen_id=person.person_id, event_id=event.event_id, key=KEY)
    assert second.contest_id != first.contest_id


async def test_the_unique_index_refuses_a_second_pending_case_even_past_the_service(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    event = await _institution_event(conn, person)
    now = datetime.now(UTC)
    await contest_queries.insert_contest(conn, event, receipt="r", message=None, opened_at=now, due_at=answer_due(now))
    with pytest.raises(asyncpg.UniqueViolationError):
        async with conn.transaction():
            await contest_queries.insert_contest(
                conn, event, receipt="r", message=None, opened_at=now, due_at=answer_due(now)
            )


async def test_only_your_own_events_can_be_contested(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    stranger = await create_person(conn)
    event = await _institution_event(conn, stranger)
    with pytest.raises(Problem) as refused:
        await open_contest(conn, citizen_id=person.person_id, event_id=event.event_id, key=KEY)
    assert refused.value.status == 404
    with pytest.raises(Problem):
        await open_contest(conn, citizen_id=person.person_id, event_id=uuid4(), key=KEY)
    assert await conn.fetchval("SELECT count(*) FROM access_contests WHERE citizen_id = $1", person.person_id) == 0


async def test_a_case_only_moves_forward(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    reviewer = await _reviewer(conn)
    event = await _institution_event(conn, person)
    contest = await open_contest(conn, citizen_id=person.person_id, event_id=event.event_id, key=KEY)
    who = reviewer

    with pytest.raises(Problem) as early:
        await close_contest(conn, contest_id=contest.contest_id, reviewer=who)
    assert early.value.status == 409, "a case is closed only once answered"
    with pytest.raises(Problem) as empty:
        await answer_contest(conn, contest_id=contest.contest_id, reviewer=who, answer="   ")
    assert empty.value.status == 422
    assert [error.field for error in empty.value.errors] == ["answer"]

    answered = await answer_contest(conn, contest_id=contest.contest_id, reviewer=who, answer=" For your pension. ")
    assert (answered.status, answered.answer) == ("answered", "For your pension.")
    assert answered.answered_at is not None
    with pytest.raises(Problem) as back:
        await escalate_contest(conn, contest_id=contest.contest_id, reviewer=who, reason="late")
    assert back.value.status == 409
    closed = await close_contest(conn, contest_id=contest.contest_id, reviewer=who)
    assert closed.status == "closed"
    with pytest.raises(Problem):
        await answer_contest(conn, contest_id=contest.contest_id, reviewer=who, answer="again")

    history = await contest_queries.select_history(conn, person.person_id, contest.contest_id)
    assert [(step.kind, step.status_left, step.status_entered) for step in history] == [
        ("opened", None, "open"),
        ("answered", "open", "answered"),
        ("closed", "answered", "closed"),
    ]


async def test_the_database_keeps_the_history_forward_and_append_only(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    reviewer = await _reviewer(conn)
    event = await _institution_event(conn, person)
    contest = await open_contest(conn, citizen_id=person.person_id, event_id=event.event_id, key=KEY)
    await answer_contest(conn, contest_id=contest.contest_id, reviewer=reviewer, answer="Because.")
    ids = (person.person_id, contest.contest_id, reviewer.person_id)
    insert_step = (
        "INSERT INTO access_contest_events (citizen_id, contest_id, step, kind, status_left, status_entered, "
        "actor_person_id, body) VALUES ($1, $2, 9, 'escalated', $4, 'escalated', $3, 'x')"
    )
    refusals: list[tuple[str, tuple[Any, ...], type[Exception]]] = [
        # Back to a status already left (each status is left once): a fork of the path.
        (insert_step, (*ids, "open"), asyncpg.UniqueViolationError),
        # A step the CHECK does not allow (escalated is entered only from open).
        (insert_step, (*ids, "answered"), asyncpg.CheckViolationError),
        # The current status must be one its history entered.
        (
            "UPDATE access_contests SET status = 'escalated', escalation_reason = 'x', answer = NULL, "
            "answered_at = NULL WHERE citizen_id = $1 AND contest_id = $2 AND $3::uuid IS NOT NULL",
            ids,
            asyncpg.ForeignKeyViolationError,
        ),
        (
            "UPDATE access_contest_events SET body = 'rewritten' "
            "WHERE citizen_id = $1 AND contest_id = $2 AND $3::uuid IS NOT NULL",
            ids,
            asyncpg.InsufficientPrivilegeError,
        ),
        (
            "DELETE FROM access_contests WHERE citizen_id = $1 AND contest_id = $2 AND $3::uuid IS NOT NULL",
            ids,
            asyncpg.InsufficientPrivilegeError,
        ),
    ]
    for statement, arguments, error in refusals:
        with pytest.raises(error):
            async with conn.transaction():
                await conn.execute(statement, *arguments)


async def test_the_citizen_adds_one_message_while_the_case_is_open(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    event = await _institution_event(conn, person)
    contest = await open_contest(conn, citizen_id=person.person_id, event_id=event.event_id, key=KEY)
    with pytest.raises(Problem) as empty:
        await add_message(conn, citizen_id=person.person_id, contest_id=contest.contest_id, message=" ")
    assert empty.value.status == 422
    updated = await add_message(
        conn, citizen_id=person.person_id, contest_id=contest.contest_id, message="I never worked there."
    )
    assert updated.message == "I never worked there."
    with pytest.raises(Problem) as twice:
        await add_message(conn, citizen_id=person.person_id, contest_id=contest.contest_id, message="again")
    assert twice.value.status == 409
    stranger = await create_person(conn)
    with pytest.raises(Problem) as other:
        await add_message(conn, citizen_id=stranger.person_id, contest_id=contest.contest_id, message="hi")
    assert other.value.status == 404


async def test_a_reviewer_cannot_handle_a_case_about_their_own_data(conn: asyncpg.Connection) -> None:
    reviewer = await _reviewer(conn)
    reviewer_person = await identity_queries.select_person(conn, reviewer.person_id)
    assert reviewer_person is not None
    event = await _institution_event(conn, reviewer_person)
    contest = await open_contest(conn, citizen_id=reviewer.person_id, event_id=event.event_id, key=KEY)
    with pytest.raises(Problem) as refused:
        await answer_contest(conn, contest_id=contest.contest_id, reviewer=reviewer, answer="fine")
    assert refused.value.status == 403


async def test_revealing_an_agent_is_logged_in_the_agents_own_log_and_in_the_case(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    reviewer = await _reviewer(conn)
    cpas = await create_organisation(conn)
    agent = await create_agent(conn, cpas, given_name="Nathalie", family_name="Lambert")
    membership = (await identity_queries.select_memberships(conn, agent.person_id))[0]
    event = await record_access(
        conn,
        citizen_id=person.person_id,
        accessor=Accessor(kind="agent", org_id=cpas.org_id, ref=membership.pseudonym, role="agent"),
        action="read",
        channel="web",
        categories=["dmfa"],
    )
    contest = await open_contest(conn, citizen_id=person.person_id, event_id=event.event_id, key=KEY)

    revealed = await reveal_actor(conn, contest_id=contest.contest_id, reviewer=reviewer)
    assert revealed.person_id == agent.person_id
    agent_log = await queries.select_chain(conn, agent.person_id)
    assert len(agent_log) == 1
    logged = agent_log[0]
    assert (logged.actor_kind, logged.actor_ref, logged.actor_role) == ("staff", reviewer.pseudonym, "reviewer")
    assert (logged.action, logged.categories, logged.channel) == ("read", ["identity"], "web")
    assert logged.case_ref == str(contest.contest_id)
    history = await contest_queries.select_history(conn, person.person_id, contest.contest_id)
    assert [(step.kind, step.actor_person_id, step.revealed_person_id) for step in history][-1] == (
        "revealed",
        reviewer.person_id,
        agent.person_id,
    )
    assert await queries.select_chain(conn, person.person_id) == [event], "the citizen's log is untouched"


async def test_there_is_nobody_to_reveal_behind_an_institutions_system(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    reviewer = await _reviewer(conn)
    event = await _institution_event(conn, person)
    contest = await open_contest(conn, citizen_id=person.person_id, event_id=event.event_id, key=KEY)
    with pytest.raises(Problem) as refused:
        await reveal_actor(conn, contest_id=contest.contest_id, reviewer=reviewer)
    assert refused.value.status == 409


async def test_the_queue_puts_late_cases_first_then_by_deadline(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    now = await contest_queries.select_now(conn)
    made = []
    for days_ago in (3, 40, 35, 1):
        event = await _institution_event(conn, person)
        opened = now - timedelta(days=days_ago)
        contest = await contest_queries.insert_contest(
            conn, event, receipt="r", message=None, opened_at=opened, due_at=answer_due(opened)
        )
        made.append(contest.contest_id)
    queue = await contest_queries.select_queue(conn, statuses=("open", "escalated"), limit=1000)
    mine = [contest.contest_id for contest, _ in queue if contest.citizen_id == person.person_id]
    assert mine == [made[1], made[2], made[0], made[3]]


# --- the citizen's JSON API ----------------------------------------------------------------------------------


async def _signed_in(client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings, person: Person) -> None:
    session_id = await sessions.insert_session(conn, person_id=person.person_id, method="demo")
    client.cookies.set(
        sessions.cookie_name(False),
        sessions.issue_token(settings.secret_key, session_id=session_id, person_id=person.person_id),
    )


async def test_the_api_contests_an_access_in_one_call(
    app: Litestar, client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    person = await create_person(conn)
    event = await _institution_event(conn, person)
    url = f"/api/v1/me/access-events/{event.event_id}/contest"

    assert (await client.post(url)).status_code == 401
    await _signed_in(client, conn, settings, person)

    bad = await client.post(url, json={"message": 42})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "message"
    unknown = await client.post(url, json={"reason": "x"})
    assert unknown.status_code == 422

    created = await client.post(url, json={"message": "Who is this?"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "open"
    assert body["seq"] == event.seq
    assert body["event_hash"] == event.hash.hex()
    assert body["message"] == "Who is this?"
    assert body["overdue"] is False
    assert datetime.fromisoformat(body["due_at"]) == answer_due(datetime.fromisoformat(body["opened_at"]))
    assert verify_receipt(body["receipt"], service_jwks(app.state.service_key)).citizen_id == person.person_id

    again = await client.post(url)
    assert again.status_code == 409
    assert again.json()["type"] == "urn:vitrine:problem:contest-already-pending"
    assert body["contest_id"] in again.json()["detail"]

    missing = await client.post(f"/api/v1/me/access-events/{uuid4()}/contest")
    assert missing.status_code == 404

    listed = await client.get("/api/v1/me/access-contests")
    assert [item["contest_id"] for item in listed.json()["items"]] == [body["contest_id"]]
    one = await client.get(f"/api/v1/me/access-contests/{body['contest_id']}")
    assert one.json()["message"] == "Who is this?"
    assert (await client.get(f"/api/v1/me/access-contests/{uuid4()}")).status_code == 404


async def test_the_api_opens_a_case_without_a_body_and_not_for_someone_you_act_for(
    app: Litestar, client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    person = await create_person(conn)
    event = await _institution_event(conn, person)
    await _signed_in(client, conn, settings, person)
    created = await client.post(f"/api/v1/me/access-events/{event.event_id}/contest")
    assert created.status_code == 201
    assert created.json()["message"] is None

    helper = await create_person(conn)
    await create_mandate(conn, person, helper=helper)
    other_event = await _institution_event(conn, person)
    session_id = await sessions.insert_session(conn, person_id=helper.person_id, method="demo")
    await sessions.update_acting_context(conn, session_id, acting_for=person.person_id, acting_org=None)
    client.cookies.set(
        sessions.cookie_name(False),
        sessions.issue_token(settings.secret_key, session_id=session_id, person_id=helper.person_id),
    )
    refused = await client.post(f"/api/v1/me/access-events/{other_event.event_id}/contest")
    assert refused.status_code == 403
    count = await conn.fetchval("SELECT count(*) FROM access_contests WHERE citizen_id = $1", person.person_id)
    assert count == 1, "only the case the person opened themself"
