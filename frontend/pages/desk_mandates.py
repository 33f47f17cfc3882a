"""Preparing a mandate with the person at the desk, and recording the form they signed.

The mandate is not given here: the person confirms it with the code sent to their own inbox, on their own phone,
or signs the printed form, whose reference the agent records. Only then is it invited (consent), and the helper
still accepts it with the invitation code shown once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final
from uuid import UUID

import asyncpg
import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody

from backend.core.auth.guards import requires_desk
from backend.core.errors import FieldError, Problem, validation_problem
from backend.core.i18n import _, current_language
from backend.desk.citizen import moment
from backend.desk.gate import session_person
from backend.desk.mandates import (
    DESK_DURATIONS,
    DraftRequest,
    draft_in_session,
    drafts_of_session,
    form_reference,
    prepare_mandate,
)
from backend.desk.mandates import record_signed_form as record_form
from backend.desk.refusals import Refused
from consent import service as consent_service
from consent.schemas import ThemeChoice
from frontend.pages.desk import desk_staff
from frontend.pages.desk_refusals import by_field, field_errors, refused_page
from frontend.pages.mandate_display import DURATION_LABELS
from frontend.rendering import page

_SESSION: Final = "/desk/sessions/{session_id:uuid}/mandates"


class SignedForm(msgspec.Struct, kw_only=True):
    """The reference printed on the form the person signed."""

    reference: str = ""


def _scope_refusal(request: Request[Any, Any, Any], refused: Refused, session_id: UUID) -> Response[Any]:
    return refused_page(request, refused, session_id=session_id if refused.kind == "desk-session-scope" else None)


async def _mandates_page(
    request: Request[Any, Any, Any],
    conn: asyncpg.Connection,
    session_id: UUID,
    *,
    form: dict[str, Any],
    problem: Problem | None = None,
    created: Any = None,
) -> Response[Any]:
    staff = desk_staff(request)
    language = current_language()
    drafts = await drafts_of_session(conn, staff, session_id)
    _session, person = await session_person(conn, staff, session_id)
    themes = await consent_service.published_themes(conn, language)
    return page(
        request,
        "pages/desk/mandates.html",
        status_code=200 if problem is None else problem.status,
        session_id=session_id,
        person=person,
        themes=themes,
        durations=[(code, _(DURATION_LABELS[code])) for code in DESK_DURATIONS],
        drafts=[
            {
                "draft": draft,
                "expires": moment(draft.code_expires_at, language, "HH:mm"),
                "theme_names": ", ".join(t.name for t in themes if any(c["code"] == t.code for c in draft.themes)),
            }
            for draft in drafts
        ],
        form=form,
        errors=[] if problem is None else field_errors(problem),
        field_errors={} if problem is None else by_field(problem),
        created=created,
    )


@get(_SESSION, name="desk-mandates", guards=[requires_desk], include_in_schema=False)
async def mandates_page(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], session_id: FromPath[UUID]
) -> Response[Any]:
    """Prepare a mandate: who helps, with what, for how long; the mandates prepared in this session."""
    try:
        return await _mandates_page(request, conn, session_id, form={"themes": {}, "duration": "1_year"})
    except Refused as refused:
        return _scope_refusal(request, refused, session_id)


def _draft_request(form: Any) -> tuple[DraftRequest, dict[str, Any]]:
    themes = {
        key.removeprefix("theme_"): str(value)
        for key, value in form.items()
        if key.startswith("theme_") and str(value) in ("read", "act")
    }
    values: dict[str, Any] = {
        "mandatary_insz": str(form.get("mandatary_insz", "")).strip()[:32],
        "mandatary_family_name": str(form.get("mandatary_family_name", "")).strip()[:200],
        "mandatary_kbo": str(form.get("mandatary_kbo", "")).strip()[:32],
        "themes": themes,
        "duration": str(form.get("duration", "")),
        "acknowledge_high_risk": bool(form.get("acknowledge_high_risk")),
    }
    request = DraftRequest(
        mandatary_insz=values["mandatary_insz"] or None,
        mandatary_family_name=values["mandatary_family_name"] or None,
        mandatary_kbo=values["mandatary_kbo"] or None,
        themes=[ThemeChoice(code=code, access=access) for code, access in themes.items()],  # type: ignore[arg-type]
        duration=values["duration"],
        acknowledge_high_risk=values["acknowledge_high_risk"],
    )
    return request, values


@post(_SESSION, name="desk-mandates-post", guards=[requires_desk], include_in_schema=False, status_code=200)
async def prepare_page(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], session_id: FromPath[UUID]
) -> Response[Any]:
    """Keep the prepared mandate and send the person their confirmation code."""
    form = await request.form()
    data, values = _draft_request(form)
    if not data.themes:
        message = _("Choose at least one theme.")
        problem = validation_problem([FieldError(field="themes", message=message)])
        try:
            return await _mandates_page(request, conn, session_id, form=values, problem=problem)
        except Refused as refused:
            return _scope_refusal(request, refused, session_id)
    try:
        await prepare_mandate(conn, desk_staff(request), session_id, data, secret=request.app.state.settings.secret_key)
    except Refused as refused:
        return _scope_refusal(request, refused, session_id)
    except Problem as problem:
        if not problem.errors:
            raise
        return await _mandates_page(request, conn, session_id, form=values, problem=problem)
    return await _mandates_page(
        request, conn, session_id, form={"themes": {}, "duration": "1_year"}, created="prepared"
    )


@get(f"{_SESSION}/{{draft_id:uuid}}/form", name="desk-mandate-form", guards=[requires_desk], include_in_schema=False)
async def printable_form(
    request: Request[Any, Any, Any],
    conn: NamedDependency[asyncpg.Connection],
    session_id: FromPath[UUID],
    draft_id: FromPath[UUID],
) -> Response[Any]:
    """The form to print and have the person sign, with the consent text they agree to."""
    staff = desk_staff(request)
    try:
        draft, text = await draft_in_session(conn, staff, session_id, draft_id)
    except Refused as refused:
        return _scope_refusal(request, refused, session_id)
    session, person = await session_person(conn, staff, session_id)
    language = current_language()
    themes = {t.code: t.name for t in await consent_service.published_themes(conn, language)}
    return page(
        request,
        "pages/desk/mandate-form.html",
        session_id=session_id,
        draft=draft,
        reference=form_reference(draft),
        person=person,
        office=session.office,
        legal_text=text,
        themes=[(themes.get(t["code"], t["code"]), t["access"]) for t in draft.themes],
        duration=_(DURATION_LABELS[draft.duration]),
        today=moment(datetime.now(UTC), language, "d MMMM y"),
        errors=[],
        field_errors={},
    )


@post(
    f"{_SESSION}/{{draft_id:uuid}}/signed",
    name="desk-mandate-signed",
    guards=[requires_desk],
    include_in_schema=False,
    status_code=200,
)
async def signed_form_page(
    request: Request[Any, Any, Any],
    conn: NamedDependency[asyncpg.Connection],
    session_id: FromPath[UUID],
    draft_id: FromPath[UUID],
    data: URLEncodedBody[SignedForm],
) -> Response[Any]:
    """Record the signed form: the mandate is given now, and the helper's code is shown once to print."""
    staff = desk_staff(request)
    try:
        invited = await record_form(conn, staff, session_id, draft_id, data.reference)
    except Refused as refused:
        return _scope_refusal(request, refused, session_id)
    except Problem as problem:
        if not problem.errors:
            raise
        return await _mandates_page(
            request, conn, session_id, form={"themes": {}, "duration": "1_year"}, problem=problem
        )
    return page(
        request,
        "pages/desk/mandate-given.html",
        session_id=session_id,
        helper=invited.mandate.mandatary.name,
        code=invited.code,
        code_expires=moment(invited.code_expires_at, current_language(), "d MMMM y"),
    )


ROUTES: Final[list[Any]] = [mandates_page, prepare_page, printable_form, signed_form_page]
