"""SQL behind the citizen's own view of their records: one typed function per statement, the connection first.

Every statement is scoped by the citizen in its WHERE clause; none of them writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Final
from uuid import UUID

import asyncpg
import msgspec

from backend.core.identity.purposes import Purpose
from backend.core.identity.schemas import Organisation
from backend.records.schemas import FlexiCounter, RecordKind, RecordStatus

_OWN_RECORD_COLUMNS: Final = """
    record_id, category, kind, status, producer_org_id, occurred_at, valid_from, valid_to, payload, supersedes,
    received_at
"""


class CategorySummary(msgspec.Struct, frozen=True, kw_only=True):
    """How many records of a category count now, and when the category last changed (latest declaration)."""

    category: str
    active_records: int
    last_declared_at: datetime


class OwnRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A record as its person sees it, with the institution that declared it."""

    record_id: UUID
    category: str
    kind: RecordKind
    status: RecordStatus
    producer_org_id: UUID
    occurred_at: datetime
    valid_from: date | None
    valid_to: date | None
    payload: dict[str, Any] | None
    supersedes: UUID | None
    received_at: datetime


def _own_records(rows: list[asyncpg.Record]) -> list[OwnRecord]:
    return [msgspec.convert(dict(row), OwnRecord) for row in rows]


class OverviewCounts(msgspec.Struct, frozen=True, kw_only=True):
    """A person's summaries per category, and the version of the reference data as of the same statement."""

    reference_version: int
    summaries: list[CategorySummary]


async def select_category_summaries(conn: asyncpg.Connection, citizen_id: UUID) -> OverviewCounts:
    """Per category of a person's records: the number that count now, and the time of the latest declaration;
    with the reference data's version (migration 0013), so the overview needs no other statement while the
    institutions and purposes it shows have not changed."""
    rows = await conn.fetch(
        """
        SELECT v.version, s.category, s.active_records, s.last_declared_at
        FROM reference_data_version AS v
        LEFT JOIN (
            SELECT category, count(*) FILTER (WHERE status = 'active') AS active_records,
                   max(occurred_at) AS last_declared_at
            FROM records WHERE citizen_id = $1 GROUP BY category
        ) AS s ON true
        """,
        citizen_id,
    )
    # One row even for a person without records (the version, and nulls).
    return OverviewCounts(
        reference_version=rows[0][0],
        summaries=[
            CategorySummary(category=row[1], active_records=row[2], last_declared_at=row[3])
            for row in rows
            if row[1] is not None
        ],
    )


async def select_active_own_records(
    conn: asyncpg.Connection, citizen_id: UUID, categories: Sequence[str]
) -> list[OwnRecord]:
    """A person's records that count now, in the given categories, oldest period first."""
    rows = await conn.fetch(
        "SELECT"
        + _OWN_RECORD_COLUMNS
        + """
        FROM records WHERE citizen_id = $1 AND category = ANY($2::text[]) AND status = 'active'
        ORDER BY category, valid_from NULLS FIRST, occurred_at, record_id
        """,
        citizen_id,
        list(categories),
    )
    return _own_records(rows)


async def select_own_record(conn: asyncpg.Connection, citizen_id: UUID, record_id: UUID) -> OwnRecord | None:
    """One of a person's records by id (None when it is not theirs)."""
    row = await conn.fetchrow(
        "SELECT" + _OWN_RECORD_COLUMNS + "FROM records WHERE citizen_id = $1 AND record_id = $2",
        citizen_id,
        record_id,
    )
    return None if row is None else msgspec.convert(dict(row), OwnRecord)


async def select_own_records_by_id(
    conn: asyncpg.Connection, citizen_id: UUID, record_ids: Sequence[UUID]
) -> list[OwnRecord]:
    """Some of a person's records by id (those that are not theirs are left out)."""
    rows = await conn.fetch(
        "SELECT" + _OWN_RECORD_COLUMNS + "FROM records WHERE citizen_id = $1 AND record_id = ANY($2::uuid[])",
        citizen_id,
        list(record_ids),
    )
    return _own_records(rows)


