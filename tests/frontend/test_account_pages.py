"""The account pages in a real browser: the sign-in pages, the demo sign-in, and a whole journey on a phone,
with and without JavaScript: sign in as an agent, switch to working for her organisation, see the banner on every
page, switch back, sign out."""

from __future__ import annotations

from functools import cache
from urllib.parse import urlsplit

import pytest
from babel.messages.pofile import read_po
from playwright.async_api import Page

from backend.core.i18n import DOMAIN, LANGUAGES
from backend.core.identity.demo import PERSONAS
from tests import browser as harness
from tests.browser import PHONE_WIDTH, ROOT, WIDTHS, PageFactory, assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# The development server's fixtures (tests/browser.py), made visible to this module's tests.
dev_local_dir = harness.dev_local_dir
dev_database_url = harness.dev_database_url
dev_live_server = harness.dev_live_server
new_dev_page = harness.new_dev_page

NATHALIE = next(persona for persona in PERSONAS if persona.key == "nathalie")
NATHALIE_NAME = f"{NATHALIE.given_name} {NATHALIE.family_name}"
CPAS_LIEGE_FR = "CPAS de Liège"


@cache
def _catalog(language: str) -> dict[str, str]:
    path = ROOT / "frontend" / "locale" / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    return {str(message.id): str(message.string) for message in catalog if message.id and message.string}


def _fr(message: str) -> str:
    """What the page shows in French for an English msgid (as the catalog says, so a new wording still passes)."""
    return _catalog("fr")[message]


def _path_and_query(page: Page) -> str:
    parts = urlsplit(page.url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


@pytest.mark.parametrize("width", WIDTHS, ids=[f"{width}px" for width in WIDTHS])
@pytest.mark.parametrize("language", LANGUAGES)
async def test_sign_in_page_is_accessible(new_page: PageFactory, language: str, width: int) -> None:
    page = await new_page(width, language=language)
    response = await page.goto("/sign-in")

    assert response is not None
    assert response.status == 200
    assert await page.get_attribute("html", "lang") == language
    assert await page.locator("h1").count() == 1
    # The test server has neither the federal service configured nor the demo sign-in.
    assert await page.locator("a[href^='/dev/sign-in']").count() == 0
    await assert_accessible(page, f"sign-in--{language}--{width}")


@pytest.mark.parametrize("width", WIDTHS, ids=[f"{width}px" for width in WIDTHS])
@pytest.mark.parametrize("language", ["nl", "fr"])
async def test_demo_sign_in_lists_every_persona(new_dev_page: PageFactory, language: str, width: int) -> None:
    page = await new_dev_page(width, language=language)
    response = await page.goto("/dev/sign-in")

    assert response is not None
    assert response.status == 200
    assert await page.locator("h1").count() == 1
    for persona in PERSONAS:
        name = f"{persona.given_name} {persona.family_name}"
        assert await page.get_by_role("heading", name=name, exact=True).count() == 1, name
    assert await page.locator(".persona-list button[name='persona']").count() == len(PERSONAS)
    scroll_width = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"the page scrolls sideways: {scroll_width} px wide in a {width} px viewport"
    await assert_accessible(page, f"dev-sign-in--{language}--{width}")


@pytest.mark.parametrize("javascript", [False, True], ids=["without-javascript", "with-javascript"])
async def test_agent_journey_on_a_phone(new_dev_page: PageFactory, javascript: bool) -> None:
    mode = "js" if javascript else "nojs"
    page = await new_dev_page(PHONE_WIDTH, javascript=javascript)  # Accept-Language nl-BE
    await page.goto("/dev/sign-in")

    # Sign in as Nathalie Lambert, agent at the CPAS of Liège.
    persona = page.locator(".persona").filter(has=page.get_by_role("heading", name=NATHALIE_NAME, exact=True))
    async with page.expect_navigation():
        await persona.get_by_role("button").click()
    assert urlsplit(page.url).path == "/my"
    assert NATHALIE_NAME in await page.locator("main").inner_text()
    assert await page.get_attribute("html", "lang") == "fr", "her own language setting overrides the browser's"
    account = page.locator(".site-header__account")
    assert await account.get_by_role("button", name=_fr("Sign out"), exact=True).count() == 1
    assert await account.get_by_role("link", name=_fr("Sign in"), exact=True).count() == 0
    assert await page.locator(".acting-banner").count() == 0
    await assert_accessible(page, f"my--{mode}--{PHONE_WIDTH}")

    # Work as an agent of the CPAS: the banner is then on every page.
    agent_label = _fr("As agent of %(organisation)s") % {"organisation": CPAS_LIEGE_FR}
    await page.get_by_label(agent_label, exact=True).check()
    async with page.expect_navigation():
        await page.get_by_role("button", name=_fr("Switch"), exact=True).click()
    assert urlsplit(page.url).path == "/my"
    assert await page.get_by_label(agent_label, exact=True).is_checked()
    for path in ("/", "/accessibility"):
        await page.goto(path)
        assert await page.locator(".acting-banner").is_visible(), f"no acting banner on {path}"
    await assert_accessible(page, f"acting-banner--{mode}--{PHONE_WIDTH}")

    # Back to acting for herself, from the banner.
    async with page.expect_navigation():
        await page.locator(".acting-banner").get_by_role("button", name=_fr("Switch back to myself")).click()
    assert urlsplit(page.url).path == "/my"
    assert await page.locator(".acting-banner").count() == 0
    assert await page.get_by_label(_fr("For myself"), exact=True).is_checked()

    # Sign out: the header offers signing in again, and the overview needs it.
    async with page.expect_navigation():
        await account.get_by_role("button", name=_fr("Sign out"), exact=True).click()
    assert await account.locator("a[href^='/sign-in']").count() == 1
    assert await account.get_by_role("button").count() == 0
    await page.goto("/my")
    assert _path_and_query(page) == "/sign-in?next=/my"


async def test_overview_needs_sign_in(new_page: PageFactory) -> None:
    page = await new_page(PHONE_WIDTH)
    response = await page.goto("/my")

    assert response is not None
    assert response.status == 200
    assert _path_and_query(page) == "/sign-in?next=/my"
