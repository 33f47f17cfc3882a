"""Reading one declaration: the CloudEvents envelope, its category and version, and its payload.

Every check that needs no writing happens here, and every failing field is named at once (as
`items[i].data.amount_cents`), so one round trip is enough to fix an item.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

import msgspec
import msgspec.inspect

from backend.core.auth.assertions import InstitutionCaller
from backend.core.errors import FieldError, Problem, field_errors
from backend.core.identifiers import IdentifierError, insz_digits
from backend.core.identity.service import insz_or_problem
from backend.records.categories.base import Category, decode_hook
from backend.records.registry import Registry, parse_event_type
from backend.records.schemas import CloudEvent, RecordKind

__all__ = [
    "EARLIEST_DATE",
    "FUTURE_TOLERANCE",
    "MAX_YEARS_AHEAD",
    "CheckedPayload",
    "ExaminedItem",
    "MalformedItem",
    "check_payload",
    "check_time",
    "decode_event",
    "examine",
    "raw_id",
    "resolve_category",
]

# Institutions' clocks drift a little; an event further ahead than this has not happened yet.
FUTURE_TOLERANCE: Final = timedelta(minutes=5)
# A date outside these bounds is a typo or a default value, never a fact about a living person's work.
EARLIEST_DATE: Final = date(1900, 1, 1)
MAX_YEARS_AHEAD: Final = 2
_EARLIEST_TIME: Final = datetime.combine(EARLIEST_DATE, datetime.min.time(), tzinfo=UTC)


def decode_event(raw: object, prefix: str) -> CloudEvent | list[FieldError]:
    """The envelope of one item, or the errors that make it unreadable."""
    try:
        return msgspec.convert(raw, CloudEvent)
    except msgspec.ValidationError as error:
        return field_errors(error, prefix)


def resolve_category(
    event: CloudEvent, caller: InstitutionCaller, registry: Registry, prefix: str
) -> Category | FieldError:
    """The category the event's type names, if it exists in that version and the caller may produce it."""
    field = f"{prefix}.type"
    parsed = parse_event_type(event.type)
    if parsed is None:
        return FieldError(field=field, message="must look like be.socialsecurity.<category>.v<version>")
    code, version = parsed
    category = registry.get(code)
    if category is None:
        known = ", ".join(c.code for c in registry.all())
        return FieldError(field=field, message=f"unknown category `{code}` (known: {known})")
    if version != category.version:
        message = f"version {version} of `{code}` is not accepted (send v{category.version})"
        return FieldError(field=field, message=message)
    if caller.org_code is None or caller.org_code != category.source:
        message = f"your institution may not declare `{code}`: its source is {category.source}"
        return FieldError(field=field, message=message)
    return category


def check_time(event: CloudEvent, now: datetime, prefix: str) -> FieldError | None:
    """The declaration's time must have happened, and not before records began."""
    if event.time > now + FUTURE_TOLERANCE:
        return FieldError(field=f"{prefix}.time", message="is in the future")
    if event.time < _EARLIEST_TIME:
        return FieldError(field=f"{prefix}.time", message=f"is before {EARLIEST_DATE.isoformat()}")
    return None


# Structs rather than frozen dataclasses: one of each is made per declaration, and a frozen dataclass took
# twenty times as long to build. gc=False: they hold decoded data only, never a cycle.
class CheckedPayload(msgspec.Struct, frozen=True, gc=False):
    """A payload that passed its category's checks, ready to store, and what the event refers to."""

    kind: RecordKind
    payload: msgspec.Struct | None
    reference: str | None
    valid_from: date | None
    valid_to: date | None


@functools.lru_cache(maxsize=4)
def _latest_date(today: date) -> date:
    try:
        return today.replace(year=today.year + MAX_YEARS_AHEAD)
    except ValueError:  # 29 February
        return today.replace(year=today.year + MAX_YEARS_AHEAD, day=28)


