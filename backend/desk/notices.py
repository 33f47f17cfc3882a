"""What the person is told about desk sessions, through the notifications outbox (inbox always, e-mail by choice).

The outbox row is written in the same transaction as the session change, so the person is told exactly when
the change happened, and never twice (the deduplication key names the session or the draft).
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from backend.desk.schemas import DeskSession
from notifications.outbox import enqueue_notification


async def notify_session_opened(conn: asyncpg.Connection, session: DeskSession) -> None:
    """ "An agent at <office> opened your file, why": owed at once to the person."""
    await enqueue_notification(
        conn,
        citizen_id=session.citizen_id,
        kind="desk_session_opened",
        dedup_key=f"desk-session-opened:{session.session_id}",
        payload={
            "office": session.office,
            "reason": session.reason,
            "opened_at": session.opened_at.isoformat(),
            "agent_ref": session.agent_ref,
        },
    )


async def send_mandate_code(
    conn: asyncpg.Connection, session: DeskSession, *, draft_id: object, code: str, expires_at: datetime
) -> None:
    """The code that confirms a mandate prepared at the desk, sent to the person's own inbox (and e-mail)."""
    await enqueue_notification(
        conn,
        citizen_id=session.citizen_id,
        kind="desk_mandate_code",
        dedup_key=f"desk-mandate-code:{draft_id}",
        payload={"office": session.office, "code": code, "expires_at": expires_at.isoformat()},
    )
