"""Every page, in every language, at phone and desktop widths: one h1, the right lang, a skip link first, no
horizontal scrolling, and no axe-core violation, console error or CSP violation."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page

from backend.core.i18n import LANGUAGES
from tests.browser import PHONE_WIDTH, WIDTHS, PageFactory, assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# (path, expected status, screenshot name)
PAGES = [
    ("/", 200, "home"),
    ("/accessibility", 200, "accessibility-statement"),
    ("/no-such-page", 404, "not-found"),
]

# The first element in document order that the Tab key can reach.
FIRST_FOCUSABLE = """() => {
  const candidates = document.querySelectorAll(
    'a[href], area[href], button, input:not([type="hidden"]), select, textarea, iframe, summary, [tabindex], ' +
    '[contenteditable="true"]'
  );
  for (const element of candidates) {
    if (element.disabled || element.getAttribute("tabindex") === "-1") continue;
    return {tag: element.tagName.toLowerCase(), href: element.getAttribute("href"), classes: element.className};
  }
  return null;
}"""


FOCUS_IS_IN_OR_AFTER_MAIN = """() => {
  const main = document.getElementById("main");
  const active = document.activeElement;
  return main.contains(active) || Boolean(main.compareDocumentPosition(active) & Node.DOCUMENT_POSITION_FOLLOWING);
}"""


@pytest.mark.parametrize("width", WIDTHS, ids=[f"{width}px" for width in WIDTHS])
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("path", "status", "name"), PAGES, ids=[name for _, _, name in PAGES])
async def test_page_is_accessible(
    new_page: PageFactory, path: str, status: int, name: str, language: str, width: int
) -> None:
    page = await new_page(width, language=language)
    response = await page.goto(path)

    assert response is not None
    assert response.status == status
    assert await page.get_attribute("html", "lang") == language
    assert await page.locator("h1").count() == 1
    assert await page.locator("main#main").count() == 1
    first = await page.evaluate(FIRST_FOCUSABLE)
    assert first is not None
    assert (first["tag"], first["href"]) == ("a", "#main"), f"the first focusable element is {first}"
    scroll_width = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"the page scrolls sideways: {scroll_width} px wide in a {width} px viewport"
    await assert_accessible(page, f"{name}--{language}--{width}")


@pytest.mark.parametrize("width", WIDTHS, ids=[f"{width}px" for width in WIDTHS])
async def test_skip_link_moves_keyboard_focus_to_main(new_page: PageFactory, width: int) -> None:
    page = await new_page(width)
    await page.goto("/accessibility")

    await page.keyboard.press("Tab")
    focused = page.locator(":focus")
    assert await focused.evaluate("element => element.classList.contains('skip-link')")
    assert await focused.get_attribute("href") == "#main"
    box = await focused.bounding_box()
    assert box is not None
    assert box["y"] >= 0, "the focused skip link is not visible"
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= width

    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "main"
    assert urlsplit(page.url).fragment == "main"

    # The next Tab goes on from main (into it or past it), not back to the header.
    await page.keyboard.press("Tab")
    assert await page.evaluate(FOCUS_IS_IN_OR_AFTER_MAIN)


async def test_harness_reports_axe_and_csp_problems(new_page: PageFactory) -> None:
    """The checks above would not pass silently: an unnamed button, an inline style and an inline script."""
    page = await new_page(PHONE_WIDTH)
    await page.goto("/")
    await _serve_broken_page(page)
    await page.goto("/broken")
    with pytest.raises(AssertionError, match="button-name") as failure:
        await assert_accessible(page, "harness-self-test")
    assert "CSP violation" in str(failure.value)
    assert "style-src" in str(failure.value)
    assert "script-src" in str(failure.value)


async def _serve_broken_page(page: Page) -> None:
    headers = {"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'"}
    body = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Broken</title></head>'
        '<body><main><h1 style="color: red">Broken</h1><button></button>'
        '<script>document.title = "ran";</script></main></body></html>'
    )
    await page.route(
        "**/broken",
        lambda route: route.fulfill(status=200, headers=headers, content_type="text/html; charset=utf-8", body=body),
    )
