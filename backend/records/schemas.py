"""Declarations as they arrive (CloudEvents 1.0), records as they are stored, and the answers of the API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from backend.core.errors import FieldError

RecordKind = Literal["declaration", "correction", "cancellation"]
RecordStatus = Literal["active", "corrected", "cancelled"]
ItemStatus = Literal["accepted", "duplicate", "rejected"]

EventId = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
# A URI-reference (RFC 3986): no spaces or control characters; "urn:…", "https://…" and "/onss/dimona" all fit.
SourceUri = Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=r"^[^\s\x00-\x1f\x7f]+$")]
CategoryCode = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,40}$")]
PurposeCode = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,63}$")]


# gc=False on the structs the ingest makes by the thousand: they hold decoded data only, never a cycle, and the
# cyclic collector's passes over them took about a quarter of the ingest's Python time.
class CloudEvent(msgspec.Struct, frozen=True, gc=False, kw_only=True, forbid_unknown_fields=True):
    """A declaration in the CloudEvents 1.0 structured JSON format, with Vitrine's two extension attributes."""

    specversion: Literal["1.0"]
    id: EventId
    source: SourceUri
    type: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    # The person's national number (INSZ/NISS or BIS); its check digits are checked after decoding.
    subject: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    # A time without a zone would be read in whatever zone the producer runs in, so the zone is required.
    time: Annotated[datetime, msgspec.Meta(tz=True)]
    datacontenttype: Annotated[str, msgspec.Meta(pattern=r"^application/json\s*(;.*)?$")] | None = None
    dataschema: Annotated[str, msgspec.Meta(min_length=1, max_length=500)] | None = None
    # Checked against the category's payload Struct once the type is known.
    data: Any = None
    # Extension attributes: the id (same source) of the event this one corrects, or cancels.
    corrects: EventId | None = None
    cancels: EventId | None = None


class StoredRecord(msgspec.Struct, frozen=True, gc=False):
    """A record as stored: one accepted event about one person (fields in the table's column order, every one
    required, so the bulk ingest builds it positionally from the row it inserted)."""

    citizen_id: UUID
    record_id: UUID
    category: str
    type_version: int
    kind: RecordKind
    status: RecordStatus
    source: str
    source_event_id: str
    occurred_at: datetime
    valid_from: date | None
    valid_to: date | None
    payload: dict[str, Any] | None
    supersedes: UUID | None
    received_at: datetime


class NewRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What the ingest stores for an accepted event."""

    citizen_id: UUID
    category: str
    type_version: int
    kind: RecordKind
    status: RecordStatus
    producer_org_id: UUID
    source: str
    source_event_id: str
    occurred_at: datetime
    valid_from: date | None
    valid_to: date | None
    payload: dict[str, Any] | None
    supersedes: UUID | None


class ItemResult(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """What became of one event: the record it is (accepted, duplicate) or why it was refused."""

    index: int
    id: str | None
    status: ItemStatus
    record_id: UUID | None = None
    errors: list[FieldError] = msgspec.field(default_factory=list)


class BatchAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """The answer to a batch: counts per status, then every item in the order it was sent."""

    accepted: int
    duplicates: int
    rejected: int
    items: list[ItemResult]


class FlexiCounter(msgspec.Struct, frozen=True, kw_only=True):
    """A person's flexi income for an income year, all employers together, as of the latest declaration."""

    citizen_id: UUID
    income_year: int
    total_cents: int
    last_declared_month: str | None
    as_of: datetime


class LookupRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An institution asks for categories of a person's records, for one of its registered purposes."""

    insz: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    categories: Annotated[list[CategoryCode], msgspec.Meta(min_length=1, max_length=20)]
    purpose: PurposeCode
    case_ref: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None


class RecordOut(msgspec.Struct, frozen=True, kw_only=True):
    """One record as an institution receives it."""

    record_id: UUID
    category: str
    type_version: int
    kind: RecordKind
    source: str
    source_event_id: str
    occurred_at: datetime
    valid_from: date | None
    valid_to: date | None
    payload: dict[str, Any] | None
    supersedes: UUID | None
    received_at: datetime


class LookupAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """The person's active records per requested category, as of the time of the look-up."""

    records: dict[str, list[RecordOut]]
    as_of: datetime
    # The look-up's event in the person's access log, to quote when the person asks about it.
    access_event_id: UUID
