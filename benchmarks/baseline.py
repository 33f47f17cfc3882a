"""The bare baseline: a Litestar app with one handler per case and nothing else, served like Vitrine.

The uvicorn options of `vitrine web` (`backend.cli.uvicorn_options`: workers, proxy headers, no server header, no
log config), same pool settings through the same `create_pool`, but no middleware, no templates, no logging, no
OpenAPI. Run by the harness as `python -m benchmarks.baseline` with VITRINE_PORT, DATABASE_URL, REDIS_URL and the
fixtures file.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Response, get, route
from litestar.enums import HttpMethod
from litestar.handlers import HTTPRouteHandler
from redis.asyncio import Redis

from backend.core.db import create_pool
from backend.core.settings import Settings, load_settings
from benchmarks.cases import Bare, BareResources, Case, load_cases

FIXTURES_VARIABLE = "VITRINE_BENCH_FIXTURES"
READY_PATH = "/__bench_ready"


@dataclass(frozen=True)
class Fixture:
    """Vitrine's answer for one case (what the bare handler returns) and the case's params."""

    body: bytes
    media_type: str
    params: Mapping[str, str]


def write_fixtures(path: Path, fixtures: Mapping[str, Fixture]) -> None:
    """Store fixtures for the baseline process."""
    data = {
        name: {
            "body": base64.b64encode(fixture.body).decode("ascii"),
            "media_type": fixture.media_type,
            "params": dict(fixture.params),
        }
        for name, fixture in fixtures.items()
    }
    path.write_text(json.dumps(data), encoding="utf-8")


def read_fixtures(path: Path) -> dict[str, Fixture]:
    """Read what `write_fixtures` stored."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return {
        name: Fixture(
            body=base64.b64decode(item["body"]),
            media_type=str(item["media_type"]),
            params={str(key): str(value) for key, value in item["params"].items()},
        )
        for name, item in data.items()
    }


@get(READY_PATH, sync_to_thread=False, include_in_schema=False)
def ready() -> Response[bytes]:
    """For the harness to know the server is up."""
    return Response(content=b"ok", media_type="text/plain")


def _route(case: Case, bare: Bare) -> HTTPRouteHandler:
    handler = case.baseline

    async def endpoint(request: Request[Any, Any, Any]) -> Response[bytes]:
        return await handler(request, bare)

    endpoint.__name__ = f"bare_{case.name}"
    return route(case.path, http_method=[HttpMethod(case.method)], name=f"bare-{case.name}", include_in_schema=False)(
        endpoint
    )


def create_baseline_app(settings: Settings, fixtures: Mapping[str, Fixture]) -> Litestar:
    """One route per case that has a fixture; pools opened at start-up like Vitrine's."""
    assert settings.database_url is not None
    assert settings.redis_url is not None
    database_url, redis_url = settings.database_url, settings.redis_url
    resources = BareResources()

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        resources.pool = await create_pool(database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max)
        resources.redis = Redis.from_url(redis_url)
        try:
            yield
        finally:
            await resources.redis.aclose()
            await resources.pool.close()

    cases = load_cases()
    handlers: list[HTTPRouteHandler] = [ready]
    for name, fixture in fixtures.items():
        bare = Bare(resources=resources, body=fixture.body, media_type=fixture.media_type, params=fixture.params)
        handlers.append(_route(cases[name], bare))
    return Litestar(
        route_handlers=handlers,
        lifespan=[lifespan],
        openapi_config=None,
        logging_config=None,
        debug=False,
    )


def app_factory() -> Litestar:
    """Uvicorn's factory."""
    return create_baseline_app(load_settings(), read_fixtures(Path(os.environ[FIXTURES_VARIABLE])))


def main() -> int:
    """Serve the baseline with the uvicorn options `vitrine web` uses."""
    import uvicorn

    from backend.cli import uvicorn_options

    uvicorn.run("benchmarks.baseline:app_factory", **uvicorn_options(load_settings()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
