"""Browser test harness: a live Vitrine server, one headless Chromium, pages at phone and desktop widths, and one
check (`assert_accessible`) that runs axe-core and also fails on console errors, script errors and CSP violations.

Fixtures (made available to a test folder by importing them into its conftest.py, see tests/frontend/conftest.py):

- `live_server` (session): base URL of `python -m backend.cli web` on a free loopback port, with this worker's
  database and Redis; its output goes to test-artifacts/logs/.
- `dev_live_server` (session): the same server as `make run` starts it (VITRINE_ENV=development, so /dev/sign-in
  exists), on a database of its own (`dev_database_url`) seeded by `vitrine seed`: the demo rows it commits never
  reach the worker's database, whose tests roll back.
- `browser` (session): one headless Debian Chromium.
- `new_page` (function): `page = await new_page(PHONE_WIDTH, language="fr", javascript=False)` opens a page in a
  fresh browser context whose base URL is the live server (so `await page.goto("/accessibility")` works).
- `new_dev_page` (function): the same factory on the development server, to sign in as a demo persona.
- `phone_page` / `desktop_page` (function): a page at 375 × 812 / 1280 × 800 with no language cookie.

Then `await assert_accessible(page, "screenshot-name")`. Every page from these fixtures is watched from its start
(console errors, uncaught errors, CSP violations, failed subresources); call `watch_page(page)` on a page a test
opens by other means. Browser test modules carry `pytestmark = [pytest.mark.browser,
pytest.mark.xdist_group("browser")]` so that `--dist loadgroup` runs them on one worker with one server and browser.

The tests are `async def` (pytest-asyncio's session loop) because they use Playwright's *async* API: while the
sync API is started it marks its own event loop as running in the main thread, which makes every later async test
of the same pytest process fail with "Runner.run() cannot be called from a running event loop".
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol, cast
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    Response,
    StorageState,
    async_playwright,
)
from playwright.async_api import Error as PlaywrightError

from backend.core.db import connect
from backend.core.migrations import migrate
from backend.core.settings import DEVELOPMENT_SECRET

ROOT: Final = Path(__file__).resolve().parent.parent
ARTIFACTS: Final = ROOT / "test-artifacts"
SCREENSHOTS: Final = ARTIFACTS / "screenshots"
LOGS: Final = ARTIFACTS / "logs"

CHROMIUM: Final = "/usr/bin/chromium"
CHROMIUM_ARGS: Final = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

PHONE_WIDTH: Final = 375
DESKTOP_WIDTH: Final = 1280
WIDTHS: Final = (PHONE_WIDTH, DESKTOP_WIDTH)
_HEIGHTS: Final = {PHONE_WIDTH: 812, DESKTOP_WIDTH: 800}
# Accept-Language of every context unless a test says otherwise; the language cookie overrides it.
DEFAULT_LOCALE: Final = "nl-BE"
LANGUAGE_COOKIE: Final = "vitrine_lang"

READY_TIMEOUT_SECONDS: Final = 60
AXE_TIMEOUT_SECONDS: Final = 30
_ADDRESS_IN_USE: Final = re.compile(r"address already in use", re.IGNORECASE)
# The main document of an error page (404, 403…) makes Chromium log this; any other resource must load.
_DOCUMENT_STATUS_ERROR: Final = re.compile(r"^Failed to load resource: the server responded with a status of 4\d\d")

# Reports every CSP violation to Python, also those Chromium would only count (e.g. in a report-only policy).
_CSP_LISTENER: Final = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__vitrineCspViolation(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline"} at ${event.sourceFile}:${event.lineNumber}`
  );
});
"""


