"""Resolve the signed-in person on every request, check the session row, renew the token while active.

The session row is read on each request so that sign-out and revocation are felt at once (one statement that also
brings the person, their roles and staff record, on the request's own connection); the person's own language
setting then overrides the browser's. TransactionMiddleware must wrap this middleware: it gives the connection
back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from backend.core import i18n
from backend.core.auth import session_queries, sessions
from backend.core.auth.actors import SignedIn
from backend.core.identity import queries as identity_queries
from backend.core.request_transaction import request_connection
from backend.core.settings import Settings


def session_cookie(settings: Settings, token: str | None) -> Cookie:
    """The session cookie carrying a token, or clearing the cookie when token is None."""
    return Cookie(
        key=sessions.cookie_name(settings.secure_cookies),
        value=token or "",
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        max_age=int(sessions.SESSION_LIFETIME.total_seconds()) if token else 0,
    )


# (connection, person, citizen acted for, organisation worked for or None): may the person still act for them?
ActingForCheck = Callable[[asyncpg.Connection, UUID, UUID, UUID | None], Awaitable[bool]]


async def resolve_signed_in(
    conn: asyncpg.Connection, claims: sessions.SessionClaims, may_act_for: ActingForCheck | None = None
) -> tuple[SignedIn | None, sessions.SessionRow | None]:
    """Load the live session and everything the acting context needs.

    Acting for someone is re-checked on every request (`may_act_for`, provided by the mandates area through the
    composition root), in the session's context (for oneself, or as agent of the organisation worked for): when
    the mandate has ended or the agent is no longer named for it, the session quietly goes back to acting for
    oneself (or for the organisation), so a revocation is felt by the very next request.
    """
    found = await session_queries.select_signed_in(conn, claims.session_id, claims.person_id)
    if found is None:
        return None, None
    row, person, memberships, staff = found.session, found.person, found.memberships, found.staff
    acting_org = row.acting_org if row.acting_org and any(m.org_id == row.acting_org for m in memberships) else None
    acting_for = None
    if row.acting_for is not None:
        async with conn.transaction():
            if may_act_for is not None and await may_act_for(conn, person.person_id, row.acting_for, acting_org):
                acting_for = await identity_queries.select_person(conn, row.acting_for)
            else:
                await sessions.update_acting_context(conn, row.session_id, acting_for=None, acting_org=row.acting_org)
    return (
        SignedIn(
            person=person,
            session_id=row.session_id,
            memberships=memberships,
            staff=staff,
            acting_for=acting_for,
            acting_org=acting_org,
        ),
        row,
    )


class SessionMiddleware(ASGIMiddleware):
    """Sets `scope["user"]` to a SignedIn or None; renews or clears the cookie as needed."""

    scopes = (ScopeType.HTTP,)
    # Static files and operations probes carry no session: skip the lookup for them.
    should_bypass_for_scope = staticmethod(
        lambda scope: scope["path"].startswith("/static/") or scope["path"] in {"/healthz", "/readyz", "/metrics"}
    )

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        app_state: Any = scope["litestar_app"].state
        settings: Settings = app_state.settings
        scope["user"] = None
        token = _cookie(scope, sessions.cookie_name(settings.secure_cookies))
        set_cookie: str | None = None
        if token:
            claims = sessions.read_token(settings.secret_key, token)
            signed_in = None
            if claims is not None:
                # The request's own connection (TransactionMiddleware gives it back): one borrow per request, and
                # a plain session read needs no transaction of its own.
                conn = await request_connection(scope, app_state.connection_source)
                signed_in, _ = await resolve_signed_in(conn, claims, getattr(app_state, "acting_for_check", None))
                if signed_in is not None and datetime.now(UTC) - claims.issued_at > sessions.RENEW_AFTER:
                    await sessions.touch_session(conn, signed_in.session_id)
                    token = sessions.issue_token(
                        settings.secret_key, session_id=signed_in.session_id, person_id=signed_in.person.person_id
                    )
                    set_cookie = session_cookie(settings, token).to_header(header="")
            if signed_in is None:
                set_cookie = session_cookie(settings, None).to_header(header="")
            else:
                scope["user"] = signed_in
                i18n.set_language(signed_in.person.language)

        if set_cookie is None:
            await next_app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                # A handler that set its own session cookie (sign-in, sign-out) wins.
                if not any(
                    value.startswith(sessions.cookie_name(settings.secure_cookies) + "=")
                    for value in headers.getall("set-cookie", [])
                ):
                    headers.add("set-cookie", set_cookie)
            await send(message)

        await next_app(scope, receive, send_with_cookie)


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                cookie_key, _, cookie_value = part.strip().partition("=")
                if cookie_key == name:
                    return cookie_value
    return None
