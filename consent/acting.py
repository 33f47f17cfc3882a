"""Acting for someone: a helper switches their session to a citizen who gave them a mandate, and back.

`may_act_for` is the one answer to "may this person still act for that citizen?". The session middleware asks it
on every request while a session acts for someone (wired in the composition root as
`app.state.acting_for_check`), so a mandate ended a second ago drops the acting context on the very next request.
What a helper may then see or do is still decided per access by `consent.decision`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from backend.access_log.service import accessor_for, record_access
from backend.core.auth import sessions
from backend.core.auth.actors import Actor, SignedIn
from backend.core.identity.queries import select_person
from consent import acting_queries, decision_queries
from consent.decision import REASON_TEXTS
from consent.schemas import Decision, DecisionReason

__all__ = ["may_act_for", "start_acting_for"]

_STATE_REASONS: dict[str, DecisionReason] = {
    "pending": "mandate_pending",
    "declined": "mandate_declined",
    "revoked": "mandate_revoked",
    "expired": "mandate_expired",
}


async def may_act_for(
    conn: asyncpg.Connection, helper_id: UUID, citizen_id: UUID, *, now: datetime | None = None
) -> bool:
    """True while the helper holds at least one active mandate (any theme, READ or ACT) from the citizen."""
    if helper_id == citizen_id:
        return False
    return await acting_queries.select_holds_active_mandate(conn, citizen_id, helper_id, now or datetime.now(UTC))


async def _refusal(conn: asyncpg.Connection, citizen_id: UUID, helper_id: UUID, at: datetime) -> Decision:
    """Why the helper may not act for the citizen, from the newest mandate between them."""
    grants = await decision_queries.select_person_grants(conn, citizen_id, helper_id, at)
    if not grants:
        return Decision(allowed=False, reason="no_mandate")
    newest = grants[0]
    # An active mandate that still refuses has had all its themes ended.
    reason = "theme_revoked" if newest.state == "active" else _STATE_REASONS[newest.state]
    return Decision(allowed=False, reason=reason, mandate_id=newest.mandate_id)


async def start_acting_for(
    conn: asyncpg.Connection, user: SignedIn, citizen_id: UUID, *, now: datetime | None = None
) -> Decision:
    """Switch the session to acting for the citizen when an active mandate allows it.

    A refusal is written in the citizen's access log (same transaction) and returned, not raised, so that the
    caller answers 403 and the logged refusal is still committed.
    """
    at = now or datetime.now(UTC)
    helper_id = user.person.person_id
    if await may_act_for(conn, helper_id, citizen_id, now=at):
        await sessions.update_acting_context(conn, user.session_id, acting_for=citizen_id, acting_org=None)
        return Decision(allowed=True, reason="mandate")
    if helper_id == citizen_id:
        return Decision(allowed=False, reason="not_a_mandatary")
    refusal = await _refusal(conn, citizen_id, helper_id, at)
    # An id that names nobody has no log to write to; the answer is the same, so probing ids learns nothing.
    if await select_person(conn, citizen_id) is not None:
        actor = Actor(kind="person", person_id=helper_id, session_id=user.session_id)
        await record_access(
            conn,
            citizen_id=citizen_id,
            accessor=accessor_for(actor, subject_id=citizen_id),
            action="read",
            channel="web",
            outcome="denied",
            reason=REASON_TEXTS[refusal.reason],
            mandate_id=refusal.mandate_id,
        )
    return refusal
