"""SQL behind acting for someone: does this helper hold a usable mandate from this citizen right now?"""

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
