"""A helper acting for someone on /my-data and its JSON twins, through the real app and a real session.

The session's acting context is re-checked on every request: a mandate that is ended, expired or not yet
accepted leaves the helper looking at their own (empty) records, and nothing of the person is shown or logged.
Under an active mandate the helper sees exactly the covered categories; anything else is a 403 naming why,
logged as denied. Reporting an error needs the ACT right of "Reporting errors", and the person sees who filed it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import httpx
import pytest

from backend.core.auth import sessions
from backend.core.identity.schemas import Person
from backend.core.settings import Settings
from consent.ending import end_mandate
from tests.backend.records import helper_contexts as contexts
from tests.backend.records.citizen_data import make_citizen_file
from tests.backend.records.helper_contexts import EVERY_CATEGORY, WAGES_CATEGORIES, Reader, log_rows
from tests.backend.records.institutions import Institution, make_institution
from tests.factories import csrf_token, sign_in_client, signed_in

API = "/api/v1/me/records"
MESSAGE = "I stopped working for this employer on 31 March 2026."
Context = Callable[[asyncpg.Connection, Person], Awaitable[Reader]]
_CATEGORY_LINK = re.compile(r'class="category-card__link"')
_REPORT_LINK = re.compile(r'href="(/my-data/dimona/[0-9a-f-]{36}/report-error)"')


@pytest.fixture
async def onss(conn: asyncpg.Connection) -> Institution:
    """The ONSS, which declares the mother's records."""
    return await make_institution(conn, "ONSS")


@dataclass(frozen=True)
class Seen:
    """What the session shows: the overview's categories, the Dimona status, the person's new log rows."""

    overview: list[str]
    dimona: int
    mother_rows: int


CASES: list[tuple[str, Context, Seen]] = [
    ("the person themself", contexts.myself, Seen(EVERY_CATEGORY, 200, 0)),
    # Overview: one read per category shown; then Dimona (granted or denied).
    ("helper, theme given as READ", contexts.helper_reading, Seen(WAGES_CATEGORIES, 200, 4)),
    ("helper, READ and ACT", contexts.helper_acting, Seen(WAGES_CATEGORIES, 200, 4)),
    ("helper, other themes only", contexts.helper_other_themes, Seen(["limosa", "a1"], 403, 3)),
    # The acting context is dropped on the next request: the helper sees their own (empty) file.
    ("ended mandate", contexts.helper_revoked, Seen(EVERY_CATEGORY, 200, 0)),
    ("expired mandate", contexts.helper_expired, Seen(EVERY_CATEGORY, 200, 0)),
    ("pending mandate", contexts.helper_pending, Seen(EVERY_CATEGORY, 200, 0)),
    ("no mandate at all", contexts.no_mandate, Seen(EVERY_CATEGORY, 200, 0)),
]


async def _acting(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings, reader: Reader, mother: Person
) -> None:
    session_id = await sign_in_client(client, conn, settings.secret_key, reader.person)
    if reader.person.person_id != mother.person_id:
        await sessions.update_acting_context(conn, session_id, acting_for=mother.person_id, acting_org=reader.org_id)


