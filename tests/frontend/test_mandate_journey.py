"""A mandate from start to end in a real browser on a phone (375 px), with axe-core on every page:

Sofie (citizen) gives Pieter Janssens the theme "work and wages" to see for one month and reads the code shown;
Pieter, in another browser, accepts with the code and acts for Sofie (the banner shows); Sofie ends the mandate;
Pieter's very next request no longer acts for her. With and without JavaScript.

It runs on the development server (demo personas), which serves only the routes backend/app.py registers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page

from backend.core.db import connect
from backend.core.identifiers import parse_insz
from backend.core.identity import queries as identity_queries
from backend.core.identity.demo import PERSONAS
from consent import ending, service
from tests import browser as harness
from tests.browser import PHONE_WIDTH, PageFactory, assert_accessible
from tests.factories import signed_in

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


@pytest.fixture
async def no_open_mandate(dev_database_url: str) -> AsyncIterator[None]:
    """No mandate from Sofie to Pieter is open when the journey starts (an earlier run may have left one)."""
    conn = await connect(dev_database_url)
    try:
        async with conn.transaction():
            sofie = await identity_queries.select_person_by_insz(conn, SOFIE.insz)
            assert sofie is not None, "the development database is seeded with the demo personas"
            as_sofie = await signed_in(conn, sofie)
            for mandate in await service.mandates_given(conn, as_sofie):
                if mandate.mandatary.name == PIETER_NAME and mandate.state in ("pending", "active"):
                    await ending.end_mandate(conn, as_sofie, mandate.mandate_id)
        yield
    finally:
        await conn.close()


async def _sign_in(page: Page, name: str) -> None:
    await page.goto("/dev/sign-in")
    persona = page.locator(".persona").filter(has=page.get_by_role("heading", name=name, exact=True))
    async with page.expect_navigation():
        await persona.get_by_role("button").click()
    assert urlsplit(page.url).path == "/my"


async def _submit(page: Page, selector: str) -> None:
    async with page.expect_navigation():
        await page.locator(selector).click()


async def _check(page: Page, name: str, *, path: str | None = None) -> None:
    """One h1, no sideways scrolling at 375 px, and 0 axe violations."""
    if path is not None:
        assert urlsplit(page.url).path == path, page.url
    assert await page.locator("h1").count() == 1
    scroll_width = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE_WIDTH, f"{name} scrolls sideways: {scroll_width} px wide"
    await assert_accessible(page, name)


@pytest.mark.parametrize("javascript", [True, False], ids=["with-javascript", "without-javascript"])
async def test_grant_accept_act_and_revoke_on_a_phone(
    new_dev_page: PageFactory, no_open_mandate: None, javascript: bool
) -> None:
    mode = "js" if javascript else "nojs"
    sofie = await new_dev_page(PHONE_WIDTH, javascript=javascript)
    await _sign_in(sofie, SOFIE_NAME)
    assert await sofie.locator("main a[href='/helpers']").count() == 1, "the overview links to My helpers"
    async with sofie.expect_navigation():
        await sofie.locator("main a[href='/helpers']").click()
    await _check(sofie, f"mandate-helpers--{mode}", path="/helpers")

    # Step 1: who. Pieter's national number and surname.
    async with sofie.expect_navigation():
        await sofie.locator("main a[href='/helpers/new']").click()
    await _check(sofie, f"mandate-step-1--{mode}", path="/helpers/new")
    await sofie.locator("#kind-person").check()
    await sofie.locator("#mandatary_insz").fill(parse_insz(PIETER.insz).formatted)
    # A surname that does not match first: the step comes back with the error summary naming the field.
    await sofie.locator("#mandatary_family_name").fill("Jansen")
    await _submit(sofie, "form[action='/helpers/new/who'] button[type='submit']")
    summary = sofie.locator(".error-summary")
    assert await summary.locator("a[href='#mandatary_insz']").count() == 1
    if javascript:
        assert await summary.evaluate("element => element === document.activeElement"), "focus on the summary"
    await _check(sofie, f"mandate-step-1-error--{mode}", path="/helpers/new/who")
    await sofie.locator("#mandatary_family_name").fill(PIETER.family_name)
    await _submit(sofie, "form[action='/helpers/new/who'] button[type='submit']")

    # Step 2: what. Work and wages, to see only.
    await _check(sofie, f"mandate-step-2--{mode}", path="/helpers/new/who")
    await sofie.locator("#theme-work_and_wages-read").check()
    await _submit(sofie, "form[action='/helpers/new/what'] button[type='submit']:not([name='back'])")

    # Step 3: how long (one month), the consequences and the consent text; agreeing creates the invitation.
    await _check(sofie, f"mandate-step-3--{mode}", path="/helpers/new/what")
    assert "Toestemming voor een volmacht" in await sofie.locator(".legal-text").inner_text()
    await sofie.locator("#duration-1_month").check()
    await sofie.locator("#agree").check()
    await _submit(sofie, "form[action='/helpers/new/confirm'] button[type='submit']:not([name='back'])")
    await _check(sofie, f"mandate-code--{mode}", path="/helpers/new/confirm")
    code = (await sofie.locator("#invitation-code").inner_text()).strip()
    assert len(code) == 14, code

    # Pieter, in another browser: accept with the code, then act for Sofie.
    pieter = await new_dev_page(PHONE_WIDTH, javascript=javascript)
    await _sign_in(pieter, PIETER_NAME)
    await pieter.goto("/helping/accept")
    await _check(pieter, f"mandate-accept--{mode}", path="/helping/accept")
    await pieter.locator("#code").fill(code.lower().replace("-", " "))
    await _submit(pieter, "form[action='/helping/accept'] button[type='submit']")
    await _check(pieter, f"mandate-accept-preview--{mode}", path="/helping/accept")
    assert SOFIE_NAME in await pieter.locator("h1").inner_text()
    await _submit(pieter, "button[name='accept']")
    await _check(pieter, f"mandate-helping--{mode}", path="/helping")
    await _submit(pieter, "form[action='/helping/act'] button[type='submit']")
    banner = pieter.locator(".acting-banner")
    assert await banner.is_visible()
    assert SOFIE_NAME in await banner.inner_text()
    await _check(pieter, f"mandate-acting--{mode}", path="/my")

    # Sofie ends the mandate: a confirmation page, then the POST.
    await sofie.goto("/helpers")
    async with sofie.expect_navigation():
        await sofie.locator("#group-active ~ ul a[href$='/end']").first.click()
    await _check(sofie, f"mandate-end-confirm--{mode}")
    await _submit(sofie, "main form button[type='submit']")
    await _check(sofie, f"mandate-ended--{mode}", path="/helpers")
    assert PIETER_NAME in await sofie.locator("#group-ended ~ ul").inner_text()
    async with sofie.expect_navigation():
        await sofie.locator("#group-ended ~ ul a[href$='/receipt']").first.click()
    await _check(sofie, f"mandate-receipt--{mode}")
    assert len((await sofie.locator("#verification-code").inner_text()).strip()) == 11
    await sofie.goto("/helpers/timeline")
    await _check(sofie, f"mandate-timeline--{mode}", path="/helpers/timeline")

    # Pieter's very next request no longer acts for her.
    await pieter.goto("/my")
    assert await pieter.locator(".acting-banner").count() == 0
    await pieter.goto("/helping")
    assert await pieter.locator("form[action='/helping/act']").count() == 0
    assert SOFIE_NAME in await pieter.locator("#group-ended ~ ul").inner_text()


async def test_the_access_manager_sees_clients_and_agents_on_a_phone(new_dev_page: PageFactory) -> None:
    isabelle = next(persona for persona in PERSONAS if persona.key == "isabelle")
    page = await new_dev_page(PHONE_WIDTH)
    await _sign_in(page, f"{isabelle.given_name} {isabelle.family_name}")
    assert await page.locator("main a[href='/organisation/clients']").count() == 1
    async with page.expect_navigation():
        await page.locator("main a[href='/organisation/clients']").click()
    await _check(page, "organisation-clients", path="/organisation/clients")
    assert await page.locator("#assign-all").count() == 1, "her people can be named for all clients"
