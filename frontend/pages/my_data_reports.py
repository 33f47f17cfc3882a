""" "Report an error" on one record: the form, its checks, and sending it (handlers in frontend.pages.my_data).

The form works without JavaScript: a mistake re-renders it with an error summary and the message kept; a record
that already has a report waiting for an answer shows that report instead of a second form.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
from litestar import Request, Response
from litestar.response import Redirect, Template

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
from backend.records.registry import REGISTRY
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
    citizen_id: UUID,
    record: RecordView,
    *,
    message: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    category = REGISTRY.get(record.category)
    assert category is not None
    language = current_language()
    waiting = None
    if record.report is not None and record.report.status == "open":
        report = await error_report_queries.select_own_report(conn, citizen_id, record.report.report_id)
        if report is not None:
            (waiting,) = await describe_reports(conn, citizen_id, [report], language)
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
    )


async def report_error_form(
    request: Request[Any, Any, Any], conn: asyncpg.Connection, citizen_id: UUID, category: str, record_id: UUID
) -> Template:
    """The form for one of the person's records, or the report that already waits on it."""
    record = await _record(conn, citizen_id, category, record_id)
    return await _form(request, conn, citizen_id, record)


async def send_error_report(
    request: Request[Any, Any, Any],
    conn: asyncpg.Connection,
    citizen_id: UUID,
    category: str,
    record_id: UUID,
    message: str,
) -> Response[Any]:
    """Open the report and show it; a bad message re-renders the form (422), a waiting report shows it (409)."""
    record = await _record(conn, citizen_id, category, record_id)
    error = message_error(message)
    if error is not None:
        return await _form(request, conn, citizen_id, record, message=message, error=error, status_code=422)
    try:
        report = await report_error(conn, citizen_id=citizen_id, record_id=record_id, message=message)
    except ReportAlreadyOpen:
        record = await _record(conn, citizen_id, category, record_id)
        return await _form(request, conn, citizen_id, record, status_code=409)
    return Redirect(path=f"{report_path(report.report_id)}?sent=1", status_code=303)


__all__ = ["FIELD_ID", "report_error_form", "send_error_report"]
