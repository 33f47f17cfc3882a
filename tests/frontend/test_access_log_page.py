"""The citizen's access log: the JSON API and its exports in process, the page in process and in a real browser.

The browser test signs in as the demo persona Sofie on the development server, after adding a few accesses to
her log in that server's database, and uses the filters without JavaScript in Dutch and in French.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import asyncpg
import httpx
import pytest
from babel.messages.pofile import read_po

from backend.access_log.export import UTF8_BOM
from backend.access_log.schemas import Accessor
from backend.access_log.service import record_access
from backend.core.auth import sessions
from backend.core.db import connect
from backend.core.i18n import DOMAIN
from backend.core.identity import queries as identity_queries
from backend.core.identity.demo import PERSONAS
from backend.core.identity.purposes import Purpose, upsert_purpose
from backend.core.identity.schemas import Organisation, Person
from backend.core.settings import Settings
from tests import browser as harness
from tests.browser import PHONE_WIDTH, ROOT, PageFactory, assert_accessible
from tests.factories import create_mandate, create_organisation, create_person

COOKIE = sessions.cookie_name(False)
API = "/api/v1/me/access-events"

# The development server's fixtures (tests/browser.py), made visible to this module's tests.
dev_local_dir = harness.dev_local_dir
dev_database_url = harness.dev_database_url
dev_live_server = harness.dev_live_server
new_dev_page = harness.new_dev_page

SOFIE = next(persona for persona in PERSONAS if persona.key == "sofie")
SOFIE_NAME = f"{SOFIE.given_name} {SOFIE.family_name}"


@cache
def _catalog(language: str) -> dict[str, str]:
    path = ROOT / "frontend" / "locale" / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    return {str(message.id): str(message.string) for message in catalog if message.id and message.string}


def _t(language: str, message: str) -> str:
    """What a page shows in a language for an English msgid (as the catalog says)."""
    return message if language == "en" else _catalog(language)[message]


# --- in process --------------------------------------------------------------------------------------------------


@pytest.fixture
def log_client(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """The in-process client of the real app (which lists the access-log routes)."""
    return client


async def _sign_in(client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings, person: Person) -> UUID:
    session_id = await sessions.insert_session(conn, person_id=person.person_id, method="demo")
    client.cookies.set(
        COOKIE, sessions.issue_token(settings.secret_key, session_id=session_id, person_id=person.person_id)
    )
    return session_id


async def _onem(conn: asyncpg.Connection) -> Organisation:
    organisation = await create_organisation(
        conn,
        kind="institution",
        code="ONEMPAGE",
        name_nl="Rijksdienst voor Arbeidsvoorziening",
        name_fr="Office national de l'emploi",
        name_de="Landesamt für Arbeitsbeschaffung",
    )
    await upsert_purpose(
        conn,
        Purpose(
            org_id=organisation.org_id,
            code="unemployment_benefit",
            categories=("dimona", "dmfa"),
            legal_basis_nl="KB van 25 november 1991",
            legal_basis_fr="AR du 25 novembre 1991",
            legal_basis_de="KE vom 25. November 1991",
            legal_basis_en="RD of 25 November 1991",
            authorisation_ref="IVC/KSZG/PAGE/001",
        ),
    )
    return organisation


async def _log(conn: asyncpg.Connection, person: Person, organisation: Organisation, **overrides: Any) -> None:
    await record_access(
        conn,
        citizen_id=person.person_id,
        **{
            "accessor": Accessor(kind="institution", org_id=organisation.org_id, client_id="onem-page"),
            "action": "read",
            "channel": "api",
            "categories": ["dimona"],
            "purpose_code": "unemployment_benefit",
            "occurred_at": datetime(2026, 3, 3, 9, 15, tzinfo=UTC),
            **overrides,
        },
    )


async def _events(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM access_events"))


async def test_the_api_lists_your_own_log_in_your_language(
    log_client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    person = await create_person(conn, language="fr")
    stranger = await create_person(conn)
    onem = await _onem(conn)
    await _log(conn, person, onem)
    await _log(conn, person, onem, outcome="denied", reason="not covered", categories=["flexi_wages"])
    await _log(conn, stranger, onem)
    await _sign_in(log_client, conn, settings, person)
    before = await _events(conn)

    response = await log_client.get(API)
    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None
    assert [item["seq"] for item in body["items"]] == [2, 1], "newest first, only the signed-in person's"
    assert body["items"][1]["sentence"] == (
        "Office national de l'emploi a consulté vos déclarations d'emploi (Dimona) le 3 mars 2026 "
        "pour calculer votre allocation de chômage."
    )
    assert body["items"][1]["why"]["legal_basis"] == "AR du 25 novembre 1991"
    assert body["items"][0]["outcome"] == "denied"
    assert body["items"][0]["reason"] == "not covered"
    assert await _events(conn) == before, "reading your own log is not an access by others"

    refused = (await log_client.get(API, params={"outcome": "denied"})).json()
    assert [item["seq"] for item in refused["items"]] == [2]
    by_institution = (await log_client.get(API, params={"institution": str(onem.org_id), "category": "dimona"})).json()
    assert [item["seq"] for item in by_institution["items"]] == [1]
    in_period = await log_client.get(API, params={"from": "2026-03-03", "to": "2026-03-03", "actor": "institution"})
    assert [item["seq"] for item in in_period.json()["items"]] == [2, 1]
    nothing = (await log_client.get(API, params={"to": "2026-03-02"})).json()
    assert nothing == {"items": [], "next": None}

    first = (await log_client.get(API, params={"limit": 1})).json()
    assert ([item["seq"] for item in first["items"]], first["next"]) == ([2], 2)
    second = (await log_client.get(API, params={"limit": 1, "before": first["next"]})).json()
    assert ([item["seq"] for item in second["items"]], second["next"]) == ([1], None)


async def test_reading_your_own_log_opens_no_transaction(
    log_client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    """Pure reads of one's own log run without BEGIN/COMMIT (decision 0002); the session is still read."""
    person = await create_person(conn)
    await _log(conn, person, await _onem(conn))
    await _sign_in(log_client, conn, settings, person)
    statements: list[str] = []

    def remember(record: Any) -> None:
        statements.append(" ".join(str(record.query).split()))

    conn.add_query_logger(remember)
    try:
        for path in (API, "/access-log"):
            assert (await log_client.get(path)).status_code == 200
    finally:
        conn.remove_query_logger(remember)
    # In tests the request's transaction is a savepoint inside the test's own transaction.
    assert not [statement for statement in statements if "SAVEPOINT" in statement.upper()]
    assert len([statement for statement in statements if "FROM sessions" in statement]) == 2


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "201"},
        {"limit": "0"},
        {"category": "tax_returns"},
        {"outcome": "maybe"},
        {"actor": "system"},
        {"from": "31/03/2026"},
        {"institution": "not-a-uuid"},
        {"before": "-1"},
        {"before": "²"},
        {"limit": "²"},
        {"from": "2026-03-04", "to": "2026-03-03"},
    ],
    ids=lambda params: "-".join(f"{key}={value}" for key, value in params.items()),
)
async def test_the_api_refuses_invalid_filters(
    log_client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings, params: dict[str, str]
) -> None:
    await _sign_in(log_client, conn, settings, await create_person(conn))
    response = await log_client.get(API, params=params)
    assert response.status_code in {400, 422}
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_the_log_needs_sign_in_and_is_refused_while_acting_for_someone(
    log_client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    assert (await log_client.get(API)).status_code == 401
    assert (await log_client.get(f"{API}/export.csv")).status_code == 401
    page = await log_client.get("/access-log")
    assert (page.status_code, page.headers["location"]) == (303, "/sign-in?next=/access-log")

    helper = await create_person(conn)
    mother = await create_person(conn)
    await create_mandate(conn, mother, helper=helper)
    session_id = await _sign_in(log_client, conn, settings, helper)
    await sessions.update_acting_context(conn, session_id, acting_for=mother.person_id, acting_org=None)
    for path in (API, f"{API}/export.csv", f"{API}/export.json"):
        assert (await log_client.get(path)).status_code == 403, path
    assert (await log_client.get("/access-log")).status_code == 403


async def test_exports_are_downloads_of_the_whole_log(
    log_client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    person = await create_person(conn, language="nl")
    onem = await _onem(conn)
    for _ in range(3):
        await _log(conn, person, onem)
    await _sign_in(log_client, conn, settings, person)

    exported = await log_client.get(f"{API}/export.csv")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.headers["content-disposition"].startswith('attachment; filename="vitrine-access-log-')
    assert exported.content.startswith(UTF8_BOM)
    rows = list(csv.reader(io.StringIO(exported.content[len(UTF8_BOM) :].decode(), newline="")))
    assert rows[0][:3] == ["Nummer", "Datum en tijdstip", "Wie"]
    assert [row[0] for row in rows[1:]] == ["1", "2", "3"]

    as_json = await log_client.get(f"{API}/export.json")
    assert as_json.status_code == 200
    assert as_json.headers["content-disposition"].endswith('.json"')
    events = json.loads(as_json.content)
    assert [event["seq"] for event in events] == [1, 2, 3]
    assert events[1]["prev_hash"] == events[0]["hash"]


async def test_the_page_shows_days_entries_filters_and_paging(
    log_client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    person = await create_person(conn, language="nl")
    onem = await _onem(conn)
    await _sign_in(log_client, conn, settings, person)

    empty = await log_client.get("/access-log")
    assert empty.status_code == 200
    assert _t("nl", "No one has accessed your data yet.") in empty.text

    for day in range(1, 56):
        await _log(conn, person, onem, occurred_at=datetime(2026, 1, 1, 12, tzinfo=UTC).replace(day=1 + day % 28))
    await _log(conn, person, onem, outcome="denied", reason="not covered", categories=["flexi_wages"])
    page = await log_client.get("/access-log")
    assert page.status_code == 200
    assert '<h2 class="access-day__title"' in page.text
    assert "<details" in page.text
    assert "IVC/KSZG/PAGE/001" in page.text
    assert (
        "uw aangiften van tewerkstelling (Dimona) geraadpleegd om uw werkloosheidsuitkering te berekenen" in page.text
    )
    older = page.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert parse_qs(urlsplit(older.replace("&amp;", "&")).query) == {"before": ["7"]}
    second = await log_client.get(older.replace("&amp;", "&"))
    assert second.status_code == 200
    assert second.text.count('class="access-entry ') == 6
    assert 'rel="next"' not in second.text
    # An edited cursor, even one of digits int() does not read ("²"), shows the newest entries.
    for edited in ("²", "abc", "0", "-3", "99999999999999999999"):
        newest = await log_client.get("/access-log", params={"before": edited})
        assert newest.status_code == 200, edited
        assert newest.text.count('class="access-entry ') == 50, edited

    refused = await log_client.get("/access-log", params={"outcome": "denied", "category": ""})
    assert refused.text.count('class="access-entry ') == 1
    assert "opgevraagd; dit werd geweigerd" in refused.text
    assert '<option value="denied" selected>' in refused.text

    nothing = await log_client.get("/access-log", params={"category": "a1"})
    assert _t("nl", "No access matches these filters.") in nothing.text

    wrong = await log_client.get("/access-log", params={"from": "31 maart", "to": "2026-03-01"})
    assert wrong.status_code == 200
    assert 'class="error-summary"' in wrong.text
    assert 'href="#filter-from"' in wrong.text
    assert 'aria-invalid="true"' in wrong.text


async def test_the_overview_links_to_the_log(
    log_client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    await _sign_in(log_client, conn, settings, await create_person(conn))
    overview = await log_client.get("/my")
    assert 'href="/access-log"' in overview.text
    assert _t("nl", "Access to your data") in overview.text


# --- in a browser ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def sofie_with_accesses(dev_database_url: str) -> UUID:
    """Sofie's person id, after adding (once, committed) three accesses to her log in the development database."""
    conn = await connect(dev_database_url)
    try:
        async with conn.transaction():
            sofie = await identity_queries.select_person_by_insz(conn, SOFIE.insz)
            onem = await identity_queries.select_organisation_by_code(conn, "ONEM")
            finances = await identity_queries.select_organisation_by_code(conn, "SPF_FINANCES")
            assert sofie is not None, "the demo data is seeded by `vitrine seed`"
            assert onem is not None
            assert finances is not None
            on_onem = Accessor(kind="institution", org_id=onem.org_id, client_id="onem-demo")
            await record_access(
                conn,
                citizen_id=sofie.person_id,
                accessor=Accessor(kind="institution", org_id=finances.org_id, client_id="finances-demo"),
                action="read",
                channel="api",
                categories=["flexi_wages"],
                purpose_code="flexi_income_tax",
                occurred_at=datetime(2026, 2, 20, 10, 0, tzinfo=UTC),
            )
            await record_access(
                conn,
                citizen_id=sofie.person_id,
                accessor=on_onem,
                action="read",
                channel="api",
                categories=["dimona"],
                purpose_code="unemployment_benefit",
                case_ref="ONEM-2026-0042",
                occurred_at=datetime(2026, 3, 3, 9, 15, tzinfo=UTC),
            )
            await record_access(
                conn,
                citizen_id=sofie.person_id,
                accessor=on_onem,
                action="read",
                channel="api",
                outcome="denied",
                reason="purpose does not cover flexi_wages",
                categories=["flexi_wages"],
                purpose_code="unemployment_benefit",
                occurred_at=datetime(2026, 3, 3, 13, 40, tzinfo=UTC),
            )
        return sofie.person_id
    finally:
        await conn.close()


@pytest.fixture
async def sofie_speaks(dev_database_url: str, sofie_with_accesses: UUID) -> AsyncIterator[Any]:
    """Sets Sofie's own language for a test (her setting wins over the browser's) and puts Dutch back after."""
    conn = await connect(dev_database_url)

    async def speak(language: str) -> None:
        await conn.execute("UPDATE people SET language = $2 WHERE person_id = $1", sofie_with_accesses, language)

    try:
        yield speak
    finally:
        await speak(SOFIE.language)
        await conn.close()


# ONEM's sentences as the demo data names the institution, per language.
ONEM_NAMES = {"nl": "Rijksdienst voor Arbeidsvoorziening", "fr": "Office national de l'emploi"}
MARCH_3 = {"nl": "3 maart 2026", "fr": "3 mars 2026"}


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
@pytest.mark.parametrize("language", ["nl", "fr"])
async def test_sofie_reads_and_filters_her_log_on_a_phone_without_javascript(
    new_dev_page: PageFactory, sofie_speaks: Any, language: str
) -> None:
    await sofie_speaks(language)
    page = await new_dev_page(PHONE_WIDTH, javascript=False)
    await page.goto("/dev/sign-in")
    persona = page.locator(".persona").filter(has=page.get_by_role("heading", name=SOFIE_NAME, exact=True))
    async with page.expect_navigation():
        await persona.get_by_role("button").click()

    # From the overview, follow the link to the log.
    async with page.expect_navigation():
        await page.get_by_role("link", name=_t(language, "Access to your data"), exact=True).click()
    assert urlsplit(page.url).path == "/access-log"
    assert await page.get_attribute("html", "lang") == language
    main = page.locator("main")
    text = await main.inner_text()
    granted = _t(language, "%(who)s read your %(what)s on %(date)s %(purpose)s.") % {
        "who": ONEM_NAMES[language],
        "what": _t(language, "employment declarations (Dimona)"),
        "date": MARCH_3[language],
        "purpose": _t(language, "to compute your unemployment benefit"),
    }
    refused = _t(language, "%(who)s asked for your %(what)s on %(date)s; this was refused.") % {
        "who": ONEM_NAMES[language],
        "what": _t(language, "flexi-job wages"),
        "date": MARCH_3[language],
    }
    assert granted in text
    assert refused in text
    assert await page.locator("h2.access-day__title").count() >= 2, "one heading per day"
    scroll_width = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE_WIDTH, f"the page scrolls sideways: {scroll_width} px wide"

    # "Why" opens without JavaScript (a native disclosure) and names the legal basis and the authorisation.
    entry = page.locator(".access-entry").filter(has_text=granted)
    await entry.locator("summary").click()
    assert "IVC/KSZG/DEMO/001" in await entry.inner_text()
    await assert_accessible(page, f"access-log--{language}--{PHONE_WIDTH}")

    # Filter on refused accesses: a plain GET form, so it works without JavaScript.
    await page.get_by_label(_t(language, "Outcome"), exact=True).select_option("denied")
    async with page.expect_navigation():
        await page.get_by_role("button", name=_t(language, "Show accesses"), exact=True).click()
    assert parse_qs(urlsplit(page.url).query).get("outcome") == ["denied"]
    text = await main.inner_text()
    assert refused in text
    assert granted not in text
    assert await page.get_by_label(_t(language, "Outcome"), exact=True).input_value() == "denied"
    await assert_accessible(page, f"access-log-refused--{language}--{PHONE_WIDTH}")

    # A period with nothing in it says so, and offers the way back.
    await page.goto("/access-log?from=2020-01-01&to=2020-01-31")
    assert _t(language, "No access matches these filters.") in await main.inner_text()
    async with page.expect_navigation():
        await page.get_by_role("link", name=_t(language, "Show every access"), exact=True).click()
    assert refused in await main.inner_text()
