"""Error reports from the declaring institution's side: its queue of open reports, its answer, closing.

A report is a case for the institution that declared the record. It reads its open reports through the API
(each listed report is a read of that person's data, written in their access log with the report as case
reference), answers one (the person sees the answer on the record and in their reports), and closes it once
answered. A report of another institution, or one about a person the number does not name, does not exist for
the caller: 404, exactly as an unknown report.
"""

from __future__ import annotations

from typing import Final
from uuid import UUID

import asyncpg

from backend.access_log.bulk import NewAccess, record_accesses
from backend.access_log.schemas import Accessor
from backend.core.auth.assertions import InstitutionCaller
from backend.core.errors import Problem
from backend.core.identity.queries import select_person_by_insz
from backend.core.identity.service import insz_or_problem
from backend.records import error_report_queries as queries
from backend.records.error_report_schemas import (
    ErrorReport,
    InstitutionReportView,
    ReportAnswerRequest,
    ReportCloseRequest,
    ReportQueue,
)
from backend.records.error_reports import answer_report, close_report

QUEUE_LIMIT: Final = 100
# What allows the institution to read the report: the person's right to have wrong data about them corrected.
RECTIFICATION_BASIS: Final = "GDPR art. 16 (right to rectification)"


async def open_queue(conn: asyncpg.Connection, caller: InstitutionCaller, *, limit: int = QUEUE_LIMIT) -> ReportQueue:
    """The institution's open reports, oldest first, each read logged in the person's access log."""
    found = await queries.select_open_queue(conn, caller.org_id, limit=limit + 1)
    shown = found[:limit]
    accessor = Accessor(kind="institution", org_id=caller.org_id, client_id=caller.client_id)
    # Up to a hundred people's logs: one batch (the bulk path builds the same chains in a few round trips).
    await record_accesses(
        conn,
        [
            NewAccess(
                citizen_id=citizen_id,
                accessor=accessor,
                action="read",
                channel="api",
                categories=(report.category,),
                record_refs=(str(report.record_id),),
                legal_basis_ref=RECTIFICATION_BASIS,
                case_ref=str(report.report_id),
            )
            for citizen_id, report in shown
        ],
    )
    return ReportQueue(items=[report for _, report in shown], more=len(found) > limit)


async def _citizen(conn: asyncpg.Connection, subject: str) -> UUID:
    person = await select_person_by_insz(conn, insz_or_problem(subject, field="subject").digits)
    if person is None:
        raise Problem(404, "There is no such error report for your institution.", kind="no-such-error-report")
    return person.person_id


def _view(report: ErrorReport) -> InstitutionReportView:
    return InstitutionReportView(
        report_id=report.report_id,
        record_id=report.record_id,
        category=report.category,
        status=report.status,
        answer=report.answer,
        created_at=report.created_at,
        answered_at=report.answered_at,
    )


async def answer(
    conn: asyncpg.Connection, caller: InstitutionCaller, report_id: UUID, request: ReportAnswerRequest
) -> InstitutionReportView:
    """Answer an open report of the institution's (422 naming `subject` or `answer`, 404, 409 once answered)."""
    citizen_id = await _citizen(conn, request.subject)
    report = await answer_report(
        conn, org_id=caller.org_id, citizen_id=citizen_id, report_id=report_id, answer=request.answer
    )
    return _view(report)


async def close(
    conn: asyncpg.Connection, caller: InstitutionCaller, report_id: UUID, request: ReportCloseRequest
) -> InstitutionReportView:
    """Close an answered report of the institution's (404, 409 before it is answered or once closed)."""
    citizen_id = await _citizen(conn, request.subject)
    return _view(await close_report(conn, org_id=caller.org_id, citizen_id=citizen_id, report_id=report_id))


__all__ = ["QUEUE_LIMIT", "RECTIFICATION_BASIS", "answer", "close", "open_queue"]
