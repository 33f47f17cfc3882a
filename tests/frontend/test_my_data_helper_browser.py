"""A helper reads what the mandate lets them see, in a real browser on a phone.

On the development server, Sofie gives Pieter (the demo family helper) a "Work and wages" mandate to read; Pieter
acts for her from "People I help", opens what is held about her (only the three covered categories, with whose
data it is and until when) and reads her flexi wages at 375 px, each page checked with axe-core.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import cache
from urllib.parse import urlsplit

import asyncpg
import pytest
from babel.messages.pofile import read_po
from playwright.async_api import Page

from backend.core.db import connect
from backend.core.i18n import DOMAIN
from backend.core.identity import queries as identity_queries
from backend.core.identity.demo import PERSONAS
from backend.core.identity.schemas import Person
from consent.ending import end_mandate
from tests import browser as harness
from tests.browser import PHONE_WIDTH, ROOT, PageFactory, assert_accessible
from tests.factories import create_mandate, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# The development server's fixtures (tests/browser.py), made visible to this module's tests.
dev_local_dir = harness.dev_local_dir
dev_database_url = harness.dev_database_url
dev_live_server = harness.dev_live_server
new_dev_page = harness.new_dev_page

SOFIE = next(persona for persona in PERSONAS if persona.key == "sofie")
PIETER = next(persona for persona in PERSONAS if persona.key == "pieter")
SOFIE_NAME = f"{SOFIE.given_name} {SOFIE.family_name}"
PIETER_NAME = f"{PIETER.given_name} {PIETER.family_name}"


@cache
def _catalog(language: str) -> dict[str, str]:
    path = ROOT / "frontend" / "locale" / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    return {str(message.id): str(message.string) for message in catalog if message.id and message.string}


def _t(message: str) -> str:
    """What a page shows Pieter (who reads Dutch) for an English msgid."""
    return _catalog(PIETER.language).get(message, message)


async def _person(conn: asyncpg.Connection, insz: str) -> Person:
    found = await identity_queries.select_person_by_insz(conn, insz)
    assert found is not None, "the demo data is seeded by `vitrine seed`"
    return found


@pytest.fixture
async def pieter_may_read_sofies_wages(dev_database_url: str) -> AsyncIterator[None]:
    """Sofie's mandate to Pieter ("Work and wages", READ), committed; ended after the test."""
    conn = await connect(dev_database_url)
    sofie = await _person(conn, SOFIE.insz)
    pieter = await _person(conn, PIETER.insz)
    async with conn.transaction():
        mandate = await create_mandate(conn, sofie, helper=pieter, themes=(("work_and_wages", "read"),))
    try:
        yield
    finally:
        async with conn.transaction():
            await end_mandate(conn, await signed_in(conn, sofie), mandate.mandate_id)
        await conn.close()


async def _fits_the_phone(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"{page.url} scrolls sideways: {width} px wide"


async def test_a_helper_reads_the_category_the_mandate_covers_on_a_phone(
    new_dev_page: PageFactory, pieter_may_read_sofies_wages: None
) -> None:
    page = await new_dev_page(PHONE_WIDTH)
    await page.goto("/dev/sign-in")
    persona = page.locator(".persona").filter(has=page.get_by_role("heading", name=PIETER_NAME, exact=True))
    async with page.expect_navigation():
        await persona.get_by_role("button").click()

    # Act for Sofie from "People I help".
    await page.goto("/helping")
    async with page.expect_navigation():
        await page.get_by_role("button", name=f"{_t('Act for this person')} – {SOFIE_NAME}").first.click()

    # What is held about her: only the three categories of "Work and wages", and whose data this is.
    await page.goto("/my-data")
    notice = await page.locator(".helper-notice").inner_text()
    assert SOFIE_NAME in notice
    assert await page.locator(".category-card").count() == 3
    assert await page.locator('a[href="/access-log"]').count() == 0
    await _fits_the_phone(page)
    await assert_accessible(page, f"my-data-helper--{PIETER.language}--{PHONE_WIDTH}")

    # Her flexi wages: the records, without "Report an error" (the mandate allows reading only).
    async with page.expect_navigation():
        await page.locator("#category-flexi_wages").get_by_role("link").click()
    assert urlsplit(page.url).path == "/my-data/flexi_wages"
    assert await page.locator("meter.ceiling-meter__bar").count() >= 1
    assert SOFIE_NAME in await page.locator(".helper-notice").inner_text()
    assert await page.locator("a.record-actions__link").count() == 0
    await _fits_the_phone(page)
    await assert_accessible(page, f"my-data-helper-flexi--{PIETER.language}--{PHONE_WIDTH}")

    # A category outside the mandate is the 403 page naming why.
    response = await page.goto("/my-data/drs")
    assert response is not None
    assert response.status == 403
    assert _t("the mandate does not cover this data or action") in await page.locator("main").inner_text()
    await assert_accessible(page, f"my-data-helper-refused--{PIETER.language}--{PHONE_WIDTH}")
