"""The contest round trip in a real Chromium at phone width: Sofie asks "why?" about an access in one step, Marc
(the reviewer) answers it in the console from another browser, and Sofie reads the answer under the entry.

Every page on the way is checked with axe-core (no violation of any impact). The access is written, committed,
into the development server's database first. Needs the contest pages, the console and the access log page's
extras wired in backend/app.py and frontend/pages/access_log.py.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache
from urllib.parse import urlsplit
from uuid import UUID

import pytest
from babel.messages.pofile import read_po
from playwright.async_api import Page

from backend.access_log.anomalies import record_and_flag
from backend.access_log.schemas import Accessor
from backend.core.db import connect
from backend.core.i18n import DOMAIN
from backend.core.identity import queries as identity_queries
from backend.core.identity.demo import PERSONAS
from tests import browser as harness
from tests.browser import PHONE_WIDTH, ROOT, PageFactory, assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# The development server's fixtures (tests/browser.py), made visible to this module's tests.
dev_local_dir = harness.dev_local_dir
dev_database_url = harness.dev_database_url
dev_live_server = harness.dev_live_server
new_dev_page = harness.new_dev_page

SOFIE = next(persona for persona in PERSONAS if persona.key == "sofie")
MARC = next(persona for persona in PERSONAS if persona.key == "marc")
NATHALIE = next(persona for persona in PERSONAS if persona.key == "nathalie")
# The access Sofie asks about: FAMIWAL read her flexi wages, a family allowance fund she never dealt with.
JOURNEY_CASE_REF = "FAMIWAL-JOURNEY-0001"
ANSWER = "FAMIWAL checked your income for a family allowance file opened by mistake; it has been closed."


@cache
def _catalog(language: str) -> dict[str, str]:
    path = ROOT / "frontend" / "locale" / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    return {str(message.id): str(message.string) for message in catalog if message.id and message.string}


def _t(message: str, language: str = "nl") -> str:
    """What a Dutch page shows for an English msgid: the catalog's words, or the msgid while untranslated."""
    return _catalog(language).get(message, message)


@pytest.fixture(scope="module")
async def famiwal_access(dev_database_url: str) -> UUID:
    """The id of an access by FAMIWAL to Sofie's data, added (once, committed) to the development database."""
    conn = await connect(dev_database_url)
    try:
        async with conn.transaction():
            sofie = await identity_queries.select_person_by_insz(conn, SOFIE.insz)
            famiwal = await identity_queries.select_organisation_by_code(conn, "FAMIWAL")
            assert sofie is not None, "the demo data is seeded by `vitrine seed`"
            assert famiwal is not None
            # Flagged too: FAMIWAL is new in her log and has no registered purpose for her flexi wages.
            event = await record_and_flag(
                conn,
                citizen_id=sofie.person_id,
                accessor=Accessor(kind="institution", org_id=famiwal.org_id, client_id="famiwal-demo"),
                action="read",
                channel="api",
                categories=["flexi_wages"],
                case_ref=JOURNEY_CASE_REF,
                occurred_at=datetime(2026, 3, 12, 8, 30, tzinfo=UTC),
            )
        return event.event_id
    finally:
        await conn.close()


async def _sign_in(page: Page, persona_name: str) -> None:
    await page.goto("/dev/sign-in")
    persona = page.locator(".persona").filter(has=page.get_by_role("heading", name=persona_name, exact=True))
    async with page.expect_navigation():
        await persona.get_by_role("button").click()


