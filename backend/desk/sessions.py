"""Assisted sessions: opened only with the person's presence established, time-boxed, scoped, refused after.

A session opens when the person reads out a presence code from their own phone or letter, or after the agent
checks an identity document in person and gives a reason. It lasts 30 minutes, may be extended once by 30,
and ends when the agent ends it or on time-out, which the next request enforces (no job is needed for that).
One person has at most one open session (a partial unique index). Every refusal about an identified person is
logged as denied in that person's access log. Services take a connection and an explicit `now`; never commit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

import asyncpg

from backend.access_log.service import record_access
from backend.core.errors import FieldError, Problem, validation_problem
from backend.core.i18n import N_, _
from backend.core.identity import queries as identity_queries
from backend.core.identity.schemas import Person, StaffMember
from backend.core.identity.service import find_person_by_insz
from backend.desk import code_queries, codes, session_queries
from backend.desk.audit import log_step, session_accessor, staff_accessor
from backend.desk.notices import notify_session_opened
from backend.desk.refusals import Refused
from backend.desk.schemas import (
    DOCUMENT_TYPES,
    EXTENSION,
    REASON_MAX,
    REASON_MIN,
    SCOPES,
    SESSION_LENGTH,
    DeskSession,
    OpenRequest,
    Scope,
)

SCOPE_LABELS: Final[dict[str, str]] = {
    "view_data": N_("View the person's data"),
    "mandates": N_("Help with mandates"),
    "contact": N_("Update e-mail address and language"),
    "error_report": N_("Report an error in a record"),
}
DOCUMENT_LABELS: Final[dict[str, str]] = {
    "be_eid": N_("Belgian identity card (eID)"),
    "be_residence_card": N_("Belgian residence card for foreigners"),
    "passport": N_("Passport"),
    "foreign_eid": N_("Identity card of another EU country"),
}


def _at(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _check_request(data: OpenRequest, errors: list[FieldError]) -> tuple[list[Scope], str | None]:
    """The chosen scopes and the normalised presence code; problems are added to `errors`."""
    scopes = [scope for scope in SCOPES if scope in data.scopes]
    if not scopes or len(scopes) != len(set(data.scopes)):
        errors.append(FieldError(field="scopes", message=_("Choose what you will help with (at least one).")))
    elif "error_report" in scopes and "view_data" not in scopes:
        message = _("To report an error, the person's data must be viewed too: choose both.")
        errors.append(FieldError(field="scopes", message=message))
    reason = data.reason.strip()
    if len(reason) < REASON_MIN or len(reason) > REASON_MAX:
        message = _("Say why the person came, in %(min)s to %(max)s characters.") % {
            "min": REASON_MIN,
            "max": REASON_MAX,
        }
        errors.append(FieldError(field="reason", message=message))
    code = None
    if data.verification == "presence_code":
        code = codes.normalise(data.presence_code)
        if code is None:
            errors.append(
                FieldError(field="presence_code", message=_("A presence code has 6 digits. Ask the person again."))
            )
    else:
        if data.document_type not in DOCUMENT_TYPES:
            errors.append(FieldError(field="document_type", message=_("Choose the document you checked.")))
        last4 = data.document_last4.strip().upper()
        if len(last4) != 4 or not last4.isalnum() or not last4.isascii():
            errors.append(
                FieldError(
                    field="document_last4",
                    message=_("Give the last 4 letters or digits of the document's number."),
                )
            )
    return scopes, code


async def _refuse(
    conn: asyncpg.Connection,
    *,
    citizen: Person,
    staff: StaffMember,
    at: datetime,
    message: str,
    kind: str,
    field: str,
    status: int = 403,
    log_reason: str,
) -> Refused:
    """Log the refusal as denied in the person's access log and return it to raise."""
    await record_access(
        conn,
        citizen_id=citizen.person_id,
        accessor=staff_accessor(staff),
        action="read",
        channel="desk",
        outcome="denied",
        reason=log_reason,
        categories=["identity"],
        occurred_at=at,
    )
    return Refused(status, message, kind=kind, field=field, logged=True)


async def _close_if_expired(conn: asyncpg.Connection, session: DeskSession, at: datetime) -> DeskSession:
    """A session past its time is marked expired (at its own expiry time) on the first request that sees it."""
    if session.ended_at is not None or at < session.expires_at:
        return session
    ended = await session_queries.update_ended(
        conn, session.citizen_id, session.session_id, at=session.expires_at, reason="expired"
    )
    if ended is None:
        return session
    await session_queries.insert_action(
        conn, citizen_id=session.citizen_id, session_id=session.session_id, kind="expired", occurred_at=at
    )
    return ended


