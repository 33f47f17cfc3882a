"""Institution look-ups: the one path by which an institution reads a person's records.

A look-up returns only what the institution may read for the purpose it states: the purpose must be registered
for the institution, cover the category, and the category must name the institution as a recipient for that
purpose. Every look-up is written to the person's access log in the same transaction, a refusal as a denied
event: the caller answers 403 without raising, so that the denied event is committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import asyncpg

from backend.access_log.anomalies import record_and_flag
from backend.access_log.schemas import Accessor
from backend.core.auth.institution import Institution
from backend.core.errors import FieldError, Problem, validation_problem
from backend.core.identity.purposes import Purpose, select_purpose
from backend.core.identity.queries import select_person_by_insz
from backend.core.identity.service import insz_or_problem
from backend.records import queries
from backend.records.registry import REGISTRY, Registry
from backend.records.schemas import LookupAnswer, LookupRequest, RecordOut, StoredRecord

__all__ = ["LookupRefused", "look_up_records"]


@dataclass(frozen=True, slots=True)
class LookupRefused:
    """A refused look-up, already logged as a denied event; answered 403 naming the refused categories."""

    detail: str
    errors: list[FieldError]
    access_event_id: UUID


def _record_out(record: StoredRecord) -> RecordOut:
    return RecordOut(
        record_id=record.record_id,
        category=record.category,
        type_version=record.type_version,
        kind=record.kind,
        source=record.source,
        source_event_id=record.source_event_id,
        occurred_at=record.occurred_at,
        valid_from=record.valid_from,
        valid_to=record.valid_to,
        payload=record.payload,
        supersedes=record.supersedes,
        received_at=record.received_at,
    )


async def _purpose(conn: asyncpg.Connection, institution: Institution, code: str) -> Purpose | str:
    """The registered purpose the look-up is for, or why there is none."""
    if institution.purpose is not None:
        if institution.purpose.code != code:
            return f"purpose {code} differs from the purpose {institution.purpose.code} stated with the assertion"
        return institution.purpose
    if institution.stated_purpose is not None:
        # Stated with the assertion but not registered: the dependency let it through so this refusal is logged.
        if institution.stated_purpose != code:
            return f"purpose {code} differs from the purpose {institution.stated_purpose} stated with the assertion"
        return f"purpose {code} is not registered for this institution"
    purpose = await select_purpose(conn, institution.caller.org_id, code)
    return f"purpose {code} is not registered for this institution" if purpose is None else purpose


def _refusals(request: LookupRequest, purpose: Purpose, org_code: str | None, registry: Registry) -> list[FieldError]:
    """Each requested category the institution may not read for this purpose, and why."""
    errors: list[FieldError] = []
    for index, code in enumerate(request.categories):
        category = registry.get(code)
        assert category is not None  # unknown codes were refused as invalid input
        if code not in purpose.categories:
            message = f"category {code} is not covered by purpose {purpose.code}"
        elif not category.may_receive(org_code, purpose.code):
            message = f"category {code} is not provided to this institution for purpose {purpose.code}"
        else:
            continue
        errors.append(FieldError(field=f"categories[{index}]", message=message))
    return errors


async def look_up_records(
    conn: asyncpg.Connection, institution: Institution, request: LookupRequest, *, registry: Registry = REGISTRY
) -> LookupAnswer | LookupRefused:
    """Read a person's active records of the requested categories for a purpose, logging the access.

    Raises a 422 for unknown categories or a malformed national number and a 404 for an unknown person (nothing
    is logged: there is no one to log for); returns `LookupRefused` after logging a denied event.
    """
    unknown = [
        FieldError(field=f"categories[{index}]", message="is not a known category")
        for index, code in enumerate(request.categories)
        if code not in registry
    ]
    if unknown:
        raise validation_problem(unknown)
    person = await select_person_by_insz(conn, insz_or_problem(request.insz).digits)
    if person is None:
        raise Problem(404, "No person with this national number is known.", kind="unknown-person")
    caller = institution.caller
    accessor = Accessor(kind="institution", org_id=caller.org_id, client_id=caller.client_id)
    categories = list(dict.fromkeys(request.categories))
    purpose = await _purpose(conn, institution, request.purpose)
    errors = (
        [FieldError(field="purpose", message=purpose)]
        if isinstance(purpose, str)
        else _refusals(request, purpose, caller.org_code, registry)
    )
    if errors:
        event = await record_and_flag(
            conn,
            citizen_id=person.person_id,
            accessor=accessor,
            action="read",
            channel="api",
            outcome="denied",
            reason="; ".join(error.message for error in errors),
            categories=categories,
            purpose_code=request.purpose,
            legal_basis_ref=None if isinstance(purpose, str) else purpose.authorisation_ref,
            case_ref=request.case_ref,
        )
        return LookupRefused(
            detail="Your institution may not read these records for this purpose.",
            errors=errors,
            access_event_id=event.event_id,
        )
    assert not isinstance(purpose, str)
    records = await queries.select_active_records(conn, person.person_id, categories)
    event = await record_and_flag(
        conn,
        citizen_id=person.person_id,
        accessor=accessor,
        action="read",
        channel="api",
        categories=categories,
        record_refs=[str(record.record_id) for record in records],
        purpose_code=purpose.code,
        legal_basis_ref=purpose.authorisation_ref,
        case_ref=request.case_ref,
    )
    grouped: dict[str, list[RecordOut]] = {code: [] for code in categories}
    for record in records:
        grouped[record.category].append(_record_out(record))
    return LookupAnswer(records=grouped, as_of=event.logged_at, access_event_id=event.event_id)
