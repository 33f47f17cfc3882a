"""The person's side of desk help: a fresh presence code on their own phone, and every past assisted session.

Reading one's own sessions is not an access by anyone else: nothing here writes to the access log.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import msgspec
from babel.dates import format_datetime

from backend.core.i18n import N_, Language, _
from backend.desk import code_queries, codes, session_queries
from backend.desk.labels import DOCUMENT_LABELS, SCOPE_LABELS
from backend.desk.schemas import PRESENCE_CODE_VALIDITY, DeskSession, PresenceCode, SessionAction

BRUSSELS: Final = ZoneInfo("Europe/Brussels")
_LOCALES: Final[dict[str, str]] = {"nl": "nl_BE", "fr": "fr_BE", "de": "de_BE", "en": "en_BE"}
ACTION_LABELS: Final[dict[str, str]] = {
    "opened": N_("Opened your file"),
    "viewed": N_("Looked at your data with you"),
    "summary_printed": N_("Printed a summary for you"),
    "mandate_prepared": N_("Prepared a mandate with you"),
    "mandate_confirmed": N_("The mandate was confirmed"),
    "contact_updated": N_("Changed your e-mail address or language"),
    "error_reported": N_("Reported an error in a record for you"),
    "extended": N_("Extended the session by 30 minutes"),
    "ended": N_("Ended the session"),
    "expired": N_("The session ended on time-out"),
    "refused": N_("An action was refused"),
}


class ActionView(msgspec.Struct, frozen=True, kw_only=True):
    """One step of a session in words, with its Brussels time."""

    time: str
    label: str


class SessionView(msgspec.Struct, frozen=True, kw_only=True):
    """A past or current session as the person sees it."""

    session_id: UUID
    agent_ref: str
    office: str
    when: str
    how: str
    reason: str
    scopes: list[str]
    actions: list[ActionView]
    open: bool


def moment(value: datetime, language: Language, pattern: str = "d MMMM y, HH:mm") -> str:
    """A moment in Brussels time, written for the language."""
    return format_datetime(value.astimezone(BRUSSELS), pattern, locale=_LOCALES[language])


def how_label(session: DeskSession) -> str:
    """How the person's presence was established, in words."""
    if session.verification == "presence_code":
        return _("You read out a presence code from your phone or letter")
    document = _(DOCUMENT_LABELS.get(session.document_type or "", session.document_type or ""))
    return _("The agent checked your identity document: %(document)s") % {"document": document}


async def issue_presence_code(
    conn: asyncpg.Connection, citizen_id: UUID, *, secret: str, now: datetime | None = None
) -> PresenceCode:
    """A fresh six-digit code for the desk, valid ten minutes, once; any earlier unused code stops working."""
    at = now or datetime.now(UTC)
    code = codes.new_code()
    await code_queries.supersede_live_codes(conn, citizen_id, at)
    await code_queries.insert_presence_code(
        conn,
        citizen_id,
        code_hmac=codes.code_hmac(secret, "presence", citizen_id, code),
        created_at=at,
        expires_at=at + PRESENCE_CODE_VALIDITY,
    )
    return PresenceCode(code=code, expires_at=at + PRESENCE_CODE_VALIDITY)


def _view(session: DeskSession, actions: list[SessionAction], language: Language, at: datetime) -> SessionView:
    return SessionView(
        session_id=session.session_id,
        agent_ref=session.agent_ref,
        office=session.office,
        when=moment(session.opened_at, language),
        how=how_label(session),
        reason=session.reason,
        scopes=[_(SCOPE_LABELS[scope]) for scope in session.scopes],
        actions=[
            ActionView(time=moment(action.occurred_at, language, "HH:mm"), label=_(ACTION_LABELS[action.kind]))
            for action in actions
            if action.session_id == session.session_id
        ],
        open=session.is_open(at),
    )


async def my_sessions(
    conn: asyncpg.Connection, citizen_id: UUID, *, language: Language, now: datetime | None = None
) -> list[SessionView]:
    """Every assisted session about the person, newest first, with what was done in each."""
    at = now or datetime.now(UTC)
    sessions = await session_queries.select_sessions_of_citizen(conn, citizen_id)
    actions = await session_queries.select_actions(conn, citizen_id, [s.session_id for s in sessions])
    return [_view(session, actions, language, at) for session in sessions]
