""" "Report an error" on one record: the form, its checks, and sending it (handlers in frontend.pages.my_data).

The form works without JavaScript: a mistake re-renders it with an error summary and the message kept; a record
that already has a report waiting for an answer shows that report instead of a second form.

A helper acting for someone may report an error for them only with the ACT right of their "Reporting errors"
theme and the right to see the record's category; otherwise the 403 page names why, and the refusal is written in
the person's access log. A report filed by a helper is logged there too, and shows the person who filed it.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
from litestar import Request, Response
from litestar.response import Redirect, Template

from backend.core.auth.actors import SignedIn
from backend.core.errors import Problem
from backend.core.i18n import current_language
from backend.records import error_report_queries
from backend.records.citizen import category_card, own_record_view
from backend.records.citizen_routes import unknown_category
from backend.records.citizen_schemas import RecordView
from backend.records.error_report_schemas import MESSAGE_MAX, MESSAGE_MIN
from backend.records.error_reports import (
    ReportAlreadyOpen,
    describe_reports,
    message_error,
    report_error,
    report_path,
)
from backend.records.helper_reads import decide_report_error, log_report_filed, read_category
from backend.records.registry import REGISTRY
from consent.schemas import Decision
from frontend.pages.my_data_helper import giver_name, reader_context, refused_page
from frontend.rendering import page

FIELD_ID = "report-message"


async def _record(conn: asyncpg.Connection, citizen_id: UUID, category: str, record_id: UUID) -> RecordView:
    """The person's record under this category, or a 404 (another person's record is simply not found)."""
    if category not in REGISTRY:
        raise unknown_category()
    record = await own_record_view(conn, citizen_id, record_id, language=current_language())
    if record is None or record.category != category:
        raise Problem(404, "There is no such record among yours.", kind="no-such-record")
    return record


async def _form(
    request: Request[Any, Any, Any],
    conn: asyncpg.Connection,
    user: SignedIn,
    record: RecordView,
    *,
    message: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    citizen_id = user.subject_id
    category = REGISTRY.get(record.category)
    assert category is not None
    language = current_language()
    waiting = None
    if record.report is not None and record.report.status == "open":
        report = await error_report_queries.select_own_report(conn, citizen_id, record.report.report_id)
        if report is not None:
            (waiting,) = await describe_reports(conn, citizen_id, [report], language, giver=giver_name(user))
    return page(
        request,
        "pages/my-data/report-error.html",
        status_code=status_code,
        record=record,
        card=category_card(category, None, [], language),
        waiting=waiting,
        message=message,
        message_min=MESSAGE_MIN,
        message_max=MESSAGE_MAX,
        field_id=FIELD_ID,
        message_error=error,
        errors=[] if error is None else [{"field_id": FIELD_ID, "message": error}],
        **await reader_context(conn, user),
    )


async def _refusal(
    request: Request[Any, Any, Any], conn: asyncpg.Connection, user: SignedIn, category: str, record_id: UUID
) -> tuple[Decision, Template | None]:
    """For a helper: the ACT right to report errors, then the right to see the record's category (the record is
    shown on the form), each refusal logged; the refused page to answer with, or None."""
    allowed = await decide_report_error(conn, user, channel="web")
    if not allowed.allowed:
        return allowed, refused_page(request, allowed)
    if category not in REGISTRY:
        raise unknown_category()
    seen = await read_category(conn, user, category, channel="web", record_refs=[str(record_id)])
    if not seen.allowed:
        return seen, refused_page(request, seen, category)
    return allowed, None


async def report_error_form(
    request: Request[Any, Any, Any], conn: asyncpg.Connection, user: SignedIn, category: str, record_id: UUID
) -> Template:
    """The form for one of the person's records, or the report that already waits on it."""
    _, refused = await _refusal(request, conn, user, category, record_id)
    if refused is not None:
        return refused
    record = await _record(conn, user.subject_id, category, record_id)
    return await _form(request, conn, user, record)


async def send_error_report(
    request: Request[Any, Any, Any],
    conn: asyncpg.Connection,
    user: SignedIn,
    category: str,
    record_id: UUID,
    message: str,
) -> Response[Any]:
    """Open the report and show it; a bad message re-renders the form (422), a waiting report shows it (409)."""
    allowed, refused = await _refusal(request, conn, user, category, record_id)
    if refused is not None:
        return refused
    citizen_id = user.subject_id
    record = await _record(conn, citizen_id, category, record_id)
    error = message_error(message)
    if error is not None:
        return await _form(request, conn, user, record, message=message, error=error, status_code=422)
    helper = user.person.person_id if user.acting_for_someone else None
    try:
        report = await report_error(conn, citizen_id=citizen_id, record_id=record_id, message=message, filed_by=helper)
    except ReportAlreadyOpen:
        record = await _record(conn, citizen_id, category, record_id)
        return await _form(request, conn, user, record, status_code=409)
    if helper is not None:
        await log_report_filed(
            conn, user, allowed, report_id=report.report_id, record_id=record_id, category=category, channel="web"
        )
    return Redirect(path=f"{report_path(report.report_id)}?sent=1", status_code=303)


__all__ = ["FIELD_ID", "report_error_form", "send_error_report"]
