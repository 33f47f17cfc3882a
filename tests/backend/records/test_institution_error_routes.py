"""The declaring institution's side of "Report an error", over HTTP with signed assertions: its queue (each
listed report logged in the person's access log), its answer, closing, and everything refused changing nothing."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import httpx
import pytest

from backend.access_log import queries as access_queries
from backend.records import error_report_queries
from backend.records.citizen import category_page
from backend.records.error_reports import own_report, report_error
from backend.records.institution_error_reports import RECTIFICATION_BASIS
from tests.backend.records.citizen_data import CitizenFile, make_citizen_file
from tests.backend.records.institutions import Institution, make_institution
from tests.factories import new_insz

API = "/api/v1/record-error-reports"
MESSAGE = "I never worked for this employer in March."


@pytest.fixture
async def file(conn: asyncpg.Connection, onss: Institution) -> CitizenFile:
    """A person with records in every category, in English."""
    return await make_citizen_file(conn, onss, language="en")


async def _reported(conn: asyncpg.Connection, file: CitizenFile) -> tuple[str, str]:
    """A report on the person's main Dimona (declared by the ONSS): (report id, record id)."""
    page = await category_page(conn, file.person.person_id, "dimona", language="en")
    assert page is not None
    record = page.dimona[-1]
    report = await report_error(conn, citizen_id=file.person.person_id, record_id=record.record_id, message=MESSAGE)
    return str(report.report_id), str(record.record_id)


async def test_the_institution_reads_its_queue_and_each_read_is_in_the_persons_log(
    api: httpx.AsyncClient, conn: asyncpg.Connection, onss: Institution, file: CitizenFile
) -> None:
    report_id, record_id = await _reported(conn, file)
    before = await access_queries.select_chain(conn, file.person.person_id)

    answer = await api.get(API, headers=onss.headers())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["more"] is False
    (item,) = body["items"]
    assert (item["report_id"], item["record_id"], item["category"]) == (report_id, record_id, "dimona")
    assert (item["subject"], item["message"]) == (file.insz, MESSAGE)
    declared = await conn.fetchrow(
        "SELECT source, source_event_id FROM records WHERE citizen_id = $1 AND record_id = $2",
        file.person.person_id,
        UUID(record_id),
    )
    assert declared is not None
    assert (item["source"], item["source_event_id"]) == (declared["source"], declared["source_event_id"])

    after = await access_queries.select_chain(conn, file.person.person_id)
    (read,) = after[len(before) :]
    assert (read.actor_kind, read.actor_org_id, read.action, read.channel) == (
        "institution",
        onss.organisation.org_id,
        "read",
        "api",
    )
    assert (read.categories, read.record_refs, read.case_ref) == (["dimona"], [record_id], report_id)
    assert read.legal_basis_ref == RECTIFICATION_BASIS

    # Another institution's queue does not hold it.
    onem = await make_institution(conn, "ONEMQ")
    assert (await api.get(API, headers=onem.headers())).json() == {"items": [], "more": False}


async def test_the_institution_answers_then_closes_and_the_person_sees_it(
    api: httpx.AsyncClient, conn: asyncpg.Connection, onss: Institution, file: CitizenFile
) -> None:
    report_id, _ = await _reported(conn, file)
    url = f"{API}/{report_id}"

    early = await api.post(f"{url}/close", headers=onss.headers(), json={"subject": file.insz})
    assert early.status_code == 409, "only an answered report can be closed"

    answered = await api.post(
        f"{url}/answer", headers=onss.headers(), json={"subject": file.insz, "answer": "  Corrected on 2 March.  "}
    )
    assert answered.status_code == 200, answered.text
    assert (answered.json()["status"], answered.json()["answer"]) == ("answered", "Corrected on 2 March.")
    seen = await own_report(conn, file.person.person_id, answered.json()["report_id"])
    assert (seen.status, seen.answer) == ("answered", "Corrected on 2 March.")
    assert (await api.get(API, headers=onss.headers())).json()["items"] == [], "answered reports leave the queue"

    twice = await api.post(f"{url}/answer", headers=onss.headers(), json={"subject": file.insz, "answer": "Again"})
    assert twice.status_code == 409
    closed = await api.post(f"{url}/close", headers=onss.headers(), json={"subject": file.insz})
    assert (closed.status_code, closed.json()["status"]) == (200, "closed")
    steps = await error_report_queries.select_report_steps(conn, file.person.person_id, seen.report_id)
    assert [(step.kind, step.actor_org_id) for step in steps] == [
        ("opened", None),
        ("answered", onss.organisation.org_id),
        ("closed", onss.organisation.org_id),
    ]


async def test_refusals_name_the_field_or_hide_the_report_and_change_nothing(
    api: httpx.AsyncClient, conn: asyncpg.Connection, onss: Institution, file: CitizenFile
) -> None:
    report_id, _ = await _reported(conn, file)
    url = f"{API}/{report_id}/answer"
    onem = await make_institution(conn, "ONEMR")
    cases = [
        (onss.headers(), {"subject": file.insz}, 422, "answer"),
        (onss.headers(), {"subject": file.insz, "answer": "   "}, 422, "answer"),
        (onss.headers(), {"subject": file.insz, "answer": "x" * 4001}, 422, "answer"),
        (onss.headers(), {"subject": "12345678901", "answer": "Fixed"}, 422, "subject"),
        (onss.headers(), {"subject": file.insz, "answer": "Fixed", "extra": 1}, 422, "extra"),
        (onss.headers(), {"subject": new_insz(), "answer": "Fixed"}, 404, None),
        (onem.headers(), {"subject": file.insz, "answer": "Fixed"}, 404, None),
        ({}, {"subject": file.insz, "answer": "Fixed"}, 401, None),
    ]
    for headers, body, status, field in cases:
        answer = await api.post(url, headers=headers, json=body)
        assert answer.status_code == status, (body, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        if field is not None:
            assert [error["field"] for error in answer.json()["errors"]] == [field], answer.text
    malformed = await api.post(url, headers={**onss.headers(), "content-type": "application/json"}, content=b"{")
    assert (malformed.status_code, malformed.json()["errors"][0]["field"]) == (422, "body")
    unchanged = await own_report(conn, file.person.person_id, UUID(report_id))
    assert (unchanged.status, unchanged.answer) == ("open", None)
    assert file.insz not in str(answer.url)