_MAY_HOLD_DATES: Final = (date, msgspec.Struct, list, tuple)
# Declared types whose values are never one of _MAY_HOLD_DATES (so never hold a date `_dates` would find).
_NEVER_DATES: Final = (
    msgspec.inspect.NoneType,
    msgspec.inspect.BoolType,
    msgspec.inspect.IntType,
    msgspec.inspect.FloatType,
    msgspec.inspect.StrType,
    msgspec.inspect.LiteralType,
    msgspec.inspect.TimeType,
    msgspec.inspect.TimeDeltaType,
    msgspec.inspect.UUIDType,
    msgspec.inspect.DecimalType,
    msgspec.inspect.BytesType,
    msgspec.inspect.ByteArrayType,
    msgspec.inspect.MemoryViewType,
    msgspec.inspect.DictType,
    msgspec.inspect.TypedDictType,
    msgspec.inspect.SetType,
    msgspec.inspect.FrozenSetType,
)


def _may_hold_dates(kind: msgspec.inspect.Type) -> bool:
    """Whether a value of this declared type may be (or contain) a date; True when unsure."""
    if isinstance(kind, msgspec.inspect.UnionType):
        return any(_may_hold_dates(member) for member in kind.types)
    if isinstance(kind, msgspec.inspect.Metadata):
        return _may_hold_dates(kind.type)
    if isinstance(kind, msgspec.inspect.CustomType | msgspec.inspect.DataclassType):
        return issubclass(kind.cls, _MAY_HOLD_DATES)
    return not isinstance(kind, _NEVER_DATES)


@functools.cache
def _fields_with_dates(struct: type[msgspec.Struct]) -> tuple[str, ...]:
    """The fields of a payload Struct that may hold a date, in field order (the others are never looked at)."""
    info = msgspec.inspect.type_info(struct)
    if not isinstance(info, msgspec.inspect.StructType):
        return struct.__struct_fields__
    return tuple(field.name for field in info.fields if _may_hold_dates(field.type))


