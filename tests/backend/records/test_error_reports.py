"""Report an error in a record: a case for the institution that declared it, with an append-only history, its
status shown on the record and in the person's list; the JSON API of /api/v1/me/record-error-reports."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from backend.core.auth import sessions
from backend.core.errors import Problem
from backend.core.identity import queries as identity_queries
from backend.core.identity.schemas import Person
from backend.core.settings import Settings
from backend.records import error_report_queries
from backend.records.citizen import category_page
from backend.records.error_reports import (
    ReportAlreadyOpen,
    answer_report,
    close_report,
    describe_reports,
    message_error,
    own_report,
    report_error,
)
from consent.agents import assign_agent
from tests.backend.records.citizen_data import CitizenFile, access_events_of, make_citizen_file
from tests.backend.records.helper_contexts import WAGES_AND_CORRECTIONS, record_ids
from tests.backend.records.institutions import Institution
from tests.factories import (
    create_access_manager,
    create_agent,
    create_mandate,
    create_organisation,
    create_person,
    sign_in_client,
    signed_in,
)

API = "/api/v1/me/record-error-reports"
MESSAGE = "I never worked for this employer in March."


@pytest.fixture
async def file(conn: asyncpg.Connection, onss: Institution) -> CitizenFile:
    """A person with records in every category, in English."""
    return await make_citizen_file(conn, onss, language="en")


async def _first_dimona(conn: asyncpg.Connection, file: CitizenFile) -> Any:
    page = await category_page(conn, file.person.person_id, "dimona", language="en")
    assert page is not None
    return page.dimona[-1]  # the main job since 2019


async def _reports(conn: asyncpg.Connection) -> int:
    value: int = await conn.fetchval("SELECT count(*) FROM record_error_reports")
    return value


async def test_a_report_is_a_case_for_the_institution_that_declared_the_record(
    conn: asyncpg.Connection, onss: Institution, file: CitizenFile
) -> None:
    record = await _first_dimona(conn, file)
    report = await report_error(
        conn, citizen_id=file.person.person_id, record_id=record.record_id, message=f"  {MESSAGE}\n"
    )
    assert (report.status, report.message, report.category) == ("open", MESSAGE, "dimona")
    assert report.source_institution == onss.organisation.org_id
    (step,) = await error_report_queries.select_report_steps(conn, file.person.person_id, report.report_id)
    assert (step.kind, step.status_entered, step.actor_person_id, step.body) == (
        "opened",
        "open",
        file.person.person_id,
        MESSAGE,
    )

    # The record shows its report and where it stands.
    shown = await _first_dimona(conn, file)
    assert shown.report is not None
    assert (shown.report.status_label, shown.report.url) == (
        "Waiting for an answer",
        f"/my-data/error-reports/{report.report_id}",
    )
    (view,) = await describe_reports(conn, file.person.person_id, [report], "en")
    assert view.category_title == "Dimona (start and end of employment)"
    assert view.record_summary == "Assurances Escaut SA, Employee, since 2 September 2019"
    assert view.institution == onss.organisation.name_fr
    assert (view.record_url, view.waiting) == ("/my-data/dimona", True)


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("", "Write what is wrong in this record"),
        ("   \n ", "Write what is wrong in this record"),
        ("Wrong.   ", "Write at least 10 characters, so that the institution understands what is wrong"),
        ("x" * 2001, "Write at most 2000 characters"),
    ],
)
async def test_a_message_must_say_something_and_not_too_much(
    conn: asyncpg.Connection, file: CitizenFile, message: str, error: str
) -> None:
    record = await _first_dimona(conn, file)
    assert message_error(message) == error
    with pytest.raises(Problem) as refused:
        await report_error(conn, citizen_id=file.person.person_id, record_id=record.record_id, message=message)
    assert refused.value.status == 422
    assert [(e.field, e.message) for e in refused.value.errors] == [("message", error)]
    assert await _reports(conn) == 0
    assert message_error("x" * 10) is None
    assert message_error("x" * 2000) is None


async def test_only_ones_own_record_and_one_waiting_report_at_a_time(
    conn: asyncpg.Connection, onss: Institution, file: CitizenFile
) -> None:
    record = await _first_dimona(conn, file)
    stranger = await create_person(conn)
    with pytest.raises(Problem) as missing:
        await report_error(conn, citizen_id=stranger.person_id, record_id=record.record_id, message=MESSAGE)
    assert missing.value.status == 404

    first = await report_error(conn, citizen_id=file.person.person_id, record_id=record.record_id, message=MESSAGE)
    with pytest.raises(ReportAlreadyOpen) as again:
        await report_error(conn, citizen_id=file.person.person_id, record_id=record.record_id, message=MESSAGE)
    assert (again.value.status, again.value.report.report_id) == (409, first.report_id)
    assert await _reports(conn) == 1

    # Once answered, the person may report again (a new case).
    await answer_report(
        conn,
        org_id=onss.organisation.org_id,
        citizen_id=file.person.person_id,
        report_id=first.report_id,
        answer="We checked with the employer: the declaration is right.",
    )
    second = await report_error(conn, citizen_id=file.person.person_id, record_id=record.record_id, message=MESSAGE)
    assert second.report_id != first.report_id


async def test_the_source_institution_answers_then_closes(
    conn: asyncpg.Connection, onss: Institution, file: CitizenFile
) -> None:
    record = await _first_dimona(conn, file)
    citizen_id = file.person.person_id
    report = await report_error(conn, citizen_id=citizen_id, record_id=record.record_id, message=MESSAGE)
    other = await create_organisation(conn, kind="institution", code="OTHERINST")
    with pytest.raises(Problem) as not_theirs:
        await answer_report(conn, org_id=other.org_id, citizen_id=citizen_id, report_id=report.report_id, answer="No")
    assert not_theirs.value.status == 404
    with pytest.raises(Problem) as too_early:
        await close_report(conn, org_id=onss.organisation.org_id, citizen_id=citizen_id, report_id=report.report_id)
    assert too_early.value.status == 409

    org_id = onss.organisation.org_id
    answered = await answer_report(
        conn, org_id=org_id, citizen_id=citizen_id, report_id=report.report_id, answer="  Corrected on 3 March.  "
    )
    assert (answered.status, answered.answer) == ("answered", "Corrected on 3 March.")
    assert answered.answered_at is not None
    with pytest.raises(Problem) as twice:
        await answer_report(conn, org_id=org_id, citizen_id=citizen_id, report_id=report.report_id, answer="Again")
    assert twice.value.status == 409
    closed = await close_report(conn, org_id=org_id, citizen_id=citizen_id, report_id=report.report_id)
    assert closed.status == "closed"
    steps = await error_report_queries.select_report_steps(conn, citizen_id, report.report_id)
    assert [(s.kind, s.status_left, s.status_entered) for s in steps] == [
        ("opened", None, "open"),
        ("answered", "open", "answered"),
        ("closed", "answered", "closed"),
    ]
    assert [s.actor_org_id for s in steps[1:]] == [org_id, org_id]
    (view,) = await describe_reports(conn, citizen_id, [await own_report(conn, citizen_id, report.report_id)], "fr")
    assert (view.status, view.waiting, view.answer) == ("closed", False, "Corrected on 3 March.")
    assert view.answered_on is not None


async def test_the_history_is_append_only_and_keeps_the_status_honest(
    conn: asyncpg.Connection, file: CitizenFile
) -> None:
    record = await _first_dimona(conn, file)
    report = await report_error(conn, citizen_id=file.person.person_id, record_id=record.record_id, message=MESSAGE)
    key = (file.person.person_id, report.report_id)
    for statement in (
        "UPDATE record_error_report_events SET body = 'changed' WHERE citizen_id = $1 AND report_id = $2",
        "DELETE FROM record_error_report_events WHERE citizen_id = $1 AND report_id = $2",
        "DELETE FROM record_error_reports WHERE citizen_id = $1 AND report_id = $2",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with conn.transaction():
                await conn.execute(statement, *key)
    # A status its history never entered is refused by the database itself.
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        async with conn.transaction():
            await conn.execute(
                """
                UPDATE record_error_reports SET status = 'answered', answer = 'x', answered_at = now()
                WHERE citizen_id = $1 AND report_id = $2
                """,
                *key,
            )
    with pytest.raises(asyncpg.CheckViolationError):
        async with conn.transaction():
            await conn.execute("UPDATE record_error_reports SET message = 'short' WHERE citizen_id = $1", key[0])


async def test_the_api_opens_lists_and_shows_reports_without_logging(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings, file: CitizenFile
) -> None:
    record = await _first_dimona(conn, file)
    await sign_in_client(client, conn, settings.secret_key, file.person)

    created = await client.post(API, json={"record_id": str(record.record_id), "message": MESSAGE})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["status"], body["status_label"], body["category"]) == ("open", "Waiting for an answer", "dimona")
    report_id = body["report_id"]

    again = await client.post(API, json={"record_id": str(record.record_id), "message": MESSAGE})
    assert (again.status_code, again.json()["type"]) == (409, "urn:vitrine:problem:error-report-already-open")
    short = await client.post(API, json={"record_id": str(record.record_id), "message": "wrong"})
    assert short.status_code == 422
    assert [e["field"] for e in short.json()["errors"]] == ["message"]
    unknown = await client.post(API, json={"record_id": str(record.record_id), "message": MESSAGE, "x": 1})
    assert (unknown.status_code, unknown.json()["errors"][0]["field"]) == (422, "x"), "the unknown field is named"
    not_json = await client.post(API, content=b"{", headers={"content-type": "application/json"})
    assert not_json.status_code == 422

    listed = await client.get(API)
    assert [item["report_id"] for item in listed.json()["items"]] == [report_id]
    one = await client.get(f"{API}/{report_id}")
    assert (one.status_code, one.json()["message"]) == (200, MESSAGE)

    stranger = await create_person(conn)
    await sign_in_client(client, conn, settings.secret_key, stranger)
    assert (await client.get(f"{API}/{report_id}")).status_code == 404
    theirs = await client.post(API, json={"record_id": str(record.record_id), "message": MESSAGE})
    assert theirs.status_code == 404
    assert (await client.get(API)).json()["items"] == []
    assert await access_events_of(conn, file.person) == 0


async def _sign_in(
    client: httpx.AsyncClient,
    conn: asyncpg.Connection,
    settings: Settings,
    person: Person,
    *,
    acting_for: Person | None = None,
    acting_org: Any = None,
) -> None:
    session_id = await sign_in_client(client, conn, settings.secret_key, person)
    if acting_for is not None:
        await sessions.update_acting_context(conn, session_id, acting_for=acting_for.person_id, acting_org=acting_org)


async def test_who_filed_a_report_is_said_from_the_reader_s_side_in_json_as_on_the_pages(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings, onss: Institution
) -> None:
    mother = (await make_citizen_file(conn, onss, language="en", given_name="Maria", family_name="Janssens")).person
    helper = await create_person(conn, given_name="Jan", family_name="Peeters", language="en")
    await create_mandate(conn, mother, helper=helper, themes=WAGES_AND_CORRECTIONS)
    organisation = await create_organisation(conn)
    manager = await create_access_manager(conn, organisation)
    agent = await create_agent(conn, organisation, language="en")
    mandate = await create_mandate(
        conn, mother, organisation=organisation, accepted_by=manager, themes=WAGES_AND_CORRECTIONS
    )
    assert await assign_agent(conn, await signed_in(conn, manager), mandate.mandate_id, agent.person_id)
    [membership] = await identity_queries.select_memberships(conn, agent.person_id)
    by_agent = f"CPAS de Testville (agent {membership.pseudonym})"
    first, second, *_ = await record_ids(conn, mother, "dimona")

    # The helper, then the organisation's agent, each file a report for her: each answer says who filed it from
    # the filer's own side, never "under your mandate".
    await _sign_in(client, conn, settings, helper, acting_for=mother)
    filed = await client.post(API, json={"record_id": first, "message": MESSAGE})
    assert filed.status_code == 201, filed.text
    assert filed.json()["filed_by"] == "Jan Peeters, under a mandate from Maria Janssens"
    await _sign_in(client, conn, settings, agent, acting_for=mother, acting_org=organisation.org_id)
    filed = await client.post(API, json={"record_id": second, "message": MESSAGE})
    assert filed.status_code == 201, filed.text
    assert filed.json()["filed_by"] == f"{by_agent}, under a mandate from Maria Janssens"
    report_id = filed.json()["report_id"]

    # Each reader: the JSON list, one report and the export say exactly what the page says to the same reader.
    readers: list[tuple[Person, dict[str, Any], str]] = [
        (mother, {}, "under your mandate"),
        (helper, {"acting_for": mother}, "under a mandate from Maria Janssens"),
        (agent, {"acting_for": mother, "acting_org": organisation.org_id}, "under a mandate from Maria Janssens"),
    ]
    for person, acting, mandate_words in readers:
        await _sign_in(client, conn, settings, person, **acting)
        expected = [f"{by_agent}, {mandate_words}", f"Jan Peeters, {mandate_words}"]
        listed = await client.get(API)
        assert listed.status_code == 200
        assert sorted(item["filed_by"] for item in listed.json()["items"]) == expected
        assert (await client.get(f"{API}/{report_id}")).json()["filed_by"] == expected[0]
        exported = (await client.get("/api/v1/me/records/export.json")).json()
        assert sorted(report["filed_by"] for report in exported["error_reports"]) == expected
        page = (await client.get("/my-data/error-reports")).text
        assert all(words in page for words in expected), page
        if person != mother:
            assert "under your mandate" not in page + listed.text
