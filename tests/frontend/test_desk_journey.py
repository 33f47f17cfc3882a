"""An assisted session in a real browser, with axe-core on every page:

Sofie shows a presence code on her phone (375 px); Amira, the desk agent, opens a session with it at a desktop
(1280 px), walks through Sofie's data one screen at a time, prints the summary, saves her e-mail and language,
prepares a mandate for Pieter Janssens; Sofie confirms it on her own phone with the code sent to her messages
and sees the session in her "Help at a desk"; Amira ends the session and the next request on it is refused.

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
from tests.browser import DESKTOP_WIDTH, PHONE_WIDTH, PageFactory, assert_accessible
from tests.factories import signed_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

dev_local_dir = harness.dev_local_dir
dev_database_url = harness.dev_database_url
dev_live_server = harness.dev_live_server
new_dev_page = harness.new_dev_page

SOFIE = next(persona for persona in PERSONAS if persona.key == "sofie")
PIETER = next(persona for persona in PERSONAS if persona.key == "pieter")
AMIRA = next(persona for persona in PERSONAS if persona.key == "amira")


def _name(persona: object) -> str:
    return f"{persona.given_name} {persona.family_name}"  # type: ignore[attr-defined]


@pytest.fixture
async def sofie_without_desk_session(dev_database_url: str) -> AsyncIterator[str]:
    """No assisted session is open for Sofie and no mandate from her to Pieter is open; yields the database URL."""
    conn = await connect(dev_database_url)
    try:
        async with conn.transaction():
            sofie = await identity_queries.select_person_by_insz(conn, SOFIE.insz)
            assert sofie is not None, "the development database is seeded with the demo personas"
            await conn.execute(
                "UPDATE desk_sessions SET ended_at = now(), end_reason = 'ended' "
                "WHERE citizen_id = $1 AND ended_at IS NULL",
                sofie.person_id,
            )
            as_sofie = await signed_in(conn, sofie)
            for mandate in await service.mandates_given(conn, as_sofie):
                if mandate.mandatary.name == _name(PIETER) and mandate.state in ("pending", "active"):
                    await ending.end_mandate(conn, as_sofie, mandate.mandate_id)
        yield dev_database_url
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


async def _check(page: Page, name: str, width: int, *, path: str | None = None) -> None:
    """One h1, no sideways scrolling at the page's width, and 0 axe violations."""
    if path is not None:
        assert urlsplit(page.url).path == path, page.url
    assert await page.locator("h1").count() == 1
    scroll_width = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{name} scrolls sideways: {scroll_width} px wide"
    await assert_accessible(page, name)


