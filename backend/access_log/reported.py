"""Accesses an institution reports from its own systems, so that the citizen sees them in their log.

A batch is answered item by item: each item is read, checked and stored on its own, so one bad item never
stops the others and never half-applies. Every good item gets a savepoint of its own inside the request's
transaction; what is rejected leaves nothing behind. Reporting is idempotent by (citizen, source, id): the
same id reported again, in the same batch or a later one, answers the event that was stored the first time.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Final, Literal
from uuid import UUID

import asyncpg
import msgspec

from backend.access_log import queries
from backend.access_log.anomalies import record_and_flag
from backend.access_log.schemas import Accessor, Action, Outcome
from backend.core.auth.institution import Institution
from backend.core.errors import FieldError, Problem, field_errors
from backend.core.identity.purposes import Purpose, select_purpose
from backend.core.identity.queries import select_person_by_insz
from backend.core.identity.service import insz_or_problem

__all__ = [
    "EARLIEST_OCCURRENCE",
    "FUTURE_TOLERANCE",
    "MAX_BATCH_ITEMS",
    "BatchResult",
    "ItemResult",
    "ItemStatus",
    "ReportedAccess",
    "ingest_reported",
]

logger = logging.getLogger("vitrine.access_log.reported")

MAX_BATCH_ITEMS: Final = 1000
# Institutions' clocks drift a little; an access further ahead than this has not happened yet.
FUTURE_TOLERANCE: Final = timedelta(minutes=5)
# Nothing Vitrine logs predates the digital exchanges it mirrors; an earlier date is a typo or an epoch default.
EARLIEST_OCCURRENCE: Final = datetime(2000, 1, 1, tzinfo=UTC)

_Code = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,40}$")]
# The purposes table allows codes up to 64 characters; the same rule here so every registered code can be named.
_PurposeCode = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,63}$")]
_Label = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
_RecordRef = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]

ItemStatus = Literal["accepted", "duplicate", "rejected"]


class ReportedAccess(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One access made in the institution's own systems, as the institution reports it."""

    # The institution's own event id: together with the citizen and the client, the idempotency key.
    id: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    # The citizen's national number (INSZ/NISS or BIS); its checksum is checked after decoding.
    subject: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    # A naive time would be read in whatever zone the institution runs in, so the zone is required.
    occurred_at: Annotated[datetime, msgspec.Meta(tz=True)]
    action: Action
    categories: Annotated[list[_Code], msgspec.Meta(min_length=1, max_length=20)]
    purpose: _PurposeCode
    system: _Label | None = None
    role: _Label | None = None
    # The institution's pseudonymous reference for its employee, never a name.
    staff_ref: _Label | None = None
    case_ref: _Label | None = None
    record_refs: Annotated[list[_RecordRef], msgspec.Meta(max_length=50)] = msgspec.field(default_factory=list)
    outcome: Outcome = "granted"
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)] | None = None


class ItemResult(msgspec.Struct, frozen=True, kw_only=True):
    """What became of one item: the event it is (for accepted and duplicate items) or why it was refused."""

    index: int
    id: str | None
    status: ItemStatus
    event_id: UUID | None = None
    seq: int | None = None
    errors: list[FieldError] = msgspec.field(default_factory=list)


class BatchResult(msgspec.Struct, frozen=True, kw_only=True):
    """The answer to a batch: counts per status, then every item in the order it was sent."""

    accepted: int
    duplicates: int
    rejected: int
    items: list[ItemResult]


def _raw_id(item: object) -> str | None:
    """The item's id as sent, echoed even for a rejected item so the institution can match the answer."""
    if isinstance(item, dict):
        value = item.get("id")
        if isinstance(value, str) and len(value) <= 200:
            return value
    return None


class _Lookups:
    """People and purposes looked up once per batch: a batch usually repeats a few of each."""

    def __init__(self, conn: asyncpg.Connection, org_id: UUID) -> None:
        self._conn = conn
        self._org_id = org_id
        self._people: dict[str, UUID | None] = {}
        self._purposes: dict[str, Purpose | None] = {}

    async def person_id(self, insz_digits: str) -> UUID | None:
        if insz_digits not in self._people:
            person = await select_person_by_insz(self._conn, insz_digits)
            self._people[insz_digits] = None if person is None else person.person_id
        return self._people[insz_digits]

    async def purpose(self, code: str) -> Purpose | None:
        if code not in self._purposes:
            self._purposes[code] = await select_purpose(self._conn, self._org_id, code)
        return self._purposes[code]