# --- the live server ---------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _is_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 (our own loopback URL)
            return int(answer.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _log_tail(path: Path, lines: int = 60) -> str:
    text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def _start_server(name: str, environment: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """Start `vitrine web` on a free loopback port with environment added to ours; the process and its base URL.

    The log goes to test-artifacts/logs/<name>-<worker>.log; start-up failures fail the test with its tail.
    """
    LOGS.mkdir(parents=True, exist_ok=True)
    log_path = LOGS / f"{name}-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.log"
    for _attempt in range(3):  # another process may take the free port between our check and uvicorn's bind
        port = _free_port()
        base_url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            **environment,
            "VITRINE_HOST": "127.0.0.1",
            "VITRINE_PORT": str(port),
            "VITRINE_WEB_WORKERS": "1",
            "BASE_URL": base_url,
        }
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "backend.cli", "web"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while process.poll() is None and time.monotonic() < deadline and not _is_ready(f"{base_url}/readyz"):
            time.sleep(0.2)
        if process.poll() is None and time.monotonic() < deadline:
            return process, base_url
        _stop(process)
        output = _log_tail(log_path)
        if process.returncode is not None and _ADDRESS_IN_USE.search(output):
            continue
        reason = f"stopped with exit code {process.returncode}" if process.poll() is not None else "timed out"
        pytest.fail(
            f"{name} {reason} before {base_url}/readyz answered 200 (log: {log_path}):\n{output}", pytrace=False
        )
    pytest.fail(f"{name} found no free port after 3 attempts (log: {log_path})", pytrace=False)


@contextmanager
def _running_server(name: str, environment: dict[str, str]) -> Iterator[str]:
    """A web server for the duration of the block; yields its base URL (no trailing slash)."""
    process, base_url = _start_server(name, environment)
    try:
        yield base_url
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def live_server(database_url: str, redis_url: str) -> Iterator[str]:
    """`vitrine web` in a subprocess on a free loopback port; yields its base URL (no trailing slash)."""
    environment = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "VITRINE_ENV": "test"}
    with _running_server("live-server", environment) as base_url:
        yield base_url


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


async def _drop_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    admin = await asyncpg.connect(_with_database(url, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def _development_environment(database_url: str, redis_url: str, local_dir: Path) -> dict[str, str]:
    """What `vitrine seed` and the development server share: database, Redis, local folder (keys) and secret."""
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "VITRINE_ENV": "development",
        "VITRINE_LOCAL_DIR": str(local_dir),
        "SECRET_KEY": DEVELOPMENT_SECRET,
    }


@pytest.fixture(scope="session")
def dev_local_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The development server's local folder (the demo institutions' keys), never the developer's .local/."""
    return tmp_path_factory.mktemp("vitrine-dev-local")


