"""The helper's "People I help": the mandates a person holds, acting for one of those people, ending a mandate,
and answering an invitation with its code (see who invited you and for what, then accept or decline).

"Act for this person" asks consent whether an active mandate exists right now; a refusal is answered with a 403
page, returned rather than raised, so that the refusal written in that person's access log is committed.
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
from litestar.response import Redirect, Template

from backend.core.auth.guards import requires_sign_in, signed_in_user
from backend.core.errors import Problem
from backend.core.i18n import N_, _, current_language
from consent import ending, invitations, service
from consent.acting import start_acting_for
from consent.parties import mandate_of_party, no_such_mandate
from consent.routes import count_code_entry
from consent.views import mandates_out
from frontend.pages.helpers import REASON_MAX, EndForm
from frontend.pages.mandate_display import grouped, mandate_view
from frontend.rendering import page

HELPING_PATH: Final = "/helping"
ACCEPT_PATH: Final = f"{HELPING_PATH}/accept"
_DONE: Final = {
    "accepted": N_("You accepted the mandate. You can now help this person."),
    "declined": N_("You declined the invitation."),
    "ended": N_("The mandate has ended. It stopped at once."),
}


class ActForm(msgspec.Struct, kw_only=True):
    """The person to act for (an internal id, never a national number)."""

    citizen_id: str = ""


class CodeForm(msgspec.Struct, kw_only=True):
    """An invitation code as typed, and, when declining, why (optional)."""

    code: str = ""
    reason: str = ""


@get(HELPING_PATH, name="helping", guards=[requires_sign_in], include_in_schema=False)
async def helping_page(request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]) -> Template:
    """The people who gave you a mandate: what you may do for each, until when, and acting for them."""
    user = signed_in_user(request)
    mandates = await service.mandates_received(conn, user)
    done = _DONE.get(request.query_params.get("done", ""))
    return page(
        request,
        "pages/helping/index.html",
        groups=grouped([mandate_view(m, "mandatary") for m in mandates]),
        done=None if done is None else _(done),
        acting_for=user.acting_for,
    )


@post(f"{HELPING_PATH}/act", name="helping-act", guards=[requires_sign_in], include_in_schema=False, status_code=303)
async def act_for_page(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], data: URLEncodedBody[ActForm]
) -> Response[Any]:
    """Act for this person from now on (the banner shows on every page), if an active mandate allows it.

    Working as agent of an organisation, the mandate must be the organisation's and name this agent.
    """
    user = signed_in_user(request)
    try:
        citizen_id = UUID(data.citizen_id)
    except ValueError:
        citizen_id = None
    decision = None if citizen_id is None else await start_acting_for(conn, user, citizen_id)
    if decision is None or not decision.allowed:
        return page(request, "pages/helping/act-refused.html", status_code=403, as_agent=user.acting_org is not None)
    return Redirect(path="/my", status_code=303)


async def _mandate_page(
    request: Request[Any, Any, Any], conn: asyncpg.Connection, mandate_id: UUID, template: str, **context: Any
) -> Template:
    user = signed_in_user(request)
    at = datetime.now(UTC)
    row, side = await mandate_of_party(conn, user, mandate_id, at)
    if side != "mandatary" or row.mandatary_person_id != user.person.person_id:
        raise no_such_mandate()
    mandate = (await mandates_out(conn, [row], current_language(), at))[0]
    return page(request, template, mandate=mandate_view(mandate, "mandatary"), name=mandate.citizen.name, **context)


@get(f"{HELPING_PATH}/{{mandate_id:uuid}}/end", name="helping-end", guards=[requires_sign_in], include_in_schema=False)
async def helping_end_confirm_page(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], mandate_id: FromPath[UUID]
) -> Template:
    """Are you sure? You stop helping this person at once."""
    return await _mandate_page(
        request,
        conn,
        mandate_id,
        "pages/helpers/end-confirm.html",
        theme=None,
        action=f"{HELPING_PATH}/{mandate_id}/end",
        back=HELPING_PATH,
        reason_max=REASON_MAX,
    )


@post(
    f"{HELPING_PATH}/{{mandate_id:uuid}}/end",
    name="helping-end-post",
    guards=[requires_sign_in],
    include_in_schema=False,
    status_code=303,
)
async def helping_end_page(
    request: Request[Any, Any, Any],
    conn: NamedDependency[asyncpg.Connection],
    mandate_id: FromPath[UUID],
    data: URLEncodedBody[EndForm],
) -> Response[Any]:
    """End the mandate from the helper's side; the person need not agree."""
    reason = data.reason.strip()[:REASON_MAX] or None
    await ending.end_mandate(conn, signed_in_user(request), mandate_id, reason=reason)
    return Redirect(path=f"{HELPING_PATH}?done=ended", status_code=303)


def _code_page(request: Request[Any, Any, Any], code: str, problem: Problem) -> Template:
    errors = [{"field_id": "code", "message": error.message} for error in problem.errors]
    return page(
        request, "pages/helping/accept.html", status_code=problem.status, code=code, errors=errors, code_error=errors[0]
    )


@get(ACCEPT_PATH, name="helping-accept", guards=[requires_sign_in], include_in_schema=False)
async def accept_start_page(request: Request[Any, Any, Any]) -> Template:
    """Enter the code you were given."""
    signed_in_user(request)
    return page(request, "pages/helping/accept.html", code="", errors=[], code_error=None)


@post(ACCEPT_PATH, name="helping-accept-preview", guards=[requires_sign_in], include_in_schema=False, status_code=200)
async def accept_preview_page(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], data: URLEncodedBody[CodeForm]
) -> Template:
    """Who invited you and for what, with Accept and Decline (the code is counted against guessing)."""
    user = signed_in_user(request)
    await count_code_entry(request, user)
    try:
        mandate = await invitations.preview_invitation(conn, user, data.code)
    except Problem as problem:
        if not problem.errors:
            raise
        return _code_page(request, data.code, problem)
    return page(
        request,
        "pages/helping/accept-preview.html",
        mandate=mandate_view(mandate, "mandatary"),
        code=data.code.strip()[:40],
        reason_max=REASON_MAX,
    )


@post(
    f"{ACCEPT_PATH}/answer",
    name="helping-accept-answer",
    guards=[requires_sign_in],
    include_in_schema=False,
    status_code=303,
)
async def accept_answer_page(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], data: URLEncodedBody[CodeForm]
) -> Response[Any]:
    """Accept (the mandate starts now) or decline (with an optional reason); the code is then spent."""
    user = signed_in_user(request)
    declining = "decline" in await request.form()
    await count_code_entry(request, user)
    try:
        # A savepoint: a refused answer leaves nothing behind in the request's transaction.
        async with conn.transaction():
            if declining:
                reason = data.reason.strip()[:REASON_MAX] or None
                await invitations.decline_invitation(conn, user, data.code, reason=reason)
            else:
                await invitations.accept_invitation(conn, user, data.code)
    except Problem as problem:
        if not problem.errors:
            raise
        return _code_page(request, data.code, problem)
    return Redirect(path=f"{HELPING_PATH}?done={'declined' if declining else 'accepted'}", status_code=303)


# Registered by the composition root (backend/app.py).
ROUTES: Final[list[Any]] = [
    helping_page,
    act_for_page,
    helping_end_confirm_page,
    helping_end_page,
    accept_start_page,
    accept_preview_page,
    accept_answer_page,
]