async def _assert_fits(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"{page.url} scrolls sideways: {width} px wide"


async def test_sofie_contests_an_access_and_reads_marcs_answer_on_a_phone(
    new_dev_page: PageFactory, famiwal_access: UUID
) -> None:
    # Sofie finds the access in her log and asks why, in one step.
    sofie = await new_dev_page(PHONE_WIDTH)
    await _sign_in(sofie, f"{SOFIE.given_name} {SOFIE.family_name}")
    await sofie.goto("/access-log")
    entry = sofie.locator(".access-entry").filter(has_text=JOURNEY_CASE_REF)
    assert await entry.count() == 1
    await assert_accessible(sofie, f"contest-journey-log--{PHONE_WIDTH}")
    async with sofie.expect_navigation():
        await entry.get_by_role("button", name=_t("I don't recognise this / why?")).click()
    path = urlsplit(sofie.url).path
    assert re.fullmatch(r"/access-log/contests/[0-9a-f-]{36}", path), sofie.url
    contest_id = path.rsplit("/", 1)[1]
    main = sofie.locator("main")
    assert _t("Your question has been sent") in await main.inner_text()
    assert _t("(Brussels time)") in await main.inner_text()
    await _assert_fits(sofie)
    await assert_accessible(sofie, f"contest-journey-opened--{PHONE_WIDTH}")

    # She adds a short message (optional).
    await sofie.get_by_label(_t("What should the reviewer know?")).fill("Ik heb nooit kinderbijslag aangevraagd.")
    async with sofie.expect_navigation():
        await sofie.get_by_role("button", name=_t("Send my message")).click()
    assert "Ik heb nooit kinderbijslag aangevraagd." in await main.inner_text()

    # Marc, the reviewer, in a browser of his own: the queue, then the case.
    marc = await new_dev_page(PHONE_WIDTH)
    await _sign_in(marc, f"{MARC.given_name} {MARC.family_name}")
    await marc.goto("/review")
    assert await marc.locator(f"a[href='/review/cases/{contest_id}']").count() == 1
    await _assert_fits(marc)
    await assert_accessible(marc, f"contest-journey-queue--{PHONE_WIDTH}")
    async with marc.expect_navigation():
        await marc.locator(f"a[href='/review/cases/{contest_id}']").click()
    case_text = await marc.locator("main").inner_text()
    assert "Ik heb nooit kinderbijslag aangevraagd." in case_text
    assert JOURNEY_CASE_REF in case_text
    assert _t("First access by this institution") in case_text
    await _assert_fits(marc)
    await assert_accessible(marc, f"contest-journey-case--{PHONE_WIDTH}")

    # An empty answer is explained; then he answers.
    async with marc.expect_navigation():
        await marc.get_by_role("button", name=_t("Send the answer")).click()
    assert await marc.locator(".error-summary").count() == 1
    await assert_accessible(marc, f"contest-journey-case-error--{PHONE_WIDTH}")
    await marc.get_by_label(_t("Your answer")).fill(ANSWER)
    async with marc.expect_navigation():
        await marc.get_by_role("button", name=_t("Send the answer")).click()
    assert ANSWER in await marc.locator("main").inner_text()

    # Back as Sofie: the answer is under the entry of her log.
    await sofie.goto("/access-log")
    entry = sofie.locator(".access-entry").filter(has_text=JOURNEY_CASE_REF)
    entry_text = await entry.inner_text()
    assert ANSWER in entry_text
    assert _t("Answered") in entry_text
    await _assert_fits(sofie)
    await assert_accessible(sofie, f"contest-journey-answered--{PHONE_WIDTH}")


@pytest.fixture(scope="module")
async def nathalie_helped_sofie(dev_database_url: str) -> None:
    """An access Nathalie (an agent of the CPAS of Liège) made to Sofie's data, committed in the development
    database, logged under her membership's pseudonym and flagged."""
    conn = await connect(dev_database_url)
    try:
        async with conn.transaction():
            sofie = await identity_queries.select_person_by_insz(conn, SOFIE.insz)
            nathalie = await identity_queries.select_person_by_insz(conn, NATHALIE.insz)
            assert sofie is not None
            assert nathalie is not None
            membership = (await identity_queries.select_memberships(conn, nathalie.person_id))[0]
            await record_and_flag(
                conn,
                citizen_id=sofie.person_id,
                accessor=Accessor(kind="agent", org_id=membership.org_id, ref=membership.pseudonym, role="agent"),
                action="read",
                channel="web",
                categories=["dmfa"],
                occurred_at=datetime(2026, 3, 13, 14, 0, tzinfo=UTC),
            )
    finally:
        await conn.close()


async def test_marc_sees_flagged_accesses_and_nathalie_the_accesses_she_made(
    new_dev_page: PageFactory, famiwal_access: UUID, nathalie_helped_sofie: None
) -> None:
    marc = await new_dev_page(PHONE_WIDTH)
    await _sign_in(marc, f"{MARC.given_name} {MARC.family_name}")
    await marc.goto("/review/flags")
    text = await marc.locator("main").inner_text()
    assert _t("Access by a helper or an organisation's agent") in text
    assert _t("First access by this institution") in text
    await _assert_fits(marc)
    await assert_accessible(marc, f"review-flags--{PHONE_WIDTH}")

    nathalie = await new_dev_page(PHONE_WIDTH, language="fr")
    await _sign_in(nathalie, f"{NATHALIE.given_name} {NATHALIE.family_name}")
    await nathalie.goto("/access-log/made-by-me")
    assert await nathalie.get_attribute("html", "lang") == "fr"
    assert f"{SOFIE.given_name} {SOFIE.family_name}" in await nathalie.locator("main").inner_text()
    await _assert_fits(nathalie)
    await assert_accessible(nathalie, f"made-by-me--fr--{PHONE_WIDTH}")