@pytest.fixture(scope="session")
async def dev_database_url(database_url: str, redis_url: str, dev_local_dir: Path) -> AsyncIterator[str]:
    """A database of the development server's own, migrated and seeded with the demo data by `vitrine seed`.

    The demo rows are committed, so they live apart from the worker's database, whose tests roll back.
    """
    url = _with_database(database_url, f"{urlsplit(database_url).path.lstrip('/')}_browser_dev")
    await _drop_database(url)
    admin = await asyncpg.connect(_with_database(url, "postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{urlsplit(url).path.lstrip("/")}"')
    finally:
        await admin.close()
    try:
        conn = await connect(url, as_app=False)
        try:
            await migrate(conn)
        finally:
            await conn.close()
        seeding = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "backend.cli",
            "seed",
            cwd=ROOT,
            env={**os.environ, **_development_environment(url, redis_url, dev_local_dir)},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await seeding.communicate()
        if seeding.returncode != 0:
            pytest.fail(f"`vitrine seed` failed with exit code {seeding.returncode}:\n{output.decode()}", pytrace=False)
        yield url
    finally:
        await _drop_database(url)


@pytest.fixture(scope="session")
def dev_live_server(dev_database_url: str, redis_url: str, dev_local_dir: Path) -> Iterator[str]:
    """`vitrine web` as `make run` starts it (VITRINE_ENV=development: /dev/sign-in exists); yields its base URL.

    It serves the seeded `dev_database_url`; open its pages with `new_dev_page`.
    """
    environment = _development_environment(dev_database_url, redis_url, dev_local_dir)
    with _running_server("dev-live-server", environment) as base_url:
        yield base_url


# --- the browser and its pages -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One headless Chromium (Debian's; Playwright never downloads one here) for the whole session."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@dataclass
class PageProblems:
    """What went wrong in a page besides axe: console errors, uncaught script errors, CSP violations, failed loads."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """One readable line per problem."""
        return [
            *(f"console error: {text}" for text in self.console_errors),
            *(f"uncaught script error: {text}" for text in self.page_errors),
            *(f"CSP violation: {text}" for text in self.csp_violations),
            *(f"failed request: {text}" for text in self.failed_requests),
        ]


_PROBLEMS: weakref.WeakKeyDictionary[Page, PageProblems] = weakref.WeakKeyDictionary()


def _record_failure(problems: PageProblems, request: Request) -> None:
    # ERR_ABORTED is the browser cancelling a request itself (the page navigated on while a favicon or image was
    # still loading), not the server failing it.
    if "ERR_ABORTED" not in str(request.failure):
        problems.failed_requests.append(f"{request.failure} {request.url}")


def watch_page(page: Page) -> PageProblems:
    """Start recording a page's problems (the page fixtures do this; call it for pages a test opens itself)."""
    if page in _PROBLEMS:
        return _PROBLEMS[page]
    problems = PageProblems()
    _PROBLEMS[page] = problems

    def on_console(message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        where = message.location.get("url", "")
        if _DOCUMENT_STATUS_ERROR.match(message.text) and where == page.url:
            return  # the error page's own status, which the test checks itself
        target = problems.csp_violations if "Content Security Policy" in message.text else problems.console_errors
        target.append(f"{message.text} ({where})")

    def on_response(response: Response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            problems.failed_requests.append(f"{response.status} {response.request.resource_type} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.page_errors.append(str(error)))
    page.on("requestfailed", lambda request: _record_failure(problems, request))
    page.on("response", on_response)
    return problems


def problems_of(page: Page) -> PageProblems:
    """The problems recorded so far for a watched page."""
    if page not in _PROBLEMS:
        raise AssertionError("this page is not watched: open it with the page fixtures or call watch_page(page)")
    return _PROBLEMS[page]


class PageFactory(Protocol):
    """The `new_page` fixture's type: `await new_page(width, language=..., javascript=..., locale=...)`."""

    async def __call__(
        self,
        width: int = DESKTOP_WIDTH,
        *,
        language: str | None = None,
        javascript: bool = True,
        locale: str = DEFAULT_LOCALE,
    ) -> Page: ...


@dataclass(frozen=True)
class _Layout:
    """What a page's context was opened with, so that a copy of it can be opened."""

    base_url: str
    width: int
    locale: str

    async def open(
        self, browser: Browser, *, javascript: bool, storage_state: StorageState | None = None
    ) -> BrowserContext:
        phone = self.width < 768
        context = await browser.new_context(
            base_url=self.base_url,
            viewport={"width": self.width, "height": _HEIGHTS.get(self.width, 800)},
            device_scale_factor=1,
            is_mobile=phone,
            has_touch=phone,
            locale=self.locale,
            java_script_enabled=javascript,
            storage_state=storage_state,
        )
        context.set_default_timeout(10_000)
        return context


# Pages without JavaScript, where axe cannot run (it needs timers): it checks a scripted copy instead.
_SCRIPTLESS: weakref.WeakKeyDictionary[Page, _Layout] = weakref.WeakKeyDictionary()


class _Pages:
    def __init__(self, browser: Browser, base_url: str) -> None:
        self._browser = browser
        self._base_url = base_url
        self._contexts: list[BrowserContext] = []

    async def __call__(
        self,
        width: int = DESKTOP_WIDTH,
        *,
        language: str | None = None,
        javascript: bool = True,
        locale: str = DEFAULT_LOCALE,
    ) -> Page:
        layout = _Layout(base_url=self._base_url, width=width, locale=locale)
        context = await layout.open(self._browser, javascript=javascript)
        self._contexts.append(context)
        if language is not None:
            await context.add_cookies([{"name": LANGUAGE_COOKIE, "value": language, "url": self._base_url}])
        page = await context.new_page()
        problems = watch_page(page)
        if javascript:

            def report_csp_violation(text: str) -> None:
                problems.csp_violations.append(text)

            await page.expose_function("__vitrineCspViolation", report_csp_violation)
            await page.add_init_script(_CSP_LISTENER)
        else:
            _SCRIPTLESS[page] = layout
        return page

    async def close(self) -> None:
        for context in self._contexts:
            await context.close()


@pytest.fixture
async def new_page(browser: Browser, live_server: str) -> AsyncIterator[PageFactory]:
    """A factory of watched pages, each in its own context on the live server; all closed after the test."""
    pages = _Pages(browser, live_server)
    try:
        yield pages
    finally:
        await pages.close()


@pytest.fixture
async def new_dev_page(browser: Browser, dev_live_server: str) -> AsyncIterator[PageFactory]:
    """Like `new_page`, on the development server (`dev_live_server`), where the demo personas can sign in."""
    pages = _Pages(browser, dev_live_server)
    try:
        yield pages
    finally:
        await pages.close()


@pytest.fixture
async def phone_page(new_page: PageFactory) -> Page:
    """A 375 × 812 touch page, no language cookie (Accept-Language nl-BE)."""
    return await new_page(PHONE_WIDTH)


@pytest.fixture
async def desktop_page(new_page: PageFactory) -> Page:
    """A 1280 × 800 page, no language cookie (Accept-Language nl-BE)."""
    return await new_page(DESKTOP_WIDTH)


# --- the check ---------------------------------------------------------------------------------------------------


def _violation_lines(violations: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for violation in violations:
        lines.append(f"- {violation['id']} [{violation.get('impact')}]: {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"]:
            target = " ".join(json.dumps(part) if not isinstance(part, str) else part for part in node["target"])
            summary = " ".join(str(node.get("failureSummary") or "").split())
            lines.append(f"    {target}: {summary}")
    return lines


async def _axe_violations(page: Page) -> list[dict[str, Any]]:
    try:
        results = await asyncio.wait_for(Axe().run(page), timeout=AXE_TIMEOUT_SECONDS)
    except TimeoutError:
        raise AssertionError(f"axe-core did not finish within {AXE_TIMEOUT_SECONDS} s on {page.url}") from None
    return cast("list[dict[str, Any]]", results.response["violations"])


async def _axe_violations_of_scriptless(page: Page, layout: _Layout) -> tuple[list[dict[str, Any]], list[str]]:
    """axe on a copy of a page whose JavaScript is off: the same URL, cookies and viewport, scripts on."""
    browser = page.context.browser
    assert browser is not None
    context = await layout.open(browser, javascript=True, storage_state=await page.context.storage_state())
    try:
        copy = await context.new_page()
        problems = watch_page(copy)
        await copy.goto(page.url)
        return await _axe_violations(copy), problems.lines()
    finally:
        await context.close()


async def assert_accessible(page: Page, name: str) -> None:
    """Fail on any axe-core violation (any impact), console error, script error or CSP violation of the page.

    A full-page screenshot is always saved to test-artifacts/screenshots/<name>.png. For a page opened with
    `javascript=False`, axe (which needs timers) checks the same URL loaded again with scripts on.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    screenshot = SCREENSHOTS / f"{name}.png"
    try:
        await page.screenshot(path=screenshot, full_page=True)
    except PlaywrightError:
        # Chromium now and then answers a full-page capture with "Unable to capture screenshot" while the machine
        # is busy (seen once in a full suite run; the same test passed alone): the picture is evidence, so once more.
        await page.screenshot(path=screenshot, full_page=True)
    problems = problems_of(page).lines()
    layout = _SCRIPTLESS.get(page)
    if layout is None:
        violations = await _axe_violations(page)
    else:
        violations, copy_problems = await _axe_violations_of_scriptless(page, layout)
        problems.extend(f"{line} (in the scripted copy)" for line in copy_problems)
    if not violations and not problems:
        return
    report = [f"{name} ({page.url}) is not clean; screenshot: {screenshot.relative_to(ROOT)}"]
    if violations:
        report.append(f"axe-core found {len(violations)} violation(s):")
        report.extend(_violation_lines(violations))
    report.extend(problems)
    raise AssertionError("\n".join(report))
