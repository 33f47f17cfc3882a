"""Shared set-up for the mandate API tests: the app with the mandate routes, and signing a person in."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import httpx
from litestar import Litestar

from backend.core.auth import sessions
from backend.core.identity.schemas import Person
from backend.core.settings import Settings
from consent.routes import ROUTES


def with_mandate_routes(app: Litestar) -> Litestar:
    """The app, with the mandate controllers registered if backend/app.py does not wire them yet."""
    paths = {route.path for route in app.routes}
    if "/api/v1/mandates/check" not in paths:
        for controller in ROUTES:
            app.register(controller)
    return app


async def sign_in(client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings, person: Person) -> UUID:
    """Open a session for the person and make the client carry it; returns the session id."""
    session_id = await sessions.insert_session(conn, person_id=person.person_id, method="demo")
    client.cookies.set(
        sessions.cookie_name(settings.secure_cookies),
        sessions.issue_token(settings.secret_key, session_id=session_id, person_id=person.person_id),
    )
    return session_id
