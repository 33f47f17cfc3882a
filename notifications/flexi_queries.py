"""SQL the flexi warnings need beyond the counter: the months declared, and the counters worth a daily look."""

from __future__ import annotations

from uuid import UUID

import asyncpg


async def select_declared_months(
    conn: asyncpg.Connection, citizen_id: UUID, income_year: int
) -> tuple[int, int] | None:
    """The first and last month (1-12) with an active flexi wage in the income year, or None."""
    row = await conn.fetchrow(
        """
        SELECT min(payload ->> 'month') AS first, max(payload ->> 'month') AS last
        FROM records
        WHERE citizen_id = $1 AND category = 'flexi_wages' AND status = 'active'
          AND valid_from >= make_date($2, 1, 1) AND valid_from < make_date($2 + 1, 1, 1)
        """,
        citizen_id,
        income_year,
    )
    if row is None or row["first"] is None:
        return None
    return int(str(row["first"])[5:7]), int(str(row["last"])[5:7])


async def select_counters_from(
    conn: asyncpg.Connection, *, income_year: int, min_total_cents: int, after: UUID | None, limit: int
) -> list[UUID]:
    """People whose counter for the year is at least `min_total_cents`, by id after `after` (keyset paging)."""
    rows = await conn.fetch(
        """
        SELECT citizen_id FROM flexi_counters
        WHERE income_year = $1 AND total_cents >= $2 AND ($3::uuid IS NULL OR citizen_id > $3)
        ORDER BY citizen_id
        LIMIT $4
        """,
        income_year,
        min_total_cents,
        after,
        limit,
    )
    return [row["citizen_id"] for row in rows]
