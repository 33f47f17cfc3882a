"""Giving a mandate in three steps, without JavaScript and without a server-side session: who, what, how long.

Each step posts every earlier answer back in hidden fields; only the last step changes anything, and it hands the
whole form to `consent.service.invite`, which checks all of it again. A mistake re-renders the step it belongs to,
with the error summary naming the field. The invitation code is shown once, on the page that answers the last
step (it is never put in an address or stored in clear).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import asyncpg
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.response import Template

from backend.core.auth import rate_limit
from backend.core.auth.actors import SignedIn
from backend.core.auth.guards import requires_sign_in, signed_in_user
from backend.core.errors import Problem
from backend.core.i18n import _, current_language
from backend.core.identifiers import IdentifierError, parse_kbo
from backend.core.identity import queries as identity_queries
from consent import service
from consent.parties import BRUSSELS, acting_for_self
from consent.routes import INVITATIONS_PER_ACCOUNT
from consent.schemas import ThemeOut
from frontend.pages.helpers_grant_form import (
    GrantForm,
    field_error,
    how_long_errors,
    invite_data,
    place,
    read_form,
    what_errors,
    who_errors,
)
from frontend.pages.mandate_display import DURATION_LABELS, day, mandate_view, moment
from frontend.rendering import page

GRANT_PATH: Final = "/helpers/new"
_TEMPLATES: Final = {
    1: "pages/helpers/new-who.html",
    2: "pages/helpers/new-what.html",
    3: "pages/helpers/new-how-long.html",
}


async def _step(
    request: Request[Any, Any, Any],
    conn: asyncpg.Connection,
    step: int,
    form: GrantForm,
    themes: list[ThemeOut],
    errors: list[dict[str, str]] | None = None,
) -> Template:
    """One step of the flow, with the answers so far and, if any, the errors at the top."""
    user = acting_for_self(signed_in_user(request))
    errors = errors or []
    context: dict[str, Any] = {
        "step": step,
        "form": form,
        "hidden": form.hidden(step),
        "themes": themes,
        "errors": errors,
        "field_errors": {error["field_id"]: error["message"] for error in reversed(errors)},
    }
    if step > 1:
        organisation = None
        if form.kind == "organisation":
            try:
                kbo = parse_kbo(form.mandatary_kbo).digits
                organisation = await identity_queries.select_organisation_by_kbo(conn, kbo)
            except IdentifierError:
                organisation = None
        context["organisation"] = None if organisation is None else organisation.name(current_language())
        context["chosen"] = [theme for theme in themes if theme.code in form.themes]
    if step == 3:
        # The consent text in the citizen's own language: the binding words they agree to.
        context["legal_text"] = await service.current_legal_text(conn, user.person.language)
        context["durations"] = [(code, _(label)) for code, label in DURATION_LABELS.items()]
        today = datetime.now(BRUSSELS).date()
        context["latest_day"] = service.latest_end_date(today)
        context["latest_day_label"] = day(service.latest_end_date(today))
    return page(request, _TEMPLATES[step], status_code=422 if errors else 200, **context)


async def _form(request: Request[Any, Any, Any], conn: asyncpg.Connection) -> tuple[GrantForm, list[ThemeOut]]:
    themes = await service.published_themes(conn, current_language())
    return read_form(await request.form(), themes), themes


async def _count_lookup(request: Request[Any, Any, Any], user: SignedIn) -> None:
    """Looking people up by number and surname is bounded per account, as in the JSON API (429 past it)."""
    state = request.app.state
    await rate_limit.enforce(
        state.connection_source, state.settings.secret_key, INVITATIONS_PER_ACCOUNT, str(user.person.person_id)
    )


@get(GRANT_PATH, name="helpers-new", guards=[requires_sign_in], include_in_schema=False)
async def grant_start_page(request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]) -> Template:
    """Step 1 of 3: who will help you, a person or an organisation."""
    return await _step(request, conn, 1, GrantForm(), await service.published_themes(conn, current_language()))


@post(f"{GRANT_PATH}/who", name="helpers-new-who", guards=[requires_sign_in], include_in_schema=False, status_code=200)
async def grant_who_page(request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]) -> Template:
    """Check step 1 (the person or organisation must be known), then show step 2."""
    user = acting_for_self(signed_in_user(request))
    form, themes = await _form(request, conn)
    if form.kind == "person" and form.mandatary_insz and form.mandatary_family_name:
        await _count_lookup(request, user)
    errors = await who_errors(conn, user, form)
    return await _step(request, conn, 1 if errors else 2, form, themes, errors)


@post(
    f"{GRANT_PATH}/what", name="helpers-new-what", guards=[requires_sign_in], include_in_schema=False, status_code=200
)
async def grant_what_page(request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]) -> Template:
    """Check step 2 (themes and, for acting in your name, the acknowledgement), then show step 3."""
    form, themes = await _form(request, conn)
    if "back" in await request.form():
        return await _step(request, conn, 1, form, themes)
    errors = what_errors(form, themes)
    return await _step(request, conn, 2 if errors else 3, form, themes, errors)


@post(
    f"{GRANT_PATH}/confirm",
    name="helpers-new-confirm",
    guards=[requires_sign_in],
    include_in_schema=False,
    status_code=200,
)
async def grant_confirm_page(request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]) -> Template:
    """Check everything again and create the pending mandate; show its code once, with its expiry."""
    user = acting_for_self(signed_in_user(request))
    form, themes = await _form(request, conn)
    if "back" in await request.form():
        return await _step(request, conn, 2, form, themes)
    errors = how_long_errors(form)
    if errors:
        return await _step(request, conn, 3, form, themes, errors)
    if not form.themes:
        return await _step(request, conn, 2, form, themes, what_errors(form, themes))
    await _count_lookup(request, user)
    try:
        # A savepoint: whatever the service refuses leaves nothing behind in the request's transaction.
        async with conn.transaction():
            created = await service.invite(conn, user, invite_data(form, themes))
    except Problem as problem:
        if not problem.errors:
            raise
        placed = [(place(error.field, form, themes), error.message) for error in problem.errors]
        step = min(where[0] for where, _message in placed)
        errors = [field_error(where[1], message) for where, message in placed if where[0] == step]
        return await _step(request, conn, step, form, themes, errors)
    return page(
        request,
        "pages/helpers/created.html",
        status_code=201,
        mandate=mandate_view(created.mandate, "citizen"),
        code=created.code,
        code_expires=moment(created.code_expires_at),
    )


# Registered through frontend.pages.helpers.ROUTES.
ROUTES: Final[list[Any]] = [grant_start_page, grant_who_page, grant_what_page, grant_confirm_page]
