"""The gate in front of every desk action on someone's file, and a session's extension and end.

Only the agent who opened the session may use it, only within the scopes chosen at opening, and only until it
ends: explicitly, or on time-out, which the next request enforces (no job is needed for that). Every refusal is
logged as denied in the person's access log. Services take a connection and an explicit `now`; never commit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from backend.core.i18n import _
from backend.core.identity import queries as identity_queries
from backend.core.identity.schemas import Person, StaffMember
from backend.desk import session_queries
from backend.desk.audit import log_step, staff_accessor
from backend.desk.labels import SCOPE_LABELS
from backend.desk.refusals import Refused
from backend.desk.schemas import EXTENSION, DeskSession, Scope
from backend.desk.sessions import close_if_expired


def _at(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


async def session_for(
    conn: asyncpg.Connection, staff: StaffMember, session_id: UUID, scope: Scope | None, *, now: datetime | None = None
) -> DeskSession:
    """The agent's own open session, within `scope` when one is given; otherwise a refusal, logged as denied.

    This is the one gate in front of every desk action on someone's file: another agent's session, an ended or
    expired session, and an action outside the scopes chosen at opening are all refused here.
    """
    at = _at(now)
    session = await session_queries.select_session(conn, session_id)
    if session is None:
        raise Refused(404, _("There is no such session."), kind="desk-session-unknown", field="session", logged=False)
    if session.agent_person_id != staff.person_id:
        await log_step(
            conn,
            session,
            kind="refused",
            action="read",
            at=at,
            accessor=staff_accessor(staff),
            outcome="denied",
            reason="An agent tried to use an assisted session that was not theirs.",
            detail="another agent",
        )
        raise Refused(
            403,
            _("This session is not yours. Open your own session with the person."),
            kind="desk-session-not-yours",
            field="session",
            logged=True,
        )
    session = await close_if_expired(conn, session, at)
    if session.ended_at is not None:
        await log_step(
            conn,
            session,
            kind="refused",
            action="read",
            at=at,
            outcome="denied",
            reason="An action was refused: the assisted session had ended.",
            detail="ended",
        )
        message = (
            _("This session has expired. Open a new session with the person if they still need help.")
            if session.end_reason == "expired"
            else _("This session has ended. Open a new session with the person if they still need help.")
        )
        raise Refused(403, message, kind="desk-session-ended", field="session", logged=True)
    if scope is not None and scope not in session.scopes:
        await log_step(
            conn,
            session,
            kind="refused",
            action="read",
            at=at,
            outcome="denied",
            reason=f"An action outside the session's scope was refused ({scope}).",
            detail=scope,
        )
        raise Refused(
            403,
            _("This is outside what the person agreed to at the start of the session: %(scope)s.")
            % {"scope": _(SCOPE_LABELS[scope])},
            kind="desk-session-scope",
            field="session",
            logged=True,
        )
    return session


async def extend_session(
    conn: asyncpg.Connection, staff: StaffMember, session_id: UUID, *, now: datetime | None = None
) -> DeskSession:
    """Give an open session 30 more minutes, once."""
    at = _at(now)
    session = await session_for(conn, staff, session_id, None, now=at)
    extended = await session_queries.update_extended(
        conn, session.citizen_id, session.session_id, at=at, expires_at=session.expires_at + EXTENSION
    )
    if extended is None:
        await log_step(
            conn,
            session,
            kind="refused",
            action="change",
            at=at,
            outcome="denied",
            reason="A second extension of the assisted session was refused.",
            detail="extension",
        )
        raise Refused(
            409,
            _("A session can be extended only once. End it and open a new one if more time is needed."),
            kind="desk-session-extended",
            field="session",
            logged=True,
        )
    await log_step(conn, extended, kind="extended", action="change", at=at)
    return extended


async def end_session(
    conn: asyncpg.Connection, staff: StaffMember, session_id: UUID, *, now: datetime | None = None
) -> DeskSession:
    """End the agent's open session now."""
    at = _at(now)
    session = await session_for(conn, staff, session_id, None, now=at)
    ended = await session_queries.update_ended(conn, session.citizen_id, session.session_id, at=at, reason="ended")
    assert ended is not None, "session_for returned an open session, locked by nothing else in this transaction"
    await log_step(conn, ended, kind="ended", action="read", at=at)
    return ended


async def sessions_of_agent(
    conn: asyncpg.Connection, staff: StaffMember, *, now: datetime | None = None
) -> list[DeskSession]:
    """The agent's latest sessions, the ones past their time shown as expired."""
    at = _at(now)
    found = await session_queries.select_sessions_of_agent(conn, staff.person_id)
    return [await close_if_expired(conn, session, at) for session in found]


async def session_person(
    conn: asyncpg.Connection, staff: StaffMember, session_id: UUID, *, now: datetime | None = None
) -> tuple[DeskSession, Person]:
    """The agent's open session and the person's name (read and logged when the session was opened)."""
    session = await session_for(conn, staff, session_id, None, now=now)
    person = await identity_queries.select_person(conn, session.citizen_id)
    assert person is not None
    return session, person
