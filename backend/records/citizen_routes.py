"""Citizen API for what is held about you: the JSON twins of /my-data, the export, and error reports.

Reading your own records is not an access by anyone else, so it writes nothing to the access log. A helper acting
for someone under a mandate gets the same answers for exactly the categories the mandate covers, each category
read logged in that person's access log (backend.records.helper_reads); any other category is a 403 naming why,
logged as a denied access. Texts come in the reader's own language, amounts in cents beside their written form,
dates as dates.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, PathParameter
from litestar.status_codes import HTTP_201_CREATED

from backend.access_log.views import BRUSSELS
from backend.core.auth.guards import requires_sign_in, signed_in_user
from backend.core.errors import Problem, decode_json_body, problem_responses
from backend.core.openapi_bodies import json_body_operation
from backend.records import error_report_queries
from backend.records.citizen import category_page, records_overview
from backend.records.citizen_export import RecordsExport, records_export
from backend.records.citizen_schemas import CategoryPage, RecordsOverview
from backend.records.error_report_schemas import ErrorReportCreate, ErrorReportView
from backend.records.error_reports import describe_reports, own_report, report_error
from backend.records.helper_reads import (
    action_refusal,
    category_refusal,
    decide_report_error,
    giver_name,
    log_report_filed,
    read_category,
    readable_reports,
    refused_response,
    shown_categories,
)
from backend.records.registry import REGISTRY

MAX_REPORTS_LISTED: Final = 100


def unknown_category() -> Problem:
    """The 404 for a category that does not exist."""
    return Problem(404, "There is no such category of data.", kind="no-such-category")


def read_report_request(body: bytes) -> ErrorReportCreate:
    """`{"record_id": "…", "message": "…"}`; anything else is a 422 naming the field."""
    return decode_json_body(body, ErrorReportCreate)


def download_headers(filename: str) -> dict[str, str]:
    """A personal file: never kept by a shared cache, always saved rather than shown."""
    return {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}


class CitizenRecordsController(Controller):
    """What is held about you, category by category."""

    path = "/api/v1/me/records"
    tags = ["records"]
    guards = [requires_sign_in]

    @get("", responses=problem_responses(401, 403))
    async def overview(
        self, request: Request[Any, Any, Any], subject_conn: NamedDependency[asyncpg.Connection]
    ) -> RecordsOverview:
        """Every category of data with what it is, its source, who receives it and why (purpose and legal basis),
        how long it is kept (`retention_confirmed` false: to be confirmed), and how many records you have in it."""
        user = signed_in_user(request)
        # A transaction only when a helper's reads are logged (backend.core.request_transaction).
        conn = subject_conn
        only = await shown_categories(conn, user, channel="api")
        return await records_overview(conn, user.subject_id, language=user.person.language, only=only)

    @get("/export.json", responses=problem_responses(401, 403))
    async def export(
        self, request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]
    ) -> Response[RecordsExport]:
        """Everything held about you as one JSON document: every record as stored (corrections and cancellations
        included), what is said about each category, your flexi counters and your error reports."""
        user = signed_in_user(request)
        only = await shown_categories(conn, user, channel="api", active_only=False)
        document = await records_export(
            conn, user.subject_id, language=user.person.language, only=only, giver=giver_name(user)
        )
        filename = f"vitrine-records-{datetime.now(BRUSSELS).date().isoformat()}.json"
        # The document itself (not pre-encoded bytes), so the OpenAPI description names its schema.
        return Response(content=document, media_type="application/json", headers=download_headers(filename))

    @get("/{category:str}", responses=problem_responses(400, 401, 403, 404, 422))
    async def category(
        self,
        request: Request[Any, Any, Any],
        conn: NamedDependency[asyncpg.Connection],
        category: Annotated[str, PathParameter(description="A category code, such as `dimona` or `flexi_wages`")],
    ) -> Response[CategoryPage]:
        """One category in full: its card, and your records in it (Dimona as a timeline, DmfA per quarter, flexi
        wages per month with each year's total against its ceiling and as of when …), each with its latest error
        report. Only the list of the category asked for is present. Acting for someone, a category their mandate
        does not cover is a 403 naming why (written in their access log)."""
        user = signed_in_user(request)
        if category not in REGISTRY:
            raise unknown_category()
        decision = await read_category(conn, user, category, channel="api")
        if not decision.allowed:
            # Answered, not raised: raising would roll back the request's transaction and the denied event with it.
            return refused_response(category_refusal(decision, category))
        found = await category_page(conn, user.subject_id, category, language=user.person.language)
        if found is None:
            raise unknown_category()
        return Response(content=found)


class ErrorReportsPage(msgspec.Struct, frozen=True, kw_only=True):
    """Your error reports, newest first (at most 100)."""

    items: list[ErrorReportView]


class CitizenErrorReportController(Controller):
    """Report an error in one of your records, and follow the institution's answer."""

    path = "/api/v1/me/record-error-reports"
    tags = ["records"]
    guards = [requires_sign_in]

    @post(
        "",
        status_code=HTTP_201_CREATED,
        responses=problem_responses(400, 401, 403, 404, 409, 413, 422),
        operation_class=json_body_operation(ErrorReportCreate, "Which record is wrong, and what is wrong with it."),
    )
    async def create(
        self, request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]
    ) -> Response[ErrorReportView]:
        """Tell the institution that declared a record what is wrong with it: `{"record_id", "message"}`, the
        message 10 to 2000 characters. The report is a case for that institution. While a report on the same record
        waits for an answer, another is a 409 naming it; a record that is not yours is a 404. Acting for someone,
        it needs the ACT right of their "Reporting errors" theme and the right to see the record's category: else a
        403 naming why, written in their access log; the report says who filed it."""
        user = signed_in_user(request)
        data = read_report_request(await request.body())
        allowed = await decide_report_error(conn, user, channel="api")
        if not allowed.allowed:
            return refused_response(action_refusal(allowed))
        record = await error_report_queries.select_record_category(conn, user.subject_id, data.record_id)
        if record is not None and user.acting_for_someone:
            seen = await read_category(conn, user, record, channel="api", record_refs=[str(data.record_id)])
            if not seen.allowed:
                return refused_response(category_refusal(seen, record))
        report = await report_error(
            conn,
            citizen_id=user.subject_id,
            record_id=data.record_id,
            message=data.message,
            filed_by=user.person.person_id if user.acting_for_someone else None,
        )
        if user.acting_for_someone:
            await log_report_filed(
                conn,
                user,
                allowed,
                report_id=report.report_id,
                record_id=report.record_id,
                category=report.category,
                channel="api",
            )
        (view,) = await describe_reports(conn, user.subject_id, [report], user.person.language, giver=giver_name(user))
        return Response(content=view, status_code=HTTP_201_CREATED)

    @get("", responses=problem_responses(401, 403))
    async def list_reports(
        self, request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]
    ) -> ErrorReportsPage:
        """Your error reports, newest first, each with its status and the institution's answer (acting for
        someone: those in the categories their mandate lets you see, and who filed each is said from your side,
        "under a mandate from" them, as the pages say it)."""
        user = signed_in_user(request)
        reports = await error_report_queries.select_own_reports(conn, user.subject_id, limit=MAX_REPORTS_LISTED)
        reports = await readable_reports(conn, user, reports, channel="api")
        views = await describe_reports(conn, user.subject_id, reports, user.person.language, giver=giver_name(user))
        return ErrorReportsPage(items=views)

    @get("/{report_id:uuid}", responses=problem_responses(400, 401, 403, 404, 422))
    async def get_report(
        self, request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], report_id: FromPath[UUID]
    ) -> Response[ErrorReportView]:
        """One of your error reports; another person's is a 404. Acting for someone, a report in a category their
        mandate does not cover is a 403 naming why (written in their access log)."""
        user = signed_in_user(request)
        report = await own_report(conn, user.subject_id, report_id)
        decision = await read_category(conn, user, report.category, channel="api", record_refs=[str(report.record_id)])
        if not decision.allowed:
            return refused_response(category_refusal(decision, report.category))
        (view,) = await describe_reports(conn, user.subject_id, [report], user.person.language, giver=giver_name(user))
        return Response(content=view)


# Registered by the composition root (backend/app.py).
ROUTES: Final[list[Any]] = [CitizenRecordsController, CitizenErrorReportController]

__all__ = [
    "ROUTES",
    "CitizenErrorReportController",
    "CitizenRecordsController",
    "ErrorReportsPage",
    "download_headers",
    "read_report_request",
    "unknown_category",
]
