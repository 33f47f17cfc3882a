"""Acting for someone: a helper switches their session to a citizen who gave them a mandate, and back.

A person acts for a citizen under a mandate given to them. An organisation's agent, working as agent of that
organisation (the session's `acting_org`), acts for a client under the organisation's mandate, and only while
the organisation names them for that mandate or for all its clients.

`may_act_for` is the one answer to "may this person still act for that citizen?". The session middleware asks it
on every request while a session acts for someone (wired in the composition root as
`app.state.acting_for_check`), so a mandate ended, or an agent withdrawn, a second ago drops the acting context on
the very next request. What a helper may then see or do is still decided per access by `consent.decision`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from backend.access_log.service import accessor_for, record_access
from backend.core.auth import sessions
from backend.core.auth.actors import SignedIn
from backend.core.identity.queries import select_person
from consent import acting_queries, decision_queries
from consent.decision import REASON_TEXTS
from consent.decision_queries import GrantRow
from consent.schemas import Decision, DecisionReason

__all__ = ["may_act_for", "start_acting_for"]

_STATE_REASONS: dict[str, DecisionReason] = {
    "pending": "mandate_pending",
    "declined": "mandate_declined",
    "revoked": "mandate_revoked",
    "expired": "mandate_expired",
}


async def may_act_for(
    conn: asyncpg.Connection,
    helper_id: UUID,
    citizen_id: UUID,
    acting_org: UUID | None = None,
    *,
    now: datetime | None = None,
) -> bool:
    """True while the helper may act for the citizen in this context.

    For oneself (`acting_org` None): the helper holds an active mandate (any theme, READ or ACT) from the citizen.
    As agent of an organisation: the organisation holds one, and names this agent for it or for all clients.
    """
    if helper_id == citizen_id:
        return False
    at = now or datetime.now(UTC)
    if acting_org is not None:
        return await acting_queries.select_agent_may_act(conn, citizen_id, acting_org, helper_id, at)
    return await acting_queries.select_holds_active_mandate(conn, citizen_id, helper_id, at)


def _refusal(grants: Sequence[GrantRow]) -> Decision:
    """Why the helper may not act for the citizen, from the mandates between them (newest first)."""
    if not grants:
        return Decision(allowed=False, reason="no_mandate")
    usable = [g for g in grants if g.state == "active" and g.theme_active]
    if usable:
        # Only an organisation's mandate can be usable and still refuse: the agent is not (or no longer) entitled.
        reason: DecisionReason = "agent_not_member" if not usable[0].agent_is_member else "agent_not_assigned"
        return Decision(allowed=False, reason=reason, mandate_id=usable[0].mandate_id)
    newest = grants[0]
    # An active mandate that still refuses has had all its themes ended.
    reason = "theme_revoked" if newest.state == "active" else _STATE_REASONS[newest.state]
    return Decision(allowed=False, reason=reason, mandate_id=newest.mandate_id)


async def start_acting_for(
    conn: asyncpg.Connection, user: SignedIn, citizen_id: UUID, *, now: datetime | None = None
) -> Decision:
    """Switch the session to acting for the citizen when an active mandate allows it, in the session's context
    (for oneself, or as agent of the organisation the person works for now, which the session keeps).

    A refusal is written in the citizen's access log (same transaction) and returned, not raised, so that the
    caller answers 403 and the logged refusal is still committed.
    """
    at = now or datetime.now(UTC)
    helper_id = user.person.person_id
    org_id = user.acting_org
    if await may_act_for(conn, helper_id, citizen_id, org_id, now=at):
        await sessions.update_acting_context(conn, user.session_id, acting_for=citizen_id, acting_org=org_id)
        return Decision(allowed=True, reason="mandate")
    if helper_id == citizen_id:
        return Decision(allowed=False, reason="not_a_mandatary")
    if org_id is None:
        grants = await decision_queries.select_person_grants(conn, citizen_id, helper_id, at)
    else:
        grants = await decision_queries.select_organisation_grants(conn, citizen_id, org_id, helper_id, at)
    refusal = _refusal(grants)
    # An id that names nobody has no log to write to; the answer is the same, so probing ids learns nothing.
    if await select_person(conn, citizen_id) is not None:
        await record_access(
            conn,
            citizen_id=citizen_id,
            # A person, or an agent with their organisation and pseudonym, as every other access records them.
            accessor=accessor_for(user.actor, subject_id=citizen_id),
            action="read",
            channel="web",
            outcome="denied",
            reason=REASON_TEXTS[refusal.reason],
            mandate_id=refusal.mandate_id,
        )
    return refusal
