"""Opening an assisted session: only with the person's presence established, by their own code or an ID check.

A session opens when the person reads out a presence code from their own phone or letter, or after the agent
checks an identity document in person and gives a reason. It lasts 30 minutes (see `backend.desk.gate` for its
use, extension and end). One person has at most one open session (a partial unique index). Malformed input is a
422 and logs nothing; a wrong, used or expired code and a second session are refused and logged as denied in
the person's access log. Services take a connection and an explicit `now`; they never commit.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from backend.access_log.service import record_access
from backend.core.errors import FieldError, Problem, validation_problem
from backend.core.i18n import _
from backend.core.identity.schemas import Person, StaffMember
from backend.core.identity.service import find_person_by_insz
from backend.desk import code_queries, codes, session_queries
from backend.desk.audit import log_step, staff_accessor
from backend.desk.notices import notify_session_opened
from backend.desk.refusals import Refused
from backend.desk.schemas import (
    DOCUMENT_TYPES,
    REASON_MAX,
    REASON_MIN,
    SCOPES,
    SESSION_LENGTH,
    DeskSession,
    OpenRequest,
    Scope,
)


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


async def close_if_expired(conn: asyncpg.Connection, session: DeskSession, at: datetime) -> DeskSession:
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
        open_now = await close_if_expired(conn, open_now, at)
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
