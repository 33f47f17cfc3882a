"""Signing in and out: the sign-in page, the OpenID Connect round trip, sign-out."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter
from litestar.response import Redirect, Template

from backend.core.auth import rate_limit
from backend.core.auth.oidc import OidcError
from backend.core.auth.sign_in import close_session, open_session
from backend.core.errors import Problem
from backend.core.identity import queries as identity_queries
from backend.core.settings import Settings
from frontend.rendering import page, safe_next_path


def _client_address(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


async def _oidc_attempt(request: Request[Any, Any, Any]) -> Settings:
    """Every step of the OIDC round trip: 404 where it is not configured, and counted per address."""
    settings: Settings = request.app.state.settings
    if not settings.oidc_enabled:
        raise Problem(404, "Sign-in through the federal authentication service is not configured here.")
    await rate_limit.enforce(
        request.app.state.connection_source,
        settings.secret_key,
        rate_limit.SIGN_IN_PER_ADDRESS,
        _client_address(request),
    )
    return settings


@get("/sign-in", name="sign-in", include_in_schema=False)
async def sign_in_page(request: Request[Any, Any, Any], next: FromQuery[str] = "/my") -> Template:
    """How to sign in: the federal authentication service, and in development the demo personas."""
    settings: Settings = request.app.state.settings
    return page(
        request,
        "pages/auth/sign-in.html",
        next_path=safe_next_path(next),
        oidc_enabled=settings.oidc_enabled,
        demo_enabled=settings.is_development,
    )


@get("/auth/oidc/start", name="oidc-start", include_in_schema=False)
async def oidc_start(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], next: FromQuery[str] = "/my"
) -> Redirect:
    """Send the browser to the identity provider with state, nonce and a PKCE challenge."""
    await _oidc_attempt(request)
    url = await request.app.state.oidc.authorization_url(conn, safe_next_path(next))
    return Redirect(path=url, status_code=303)


@get("/auth/oidc/callback", name="oidc-callback", include_in_schema=False)
async def oidc_callback(
    request: Request[Any, Any, Any],
    conn: NamedDependency[asyncpg.Connection],
    code: FromQuery[str | None] = None,
    oidc_state: Annotated[str | None, QueryParameter(name="state")] = None,
    error: FromQuery[str | None] = None,
) -> Response[Any]:
    """Finish the round trip: verify the ID token, find the person, open a session."""
    settings = await _oidc_attempt(request)
    app_state = request.app.state
    if error or not code or not oidc_state:
        raise Problem(401, "Sign-in was cancelled or refused by the identity provider.", kind="sign-in-failed")
    try:
        login = await app_state.oidc.complete(conn, code=code, state=oidc_state)
    except OidcError:
        raise Problem(401, "Sign-in could not be completed. Please try again.", kind="sign-in-failed") from None
    person = (
        await identity_queries.select_person_by_insz(conn, login.national_number) if login.national_number else None
    )
    if person is None:
        raise Problem(403, "Vitrine does not know this person yet.", kind="unknown-person")
    await rate_limit.enforce(
        app_state.connection_source, settings.secret_key, rate_limit.SIGN_IN_PER_ACCOUNT, str(person.person_id)
    )
    cookie = await open_session(conn, request, person_id=person.person_id, method="oidc")
    return Redirect(path=safe_next_path(login.next_path), status_code=303, cookies=[cookie])


@post("/sign-out", name="sign-out", include_in_schema=False, status_code=303)
async def sign_out(request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]) -> Response[Any]:
    """End the session at once (the next request is anonymous) and go back to the home page."""
    cookie = await close_session(conn, request)
    return Redirect(path="/?signed_out=1", status_code=303, cookies=[cookie])
