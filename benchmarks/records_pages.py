"""What is held about me, at national scale: the records overview as JSON against a bare handler.

Runs on the national-scale database (a million people, a few million Dimona declarations). The bare handler
runs the same session-row SELECT and the same per-category summary statement of the person's records (which also
reads the reference data version, so Vitrine reads the institutions and purposes only when they change), then
returns the bytes Vitrine answered.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response

from backend.core.auth import sessions
from backend.records.citizen_queries import select_category_summaries
from benchmarks.access_log_pages import scale_session_cookie, signed_in_scale_citizen
from benchmarks.cases import Bare, case


@case(
    name="records_overview",
    path="/api/v1/me/records",
    kind="json",
    description="what is held about me: a card per category with the person's counts, 1 M people in the table",
    headers=scale_session_cookie,
    prepare=signed_in_scale_citizen,
    expect_text='"categories"',
    database="scale",
)
async def bare_records_overview(request: Request[Any, Any, Any], bare: Bare) -> Response[bytes]:
    """Session row and the same summary query, then Vitrine's JSON."""
    async with bare.connection() as conn:
        session = await sessions.select_live_session(
            conn, UUID(bare.params["session_id"]), UUID(bare.params["person_id"])
        )
        if session is None:
            return Response(content=b"", status_code=401)
        await select_category_summaries(conn, session.person_id)
    return bare.response()
