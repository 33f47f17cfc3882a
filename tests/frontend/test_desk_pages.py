"""The desk pages in process: opening a session by presence code (wrong code refused, logged and rate-limited),
no file without a session, expiry enforced on the next request, scope refusals, the person's own page, the
mandate confirmed on the person's own phone, and the reviewers' list with its flags."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import httpx
import pytest
from litestar import Litestar

from backend.core.identity import queries as identity_queries
from backend.core.identity.schemas import Person, StaffMember
from backend.core.settings import Settings
from backend.desk import codes
from backend.desk.sessions import open_session
from tests.backend.desk.desk_data import insz_of, open_request
from tests.conftest import in_process_client
from tests.factories import create_person, create_staff, sign_in_client
from tests.frontend.mandate_pages import post_form, summary_errors


@pytest.fixture
async def pages(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of the real app."""
    async with in_process_client(app) as client:
        yield client


async def _staff(conn: asyncpg.Connection, *roles: str) -> tuple[Person, StaffMember]:
    person = await create_staff(conn, *roles, language="en")
    staff = await identity_queries.select_staff(conn, person.person_id)
    assert staff is not None
    return person, staff


async def _denied(conn: asyncpg.Connection, citizen_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT actor_ref, reason, case_ref FROM access_events "
        "WHERE citizen_id = $1 AND outcome = 'denied' ORDER BY seq",
        citizen_id,
    )


async def test_a_session_opens_with_the_code_the_person_shows_on_their_phone(
    pages: httpx.AsyncClient, app: Litestar, conn: asyncpg.Connection, settings: Settings
) -> None:
    citizen = await create_person(
        conn, language="de", given_name="Sofie", family_name="Peeters", email="sofie@example.be"
    )
    agent_person, staff = await _staff(conn, "support")
    async with in_process_client(app) as phone:
        await sign_in_client(phone, conn, settings.secret_key, citizen)
        shown = await post_form(phone, "/desk-help/code", {}, token_page="/desk-help")
        assert shown.status_code == 200
        digits = shown.text.partition('class="easy-read__code">')[2].partition("<")[0].replace(" ", "")
        assert codes.normalise(digits) is not None

    await sign_in_client(pages, conn, settings.secret_key, agent_person)
    insz = await insz_of(conn, citizen)
    form: dict[str, object] = {
        "insz": insz,
        "verification": "presence_code",
        "reason": "Help to read the flexi counter",
        "scopes": ["view_data", "contact"],
    }
    wrong = await post_form(
        pages,
        "/desk/sessions",
        {**form, "presence_code": "000000" if digits != "000000" else "111111"},
        token_page="/desk",
    )
    assert wrong.status_code == 422
    assert [field for field, _message in summary_errors(wrong.text)] == ["presence_code"]
    assert insz not in wrong.headers.get("location", "")
    assert len(await _denied(conn, citizen.person_id)) == 1

    opened = await post_form(pages, "/desk/sessions", {**form, "presence_code": digits}, token_page="/desk")
    assert opened.status_code == 303, opened.text
    location = opened.headers["location"]
    assert insz not in location
    home = await pages.get(location)
    assert home.status_code == 200
    assert "Sofie Peeters" in home.text

    screen = await pages.get(f"{location}/data/1")
    assert screen.status_code == 200
    assert "Part 1 of" in screen.text
    outside = await pages.get(f"{location}/mandates")
    assert outside.status_code == 403
    assert "outside what the person agreed" in outside.text

    contact = await post_form(
        pages, f"{location}/contact", {"email": "not-an-address", "language": "fr"}, token_page=location
    )
    assert contact.status_code == 422
    assert [field for field, _message in summary_errors(contact.text)] == ["email"]
    saved = await post_form(
        pages, f"{location}/contact", {"email": "sofie@example.org", "language": "en"}, token_page=location
    )
    assert saved.status_code == 303
    person = await identity_queries.select_person(conn, citizen.person_id)
    assert person is not None
    assert (person.email, person.language) == ("sofie@example.org", "en")

    ended = await post_form(pages, f"{location}/end", {}, token_page=location)
    assert ended.status_code == 303
    after = await pages.get(f"{location}/data/1")
    assert after.status_code == 403

    async with in_process_client(app) as phone:
        await sign_in_client(phone, conn, settings.secret_key, citizen)
        listed = await phone.get("/desk-help")
        assert listed.status_code == 200
        assert staff.pseudonym in listed.text
        assert "Test desk" in listed.text
        assert "Ended the session" in listed.text