async def select_all_own_records(conn: asyncpg.Connection, citizen_id: UUID) -> list[OwnRecord]:
    """Every record of a person, corrected and cancelled ones included, in the order they were declared."""
    rows = await conn.fetch(
        "SELECT"
        + _OWN_RECORD_COLUMNS
        + "FROM records WHERE citizen_id = $1 ORDER BY category, occurred_at, received_at, record_id",
        citizen_id,
    )
    return _own_records(rows)


async def select_flexi_counters(conn: asyncpg.Connection, citizen_id: UUID) -> list[FlexiCounter]:
    """A person's flexi counters, newest income year first."""
    rows = await conn.fetch(
        """
        SELECT citizen_id, income_year, total_cents, last_declared_month, as_of
        FROM flexi_counters WHERE citizen_id = $1 ORDER BY income_year DESC
        """,
        citizen_id,
    )
    return [msgspec.convert(dict(row), FlexiCounter) for row in rows]


async def select_organisations_by_kbo(conn: asyncpg.Connection, kbos: Sequence[str]) -> list[Organisation]:
    """The known organisations among these enterprise numbers (employers are named when they are known)."""
    rows = await conn.fetch(
        """
        SELECT org_id, kbo, kind, code, name_nl, name_fr, name_de
        FROM organisations WHERE kbo = ANY($1::text[])
        """,
        list(kbos),
    )
    return [msgspec.convert(dict(row), Organisation) for row in rows]


async def select_organisations_by_id(conn: asyncpg.Connection, org_ids: Sequence[UUID]) -> list[Organisation]:
    """Organisations by id."""
    rows = await conn.fetch(
        """
        SELECT org_id, kbo, kind, code, name_nl, name_fr, name_de
        FROM organisations WHERE org_id = ANY($1::uuid[])
        """,
        list(org_ids),
    )
    return [msgspec.convert(dict(row), Organisation) for row in rows]


class ReferenceDocument(msgspec.Struct, frozen=True, kw_only=True):
    """The institutions-with-purposes JSON document, and the reference data version it is as of."""

    version: int
    document: str


async def select_institutions_with_purposes(conn: asyncpg.Connection, codes: Sequence[str]) -> ReferenceDocument:
    """The institutions with these codes, each with every active registered purpose it has (one pair per
    purpose; an institution without any comes once, with null), in one round trip, as one JSON document, with
    the version of the reference data read in the same statement.

    Every overview and category page shows this same small piece of reference data: as one text value it is
    decoded once per version of the data (`institutions_with_purposes`), and callers that know the current
    version (`select_category_summaries`) need not read it again until it changes.
    """
    row = await conn.fetchrow(
        """
        SELECT (SELECT version FROM reference_data_version),
            coalesce(json_agg(json_build_array(
            json_build_object('org_id', o.org_id, 'kbo', o.kbo, 'kind', o.kind, 'code', o.code,
                              'name_nl', o.name_nl, 'name_fr', o.name_fr, 'name_de', o.name_de),
            CASE WHEN p.code IS NOT NULL THEN
                json_build_object('org_id', p.org_id, 'code', p.code, 'categories', p.categories,
                                  'legal_basis_nl', p.legal_basis_nl, 'legal_basis_fr', p.legal_basis_fr,
                                  'legal_basis_de', p.legal_basis_de, 'legal_basis_en', p.legal_basis_en,
                                  'authorisation_ref', p.authorisation_ref)
            END
        ) ORDER BY o.org_id, p.code), '[]')::text
        FROM organisations AS o LEFT JOIN purposes AS p ON p.org_id = o.org_id AND p.active
        WHERE o.code = ANY($1::text[])
        """,
        list(codes),
    )
    assert row is not None  # an aggregate without GROUP BY always answers one row
    return ReferenceDocument(version=row[0], document=row[1])


def institutions_with_purposes(document: str) -> tuple[tuple[Organisation, Purpose | None], ...]:
    """The pairs of a `select_institutions_with_purposes` document as organisations and their purposes (decoded
    once per version of the data: its caller, `citizen._recipient_views`, is cached by the document)."""
    return msgspec.json.decode(document, type=tuple[tuple[Organisation, Purpose | None], ...])
