"""The one decision: may this actor do this action on this category of this subject's data, now?

Every page, API call and job that touches someone else's data asks `decide_and_log`, which logs the answer in
the subject's access log in the caller's transaction. Nothing is cached: a mandate ended a second ago no longer
allows anything. What "active" means is decided by the database (mandate_state, mandate_theme_is_active); this
module only reads it.

READ of a data category is allowed by an active theme that lists the category, whether given as READ or ACT
(acting includes seeing). ACT names one of a theme's actions (`report_error`, `change_notification_settings`)
and needs that theme given as ACT.

A refusal must be returned to the client, not raised, so that the request's transaction commits with its log
row: `refusal_response(decision)` builds the 403 for JSON controllers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final, Literal
from uuid import UUID

import asyncpg
from litestar import Response

from backend.access_log.schemas import Channel
from backend.access_log.service import accessor_for, record_access
from backend.core.auth.actors import Actor, SignedIn
from backend.core.errors import ProblemDetails, problem_response
from backend.core.i18n import N_, _
from backend.core.identity.queries import select_person
from backend.core.request_context import current_request_id
from consent import decision_queries as queries
from consent.decision_queries import GrantRow
from consent.schemas import Decision, DecisionReason

__all__ = ["REASON_TEXTS", "Decision", "decide", "decide_and_log", "refusal_response"]

DecideAction = Literal["read", "act"]

# What the subject reads in their access log (stored in English, translated where shown).
REASON_TEXTS: Final[dict[DecisionReason, str]] = {
    "own_data": N_("their own data"),
    "mandate": N_("under a mandate"),
    "no_mandate": N_("no mandate was given for this"),
    "not_acting_as_organisation": N_("the mandate belongs to an organisation, and this person was not acting for it"),
    "agent_not_member": N_("this person no longer works for the organisation holding the mandate"),
    "agent_not_assigned": N_("the organisation has not named this agent for this mandate"),
    "theme_not_granted": N_("the mandate does not cover this data or action"),
    "read_only": N_("the mandate allows seeing only, not acting"),
    "theme_revoked": N_("this theme of the mandate was ended"),
    "mandate_pending": N_("the mandate has not been accepted yet"),
    "mandate_declined": N_("the mandate was declined"),
    "mandate_revoked": N_("the mandate was ended"),
    "mandate_expired": N_("the mandate has expired"),
    "not_a_mandatary": N_("only helpers and organisations under a mandate may do this"),
}


def _covers(grant: GrantRow, action: DecideAction, category: str) -> bool:
    return category in (grant.categories if action == "read" else grant.actions)


def _strong_enough(grant: GrantRow, action: DecideAction) -> bool:
    return action == "read" or grant.access == "act"


def _refused(reason: DecisionReason, mandate_id: UUID | None = None) -> Decision:
    return Decision(allowed=False, reason=reason, mandate_id=mandate_id)


def evaluate(grants: Sequence[GrantRow], action: DecideAction, category: str) -> Decision:
    """The decision from the actor's grants (newest mandate first), with the most useful reason for a refusal."""
    if not grants:
        return _refused("no_mandate")
    covering = [g for g in grants if _covers(g, action, category)]
    usable = [g for g in covering if g.state == "active" and g.theme_active and _strong_enough(g, action)]
    allowing = [g for g in usable if g.agent_is_member and g.agent_assigned]
    if allowing:
        mandate_id = allowing[0].mandate_id
        themes = tuple(sorted({g.theme_code for g in allowing if g.mandate_id == mandate_id}))
        return Decision(allowed=True, reason="mandate", mandate_id=mandate_id, themes=themes)
    if usable:
        reason: DecisionReason = "agent_not_member" if not usable[0].agent_is_member else "agent_not_assigned"
        return _refused(reason, usable[0].mandate_id)
    active_covering = [g for g in covering if g.state == "active"]
    if any(g.theme_active for g in active_covering):
        return _refused("read_only", active_covering[0].mandate_id)
    if active_covering:
        return _refused("theme_revoked", active_covering[0].mandate_id)
    active = [g for g in grants if g.state == "active"]
    if active:
        return _refused("theme_not_granted", active[0].mandate_id)
    newest = grants[0]
    state_reasons: dict[str, DecisionReason] = {
        "pending": "mandate_pending",
        "declined": "mandate_declined",
        "revoked": "mandate_revoked",
        "expired": "mandate_expired",
    }
    return _refused(state_reasons[newest.state], newest.mandate_id)


def _actor_of(actor: SignedIn | Actor) -> Actor:
    return actor.actor if isinstance(actor, SignedIn) else actor


async def decide(
    conn: asyncpg.Connection,
    *,
    actor: SignedIn | Actor,
    subject_id: UUID,
    action: DecideAction,
    category: str,
    now: datetime | None = None,
) -> Decision:
    """May `actor` do `action` on `category` of `subject_id`'s data at `now`? Reads the database every time."""
    who = _actor_of(actor)
    at = now or datetime.now(UTC)
    if who.kind in ("person", "agent") and who.person_id == subject_id:
        return Decision(allowed=True, reason="own_data")
    if who.kind == "person" and who.person_id is not None:
        grants = await queries.select_person_grants(conn, subject_id, who.person_id, at)
        if not grants and await queries.select_member_organisation_holds_mandate(conn, subject_id, who.person_id, at):
            return _refused("not_acting_as_organisation")
        return evaluate(grants, action, category)
    if who.kind == "agent" and who.person_id is not None and who.org_id is not None:
        grants = await queries.select_organisation_grants(conn, subject_id, who.org_id, who.person_id, at)
        return evaluate(grants, action, category)
    return _refused("not_a_mandatary")


async def decide_and_log(
    conn: asyncpg.Connection,
    *,
    actor: SignedIn | Actor,
    subject_id: UUID,
    action: DecideAction,
    category: str,
    channel: Channel,
    record_refs: Sequence[str] = (),
    now: datetime | None = None,
) -> Decision:
    """Decide, then log an allowed READ or any refusal in the subject's access log (same transaction).

    A person's own data is not an access by others and is not logged; an allowed ACT is logged by the caller
    together with the change it makes.
    """
    decision = await decide(conn, actor=actor, subject_id=subject_id, action=action, category=category, now=now)
    if decision.reason == "own_data" or (decision.allowed and action == "act"):
        return decision
    # An id that names nobody has no log to write to; the refusal is the same, so probing ids learns nothing.
    if await select_person(conn, subject_id) is None:
        return decision
    await record_access(
        conn,
        citizen_id=subject_id,
        accessor=accessor_for(_actor_of(actor), subject_id=subject_id),
        action="read" if action == "read" else "change",
        channel=channel,
        outcome="granted" if decision.allowed else "denied",
        reason=None if decision.allowed else REASON_TEXTS[decision.reason],
        categories=[category],
        record_refs=record_refs,
        mandate_id=decision.mandate_id,
    )
    return decision


def refusal_response(decision: Decision, *, instance: str | None = None) -> Response[bytes]:
    """The 403 problem+json for a refusal, to be returned (not raised) so the logged refusal is committed.

    The wording is the same whatever the reason: the helper learns nothing about the citizen's other mandates.
    """
    return problem_response(
        ProblemDetails(
            type="urn:vitrine:problem:mandate-refused",
            title="Not allowed",
            status=403,
            detail=_(
                "You do not have the right to see this, or to act for this person. "
                "If you think you should, ask the person to give you a mandate."
            ),
            instance=instance,
            request_id=current_request_id(),
        )
    )
