"""An organisation's agent acts for a client in a real browser on a phone.

On the development server (demo data from `vitrine seed`), Nathalie, the CPAS social worker, works as agent of
the CPAS of Liège, finds Jean Dubois among the clients the CPAS named her for, acts for him, and opens what is
held about him (the categories of his mandate to the CPAS): each page at 375 px, checked with axe-core.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page

from backend.core.identity.demo import ORGANISATIONS, PERSONAS
from tests import browser as harness
from tests.browser import PHONE_WIDTH, PageFactory, assert_accessible
from tests.catalog import t

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# The development server's fixtures (tests/browser.py), made visible to this module's tests.
dev_local_dir = harness.dev_local_dir
dev_database_url = harness.dev_database_url
dev_live_server = harness.dev_live_server
new_dev_page = harness.new_dev_page

NATHALIE = next(persona for persona in PERSONAS if persona.key == "nathalie")
JEAN = next(persona for persona in PERSONAS if persona.key == "jean")
CPAS = next(organisation for organisation in ORGANISATIONS if organisation.key == "cpas_liege")
NATHALIE_NAME = f"{NATHALIE.given_name} {NATHALIE.family_name}"
JEAN_NAME = f"{JEAN.given_name} {JEAN.family_name}"
LANGUAGE = NATHALIE.language


async def _fits_the_phone(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"{page.url} scrolls sideways: {width} px wide"


async def test_an_agent_picks_a_client_and_acts_for_them_on_a_phone(new_dev_page: PageFactory) -> None:
    page = await new_dev_page(PHONE_WIDTH)
    await page.goto("/dev/sign-in")
    persona = page.locator(".persona").filter(has=page.get_by_role("heading", name=NATHALIE_NAME, exact=True))
    async with page.expect_navigation():
        await persona.get_by_role("button").click()

    # Work as agent of the CPAS (the explicit switch on the overview).
    await page.goto("/my")
    label = t(LANGUAGE, "As agent of %(organisation)s") % {"organisation": CPAS.name_fr}
    await page.get_by_label(label, exact=True).check()
    async with page.expect_navigation():
        await page.get_by_role("button", name=t(LANGUAGE, "Switch"), exact=True).click()

    # Her clients: Jean, with what the mandate allows and until when.
    await page.goto("/organisation/my-clients")
    cards = page.locator(".mandate-card")
    assert await cards.filter(has_text=JEAN_NAME).count() == 1
    assert "Travail et salaires" in await cards.filter(has_text=JEAN_NAME).inner_text()
    await _fits_the_phone(page)
    await assert_accessible(page, f"organisation-my-clients--{LANGUAGE}--{PHONE_WIDTH}")

    # Act for him: the banner names him, and the CPAS she acts on behalf of, on every page.
    async with page.expect_navigation():
        await page.get_by_role("button", name=f"{t(LANGUAGE, 'Act for this person')} – {JEAN_NAME}").click()
    banner = await page.locator(".acting-banner").inner_text()
    acting = t(LANGUAGE, "You are acting for %(name)s on behalf of %(organisation)s.")
    assert acting % {"name": JEAN_NAME, "organisation": CPAS.name_fr} in banner

    # What is held about him: the categories his mandate to the CPAS covers, and whose data this is.
    await page.goto("/my-data")
    assert urlsplit(page.url).path == "/my-data"
    assert JEAN_NAME in await page.locator(".helper-notice").inner_text()
    assert await page.locator(".category-card").count() == 4, "Dimona, DmfA, flexi wages and the DRS"
    await _fits_the_phone(page)
    await assert_accessible(page, f"my-data-agent--{LANGUAGE}--{PHONE_WIDTH}")
