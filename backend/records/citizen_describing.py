"""What describing a person's records needs besides the records: the reader's language, the employers Vitrine
knows, each record's latest error report, and the words for worker types, social risks, periods and employers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Final
from uuid import UUID

import asyncpg

from backend.core.i18n import N_, _, gettext
from backend.core.identity.schemas import Organisation
from backend.records.citizen_format import day, enterprise_number, moment_day, period_end
from backend.records.citizen_queries import OwnRecord, select_organisations_by_kbo
from backend.records.citizen_schemas import EmployerView, PeriodView
from backend.records.error_report_schemas import ReportBadge

# DOMAIN.md: the confirmed meanings of Dimona worker types. The others are shown by their code, not guessed.
WORKER_TYPE_LABELS: Final[dict[str, str]] = {
    "FLX": N_("Flexi-job"),
    "STU": N_("Student"),
    "EXT": N_("Occasional worker"),
    "DWD": N_("Worker declared without a quarterly declaration"),
    "A17": N_("Socio-cultural or sports worker (article 17)"),
    "BCW": N_("Construction worker"),
    "IVT": N_("Training contract"),
    "TRI": N_("Entry internship"),
    "STG": N_("Trainee not subject to social security"),
    "OTH": N_("Employee"),
}

SCENARIO_LABELS: Final[dict[str, str]] = {
    "unemployment": N_("Unemployment"),
    "sickness_maternity": N_("Sickness or maternity"),
    "work_accident": N_("Accident at work"),
}


@dataclass(frozen=True, slots=True)
class Describing:
    """What describing records needs besides the records: the reader's language, known employers, reports."""

    language: str
    employers: dict[str, Organisation]
    badges: dict[UUID, ReportBadge]


def category_path(code: str) -> str:
    """The page of a category."""
    return f"/my-data/{code}"


def report_path(code: str, record_id: UUID) -> str:
    """The "Report an error" form of a record."""
    return f"/my-data/{code}/{record_id}/report-error"


def worker_type_label(code: str) -> str:
    """A Dimona worker type in plain words; an unconfirmed one by its code."""
    label = WORKER_TYPE_LABELS.get(code)
    return _("Worker type %(code)s") % {"code": code} if label is None else gettext(label)


def employer_kbos(records: Iterable[OwnRecord]) -> set[str]:
    """The enterprise numbers the records name (employers and Belgian user companies), to name them at once."""
    found: set[str] = set()
    for record in records:
        for key in ("employer_kbo", "belgian_user_kbo"):
            value = (record.payload or {}).get(key)
            if isinstance(value, str):
                found.add(value)
    return found


async def known_employers(conn: asyncpg.Connection, records: Iterable[OwnRecord]) -> dict[str, Organisation]:
    """The organisations Vitrine knows among the employers the records name, by enterprise number."""
    kbos = employer_kbos(records)
    if not kbos:
        return {}
    return {organisation.kbo: organisation for organisation in await select_organisations_by_kbo(conn, sorted(kbos))}


def employer(kbo: str, context: Describing) -> EmployerView:
    """An employer by name when the organisation is known, else by its enterprise number."""
    number = enterprise_number(kbo)
    organisation = context.employers.get(kbo)
    name = None if organisation is None else organisation.name(context.language)
    return EmployerView(
        kbo=kbo, number=number, name=name, label=name or _("Enterprise number %(number)s") % {"number": number}
    )


def period_view(start: date, end: date | None, language: str) -> PeriodView:
    """A period of business dates in words; no end means ongoing."""
    return PeriodView(
        start=start, start_label=day(start, language), end=end, end_label=period_end(end, language), ongoing=end is None
    )


def period_span(period: PeriodView) -> str:
    """A period inside a sentence: "from 1 July 2026 to 30 September 2026", or "since 2 September 2019"."""
    if period.ongoing:
        return _("since %(start)s") % {"start": period.start_label}
    return _("from %(start)s to %(end)s") % {"start": period.start_label, "end": period.end_label}


def record_base(record: OwnRecord, context: Describing, summary: str) -> dict[str, Any]:
    """The fields every record view has, as keyword arguments."""
    return {
        "record_id": record.record_id,
        "category": record.category,
        "kind": record.kind,
        "declared_at": record.occurred_at,
        "declared_on": moment_day(record.occurred_at, context.language),
        "summary": summary,
        "report": context.badges.get(record.record_id),
        "report_url": report_path(record.category, record.record_id),
    }


__all__ = [
    "SCENARIO_LABELS",
    "WORKER_TYPE_LABELS",
    "Describing",
    "category_path",
    "employer",
    "employer_kbos",
    "known_employers",
    "period_span",
    "period_view",
    "record_base",
    "report_path",
    "worker_type_label",
]
