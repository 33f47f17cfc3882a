"""Derived views kept at ingest: the flexi counter per person and income year.

The counter is recomputed from the active flexi_wages records of the affected year rather than adjusted by
deltas: simple, and always right after corrections and cancellations.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

import asyncpg

from backend.records import bulk_queries
from backend.records.schemas import StoredRecord

FLEXI_CATEGORY = "flexi_wages"


def affected_flexi_years(record: StoredRecord, original: StoredRecord | None) -> set[tuple[UUID, int]]:
    """The (person, income year) counters a stored record changes: a correction may move a wage to another year."""
    if record.category != FLEXI_CATEGORY:
        return set()
    return {(r.citizen_id, r.valid_from.year) for r in (record, original) if r is not None and r.valid_from}


async def refresh_flexi_counters(conn: asyncpg.Connection, affected: Iterable[tuple[UUID, int]]) -> None:
    """Recompute each affected counter under its lock, the locks taken in a stable order (two batches never wait
    on each other in a circle).

    Two statements whatever the count: the locks first, then the recomputation, whose snapshot is taken only
    once every lock is held (so it sees what a concurrent ingest committed before releasing its lock).
    """
    keys = sorted(set(affected))
    if not keys:
        return
    await bulk_queries.lock_flexi_counters(conn, keys)
    await bulk_queries.refresh_flexi_counters(conn, keys)
