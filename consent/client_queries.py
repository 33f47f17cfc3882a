"""SQL for an organisation's access managers: the people who work there and which agents use which mandates."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec


class OrganisationPerson(msgspec.Struct, frozen=True, kw_only=True):
    """Someone who works for the organisation (one row per person, whatever their roles)."""

    person_id: UUID
    name: str
    pseudonym: str
    roles: list[str]


async def select_organisation_people(conn: asyncpg.Connection, org_id: UUID) -> list[OrganisationPerson]:
    """The organisation's active members, by name."""
    rows = await conn.fetch(
        """
        SELECT m.person_id, p.given_name || ' ' || p.family_name AS name,
               (array_agg(m.pseudonym ORDER BY m.role))[1] AS pseudonym, array_agg(m.role ORDER BY m.role) AS roles
        FROM organisation_members AS m JOIN people AS p USING (person_id)
        WHERE m.org_id = $1 AND m.active
        GROUP BY m.person_id, p.given_name, p.family_name
        ORDER BY p.family_name, p.given_name, m.person_id
        """,
        org_id,
    )
    return [msgspec.convert(dict(row), OrganisationPerson) for row in rows]


async def select_mandate_agents(conn: asyncpg.Connection, org_id: UUID) -> list[tuple[UUID, UUID]]:
    """(mandate id, agent id) for every agent currently named on one of the organisation's mandates."""
    rows = await conn.fetch(
        """
        SELECT a.mandate_id, a.agent_person_id FROM mandate_agent_assignments AS a
        JOIN mandates AS m ON m.citizen_id = a.citizen_id AND m.mandate_id = a.mandate_id
        WHERE m.mandatary_org_id = $1 AND a.org_id = $1 AND a.removed_at IS NULL
        """,
        org_id,
    )
    return [(row["mandate_id"], row["agent_person_id"]) for row in rows]


async def select_all_clients_agents(conn: asyncpg.Connection, org_id: UUID) -> list[UUID]:
    """The agents currently named for all the organisation's clients."""
    rows = await conn.fetch(
        "SELECT agent_person_id FROM organisation_agent_assignments WHERE org_id = $1 AND removed_at IS NULL",
        org_id,
    )
    return [row["agent_person_id"] for row in rows]
