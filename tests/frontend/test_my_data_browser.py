"""What is held about you, in a real browser on a phone: the demo persona Sofie on the development server, whose
records `vitrine seed` declares (two flexi jobs adding up to 85% of the provisional 2026 ceiling).

Sofie reads her overview, her flexi wages with the ceiling, and reports an error in a record, in Dutch and in
French, at 375 px, each page checked with axe-core. These pages exist on the server once backend/app.py registers
frontend.pages.my_data.ROUTES (and backend.records.citizen_routes.ROUTES for the export).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from functools import cache
from urllib.parse import urlsplit

import pytest
from babel.messages.pofile import read_po
from playwright.async_api import Page

from backend.core.db import connect
from backend.core.i18n import DOMAIN
from backend.core.identity import queries as identity_queries
from backend.core.identity.demo import PERSONAS
from backend.records.citizen_format import euro, percent
from backend.records.demo import SOFIE_BAKERY, SOFIE_BRASSERIE
from backend.records.flexi import flexi_ceiling_for_year
from tests import browser as harness
from tests.browser import PHONE_WIDTH, ROOT, PageFactory, assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# The development server's fixtures (tests/browser.py), made visible to this module's tests.
dev_local_dir = harness.dev_local_dir
dev_database_url = harness.dev_database_url
dev_live_server = harness.dev_live_server
new_dev_page = harness.new_dev_page

SOFIE = next(persona for persona in PERSONAS if persona.key == "sofie")
SOFIE_NAME = f"{SOFIE.given_name} {SOFIE.family_name}"
SOFIE_TOTAL = sum(SOFIE_BRASSERIE) + sum(SOFIE_BAKERY)


@cache
def _catalog(language: str) -> dict[str, str]:
    path = ROOT / "frontend" / "locale" / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    return {str(message.id): str(message.string) for message in catalog if message.id and message.string}


def _t(language: str, message: str) -> str:
    """What a page shows in a language for an English msgid (the msgid itself until it is translated)."""
    return message if language == "en" else _catalog(language).get(message, message)


def _ceiling_text(language: str) -> str:
    """ "€15,300 of €18,000 (85%)" as the page writes it in a language."""
    ceiling = flexi_ceiling_for_year(2026)
    assert ceiling is not None
    share = SOFIE_TOTAL * 100 // ceiling.amount_cents
    assert share == 85, "the demo data puts Sofie at 85% of the 2026 ceiling"
    return _t(language, "%(total)s of %(ceiling)s (%(percent)s)") % {
        "total": euro(SOFIE_TOTAL, language, whole=True),
        "ceiling": euro(ceiling.amount_cents, language, whole=True),
        "percent": percent(share, language),
    }


@pytest.fixture
async def sofie_speaks(dev_database_url: str) -> AsyncIterator[Callable[[str], Awaitable[None]]]:
    """Sets Sofie's own language for a test (her setting wins over the browser's) and puts it back after."""
    conn = await connect(dev_database_url)
    sofie = await identity_queries.select_person_by_insz(conn, SOFIE.insz)
    assert sofie is not None, "the demo data is seeded by `vitrine seed`"

    async def speak(language: str) -> None:
        await conn.execute("UPDATE people SET language = $2 WHERE person_id = $1", sofie.person_id, language)

    try:
        yield speak
    finally:
        await speak(SOFIE.language)
        await conn.close()


async def _fits_the_phone(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"{page.url} scrolls sideways: {width} px wide"


async def _sign_in_as_sofie(page: Page) -> None:
    await page.goto("/dev/sign-in")
    persona = page.locator(".persona").filter(has=page.get_by_role("heading", name=SOFIE_NAME, exact=True))
    async with page.expect_navigation():
        await persona.get_by_role("button").click()


@pytest.mark.parametrize("language", ["nl", "fr"])
async def test_sofie_reads_what_is_held_about_her_and_reports_an_error_on_a_phone(
    new_dev_page: PageFactory, sofie_speaks: Callable[[str], Awaitable[None]], language: str
) -> None:
    await sofie_speaks(language)
    page = await new_dev_page(PHONE_WIDTH)
    await _sign_in_as_sofie(page)

    # From her overview, the link to what is held about her.
    async with page.expect_navigation():
        await page.get_by_role("link", name=_t(language, "What is held about you"), exact=True).click()
    assert urlsplit(page.url).path == "/my-data"
    assert await page.get_attribute("html", "lang") == language
    assert await page.locator(".category-card").count() == 7
    assert _t(language, "to be confirmed") in await page.locator("main").inner_text()
    await _fits_the_phone(page)
    await assert_accessible(page, f"my-data--{language}--{PHONE_WIDTH}")

    # Her flexi wages: the year's total against the provisional ceiling, as of the latest declaration.
    async with page.expect_navigation():
        await page.locator("#category-flexi_wages").get_by_role("link").click()
    assert urlsplit(page.url).path == "/my-data/flexi_wages"
    meter = page.locator("meter.ceiling-meter__bar")
    assert await meter.get_attribute("value") == str(SOFIE_TOTAL)
    assert await meter.get_attribute("max") == "1800000"
    text = await page.locator("main").inner_text()
    assert _ceiling_text(language) in text
    assert _t(language, "Provisional") in text
    await _fits_the_phone(page)
    await assert_accessible(page, f"my-data-flexi--{language}--{PHONE_WIDTH}")

    # Report an error in the first month: a message too short is explained, then the report is sent.
    async with page.expect_navigation():
        await page.locator("a.record-actions__link").first.click()
    assert urlsplit(page.url).path.endswith("/report-error")
    field = page.get_by_label(_t(language, "Describe the error"), exact=True)
    await field.fill("Fout.")
    async with page.expect_navigation():
        await page.get_by_role("button", name=_t(language, "Send my report"), exact=True).click()
    assert await page.locator(".error-summary").count() == 1
    assert await field.get_attribute("aria-invalid") == "true"
    await _fits_the_phone(page)
    await assert_accessible(page, f"my-data-report-error--{language}--{PHONE_WIDTH}")

    await field.fill("The brasserie paid me less in this month than is declared here.")
    async with page.expect_navigation():
        await page.get_by_role("button", name=_t(language, "Send my report"), exact=True).click()
    assert urlsplit(page.url).path.startswith("/my-data/error-reports/")
    assert _t(language, "Your report has been sent") in await page.locator("main").inner_text()
    await _fits_the_phone(page)
    await assert_accessible(page, f"my-data-report-sent--{language}--{PHONE_WIDTH}")
