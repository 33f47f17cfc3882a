"""What a person sees of the records held about them: finished Structs, already in their language.

Each view carries the raw values (dates, cents, codes) beside the words shown for them, so the same Struct serves
the page and its JSON twin. Dates are business dates; moments are in Brussels time.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import msgspec

from backend.records.error_report_schemas import ReportBadge
from backend.records.schemas import RecordKind


class RecipientView(msgspec.Struct, frozen=True, kw_only=True):
    """An institution that receives a category, and why: its purpose in words and the purpose's legal basis."""

    institution_code: str
    institution: str
    purpose_code: str
    purpose: str | None
    legal_basis: str | None
    authorisation_ref: str | None
    # False when no registered purpose of the institution covers the category yet: it cannot read it today.
    in_effect: bool


class CategoryCard(msgspec.Struct, frozen=True, kw_only=True):
    """One category of data: what it is, where it comes from, who receives it, how long it is kept, how many."""

    code: str
    title: str
    explanation: str
    source_code: str
    source: str
    legal_basis: str
    recipients: list[RecipientView]
    retention: str
    # False while the institution's retention rule is not confirmed: shown as "to be confirmed".
    retention_confirmed: bool
    record_count: int
    last_update_at: datetime | None
    last_update: str | None
    url: str


class RecordsOverview(msgspec.Struct, frozen=True, kw_only=True):
    """Every category, with what the person has in each."""

    categories: list[CategoryCard]
    total_records: int


class EmployerView(msgspec.Struct, frozen=True, kw_only=True):
    """An employer (or user company) by enterprise number, with its name when the organisation is known."""

    kbo: str
    number: str
    name: str | None
    label: str


class RecordView(msgspec.Struct, frozen=True, kw_only=True):
    """What every record shows: which one, when it was declared, a one-line summary, and any error report."""

    record_id: UUID
    category: str
    kind: RecordKind
    declared_at: datetime
    declared_on: str
    summary: str
    report: ReportBadge | None
    report_url: str


class PeriodView(msgspec.Struct, frozen=True, kw_only=True):
    """A period of business dates; `end` is None while it is ongoing."""

    start: date
    start_label: str
    end: date | None
    end_label: str
    ongoing: bool


class DimonaEntry(RecordView, frozen=True, kw_only=True):
    """One employment: employer, kind of worker in plain words, and period."""

    employer: EmployerView
    worker_type: str
    worker_type_label: str
    period: PeriodView
    joint_committee: str | None
    planned_hours: str | None


class AmountLine(msgspec.Struct, frozen=True, kw_only=True):
    """A wage amount under a DmfA remuneration code."""

    code: str
    amount_cents: int
    amount: str


class DmfaEntry(RecordView, frozen=True, kw_only=True):
    """One employer's declaration for a quarter, all its occupations together."""

    quarter: str
    employer: EmployerView
    worker_code: str
    joint_committees: list[str]
    days_hundredths: int
    days: str
    hours_hundredths: int
    hours: str
    # Mean over reference hours, for a single occupation ("80%"); None when several are mixed.
    working_time: str | None
    pay_cents: int
    pay: str
    remunerations: list[AmountLine]


class DmfaQuarter(msgspec.Struct, frozen=True, kw_only=True):
    """The declarations of one quarter, a table on the page."""

    quarter: str
    label: str
    declarations: list[DmfaEntry]


class FlexiMonth(RecordView, frozen=True, kw_only=True):
    """One employer's flexi wage for one month."""

    month: str
    month_label: str
    employer: EmployerView
    amount_cents: int
    amount: str


class CeilingView(msgspec.Struct, frozen=True, kw_only=True):
    """A year's total against its tax-free ceiling, written out ("€15,300 of €18,000 (85%)")."""

    amount_cents: int
    amount: str
    status: str
    provisional: bool
    percent: int
    progress: str
    over: bool
    excess_cents: int
    excess: str | None


class FlexiYear(msgspec.Struct, frozen=True, kw_only=True):
    """An income year: the months declared, the total, the ceiling, and as of when."""

    year: int
    total_cents: int
    total: str
    ceiling: CeilingView | None
    as_of_at: datetime | None
    as_of: str | None
    months: list[FlexiMonth]


class LimosaEntry(RecordView, frozen=True, kw_only=True):
    """A posting to Belgium."""

    foreign_employer: str
    foreign_employer_country: str
    belgian_user: EmployerView
    period: PeriodView
    workplace: str
    sector: str
    l1_receipt_number: str


class A1Entry(RecordView, frozen=True, kw_only=True):
    """A posting abroad."""

    destination_country: str
    destination: str
    employer: EmployerView
    period: PeriodView


class DrsEntry(RecordView, frozen=True, kw_only=True):
    """A social-risk declaration."""

    scenario: str
    scenario_label: str
    employer: EmployerView
    period: PeriodView


class IdentityEntry(RecordView, frozen=True, kw_only=True):
    """Identity as the National Register knows it."""

    name: str
    birth_date: date
    birth_date_label: str
    language: str
    address: str | None


class FieldLine(msgspec.Struct, frozen=True, kw_only=True):
    """One field of a record of a category without its own view (a category added later)."""

    name: str
    value: str


class GenericEntry(RecordView, frozen=True, kw_only=True):
    """A record of a category that has no view of its own yet: its fields as they were declared."""

    fields: list[FieldLine]


class CategoryPage(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One category in full: its card, and its records in the shape that suits them (only one list is filled)."""

    card: CategoryCard
    dimona: list[DimonaEntry] = []
    dmfa: list[DmfaQuarter] = []
    flexi_wages: list[FlexiYear] = []
    limosa: list[LimosaEntry] = []
    a1: list[A1Entry] = []
    drs: list[DrsEntry] = []
    identity: list[IdentityEntry] = []
    other: list[GenericEntry] = []


def payload_fields(payload: dict[str, Any] | None) -> list[FieldLine]:
    """A payload's top-level fields as text, in the order declared (nested values as compact JSON)."""
    lines = []
    for name, value in (payload or {}).items():
        text = value if isinstance(value, str) else msgspec.json.encode(value).decode()
        lines.append(FieldLine(name=name, value=text))
    return lines


__all__ = [
    "A1Entry",
    "AmountLine",
    "CategoryCard",
    "CategoryPage",
    "CeilingView",
    "DimonaEntry",
    "DmfaEntry",
    "DmfaQuarter",
    "DrsEntry",
    "EmployerView",
    "FieldLine",
    "FlexiMonth",
    "FlexiYear",
    "GenericEntry",
    "IdentityEntry",
    "LimosaEntry",
    "PeriodView",
    "RecipientView",
    "RecordView",
    "RecordsOverview",
    "payload_fields",
]
