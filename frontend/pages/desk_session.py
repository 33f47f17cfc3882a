"""Inside an assisted session: the person's data in easy-read (one category per screen), a summary to print,
their e-mail address and language, and an error report on a record.

Every handler goes through a desk service that checks the agent's open session and its scope and logs the access
in the person's access log; a refusal is answered with a page (returned, so that the denied event is committed).
"""

from __future__ import annotations

from typing import Any, Final
from uuid import UUID

import asyncpg
import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect

from backend.core.auth.guards import requires_desk
from backend.core.errors import Problem
from backend.core.i18n import LANGUAGES, _, current_language, language_name
from backend.desk.changes import file_error_report, person_in_session, record_for_report, update_contact
from backend.desk.citizen import ACTION_LABELS, moment
from backend.desk.gate import session_person
from backend.desk.reading import easy_screen, take_home_summary
from backend.desk.refusals import Refused
from backend.records.error_report_schemas import MESSAGE_MAX
from backend.records.error_reports import ReportAlreadyOpen
from frontend.pages.desk import desk_staff, session_path
from frontend.pages.desk_refusals import by_field, field_errors, refused_page
from frontend.rendering import page

_SESSION: Final = "/desk/sessions/{session_id:uuid}"


class ContactForm(msgspec.Struct, kw_only=True):
    """The person's e-mail address and language, as typed at the desk."""

    email: str = ""
    language: str = ""


class ReportForm(msgspec.Struct, kw_only=True):
    """What is wrong in the record, in the person's words."""

    message: str = ""


@get(f"{_SESSION}/data/{{step:int}}", name="desk-data", guards=[requires_desk], include_in_schema=False)
async def easy_read_page(
    request: Request[Any, Any, Any],
    conn: NamedDependency[asyncpg.Connection],
    session_id: FromPath[UUID],
    step: FromPath[int],
) -> Response[Any]:
    """One category of the person's data on one screen, in large text, with next and previous."""
    try:
        screen = await easy_screen(conn, desk_staff(request), session_id, step, language=current_language())
    except Refused as refused:
        return refused_page(request, refused, session_id=session_id if refused.kind == "desk-session-scope" else None)
    if screen is None:
        raise NotFoundException()
    session, _person = await session_person(conn, desk_staff(request), session_id)
    return page(
        request,
        "pages/desk/easy-read.html",
        screen=screen,
        session_id=session_id,
        can_report="error_report" in session.scopes,
    )


@get(f"{_SESSION}/summary", name="desk-summary", guards=[requires_desk], include_in_schema=False)
async def summary_page(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], session_id: FromPath[UUID]
) -> Response[Any]:
    """A plain-language summary of the person's data and of this session, to print and take home."""
    language = current_language()
    staff = desk_staff(request)
    try:
        summary = await take_home_summary(conn, staff, session_id, language=language)
    except Refused as refused:
        return refused_page(request, refused, session_id=session_id if refused.kind == "desk-session-scope" else None)
    _session, person = await session_person(conn, staff, session_id)
    return page(
        request,
        "pages/desk/summary.html",
        summary=summary,
        person=person,
        session_id=session_id,
        printed_on=moment(summary.session.opened_at, language),
        actions=[(moment(a.occurred_at, language, "HH:mm"), _(ACTION_LABELS[a.kind])) for a in summary.actions],
    )


def _language_options(chosen: str) -> list[dict[str, Any]]:
    return [{"value": code, "label": language_name(code), "selected": code == chosen} for code in LANGUAGES]


@get(f"{_SESSION}/contact", name="desk-contact", guards=[requires_desk], include_in_schema=False)
async def contact_page(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], session_id: FromPath[UUID]
) -> Response[Any]:
    """The person's e-mail address and language, to change as they ask."""
    try:
        person = await person_in_session(conn, desk_staff(request), session_id)
    except Refused as refused:
        return refused_page(request, refused, session_id=session_id if refused.kind == "desk-session-scope" else None)
    return page(
        request,
        "pages/desk/contact.html",
        session_id=session_id,
        email=person.email or "",
        language_options=_language_options(person.language),
        errors=[],
        field_errors={},
    )


@post(f"{_SESSION}/contact", name="desk-contact-post", guards=[requires_desk], include_in_schema=False, status_code=303)
async def contact_post(
    request: Request[Any, Any, Any],
    conn: NamedDependency[asyncpg.Connection],
    session_id: FromPath[UUID],
    data: URLEncodedBody[ContactForm],
) -> Response[Any]:
    """Save the e-mail address and language."""
    try:
        await update_contact(conn, desk_staff(request), session_id, email=data.email, language=data.language)
    except Refused as refused:
        return refused_page(request, refused, session_id=session_id if refused.kind == "desk-session-scope" else None)
    except Problem as problem:
        if not problem.errors:
            raise
        return page(
            request,
            "pages/desk/contact.html",
            status_code=problem.status,
            session_id=session_id,
            email=data.email[:300],
            language_options=_language_options(data.language),
            errors=field_errors(problem),
            field_errors=by_field(problem),
        )
    return Redirect(path=session_path(session_id, "?done=contact"), status_code=303)


@get(
    f"{_SESSION}/records/{{record_id:uuid}}/report", name="desk-report", guards=[requires_desk], include_in_schema=False
)
async def report_page(
    request: Request[Any, Any, Any],
    conn: NamedDependency[asyncpg.Connection],
    session_id: FromPath[UUID],
    record_id: FromPath[UUID],
) -> Response[Any]:
    """Report an error in one record: the record, and what is wrong in it."""
    try:
        record = await record_for_report(conn, desk_staff(request), session_id, record_id, language=current_language())
    except Refused as refused:
        return refused_page(request, refused, session_id=session_id if refused.kind == "desk-session-scope" else None)
    return page(
        request,
        "pages/desk/report.html",
        session_id=session_id,
        record=record,
        message="",
        message_max=MESSAGE_MAX,
        errors=[],
        field_errors={},
    )


@post(
    f"{_SESSION}/records/{{record_id:uuid}}/report",
    name="desk-report-post",
    guards=[requires_desk],
    include_in_schema=False,
    status_code=303,
)
async def report_post(
    request: Request[Any, Any, Any],
    conn: NamedDependency[asyncpg.Connection],
    session_id: FromPath[UUID],
    record_id: FromPath[UUID],
    data: URLEncodedBody[ReportForm],
) -> Response[Any]:
    """Send the error report to the institution that declared the record."""
    staff = desk_staff(request)
    try:
        await file_error_report(conn, staff, session_id, record_id, data.message)
    except Refused as refused:
        return refused_page(request, refused, session_id=session_id if refused.kind == "desk-session-scope" else None)
    except Problem as problem:
        if isinstance(problem, ReportAlreadyOpen):
            message = _("This record already has an error report waiting for an answer.")
            errors = [{"field_id": "message", "message": message}]
        elif problem.errors:
            errors = field_errors(problem)
        else:
            raise
        record = await record_for_report(conn, staff, session_id, record_id, language=current_language())
        return page(
            request,
            "pages/desk/report.html",
            status_code=problem.status,
            session_id=session_id,
            record=record,
            message=data.message[:MESSAGE_MAX],
            message_max=MESSAGE_MAX,
            errors=errors,
            field_errors={e["field_id"]: e["message"] for e in errors},
        )
    return Redirect(path=session_path(session_id, "?done=reported"), status_code=303)


ROUTES: Final[list[Any]] = [easy_read_page, summary_page, contact_page, contact_post, report_page, report_post]
