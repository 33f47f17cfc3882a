"""Helpers for desk tests: a desk agent, a person with a presence code, and an open session, via the services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from backend.core.identity import queries as identity_queries
from backend.core.identity.schemas import Person, StaffMember
from backend.desk.citizen import issue_presence_code
from backend.desk.schemas import DeskSession, OpenRequest
from backend.desk.sessions import open_session
from tests.factories import TEST_SECRET, create_person, create_staff

SECRET = TEST_SECRET


async def desk_agent(conn: asyncpg.Connection, *roles: str, **overrides: Any) -> StaffMember:
    """A member of desk staff (support role unless told otherwise), as their session resolves them."""
    person = await create_staff(conn, *(roles or ("support",)), **overrides)
    staff = await identity_queries.select_staff(conn, person.person_id)
    assert staff is not None
    return staff


async def insz_of(conn: asyncpg.Connection, person: Person) -> str:
    """The person's current national number (typed by the agent into the form)."""
    insz = await identity_queries.select_current_insz(conn, person.person_id)
    assert insz is not None
    return insz


def open_request(insz: str, **overrides: Any) -> OpenRequest:
    """An opening by identity check for all scopes, unless told otherwise."""
    data: dict[str, Any] = {
        "insz": insz,
        "verification": "identity_check",
        "reason": "Help to read the flexi counter",
        "scopes": ("view_data", "mandates", "contact", "error_report"),
        "document_type": "be_eid",
        "document_last4": "1234",
        **overrides,
    }
    return OpenRequest(**data)


async def opened(
    conn: asyncpg.Connection,
    staff: StaffMember,
    person: Person | None = None,
    *,
    now: datetime,
    with_code: bool = False,
    **overrides: Any,
) -> tuple[Person, DeskSession]:
    """A person and an open session for them (by presence code when `with_code`)."""
    citizen = person or await create_person(conn, email="citizen@example.be")
    if with_code:
        code = await issue_presence_code(conn, citizen.person_id, secret=SECRET, now=now)
        overrides = {"verification": "presence_code", "presence_code": code.code, **overrides}
    request = open_request(await insz_of(conn, citizen), **overrides)
    return citizen, await open_session(conn, staff, request, secret=SECRET, now=now)
