"""The rules of assisted sessions: presence codes, expiry, scope, one open session per person, one extension."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from backend.core.errors import Problem
from backend.desk import session_queries
from backend.desk.citizen import issue_presence_code
from backend.desk.gate import end_session, extend_session, session_for
from backend.desk.refusals import Refused
from backend.desk.sessions import open_session
from notifications.rendering import render_notice
from tests.backend.desk.desk_data import SECRET, desk_agent, insz_of, open_request, opened
from tests.factories import create_person

NOW = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)  # a Wednesday, 10:30 in Brussels


async def _events(conn: asyncpg.Connection, citizen_id: object) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT actor_kind, actor_ref, actor_system, channel, action, outcome, reason, case_ref, categories "
        "FROM access_events WHERE citizen_id = $1 ORDER BY seq",
        citizen_id,
    )


@pytest.mark.parametrize(
    ("issued_minutes_before", "typed", "opens"),
    [
        (0, "same", True),
        (9, "same", True),
        (10, "same", False),  # exactly ten minutes old: expired
        (30, "same", False),
        (0, "other", False),
        (0, "spaced", True),  # "123 456" as read out
    ],
)
async def test_presence_code_opens_a_session_only_while_fresh(
    conn: asyncpg.Connection, issued_minutes_before: int, typed: str, opens: bool
) -> None:
    staff = await desk_agent(conn)
    citizen = await create_person(conn)
    code = await issue_presence_code(
        conn, citizen.person_id, secret=SECRET, now=NOW - timedelta(minutes=issued_minutes_before)
    )
    entered = {
        "same": code.code,
        "other": f"{(int(code.code) + 1) % 1_000_000:06d}",
        "spaced": f"{code.code[:3]} {code.code[3:]}",
    }[typed]
    request = open_request(await insz_of(conn, citizen), verification="presence_code", presence_code=entered)
    if opens:
        session = await open_session(conn, staff, request, secret=SECRET, now=NOW)
        assert session.verification == "presence_code"
        assert session.expires_at == NOW + timedelta(minutes=30)
        events = await _events(conn, citizen.person_id)
        assert [(e["actor_kind"], e["channel"], e["outcome"]) for e in events] == [("staff", "desk", "granted")]
        assert events[0]["case_ref"] == session.case_ref
        assert events[0]["actor_ref"] == staff.pseudonym
        assert events[0]["actor_system"] == staff.office
    else:
        with pytest.raises(Refused) as refused:
            await open_session(conn, staff, request, secret=SECRET, now=NOW)
        assert refused.value.errors[0].field == "presence_code"
        assert refused.value.logged
        events = await _events(conn, citizen.person_id)
        assert [(e["outcome"], e["channel"]) for e in events] == [("denied", "desk")]
        assert await session_queries.select_sessions_of_citizen(conn, citizen.person_id) == []


async def test_a_presence_code_works_once_and_a_fresh_one_supersedes_the_old(conn: asyncpg.Connection) -> None:
    staff = await desk_agent(conn)
    citizen = await create_person(conn)
    first = await issue_presence_code(conn, citizen.person_id, secret=SECRET, now=NOW)
    second = await issue_presence_code(conn, citizen.person_id, secret=SECRET, now=NOW)
    insz = await insz_of(conn, citizen)
    if first.code != second.code:
        with pytest.raises(Refused):
            await open_session(
                conn,
                staff,
                open_request(insz, verification="presence_code", presence_code=first.code),
                secret=SECRET,
                now=NOW,
            )
    session = await open_session(
        conn, staff, open_request(insz, verification="presence_code", presence_code=second.code), secret=SECRET, now=NOW
    )
    await end_session(conn, staff, session.session_id, now=NOW + timedelta(minutes=5))
    with pytest.raises(Refused):
        await open_session(
            conn,
            staff,
            open_request(insz, verification="presence_code", presence_code=second.code),
            secret=SECRET,
            now=NOW + timedelta(minutes=6),
        )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"insz": "12345678901"}, "insz"),
        ({"reason": "  "}, "reason"),
        ({"scopes": ()}, "scopes"),
        ({"scopes": ("view_data", "export")}, "scopes"),
        ({"document_type": "library_card"}, "document_type"),
        ({"document_last4": "12"}, "document_last4"),
        ({"verification": "presence_code", "presence_code": "12345"}, "presence_code"),
    ],
)
async def test_bad_input_names_the_field_and_changes_nothing(
    conn: asyncpg.Connection, overrides: dict[str, object], field: str
) -> None:
    staff = await desk_agent(conn)
    citizen = await create_person(conn)
    request = open_request(str(overrides.pop("insz", await insz_of(conn, citizen))), **overrides)
    with pytest.raises(Problem) as problem:
        await open_session(conn, staff, request, secret=SECRET, now=NOW)
    assert problem.value.status == 422
    assert field in [error.field for error in problem.value.errors]
    assert await _events(conn, citizen.person_id) == []


async def test_a_second_session_for_the_same_person_is_refused_and_logged(conn: asyncpg.Connection) -> None:
    first_agent = await desk_agent(conn)
    second_agent = await desk_agent(conn)
    citizen, _session = await opened(conn, first_agent, now=NOW)
    with pytest.raises(Refused) as refused:
        await open_session(
            conn,
            second_agent,
            open_request(await insz_of(conn, citizen)),
            secret=SECRET,
            now=NOW + timedelta(minutes=5),
        )
    assert refused.value.status == 409
    events = await _events(conn, citizen.person_id)
    assert events[-1]["outcome"] == "denied"
    assert events[-1]["actor_ref"] == second_agent.pseudonym


async def test_a_session_past_its_time_no_longer_blocks_a_new_one(conn: asyncpg.Connection) -> None:
    first_agent = await desk_agent(conn)
    second_agent = await desk_agent(conn)
    citizen, first = await opened(conn, first_agent, now=NOW)
    later = NOW + timedelta(minutes=31)
    second = await open_session(
        conn, second_agent, open_request(await insz_of(conn, citizen)), secret=SECRET, now=later
    )
    assert second.agent_person_id == second_agent.person_id
    ended = await session_queries.select_session(conn, first.session_id)
    assert ended is not None
    assert ended.end_reason == "expired"
    assert ended.ended_at == first.expires_at


@pytest.mark.parametrize(
    ("minutes_later", "scope", "allowed"),
    [
        (0, "view_data", True),
        (29, "contact", True),
        (30, "view_data", False),  # the 30 minutes are over: enforced on this request
        (45, "view_data", False),
        (5, "mandates", False),  # not chosen at opening
    ],
)
async def test_session_gate_enforces_time_and_scope(
    conn: asyncpg.Connection, minutes_later: int, scope: str, allowed: bool
) -> None:
    staff = await desk_agent(conn)
    citizen, session = await opened(conn, staff, now=NOW, scopes=("view_data", "contact"))
    at = NOW + timedelta(minutes=minutes_later)
    if allowed:
        assert (await session_for(conn, staff, session.session_id, scope, now=at)).session_id == session.session_id  # type: ignore[arg-type]
        return
    with pytest.raises(Refused) as refused:
        await session_for(conn, staff, session.session_id, scope, now=at)  # type: ignore[arg-type]
    assert refused.value.status == 403
    assert refused.value.logged
    events = await _events(conn, citizen.person_id)
    assert events[-1]["outcome"] == "denied"
    assert events[-1]["case_ref"] == session.case_ref


async def test_another_agent_cannot_use_a_session(conn: asyncpg.Connection) -> None:
    owner = await desk_agent(conn)
    other = await desk_agent(conn)
    citizen, session = await opened(conn, owner, now=NOW)
    with pytest.raises(Refused) as refused:
        await session_for(conn, other, session.session_id, "view_data", now=NOW)
    assert refused.value.status == 403
    events = await _events(conn, citizen.person_id)
    assert (events[-1]["outcome"], events[-1]["actor_ref"]) == ("denied", other.pseudonym)


async def test_a_session_extends_once_by_thirty_minutes(conn: asyncpg.Connection) -> None:
    staff = await desk_agent(conn)
    _citizen, session = await opened(conn, staff, now=NOW)
    extended = await extend_session(conn, staff, session.session_id, now=NOW + timedelta(minutes=20))
    assert extended.expires_at == NOW + timedelta(minutes=60)
    with pytest.raises(Refused) as refused:
        await extend_session(conn, staff, session.session_id, now=NOW + timedelta(minutes=25))
    assert refused.value.status == 409
    assert (await session_for(conn, staff, session.session_id, "view_data", now=NOW + timedelta(minutes=59))).is_open(
        NOW + timedelta(minutes=59)
    )
    with pytest.raises(Refused):
        await session_for(conn, staff, session.session_id, "view_data", now=NOW + timedelta(minutes=60))


async def test_nothing_can_be_done_once_the_session_has_ended(conn: asyncpg.Connection) -> None:
    staff = await desk_agent(conn)
    _citizen, session = await opened(conn, staff, now=NOW)
    await end_session(conn, staff, session.session_id, now=NOW + timedelta(minutes=3))
    for scope in ("view_data", "contact"):
        with pytest.raises(Refused) as refused:
            await session_for(conn, staff, session.session_id, scope, now=NOW + timedelta(minutes=4))
        assert refused.value.kind == "desk-session-ended"
    with pytest.raises(Refused):
        await extend_session(conn, staff, session.session_id, now=NOW + timedelta(minutes=4))


async def test_opening_tells_the_person_through_the_outbox(conn: asyncpg.Connection) -> None:
    staff = await desk_agent(conn)
    citizen, session = await opened(conn, staff, now=NOW)
    row = await conn.fetchrow("SELECT kind, payload FROM notification_outbox WHERE citizen_id = $1", citizen.person_id)
    assert row is not None
    assert row["kind"] == "desk_session_opened"
    assert row["payload"]["reason"] == "Help to read the flexi counter"
    for language in ("nl", "fr", "de", "en"):
        notice = render_notice("desk_session_opened", row["payload"], language)
        assert "Test desk" in notice.body
        assert session.agent_ref in notice.body
        assert "Help to read the flexi counter" in notice.body
        assert notice.action_url == "/desk-help"