async def test_an_assisted_session_from_presence_code_to_confirmed_mandate(
    new_dev_page: PageFactory, sofie_without_desk_session: str
) -> None:
    # Sofie, on her phone: "Help at a desk", then a fresh presence code.
    sofie = await new_dev_page(PHONE_WIDTH)
    await _sign_in(sofie, _name(SOFIE))
    async with sofie.expect_navigation():
        await sofie.locator("main a[href='/desk-help']").click()
    await _check(sofie, "desk-help", PHONE_WIDTH, path="/desk-help")
    await _submit(sofie, "form[action='/desk-help/code'] button[type='submit']")
    await _check(sofie, "desk-help-code", PHONE_WIDTH, path="/desk-help/code")
    code = (await sofie.locator(".presence-code .easy-read__code").inner_text()).strip()
    assert len(code.replace(" ", "")) == 6, code

    # Amira, at the desk: a wrong code first (the summary names the field), then the code Sofie reads out.
    amira = await new_dev_page(DESKTOP_WIDTH)
    await _sign_in(amira, _name(AMIRA))
    async with amira.expect_navigation():
        await amira.locator("main a[href='/desk']").click()
    await _check(amira, "desk-console", DESKTOP_WIDTH, path="/desk")
    await amira.locator("#insz").fill(parse_insz(SOFIE.insz).formatted)
    await amira.locator("#verification-code").check()
    wrong = "000000" if code.replace(" ", "") != "000000" else "111111"
    await amira.locator("#presence_code").fill(wrong)
    await amira.locator("#reason").fill("Help to read the flexi counter and give her son a mandate")
    for scope in ("view_data", "mandates", "contact", "error_report"):
        await amira.locator(f"#scope-{scope}").check()
    await _submit(amira, "form[action='/desk/sessions'] button[type='submit']")
    assert await amira.locator(".error-summary a[href='#presence_code']").count() == 1
    await _check(amira, "desk-console-wrong-code", DESKTOP_WIDTH, path="/desk/sessions")
    await amira.locator("#presence_code").fill(code)
    await _submit(amira, "form[action='/desk/sessions'] button[type='submit']")
    assert _name(SOFIE) in await amira.locator("h1").inner_text()
    await _check(amira, "desk-session", DESKTOP_WIDTH)
    session_path = urlsplit(amira.url).path
    assert SOFIE.insz not in amira.url

    # Easy-read: one category per screen, next and previous.
    async with amira.expect_navigation():
        await amira.locator(f"main a[href='{session_path}/data/1']").click()
    await _check(amira, "desk-easy-read-1", DESKTOP_WIDTH, path=f"{session_path}/data/1")
    await _submit(amira, "a[rel='next']")
    await _check(amira, "desk-easy-read-2", DESKTOP_WIDTH, path=f"{session_path}/data/2")
    await _submit(amira, "a[rel='prev']")
    assert urlsplit(amira.url).path == f"{session_path}/data/1"

    await amira.goto(f"{session_path}/summary")
    await _check(amira, "desk-summary", DESKTOP_WIDTH, path=f"{session_path}/summary")

    await amira.goto(f"{session_path}/contact")
    await _check(amira, "desk-contact", DESKTOP_WIDTH, path=f"{session_path}/contact")
    await _submit(amira, "form[action$='/contact'] button[type='submit']")
    assert urlsplit(amira.url).path == session_path

    # A mandate for Pieter, prepared with Sofie; nothing is given yet.
    await amira.goto(f"{session_path}/mandates")
    await _check(amira, "desk-mandates", DESKTOP_WIDTH, path=f"{session_path}/mandates")
    await amira.locator("#mandatary-insz").fill(parse_insz(PIETER.insz).formatted)
    await amira.locator("#mandatary_family_name").fill(PIETER.family_name)
    await amira.locator("#theme-work_and_wages-read").check()
    await amira.locator("#duration-1_month").check()
    await _submit(amira, "form[action$='/mandates'] button[type='submit']")
    assert await amira.locator(".confirmation").count() == 1
    await _check(amira, "desk-mandate-prepared", DESKTOP_WIDTH, path=f"{session_path}/mandates")

    # Sofie confirms on her own phone with the code in her messages.
    conn = await connect(sofie_without_desk_session)
    try:
        sofie_row = await identity_queries.select_person_by_insz(conn, SOFIE.insz)
        assert sofie_row is not None
        payload = await conn.fetchval(
            "SELECT payload FROM notification_outbox WHERE citizen_id = $1 AND kind = 'desk_mandate_code' "
            "ORDER BY created_at DESC LIMIT 1",
            sofie_row.person_id,
        )
    finally:
        await conn.close()
    await sofie.goto("/desk-help/confirm")
    await _check(sofie, "desk-confirm", PHONE_WIDTH, path="/desk-help/confirm")
    await sofie.locator("#code").fill(payload["code"])
    await _submit(sofie, "form[action='/desk-help/confirm'] button[type='submit']")
    await _check(sofie, "desk-confirm-preview", PHONE_WIDTH, path="/desk-help/confirm")
    assert _name(PIETER) in await sofie.locator("main").inner_text()
    await _submit(sofie, "form[action='/desk-help/confirm/answer'] button[type='submit']")
    await _check(sofie, "desk-confirmed", PHONE_WIDTH, path="/desk-help/confirm/answer")
    assert len((await sofie.locator(".easy-read__code").inner_text()).strip()) == 14

    # Amira ends the session; the next request on it is refused.
    await amira.goto(session_path)
    await _submit(amira, f"form[action='{session_path}/end'] button[type='submit']")
    await amira.goto(f"{session_path}/data/1")
    assert await amira.locator(".error-summary").count() == 1
    await _check(amira, "desk-session-ended", DESKTOP_WIDTH, path=f"{session_path}/data/1")

    # Sofie sees the session, the agent's reference and what was done.
    await sofie.goto("/desk-help")
    await _check(sofie, "desk-help-history", PHONE_WIDTH, path="/desk-help")
    history = await sofie.locator(".desk-sessions").inner_text()
    assert "Brussels help desk" in history