@pytest.mark.parametrize(("context", "seen"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
async def test_the_json_twins_and_pages_show_exactly_what_the_mandate_covers(
    client: httpx.AsyncClient,
    conn: asyncpg.Connection,
    settings: Settings,
    onss: Institution,
    context: Context,
    seen: Seen,
) -> None:
    mother = (await make_citizen_file(conn, onss, language="en")).person
    reader = await context(conn, mother)
    await _acting(client, conn, settings, reader, mother)
    mine = reader.person.person_id == mother.person_id or seen.mother_rows > 0

    overview = await client.get(API)
    assert overview.status_code == 200
    cards = overview.json()["categories"]
    assert [card["code"] for card in cards] == seen.overview
    if not mine:
        assert all(card["record_count"] == 0 for card in cards), "never a record of the mother's"
    dimona = await client.get(f"{API}/dimona")
    assert dimona.status_code == seen.dimona
    if seen.dimona == 403:
        problem = dimona.json()
        assert problem["type"] == "urn:vitrine:problem:mandate-refused"
        assert problem["errors"] == [
            {"field": "category", "message": "the mandate does not cover this data or action", "location": "path"}
        ]
        assert "Dimona" in problem["detail"]
    rows = await log_rows(conn, mother)
    assert len(rows) == seen.mother_rows
    assert all(row.mandate_id == reader.mandate_id and row.channel == "api" for row in rows)

    # The pages: the same categories, the same answer for Dimona, logged on the web channel.
    page = await client.get("/my-data")
    assert page.status_code == 200
    assert len(_CATEGORY_LINK.findall(page.text)) == len(seen.overview)
    assert (await client.get("/my-data/dimona")).status_code == seen.dimona
    web_rows = (await log_rows(conn, mother))[len(rows) :]
    assert len(web_rows) == seen.mother_rows
    assert all(row.channel == "web" for row in web_rows)


async def test_the_pages_say_whose_data_and_lead_nowhere_outside_the_mandate(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings, onss: Institution
) -> None:
    mother = (await make_citizen_file(conn, onss, language="en", given_name="Maria", family_name="Janssens")).person
    reader = await contexts.helper_reading(conn, mother)
    await _acting(client, conn, settings, reader, mother)

    page = (await client.get("/my-data")).text
    assert "You are viewing the data of Maria Janssens under a mandate, until" in page
    assert "Categories you may see: Dimona" in page
    links = set(re.findall(r'href="(/[^"]*)"', page))
    assert {"/my-data/dimona", "/my-data/dmfa", "/my-data/flexi_wages"} <= links, links
    assert not links & {"/my-data/drs", "/my-data/a1", "/my-data/limosa", "/my-data/identity", "/access-log"}, links

    category = (await client.get("/my-data/dimona")).text
    assert "Records of Maria Janssens" in category
    assert "/report-error" not in category, "no right to report errors: no button"
    assert "/access-log" not in category

    refused = await client.get("/my-data/drs")
    assert refused.status_code == 403
    assert "the mandate does not cover this data or action" in refused.text
    denied = (await log_rows(conn, mother))[-1]
    assert (denied.outcome, denied.categories, denied.reason) == (
        "denied",
        ["drs"],
        "the mandate does not cover this data or action",
    )

    printed = (await client.get("/my-data/print")).text
    assert printed.count('class="print-category"') == 3
    exported = (await client.get(f"{API}/export.json")).json()
    assert [category["code"] for category in exported["categories"]] == WAGES_CATEGORIES
    assert [counter["income_year"] for counter in exported["flexi_counters"]] == [2026]


async def test_an_ended_mandate_is_felt_by_the_very_next_request(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings, onss: Institution
) -> None:
    mother = (await make_citizen_file(conn, onss, language="en")).person
    reader = await contexts.helper_reading(conn, mother)
    await _acting(client, conn, settings, reader, mother)
    first = await client.get(f"{API}/dimona")
    assert (first.status_code, first.json()["card"]["record_count"]) == (200, 3)
    before = len(await log_rows(conn, mother))

    assert reader.mandate_id is not None
    await end_mandate(conn, await signed_in(conn, mother), reader.mandate_id)

    after = await client.get(f"{API}/dimona")
    assert (after.status_code, after.json()["card"]["record_count"]) == (200, 0), "the helper's own, empty file"
    assert "You are viewing the data of" not in (await client.get("/my-data")).text
    assert len(await log_rows(conn, mother)) == before, "nothing of the mother's was read"


async def test_reporting_an_error_needs_the_act_right_and_names_who_filed_it(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings, onss: Institution
) -> None:
    mother = (await make_citizen_file(conn, onss, language="en")).person
    reading = await contexts.helper_reading(conn, mother)
    await _acting(client, conn, settings, reading, mother)
    record_id = (await client.get(f"{API}/dimona")).json()["dimona"][0]["record_id"]
    form_path = f"/my-data/dimona/{record_id}/report-error"
    token = await csrf_token(client, "/my-data/dimona")

    # Without the ACT right of "Reporting errors": 403 on the form, the POST and the API, each logged as denied.
    before = len(await log_rows(conn, mother))
    assert (await client.get(form_path)).status_code == 403
    refused = await client.post(form_path, data={"message": MESSAGE, "_csrf_token": token})
    assert refused.status_code == 403
    api = await client.post("/api/v1/me/record-error-reports", json={"record_id": record_id, "message": MESSAGE})
    assert (api.status_code, api.json()["type"]) == (403, "urn:vitrine:problem:mandate-refused")
    denied = (await log_rows(conn, mother))[before:]
    assert [(row.outcome, row.action, row.categories, row.reason) for row in denied] == [
        ("denied", "change", ["report_error"], "the mandate does not cover this data or action")
    ] * 3
    assert await conn.fetchval("SELECT count(*) FROM record_error_reports WHERE citizen_id = $1", mother.person_id) == 0

    # With it: the button, the form, and the report filed for the mother, logged with the mandate.
    acting = await contexts.helper_acting(conn, mother)
    await _acting(client, conn, settings, acting, mother)
    category = (await client.get("/my-data/dimona")).text
    assert form_path in _REPORT_LINK.findall(category)
    assert (await client.get(form_path)).status_code == 200
    token = await csrf_token(client, form_path)
    sent = await client.post(form_path, data={"message": MESSAGE, "_csrf_token": token})
    assert sent.status_code == 303
    report_id = sent.headers["location"].split("/")[-1].split("?")[0]
    filed = (await log_rows(conn, mother))[-1]
    assert (filed.outcome, filed.action, filed.categories, filed.record_refs, filed.mandate_id, filed.case_ref) == (
        "granted",
        "change",
        ["dimona"],
        [record_id],
        acting.mandate_id,
        f"error-report:{report_id}",
    )
    opened_by = await conn.fetchval(
        "SELECT actor_person_id FROM record_error_report_events WHERE citizen_id = $1 AND step = 1",
        mother.person_id,
    )
    assert opened_by == acting.person.person_id
    # The helper sees the report under the record (helper's words), and the helper's view of it says who answers,
    # that the report (not "your report") was sent, and who filed it, from the helper's side.
    assert "See the report" in (await client.get("/my-data/dimona")).text
    helper_view = (await client.get(f"/my-data/error-reports/{report_id}?sent=1")).text
    assert "will answer An Claes" in helper_view
    assert "The report has been sent" in helper_view
    assert "Your report has been sent" not in helper_view
    assert "Filed by" in helper_view
    assert "Jan Peeters, under a mandate from An Claes" in helper_view
    assert "under your mandate" not in helper_view
    assert "Jan Peeters, under a mandate from An Claes" in (await client.get("/my-data/error-reports")).text

    # The mother sees the report, and who filed it.
    await sign_in_client(client, conn, settings.secret_key, mother)
    mine = (await client.get(f"/my-data/error-reports/{report_id}?sent=1")).text
    assert "Your report has been sent" in mine
    assert "Filed by" in mine
    assert "Jan Peeters, under your mandate" in mine
    listed = (await client.get("/api/v1/me/record-error-reports")).json()["items"]
    assert [item["filed_by"] for item in listed] == ["Jan Peeters, under your mandate"]
