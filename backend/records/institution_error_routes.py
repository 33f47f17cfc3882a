"""The declaring institution's side of "Report an error": its open reports, its answer, closing an answered one.

Signed assertions, like every institution call. The person is named by national number in the body, never in
the address.
"""

from __future__ import annotations

from typing import Any, Final
from uuid import UUID

import asyncpg
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK

from backend.core.auth.guards import requires_institution_credentials
from backend.core.auth.institution import Institution, provide_institution
from backend.core.errors import decode_json_body, problem_responses
from backend.core.openapi_bodies import json_body_operation
from backend.records import institution_error_reports as reports
from backend.records.error_report_schemas import (
    InstitutionReportView,
    ReportAnswerRequest,
    ReportCloseRequest,
    ReportQueue,
)


class InstitutionErrorReportController(Controller):
    """Reports that a record your institution declared is wrong."""

    path = "/api/v1/record-error-reports"
    tags = ["records"]
    guards = [requires_institution_credentials]
    dependencies = {"institution": Provide(provide_institution)}

    @get("", responses=problem_responses(401, 403))
    async def queue(
        self, institution: NamedDependency[Institution], conn: NamedDependency[asyncpg.Connection]
    ) -> ReportQueue:
        """Your open reports, oldest first (at most 100; `more` says whether others wait): the person's national
        number, the declaration (your `source` and `source_event_id`) and what they say is wrong. Each report
        listed is written in that person's access log as a read by your institution, the report as case
        reference. Answered reports leave the queue."""
        return await reports.open_queue(conn, institution.caller)

    @post(
        "/{report_id:uuid}/answer",
        status_code=HTTP_200_OK,
        responses=problem_responses(401, 403, 404, 409, 422),
        operation_class=json_body_operation(ReportAnswerRequest, "The person's national number and your answer."),
    )
    async def answer(
        self,
        request: Request[Any, Any, Any],
        institution: NamedDependency[Institution],
        conn: NamedDependency[asyncpg.Connection],
        report_id: FromPath[UUID],
    ) -> InstitutionReportView:
        """Answer an open report (`answer`: 1 to 4000 characters); the person reads it on the record and among their
        reports. 404 for a report that is not your institution's or a number that does not name its person; 409
        once answered."""
        body = decode_json_body(await request.body(), ReportAnswerRequest)
        return await reports.answer(conn, institution.caller, report_id, body)

    @post(
        "/{report_id:uuid}/close",
        status_code=HTTP_200_OK,
        responses=problem_responses(401, 403, 404, 409, 422),
        operation_class=json_body_operation(ReportCloseRequest, "The person's national number."),
    )
    async def close(
        self,
        request: Request[Any, Any, Any],
        institution: NamedDependency[Institution],
        conn: NamedDependency[asyncpg.Connection],
        report_id: FromPath[UUID],
    ) -> InstitutionReportView:
        """Close an answered report; 409 before it is answered or once it is closed."""
        body = decode_json_body(await request.body(), ReportCloseRequest)
        return await reports.close(conn, institution.caller, report_id, body)


# Registered by the composition root (backend/app.py).
ROUTES: Final[list[Any]] = [InstitutionErrorReportController]
