"""Ingest: institutions declare what they hold about people as CloudEvents, answered item by item.

Each item is read and checked on its own, so one bad item never stops the others, and a rejected item leaves
nothing behind. Idempotency is by (source, id) across all citizens: a repeat answers the record the first one
became. A batch is first stored set-wise (bulk_ingest, a few statements in one savepoint); on a database error
it is stored again item by item, each item in a savepoint of its own, so that error only rejects its own item.
Services never commit.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final
from uuid import UUID

import asyncpg
import msgspec

from backend.core.auth.assertions import InstitutionCaller
from backend.core.errors import FieldError, Problem
from backend.core.identity.queries import select_person_by_insz
from backend.records import queries
from backend.records.bulk_ingest import Fallback, ingest_in_bulk
from backend.records.categories.base import Category, encode_hook
from backend.records.counters import affected_flexi_years, refresh_flexi_counters
from backend.records.events import CheckedPayload, ExaminedItem, MalformedItem, examine, raw_id
from backend.records.registry import REGISTRY, Registry
from backend.records.schemas import BatchAnswer, CloudEvent, ItemResult, NewRecord, RecordStatus, StoredRecord

__all__ = ["MAX_BATCH_ITEMS", "IngestOutcome", "MalformedItem", "ingest_declarations", "ingest_item_by_item"]

logger = logging.getLogger("vitrine.records.ingest")

MAX_BATCH_ITEMS: Final = 1000


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    """The answer to send, and the records accepted in this transaction.

    `accepted` is the hook for whoever must react in the same transaction (the notifications outbox).
    """

    answer: BatchAnswer
    accepted: list[StoredRecord] = field(default_factory=list)


class _Rejected(Exception):
    """Raised inside an item's savepoint to roll it back and answer the item rejected."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("item rejected")
        self.errors = errors


