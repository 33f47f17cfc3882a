"""Citizen API for contesting an access: open a case in one call, and follow one's cases.

The JSON twins of the "I don't recognise this / why?" button on the access log page. Opening a case is the
citizen's own act about their own log, so nothing here writes to the access log.
"""

from __future__ import annotations

from typing import Annotated, Any, Final
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, PathParameter
from litestar.status_codes import HTTP_201_CREATED

from backend.access_log import contest_queries
from backend.access_log.citizen_routes import own_log_subject
from backend.access_log.contest_schemas import ContestCreate, ContestOut
from backend.access_log.contest_views import contest_out
from backend.access_log.contests import open_contest, own_contest
from backend.access_log.receipt_routes import service_key_from_state
from backend.core.auth.guards import requires_sign_in
from backend.core.errors import decode_json_body, problem_responses
from backend.core.openapi_bodies import json_body_operation

MAX_CONTESTS_LISTED: Final = 100


def _contest_request(body: bytes) -> ContestCreate:
    """The optional body: nothing at all, or `{"message": "…"}`; anything else is a 422 naming the field."""
    if not body.strip():
        return ContestCreate()
    return decode_json_body(body, ContestCreate)


class ContestsPage(msgspec.Struct, frozen=True, kw_only=True):
    """Your cases, newest first (at most 100)."""

    items: list[ContestOut]


class CitizenContestController(Controller):
    """Ask why an access happened, and read the answer."""

    path = "/api/v1/me"
    tags = ["access log"]
    guards = [requires_sign_in]

    @post(
        "/access-events/{event_id:uuid}/contest",
        status_code=HTTP_201_CREATED,
        responses=problem_responses(400, 401, 403, 404, 409, 413, 422),
        operation_class=json_body_operation(ContestCreate, "An optional message to the reviewer.", required=False),
    )
    async def contest_event(
        self,
        request: Request[Any, Any, Any],
        conn: NamedDependency[asyncpg.Connection],
        event_id: Annotated[UUID, PathParameter(description="The `event_id` of an entry of your log")],
    ) -> ContestOut:
        """Contest one access of your log ("I don't recognise this / why?"): a case opens at once.

        The body is optional: `{"message": "…"}` (at most 2000 characters). The case pins the event (seq, id and
        hash) with a signed receipt of your log, and an answer is due within one month (`due_at`). A second
        contest of the same access while a case is waiting for an answer is a 409 naming that case; an event
        that is not in your log is a 404.
        """
        user = own_log_subject(request)
        data = _contest_request(await request.body())
        contest = await open_contest(
            conn,
            citizen_id=user.subject_id,
            event_id=event_id,
            key=service_key_from_state(request.app.state),
            message=data.message,
        )
        return contest_out(contest, now=contest.opened_at)

    @get("/access-contests", responses=problem_responses(401, 403))
    async def list_contests(
        self, request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]
    ) -> ContestsPage:
        """Your cases, newest first, each with its status, deadline and answer."""
        user = own_log_subject(request)
        contests = await contest_queries.select_own_contests(conn, user.subject_id, limit=MAX_CONTESTS_LISTED)
        now = await contest_queries.select_now(conn)
        return ContestsPage(items=[contest_out(contest, now=now) for contest in contests])

    @get("/access-contests/{contest_id:uuid}", responses=problem_responses(400, 401, 403, 404, 422))
    async def get_contest(
        self, request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], contest_id: FromPath[UUID]
    ) -> ContestOut:
        """One of your cases; another person's case is a 404."""
        user = own_log_subject(request)
        contest = await own_contest(conn, user.subject_id, contest_id)
        return contest_out(contest, now=await contest_queries.select_now(conn))


# Registered by the composition root (backend/app.py).
ROUTES: Final[list[Any]] = [CitizenContestController]

__all__ = ["ROUTES", "CitizenContestController", "ContestsPage"]
