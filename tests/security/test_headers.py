"""Security headers on every answer: every route of the app (walked from its route table), unknown paths (404),
wrong methods (405), faults (500) and static files; HSTS exactly when the site is served over https; no answer
but the public files may be kept by a cache."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import uuid4

import asyncpg
import httpx
import pytest
from arq.connections import ArqRedis
from litestar import Litestar

from backend.app import create_app
from backend.core.settings import Settings, load_settings
from frontend.assets import static_url
from tests.conftest import in_process_client, source_of
from tests.security.test_authorisation_matrix import app_routes


def assert_security_headers(response: httpx.Response, *, https: bool, where: str) -> None:
    """The headers every answer carries, whatever its status."""
    headers = response.headers
    policy = {
        directive.split(" ", 1)[0]: directive.split(" ", 1)[1:]
        for directive in headers["content-security-policy"].split("; ")
    }
    script = " ".join(policy.get("script-src", policy.get("default-src", [""])))
    assert "'unsafe-inline'" not in script, where
    assert "'unsafe-eval'" not in script, where
    assert policy.get("frame-ancestors") == ["'none'"], where
    assert policy.get("object-src") == ["'none'"], where
    assert headers["x-content-type-options"] == "nosniff", where
    assert headers["referrer-policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin"), where
    assert "camera=()" in headers["permissions-policy"], where
    assert "geolocation=()" in headers["permissions-policy"], where
    assert headers["x-frame-options"] == "DENY", where
    if https:
        assert headers["strict-transport-security"].startswith("max-age="), where
        assert int(headers["strict-transport-security"].split("=")[1].split(";")[0]) >= 31536000, where
    else:
        assert "strict-transport-security" not in headers, where


_PARAMETER = re.compile(r"\{(\w+):(\w+)\}")


def any_path(path: str) -> str:
    """The path with every parameter filled: the headers must not depend on whether the thing exists."""

    def value(match: re.Match[str]) -> str:
        name, kind = match.groups()
        if name == "name":
            return static_url("css/app.css").removeprefix("/static/")
        return {"uuid": str(uuid4()), "int": "1"}.get(kind, "dimona")

    return _PARAMETER.sub(value, path)


# Files the same for everyone, which a cache may keep; every other answer may hold personal data.
CACHEABLE = {"GET /static/{name:path}", "GET /.well-known/vitrine-keys.json", "GET /sw.js"}


async def _every_route(client: httpx.AsyncClient, app: Litestar, *, https: bool) -> int:
    checked = 0
    for key in app_routes(app):
        method, path = key.split(" ", 1)
        response = await client.request(method, any_path(path))
        where = f"{key} ({response.status_code})"
        assert_security_headers(response, https=https, where=where)
        if key not in CACHEABLE:
            assert "no-store" in response.headers["cache-control"], where
        checked += 1
    return checked


async def test_every_route_answers_with_the_security_headers(app: Litestar, client: httpx.AsyncClient) -> None:
    assert await _every_route(client, app, https=False) > 100


async def test_not_found_wrong_method_and_static_files_carry_them(client: httpx.AsyncClient) -> None:
    for response, where in [
        (await client.get("/no/such/page"), "404 page"),
        (await client.get("/api/v1/no-such-thing"), "404 api"),
        (await client.delete("/"), "405"),
        (await client.post("/healthz"), "405 probe"),
        (await client.get(static_url("css/app.css")), "static file"),
        (await client.get("/static/css/missing.0123456789.css"), "missing static file"),
    ]:
        assert_security_headers(response, https=False, where=where)
    assert (await client.delete("/")).status_code == 405


async def test_a_fault_carries_them(settings: Settings, redis: ArqRedis) -> None:
    @asynccontextmanager
    async def unavailable() -> AsyncIterator[asyncpg.Connection]:
        raise RuntimeError("the database is away")
        yield  # pragma: no cover

    app = create_app(settings, connection_source=unavailable, redis=redis, configure_logs=False)
    async with in_process_client(app) as client:
        response = await client.get("/api/v1/institution/whoami", headers={"authorization": "Bearer x.y.z"})
        assert response.status_code == 500
        assert_security_headers(response, https=False, where="500")
        assert "database" not in response.text


@pytest.fixture
async def https_app(
    settings: Settings, conn: asyncpg.Connection, redis: ArqRedis
) -> AsyncIterator[tuple[Litestar, httpx.AsyncClient]]:
    """The app as served over https (its base URL says so), with a client that calls it in process."""
    https = load_settings(
        {
            "VITRINE_ENV": "test",
            "BASE_URL": "https://vitrine.example",
            "DATABASE_URL": settings.database_url or "",
            "REDIS_URL": settings.redis_url or "",
        }
    )
    app = create_app(https, connection_source=source_of(conn), redis=redis, configure_logs=False)
    async with in_process_client(app) as client:
        yield app, client


async def test_over_https_every_answer_also_carries_hsts(https_app: tuple[Litestar, httpx.AsyncClient]) -> None:
    app, client = https_app
    assert await _every_route(client, app, https=True) > 100
    for path in ("/no/such/page", static_url("css/app.css")):
        assert_security_headers(await client.get(path), https=True, where=path)