async def open_session(
    conn: asyncpg.Connection, staff: StaffMember, data: OpenRequest, *, secret: str, now: datetime | None = None
) -> DeskSession:
    """Open an assisted session for the person with this national number, or refuse with the field named.

    Malformed input is a 422 and logs nothing. A wrong, used or expired presence code, and a person who already
    has an open session, are refused and logged as denied in that person's access log. On success the opening
    is logged, and the person is told at once (inbox, and e-mail by their preferences).
    """
    at = _at(now)
    errors: list[FieldError] = []
    scopes, code = _check_request(data, errors)
    citizen: Person | None = None
    try:
        citizen = await find_person_by_insz(conn, data.insz)
    except Problem as problem:  # a malformed number: its errors name the field
        errors.extend(problem.errors)
    else:
        if citizen is None:
            errors.append(FieldError(field="insz", message=_("No person with this national number is known.")))
        elif citizen.person_id == staff.person_id:
            errors.append(FieldError(field="insz", message=_("You cannot open your own file at the desk.")))
    if errors or citizen is None:
        raise validation_problem(errors)
    open_now = await session_queries.select_open_session_of_citizen(conn, citizen.person_id)
    if open_now is not None:
        open_now = await _close_if_expired(conn, open_now, at)
    if open_now is not None and open_now.ended_at is None:
        message = (
            _("You already have an open session for this person.")
            if open_now.agent_person_id == staff.person_id
            else _("Another agent has a session open for this person. It must end before a new one can start.")
        )
        raise await _refuse(
            conn,
            citizen=citizen,
            staff=staff,
            at=at,
            message=message,
            kind="desk-session-open-elsewhere",
            field="insz",
            status=409,
            log_reason="A second assisted session was refused: one is already open.",
        )
    if code is not None and not await code_queries.use_presence_code(
        conn, citizen.person_id, codes.code_hmac(secret, "presence", citizen.person_id, code), at
    ):
        raise await _refuse(
            conn,
            citizen=citizen,
            staff=staff,
            at=at,
            message=_(
                "This presence code is wrong, already used or expired. Ask the person to show a new code on "
                "their phone."
            ),
            kind="desk-presence-code-refused",
            field="presence_code",
            status=422,
            log_reason="An assisted session was refused: wrong or expired presence code.",
        )
    identity_check = data.verification == "identity_check"
    session = await session_queries.insert_session(
        conn,
        citizen_id=citizen.person_id,
        agent_person_id=staff.person_id,
        agent_ref=staff.pseudonym,
        office=staff.office,
        verification=data.verification,
        document_type=data.document_type if identity_check else None,
        document_last4=data.document_last4.strip().upper() if identity_check else None,
        reason=data.reason.strip(),
        scopes=list(scopes),
        opened_at=at,
        expires_at=at + SESSION_LENGTH,
    )
    if session is None:  # another agent opened one between our look and our insert
        raise await _refuse(
            conn,
            citizen=citizen,
            staff=staff,
            at=at,
            message=_("Another agent has a session open for this person. It must end before a new one can start."),
            kind="desk-session-open-elsewhere",
            field="insz",
            status=409,
            log_reason="A second assisted session was refused: one is already open.",
        )
    await log_step(conn, session, kind="opened", action="read", at=at, categories=["identity"], detail=session.reason)
    await notify_session_opened(conn, session)
    return session


async def session_for(
    conn: asyncpg.Connection, staff: StaffMember, session_id: Any, scope: Scope | None, *, now: datetime | None = None
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
    session = await _close_if_expired(conn, session, at)
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
    conn: asyncpg.Connection, staff: StaffMember, session_id: Any, *, now: datetime | None = None
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
    conn: asyncpg.Connection, staff: StaffMember, session_id: Any, *, now: datetime | None = None
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
    return [await _close_if_expired(conn, session, at) for session in found]


__all__ = [
    "DOCUMENT_LABELS",
    "SCOPE_LABELS",
    "end_session",
    "extend_session",
    "open_session",
    "session_accessor",
    "session_for",
    "session_person",
    "sessions_of_agent",
]


async def session_person(
    conn: asyncpg.Connection, staff: StaffMember, session_id: Any, *, now: datetime | None = None
) -> tuple[DeskSession, Person]:
    """The agent's open session and the person's name (read and logged when the session was opened)."""
    session = await session_for(conn, staff, session_id, None, now=now)
    person = await identity_queries.select_person(conn, session.citizen_id)
    assert person is not None
    return session, person
