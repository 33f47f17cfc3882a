"""Calling one route of the matrix as one context, and classifying the answer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx

from backend.core.settings import Settings
from tests.security.world import World

_PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")
_REFUSED = {401, 403, 404}


@dataclass(frozen=True)
class Answer:
    """What came back: the classified outcome, and the response itself."""

    outcome: str
    response: httpx.Response

    @property
    def refused(self) -> bool:
        """True for any refusal, including the redirect to the sign-in page."""
        return self.outcome.split("+")[0] in {"auth", "403", "404"}


def fill_path(path: str, world: World, names: dict[str, str]) -> str:
    """The path with each parameter replaced by the subject's thing of that name (or the one named instead)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        key = names.get(name, name)
        if key not in world.ids:
            raise KeyError(f"no value for path parameter {name!r} of {path}: add one to tests/security/world.py")
        return str(world.ids[key])

    return _PARAMETER.sub(value, path)


def classify(response: httpx.Response) -> str:
    """`ok`, `auth`, `403` or `404` (with anything else kept as its number, so a table mismatch shows it)."""
    status = response.status_code
    location = response.headers.get("location", "")
    if status == 401 or (status in (302, 303) and location.startswith("/sign-in")):
        return "auth"
    if status in _REFUSED:
        return str(status)
    if status < 300 or status in (302, 303) or status in (400, 409, 422):
        return "ok"
    return str(status)


async def call(
    client: httpx.AsyncClient,
    conn: asyncpg.Connection,
    settings: Settings,
    world: World,
    *,
    context: str,
    method: str,
    url: str,
    body: dict[str, Any],
    csrf: tuple[str, str],
) -> Answer:
    """Send the request as `context` inside a savepoint that is rolled back, noting a new denied event."""
    cookie_value, token = csrf
    client.cookies.clear()
    client.cookies.set("vitrine_csrf", cookie_value)
    for name, value in world.cookies(context, settings).items():
        client.cookies.set(name, value)
    headers = {"x-csrftoken": token, "accept": "text/html", **world.headers(context)}
    if url.startswith("/api/"):
        headers["accept"] = "application/json"
    savepoint = conn.transaction()
    await savepoint.start()
    try:
        before = await world.denied_events(conn)
        response = await client.request(method, url, headers=headers, **body)
        logged = await world.denied_events(conn) > before
    finally:
        await savepoint.rollback()
    outcome = classify(response)
    return Answer(outcome + ("+log" if logged else ""), response)


async def csrf_pair(client: httpx.AsyncClient) -> tuple[str, str]:
    """A CSRF cookie and its matching form token, from an anonymous page load."""
    from tests.factories import csrf_token

    client.cookies.clear()
    token = await csrf_token(client, "/")
    cookie = client.cookies.get("vitrine_csrf")
    assert cookie is not None
    return cookie, token
