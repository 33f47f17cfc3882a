"""SQL for the agents an organisation names to use its mandates: per mandate, or for all its clients."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec


class Member(msgspec.Struct, frozen=True, kw_only=True):
    """A person's active role in an organisation, with the pseudonym citizens see."""

    role: str
    pseudonym: str


async def select_member_roles(conn: asyncpg.Connection, org_id: UUID, person_id: UUID) -> list[Member]:
    """A person's active roles in an organisation (none when they do not work there)."""
    rows = await conn.fetch(
        """
        SELECT role, pseudonym FROM organisation_members
        WHERE org_id = $1 AND person_id = $2 AND active
        ORDER BY role
        """,
        org_id,
        person_id,
    )
    return [msgspec.convert(dict(row), Member) for row in rows]


async def upsert_mandate_agent(
    conn: asyncpg.Connection,
    citizen_id: UUID,
    mandate_id: UUID,
    *,
    agent_id: UUID,
    org_id: UUID,
    by: UUID,
    at: datetime,
) -> bool:
    """Name an agent for one mandate; False if they were already named."""
    value = await conn.fetchval(
        """
        INSERT INTO mandate_agent_assignments
            (citizen_id, mandate_id, agent_person_id, org_id, assigned_by, assigned_at)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (citizen_id, mandate_id, agent_person_id) DO UPDATE
            SET assigned_by = EXCLUDED.assigned_by, assigned_at = EXCLUDED.assigned_at, removed_at = NULL,
                removed_by = NULL
            WHERE mandate_agent_assignments.removed_at IS NOT NULL
        RETURNING true
        """,
        citizen_id,
        mandate_id,
        agent_id,
        org_id,
        by,
        at,
    )
    return bool(value)


async def update_mandate_agent_removed(
    conn: asyncpg.Connection, citizen_id: UUID, mandate_id: UUID, *, agent_id: UUID, by: UUID, at: datetime
) -> bool:
    """Withdraw an agent from one mandate; False if they were not named."""
    result = await conn.execute(
        """
        UPDATE mandate_agent_assignments SET removed_at = $4, removed_by = $5
        WHERE citizen_id = $1 AND mandate_id = $2 AND agent_person_id = $3 AND removed_at IS NULL
        """,
        citizen_id,
        mandate_id,
        agent_id,
        at,
        by,
    )
    return result.split()[-1] == "1"


async def upsert_organisation_agent(
    conn: asyncpg.Connection, org_id: UUID, *, agent_id: UUID, by: UUID, at: datetime
) -> bool:
    """Name an agent for all the organisation's clients; False if they were already named."""
    value = await conn.fetchval(
        """
        INSERT INTO organisation_agent_assignments (org_id, agent_person_id, assigned_by, assigned_at)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (org_id, agent_person_id) DO UPDATE
            SET assigned_by = EXCLUDED.assigned_by, assigned_at = EXCLUDED.assigned_at, removed_at = NULL,
                removed_by = NULL
            WHERE organisation_agent_assignments.removed_at IS NOT NULL
        RETURNING true
        """,
        org_id,
        agent_id,
        by,
        at,
    )
    return bool(value)


async def update_organisation_agent_removed(
    conn: asyncpg.Connection, org_id: UUID, *, agent_id: UUID, by: UUID, at: datetime
) -> bool:
    """Withdraw an agent from all the organisation's clients; False if they were not named."""
    result = await conn.execute(
        """
        UPDATE organisation_agent_assignments SET removed_at = $3, removed_by = $4
        WHERE org_id = $1 AND agent_person_id = $2 AND removed_at IS NULL
        """,
        org_id,
        agent_id,
        at,
        by,
    )
    return result.split()[-1] == "1"
