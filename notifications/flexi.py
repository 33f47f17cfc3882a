"""The flexi warnings against the database: evaluated in the ingest transaction, and daily as a safety net.

`evaluate_flexi` reads the counter the ingest just refreshed (in the same transaction, under the counter's lock),
asks the pure rule (notifications.flexi_rule) what is owed, and writes outbox rows whose deduplication keys make
a warning unique per person, year and threshold.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from backend.core.db import ConnectionSource, transaction
from backend.records import queries as records_queries
from backend.records.counters import affected_flexi_years
from backend.records.flexi import flexi_ceiling_for_year
from backend.records.schemas import FlexiCounter, StoredRecord
from notifications import flexi_queries, outbox_queries, preference_queries
from notifications.flexi_rule import (
    THRESHOLDS,
    FlexiWarning,
    WarningKind,
    dedup_key,
    flexi_warnings,
    pension_limit_for_year,
)
from notifications.outbox import enqueue_notification

BRUSSELS: Final = ZoneInfo("Europe/Brussels")
DAILY_BATCH: Final = 200
_KINDS: Final[tuple[WarningKind, ...]] = ("flexi_ceiling", "flexi_pension_limit")


async def evaluate_flexi(
    conn: asyncpg.Connection, citizen_id: UUID, income_year: int, *, thresholds: Sequence[int] = THRESHOLDS
) -> list[FlexiWarning]:
    """Write the outbox rows of the flexi warnings owed now for one person and income year; those written.

    Call it in the transaction that refreshed the counter, after the refresh (it holds the counter's lock).
    """
    counter = await records_queries.select_flexi_counter(conn, citizen_id, income_year)
    return await _evaluate_counter(conn, citizen_id, income_year, counter, thresholds)


async def _evaluate_counter(
    conn: asyncpg.Connection,
    citizen_id: UUID,
    income_year: int,
    counter: FlexiCounter | None,
    thresholds: Sequence[int],
) -> list[FlexiWarning]:
    """`evaluate_flexi` once the counter is read."""
    if (
        counter is None
        or counter.total_cents <= 0
        or _below_every_threshold(counter.total_cents, income_year, thresholds)
    ):
        # Most people an ingest touches are far from any limit: no more statements for them (three fewer each).
        return []
    months = await flexi_queries.select_declared_months(conn, citizen_id, income_year)
    first_month, last_month = months if months is not None else (1, 12)
    keys = {(kind, threshold): dedup_key(kind, income_year, threshold) for kind in _KINDS for threshold in thresholds}
    existing = await outbox_queries.select_existing_keys(conn, citizen_id, list(keys.values()))
    warned: dict[WarningKind, set[int]] = {kind: set() for kind in _KINDS}
    for (kind, threshold), key in keys.items():
        if key in existing:
            warned[kind].add(threshold)
    owed = flexi_warnings(
        year=income_year,
        total_cents=counter.total_cents,
        as_of=counter.as_of.astimezone(BRUSSELS).date(),
        first_month=first_month,
        last_month=last_month,
        status=await preference_queries.select_person_status(conn, citizen_id),
        warned=warned,
        thresholds=thresholds,
    )
    written = []
    for warning in owed:
        outbox_id = await enqueue_notification(
            conn, citizen_id=citizen_id, kind=warning.kind, dedup_key=warning.dedup_key, payload=warning.payload()
        )
        if outbox_id is not None:
            written.append(warning)
    return written


async def evaluate_flexi_after_ingest(conn: asyncpg.Connection, accepted: Sequence[StoredRecord]) -> int:
    """Evaluate every (person, income year) whose flexi records an ingest accepted; how many warnings were owed.

    The hook for `ingest_declarations`, in its transaction after the counters are refreshed.
    """
    affected: set[tuple[UUID, int]] = set()
    for record in accepted:
        affected |= affected_flexi_years(record, None)
    if not affected:
        return 0
    keys = sorted(affected)
    # Every counter in one statement (one per person and year cost a round trip per flexi wage of the batch);
    # writing warnings changes no counter, so reading them all first reads what one at a time would.
    counters = await records_queries.select_flexi_counters(conn, keys)
    written = 0
    for citizen_id, year in keys:
        counter = counters.get((citizen_id, year))
        written += len(await _evaluate_counter(conn, citizen_id, year, counter, THRESHOLDS))
    return written


# Worked out once per year (and thresholds): an ingest asks it for every person whose flexi wages it stored.
@functools.lru_cache(maxsize=64)
def _threshold_floor(year: int, thresholds: tuple[int, ...]) -> int | None:
    """The smallest threshold of the smallest limit of the year, in cents times 100; None when nothing is watched."""
    limits = [limit.amount_cents for limit in (flexi_ceiling_for_year(year), pension_limit_for_year(year)) if limit]
    return None if not limits or not thresholds else min(thresholds) * min(limits)


def _below_every_threshold(total_cents: int, year: int, thresholds: Sequence[int]) -> bool:
    """True when no status, no earlier warning and no forecast could make a warning owed for this total."""
    floor = _threshold_floor(year, tuple(thresholds))
    return floor is None or total_cents * 100 < floor


def _smallest_amount_watched(year: int) -> int | None:
    amounts = [limit.amount_cents for limit in (flexi_ceiling_for_year(year), pension_limit_for_year(year)) if limit]
    return min(amounts) * min(THRESHOLDS) // 100 if amounts else None


async def evaluate_flexi_year(source: ConnectionSource, income_year: int, *, batch: int = DAILY_BATCH) -> int:
    """Evaluate every counter of the year that is near some limit, a batch per transaction; warnings written."""
    floor = _smallest_amount_watched(income_year)
    if floor is None:
        return 0
    written, after = 0, None
    while True:
        async with transaction(source) as conn:
            people = await flexi_queries.select_counters_from(
                conn, income_year=income_year, min_total_cents=floor, after=after, limit=batch
            )
            for citizen_id in people:
                # The same lock as the ingest: an evaluation never interleaves with a counter refresh.
                await records_queries.lock_flexi_counter(conn, citizen_id, income_year)
                written += len(await evaluate_flexi(conn, citizen_id, income_year))
        if len(people) < batch:
            return written
        after = people[-1]


async def evaluate_flexi_daily(ctx: dict[str, Any]) -> int:
    """Worker cron: this income year and the previous one (late corrections), behind the ingest's evaluation."""
    year = datetime.now(UTC).astimezone(BRUSSELS).year
    source: ConnectionSource = ctx["connection_source"]
    return await evaluate_flexi_year(source, year - 1) + await evaluate_flexi_year(source, year)
