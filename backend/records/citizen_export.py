"""Everything held about a person in one machine-readable document (the "export" of /my-data).

Records are given as stored (corrected and cancelled ones included, amounts in cents, dates as dates), each
category with what is said about it (source, legal basis, recipients, retention), plus the flexi counters and
the person's error reports. Exporting one's own data is not an access by anyone else: nothing is logged here (a
helper's export is logged, category by category, by backend.records.helper_reads).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Final
from uuid import UUID

import asyncpg
import msgspec

from backend.access_log.views import speaking
from backend.core.i18n import Language
from backend.records import citizen_queries
from backend.records import error_report_queries as report_queries
from backend.records.citizen import recipients_by_category
from backend.records.citizen_schemas import RecipientView
from backend.records.error_report_schemas import ErrorReportView
from backend.records.error_reports import describe_reports
from backend.records.flexi import flexi_ceiling_for_year
from backend.records.registry import REGISTRY, Registry
from backend.records.schemas import RecordKind, RecordStatus

EXPORT_FORMAT: Final = "vitrine-records-export/1"
# A person's reports are few; this bound only keeps a runaway list out of one document.
MAX_EXPORTED_REPORTS: Final = 10_000


class ExportRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One record as stored: a declaration, a correction (it `supersedes` the record it corrects) or a
    cancellation (no payload); `status` says whether it still counts."""

    record_id: UUID
    kind: RecordKind
    status: RecordStatus
    declared_at: datetime
    received_at: datetime
    valid_from: date | None
    valid_to: date | None
    payload: dict[str, Any] | None
    supersedes: UUID | None
    declared_by: UUID


class ExportCategory(msgspec.Struct, frozen=True, kw_only=True):
    """A category: what is said about it, and every record of it."""

    code: str
    title: str
    source: str
    source_name: str
    legal_basis: str
    recipients: list[RecipientView]
    retention: str
    retention_confirmed: bool
    records: list[ExportRecord]


class ExportFlexiYear(msgspec.Struct, frozen=True, kw_only=True):
    """A flexi counter: the year's total, all employers together, against the ceiling known for that year."""

    income_year: int
    total_cents: int
    last_declared_month: str | None
    as_of: datetime
    ceiling_cents: int | None
    ceiling_status: str | None


class RecordsExport(msgspec.Struct, frozen=True, kw_only=True):
    """Everything held about the person."""

    format: str
    generated_at: datetime
    language: str
    categories: list[ExportCategory]
    flexi_counters: list[ExportFlexiYear]
    error_reports: list[ErrorReportView]


async def records_export(
    conn: asyncpg.Connection,
    citizen_id: UUID,
    *,
    language: Language,
    registry: Registry = REGISTRY,
    only: Sequence[str] | None = None,
    giver: str | None = None,
) -> RecordsExport:
    """The person's whole file, texts in their language, values as stored; `only` these categories (for a helper:
    those a mandate covers), with the flexi counters and error reports that belong to them; `giver` is the person's
    name when a helper or an organisation's agent reads (who filed a report is then said from the reader's side)."""
    categories = registry.all() if only is None else [c for c in registry.all() if c.code in only]
    codes = {category.code for category in categories}
    records = [r for r in await citizen_queries.select_all_own_records(conn, citizen_id) if r.category in codes]
    counters = await citizen_queries.select_flexi_counters(conn, citizen_id) if "flexi_wages" in codes else []
    reports = [
        report
        for report in await report_queries.select_own_reports(conn, citizen_id, limit=MAX_EXPORTED_REPORTS)
        if report.category in codes
    ]
    with speaking(language):
        recipients = await recipients_by_category(conn, categories, language)
        report_views = await describe_reports(conn, citizen_id, reports, language, registry=registry, giver=giver)
    by_category: dict[str, list[ExportRecord]] = {}
    for record in records:
        by_category.setdefault(record.category, []).append(
            ExportRecord(
                record_id=record.record_id,
                kind=record.kind,
                status=record.status,
                declared_at=record.occurred_at,
                received_at=record.received_at,
                valid_from=record.valid_from,
                valid_to=record.valid_to,
                payload=record.payload,
                supersedes=record.supersedes,
                declared_by=record.producer_org_id,
            )
        )
    flexi = []
    for counter in counters:
        ceiling = flexi_ceiling_for_year(counter.income_year)
        flexi.append(
            ExportFlexiYear(
                income_year=counter.income_year,
                total_cents=counter.total_cents,
                last_declared_month=counter.last_declared_month,
                as_of=counter.as_of,
                ceiling_cents=None if ceiling is None else ceiling.amount_cents,
                ceiling_status=None if ceiling is None else ceiling.status,
            )
        )
    return RecordsExport(
        format=EXPORT_FORMAT,
        generated_at=await report_queries.select_now(conn),
        language=language,
        categories=[
            ExportCategory(
                code=category.code,
                title=category.title.get(language),
                source=category.source,
                source_name=category.source_name.get(language),
                legal_basis=category.legal_basis.get(language),
                recipients=recipients[category.code],
                retention=category.retention.get(language),
                retention_confirmed=category.retention_confirmed,
                records=by_category.get(category.code, []),
            )
            for category in categories
        ],
        flexi_counters=flexi,
        error_reports=report_views,
    )


__all__ = ["EXPORT_FORMAT", "ExportCategory", "ExportFlexiYear", "ExportRecord", "RecordsExport", "records_export"]
