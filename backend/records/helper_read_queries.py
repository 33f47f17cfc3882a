"""SQL behind reading a person's records for them under a mandate: one typed function per statement.

Every statement is scoped by the citizen in its WHERE clause; none of them writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg
import msgspec

from backend.access_log.schemas import ActorKind


async def select_record_refs(
    conn: asyncpg.Connection, citizen_id: UUID, categories: Sequence[str], *, active_only: bool
) -> dict[str, list[str]]:
    """The ids of a person's records per category (only those that count now when `active_only`), as the
    access log names them."""
    rows = await conn.fetch(
        """
        SELECT category, record_id FROM records
        WHERE citizen_id = $1 AND category = ANY($2::text[]) AND (status = 'active' OR NOT $3)
        ORDER BY category, occurred_at, record_id
        """,
        citizen_id,
        list(categories),
        active_only,
    )
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row["category"], []).append(str(row["record_id"]))
    return found


class ReportFiling(msgspec.Struct, frozen=True, kw_only=True):
    """Who filed an error report for the person under a mandate, as their access log recorded it."""

    report_ref: str
    actor_kind: ActorKind
    actor_org_id: UUID | None
    actor_ref: str | None
    mandate_id: UUID | None


async def select_report_filings(
    conn: asyncpg.Connection, citizen_id: UUID, report_refs: Sequence[str]
) -> list[ReportFiling]:
    """The access-log events that filed these reports for the person (a report the person filed has none)."""
    if not report_refs:
        return []
    rows = await conn.fetch(
        """
        SELECT case_ref AS report_ref, actor_kind, actor_org_id, actor_ref, mandate_id
        FROM access_events
        WHERE citizen_id = $1 AND action = 'change' AND outcome = 'granted' AND case_ref = ANY($2::text[])
        """,
        citizen_id,
        list(report_refs),
    )
    return [msgspec.convert(dict(row), ReportFiling) for row in rows]


__all__ = ["ReportFiling", "select_record_refs", "select_report_filings"]
