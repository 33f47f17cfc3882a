"""Browser fixtures for the page tests; they live in tests/browser.py so any test folder can import them."""

from __future__ import annotations

from tests.browser import browser, desktop_page, live_server, new_page, phone_page

__all__ = ["browser", "desktop_page", "live_server", "new_page", "phone_page"]
