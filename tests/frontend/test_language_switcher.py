"""The language switcher: a plain form that works with and without JavaScript, remembered in a cookie, and
refused without the CSRF token."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page

from tests.browser import DESKTOP_WIDTH, LANGUAGE_COOKIE, PHONE_WIDTH, PageFactory, assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


async def _switch_to(page: Page, language_name: str) -> None:
    button = page.get_by_role("button", name=language_name, exact=True)
    async with page.expect_navigation():
        await button.click()


async def _language_cookie(page: Page) -> str | None:
    for cookie in await page.context.cookies():
        if cookie.get("name") == LANGUAGE_COOKIE:
            return cookie.get("value")
    return None


@pytest.mark.parametrize("javascript", [True, False], ids=["with-javascript", "without-javascript"])
async def test_switching_language_reloads_the_same_page_and_is_remembered(
    new_page: PageFactory, javascript: bool
) -> None:
    page = await new_page(PHONE_WIDTH, javascript=javascript)  # Accept-Language nl-BE, no cookie yet
    await page.goto("/")
    assert await page.get_attribute("html", "lang") == "nl"
    assert await page.locator(".language-switcher [aria-current='true']").get_attribute("lang") == "nl"

    await _switch_to(page, "Français")
    assert await page.get_attribute("html", "lang") == "fr"
    assert urlsplit(page.url).path == "/"
    assert await page.locator(".language-switcher [aria-current='true']").get_attribute("lang") == "fr"
    assert await page.get_by_role("button", name="Nederlands", exact=True).count() == 1
    assert await _language_cookie(page) == "fr"

    await page.goto("/accessibility")
    assert await page.get_attribute("html", "lang") == "fr"

    # From another page the switcher comes back to that page.
    await _switch_to(page, "Deutsch")
    assert await page.get_attribute("html", "lang") == "de"
    assert urlsplit(page.url).path == "/accessibility"
    await assert_accessible(page, f"language-switched--de--{'js' if javascript else 'nojs'}")


async def test_language_cookie_is_http_only_and_lax(new_page: PageFactory) -> None:
    page = await new_page(DESKTOP_WIDTH)
    await page.goto("/")
    await _switch_to(page, "English")
    cookies = [cookie for cookie in await page.context.cookies() if cookie.get("name") == LANGUAGE_COOKIE]
    assert len(cookies) == 1
    assert cookies[0].get("value") == "en"
    assert cookies[0].get("httpOnly") is True
    assert cookies[0].get("sameSite") == "Lax"
    assert cookies[0].get("path") == "/"


@pytest.mark.parametrize("locale", ["fr-BE", "de-BE", "en-GB", "nl-BE"])
async def test_first_visit_follows_the_browser_language(new_page: PageFactory, locale: str) -> None:
    page = await new_page(DESKTOP_WIDTH, locale=locale)
    await page.goto("/")
    assert await page.get_attribute("html", "lang") == locale[:2]


@pytest.mark.parametrize(
    "form",
    [{"lang": "fr", "next": "/"}, {"lang": "fr", "next": "/", "_csrf_token": "forged-token"}],
    ids=["no-token", "forged-token"],
)
async def test_language_post_without_a_valid_csrf_token_is_refused(
    new_page: PageFactory, form: dict[str, str | float | bool]
) -> None:
    page = await new_page(DESKTOP_WIDTH)
    await page.goto("/")  # the browser now holds the CSRF cookie, as an attacker's victim would

    answer = await page.request.post("/language", form=form, max_redirects=0)

    assert answer.status == 403
    set_cookies = [header["value"] for header in answer.headers_array if header["name"].lower() == "set-cookie"]
    assert not any(value.startswith(f"{LANGUAGE_COOKIE}=") for value in set_cookies)
    assert await _language_cookie(page) is None
    await page.reload()
    assert await page.get_attribute("html", "lang") == "nl"
