"""What a desk session leaves behind: a step in the session's history and an event in the person's access log.

Both go through the caller's transaction, so an action and its log row stand or fall together. The access log is
written only through `record_access`, with the staff member's pseudonym, their office and the session as case.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from backend.access_log.schemas import Accessor, Action, Outcome
from backend.access_log.service import record_access
from backend.core.identity.schemas import StaffMember
from backend.desk import session_queries
from backend.desk.schemas import ActionKind, DeskSession


def staff_accessor(staff: StaffMember) -> Accessor:
    """A member of desk staff as the access log names them: pseudonym and office, never a name."""
    return Accessor(kind="staff", org_id=staff.org_id, system=staff.office, role="support", ref=staff.pseudonym)


def session_accessor(session: DeskSession) -> Accessor:
    """The agent of a session, as recorded when it was opened."""
    return Accessor(kind="staff", system=session.office, role="support", ref=session.agent_ref)


async def log_step(
    conn: asyncpg.Connection,
    session: DeskSession,
    *,
    kind: ActionKind,
    action: Action,
    at: datetime,
    categories: Sequence[str] = (),
    record_refs: Sequence[str] = (),
    detail: str | None = None,
    accessor: Accessor | None = None,
    outcome: Outcome = "granted",
    reason: str | None = None,
) -> None:
    """One step of the session in its history and, in the same transaction, in the person's access log."""
    await session_queries.insert_action(
        conn, citizen_id=session.citizen_id, session_id=session.session_id, kind=kind, occurred_at=at, detail=detail
    )
    await record_access(
        conn,
        citizen_id=session.citizen_id,
        accessor=accessor or session_accessor(session),
        action=action,
        channel="desk",
        outcome=outcome,
        reason=reason,
        categories=categories,
        record_refs=record_refs,
        case_ref=session.case_ref,
        occurred_at=at,
    )
