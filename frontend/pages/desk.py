"""The desk console for support staff: open an assisted session with the person present, see its time left,
extend it once, end it.

The person's national number travels only in the form body; pages are addressed by the session's internal id.
A presence code attempt is counted per agent and per address before the code is looked at.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final
from uuid import UUID

import asyncpg
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from backend.core.auth import rate_limit
from backend.core.auth.guards import requires_desk, signed_in_user
from backend.core.errors import FieldError, Problem, validation_problem
from backend.core.i18n import _, current_language
from backend.core.identity.schemas import StaffMember
from backend.desk.citizen import moment
from backend.desk.gate import end_session, extend_session, session_person, sessions_of_agent
from backend.desk.labels import DOCUMENT_LABELS, SCOPE_LABELS
from backend.desk.limits import PRESENCE_CODE_PER_ADDRESS, PRESENCE_CODE_PER_AGENT
from backend.desk.refusals import Refused
from backend.desk.schemas import DOCUMENT_TYPES, SCOPES, DeskSession, OpenRequest
from backend.desk.sessions import open_session
from frontend.pages.desk_refusals import by_field, field_errors, refused_page
from frontend.rendering import page

DESK_PATH: Final = "/desk"


_EMPTY_FORM: Final[dict[str, Any]] = {
    "insz": "",
    "verification": "presence_code",
    "reason": "",
    "scopes": [],
    "presence_code": "",
    "document_type": "",
    "document_last4": "",
}


def desk_staff(request: Request[Any, Any, Any]) -> StaffMember:
    """The signed-in member of desk staff (the route's guard already checked the role)."""
    staff = signed_in_user(request).staff
    assert staff is not None
    return staff


def session_path(session_id: object, rest: str = "") -> str:
    """A session's page (by internal id)."""
    return f"{DESK_PATH}/sessions/{session_id}{rest}"


def minutes_left(session: DeskSession, at: datetime) -> int:
    """Whole minutes until the session times out (at least 0)."""
    return max(int((session.expires_at - at).total_seconds() // 60), 0)


def _form_context(values: dict[str, Any], errors: list[dict[str, str]], fields: dict[str, str]) -> dict[str, Any]:
    return {
        "form": values,
        "errors": errors,
        "field_errors": fields,
        "scope_options": [(scope, _(SCOPE_LABELS[scope])) for scope in SCOPES],
        "document_options": [
            {"value": "", "label": _("Choose the document"), "selected": not values.get("document_type")}
        ]
        + [
            {"value": code, "label": _(DOCUMENT_LABELS[code]), "selected": values.get("document_type") == code}
            for code in DOCUMENT_TYPES
        ],
    }


async def _console(
    request: Request[Any, Any, Any],
    conn: asyncpg.Connection,
    *,
    values: dict[str, Any] | None = None,
    problem: Problem | None = None,
) -> Template:
    staff = desk_staff(request)
    at = datetime.now(UTC)
    sessions = await sessions_of_agent(conn, staff, now=at)
    language = current_language()
    errors = [] if problem is None else field_errors(problem)
    fields = {} if problem is None else by_field(problem)
    return page(
        request,
        "pages/desk/index.html",
        status_code=200 if problem is None else problem.status,
        staff=staff,
        open_sessions=[
            {"id": s.session_id, "time": moment(s.opened_at, language, "HH:mm"), "left": minutes_left(s, at)}
            for s in sessions
            if s.is_open(at)
        ],
        past_sessions=[
            {"when": moment(s.opened_at, language), "expired": s.end_reason == "expired"}
            for s in sessions
            if not s.is_open(at)
        ],
        scope_labels={scope: _(label) for scope, label in SCOPE_LABELS.items()},
        **_form_context(values or dict(_EMPTY_FORM), errors, fields),
    )


@get(DESK_PATH, name="desk", guards=[requires_desk], include_in_schema=False)
async def desk_console(request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]) -> Template:
    """Open a session with the person in front of you; your open and recent sessions."""
    return await _console(request, conn)


async def _count_code_attempt(request: Request[Any, Any, Any], staff: StaffMember) -> None:
    state = request.app.state
    address = request.client.host if request.client else "unknown"
    await rate_limit.enforce(
        state.connection_source, state.settings.secret_key, PRESENCE_CODE_PER_AGENT, str(staff.person_id)
    )
    await rate_limit.enforce(state.connection_source, state.settings.secret_key, PRESENCE_CODE_PER_ADDRESS, address)


@post(f"{DESK_PATH}/sessions", name="desk-open", guards=[requires_desk], include_in_schema=False, status_code=303)
async def open_session_page(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]
) -> Response[Any]:
    """Open the session: by the person's presence code, or by an identity check with a reason."""
    staff = desk_staff(request)
    form = await request.form()
    values: dict[str, Any] = {
        "insz": str(form.get("insz", ""))[:40],
        "verification": str(form.get("verification", "")),
        "reason": str(form.get("reason", ""))[:400],
        "scopes": [str(value) for value in form.getall("scopes", [])],
        "presence_code": str(form.get("presence_code", ""))[:20],
        "document_type": str(form.get("document_type", "")),
        "document_last4": str(form.get("document_last4", ""))[:10],
    }
    # The national number is never echoed back into the page's form after a refusal of the code.
    shown = {**values, "presence_code": ""}
    if values["verification"] not in ("presence_code", "identity_check"):
        message = _("Choose how the person showed they are here.")
        problem = validation_problem([FieldError(field="verification", message=message)])
        return await _console(request, conn, values=shown, problem=problem)
    try:
        if values["verification"] == "presence_code":
            await _count_code_attempt(request, staff)
        request_data = OpenRequest(
            insz=values["insz"],
            verification=values["verification"],
            reason=values["reason"],
            scopes=tuple(values["scopes"]),
            presence_code=values["presence_code"],
            document_type=values["document_type"],
            document_last4=values["document_last4"],
        )
        # No savepoint: a refusal must keep the denied event it wrote (the service writes nothing else first).
        session = await open_session(conn, staff, request_data, secret=request.app.state.settings.secret_key)
    except Refused as refused:
        return await _console(request, conn, values=shown, problem=refused)
    except Problem as problem:
        if problem.status == 429:
            message = _("Too many code attempts. Wait ten minutes before trying again.")
            problem.errors = [FieldError(field="presence_code", message=message)]
        if not problem.errors:
            raise
        return await _console(request, conn, values=shown, problem=problem)
    return Redirect(path=session_path(session.session_id), status_code=303)


@get(f"{DESK_PATH}/sessions/{{session_id:uuid}}", name="desk-session", guards=[requires_desk], include_in_schema=False)
async def session_page(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], session_id: FromPath[UUID]
) -> Response[Any]:
    """The session: who, time left, what you may help with."""
    staff = desk_staff(request)
    at = datetime.now(UTC)
    try:
        session, person = await session_person(conn, staff, session_id, now=at)
    except Refused as refused:
        return refused_page(request, refused)
    return page(
        request,
        "pages/desk/session.html",
        session=session,
        person=person,
        minutes_left=minutes_left(session, at),
        scopes=[(scope, _(SCOPE_LABELS[scope])) for scope in session.scopes],
        done=request.query_params.get("done"),
    )


@post(
    f"{DESK_PATH}/sessions/{{session_id:uuid}}/extend",
    name="desk-extend",
    guards=[requires_desk],
    include_in_schema=False,
    status_code=303,
)
async def extend_page(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], session_id: FromPath[UUID]
) -> Response[Any]:
    """30 more minutes, once."""
    try:
        await extend_session(conn, desk_staff(request), session_id)
    except Refused as refused:
        return refused_page(request, refused, session_id=session_id if refused.status == 409 else None)
    return Redirect(path=session_path(session_id, "?done=extended"), status_code=303)


@post(
    f"{DESK_PATH}/sessions/{{session_id:uuid}}/end",
    name="desk-end",
    guards=[requires_desk],
    include_in_schema=False,
    status_code=303,
)
async def end_page(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], session_id: FromPath[UUID]
) -> Response[Any]:
    """End the session now: the person's file closes."""
    try:
        await end_session(conn, desk_staff(request), session_id)
    except Refused as refused:
        return refused_page(request, refused)
    return Redirect(path=f"{DESK_PATH}?done=ended", status_code=303)


ROUTES: Final[list[Any]] = [desk_console, open_session_page, session_page, extend_page, end_page]
