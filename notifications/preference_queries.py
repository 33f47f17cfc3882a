"""SQL for people's notification choices, quiet hours and person statuses: one typed function per statement."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time
from uuid import UUID

import asyncpg

from notifications.schemas import OptionalChannel, PersonStatus, QuietHours


async def select_preferences(conn: asyncpg.Connection, citizen_id: UUID) -> dict[tuple[str, str], bool]:
    """The choices the person made, by (kind, channel); what is missing is the default."""
    rows = await conn.fetch(
        "SELECT kind, channel, enabled FROM notification_preferences WHERE citizen_id = $1", citizen_id
    )
    return {(str(row["kind"]), str(row["channel"])): bool(row["enabled"]) for row in rows}


async def select_preference(
    conn: asyncpg.Connection, citizen_id: UUID, kind: str, channel: OptionalChannel
) -> bool | None:
    """The person's choice for one kind and channel, or None when never made."""
    value = await conn.fetchval(
        "SELECT enabled FROM notification_preferences WHERE citizen_id = $1 AND kind = $2 AND channel = $3",
        citizen_id,
        kind,
        channel,
    )
    return None if value is None else bool(value)


async def select_choices(
    conn: asyncpg.Connection, pairs: Sequence[tuple[UUID, str]]
) -> dict[tuple[UUID, str, str], bool]:
    """The choices made for these (person, kind) pairs, by (person, kind, channel); what is missing is the default."""
    rows = await conn.fetch(
        """
        SELECT p.citizen_id, p.kind, p.channel, p.enabled
        FROM notification_preferences AS p
        JOIN unnest($1::uuid[], $2::text[]) AS w (citizen_id, kind) USING (citizen_id, kind)
        """,
        [citizen_id for citizen_id, _ in pairs],
        [kind for _, kind in pairs],
    )
    return {(row["citizen_id"], str(row["kind"]), str(row["channel"])): bool(row["enabled"]) for row in rows}


async def upsert_preference(
    conn: asyncpg.Connection, citizen_id: UUID, kind: str, channel: OptionalChannel, enabled: bool
) -> None:
    """Record the person's choice for one kind and channel."""
    await conn.execute(
        """
        INSERT INTO notification_preferences (citizen_id, kind, channel, enabled) VALUES ($1, $2, $3, $4)
        ON CONFLICT (citizen_id, kind, channel) DO UPDATE SET enabled = EXCLUDED.enabled, updated_at = now()
        """,
        citizen_id,
        kind,
        channel,
        enabled,
    )


async def select_quiet_hours(conn: asyncpg.Connection, citizen_id: UUID) -> QuietHours | None:
    """The person's quiet hours for push, if set."""
    row = await conn.fetchrow(
        "SELECT quiet_from, quiet_to FROM notification_settings WHERE citizen_id = $1 AND quiet_from IS NOT NULL",
        citizen_id,
    )
    return None if row is None else QuietHours(quiet_from=row["quiet_from"], quiet_to=row["quiet_to"])


async def upsert_quiet_hours(
    conn: asyncpg.Connection, citizen_id: UUID, quiet_from: time | None, quiet_to: time | None
) -> None:
    """Set (or clear, with two None) the person's quiet hours."""
    await conn.execute(
        """
        INSERT INTO notification_settings (citizen_id, quiet_from, quiet_to) VALUES ($1, $2, $3)
        ON CONFLICT (citizen_id) DO UPDATE
            SET quiet_from = EXCLUDED.quiet_from, quiet_to = EXCLUDED.quiet_to, updated_at = now()
        """,
        citizen_id,
        quiet_from,
        quiet_to,
    )


async def select_person_status(conn: asyncpg.Connection, citizen_id: UUID) -> PersonStatus:
    """Whether the person is a pensioner or an early retiree (neither when unknown)."""
    row = await conn.fetchrow("SELECT pensioner, early_retiree FROM person_statuses WHERE citizen_id = $1", citizen_id)
    if row is None:
        return PersonStatus()
    return PersonStatus(pensioner=bool(row["pensioner"]), early_retiree=bool(row["early_retiree"]))


async def upsert_person_status(conn: asyncpg.Connection, citizen_id: UUID, status: PersonStatus) -> bool:
    """Record a person's status; False when it was already exactly that."""
    value = await conn.fetchval(
        """
        INSERT INTO person_statuses (citizen_id, pensioner, early_retiree) VALUES ($1, $2, $3)
        ON CONFLICT (citizen_id) DO UPDATE
            SET pensioner = EXCLUDED.pensioner, early_retiree = EXCLUDED.early_retiree, updated_at = now()
            WHERE (person_statuses.pensioner, person_statuses.early_retiree)
                  IS DISTINCT FROM (EXCLUDED.pensioner, EXCLUDED.early_retiree)
        RETURNING 1
        """,
        citizen_id,
        status.pensioner,
        status.early_retiree,
    )
    return value is not None
