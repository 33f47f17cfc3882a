"""Appending many access events at once: the same chains as `record_access`, a few round trips per batch.

Per batch: lock every affected citizen's head in one statement (sorted, so concurrent batches cannot deadlock),
creating the missing ones; compute the chains in Python while a binary COPY stores the events; move the heads with
one UPDATE. The result is identical to calling `record_access` once per event, which the tests check by verifying
the chains. Decision 0010 says what each step costs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any, Final, NamedTuple, overload
from uuid import UUID

import asyncpg
import msgspec

from backend.access_log import event_copy
from backend.access_log.chain import CHAIN_VERSION, GENESIS, timestamp_us, versioned_hash
from backend.access_log.schemas import EVENT_COLUMNS, AccessEvent, Accessor, Action, ActorKind, Channel, Outcome
from backend.core.random_uuids import random_uuid_bytes, uuid_at

# Rows per COPY data message: the server stores one while the next is made, and its share of the last one (which
# nothing overlaps) stays short; a message's own cost is nothing beside 500 rows.
_ROWS_PER_CHUNK: Final = 500


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


# actor_kind, actor_org_id, actor_client_id, actor_system, actor_role, actor_ref, mandate_id, purpose_code,
# legal_basis_ref: who accessed and on what grounds.
_WhoWhy = tuple[
    ActorKind, UUID | None, str | None, str | None, str | None, str | None, UUID | None, str | None, str | None
]
# channel, action, outcome, reason, source.
_How = tuple[Channel, Action, Outcome, str | None, str | None]


class _Context(NamedTuple):
    """What many events of a batch share (who, why, how), hashed and copied as it is for each of them."""

    # In HASHED_FIELDS order: who_why, categories, (the event's record_refs and case_ref), how.
    who_why: _WhoWhy
    categories: list[str]
    how: _How
    # The same, as binary COPY fields: actor_kind to categories, and channel to source.
    who_why_copied: bytes
    how_copied: bytes


def _context(access: NewAccess) -> _Context:
    """The shared part of an event, encoded for the COPY."""
    accessor = access.accessor
    who_why: _WhoWhy = (
        accessor.kind,
        accessor.org_id,
        accessor.client_id,
        accessor.system,
        accessor.role,
        accessor.ref,
        access.mandate_id,
        access.purpose_code,
        access.legal_basis_ref,
    )
    categories = sorted(set(access.categories))
    how: _How = (access.channel, access.action, access.outcome, access.reason, access.source)
    text, uuid = event_copy.text_field, event_copy.uuid_field
    return _Context(
        who_why=who_why,
        categories=categories,
        how=how,
        who_why_copied=b"".join(
            (
                text(accessor.kind),
                uuid(accessor.org_id),
                text(accessor.client_id),
                text(accessor.system),
                text(accessor.role),
                text(accessor.ref),
                uuid(access.mandate_id),
                text(access.purpose_code),
                text(access.legal_basis_ref),
                event_copy.text_array_field(categories),
            )
        ),
        how_copied=b"".join(text(value) for value in how),
    )


async def _lock_heads(
    conn: asyncpg.Connection, citizens: list[UUID]
) -> tuple[dict[UUID, tuple[int, bytes]], list[tuple[int, int]], datetime]:
    """Lock every head of the batch in citizen order, creating the missing ones; returns the heads.

    Also returns the address of each head's row (in the order of the heads) and the transaction's now(). The
    insert takes the locks: `DO UPDATE … WHERE false` locks the head it finds without writing a new version of it
    (`DO UPDATE` without the condition did: a row version per head per batch only to lock it), and a head it
    creates is this transaction's own. The insert goes through the batch's citizens in order, so two batches take
    their locks in one order and cannot deadlock; a head that a concurrent batch is creating is waited for and
    then locked. The heads are read by a statement of its own, after the insert, which sees those.
    """
    now: datetime = await conn.fetchval(
        """
        WITH locked AS (
            INSERT INTO access_log_heads AS h (citizen_id, last_seq, last_hash)
            SELECT id, 0, $2 FROM unnest($1::uuid[]) AS id ORDER BY id
            ON CONFLICT (citizen_id) DO UPDATE SET last_seq = h.last_seq WHERE false
        )
        SELECT now()
        """,
        citizens,
        GENESIS,
    )
    rows = await conn.fetch(
        "SELECT citizen_id, last_seq, last_hash, ctid FROM access_log_heads WHERE citizen_id = ANY($1::uuid[])",
        citizens,
    )
    return {row[0]: (row[1], row[2]) for row in rows}, [row[3] for row in rows], now


def _batch_organisations(
    accesses: Sequence[NewAccess], citizens: Sequence[UUID]
) -> tuple[list[UUID], list[int], list[int]]:
    """The organisations each head's citizen meets in this batch, in order of first appearance: one flat list,
    and for each of `citizens` its first and last position in it (PostgreSQL's 1-based subscripts; last < first
    for a citizen the batch brings no organisation)."""
    met: dict[UUID, dict[UUID, None]] = {}
    for access in accesses:
        org_id = access.accessor.org_id
        if org_id is not None:
            met.setdefault(access.citizen_id, {})[org_id] = None
    flat: list[UUID] = []
    firsts: list[int] = []
    lasts: list[int] = []
    for citizen in citizens:
        firsts.append(len(flat) + 1)
        organisations = met.get(citizen)
        if organisations:
            flat.extend(organisations)
        lasts.append(len(flat))
    return flat, firsts, lasts


class AppendedEvents(Sequence[AccessEvent]):
    """The events a batch appended, in the batch's order, each made when it is read.

    A batch of thousands kept as thousands of `AccessEvent`s (each with its uuid and two lists) gave Python's
    garbage collector that many more objects to walk, on every full collection, for as long as the caller held
    them, and an ingest that reads none of them paid for all. This keeps what the events do not share as numbers
    and bytes, which the collector does not track, and builds an equal `AccessEvent` on each read.
    """

    __slots__ = ("_accesses", "_contexts", "_digests", "_event_ids", "_now", "_prev_hashes", "_seqs")

    def __init__(self, accesses: Sequence[NewAccess], now: datetime, event_ids: bytes) -> None:
        self._accesses = accesses
        self._now = now
        self._event_ids = event_ids
        self._contexts: list[_Context] = []
        self._seqs: list[int] = []
        self._prev_hashes: list[bytes] = []
        self._digests: list[bytes] = []

    def _append(self, context: _Context, seq: int, prev_hash: bytes, digest: bytes) -> None:
        self._contexts.append(context)
        self._seqs.append(seq)
        self._prev_hashes.append(prev_hash)
        self._digests.append(digest)

    def __len__(self) -> int:
        return len(self._seqs)

    @overload
    def __getitem__(self, index: int) -> AccessEvent: ...

    @overload
    def __getitem__(self, index: slice) -> list[AccessEvent]: ...

    def __getitem__(self, index: int | slice) -> AccessEvent | list[AccessEvent]:
        if isinstance(index, slice):
            return [self._event(position) for position in range(*index.indices(len(self)))]
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self):
            raise IndexError("appended event index out of range")
        return self._event(position)

    def _event(self, position: int) -> AccessEvent:
        access, context = self._accesses[position], self._contexts[position]
        return AccessEvent(
            access.citizen_id,
            self._seqs[position],
            uuid_at(self._event_ids, position),
            access.occurred_at or self._now,
            self._now,
            *context.who_why,
            # Lists of their own per event: the context's is shared, the access holds tuples.
            list(context.categories),
            list(access.record_refs),
            access.case_ref,
            *context.how,
            access.source_event_id,
            self._prev_hashes[position],
            self._digests[position],
        )


async def _copy_data(
    accesses: Sequence[NewAccess],
    heads: dict[UUID, tuple[int, bytes]],
    now: datetime,
    event_ids: bytes,
    events: AppendedEvents,
) -> AsyncIterator[bytes]:
    """The batch as binary COPY data, each event chained to the previous one of its citizen, 500 rows a chunk.

    Consumed by the COPY: the server stores a chunk while the next one is hashed (the two run on different
    cores). What events share is hashed and encoded once per batch (`_Context`); per event there remain a
    SHA-256 over the canonical list, a few packed numbers and a join of ready bytes. Moves `heads` along and
    records each event in `events` as it goes. Nothing made per event outlives it but numbers and bytes.
    """
    logged_us = timestamp_us(now)
    logged_pg = event_copy.pg_timestamp(logged_us)
    contexts: dict[tuple[Any, ...], _Context] = {}
    record_refs_copied: dict[tuple[str, ...], bytes] = {}
    text = event_copy.text_field
    parts = [event_copy.HEADER]
    for index, access in enumerate(accesses):
        # The accessor by identity: every access of the batch holds its own alive, and equal accessors that are
        # distinct objects only make one more context.
        key = (
            id(access.accessor),
            access.mandate_id,
            access.purpose_code,
            access.legal_basis_ref,
            access.categories,
            access.channel,
            access.action,
            access.outcome,
            access.reason,
            access.source,
        )
        context = contexts.get(key)
        if context is None:
            context = contexts[key] = _context(access)
        citizen_id = access.citizen_id
        last_seq, last_hash = heads[citizen_id]
        seq = last_seq + 1
        event_id = uuid_at(event_ids, index)
        occurred_us = logged_us if access.occurred_at is None else timestamp_us(access.occurred_at)
        # CHAIN_VERSION, then the values in HASHED_FIELDS order, timestamps in microseconds since 1970 (a tuple of
        # record references encodes as the same JSON array as a list).
        digest = versioned_hash(
            last_hash,
            [
                CHAIN_VERSION,
                citizen_id,
                seq,
                event_id,
                occurred_us,
                logged_us,
                *context.who_why,
                context.categories,
                access.record_refs,
                access.case_ref,
                *context.how,
                access.source_event_id,
            ],
        )
        heads[citizen_id] = (seq, digest)
        events._append(context, seq, last_hash, digest)
        refs_copied = record_refs_copied.get(access.record_refs)
        if refs_copied is None:
            refs_copied = record_refs_copied[access.record_refs] = event_copy.text_array_field(access.record_refs)
        parts += (
            event_copy.row_start(citizen_id, seq, event_id, event_copy.pg_timestamp(occurred_us), logged_pg),
            context.who_why_copied,
            refs_copied,
            text(access.case_ref),
            context.how_copied,
            text(access.source_event_id),
            event_copy.hash_fields(last_hash, digest),
        )
        if (index + 1) % _ROWS_PER_CHUNK == 0:
            yield b"".join(parts)
            parts = []
    parts.append(event_copy.TRAILER)
    yield b"".join(parts)


async def record_accesses(conn: asyncpg.Connection, accesses: Sequence[NewAccess]) -> Sequence[AccessEvent]:
    """Append a batch of events in the caller's transaction; events of one citizen keep the batch's order.

    Returns the events appended, in the batch's order (`AppendedEvents`: each is made when it is read).
    """
    if not accesses:
        return []
    # Everything that could refuse an event is checked before the first write: the rows are made during the COPY.
    for access in accesses:
        if access.outcome != "granted" and not access.reason:
            raise ValueError("a denied or failed access needs a reason")
        if access.occurred_at is not None and access.occurred_at.tzinfo is None:
            raise ValueError("naive timestamp in the access log field occurred_at")
        # Tuples, as declared: the batch looks them up in its encodings (a list is not a key).
        if type(access.categories) is not tuple or type(access.record_refs) is not tuple:
            raise TypeError("categories and record_refs of a NewAccess are tuples")
    # In no particular order: the statements sort them (sorting uuids in Python cost more per batch).
    heads, addresses, now = await _lock_heads(conn, list({access.citizen_id for access in accesses}))
    citizens = list(heads)
    event_ids = random_uuid_bytes(len(accesses))
    events = AppendedEvents(accesses, now, event_ids)
    await conn.copy_to_table(
        "access_events",
        source=_copy_data(accesses, heads, now, event_ids, events),
        columns=list(EVENT_COLUMNS),
        format="binary",
    )
    # Each head is found again by the address read under its lock: a locked row cannot move before the transaction
    # ends, and the address spares a second search of the primary key per head. The citizen_id guard makes a
    # wrong address match nothing, and then the count below refuses the batch.
    # The organisations the batch meets travel as one flat array with each head's slice of it (binary uuids, no
    # text); the server appends to a head's list those it does not hold yet, in the batch's order.
    organisations, firsts, lasts = _batch_organisations(accesses, citizens)
    status = await conn.execute(
        """
        UPDATE access_log_heads AS h
        SET last_seq = n.seq, last_hash = n.hash, updated_at = now(),
            org_ids = CASE
                WHEN n.orgs_to < n.orgs_from THEN h.org_ids
                ELSE h.org_ids || ARRAY(
                    SELECT met.org_id
                    FROM unnest(($5::uuid[])[n.orgs_from:n.orgs_to]) WITH ORDINALITY AS met (org_id, position)
                    WHERE met.org_id <> ALL (h.org_ids)
                    ORDER BY met.position
                )
            END
        FROM unnest($1::tid[], $2::uuid[], $3::bigint[], $4::bytea[], $6::int4[], $7::int4[])
            AS n (address, citizen_id, seq, hash, orgs_from, orgs_to)
        WHERE h.ctid = n.address AND h.citizen_id = n.citizen_id
        """,
        addresses,
        citizens,
        [heads[citizen][0] for citizen in citizens],
        [heads[citizen][1] for citizen in citizens],
        organisations,
        firsts,
        lasts,
    )
    if status != f"UPDATE {len(citizens)}":
        raise RuntimeError(f"access log heads not found again under their lock ({status} of {len(citizens)})")
    return events