async def _check(
    item: ReportedAccess, prefix: str, lookups: _Lookups, now: datetime
) -> tuple[UUID | None, Purpose | None, list[FieldError]]:
    """The checks decoding cannot make; every failing field is named at once so one round trip fixes them."""
    errors: list[FieldError] = []
    citizen_id: UUID | None = None
    try:
        insz = insz_or_problem(item.subject, field=f"{prefix}.subject")
    except Problem as problem:
        errors.extend(problem.errors)
    else:
        citizen_id = await lookups.person_id(insz.digits)
        if citizen_id is None:
            # Never dropped silently: the institution must learn that this access reached no one's log.
            errors.append(FieldError(field=f"{prefix}.subject", message="no person with this national number is known"))
    if item.occurred_at > now + FUTURE_TOLERANCE:
        errors.append(FieldError(field=f"{prefix}.occurred_at", message="is in the future"))
    elif item.occurred_at < EARLIEST_OCCURRENCE:
        errors.append(FieldError(field=f"{prefix}.occurred_at", message="is before 2000-01-01"))
    if item.outcome != "granted" and item.reason is None:
        errors.append(FieldError(field=f"{prefix}.reason", message=f"is required when the outcome is {item.outcome}"))
    purpose = await lookups.purpose(item.purpose)
    if purpose is None:
        errors.append(FieldError(field=f"{prefix}.purpose", message="is not a registered purpose of your institution"))
    else:
        # Rejected rather than logged as out of scope: the institution must declare what its purpose covers.
        outside = sorted(set(item.categories) - set(purpose.categories))
        if outside:
            errors.append(
                FieldError(
                    field=f"{prefix}.categories",
                    message=f"not covered by purpose {purpose.code}: {', '.join(outside)}",
                )
            )
    return citizen_id, purpose, errors


async def _store(
    conn: asyncpg.Connection,
    institution: Institution,
    item: ReportedAccess,
    citizen_id: UUID,
    purpose: Purpose,
    source: str,
) -> tuple[ItemStatus, UUID, int]:
    """Store one checked item in a savepoint, or find the event an earlier report of it became."""
    caller = institution.caller
    try:
        # Every statement in the savepoint: a failed one must not abort the request's transaction.
        async with conn.transaction():
            # Also finds an item repeated earlier in this batch: its row is already visible in this transaction.
            known = await queries.select_reported(conn, citizen_id, source, item.id)
            if known is not None:
                return "duplicate", known[0], known[1]
            event = await record_and_flag(
                conn,
                citizen_id=citizen_id,
                accessor=Accessor(
                    kind="institution",
                    org_id=caller.org_id,
                    client_id=caller.client_id,
                    system=item.system,
                    role=item.role,
                    ref=item.staff_ref,
                ),
                action=item.action,
                channel="reported",
                outcome=item.outcome,
                reason=item.reason,
                categories=item.categories,
                record_refs=item.record_refs,
                purpose_code=purpose.code,
                legal_basis_ref=purpose.authorisation_ref,
                case_ref=item.case_ref,
                occurred_at=item.occurred_at,
                source=source,
                source_event_id=item.id,
            )
            await queries.insert_reported(conn, citizen_id, source, item.id, event.event_id, event.seq)
    except asyncpg.UniqueViolationError:
        # A concurrent batch stored the same id first (our head lock waited for its commit): answer its event.
        async with conn.transaction():
            known = await queries.select_reported(conn, citizen_id, source, item.id)
        if known is None:
            raise
        return "duplicate", known[0], known[1]
    return "accepted", event.event_id, event.seq


async def ingest_reported(conn: asyncpg.Connection, institution: Institution, items: Sequence[Any]) -> BatchResult:
    """Check and store a batch of reported accesses, answering each item (413 beyond MAX_BATCH_ITEMS items).

    Runs in the caller's transaction; each stored item has its own savepoint, so a database error on one
    item rolls back only that item, which is then answered "rejected".
    """
    if len(items) > MAX_BATCH_ITEMS:
        raise Problem(
            413,
            f"A batch holds at most {MAX_BATCH_ITEMS} accesses; send the rest in another request.",
            kind="batch-too-large",
        )
    # The client id, not the organisation code: each client keeps its own id space, and it is always set.
    source = f"{institution.caller.client_id}"
    lookups = _Lookups(conn, institution.caller.org_id)
    now = datetime.now(UTC)
    results: list[ItemResult] = []
    for index, raw in enumerate(items):
        prefix = f"items[{index}]"
        try:
            item = msgspec.convert(raw, ReportedAccess)
        except msgspec.ValidationError as error:
            results.append(
                ItemResult(index=index, id=_raw_id(raw), status="rejected", errors=field_errors(error, prefix))
            )
            continue
        citizen_id, purpose, errors = await _check(item, prefix, lookups, now)
        if errors or citizen_id is None or purpose is None:
            results.append(ItemResult(index=index, id=item.id, status="rejected", errors=errors))
            continue
        try:
            status, event_id, seq = await _store(conn, institution, item, citizen_id, purpose, source)
        except asyncpg.PostgresError:
            # The savepoint is already rolled back; the cause stays in our logs (it may quote stored values).
            logger.exception("storing a reported access failed", extra={"client_id": source, "index": index})
            results.append(
                ItemResult(
                    index=index,
                    id=item.id,
                    status="rejected",
                    errors=[FieldError(field=prefix, message="could not be stored; please send it again later")],
                )
            )
            continue
        results.append(ItemResult(index=index, id=item.id, status=status, event_id=event_id, seq=seq))
    return BatchResult(
        accepted=sum(result.status == "accepted" for result in results),
        duplicates=sum(result.status == "duplicate" for result in results),
        rejected=sum(result.status == "rejected" for result in results),
        items=results,
    )