async def test_presence_code_guessing_is_rate_limited_per_agent(
    pages: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    citizen = await create_person(conn, language="en")
    agent_person, _staff_member = await _staff(conn, "support")
    await sign_in_client(pages, conn, settings.secret_key, agent_person)
    form = {
        "insz": await insz_of(conn, citizen),
        "verification": "presence_code",
        "reason": "Guessing",
        "scopes": ["view_data"],
        "presence_code": "123456",
    }
    statuses = [(await post_form(pages, "/desk/sessions", form, token_page="/desk")).status_code for _ in range(11)]
    assert statuses[:10] == [422] * 10
    assert statuses[10] == 429


async def test_staff_without_a_session_get_403_and_the_attempt_is_logged(
    pages: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    _owner_person, owner = await _staff(conn, "support")
    intruder_person, intruder = await _staff(conn, "support")
    citizen = await create_person(conn, language="en")
    session = await open_session(conn, owner, open_request(await insz_of(conn, citizen)), secret=settings.secret_key)
    await sign_in_client(pages, conn, settings.secret_key, intruder_person)
    for path in ("", "/data/1", "/summary", "/contact", "/mandates"):
        response = await pages.get(f"/desk/sessions/{session.session_id}{path}")
        assert response.status_code == 403, path
    as_json = await pages.get(f"/desk/sessions/{session.session_id}/data/1", headers={"accept": "application/json"})
    assert as_json.status_code == 403
    assert as_json.headers["content-type"].startswith("application/problem+json")
    assert as_json.json()["type"] == "urn:vitrine:problem:desk-session-not-yours"
    denied = await _denied(conn, citizen.person_id)
    assert len(denied) == 6
    assert {row["actor_ref"] for row in denied} == {intruder.pseudonym}


async def test_a_reviewer_or_citizen_cannot_use_the_desk(
    pages: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    reviewer_person, _reviewer = await _staff(conn, "reviewer")
    await sign_in_client(pages, conn, settings.secret_key, reviewer_person)
    assert (await pages.get("/desk")).status_code == 403
    assert (await pages.get("/desk/review")).status_code == 200


async def test_expiry_is_enforced_on_the_next_request(
    pages: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    agent_person, staff = await _staff(conn, "support")
    citizen = await create_person(conn, language="en")
    long_ago = datetime.now(UTC) - timedelta(minutes=31)
    session = await open_session(
        conn,
        staff,
        open_request(await insz_of(conn, citizen)),
        secret=settings.secret_key,
        now=long_ago,
    )
    await sign_in_client(pages, conn, settings.secret_key, agent_person)
    response = await pages.get(f"/desk/sessions/{session.session_id}/data/1")
    assert response.status_code == 403
    assert "expired" in response.text
    row = await conn.fetchrow(
        "SELECT end_reason, ended_at = expires_at AS on_time FROM desk_sessions WHERE session_id = $1",
        session.session_id,
    )
    assert row is not None
    assert row["end_reason"] == "expired"
    assert row["on_time"]
    assert len(await _denied(conn, citizen.person_id)) == 1


async def test_a_mandate_prepared_at_the_desk_starts_only_when_the_person_confirms_on_their_phone(
    pages: httpx.AsyncClient, app: Litestar, conn: asyncpg.Connection, settings: Settings
) -> None:
    agent_person, staff = await _staff(conn, "support")
    citizen = await create_person(
        conn, language="en", given_name="Sofie", family_name="Peeters", email="sofie@example.be"
    )
    helper = await create_person(conn, language="en", given_name="Pieter", family_name="Janssens")
    session = await open_session(
        conn,
        staff,
        open_request(await insz_of(conn, citizen), scopes=("mandates",)),
        secret=settings.secret_key,
    )
    await sign_in_client(pages, conn, settings.secret_key, agent_person)
    path = f"/desk/sessions/{session.session_id}/mandates"
    bad = await post_form(
        pages,
        path,
        {
            "mandatary_insz": await insz_of(conn, helper),
            "mandatary_family_name": "Wrong",
            "theme_work_and_wages": "read",
            "duration": "1_year",
        },
        token_page=path,
    )
    assert bad.status_code == 422
    assert "mandatary_insz" in [field for field, _message in summary_errors(bad.text)]
    prepared = await post_form(
        pages,
        path,
        {
            "mandatary_insz": await insz_of(conn, helper),
            "mandatary_family_name": "Janssens",
            "theme_work_and_wages": "read",
            "duration": "1_year",
        },
        token_page=path,
    )
    assert prepared.status_code == 200, prepared.text
    assert "It is not given yet" in prepared.text
    assert await conn.fetchval("SELECT count(*) FROM mandates WHERE citizen_id = $1", citizen.person_id) == 0
    payload = await conn.fetchval(
        "SELECT payload FROM notification_outbox WHERE citizen_id = $1 AND kind = 'desk_mandate_code'",
        citizen.person_id,
    )
    code = payload["code"]

    async with in_process_client(app) as phone:
        await sign_in_client(phone, conn, settings.secret_key, citizen)
        wrong = await post_form(phone, "/desk-help/confirm", {"code": "12345"}, token_page="/desk-help/confirm")
        assert wrong.status_code == 422
        preview = await post_form(phone, "/desk-help/confirm", {"code": code}, token_page="/desk-help/confirm")
        assert preview.status_code == 200
        assert "Pieter Janssens" in preview.text
        confirmed = await post_form(phone, "/desk-help/confirm/answer", {"code": code}, token_page="/desk-help/confirm")
        assert confirmed.status_code == 200, confirmed.text
        assert "can now accept it" in confirmed.text
        again = await post_form(phone, "/desk-help/confirm/answer", {"code": code}, token_page="/desk-help/confirm")
        assert again.status_code == 422
    state = await conn.fetchval(
        "SELECT mandate_state(m, now()) FROM mandates AS m WHERE citizen_id = $1", citizen.person_id
    )
    assert state == "pending", "the helper still accepts with the invitation code"


async def test_the_signed_form_is_recorded_with_its_printed_reference(
    pages: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    agent_person, staff = await _staff(conn, "support")
    citizen = await create_person(conn, language="en")
    helper = await create_person(conn, language="en", family_name="Janssens")
    session = await open_session(
        conn,
        staff,
        open_request(await insz_of(conn, citizen), scopes=("mandates",)),
        secret=settings.secret_key,
    )
    await sign_in_client(pages, conn, settings.secret_key, agent_person)
    path = f"/desk/sessions/{session.session_id}/mandates"
    await post_form(
        pages,
        path,
        {
            "mandatary_insz": await insz_of(conn, helper),
            "mandatary_family_name": "Janssens",
            "theme_work_and_wages": "read",
            "duration": "1_month",
        },
        token_page=path,
    )
    draft_id = await conn.fetchval("SELECT draft_id FROM desk_mandate_drafts WHERE citizen_id = $1", citizen.person_id)
    printed = await pages.get(f"{path}/{draft_id}/form")
    assert printed.status_code == 200
    reference = f"VM-{draft_id.hex[:8].upper()}"
    assert reference in printed.text
    wrong = await post_form(pages, f"{path}/{draft_id}/signed", {"reference": "VM-00000000"}, token_page=path)
    assert wrong.status_code == 422
    given = await post_form(pages, f"{path}/{draft_id}/signed", {"reference": reference.lower()}, token_page=path)
    assert given.status_code == 200, given.text
    assert "The signed form is recorded" in given.text
    events = await conn.fetch(
        "SELECT action, case_ref FROM access_events WHERE citizen_id = $1 AND action = 'change'", citizen.person_id
    )
    assert len(events) == 2
    assert {e["case_ref"] for e in events} == {session.case_ref}


async def test_reviewers_see_sessions_per_agent_with_flags(
    pages: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    _agent_person, staff = await _staff(conn, "support")
    citizen = await create_person(conn, language="en")
    sunday_night = datetime(2026, 11, 22, 21, 0, tzinfo=UTC)
    await open_session(
        conn, staff, open_request(await insz_of(conn, citizen)), secret=settings.secret_key, now=sunday_night
    )
    reviewer_person, _reviewer = await _staff(conn, "reviewer")
    await sign_in_client(pages, conn, settings.secret_key, reviewer_person)
    listed = await pages.get("/desk/review")
    assert listed.status_code == 200
    assert staff.pseudonym in listed.text
    assert "Identity check instead of the person&#39;s code" in listed.text
    assert "Outside opening hours" in listed.text
