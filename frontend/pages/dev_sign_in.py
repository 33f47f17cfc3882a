"""Development only: sign in as a demo persona with one click. The route does not exist elsewhere."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from backend.core.auth import rate_limit
from backend.core.auth.sign_in import open_session
from backend.core.errors import FieldError, validation_problem
from backend.core.identity import queries as identity_queries
from backend.core.identity.demo import PERSONAS
from backend.core.settings import Settings
from frontend.rendering import page, safe_next_path


class PersonaChoice(msgspec.Struct, kw_only=True):
    """The persona button that was pressed."""

    persona: str
    next: FromQuery[str] = "/my"


def _require_development(request: Request[Any, Any, Any]) -> Settings:
    # The composition root registers these routes only in development; this is the second lock.
    settings: Settings = request.app.state.settings
    if not settings.is_development:
        raise NotFoundException()
    return settings


@get("/dev/sign-in", name="dev-sign-in", include_in_schema=False)
async def dev_sign_in_page(request: Request[Any, Any, Any], next: FromQuery[str] = "/my") -> Template:
    """The demo personas, each with what they show and a sign-in button."""
    _require_development(request)
    return page(request, "pages/auth/dev-sign-in.html", personas=PERSONAS, next_path=safe_next_path(next))


@post("/dev/sign-in", name="dev-sign-in-post", include_in_schema=False, status_code=303)
async def dev_sign_in(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], data: URLEncodedBody[PersonaChoice]
) -> Response[Any]:
    """Sign in as the chosen persona."""
    settings = _require_development(request)
    await rate_limit.enforce(
        request.app.state.connection_source,
        settings.secret_key,
        rate_limit.SIGN_IN_PER_ADDRESS,
        request.client.host if request.client else "unknown",
    )
    persona = next((p for p in PERSONAS if p.key == data.persona), None)
    person = await identity_queries.select_person_by_insz(conn, persona.insz) if persona else None
    if person is None:
        raise validation_problem([FieldError(field="persona", message="Unknown demo persona (run `vitrine seed`)")])
    await rate_limit.enforce(
        request.app.state.connection_source,
        settings.secret_key,
        rate_limit.SIGN_IN_PER_ACCOUNT,
        str(person.person_id),
    )
    cookie = await open_session(conn, request, person_id=person.person_id, method="demo")
    return Redirect(path=safe_next_path(data.next), status_code=303, cookies=[cookie])
