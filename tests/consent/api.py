"""Shared set-up for the mandate API tests: the app (backend/app.py wires the mandate routes), signing in."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import httpx

from backend.core.auth import sessions
from backend.core.identity.schemas import Person
from backend.core.settings import Settings


async def sign_in(client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings, person: Person) -> UUID:
    """Open a session for the person and make the client carry it; returns the session id."""
    session_id = await sessions.insert_session(conn, person_id=person.person_id, method="demo")
    client.cookies.set(
        sessions.cookie_name(settings.secure_cookies),
        sessions.issue_token(settings.secret_key, session_id=session_id, person_id=person.person_id),
    )
    return session_id
