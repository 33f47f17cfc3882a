"""Appending many access events at once: the same chains as `record_access`, a few round trips per batch.

Per batch: lock every affected citizen's head in one statement (sorted, so concurrent batches cannot
deadlock), compute the chains in Python, COPY the events, move the heads with one UPDATE. The result is
identical to calling `record_access` once per event, which the tests check by verifying the chains.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from backend.access_log.chain import GENESIS, row_hash, timestamp_us
from backend.access_log.schemas import EVENT_COLUMNS, AccessEvent, Accessor, Action, Channel, Outcome
from backend.core.random_uuids import random_uuids


class NewAccess(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One access to append in a batch (what `record_access` takes as arguments)."""

    citizen_id: UUID
    accessor: Accessor
    action: Action
    channel: Channel
    outcome: Outcome = "granted"
    reason: str | None = None
    categories: tuple[str, ...] = ()
    record_refs: tuple[str, ...] = ()
    purpose_code: str | None = None
    legal_basis_ref: str | None = None
    mandate_id: UUID | None = None
    case_ref: str | None = None
    occurred_at: datetime | None = None
    source: str | None = None
    source_event_id: str | None = None


async def _lock_heads(conn: asyncpg.Connection, citizens: list[UUID]) -> tuple[dict[UUID, tuple[int, bytes]], datetime]:
    """Create the heads that do not exist yet, then lock every head of the batch, in citizen order.

    `ON CONFLICT DO UPDATE` (used before) wrote a new version of every existing head only to lock it;
    `FOR UPDATE` only marks the row. The lock is a statement of its own, after the insert, so that it sees a head
    that a concurrent batch created and committed while this one waited on it in the insert. All locks of the
    batch are taken by that one sorted statement: locking known heads first and new ones afterwards would take
    locks out of order, and two batches could deadlock.
    """
    await conn.execute(
        """
        INSERT INTO access_log_heads (citizen_id, last_seq, last_hash)
        SELECT id, 0, $2 FROM unnest($1::uuid[]) AS id ORDER BY id
        ON CONFLICT (citizen_id) DO NOTHING
        """,
        citizens,
        GENESIS,
    )
    rows = await conn.fetch(
        """
        SELECT citizen_id, last_seq, last_hash, now() AS now FROM access_log_heads
        WHERE citizen_id = ANY($1::uuid[]) ORDER BY citizen_id FOR UPDATE
        """,
        citizens,
    )
    heads = {row["citizen_id"]: (int(row["last_seq"]), bytes(row["last_hash"])) for row in rows}
    return heads, rows[0]["now"]


def _chained_rows(
    accesses: Sequence[NewAccess], heads: dict[UUID, tuple[int, bytes]], now: datetime, events: list[AccessEvent]
) -> Iterator[tuple[Any, ...]]:
    """The batch's rows in column order, each chained to the previous event of its citizen.

    A generator, consumed by the COPY: asyncpg sends what it has encoded about every 512 KB, so the server
    stores the first rows while the next ones are hashed (the two run on different cores). Moves `heads` along
    and appends each event to `events` as it goes.
    """
    logged_us = timestamp_us(now)
    for access, event_id in zip(accesses, random_uuids(len(accesses)), strict=True):
        citizen_id, accessor = access.citizen_id, access.accessor
        last_seq, last_hash = heads[citizen_id]
        occurred_at = access.occurred_at or now
        # The values in column order (HASHED_FIELDS, then prev_hash and hash): hashed and copied as they are.
        values = (
            citizen_id,
            last_seq + 1,
            event_id,
            occurred_at,
            now,
            accessor.kind,
            accessor.org_id,
            accessor.client_id,
            accessor.system,
            accessor.role,
            accessor.ref,
            access.mandate_id,
            access.purpose_code,
            access.legal_basis_ref,
            sorted(set(access.categories)),
            list(access.record_refs),
            access.case_ref,
            access.channel,
            access.action,
            access.outcome,
            access.reason,
            access.source,
            access.source_event_id,
        )
        occurred_us = logged_us if access.occurred_at is None else timestamp_us(occurred_at)
        digest = row_hash(last_hash, values, occurred_us, logged_us)
        row = (*values, last_hash, digest)
        events.append(AccessEvent(*row))
        heads[citizen_id] = (last_seq + 1, digest)
        yield row


async def record_accesses(conn: asyncpg.Connection, accesses: Sequence[NewAccess]) -> list[AccessEvent]:
    """Append a batch of events in the caller's transaction; events of one citizen keep the batch's order."""
    if not accesses:
        return []
    # Everything that could refuse an event is checked before the first write: the rows are made during the COPY.
    for access in accesses:
        if access.outcome != "granted" and not access.reason:
            raise ValueError("a denied or failed access needs a reason")
        if access.occurred_at is not None and access.occurred_at.tzinfo is None:
            raise ValueError("naive timestamp in the access log field occurred_at")
    # In no particular order: the statements sort them (sorting uuids in Python cost more per batch).
    heads, now = await _lock_heads(conn, list({access.citizen_id for access in accesses}))
    events: list[AccessEvent] = []
    await conn.copy_records_to_table(
        "access_events", records=_chained_rows(accesses, heads, now, events), columns=list(EVENT_COLUMNS)
    )
    citizens = list(heads)
    await conn.execute(
        """
        UPDATE access_log_heads AS h SET last_seq = n.seq, last_hash = n.hash, updated_at = now()
        FROM unnest($1::uuid[], $2::bigint[], $3::bytea[]) AS n (citizen_id, seq, hash)
        WHERE h.citizen_id = n.citizen_id
        """,
        citizens,
        [heads[citizen][0] for citizen in citizens],
        [heads[citizen][1] for citizen in citizens],
    )
    return events
