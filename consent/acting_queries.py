"""SQL behind acting for someone: does this helper, or this agent through their organisation, hold a usable
mandate from this citizen right now?"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg


async def select_holds_active_mandate(
    conn: asyncpg.Connection, citizen_id: UUID, helper_id: UUID, at: datetime
) -> bool:
    """True when the person holds, from the citizen, an active mandate with at least one active theme."""
    value = await conn.fetchval(
        """
        SELECT EXISTS (
            SELECT FROM mandates AS m
            JOIN mandate_themes AS t USING (citizen_id, mandate_id)
            WHERE m.citizen_id = $1 AND m.mandatary_person_id = $2
              AND mandate_is_active(m, $3) AND mandate_theme_is_active(t, $3)
        )
        """,
        citizen_id,
        helper_id,
        at,
    )
    return bool(value)


async def select_agent_may_act(
    conn: asyncpg.Connection, citizen_id: UUID, org_id: UUID, agent_id: UUID, at: datetime
) -> bool:
    """True when the organisation holds, from the citizen, an active mandate with at least one active theme, and
    the agent works for it and is named (not withdrawn) for that mandate or for all its clients."""
    value = await conn.fetchval(
        """
        SELECT EXISTS (
            SELECT FROM mandates AS m
            JOIN mandate_themes AS t USING (citizen_id, mandate_id)
            WHERE m.citizen_id = $1 AND m.mandatary_org_id = $2
              AND mandate_is_active(m, $4) AND mandate_theme_is_active(t, $4)
              AND EXISTS (
                  SELECT FROM organisation_members AS om
                  WHERE om.org_id = $2 AND om.person_id = $3 AND om.active
              )
              AND (
                  EXISTS (
                      SELECT FROM mandate_agent_assignments AS a
                      WHERE a.citizen_id = m.citizen_id AND a.mandate_id = m.mandate_id
                        AND a.agent_person_id = $3 AND a.removed_at IS NULL
                  )
                  OR EXISTS (
                      SELECT FROM organisation_agent_assignments AS oa
                      WHERE oa.org_id = $2 AND oa.agent_person_id = $3 AND oa.removed_at IS NULL
                  )
              )
        )
        """,
        citizen_id,
        org_id,
        agent_id,
        at,
    )
    return bool(value)
