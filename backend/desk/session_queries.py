"""SQL for assisted sessions and their actions: one typed function per statement, the connection first."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from backend.desk.schemas import ActionKind, DeskSession, SessionAction


def _session(row: asyncpg.Record | None) -> DeskSession | None:
    if row is None:
        return None
    values = dict(row)
    values["scopes"] = tuple(values["scopes"])
    return DeskSession(**values)


async def insert_session(
    conn: asyncpg.Connection,
    *,
    citizen_id: UUID,
    agent_person_id: UUID,
    agent_ref: str,
    office: str,
    verification: str,
    document_type: str | None,
    document_last4: str | None,
    reason: str,
    scopes: list[str],
    opened_at: datetime,
    expires_at: datetime,
) -> DeskSession | None:
    """Open a session; None when the person already has an open one (the partial unique index)."""
    row = await conn.fetchrow(
        """
        INSERT INTO desk_sessions (citizen_id, agent_person_id, agent_ref, office, verification, document_type,
                                   document_last4, reason, scopes, opened_at, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        ON CONFLICT (citizen_id) WHERE ended_at IS NULL DO NOTHING
        RETURNING
        citizen_id, session_id, agent_person_id, agent_ref, office, verification, document_type,
        document_last4, reason, scopes, opened_at, expires_at, extended_at, ended_at, end_reason

        """,
        citizen_id,
        agent_person_id,
        agent_ref,
        office,
        verification,
        document_type,
        document_last4,
        reason,
        scopes,
        opened_at,
        expires_at,
    )
    return _session(row)


async def select_session(conn: asyncpg.Connection, session_id: UUID) -> DeskSession | None:
    """A session by its id."""
    row = await conn.fetchrow(
        """
        SELECT
        citizen_id, session_id, agent_person_id, agent_ref, office, verification, document_type,
        document_last4, reason, scopes, opened_at, expires_at, extended_at, ended_at, end_reason
        FROM desk_sessions WHERE session_id = $1
        """,
        session_id,
    )
    return _session(row)


async def select_open_session_of_citizen(conn: asyncpg.Connection, citizen_id: UUID) -> DeskSession | None:
    """The person's session not yet marked ended (it may be past its time)."""
    row = await conn.fetchrow(
        """
        SELECT
        citizen_id, session_id, agent_person_id, agent_ref, office, verification, document_type,
        document_last4, reason, scopes, opened_at, expires_at, extended_at, ended_at, end_reason
        FROM desk_sessions WHERE citizen_id = $1 AND ended_at IS NULL FOR UPDATE
        """,
        citizen_id,
    )
    return _session(row)


async def update_ended(
    conn: asyncpg.Connection, citizen_id: UUID, session_id: UUID, *, at: datetime, reason: str
) -> DeskSession | None:
    """Mark a session ended (explicitly, or expired at its own expiry time); None when it already was."""
    row = await conn.fetchrow(
        """
        UPDATE desk_sessions SET ended_at = $3, end_reason = $4
        WHERE citizen_id = $1 AND session_id = $2 AND ended_at IS NULL
        RETURNING
        citizen_id, session_id, agent_person_id, agent_ref, office, verification, document_type,
        document_last4, reason, scopes, opened_at, expires_at, extended_at, ended_at, end_reason

        """,
        citizen_id,
        session_id,
        at,
        reason,
    )
    return _session(row)


async def update_extended(
    conn: asyncpg.Connection, citizen_id: UUID, session_id: UUID, *, at: datetime, expires_at: datetime
) -> DeskSession | None:
    """Extend an open session once; None when it was extended before or has ended."""
    row = await conn.fetchrow(
        """
        UPDATE desk_sessions SET extended_at = $3, expires_at = $4
        WHERE citizen_id = $1 AND session_id = $2 AND ended_at IS NULL AND extended_at IS NULL
        RETURNING
        citizen_id, session_id, agent_person_id, agent_ref, office, verification, document_type,
        document_last4, reason, scopes, opened_at, expires_at, extended_at, ended_at, end_reason

        """,
        citizen_id,
        session_id,
        at,
        expires_at,
    )
    return _session(row)


async def select_sessions_of_agent(
    conn: asyncpg.Connection, agent_person_id: UUID, *, limit: int = 20
) -> list[DeskSession]:
    """The agent's latest sessions, newest first."""
    rows = await conn.fetch(
        """
        SELECT
        citizen_id, session_id, agent_person_id, agent_ref, office, verification, document_type,
        document_last4, reason, scopes, opened_at, expires_at, extended_at, ended_at, end_reason
        FROM desk_sessions WHERE agent_person_id = $1 ORDER BY opened_at DESC LIMIT $2
        """,
        agent_person_id,
        limit,
    )
    return [session for row in rows if (session := _session(row)) is not None]


async def select_sessions_of_citizen(conn: asyncpg.Connection, citizen_id: UUID) -> list[DeskSession]:
    """Every session about the person, newest first."""
    rows = await conn.fetch(
        """
        SELECT
        citizen_id, session_id, agent_person_id, agent_ref, office, verification, document_type,
        document_last4, reason, scopes, opened_at, expires_at, extended_at, ended_at, end_reason
        FROM desk_sessions WHERE citizen_id = $1 ORDER BY opened_at DESC
        """,
        citizen_id,
    )
    return [session for row in rows if (session := _session(row)) is not None]


async def select_sessions_since(conn: asyncpg.Connection, since: datetime, *, limit: int = 2000) -> list[DeskSession]:
    """Every session opened since a moment, newest first (the reviewers' list)."""
    rows = await conn.fetch(
        """
        SELECT
        citizen_id, session_id, agent_person_id, agent_ref, office, verification, document_type,
        document_last4, reason, scopes, opened_at, expires_at, extended_at, ended_at, end_reason
        FROM desk_sessions WHERE opened_at >= $1 ORDER BY opened_at DESC LIMIT $2
        """,
        since,
        limit,
    )
    return [session for row in rows if (session := _session(row)) is not None]


async def insert_action(
    conn: asyncpg.Connection,
    *,
    citizen_id: UUID,
    session_id: UUID,
    kind: ActionKind,
    occurred_at: datetime,
    detail: str | None = None,
) -> None:
    """Add one step to a session's history."""
    await conn.execute(
        """
        INSERT INTO desk_session_actions (citizen_id, session_id, kind, occurred_at, detail)
        VALUES ($1, $2, $3, $4, $5)
        """,
        citizen_id,
        session_id,
        kind,
        occurred_at,
        detail,
    )


async def select_actions(conn: asyncpg.Connection, citizen_id: UUID, session_ids: list[UUID]) -> list[SessionAction]:
    """The history of the person's sessions, in order."""
    rows = await conn.fetch(
        """
        SELECT citizen_id, session_id, occurred_at, kind, detail FROM desk_session_actions
        WHERE citizen_id = $1 AND session_id = ANY($2::uuid[])
        ORDER BY recorded_at
        """,
        citizen_id,
        session_ids,
    )
    return [SessionAction(**dict(row)) for row in rows]


async def count_actions_by_session(conn: asyncpg.Connection, session_ids: list[UUID]) -> dict[UUID, int]:
    """How many steps each session has (reviewers' list)."""
    rows = await conn.fetch(
        """
        SELECT session_id, count(*) AS actions FROM desk_session_actions
        WHERE session_id = ANY($1::uuid[]) GROUP BY session_id
        """,
        session_ids,
    )
    return {row["session_id"]: int(row["actions"]) for row in rows}
