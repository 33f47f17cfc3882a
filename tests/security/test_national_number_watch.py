"""The watch of tests/national_number_watch.py sees a national number wherever it may slip out: a log message,
a log record's extra fields, a request's path or query string."""

from __future__ import annotations

import logging

import httpx
import pytest

from tests import national_number_watch as watch
from tests.factories import new_insz


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("85073003328", 1),
        ("born 85.07.30-033.28 here", 1),
        ("/people/17073003384/records", 1),
        ("85 07 30 033 28", 1),
        ("85073003329", 0),  # wrong check digits
        ("850730033281", 0),  # twelve digits
        ("a85073003328b", 0),  # inside a hex id
        ("request 3f2a85073003328c91d0", 0),
        ("2026-12-02T05:48:11Z", 0),
    ],
)
def test_what_counts_as_a_national_number(text: str, found: int) -> None:
    assert watch.national_numbers_in(text) == found


def _taken() -> list[str]:
    """What the watch found so far, cleared so this test is not failed by the numbers it planted."""
    found = list(watch._findings)
    watch._findings.clear()
    return found


def test_a_number_in_a_log_message_or_extra_field_is_found() -> None:
    logger = logging.getLogger("vitrine.test-watch")
    # A leak planted on purpose (a generated number, nobody's) to show the watch catches it; `_taken` clears it.
    insz = new_insz()
    logger.info("looked up %s", insz)
    assert _taken() == ["a log record of logger 'vitrine.test-watch' (INFO) holds a national number"]
    logger.warning("request", extra={"path": f"/people/{insz}"})
    assert len(_taken()) == 1
    logger.info("request", extra={"path": "/people/0f2c7a3e-1111-4d5e-9a0b-1234567890ab"})
    assert _taken() == [], "an internal id is not a national number"


async def test_a_number_in_a_request_url_is_found(client: httpx.AsyncClient) -> None:
    insz = new_insz()
    await client.get(f"/my-data?insz={insz}")
    assert "a GET request URL holds a national number" in _taken()
    await client.get(f"/people/{insz[:2]}.{insz[2:4]}.{insz[4:6]}-{insz[6:9]}.{insz[9:]}")
    assert "a GET request URL holds a national number" in _taken()
    await client.get("/my-data")
    assert _taken() == []
