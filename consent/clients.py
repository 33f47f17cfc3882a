"""An organisation's clients and agents, as its access managers see them: every mandate it holds, who may use
each one (named for that client, or for all clients), and the people who could be named; and, for an agent, the
clients they are named for."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import msgspec

from backend.core.auth.actors import SignedIn
from consent import client_queries, mandate_queries, service
from consent.schemas import MandateOut
from consent.views import mandates_out


class AgentOut(msgspec.Struct, frozen=True, kw_only=True):
    """A person of the organisation, with the pseudonym citizens see in their log."""

    person_id: UUID
    name: str
    pseudonym: str
    access_manager: bool
    all_clients: bool


class ClientOut(msgspec.Struct, frozen=True, kw_only=True):
    """One mandate the organisation holds, and the agents named for it alone."""

    mandate: MandateOut
    agents: list[AgentOut]


class OrganisationClients(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the clients-and-agents page shows for one organisation."""

    org_id: UUID
    clients: list[ClientOut]
    people: list[AgentOut]

    @property
    def all_clients_agents(self) -> list[AgentOut]:
        """The people named for all clients."""
        return [person for person in self.people if person.all_clients]


async def organisation_clients(
    conn: asyncpg.Connection, user: SignedIn, org_id: UUID, *, now: datetime | None = None
) -> OrganisationClients:
    """The organisation's mandates with their agents, for one of its access managers (403 for anyone else)."""
    at = now or datetime.now(UTC)
    mandates = await service.mandates_of_organisation(conn, user, org_id, now=at)
    everywhere = set(await client_queries.select_all_clients_agents(conn, org_id))
    people = [
        AgentOut(
            person_id=person.person_id,
            name=person.name,
            pseudonym=person.pseudonym,
            access_manager="access_manager" in person.roles,
            all_clients=person.person_id in everywhere,
        )
        for person in await client_queries.select_organisation_people(conn, org_id)
    ]
    by_id = {person.person_id: person for person in people}
    named: dict[UUID, list[AgentOut]] = {}
    for mandate_id, agent_id in await client_queries.select_mandate_agents(conn, org_id):
        if agent_id in by_id:
            named.setdefault(mandate_id, []).append(by_id[agent_id])
    return OrganisationClients(
        org_id=org_id,
        clients=[ClientOut(mandate=m, agents=named.get(m.mandate_id, [])) for m in mandates],
        people=people,
    )


async def clients_of_agent(
    conn: asyncpg.Connection, user: SignedIn, *, now: datetime | None = None
) -> list[MandateOut]:
    """The clients the signed-in agent may act for now, as agent of the organisation they work for in this session.

    Only mandates the organisation names them for (alone, or for all clients) are returned; outside an
    organisation's context the list is empty.
    """
    if user.acting_org is None:
        return []
    at = now or datetime.now(UTC)
    rows = await mandate_queries.select_agent_client_mandates(conn, user.acting_org, user.person.person_id, at)
    return await mandates_out(conn, rows, user.person.language, at)
