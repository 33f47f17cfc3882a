"""Changes made for the person at the desk: their e-mail address and language, and an error report on a record.

Each runs only in the agent's open session with the matching scope (`session_for`), and is logged as a change in
the person's access log in the same transaction. Error reports go through the records area's own service, as if
the person had filed it themselves.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Final
from uuid import UUID

import asyncpg

from backend.core.errors import FieldError, Problem, validation_problem
from backend.core.i18n import LANGUAGES, Language, _
from backend.core.identity import queries as identity_queries
from backend.core.identity.schemas import Person, StaffMember
from backend.desk.audit import log_step
from backend.desk.gate import session_for
from backend.records.citizen import own_record_view
from backend.records.citizen_schemas import RecordView
from backend.records.error_report_schemas import ErrorReport
from backend.records.error_reports import report_error

_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EMAIL_MAX: Final = 254


async def person_in_session(
    conn: asyncpg.Connection, staff: StaffMember, session_id: UUID, *, now: datetime | None = None
) -> Person:
    """The person's name, e-mail and language for the contact form (the session's scope "contact")."""
    session = await session_for(conn, staff, session_id, "contact", now=now)
    person = await identity_queries.select_person(conn, session.citizen_id)
    assert person is not None
    return person


async def update_contact(
    conn: asyncpg.Connection,
    staff: StaffMember,
    session_id: UUID,
    *,
    email: str,
    language: str,
    now: datetime | None = None,
) -> Person:
    """Change the person's e-mail address (empty removes it) and language, as they ask at the desk."""
    at = now or datetime.now(UTC)
    session = await session_for(conn, staff, session_id, "contact", now=at)
    address = email.strip()
    errors: list[FieldError] = []
    if address and (len(address) > EMAIL_MAX or not _EMAIL.match(address)):
        errors.append(FieldError(field="email", message=_("Give an e-mail address such as name@example.be.")))
    if language not in LANGUAGES:
        errors.append(FieldError(field="language", message=_("Choose one of the languages offered.")))
    if errors:
        raise validation_problem(errors)
    person = await identity_queries.select_person(conn, session.citizen_id)
    assert person is not None
    updated = await identity_queries.update_person_contact(
        conn, person.person_id, email=address or None, phone=person.phone, language=language
    )
    assert updated is not None
    changed = [
        name
        for name, before, after in (("email", person.email, updated.email), ("language", person.language, language))
        if before != after
    ]
    await log_step(
        conn,
        session,
        kind="contact_updated",
        action="change",
        at=at,
        categories=["identity"],
        detail=", ".join(changed) or "unchanged",
    )
    return updated


async def record_for_report(
    conn: asyncpg.Connection,
    staff: StaffMember,
    session_id: UUID,
    record_id: UUID,
    *,
    language: Language,
    now: datetime | None = None,
) -> RecordView:
    """The record the person wants to report an error in, read (and logged) in the session."""
    at = now or datetime.now(UTC)
    session = await session_for(conn, staff, session_id, "error_report", now=at)
    record = await own_record_view(conn, session.citizen_id, record_id, language=language)
    if record is None:
        raise Problem(404, _("There is no such record about this person."), kind="no-such-record")
    await log_step(
        conn,
        session,
        kind="viewed",
        action="read",
        at=at,
        categories=[record.category],
        record_refs=[str(record.record_id)],
        detail=record.category,
    )
    return record


async def file_error_report(
    conn: asyncpg.Connection,
    staff: StaffMember,
    session_id: UUID,
    record_id: UUID,
    message: str,
    *,
    now: datetime | None = None,
) -> ErrorReport:
    """Send the person's error report to the institution that declared the record."""
    at = now or datetime.now(UTC)
    session = await session_for(conn, staff, session_id, "error_report", now=at)
    report = await report_error(conn, citizen_id=session.citizen_id, record_id=record_id, message=message)
    await log_step(
        conn,
        session,
        kind="error_reported",
        action="change",
        at=at,
        categories=[report.category],
        record_refs=[str(record_id)],
        detail=report.category,
    )
    return report
