"""The first cases: operations probes, the home page, and a signed-in page.

Each bare handler does the database and Redis work of Vitrine's handler and nothing else, then returns the
bytes Vitrine answered for the same request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg
from litestar import Request, Response

from backend.core.auth import sessions
from backend.core.identifiers import make_insz
from backend.core.identity.schemas import PersonCreate
from backend.core.identity.service import register_person
from benchmarks.cases import BROWSER_HEADERS, Bare, CaseContext, case

BENCH_GIVEN_NAME = "Benchmark"
BENCH_FAMILY_NAME = "Person"
BENCH_INSZ = make_insz(date(1984, 5, 17), 123)


@case(name="healthz", path="/healthz", kind="json", description="liveness probe: no I/O, a small JSON answer")
async def bare_healthz(request: Request[Any, Any, Any], bare: Bare) -> Response[bytes]:
    """The same JSON, straight away."""
    return bare.response()


@case(
    name="readyz",
    path="/readyz",
    kind="json",
    description="readiness probe: `SELECT 1` on PostgreSQL and PING on Redis, concurrently",
    expect_text='"status":"ready"',
)
async def bare_readyz(request: Request[Any, Any, Any], bare: Bare) -> Response[bytes]:
    """The same two round trips, then Vitrine's JSON."""

    async def database() -> None:
        async with bare.connection() as conn:
            await conn.fetchval("SELECT 1")

    await asyncio.gather(database(), bare.redis.ping())
    return bare.response()


def _browser(_: CaseContext) -> Mapping[str, str]:
    return BROWSER_HEADERS


@case(
    name="home",
    path="/",
    kind="html",
    description="home page: a Jinja2 template in the layout (about 4 KB), visitor with a CSRF cookie",
    headers=_browser,
    expect_text="<html",
)
async def bare_home(request: Request[Any, Any, Any], bare: Bare) -> Response[bytes]:
    """The same page, pre-rendered."""
    return bare.response()


async def _signed_in_person(conn: asyncpg.Connection, _secret_key: str) -> Mapping[str, str]:
    """A person with a live session in the benchmark database."""
    person = await register_person(
        conn,
        PersonCreate(
            insz=BENCH_INSZ,
            given_name=BENCH_GIVEN_NAME,
            family_name=BENCH_FAMILY_NAME,
        ),
    )
    session_id = await sessions.insert_session(conn, person_id=person.person_id, method="demo")
    return {"person_id": str(person.person_id), "session_id": str(session_id)}


def _session_cookie(context: CaseContext) -> Mapping[str, str]:
    """A freshly issued token (so Vitrine never needs to renew it during a run) and a browser's headers."""
    token = sessions.issue_token(
        context.secret_key,
        session_id=UUID(context.params["session_id"]),
        person_id=UUID(context.params["person_id"]),
    )
    return {**BROWSER_HEADERS, "Cookie": f"{sessions.cookie_name(secure=False)}={token}"}


@case(
    name="my",
    path="/my",
    kind="html",
    description="signed-in overview: session cookie, session and person lookups, a template",
    headers=_session_cookie,
    prepare=_signed_in_person,
    expect_text=f"{BENCH_GIVEN_NAME} {BENCH_FAMILY_NAME}",
)
async def bare_my(request: Request[Any, Any, Any], bare: Bare) -> Response[bytes]:
    """The same session-row SELECT Vitrine's session middleware starts with, then the same page, pre-rendered."""
    async with bare.connection() as conn:
        row = await sessions.select_live_session(conn, UUID(bare.params["session_id"]), UUID(bare.params["person_id"]))
    if row is None:
        return Response(content=b"", status_code=401)
    return bare.response()