class _People:
    """People looked up once per batch: a batch usually repeats a few."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self._ids: dict[str, UUID | None] = {}

    async def citizen_id(self, insz_digits: str) -> UUID | None:
        if insz_digits not in self._ids:
            person = await select_person_by_insz(self._conn, insz_digits)
            self._ids[insz_digits] = None if person is None else person.person_id
        return self._ids[insz_digits]


async def _original(
    conn: asyncpg.Connection, event: CloudEvent, checked: CheckedPayload, citizen_id: UUID, category: Category, at: str
) -> StoredRecord:
    """The record a correction or cancellation refers to, locked, or _Rejected naming why it cannot be."""
    assert checked.reference is not None
    ref = await queries.select_ingested(conn, event.source, checked.reference)
    # Another person's event is answered like a missing one: the producer learns nothing about other people.
    if ref is None or ref.citizen_id != citizen_id:
        raise _Rejected([FieldError(field=at, message="no event with this id from this source for this person")])
    original = await queries.lock_record(conn, citizen_id, ref.record_id)
    assert original is not None
    if original.category != category.code:
        message = f"refers to a `{original.category}` record; a {checked.kind} keeps the category"
        raise _Rejected([FieldError(field=at, message=message)])
    if original.status != "active":
        successor = await queries.select_successor_event_id(conn, citizen_id, original.record_id)
        verb = "corrected" if original.status == "corrected" else "cancelled"
        raise _Rejected([FieldError(field=at, message=f"that event was already {verb} by event {successor}")])
    return original


async def _store(
    conn: asyncpg.Connection,
    caller: InstitutionCaller,
    event: CloudEvent,
    category: Category,
    checked: CheckedPayload,
    citizen_id: UUID,
    prefix: str,
) -> tuple[StoredRecord, StoredRecord | None]:
    """Store one checked event in a savepoint: the record, its effect on the original, and the idempotency row."""
    async with conn.transaction():
        original = None
        if checked.reference is not None:
            at = f"{prefix}.{'cancels' if checked.kind == 'cancellation' else 'corrects'}"
            original = await _original(conn, event, checked, citizen_id, category, at)
        if await queries.claim_source(conn, event.source, caller.org_id) != caller.org_id:
            raise _Rejected([FieldError(field=f"{prefix}.source", message="is used by another institution")])
        cancelled = checked.kind == "cancellation"
        record = await queries.insert_record(
            conn,
            NewRecord(
                citizen_id=citizen_id,
                category=category.code,
                type_version=category.version,
                kind=checked.kind,
                status="cancelled" if cancelled else "active",
                producer_org_id=caller.org_id,
                source=event.source,
                source_event_id=event.id,
                occurred_at=event.time,
                # A cancellation is about the period of what it cancels (the flexi counter finds it by year).
                valid_from=original.valid_from if cancelled and original else checked.valid_from,
                valid_to=original.valid_to if cancelled and original else checked.valid_to,
                payload=None if checked.payload is None else msgspec.to_builtins(checked.payload, enc_hook=encode_hook),
                supersedes=None if original is None else original.record_id,
            ),
        )
        if original is not None:
            status: RecordStatus = "cancelled" if cancelled else "corrected"
            if not await queries.update_record_status(conn, citizen_id, original.record_id, status):
                raise _Rejected([FieldError(field=prefix, message="the event it refers to changed meanwhile")])
        await queries.insert_ingested(conn, event.source, event.id, citizen_id, record.record_id)
    return record, original


@dataclass(slots=True)
class _BatchContext:
    registry: Registry
    people: _People
    now: datetime
    accepted: list[StoredRecord] = field(default_factory=list)
    flexi_years: set[tuple[UUID, int]] = field(default_factory=set)


async def _ingest_one(
    conn: asyncpg.Connection, caller: InstitutionCaller, item: ExaminedItem, context: _BatchContext
) -> ItemResult:
    """Answer one examined item, storing it when it passes every check (the per-item path)."""
    index, prefix, event = item.index, item.prefix, item.event
    if event is None:
        return ItemResult(index=index, id=item.id, status="rejected", errors=item.unreadable)
    owner = await queries.select_source_owner(conn, event.source)
    if owner is not None and owner != caller.org_id:
        foreign = [FieldError(field=f"{prefix}.source", message="is used by another institution")]
        return ItemResult(index=index, id=event.id, status="rejected", errors=foreign)
    # A repeat is answered before anything else is checked: the first answer stands (the AMeD rule).
    known = await queries.select_ingested(conn, event.source, event.id)
    if known is not None:
        return ItemResult(index=index, id=event.id, status="duplicate", record_id=known.record_id)
    citizen_id = await context.people.citizen_id(item.insz) if isinstance(item.insz, str) else None
    errors = item.errors(citizen_id is not None)
    category, checked = item.category, item.checked
    if errors or not isinstance(category, Category) or not isinstance(checked, CheckedPayload):
        return ItemResult(index=index, id=event.id, status="rejected", errors=errors)
    assert citizen_id is not None
    try:
        record, original = await _store(conn, caller, event, category, checked, citizen_id, prefix)
    except _Rejected as rejected:
        return ItemResult(index=index, id=event.id, status="rejected", errors=rejected.errors)
    except asyncpg.UniqueViolationError:
        # A concurrent batch stored the same event first: answer its record.
        known = await queries.select_ingested(conn, event.source, event.id)
        if known is None:
            raise
        return ItemResult(index=index, id=event.id, status="duplicate", record_id=known.record_id)
    context.accepted.append(record)
    context.flexi_years |= affected_flexi_years(record, original)
    return ItemResult(index=index, id=event.id, status="accepted", record_id=record.record_id)


async def _ingest_each(
    conn: asyncpg.Connection, caller: InstitutionCaller, items: Sequence[ExaminedItem], context: _BatchContext
) -> list[ItemResult]:
    """The per-item path: each item in its own savepoint, a database error rejecting only its item."""
    results: list[ItemResult] = []
    for item in items:
        try:
            results.append(await _ingest_one(conn, caller, item, context))
        except asyncpg.PostgresError:
            # The savepoint is already rolled back; the cause stays in our logs (it may quote stored values).
            logger.exception("storing a declaration failed", extra={"client_id": caller.client_id, "index": item.index})
            errors = [FieldError(field=item.prefix, message="could not be stored; please send it again later")]
            results.append(ItemResult(index=item.index, id=raw_id(item.raw), status="rejected", errors=errors))
    return results


async def ingest_declarations(
    conn: asyncpg.Connection,
    caller: InstitutionCaller,
    items: Sequence[object],
    *,
    registry: Registry = REGISTRY,
    now: datetime | None = None,
) -> IngestOutcome:
    """Check and store a batch of declarations from one institution, answering each item (413 beyond 1000).

    Runs in the caller's transaction; a database error on one item rolls back only that item (the batch is then
    stored again item by item). Derived views (the flexi counter) are brought up to date before returning.
    """
    if len(items) > MAX_BATCH_ITEMS:
        raise Problem(
            413,
            f"A batch holds at most {MAX_BATCH_ITEMS} events; send the rest in another request.",
            kind="batch-too-large",
        )
    context = _BatchContext(registry=registry, people=_People(conn), now=now or datetime.now(UTC))
    examined = [examine(raw, index, caller, registry, context.now) for index, raw in enumerate(items)]
    try:
        async with conn.transaction():
            bulk = await ingest_in_bulk(conn, caller, examined)
        results = bulk.results
        context.accepted, context.flexi_years = bulk.accepted, bulk.flexi_years
    except (asyncpg.PostgresError, Fallback) as error:
        # Rolled back whole: item by item, the culprit (or the race) only rejects its own item.
        logger.warning(
            "set-based ingest fell back to item by item",
            extra={"client_id": caller.client_id, "cause": type(error).__name__},
        )
        results = await _ingest_each(conn, caller, examined, context)
    return await _finish(conn, results, context)


async def ingest_item_by_item(
    conn: asyncpg.Connection,
    caller: InstitutionCaller,
    items: Sequence[object],
    *,
    registry: Registry = REGISTRY,
    now: datetime | None = None,
) -> IngestOutcome:
    """The per-item path alone: the reference the set-based path must answer like (and its fallback)."""
    context = _BatchContext(registry=registry, people=_People(conn), now=now or datetime.now(UTC))
    examined = [examine(raw, index, caller, registry, context.now) for index, raw in enumerate(items)]
    return await _finish(conn, await _ingest_each(conn, caller, examined, context), context)


AcceptedHook = Callable[[asyncpg.Connection, list[StoredRecord]], Awaitable[object]]
# Areas above this one (notifications) react to new records in the ingest transaction; layers forbid importing
# them here, so the composition roots register them.
_accepted_hooks: list[AcceptedHook] = []


def on_records_accepted(hook: AcceptedHook) -> None:
    """Run `hook(conn, accepted_records)` at the end of every ingest, in its transaction (idempotent)."""
    if hook not in _accepted_hooks:
        _accepted_hooks.append(hook)


async def _finish(conn: asyncpg.Connection, results: list[ItemResult], context: _BatchContext) -> IngestOutcome:
    """Bring the flexi counters up to date and count the answers."""
    await refresh_flexi_counters(conn, context.flexi_years)
    for hook in _accepted_hooks:
        await hook(conn, context.accepted)
    answer = BatchAnswer(
        accepted=sum(result.status == "accepted" for result in results),
        duplicates=sum(result.status == "duplicate" for result in results),
        rejected=sum(result.status == "rejected" for result in results),
        items=results,
    )
    return IngestOutcome(answer=answer, accepted=context.accepted)
