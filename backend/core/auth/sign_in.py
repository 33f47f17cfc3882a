"""Opening and closing sessions: shared by every way of signing in (OpenID Connect, demo personas)."""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar import Request
from litestar.datastructures import Cookie

from backend.core.auth import sessions
from backend.core.auth.actors import SignedIn
from backend.core.auth.middleware import session_cookie
from backend.core.settings import Settings


async def open_session(
    conn: asyncpg.Connection,
    request: Request[Any, Any, Any],
    *,
    person_id: Any,
    method: sessions.SignInMethod,
) -> Cookie:
    """Start a new session for a person and return its cookie.

    Whatever session the browser had before is ended: a sign-in always gets a fresh session id, so a
    session id planted before sign-in is worthless afterwards.
    """
    settings: Settings = request.app.state.settings
    previous = request.scope.get("user")
    if isinstance(previous, SignedIn):
        await sessions.revoke_session(conn, previous.session_id, reason="replaced")
    session_id = await sessions.insert_session(conn, person_id=person_id, method=method)
    token = sessions.issue_token(settings.secret_key, session_id=session_id, person_id=person_id)
    return session_cookie(settings, token)


async def close_session(conn: asyncpg.Connection, request: Request[Any, Any, Any]) -> Cookie:
    """End the current session (if any) and return the cookie that clears it."""
    settings: Settings = request.app.state.settings
    current = request.scope.get("user")
    if isinstance(current, SignedIn):
        await sessions.revoke_session(conn, current.session_id, reason="signed_out")
    return session_cookie(settings, None)
