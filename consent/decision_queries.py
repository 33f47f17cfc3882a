"""SQL behind decisions and checks: every mandate theme between a citizen and a mandatary, with the state and
theme activity computed by the database's one definition (mandate_state, mandate_theme_is_active)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from consent.schemas import Access, MandateState


class GrantRow(msgspec.Struct, frozen=True, kw_only=True):
    """One theme of one mandate held by the actor (or their organisation), as it stands at the moment asked."""

    mandate_id: UUID
    state: MandateState
    created_at: datetime
    ends_at: datetime | None
    theme_code: str
    theme_version: int
    access: Access
    theme_active: bool
    categories: tuple[str, ...]
    actions: tuple[str, ...]
    # For organisation mandates: is this agent an active member, and named for this mandate or all clients?
    agent_is_member: bool = True
    agent_assigned: bool = True


async def select_person_grants(
    conn: asyncpg.Connection, citizen_id: UUID, person_id: UUID, at: datetime
) -> list[GrantRow]:
    """The themes of every mandate from the citizen to this person, newest mandate first."""
    rows = await conn.fetch(
        """
        SELECT m.mandate_id, mandate_state(m, $3) AS state, m.created_at, m.ends_at, t.theme_code, t.theme_version,
               t.access, mandate_theme_is_active(t, $3) AS theme_active, v.categories, v.actions
        FROM mandates AS m
        JOIN mandate_themes AS t USING (citizen_id, mandate_id)
        JOIN mandate_theme_versions AS v ON v.code = t.theme_code AND v.version = t.theme_version
        WHERE m.citizen_id = $1 AND m.mandatary_person_id = $2
        ORDER BY m.created_at DESC, t.theme_code
        """,
        citizen_id,
        person_id,
        at,
    )
    return [msgspec.convert(dict(row), GrantRow) for row in rows]


async def select_organisation_grants(
    conn: asyncpg.Connection, citizen_id: UUID, org_id: UUID, agent_id: UUID, at: datetime
) -> list[GrantRow]:
    """The themes of every mandate from the citizen to this organisation, and whether this agent may use them."""
    rows = await conn.fetch(
        """
        SELECT m.mandate_id, mandate_state(m, $4) AS state, m.created_at, m.ends_at, t.theme_code, t.theme_version,
               t.access, mandate_theme_is_active(t, $4) AS theme_active, v.categories, v.actions,
               EXISTS (
                   SELECT FROM organisation_members AS om
                   WHERE om.org_id = m.mandatary_org_id AND om.person_id = $3 AND om.active
               ) AS agent_is_member,
               (
                   EXISTS (
                       SELECT FROM mandate_agent_assignments AS a
                       WHERE a.citizen_id = m.citizen_id AND a.mandate_id = m.mandate_id
                         AND a.agent_person_id = $3 AND a.removed_at IS NULL
                   )
                   OR EXISTS (
                       SELECT FROM organisation_agent_assignments AS oa
                       WHERE oa.org_id = m.mandatary_org_id AND oa.agent_person_id = $3 AND oa.removed_at IS NULL
                   )
               ) AS agent_assigned
        FROM mandates AS m
        JOIN mandate_themes AS t USING (citizen_id, mandate_id)
        JOIN mandate_theme_versions AS v ON v.code = t.theme_code AND v.version = t.theme_version
        WHERE m.citizen_id = $1 AND m.mandatary_org_id = $2
        ORDER BY m.created_at DESC, t.theme_code
        """,
        citizen_id,
        org_id,
        agent_id,
        at,
    )
    return [msgspec.convert(dict(row), GrantRow) for row in rows]


async def select_member_organisation_holds_mandate(
    conn: asyncpg.Connection, citizen_id: UUID, person_id: UUID, at: datetime
) -> bool:
    """True when an organisation this person works for holds an active mandate from the citizen."""
    value = await conn.fetchval(
        """
        SELECT EXISTS (
            SELECT FROM mandates AS m
            JOIN organisation_members AS om ON om.org_id = m.mandatary_org_id AND om.person_id = $2 AND om.active
            WHERE m.citizen_id = $1 AND mandate_is_active(m, $3)
        )
        """,
        citizen_id,
        person_id,
        at,
    )
    return bool(value)


async def select_active_grants(
    conn: asyncpg.Connection,
    citizen_id: UUID,
    *,
    mandatary_person_id: UUID | None,
    mandatary_org_id: UUID | None,
    at: datetime,
) -> list[GrantRow]:
    """The active themes of the active mandates from the citizen to one mandatary (for the check API)."""
    rows = await conn.fetch(
        """
        SELECT m.mandate_id, mandate_state(m, $4) AS state, m.created_at, m.ends_at, t.theme_code, t.theme_version,
               t.access, true AS theme_active, v.categories, v.actions
        FROM mandates AS m
        JOIN mandate_themes AS t USING (citizen_id, mandate_id)
        JOIN mandate_theme_versions AS v ON v.code = t.theme_code AND v.version = t.theme_version
        WHERE m.citizen_id = $1 AND (m.mandatary_person_id = $2 OR m.mandatary_org_id = $3)
          AND mandate_is_active(m, $4) AND mandate_theme_is_active(t, $4)
        ORDER BY m.created_at DESC, t.theme_code
        """,
        citizen_id,
        mandatary_person_id,
        mandatary_org_id,
        at,
    )
    return [msgspec.convert(dict(row), GrantRow) for row in rows]
