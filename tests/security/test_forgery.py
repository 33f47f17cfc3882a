"""Forged requests change nothing: every state-changing route, taken from the app's route table.

- HTML form routes (every non-GET route outside `/api/`, and outside the probes and schema) refuse a POST
  without a CSRF token, and one with a wrong token, from a signed-in person: 403.
- The JSON API routes that a session cookie authenticates (everything under `/api/` that is not for
  institutions' signed assertions) refuse a request that the browser says comes from another site: 403.
- Bearer-assertion routes need no such defence (no ambient credential) and are listed, so a new one is seen.

"Changes nothing" is measured with PostgreSQL's own per-transaction counters (`pg_stat_xact_user_tables`):
the test runs in one transaction, so any row inserted, updated or deleted by the refused request shows there.
"""

from __future__ import annotations

import re
from typing import Any

import asyncpg
import httpx
from litestar import Litestar
from litestar.routes import HTTPRoute

from backend.app import CSRF_EXEMPT
from backend.core.auth.guards import requires_institution_credentials
from backend.core.settings import Settings
from tests.security.calling import csrf_pair, fill_path
from tests.security.world import build_world

SAFE = {"GET", "HEAD", "OPTIONS"}
# Open to anyone, no credential at all: nothing to forge.
PUBLIC_API = {"POST /api/v1/access-log/receipts/verify"}


def _state_changing(app: Litestar) -> list[tuple[str, str, bool]]:
    """(method, path, authenticated by a bearer assertion) for every non-GET route."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for method, handler in route.route_handler_map.items():
            if method in SAFE:
                continue
            route_handler = handler[0] if isinstance(handler, tuple) else handler
            bearer = requires_institution_credentials in route_handler.resolve_guards()
            found.append((method, route.path, bearer))
    return sorted(found)


async def _writes(conn: asyncpg.Connection) -> int:
    """Rows inserted, updated or deleted so far in this transaction, in every table."""
    value = await conn.fetchval(
        "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_user_tables"
    )
    return int(value)


def test_every_state_changing_route_is_either_a_form_a_cookie_api_or_an_assertion_api(app: Litestar) -> None:
    routes = _state_changing(app)
    exempt = [re.compile(pattern) for pattern in CSRF_EXEMPT]
    for method, path, bearer in routes:
        under_api = any(pattern.match(path) for pattern in exempt)
        # Only machine routes may skip the CSRF token: the API and nothing else.
        assert under_api or not bearer, f"{method} {path}: a bearer route outside the CSRF exemption"
        assert under_api == path.startswith("/api/"), f"{method} {path}: CSRF exemption and API prefix disagree"
    assert len(routes) > 60


async def test_forms_refuse_a_missing_or_wrong_csrf_token_and_change_nothing(
    app: Litestar, client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings, redis: Any
) -> None:
    world = await build_world(conn, settings, app.state, redis)
    cookie, token = await csrf_pair(client)
    forms = [(m, p) for m, p, _ in _state_changing(app) if not p.startswith("/api/")]
    assert len(forms) > 30
    session = world.cookies("citizen", settings)
    for method, path in forms:
        url = fill_path(path, world, {})
        for attempt in ("missing", "wrong"):
            client.cookies.clear()
            for name, value in session.items():
                client.cookies.set(name, value)
            client.cookies.set("vitrine_csrf", cookie)
            data = {} if attempt == "missing" else {"_csrf_token": token[:-4] + "AAAA"}
            before = await _writes(conn)
            response = await client.request(method, url, data=data)
            assert response.status_code == 403, f"{method} {path} with a {attempt} token: {response.status_code}"
            assert await _writes(conn) == before, f"{method} {path} with a {attempt} token wrote to the database"


async def test_cookie_apis_refuse_requests_from_another_site_and_change_nothing(
    app: Litestar, client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings, redis: Any
) -> None:
    world = await build_world(conn, settings, app.state, redis)
    cookie_apis = [(m, p) for m, p, bearer in _state_changing(app) if p.startswith("/api/") and not bearer]
    cookie_apis = [(m, p) for m, p in cookie_apis if f"{m} {p}" not in PUBLIC_API]
    assert len(cookie_apis) > 15
    forged = [
        {"origin": "https://evil.example"},
        {"origin": "null"},
        {"sec-fetch-site": "cross-site", "origin": "https://evil.example"},
        {"sec-fetch-site": "same-site"},
    ]
    for method, path in cookie_apis:
        url = fill_path(path, world, {})
        for headers in forged:
            client.cookies.clear()
            for name, value in world.cookies("citizen", settings).items():
                client.cookies.set(name, value)
            before = await _writes(conn)
            response = await client.request(method, url, headers=headers, json={})
            assert response.status_code == 403, f"{method} {path} with {headers}: {response.status_code}"
            assert response.json()["type"] == "urn:vitrine:problem:cross-site"
            assert await _writes(conn) == before, f"{method} {path} with {headers} wrote to the database"


async def test_the_site_s_own_requests_and_other_clients_still_pass(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings, redis: Any, app: Litestar
) -> None:
    world = await build_world(conn, settings, app.state, redis)
    for name, value in world.cookies("citizen", settings).items():
        client.cookies.set(name, value)
    url = fill_path("/api/v1/me/notifications/{notification_id:uuid}/read", world, {})
    before = await _writes(conn)
    assert (await client.post(url, headers={"origin": "http://testserver.local"})).status_code == 200
    assert await _writes(conn) > before, "the counters see a request's writes (so the refusals above wrote nothing)"
    for headers in (
        {},  # a script or tool: no browser headers at all
        {"sec-fetch-site": "same-origin", "origin": "http://testserver.local"},
        {"origin": "http://testserver.local"},  # the address the request was sent to
        {"origin": settings.base_url},  # the public base URL (behind a proxy)
    ):
        response = await client.post(url, headers=headers)
        assert response.status_code == 200, f"{headers}: {response.status_code} {response.text[:200]}"
    anonymous = await client.post(url, headers={"origin": "https://evil.example", "cookie": ""})
    assert anonymous.status_code in (401, 403)
