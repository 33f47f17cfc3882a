"""A pytest plugin that fails any test during which a national number shows up in a log record or a request URL.

Vitrine never puts a national number (INSZ/NISS or BIS) in a URL or a log line. Masking at the log formatter is
only a second line of defence, so this watch looks earlier, at what the code hands over:

- every log record, as `logging.Logger.handle` receives it (the message with its arguments, and every string
  passed as `extra`), before any formatter masks it. The root logger is set to INFO for the run, the level the
  app logs at in production, so request lines and INFO records are created and seen;
- every request any Litestar app of the run receives (`Litestar.__call__`): its path, raw path and query string,
  so a number in a link, a redirect or a form's GET target is caught whoever built the app.

A finding is "INSZ-shaped with valid check digits": eleven digits, alone or printed `YY.MM.DD-SSS.CC`, whose
check digits are right (the 1900s or the 2000s form), as `backend.core.identifiers.is_valid_insz` decides. Random
ids rarely pass the check, and digits inside a longer run of letters and digits (a UUID, a hash) are not looked at.

Findings are kept per test and turn that test's teardown into an error naming where the number appeared (the
number itself is never printed). Anything seen outside a test (a session fixture) is reported against the next
test, or fails the run when it comes after the last one. This works per process, so under pytest-xdist each
worker watches its own tests and reports them as test errors, which reach the controller like any other; nothing
is shared between workers. Servers the tests start as subprocesses (the browser tests' `vitrine web`) are outside
the watch: their own log formatter masks numbers, and the in-process tests cover the same code paths.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Generator
from typing import Any

import pytest
from litestar import Litestar

from backend.core.identifiers import is_valid_insz

_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])(\d{2})[.\s]?(\d{2})[.\s]?(\d{2})[-.\s]?(\d{3})[.\s]?(\d{2})(?![0-9A-Za-z])")

_findings: list[str] = []
_original_handle: Callable[[logging.Logger, logging.LogRecord], None] | None = None
_original_call: Callable[..., Awaitable[None]] | None = None
_original_level: int | None = None


def national_numbers_in(text: str) -> int:
    """How many INSZ-shaped numbers with valid check digits the text holds."""
    return sum(1 for match in _CANDIDATE.finditer(text) if is_valid_insz("".join(match.groups())))


def _record_texts(record: logging.LogRecord) -> Generator[str, None, None]:
    try:
        yield record.getMessage()
    except Exception:  # a malformed record is the logging module's problem, not a leak
        yield str(record.msg)
    for key, value in vars(record).items():
        if key not in ("msg", "args") and isinstance(value, str):
            yield value
    if isinstance(record.msg, dict):  # structlog passes its event dict as the message
        yield from (value for value in record.msg.values() if isinstance(value, str))


def _handle(self: logging.Logger, record: logging.LogRecord) -> None:
    if any(national_numbers_in(text) for text in _record_texts(record)):
        _findings.append(f"a log record of logger {record.name!r} ({record.levelname}) holds a national number")
    assert _original_handle is not None
    _original_handle(self, record)


async def _call(self: Litestar, scope: Any, receive: Any, send: Any) -> None:
    if scope.get("type") in ("http", "websocket"):
        raw = scope.get("raw_path") or b""
        query = scope.get("query_string") or b""
        seen = " ".join((str(scope.get("path", "")), raw.decode("latin-1"), query.decode("latin-1").replace("+", " ")))
        if national_numbers_in(seen):
            _findings.append(f"a {scope.get('method', '')} request URL holds a national number")
    assert _original_call is not None
    await _original_call(self, scope, receive, send)


def pytest_configure(config: pytest.Config) -> None:
    """Start watching: wrap the log record hand-off and every app's entry point."""
    global _original_handle, _original_call, _original_level
    _original_handle = logging.Logger.handle
    _original_call = Litestar.__call__
    logging.Logger.handle = _handle  # type: ignore[method-assign]
    Litestar.__call__ = _call  # type: ignore[method-assign]
    root = logging.getLogger()
    _original_level = root.level
    if root.getEffectiveLevel() > logging.INFO:
        root.setLevel(logging.INFO)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop watching."""
    if _original_handle is not None:
        logging.Logger.handle = _original_handle  # type: ignore[method-assign, assignment]
    if _original_call is not None:
        Litestar.__call__ = _original_call  # type: ignore[method-assign, assignment]
    if _original_level is not None:
        logging.getLogger().setLevel(_original_level)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    """Turn the teardown of a test during which a national number appeared into an error saying where."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.when != "teardown" or not _findings:
        return
    found = sorted(set(_findings))
    _findings.clear()
    report.outcome = "failed"
    report.longrepr = "A national number appeared where it must never be (URLs and logs):\n" + "\n".join(
        f"- {finding}" for finding in found
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """What appeared after the last test (session fixtures' teardown) still fails the run."""
    if _findings:
        found = sorted(set(_findings))
        _findings.clear()
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("A national number appeared after the last test:", red=True)
            for finding in found:
                reporter.write_line(f"- {finding}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
