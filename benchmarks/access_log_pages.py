"""The citizen's access log, as JSON and as the HTML page, against a bare handler running the same query.

The benchmark database holds a signed-in citizen with a few hundred events among many other citizens' events,
so the query works on a table that is not trivially small. The bare handler runs the session-row SELECT and the
same single log query Vitrine runs, then returns the bytes Vitrine answered.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
from litestar import Request, Response

from backend.access_log.bulk import NewAccess, record_accesses
from backend.access_log.schemas import Accessor
from backend.access_log.view_queries import select_log_rows
from backend.core.auth import sessions
from backend.core.identity.queries import select_person_by_insz
from backend.core.identity.scale import generate_people
from benchmarks.cases import Bare, CaseContext, case
from benchmarks.http_pages import BENCH_INSZ, _session_cookie, _signed_in_person

OWN_EVENTS = 300
OTHER_CITIZENS = 20_000
OTHER_EVENTS = 100_000
PAGE = 50


async def _citizen_with_a_log(conn: asyncpg.Connection, secret_key: str) -> Mapping[str, str]:
    """The benchmark person (shared with the `my` case), with OWN_EVENTS events among OTHER_EVENTS of others.

    Both access-log cases call this; the second finds the person and the events in place and only opens a session.
    """
    existing = await select_person_by_insz(conn, BENCH_INSZ)
    if existing is None:
        params = await _signed_in_person(conn, secret_key)
    else:
        session_id = await sessions.insert_session(conn, person_id=existing.person_id, method="demo")
        params = {"person_id": str(existing.person_id), "session_id": str(session_id)}
    person_id = UUID(params["person_id"])
    if await conn.fetchval("SELECT count(*) FROM access_log_heads WHERE citizen_id = $1", person_id):
        return params
    await generate_people(conn, citizens=OTHER_CITIZENS)
    rows = await conn.fetch("SELECT person_id FROM people WHERE person_id <> $1", person_id)
    others = [row["person_id"] for row in rows]
    rng = random.Random(7)
    start = datetime(2026, 1, 5, 8, tzinfo=UTC)
    onem = Accessor(kind="institution", client_id="onem-demo")
    accesses = [
        NewAccess(
            citizen_id=person_id if index < OWN_EVENTS else rng.choice(others),
            accessor=onem,
            action="read",
            channel="api",
            categories=(rng.choice(("dimona", "dmfa", "drs")),),
            purpose_code="unemployment_benefit",
            occurred_at=start + timedelta(minutes=index),
        )
        for index in range(OWN_EVENTS + OTHER_EVENTS)
    ]
    for first in range(0, len(accesses), 10_000):
        await record_accesses(conn, accesses[first : first + 10_000])
    return params


async def _bare_log(bare: Bare) -> Response[bytes]:
    async with bare.connection() as conn:
        session = await sessions.select_live_session(
            conn, UUID(bare.params["session_id"]), UUID(bare.params["person_id"])
        )
        if session is None:
            return Response(content=b"", status_code=401)
        await select_log_rows(
            conn,
            session.person_id,
            before_seq=None,
            org_id=None,
            category=None,
            period_from=None,
            period_to=None,
            outcome=None,
            actor_kind=None,
            limit=PAGE,
        )
    return bare.response()


def _headers(context: CaseContext) -> Mapping[str, str]:
    return _session_cookie(context)


@case(
    name="access_log_json",
    path="/api/v1/me/access-events",
    kind="json",
    description=f"the citizen's access log as JSON: newest {PAGE} of {OWN_EVENTS} events among {OTHER_EVENTS:,}",
    headers=_headers,
    prepare=_citizen_with_a_log,
    expect_text='"items"',
)
async def bare_access_log_json(request: Request[Any, Any, Any], bare: Bare) -> Response[bytes]:
    """Session row and the same log query, then Vitrine's JSON."""
    return await _bare_log(bare)


@case(
    name="access_log_html",
    path="/access-log",
    kind="html",
    description=f"the citizen's access-log page: newest {PAGE} entries in plain language, grouped by day",
    headers=_headers,
    prepare=_citizen_with_a_log,
    expect_text="<html",
)
async def bare_access_log_html(request: Request[Any, Any, Any], bare: Bare) -> Response[bytes]:
    """Session row and the same log query, then Vitrine's page, pre-rendered."""
    return await _bare_log(bare)
