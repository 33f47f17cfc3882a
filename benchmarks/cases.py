"""The registry of benchmark cases.

A case is one request sent to Vitrine and, side by side, to the bare baseline app. Adding one takes a bare
handler decorated with :func:`case` in a module listed in ``CASE_MODULES``::

    @case(name="healthz", path="/healthz", kind="json", description="liveness probe")
    async def bare_healthz(request: Request[Any, Any, Any], bare: Bare) -> Response[bytes]:
        return bare.response()

The bare handler does the same database or Redis work as Vitrine's handler and returns the bytes Vitrine
returned (fetched once from Vitrine before the run, in ``bare.body``), so the ratio between the two shows what
Vitrine's layers cost: request id, security headers, logging, session lookup, CSRF, templates.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg
from litestar import Request, Response
from redis.asyncio import Redis

# Modules whose import registers cases, in report order.
CASE_MODULES = ("benchmarks.http_pages", "benchmarks.access_log_pages", "benchmarks.records_pages")

Kind = Literal["json", "html"]
# Where a case's data lives: a fresh database made for the run (and dropped after it), or the national-scale
# database (a million people, twenty million access events), generated once and kept (benchmarks/scale_data.py).
Database = Literal["fresh", "scale"]

# What a browser sends on every page request (the Accept-Language header drives Vitrine's language choice).
BROWSER_HEADERS: Mapping[str, str] = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "nl-BE,nl;q=0.9,fr;q=0.8,en;q=0.7",
}


@dataclass
class BareResources:
    """The baseline server's pools, opened by its lifespan and shared by every case."""

    pool: asyncpg.Pool | None = None
    redis: Redis | None = None


@dataclass(frozen=True)
class Bare:
    """What a bare handler gets besides the request: pools, Vitrine's answer for this case, the case's params."""

    resources: BareResources
    body: bytes
    media_type: str
    params: Mapping[str, str]

    @property
    def pool(self) -> asyncpg.Pool:
        """The baseline's PostgreSQL pool."""
        assert self.resources.pool is not None
        return self.resources.pool

    @property
    def redis(self) -> Redis:
        """The baseline's Redis client."""
        assert self.resources.redis is not None
        return self.resources.redis

    def connection(self) -> AbstractAsyncContextManager[asyncpg.Connection]:
        """Borrow a pool connection (as Vitrine's connection source does)."""
        return self.pool.acquire()  # type: ignore[return-value]

    def response(self, status_code: int = 200) -> Response[bytes]:
        """The bytes Vitrine answered, with its content type."""
        return Response(content=self.body, media_type=self.media_type, status_code=status_code)


@dataclass(frozen=True)
class CaseContext:
    """What a case's header factory gets: the params its setup stored, and the Vitrine server's secret key."""

    params: Mapping[str, str]
    secret_key: str


BareHandler = Callable[[Request[Any, Any, Any], Bare], Awaitable[Response[bytes]]]
HeaderFactory = Callable[[CaseContext], Mapping[str, str]]
# Runs once in the freshly migrated benchmark database, inside a transaction; returns the case's params.
Prepare = Callable[[asyncpg.Connection, str], Awaitable[Mapping[str, str]]]


def _no_headers(_: CaseContext) -> Mapping[str, str]:
    return {}


@dataclass(frozen=True)
class Case:
    """One benchmarked request."""

    name: str
    path: str
    kind: Kind
    description: str
    baseline: BareHandler
    method: str = "GET"
    # Called before every run (so tokens are always fresh); a "Cookie" header is merged with primed cookies.
    headers: HeaderFactory = _no_headers
    prepare: Prepare | None = None
    body: bytes = b""
    expect_status: int = 200
    # Text Vitrine's answer must contain (checked once before measuring), so that no case measures an error page.
    expect_text: str | None = None
    # Send back the cookies Vitrine sets on a first visit (the CSRF cookie), as a browser would.
    browser_cookies: bool = True
    database: Database = "fresh"


CASES: dict[str, Case] = {}


def case(
    *,
    name: str,
    path: str,
    kind: Kind,
    description: str,
    method: str = "GET",
    headers: HeaderFactory = _no_headers,
    prepare: Prepare | None = None,
    body: bytes = b"",
    expect_status: int = 200,
    expect_text: str | None = None,
    browser_cookies: bool = True,
    database: Database = "fresh",
) -> Callable[[BareHandler], BareHandler]:
    """Register a case whose baseline is the decorated bare handler."""

    def register(handler: BareHandler) -> BareHandler:
        if name in CASES:
            raise ValueError(f"benchmark case {name!r} is registered twice")
        CASES[name] = Case(
            name=name,
            path=path,
            kind=kind,
            description=description,
            baseline=handler,
            method=method,
            headers=headers,
            prepare=prepare,
            body=body,
            expect_status=expect_status,
            expect_text=expect_text,
            browser_cookies=browser_cookies,
            database=database,
        )
        return handler

    return register


def load_cases() -> dict[str, Case]:
    """Every registered case, in registration order."""
    for module in CASE_MODULES:
        importlib.import_module(module)
    return dict(CASES)


def select_cases(only: list[str] | None) -> list[Case]:
    """The cases named (all when none are), refusing unknown names."""
    cases = load_cases()
    if not only:
        return list(cases.values())
    unknown = [name for name in only if name not in cases]
    if unknown:
        raise ValueError(f"unknown case(s): {', '.join(unknown)} (known: {', '.join(cases)})")
    return [cases[name] for name in only]
