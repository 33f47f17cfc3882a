"""What is held about you: /my-data, a page per category, the printable file, and "Report an error".

The pages call the same read models as the JSON twins (backend.records.citizen_routes). Reading one's own records
is not an access by anyone else, so nothing is written to the access log. A helper acting for someone sees exactly
the categories the mandate covers, each category read written in that person's access log, and is told on every
page whose data this is, until when, and which categories they may see (backend.records.helper_reads); any other
category is the 403 page naming why, a refusal that is logged too.
"""

from __future__ import annotations

from typing import Any, Final
from uuid import UUID

import asyncpg
import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Template

from backend.core.auth.guards import requires_sign_in, signed_in_user
from backend.core.i18n import current_language
from backend.records import error_report_queries
from backend.records.citizen import category_pages, records_overview
from backend.records.citizen_format import moment_day
from backend.records.citizen_routes import unknown_category
from backend.records.error_reports import describe_reports, own_report
from backend.records.helper_reads import read_category, readable_reports, shown_categories
from backend.records.registry import REGISTRY
from frontend.pages.my_data_helper import giver_name, reader_context, refused_page
from frontend.pages.my_data_reports import report_error_form, send_error_report
from frontend.rendering import page

PAGE_PATH: Final = "/my-data"
MAX_REPORTS_LISTED: Final = 100
# The partial that shows each category's records; a category without one is shown field by field.
RECORD_TEMPLATES: Final[dict[str, str]] = {
    code: f"pages/my-data/{code.replace('_', '-')}-records.html"
    for code in ("identity", "dimona", "dmfa", "flexi_wages", "limosa", "a1", "drs")
}
GENERIC_RECORDS: Final = "pages/my-data/generic-records.html"


def records_template(code: str) -> str:
    """The partial for a category's records."""
    return RECORD_TEMPLATES.get(code, GENERIC_RECORDS)


@get(PAGE_PATH, name="my-data", guards=[requires_sign_in], include_in_schema=False)
async def my_data_page(request: Request[Any, Any, Any], subject_conn: NamedDependency[asyncpg.Connection]) -> Template:
    """A card per category: what it is, where it comes from, who receives it and why, how long it is kept."""
    user = signed_in_user(request)
    # A transaction only when a helper's reads are logged (backend.core.request_transaction).
    conn = subject_conn
    only = await shown_categories(conn, user, channel="web")
    overview = await records_overview(conn, user.subject_id, language=current_language(), only=only)
    return page(request, "pages/my-data/index.html", overview=overview, **await reader_context(conn, user))


@get(f"{PAGE_PATH}/print", name="my-data-print", guards=[requires_sign_in], include_in_schema=False)
async def my_data_print_page(request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]) -> Template:
    """Everything held about the person on one page, made for printing."""
    user = signed_in_user(request)
    language = current_language()
    only = await shown_categories(conn, user, channel="web")
    codes = [c.code for c in REGISTRY.all()] if only is None else only
    pages = await category_pages(conn, user.subject_id, codes, language=language)
    return page(
        request,
        "pages/my-data/print.html",
        pages=pages,
        templates={category.card.code: records_template(category.card.code) for category in pages},
        person=user.acting_for or user.person,
        **await reader_context(conn, user),
        printed_on=moment_day(await error_report_queries.select_now(conn), language),
    )


@get(f"{PAGE_PATH}/error-reports", name="my-data-error-reports", guards=[requires_sign_in], include_in_schema=False)
async def error_reports_page(request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]) -> Template:
    """The person's error reports, newest first, each with where it stands and the institution's answer."""
    user = signed_in_user(request)
    reports = await error_report_queries.select_own_reports(conn, user.subject_id, limit=MAX_REPORTS_LISTED)
    reports = await readable_reports(conn, user, reports, channel="web")
    views = await describe_reports(conn, user.subject_id, reports, current_language(), giver=giver_name(user))
    return page(request, "pages/my-data/error-reports.html", reports=views, **await reader_context(conn, user))


@get(
    f"{PAGE_PATH}/error-reports/{{report_id:uuid}}",
    name="my-data-error-report",
    guards=[requires_sign_in],
    include_in_schema=False,
)
async def error_report_page(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], report_id: FromPath[UUID]
) -> Template:
    """One error report: the record, the message, where it stands, and the answer once given."""
    user = signed_in_user(request)
    report = await own_report(conn, user.subject_id, report_id)
    decision = await read_category(conn, user, report.category, channel="web", record_refs=[str(report.record_id)])
    if not decision.allowed:
        return refused_page(request, decision, report.category)
    (view,) = await describe_reports(conn, user.subject_id, [report], current_language(), giver=giver_name(user))
    return page(
        request,
        "pages/my-data/error-report.html",
        report=view,
        sent=request.query_params.get("sent") == "1",
        **await reader_context(conn, user),
    )


@get(f"{PAGE_PATH}/{{category:str}}", name="my-data-category", guards=[requires_sign_in], include_in_schema=False)
async def category_records_page(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], category: FromPath[str]
) -> Template:
    """One category in full: what it is, who can see it and why, and the person's records in it."""
    user = signed_in_user(request)
    if category not in REGISTRY:
        raise unknown_category()
    decision = await read_category(conn, user, category, channel="web")
    if not decision.allowed:
        # Answered, not raised: raising would roll back the request's transaction and the logged refusal with it.
        return refused_page(request, decision, category)
    (found,) = await category_pages(conn, user.subject_id, [category], language=current_language())
    return page(
        request,
        "pages/my-data/category.html",
        category=found,
        records_template=records_template(category),
        **await reader_context(conn, user),
    )


class ReportForm(msgspec.Struct, kw_only=True):
    """The "Report an error" form."""

    message: str = ""


@get(
    f"{PAGE_PATH}/{{category:str}}/{{record_id:uuid}}/report-error",
    name="my-data-report-error",
    guards=[requires_sign_in],
    include_in_schema=False,
)
async def report_error_page(
    request: Request[Any, Any, Any],
    conn: NamedDependency[asyncpg.Connection],
    category: FromPath[str],
    record_id: FromPath[UUID],
) -> Template:
    """The form to tell the institution what is wrong in one record (or the report already waiting on it)."""
    return await report_error_form(request, conn, signed_in_user(request), category, record_id)


@post(
    f"{PAGE_PATH}/{{category:str}}/{{record_id:uuid}}/report-error",
    name="my-data-report-error-send",
    guards=[requires_sign_in],
    include_in_schema=False,
    status_code=303,
)
async def report_error_send(
    request: Request[Any, Any, Any],
    conn: NamedDependency[asyncpg.Connection],
    category: FromPath[str],
    record_id: FromPath[UUID],
    data: URLEncodedBody[ReportForm],
) -> Response[Any]:
    """Send the report; a message that is empty, too short or too long is explained on the form."""
    return await send_error_report(request, conn, signed_in_user(request), category, record_id, data.message)


# Registered by the composition root (backend/app.py).
ROUTES: Final[list[Any]] = [
    my_data_page,
    my_data_print_page,
    error_reports_page,
    error_report_page,
    category_records_page,
    report_error_page,
    report_error_send,
]

__all__ = [
    "ROUTES",
    "ReportForm",
    "category_records_page",
    "error_report_page",
    "error_reports_page",
    "my_data_page",
    "my_data_print_page",
    "records_template",
    "report_error_page",
    "report_error_send",
]
