"""The citizen's access log at national scale, as JSON and as the HTML page, against a bare handler running the
same query.

These cases run on the national-scale database (benchmarks/scale_data.py: a million people, twenty million
chained access events over twelve monthly partitions). The signed-in citizen is a generated one with a
realistic, busy log (150 to 250 events in the year) and some records. The bare handler runs the same session-row
SELECT and the same single log query Vitrine runs, then returns the bytes Vitrine answered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from uuid import UUID

import asyncpg
from litestar import Request, Response

from backend.access_log.view_queries import select_log_rows
from backend.core.auth import sessions
from benchmarks.cases import Bare, CaseContext, case
from benchmarks.http_pages import _session_cookie

PAGE: Final = 50
# A busy citizen's year: about 1 % of the generated people have a log this long.
EVENTS_FROM, EVENTS_TO = 150, 250


async def signed_in_scale_citizen(conn: asyncpg.Connection, _secret_key: str) -> Mapping[str, str]:
    """A generated citizen with a busy log and some records, with a new live session.

    The same person every run (the first such citizen in id order), so runs compare like with like.
    """
    person_id = await conn.fetchval(
        """
        SELECT h.citizen_id FROM access_log_heads AS h
        WHERE h.last_seq BETWEEN $1 AND $2 AND EXISTS (SELECT FROM records AS r WHERE r.citizen_id = h.citizen_id)
        ORDER BY h.citizen_id LIMIT 1
        """,
        EVENTS_FROM,
        EVENTS_TO,
    )
    if person_id is None:
        raise RuntimeError("the scale database has no citizen with a busy log: generate it again")
    session_id = await sessions.insert_session(conn, person_id=person_id, method="demo")
    return {"person_id": str(person_id), "session_id": str(session_id)}


def scale_session_cookie(context: CaseContext) -> Mapping[str, str]:
    """A browser's headers with a freshly issued token for the scale citizen."""
    return _session_cookie(context)


async def _bare_log(bare: Bare) -> Response[bytes]:
    async with bare.connection() as conn:
        session = await sessions.select_live_session(
            conn, UUID(bare.params["session_id"]), UUID(bare.params["person_id"])
        )
        if session is None:
            return Response(content=b"", status_code=401)
        # One row more than shown, exactly as Vitrine asks (it tells whether there is an older page).
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
            limit=PAGE + 1,
        )
    return bare.response()


@case(
    name="access_log_json",
    path="/api/v1/me/access-events",
    kind="json",
    description=f"the citizen's access log as JSON: newest {PAGE} of a busy year's log, 20 M events in the table",
    headers=scale_session_cookie,
    prepare=signed_in_scale_citizen,
    expect_text='"items"',
    database="scale",
)
async def bare_access_log_json(request: Request[Any, Any, Any], bare: Bare) -> Response[bytes]:
    """Session row and the same log query, then Vitrine's JSON."""
    return await _bare_log(bare)


@case(
    name="access_log_html",
    path="/access-log",
    kind="html",
    description=f"the citizen's access-log page: newest {PAGE} entries in plain language, grouped by day",
    headers=scale_session_cookie,
    prepare=signed_in_scale_citizen,
    expect_text="<html",
    database="scale",
)
async def bare_access_log_html(request: Request[Any, Any, Any], bare: Bare) -> Response[bytes]:
    """Session row and the same log query, then Vitrine's page, pre-rendered."""
    return await _bare_log(bare)
