"""The signed-in person's overview and the explicit switch of acting context."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from backend.core.auth import sessions
from backend.core.auth.guards import requires_sign_in, signed_in_user
from backend.core.errors import FieldError, validation_problem
from backend.core.i18n import _, current_language
from frontend.rendering import page, safe_next_path


class ActingChoice(msgspec.Struct, kw_only=True):
    """`self`, or `org:<id>` for an organisation the person works for."""

    choice: str
    next: FromQuery[str] = "/my"


@get("/my", name="my-overview", guards=[requires_sign_in], include_in_schema=False)
async def my_overview(request: Request[Any, Any, Any]) -> Template:
    """Who is signed in, for whom they act, and where to go next."""
    user = signed_in_user(request)
    language = current_language()
    choices = [{"value": "self", "label": _("For myself"), "checked": user.acting_org is None}]
    for membership in user.memberships:
        organisation = {"nl": membership.org_name_nl, "de": membership.org_name_de}.get(
            language, membership.org_name_fr
        )
        label = (
            _("As access manager of %(organisation)s")
            if membership.role == "access_manager"
            else _("As agent of %(organisation)s")
        )
        choices.append(
            {
                "value": f"org:{membership.org_id}",
                "label": label % {"organisation": organisation},
                "checked": user.acting_org == membership.org_id,
            }
        )
    return page(request, "pages/account/overview.html", me=user, choices=choices)


@post("/acting-context", name="acting-context", guards=[requires_sign_in], include_in_schema=False, status_code=303)
async def switch_acting_context(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], data: URLEncodedBody[ActingChoice]
) -> Response[Any]:
    """Switch explicitly between acting for oneself and working as an organisation's agent."""
    user = signed_in_user(request)
    if data.choice == "self":
        await sessions.update_acting_context(conn, user.session_id, acting_for=None, acting_org=None)
    elif data.choice.startswith("org:"):
        try:
            org_id = UUID(data.choice.removeprefix("org:"))
        except ValueError:
            org_id = None
        if org_id is None or user.membership(org_id) is None:
            raise validation_problem([FieldError(field="choice", message="You do not work for this organisation")])
        await sessions.update_acting_context(conn, user.session_id, acting_for=None, acting_org=org_id)
    else:
        raise validation_problem([FieldError(field="choice", message="Choose yourself or an organisation")])
    return Redirect(path=safe_next_path(data.next), status_code=303)
