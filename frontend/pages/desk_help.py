"""The person's "Help at a desk": how to get help, a fresh presence code to read out at the desk, every assisted
session about them with what was done, and confirming a mandate prepared at a desk with the code sent to them.

Pages for the signed-in person about themselves: reading their own sessions is not an access by anyone else.
"""

from __future__ import annotations

from typing import Any, Final

import asyncpg
import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import URLEncodedBody
from litestar.response import Template

from backend.core.auth.guards import requires_sign_in, signed_in_user
from backend.core.errors import Problem
from backend.core.i18n import _, current_language
from backend.desk.citizen import issue_presence_code, moment, my_sessions
from backend.desk.codes import spaced
from backend.desk.mandates import confirm_on_own_phone, draft_for_code, legal_text_of
from consent import service as consent_service
from consent.routes import count_code_entry
from frontend.pages.desk_refusals import by_field, field_errors
from frontend.pages.mandate_display import DURATION_LABELS
from frontend.rendering import page

HELP_PATH: Final = "/desk-help"
CONFIRM_PATH: Final = f"{HELP_PATH}/confirm"


class CodeForm(msgspec.Struct, kw_only=True):
    """The six-digit code from the person's messages."""

    code: str = ""


def _own(request: Request[Any, Any, Any]) -> Any:
    user = signed_in_user(request)
    if user.acting_for_someone:
        raise Problem(403, _("Switch back to yourself to see your own help at a desk."), kind="desk-acting-for")
    return user


async def _help_page(
    request: Request[Any, Any, Any], conn: asyncpg.Connection, *, code: Any = None, status: int = 200
) -> Template:
    user = _own(request)
    language = current_language()
    return page(
        request,
        "pages/desk-help/index.html",
        status_code=status,
        sessions=await my_sessions(conn, user.person.person_id, language=language),
        code=None if code is None else spaced(code.code),
        code_expires=None if code is None else moment(code.expires_at, language, "HH:mm"),
    )


@get(HELP_PATH, name="desk-help", guards=[requires_sign_in], include_in_schema=False)
async def desk_help_page(request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]) -> Template:
    """How to get help at a desk, the presence code button, and your past assisted sessions."""
    return await _help_page(request, conn)


@post(f"{HELP_PATH}/code", name="desk-help-code", guards=[requires_sign_in], include_in_schema=False, status_code=200)
async def presence_code_page(request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]) -> Template:
    """A fresh presence code (six digits, ten minutes, once) to read out to the desk agent."""
    user = _own(request)
    code = await issue_presence_code(conn, user.person.person_id, secret=request.app.state.settings.secret_key)
    return await _help_page(request, conn, code=code)


def _code_page(request: Request[Any, Any, Any], code: str, problem: Problem | None) -> Template:
    return page(
        request,
        "pages/desk-help/confirm.html",
        status_code=200 if problem is None else problem.status,
        code=code[:20],
        errors=[] if problem is None else field_errors(problem),
        field_errors={} if problem is None else by_field(problem),
    )


@get(CONFIRM_PATH, name="desk-help-confirm", guards=[requires_sign_in], include_in_schema=False)
async def confirm_start_page(request: Request[Any, Any, Any]) -> Template:
    """Enter the code from your messages to confirm a mandate prepared at a desk."""
    _own(request)
    return _code_page(request, "", None)


@post(
    CONFIRM_PATH, name="desk-help-confirm-preview", guards=[requires_sign_in], include_in_schema=False, status_code=200
)
async def confirm_preview_page(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], data: URLEncodedBody[CodeForm]
) -> Template:
    """What you are about to give, with the consent text, before you confirm (the code is counted)."""
    user = _own(request)
    await count_code_entry(request, user)
    secret = request.app.state.settings.secret_key
    try:
        draft = await draft_for_code(conn, user, data.code, secret=secret)
    except Problem as problem:
        if not problem.errors:
            raise
        return _code_page(request, data.code, problem)
    language = current_language()
    names = {theme.code: theme.name for theme in await consent_service.published_themes(conn, language)}
    return page(
        request,
        "pages/desk-help/confirm-preview.html",
        draft=draft,
        code=data.code.strip()[:20],
        themes=[(names.get(t["code"], t["code"]), t["access"]) for t in draft.themes],
        duration=_(DURATION_LABELS[draft.duration]),
        legal_text=await legal_text_of(conn, draft),
    )


@post(
    f"{CONFIRM_PATH}/answer",
    name="desk-help-confirm-answer",
    guards=[requires_sign_in],
    include_in_schema=False,
    status_code=200,
)
async def confirm_answer_page(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], data: URLEncodedBody[CodeForm]
) -> Response[Any]:
    """Confirm: the mandate is given now, and the code for your helper is shown once."""
    user = _own(request)
    await count_code_entry(request, user)
    try:
        async with conn.transaction():
            invited = await confirm_on_own_phone(conn, user, data.code, secret=request.app.state.settings.secret_key)
    except Problem as problem:
        if not problem.errors:
            raise
        return _code_page(request, data.code, problem)
    return page(
        request,
        "pages/desk-help/confirmed.html",
        helper=invited.mandate.mandatary.name,
        code=invited.code,
        code_expires=moment(invited.code_expires_at, current_language(), "d MMMM y"),
    )


ROUTES: Final[list[Any]] = [
    desk_help_page,
    presence_code_page,
    confirm_start_page,
    confirm_preview_page,
    confirm_answer_page,
]
