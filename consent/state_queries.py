"""SQL for a mandate's state changes: accepted, declined, revoked (whole or one theme), each only from a state
that allows it, and the lock that serialises one citizen's changes."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from consent.schemas import Side


async def update_accepted(
    conn: asyncpg.Connection, citizen_id: UUID, mandate_id: UUID, *, by: UUID, at: datetime
) -> datetime | None:
    """Accept a pending mandate at `at` (its duration starts now); the end, or None if it was not pending."""
    value = await conn.fetchval(
        """
        UPDATE mandates AS m
        SET accepted_at = $3, accepted_by = $4, starts_at = $3, ends_at = mandate_ends_at(duration, until_date, $3)
        WHERE citizen_id = $1 AND mandate_id = $2 AND mandate_state(m, $3) = 'pending' AND accepted_at IS NULL
        RETURNING ends_at
        """,
        citizen_id,
        mandate_id,
        at,
        by,
    )
    return value  # type: ignore[no-any-return]


async def update_declined(
    conn: asyncpg.Connection, citizen_id: UUID, mandate_id: UUID, *, by: UUID, reason: str | None, at: datetime
) -> bool:
    """Decline a pending mandate; False if it was not pending."""
    result = await conn.execute(
        """
        UPDATE mandates AS m SET declined_at = $3, declined_by = $4, decline_reason = $5
        WHERE citizen_id = $1 AND mandate_id = $2 AND mandate_state(m, $3) = 'pending' AND accepted_at IS NULL
        """,
        citizen_id,
        mandate_id,
        at,
        by,
        reason,
    )
    return result.split()[-1] == "1"


async def update_revoked(
    conn: asyncpg.Connection,
    citizen_id: UUID,
    mandate_id: UUID,
    *,
    side: Side,
    by: UUID,
    reason: str | None,
    at: datetime,
) -> bool:
    """End a pending or active mandate at once; False if it had already ended."""
    result = await conn.execute(
        """
        UPDATE mandates AS m SET revoked_at = $3, revoked_by_side = $4, revoked_by = $5, revoke_reason = $6
        WHERE citizen_id = $1 AND mandate_id = $2 AND mandate_state(m, $3) IN ('pending', 'active')
        """,
        citizen_id,
        mandate_id,
        at,
        side,
        by,
        reason,
    )
    return result.split()[-1] == "1"


async def update_theme_revoked(
    conn: asyncpg.Connection,
    citizen_id: UUID,
    mandate_id: UUID,
    code: str,
    *,
    side: Side,
    by: UUID,
    reason: str | None,
    at: datetime,
) -> bool:
    """Revoke one theme of a mandate; False if it was already revoked or is not part of the mandate."""
    result = await conn.execute(
        """
        UPDATE mandate_themes AS t SET revoked_at = $4, revoked_by_side = $5, revoked_by = $6, revoke_reason = $7
        WHERE citizen_id = $1 AND mandate_id = $2 AND theme_code = $3 AND mandate_theme_is_active(t, $4)
        """,
        citizen_id,
        mandate_id,
        code,
        at,
        side,
        by,
        reason,
    )
    return result.split()[-1] == "1"


async def lock_citizen_mandates(conn: asyncpg.Connection, citizen_id: UUID) -> None:
    """Serialise changes to one citizen's mandates until the transaction ends (no two overlapping grants)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"mandates:{citizen_id}")
