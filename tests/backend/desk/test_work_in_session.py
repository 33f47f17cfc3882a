"""What an agent does in a session, each step logged in the person's access log with the session as case:
easy-read screens and the summary read through the records services, e-mail and language, error reports, and
mandates that exist only once the person confirms (own phone or signed form)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import pytest

from backend.core.errors import Problem
from backend.core.identity import queries as identity_queries
from backend.core.identity.schemas import Person, StaffMember
from backend.desk import code_queries, codes, session_queries
from backend.desk.changes import file_error_report, update_contact
from backend.desk.mandates import (
    DraftRequest,
    confirm_on_own_phone,
    form_reference,
    prepare_mandate,
    record_signed_form,
)
from backend.desk.reading import easy_screen, steps, take_home_summary
from backend.desk.refusals import Refused
from backend.desk.schemas import DeskSession, MandateDraft
from consent.schemas import ThemeChoice
from tests.backend.desk.desk_data import SECRET, desk_agent, insz_of, opened
from tests.backend.records.citizen_data import make_citizen_file
from tests.backend.records.institutions import Institution, make_institution
from tests.factories import create_person, signed_in

NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)


@pytest.fixture
async def onss(conn: asyncpg.Connection) -> Institution:
    """The ONSS: the source of the test person's declarations."""
    return await make_institution(conn, "ONSS")


async def _granted(conn: asyncpg.Connection, citizen_id: object) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT action, categories, record_refs, case_ref, channel FROM access_events "
        "WHERE citizen_id = $1 AND outcome = 'granted' ORDER BY seq",
        citizen_id,
    )


async def test_each_easy_read_screen_is_one_logged_read_of_one_category(
    conn: asyncpg.Connection, onss: Institution
) -> None:
    staff = await desk_agent(conn)
    file = await make_citizen_file(conn, onss)
    citizen, session = await opened(conn, staff, file.person, now=NOW)
    codes_in_order = steps()
    for step in range(1, len(codes_in_order) + 1):
        screen = await easy_screen(conn, staff, session.session_id, step, language="en", now=NOW)
        assert screen is not None
        assert screen.card.code == codes_in_order[step - 1]
        assert (screen.previous_step is None) == (step == 1)
        assert (screen.next_step is None) == (step == len(codes_in_order))
    assert await easy_screen(conn, staff, session.session_id, len(codes_in_order) + 1, language="en", now=NOW) is None
    events = await _granted(conn, citizen.person_id)
    reads = [e for e in events[1:] if e["action"] == "read"]
    assert [e["categories"] for e in reads] == [[code] for code in codes_in_order]
    assert {e["case_ref"] for e in events} == {session.case_ref}
    assert {e["channel"] for e in events} == {"desk"}
    flexi = await easy_screen(
        conn, staff, session.session_id, codes_in_order.index("flexi_wages") + 1, language="en", now=NOW
    )
    assert flexi is not None
    assert flexi.lines, "the flexi months are listed"
    assert any("of" in line for line in flexi.extra), "the year against its ceiling"


async def test_the_summary_is_logged_and_lists_what_was_done(conn: asyncpg.Connection, onss: Institution) -> None:
    staff = await desk_agent(conn)
    file = await make_citizen_file(conn, onss)
    _citizen, session = await opened(conn, staff, file.person, now=NOW)
    await easy_screen(conn, staff, session.session_id, 1, language="en", now=NOW)
    summary = await take_home_summary(conn, staff, session.session_id, language="en", now=NOW)
    assert summary.total_records > 0
    assert [action.kind for action in summary.actions] == ["opened", "viewed", "summary_printed"]


@pytest.mark.parametrize(
    ("email", "language", "field"),
    [("not an address", "fr", "email"), ("a@b.be", "pl", "language"), ("", "xx", "language")],
)
async def test_bad_contact_details_name_the_field_and_change_nothing(
    conn: asyncpg.Connection, email: str, language: str, field: str
) -> None:
    staff = await desk_agent(conn)
    citizen, session = await opened(conn, staff, now=NOW)
    with pytest.raises(Problem) as problem:
        await update_contact(conn, staff, session.session_id, email=email, language=language, now=NOW)
    assert [error.field for error in problem.value.errors] == [field]
    unchanged = await identity_queries.select_person(conn, citizen.person_id)
    assert unchanged == citizen


async def test_contact_details_change_and_the_change_is_logged(conn: asyncpg.Connection) -> None:
    staff = await desk_agent(conn)
    citizen, session = await opened(conn, staff, now=NOW)
    updated = await update_contact(conn, staff, session.session_id, email="", language="de", now=NOW)
    assert (updated.email, updated.language) == (None, "de")
    events = await _granted(conn, citizen.person_id)
    assert events[-1]["action"] == "change"


async def test_an_error_report_goes_to_the_institution_in_the_persons_name(
    conn: asyncpg.Connection, onss: Institution
) -> None:
    staff = await desk_agent(conn)
    file = await make_citizen_file(conn, onss)
    citizen, session = await opened(conn, staff, file.person, now=NOW)
    record_id = await conn.fetchval("SELECT record_id FROM records WHERE citizen_id = $1 LIMIT 1", citizen.person_id)
    report = await file_error_report(conn, staff, session.session_id, record_id, "I never worked there.", now=NOW)
    assert report.citizen_id == citizen.person_id
    assert (await _granted(conn, citizen.person_id))[-1]["record_refs"] == [str(record_id)]


