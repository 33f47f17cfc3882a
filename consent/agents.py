"""Organisations name the agents who may use their mandates: for one client, or for all their clients.

Only the organisation's access managers name or withdraw agents, and only people who work for the organisation
can be named. A citizen's mandate history records each naming with the agent's pseudonym.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from backend.core.auth.actors import SignedIn
from backend.core.errors import FieldError, Problem, validation_problem
from backend.core.i18n import _
from consent import agent_queries, event_queries
from consent.mandate_queries import MandateRow
from consent.parties import is_access_manager, mandate_of_party, no_such_mandate


async def _pseudonym(conn: asyncpg.Connection, org_id: UUID, agent_id: UUID) -> str:
    """The agent's pseudonym in the organisation; 422 naming agent_id when they do not work there."""
    roles = await agent_queries.select_member_roles(conn, org_id, agent_id)
    if not roles:
        message = _("This person does not work for your organisation.")
        raise validation_problem([FieldError(field="agent_id", message=message)])
    return roles[0].pseudonym


async def _organisation_mandate(
    conn: asyncpg.Connection, user: SignedIn, mandate_id: UUID, at: datetime
) -> tuple[MandateRow, UUID]:
    row, side = await mandate_of_party(conn, user, mandate_id, at)
    # A citizen is a party too, but names no agents: for them the mandate is not one they manage.
    if side != "mandatary" or row.mandatary_org_id is None or row.mandatary_person_id is not None:
        raise no_such_mandate()
    return row, row.mandatary_org_id


async def assign_agent(
    conn: asyncpg.Connection, user: SignedIn, mandate_id: UUID, agent_id: UUID, *, now: datetime | None = None
) -> bool:
    """Name an agent for one mandate of the organisation; False if they already were."""
    at = now or datetime.now(UTC)
    row, org_id = await _organisation_mandate(conn, user, mandate_id, at)
    if row.state not in ("pending", "active"):
        raise Problem(409, _("This mandate has already ended."), kind="mandate-ended")
    pseudonym = await _pseudonym(conn, org_id, agent_id)
    me = user.person.person_id
    added = await agent_queries.upsert_mandate_agent(
        conn, row.citizen_id, row.mandate_id, agent_id=agent_id, org_id=org_id, by=me, at=at
    )
    if added:
        await event_queries.insert_event(
            conn,
            citizen_id=row.citizen_id,
            mandate_id=row.mandate_id,
            kind="agent_assigned",
            actor_side="mandatary",
            actor_person_id=me,
            actor_org_id=org_id,
            agent_ref=pseudonym,
            occurred_at=at,
        )
    return added


async def unassign_agent(
    conn: asyncpg.Connection, user: SignedIn, mandate_id: UUID, agent_id: UUID, *, now: datetime | None = None
) -> bool:
    """Withdraw an agent from one mandate; False if they were not named."""
    at = now or datetime.now(UTC)
    row, org_id = await _organisation_mandate(conn, user, mandate_id, at)
    me = user.person.person_id
    removed = await agent_queries.update_mandate_agent_removed(
        conn, row.citizen_id, row.mandate_id, agent_id=agent_id, by=me, at=at
    )
    if removed:
        roles = await agent_queries.select_member_roles(conn, org_id, agent_id)
        await event_queries.insert_event(
            conn,
            citizen_id=row.citizen_id,
            mandate_id=row.mandate_id,
            kind="agent_unassigned",
            actor_side="mandatary",
            actor_person_id=me,
            actor_org_id=org_id,
            agent_ref=roles[0].pseudonym if roles else None,
            occurred_at=at,
        )
    return removed


async def _require_manager(conn: asyncpg.Connection, user: SignedIn, org_id: UUID) -> None:
    if not await is_access_manager(conn, org_id, user.person.person_id):
        raise Problem(403, _("Only the organisation's access managers may name agents."), kind="not-manager")


async def assign_agent_to_all_clients(
    conn: asyncpg.Connection, user: SignedIn, org_id: UUID, agent_id: UUID, *, now: datetime | None = None
) -> bool:
    """Name an agent for every mandate the organisation holds, now and later; False if they already were."""
    await _require_manager(conn, user, org_id)
    await _pseudonym(conn, org_id, agent_id)
    return await agent_queries.upsert_organisation_agent(
        conn, org_id, agent_id=agent_id, by=user.person.person_id, at=now or datetime.now(UTC)
    )


async def unassign_agent_from_all_clients(
    conn: asyncpg.Connection, user: SignedIn, org_id: UUID, agent_id: UUID, *, now: datetime | None = None
) -> bool:
    """Withdraw an agent's naming for all clients; False if they were not named."""
    await _require_manager(conn, user, org_id)
    return await agent_queries.update_organisation_agent_removed(
        conn, org_id, agent_id=agent_id, by=user.person.person_id, at=now or datetime.now(UTC)
    )
