"""Citizen API for the access log: your own log as JSON, and exports of all of it as CSV or JSON.

Reading your own log is not an access by others, so nothing here writes to the log. While a person acts for
someone else the log is refused for now: which helpers may see whose log is for mandates to decide.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Final
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter
from litestar.response import Stream

from backend.access_log.export import csv_export, json_export
from backend.access_log.schemas import Outcome
from backend.access_log.views import BRUSSELS, ActorFilter, CategoryCode, LogEntry, LogFilters, citizen_log_page
from backend.core.auth.actors import SignedIn
from backend.core.auth.guards import requires_sign_in, signed_in_user
from backend.core.db import ConnectionSource
from backend.core.errors import FieldError, Problem, problem_responses, validation_problem

MAX_LIMIT: Final = 200
# seq is a bigint: a larger cursor is refused as invalid rather than overflowing in the database.
MAX_SEQ: Final = 2**63 - 1
DEFAULT_LIMIT: Final = 50


class AccessEventsPage(msgspec.Struct, frozen=True, kw_only=True):
    """A page of your log, newest first; `next` is the `before` value of the older page, or null at the end."""

    items: list[LogEntry]
    next: int | None


def own_log_subject(request: Request[Any, Any, Any]) -> SignedIn:
    """The signed-in person when they act for themself; 403 while they act for someone else."""
    user = signed_in_user(request)
    if user.acting_for_someone:
        raise Problem(
            403,
            "While you act for someone else you cannot see their access log. Switch back to yourself first.",
            kind="access-log-acting-for-someone",
        )
    return user


def _download_headers(filename: str) -> dict[str, str]:
    # A personal file: never stored by a shared cache, always saved rather than shown.
    return {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}


def _filename(extension: str) -> str:
    return f"vitrine-access-log-{datetime.now(BRUSSELS).date().isoformat()}.{extension}"


class CitizenAccessLogController(Controller):
    """Who accessed your data, why, and with which outcome."""

    path = "/api/v1/me/access-events"
    tags = ["access log"]
    guards = [requires_sign_in]

    @get("", responses=problem_responses(400, 401, 403, 422))
    async def list_events(
        self,
        request: Request[Any, Any, Any],
        read_conn: NamedDependency[asyncpg.Connection],
        institution: FromQuery[UUID | None] = None,
        category: FromQuery[CategoryCode | None] = None,
        period_from: Annotated[date | None, QueryParameter(name="from")] = None,
        period_to: Annotated[date | None, QueryParameter(name="to")] = None,
        outcome: FromQuery[Outcome | None] = None,
        actor: FromQuery[ActorFilter | None] = None,
        before: Annotated[int | None, QueryParameter(ge=1, le=MAX_SEQ)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    ) -> AccessEventsPage:
        """Your log, newest first, in your language, narrowed by the filters you set.

        `institution` is an organisation id, `from` and `to` are days (Brussels time, both included), `actor` is
        `institution`, `helper`, `agent` or `staff`. Page with `before`: pass the previous answer's `next`.
        """
        user = own_log_subject(request)
        if period_from is not None and period_to is not None and period_to < period_from:
            raise validation_problem([FieldError(field="to", message="must be on or after `from`", location="query")])
        # Only reads of the person's own log: no transaction needed (backend.core.request_transaction).
        page = await citizen_log_page(
            read_conn,
            user.subject_id,
            language=user.person.language,
            filters=LogFilters(
                institution=institution,
                category=category,
                period_from=period_from,
                period_to=period_to,
                outcome=outcome,
                actor=actor,
            ),
            before_seq=before,
            limit=limit,
        )
        return AccessEventsPage(items=page.entries, next=page.next_before_seq)

    @get("/export.csv", media_type="text/csv", responses=problem_responses(401, 403))
    async def export_csv(self, request: Request[Any, Any, Any]) -> Stream:
        """Your whole log as CSV (UTF-8 with BOM, header row, oldest first), for a spreadsheet."""
        user = own_log_subject(request)
        # The stream runs after the handler has returned (and the request's transaction has ended), so it reads
        # through connections of its own.
        source: ConnectionSource = request.app.state.connection_source
        return Stream(
            csv_export(source, user.subject_id, language=user.person.language),
            # Litestar adds "; charset=utf-8" to text types itself: naming it here would send it twice.
            media_type="text/csv",
            headers=_download_headers(_filename("csv")),
        )

    @get("/export.json", responses=problem_responses(401, 403))
    async def export_json(self, request: Request[Any, Any, Any]) -> Stream:
        """Your whole log as a JSON array of events (oldest first) with hex hashes, to recompute the chain."""
        user = own_log_subject(request)
        source: ConnectionSource = request.app.state.connection_source
        return Stream(
            json_export(source, user.subject_id),
            media_type="application/json",
            headers=_download_headers(_filename("json")),
        )


# Registered by the composition root (backend/app.py).
ROUTES: Final[list[Any]] = [CitizenAccessLogController]

__all__ = ["ROUTES", "AccessEventsPage", "CitizenAccessLogController", "own_log_subject"]
