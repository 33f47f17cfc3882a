"""An organisation's agent acting for a client: may_act_for in the agent's context, start_acting_for, the client list.

The agent works as agent of the organisation (the session's acting_org). They may act for a citizen whose active
mandate names that organisation, while they are named for that mandate or for all its clients; every other
context is refused, and a refused start is a denied event in the citizen's log under the agent's pseudonym.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import msgspec
import pytest

from backend.access_log.queries import select_chain
from backend.core.auth import sessions
from backend.core.auth.middleware import resolve_signed_in
from backend.core.identity.schemas import Organisation, Person
from consent import agents, ending
from consent.acting import may_act_for, start_acting_for
from consent.clients import clients_of_agent
from tests.factories import (
    create_access_manager,
    create_agent,
    create_mandate,
    create_organisation,
    create_person,
    invite_helper,
    signed_in,
)


@dataclass(frozen=True)
class Office:
    """A citizen, the organisation holding (or offered) their mandate, its manager and one agent."""

    citizen: Person
    organisation: Organisation
    manager: Person
    agent: Person
    mandate_id: UUID | None


async def _office(conn: asyncpg.Connection, *, mandate: str = "active") -> Office:
    citizen = await create_person(conn, given_name="Maria", family_name="Janssens")
    organisation = await create_organisation(conn)
    manager = await create_access_manager(conn, organisation)
    agent = await create_agent(conn, organisation, family_name="Agent")
    mandate_id = None
    if mandate == "pending":
        mandate_id = (await invite_helper(conn, citizen, organisation=organisation)).mandate.mandate_id
    elif mandate == "expired":
        long_ago = datetime.now(UTC) - timedelta(days=3)
        made = await create_mandate(
            conn, citizen, organisation=organisation, accepted_by=manager, duration="1_day", now=long_ago
        )
        mandate_id = made.mandate_id
    else:
        mandate_id = (await create_mandate(conn, citizen, organisation=organisation, accepted_by=manager)).mandate_id
    return Office(citizen, organisation, manager, agent, mandate_id)


async def _name_for_mandate(conn: asyncpg.Connection, office: Office) -> None:
    assert office.mandate_id is not None
    manager = await signed_in(conn, office.manager)
    assert await agents.assign_agent(conn, manager, office.mandate_id, office.agent.person_id)


async def _name_for_all(conn: asyncpg.Connection, office: Office) -> None:
    manager = await signed_in(conn, office.manager)
    assert await agents.assign_agent_to_all_clients(conn, manager, office.organisation.org_id, office.agent.person_id)


# What is done before asking; returns who asks and as which organisation (None: for themself).
Setup = Callable[[asyncpg.Connection, Office], Awaitable[tuple[Person, UUID | None]]]


async def assigned_to_mandate(conn: asyncpg.Connection, office: Office) -> tuple[Person, UUID | None]:
    await _name_for_mandate(conn, office)
    return office.agent, office.organisation.org_id


async def assigned_to_all_clients(conn: asyncpg.Connection, office: Office) -> tuple[Person, UUID | None]:
    await _name_for_all(conn, office)
    return office.agent, office.organisation.org_id


async def not_assigned(conn: asyncpg.Connection, office: Office) -> tuple[Person, UUID | None]:
    return office.agent, office.organisation.org_id


async def assignment_removed(conn: asyncpg.Connection, office: Office) -> tuple[Person, UUID | None]:
    await _name_for_mandate(conn, office)
    assert office.mandate_id is not None
    manager = await signed_in(conn, office.manager)
    assert await agents.unassign_agent(conn, manager, office.mandate_id, office.agent.person_id)
    return office.agent, office.organisation.org_id


async def all_clients_removed(conn: asyncpg.Connection, office: Office) -> tuple[Person, UUID | None]:
    await _name_for_all(conn, office)
    manager = await signed_in(conn, office.manager)
    org_id = office.organisation.org_id
    assert await agents.unassign_agent_from_all_clients(conn, manager, org_id, office.agent.person_id)
    return office.agent, org_id


async def mandate_revoked(conn: asyncpg.Connection, office: Office) -> tuple[Person, UUID | None]:
    await _name_for_mandate(conn, office)
    assert office.mandate_id is not None
    await ending.end_mandate(conn, await signed_in(conn, office.citizen), office.mandate_id)
    return office.agent, office.organisation.org_id


async def agent_of_another_organisation(conn: asyncpg.Connection, office: Office) -> tuple[Person, UUID | None]:
    other = await create_organisation(conn, name_nl="OCMW Elders", name_fr="CPAS Ailleurs", name_de="ÖSHZ Anderswo")
    other_manager = await create_access_manager(conn, other)
    stranger = await create_agent(conn, other)
    manager = await signed_in(conn, other_manager)
    assert await agents.assign_agent_to_all_clients(conn, manager, other.org_id, stranger.person_id)
    return stranger, other.org_id


async def not_an_agent_of_the_organisation(conn: asyncpg.Connection, office: Office) -> tuple[Person, UUID | None]:
    # Someone who claims the organisation in the check without working for it.
    return await create_person(conn), office.organisation.org_id


async def assigned_agent_for_themself(conn: asyncpg.Connection, office: Office) -> tuple[Person, UUID | None]:
    # Named by the organisation, but working for oneself: the organisation's mandate is not theirs personally.
    await _name_for_mandate(conn, office)
    return office.agent, None


CASES: list[tuple[str, str, Setup, bool]] = [
    ("named for the mandate", "active", assigned_to_mandate, True),
    ("named for all clients", "active", assigned_to_all_clients, True),
    ("not named", "active", not_assigned, False),
    ("naming for the mandate withdrawn", "active", assignment_removed, False),
    ("naming for all clients withdrawn", "active", all_clients_removed, False),
    ("mandate revoked", "active", mandate_revoked, False),
    ("mandate expired", "expired", assigned_to_all_clients, False),
    ("mandate pending", "pending", assigned_to_all_clients, False),
    ("agent of another organisation", "active", agent_of_another_organisation, False),
    ("not an agent of the organisation", "active", not_an_agent_of_the_organisation, False),
    ("named, but working for oneself", "active", assigned_agent_for_themself, False),
]


@pytest.mark.parametrize(("state", "setup", "allowed"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_may_act_for_in_the_agents_context(
    conn: asyncpg.Connection, state: str, setup: Setup, allowed: bool
) -> None:
    office = await _office(conn, mandate=state)
    who, org_id = await setup(conn, office)

    assert await may_act_for(conn, who.person_id, office.citizen.person_id, org_id) is allowed
    listed = [m.citizen.person_id for m in await clients_of_agent(conn, await signed_in(conn, who, acting_org=org_id))]
    assert listed == ([office.citizen.person_id] if allowed else []), "the list shows exactly the clients allowed"


REFUSALS = [
    ("not named", "active", not_assigned, "agent_not_assigned"),
    ("naming withdrawn", "active", assignment_removed, "agent_not_assigned"),
    ("mandate revoked", "active", mandate_revoked, "mandate_revoked"),
    ("mandate pending", "pending", assigned_to_all_clients, "mandate_pending"),
    ("mandate expired", "expired", assigned_to_all_clients, "mandate_expired"),
]


@pytest.mark.parametrize(("state", "setup", "reason"), [c[1:] for c in REFUSALS], ids=[c[0] for c in REFUSALS])
async def test_a_refused_start_is_a_denied_event_under_the_agents_pseudonym(
    conn: asyncpg.Connection, state: str, setup: Setup, reason: str
) -> None:
    office = await _office(conn, mandate=state)
    agent, org_id = await setup(conn, office)
    session_id = await sessions.insert_session(conn, person_id=agent.person_id, method="demo")
    user = msgspec.structs.replace(await signed_in(conn, agent, acting_org=org_id), session_id=session_id)
    before = len(await select_chain(conn, office.citizen.person_id))

    decision = await start_acting_for(conn, user, office.citizen.person_id)

    assert (decision.allowed, decision.reason, decision.mandate_id) == (False, reason, office.mandate_id)
    event = (await select_chain(conn, office.citizen.person_id))[before:][0]
    membership = user.membership(office.organisation.org_id)
    assert (event.actor_kind, event.actor_org_id, event.actor_ref, event.outcome) == (
        "agent",
        office.organisation.org_id,
        membership.pseudonym,
        "denied",
    )
    stored = await sessions.select_live_session(conn, session_id, agent.person_id)
    assert stored is not None
    assert stored.acting_for is None


async def test_the_middleware_drops_the_client_on_the_request_after_the_naming_is_withdrawn(
    conn: asyncpg.Connection,
) -> None:
    office = await _office(conn)
    await _name_for_mandate(conn, office)
    org_id = office.organisation.org_id
    session_id = await sessions.insert_session(conn, person_id=office.agent.person_id, method="demo")
    await sessions.update_acting_context(conn, session_id, acting_for=None, acting_org=org_id)
    claims = sessions.SessionClaims(
        session_id=session_id, person_id=office.agent.person_id, issued_at=datetime.now(UTC)
    )
    user, _row = await resolve_signed_in(conn, claims, may_act_for)
    assert user is not None

    decision = await start_acting_for(conn, user, office.citizen.person_id)

    assert decision.allowed
    acting, _row = await resolve_signed_in(conn, claims, may_act_for)
    assert acting is not None
    assert acting.acting_for is not None
    assert acting.acting_for.person_id == office.citizen.person_id
    assert (acting.actor.kind, acting.actor.org_id) == ("agent", org_id), "still working as the organisation's agent"
    assert await select_chain(conn, office.citizen.person_id) == [], "switching context reads nothing"

    assert office.mandate_id is not None
    manager = await signed_in(conn, office.manager)
    assert await agents.unassign_agent(conn, manager, office.mandate_id, office.agent.person_id)
    dropped, _row = await resolve_signed_in(conn, claims, may_act_for)
    assert dropped is not None
    assert dropped.acting_for is None
    assert dropped.acting_org == org_id, "back to working for the organisation, not for anyone"
