"""SQL for invitation codes: stored as a SHA-256 only, found by that hash, used or cancelled once."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec


class InvitationRow(msgspec.Struct, frozen=True, kw_only=True):
    """An invitation found by its code's hash."""

    citizen_id: UUID
    mandate_id: UUID
    used_at: datetime | None
    cancelled_at: datetime | None


async def insert_invitation(
    conn: asyncpg.Connection, citizen_id: UUID, mandate_id: UUID, *, code_sha256: bytes, created_at: datetime
) -> None:
    """Store the hash of a new mandate's code."""
    await conn.execute(
        """
        INSERT INTO mandate_invitations (citizen_id, mandate_id, code_sha256, created_at)
        VALUES ($1, $2, $3, $4)
        """,
        citizen_id,
        mandate_id,
        code_sha256,
        created_at,
    )


async def select_invitations_by_code(conn: asyncpg.Connection, code_sha256: bytes) -> list[InvitationRow]:
    """Every invitation whose code has this hash (one, or none; more would be refused as unknown)."""
    rows = await conn.fetch(
        """
        SELECT citizen_id, mandate_id, used_at, cancelled_at
        FROM mandate_invitations WHERE code_sha256 = $1
        LIMIT 2
        """,
        code_sha256,
    )
    return [msgspec.convert(dict(row), InvitationRow) for row in rows]


async def update_invitation_used(conn: asyncpg.Connection, citizen_id: UUID, mandate_id: UUID, at: datetime) -> bool:
    """Spend a code (accepted or declined); False if it was already used or cancelled."""
    result = await conn.execute(
        """
        UPDATE mandate_invitations SET used_at = $3
        WHERE citizen_id = $1 AND mandate_id = $2 AND used_at IS NULL AND cancelled_at IS NULL
        """,
        citizen_id,
        mandate_id,
        at,
    )
    return result.split()[-1] == "1"


async def update_invitation_cancelled(
    conn: asyncpg.Connection, citizen_id: UUID, mandate_id: UUID, at: datetime
) -> bool:
    """Cancel an unused code; False if it was already used or cancelled."""
    result = await conn.execute(
        """
        UPDATE mandate_invitations SET cancelled_at = $3
        WHERE citizen_id = $1 AND mandate_id = $2 AND used_at IS NULL AND cancelled_at IS NULL
        """,
        citizen_id,
        mandate_id,
        at,
    )
    return result.split()[-1] == "1"