def _dates(value: Any, path: str) -> Iterator[tuple[str, date]]:
    """Every date in a decoded payload, with its path."""
    if isinstance(value, date):
        yield path, value.date() if isinstance(value, datetime) else value
    elif isinstance(value, msgspec.Struct):
        # Only the fields whose type allows a date (this runs for every declaration).
        for name in _fields_with_dates(type(value)):
            field_value = getattr(value, name)
            if isinstance(field_value, _MAY_HOLD_DATES):
                yield from _dates(field_value, f"{path}.{name}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if isinstance(item, _MAY_HOLD_DATES):
                yield from _dates(item, f"{path}[{index}]")


def _date_errors(
    payload: msgspec.Struct, period: tuple[date | None, date | None], period_field: str | None, prefix: str, today: date
) -> list[FieldError]:
    """Dates outside 1900 .. two years ahead, wherever they are in the payload (a new category is covered too)."""
    latest = _latest_date(today)
    found = list(_dates(payload, f"{prefix}.data"))
    if period_field is not None:
        found += [(f"{prefix}.data.{period_field}", day) for day in period if day is not None]
    errors: dict[str, FieldError] = {}
    for path, day in found:
        if day < EARLIEST_DATE:
            errors.setdefault(path, FieldError(field=path, message=f"is before {EARLIEST_DATE.isoformat()}"))
        elif day > latest:
            errors.setdefault(path, FieldError(field=path, message=f"is more than {MAX_YEARS_AHEAD} years ahead"))
    return list(errors.values())


def check_payload(event: CloudEvent, category: Category, prefix: str, today: date) -> CheckedPayload | list[FieldError]:
    """Decode `data` with the category's Struct and check what decoding cannot (dates, references)."""
    if event.corrects is not None and event.cancels is not None:
        return [FieldError(field=f"{prefix}.cancels", message="an event either corrects or cancels, not both")]
    if event.cancels is not None:
        if event.cancels == event.id:
            return [FieldError(field=f"{prefix}.cancels", message="an event cannot cancel itself")]
        if event.data is not None:
            return [FieldError(field=f"{prefix}.data", message="must be absent: a cancellation carries no data")]
        return CheckedPayload(
            kind="cancellation", payload=None, reference=event.cancels, valid_from=None, valid_to=None
        )
    if event.data is None:
        return [FieldError(field=f"{prefix}.data", message="is required")]
    try:
        payload = msgspec.convert(event.data, category.schema, dec_hook=decode_hook)
    except msgspec.ValidationError as error:
        return field_errors(error, f"{prefix}.data")
    period = category.period(payload)
    errors = _date_errors(payload, period, category.period_field, prefix, today)
    reference = event.corrects
    # A payload may name the event it corrects in its own format (flexi wages do); both must then agree.
    own_reference = getattr(payload, "corrects", None)
    if isinstance(own_reference, str):
        if reference is None:
            reference = own_reference
        elif reference != own_reference:
            errors.append(FieldError(field=f"{prefix}.data.corrects", message="differs from the event's `corrects`"))
    if reference is not None and reference == event.id:
        errors.append(FieldError(field=f"{prefix}.corrects", message="an event cannot correct itself"))
    if errors:
        return errors
    return CheckedPayload(
        kind="declaration" if reference is None else "correction",
        payload=payload,
        reference=reference,
        valid_from=period[0],
        valid_to=period[1],
    )


@dataclass(frozen=True, slots=True)
class MalformedItem:
    """An NDJSON line that is not JSON: answered as a rejected item, the other lines go on."""

    message: str = "is not valid JSON"


def raw_id(item: object) -> str | None:
    """The item's id as sent, echoed even for a rejected item so the producer can match the answer."""
    if isinstance(item, dict):
        value = item.get("id")
        if isinstance(value, str) and len(value) <= 200:
            return value
    return None


class ExaminedItem(msgspec.Struct, frozen=True, gc=False):
    """One item checked as far as it can be without the database (both ingest paths start from this).

    `event` is None for an unreadable item, whose errors are then in `unreadable`. Whether the person is known
    needs the database, so `errors` takes that answer.
    """

    index: int
    raw: object
    id: str | None
    event: CloudEvent | None
    unreadable: list[FieldError]
    category: Category | FieldError | None
    insz: str | FieldError | None
    time_error: FieldError | None
    checked: CheckedPayload | list[FieldError]

    @property
    def prefix(self) -> str:
        """The item's place in the batch, as field paths name it."""
        return f"items[{self.index}]"

    def errors(self, person_known: bool) -> list[FieldError]:
        """Every failing field, in the order the producer reads them (type, subject, time, data)."""
        errors: list[FieldError] = []
        if isinstance(self.category, FieldError):
            errors.append(self.category)
        if isinstance(self.insz, FieldError):
            errors.append(self.insz)
        elif not person_known:
            # Never dropped silently: the producer must learn that this record reached no one.
            errors.append(
                FieldError(field=f"{self.prefix}.subject", message="no person with this national number is known")
            )
        if self.time_error is not None:
            errors.append(self.time_error)
        if isinstance(self.checked, list):
            errors.extend(self.checked)
        return errors


def examine(raw: object, index: int, caller: InstitutionCaller, registry: Registry, now: datetime) -> ExaminedItem:
    """Decode one item and run every check that needs no database."""
    prefix = f"items[{index}]"
    if isinstance(raw, MalformedItem):
        malformed = [FieldError(field=prefix, message=raw.message)]
        return ExaminedItem(index, raw, None, None, malformed, None, None, None, [])
    event = decode_event(raw, prefix)
    if isinstance(event, list):
        return ExaminedItem(index, raw, raw_id(raw), None, event, None, None, None, [])
    category = resolve_category(event, caller, registry, prefix)
    insz: str | FieldError
    try:
        insz = insz_digits(event.subject)
    except IdentifierError:
        # Worded by the one place that words national-number errors (a bad number is rare: parsed twice).
        try:
            insz = insz_or_problem(event.subject, field=f"{prefix}.subject").digits
        except Problem as problem:
            insz = problem.errors[0]
    time_error = check_time(event, now, prefix)
    checked: CheckedPayload | list[FieldError] = []
    if isinstance(category, Category):
        checked = check_payload(event, category, prefix, now.date())
    return ExaminedItem(index, raw, event.id, event, [], category, insz, time_error, checked)