async def test_error_reports_and_mandates_are_refused_outside_the_scope(conn: asyncpg.Connection) -> None:
    staff = await desk_agent(conn)
    helper = await create_person(conn, family_name="Janssens")
    citizen, session = await opened(conn, staff, now=NOW, scopes=("view_data",))
    with pytest.raises(Refused):
        await file_error_report(conn, staff, session.session_id, session.session_id, "Something is wrong.", now=NOW)
    request = DraftRequest(
        mandatary_insz=await insz_of(conn, helper),
        mandatary_family_name="Janssens",
        mandatary_kbo=None,
        themes=[ThemeChoice(code="work_and_wages", access="read")],
        duration="1_month",
        acknowledge_high_risk=False,
    )
    with pytest.raises(Refused):
        await prepare_mandate(conn, staff, session.session_id, request, secret=SECRET, now=NOW)
    denied = await conn.fetchval(
        "SELECT count(*) FROM access_events WHERE citizen_id = $1 AND outcome = 'denied'", citizen.person_id
    )
    assert denied == 2


async def _prepared(
    conn: asyncpg.Connection, *, now: datetime = NOW
) -> tuple[StaffMember, Person, DeskSession, MandateDraft]:
    staff = await desk_agent(conn)
    helper = await create_person(conn, given_name="Pieter", family_name="Janssens")
    citizen, session = await opened(conn, staff, now=now, scopes=("mandates",))
    request = DraftRequest(
        mandatary_insz=await insz_of(conn, helper),
        mandatary_family_name="Janssens",
        mandatary_kbo=None,
        themes=[ThemeChoice(code="work_and_wages", access="read")],
        duration="1_month",
        acknowledge_high_risk=False,
    )
    draft = await prepare_mandate(conn, staff, session.session_id, request, secret=SECRET, now=now)
    return staff, citizen, session, draft


async def _code(conn: asyncpg.Connection, citizen_id: UUID) -> str:
    payload = await conn.fetchval(
        "SELECT payload FROM notification_outbox WHERE citizen_id = $1 AND kind = 'desk_mandate_code'", citizen_id
    )
    return str(payload["code"])


async def test_a_prepared_mandate_does_not_exist_until_the_person_confirms(conn: asyncpg.Connection) -> None:
    _staff, citizen, _session, draft = await _prepared(conn)
    assert await conn.fetchval("SELECT count(*) FROM mandates WHERE citizen_id = $1", citizen.person_id) == 0
    assert draft.mandatary_label == "Pieter Janssens"
    code = await _code(conn, citizen.person_id)
    stored = await conn.fetchval("SELECT code_hmac FROM desk_mandate_drafts WHERE citizen_id = $1", citizen.person_id)
    assert bytes(stored) == codes.code_hmac(SECRET, "mandate", citizen.person_id, code)
    invited = await confirm_on_own_phone(
        conn,
        await signed_in(conn, citizen),
        code,
        secret=SECRET,
        now=NOW + timedelta(minutes=5),
    )
    assert invited.mandate.state == "pending"
    assert invited.mandate.mandatary.name == "Pieter Janssens"


@pytest.mark.parametrize(
    ("minutes_later", "typed", "kind"),
    [
        (5, "12345", "desk-mandate-code-format"),
        (5, "other", "desk-mandate-code-unknown"),
        (30, "same", "desk-mandate-code-expired"),
    ],
)
async def test_the_confirmation_code_is_refused_when_wrong_or_expired(
    conn: asyncpg.Connection, minutes_later: int, typed: str, kind: str
) -> None:
    _staff, citizen, _session, _draft = await _prepared(conn)
    code = await _code(conn, citizen.person_id)
    entered = {"same": code, "other": f"{(int(code) + 1) % 1_000_000:06d}"}.get(typed, typed)
    with pytest.raises(Problem) as problem:
        await confirm_on_own_phone(
            conn,
            await signed_in(conn, citizen),
            entered,
            secret=SECRET,
            now=NOW + timedelta(minutes=minutes_later),
        )
    assert problem.value.kind == kind
    assert await conn.fetchval("SELECT count(*) FROM mandates WHERE citizen_id = $1", citizen.person_id) == 0


async def test_someone_else_cannot_confirm_with_the_code(conn: asyncpg.Connection) -> None:
    _staff, citizen, _session, _draft = await _prepared(conn)
    code = await _code(conn, citizen.person_id)
    stranger = await create_person(conn)
    with pytest.raises(Problem) as problem:
        await confirm_on_own_phone(conn, await signed_in(conn, stranger), code, secret=SECRET, now=NOW)
    assert problem.value.kind == "desk-mandate-code-unknown"


async def test_the_signed_form_needs_its_printed_reference_and_works_once(conn: asyncpg.Connection) -> None:
    staff, citizen, session, draft = await _prepared(conn)
    with pytest.raises(Problem) as problem:
        await record_signed_form(conn, staff, session.session_id, draft.draft_id, "VM-WRONG000", now=NOW)
    assert [error.field for error in problem.value.errors] == ["reference"]
    invited = await record_signed_form(
        conn,
        staff,
        session.session_id,
        draft.draft_id,
        form_reference(draft).lower(),
        now=NOW,
    )
    assert invited.mandate.state == "pending"
    confirmed = await code_queries.select_draft(conn, citizen.person_id, draft.draft_id)
    assert confirmed is not None
    assert confirmed.confirmed_via == "signed_form"
    with pytest.raises(Problem) as again:
        await record_signed_form(conn, staff, session.session_id, draft.draft_id, form_reference(draft), now=NOW)
    assert again.value.status == 409
    kinds = [a.kind for a in await session_queries.select_actions(conn, citizen.person_id, [session.session_id])]
    assert kinds == ["opened", "mandate_prepared", "mandate_confirmed"]
