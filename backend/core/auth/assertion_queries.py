"""SQL for institutions' API clients and their single-use assertion ids: one typed function per statement."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec


class ApiClientRow(msgspec.Struct, frozen=True, kw_only=True):
    """A registered API client with its organisation's short code and its public keys (a JWKS)."""

    client_id: str
    org_id: UUID
    org_code: str | None
    jwks: dict[str, Any]
    active: bool


def _rows_affected(status: str) -> int:
    """asyncpg returns the command tag ("INSERT 0 1", "DELETE 3"); its last word is the row count."""
    return int(status.split()[-1])


async def select_api_client(conn: asyncpg.Connection, client_id: str) -> ApiClientRow | None:
    """A client by id, active or not, with its organisation's code; None when unknown."""
    row = await conn.fetchrow(
        """
        SELECT c.client_id, c.org_id, o.code AS org_code, c.jwks, c.active
        FROM api_clients AS c JOIN organisations AS o USING (org_id)
        WHERE c.client_id = $1
        """,
        client_id,
    )
    return None if row is None else msgspec.convert(dict(row), ApiClientRow)


async def upsert_api_client(
    conn: asyncpg.Connection, client_id: str, org_id: UUID, jwks: dict[str, Any], *, active: bool = True
) -> bool:
    """Register a client or replace its keys and active flag; False when the id belongs to another organisation.

    The organisation of an existing client never changes here: re-registering someone else's client id would
    otherwise hand their identity to a different organisation.
    """
    status = await conn.execute(
        """
        INSERT INTO api_clients (client_id, org_id, jwks, active)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (client_id) DO UPDATE SET jwks = EXCLUDED.jwks, active = EXCLUDED.active
        WHERE api_clients.org_id = EXCLUDED.org_id
        """,
        client_id,
        org_id,
        jwks,
        active,
    )
    return _rows_affected(status) == 1


async def insert_used_assertion(conn: asyncpg.Connection, client_id: str, jti: str, expires_at: datetime) -> bool:
    """Record an assertion id as used; False when this client already used it (a replay).

    The primary key decides: a concurrent transaction inserting the same id waits for the first one and then
    inserts nothing, so two racing requests cannot both get through.
    """
    status = await conn.execute(
        """
        INSERT INTO used_assertions (client_id, jti, expires_at)
        VALUES ($1, $2, $3)
        ON CONFLICT (client_id, jti) DO NOTHING
        """,
        client_id,
        jti,
        expires_at,
    )
    return _rows_affected(status) == 1


async def delete_expired_assertions(conn: asyncpg.Connection) -> int:
    """Forget assertion ids whose assertions can no longer be accepted anyway; returns how many went."""
    status = await conn.execute("DELETE FROM used_assertions WHERE expires_at < now()")
    return _rows_affected(status)
