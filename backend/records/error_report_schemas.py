"""Error reports on records ("Report an error") as stored, as the citizen's API takes them, and as shown."""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal
from uuid import UUID

import msgspec

ReportStatus = Literal["open", "answered", "closed"]
StepKind = Literal["opened", "answered", "closed"]

MESSAGE_MIN: Final = 10
MESSAGE_MAX: Final = 2000
ANSWER_MAX: Final = 4000


class ErrorReport(msgspec.Struct, frozen=True, kw_only=True):
    """A citizen's report that a record is wrong: a case for the institution that declared it."""

    citizen_id: UUID
    report_id: UUID
    record_id: UUID
    category: str
    source_institution: UUID
    message: str
    status: ReportStatus
    answer: str | None
    created_at: datetime
    answered_at: datetime | None

    @property
    def waiting(self) -> bool:
        """True while the institution owes an answer."""
        return self.status == "open"


REPORT_COLUMNS: Final = tuple(field.name for field in msgspec.structs.fields(ErrorReport))


class ReportStep(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of a report's append-only history."""

    step: int
    kind: StepKind
    status_left: ReportStatus | None
    status_entered: ReportStatus
    actor_person_id: UUID | None
    actor_org_id: UUID | None
    body: str | None
    at: datetime


class ErrorReportCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the citizen's API takes: which of your records, and what is wrong with it (10 to 2000 characters)."""

    record_id: UUID
    # Its length is checked after trimming, by the service, so that the error says what to do.
    message: str


class ReportBadge(msgspec.Struct, frozen=True, kw_only=True):
    """The latest report on a record, as the record shows it: status in words, and where to read it."""

    report_id: UUID
    status: ReportStatus
    status_label: str
    created_on: str
    url: str


class ErrorReportView(msgspec.Struct, frozen=True, kw_only=True):
    """A report in the person's language: the record it is about, the message, status, answer, dates."""

    report_id: UUID
    record_id: UUID
    category: str
    category_title: str
    record_summary: str | None
    institution_id: UUID
    institution: str | None
    message: str
    status: ReportStatus
    status_label: str
    waiting: bool
    answer: str | None
    created_at: datetime
    created_on: str
    answered_at: datetime | None
    answered_on: str | None
    url: str
    record_url: str
    # Who filed it when not the person themself: a helper or an organisation's agent under a mandate.
    filed_by: str | None = None


__all__ = [
    "ANSWER_MAX",
    "MESSAGE_MAX",
    "MESSAGE_MIN",
    "REPORT_COLUMNS",
    "ErrorReport",
    "ErrorReportCreate",
    "ErrorReportView",
    "ReportBadge",
    "ReportStatus",
    "ReportStep",
    "StepKind",
]


class QueuedReport(msgspec.Struct, frozen=True, kw_only=True):
    """An open report as its institution reads it: whose record (national number), which declaration (the source
    and id the institution sent it under), and what the person says is wrong."""

    report_id: UUID
    subject: str
    record_id: UUID
    category: str
    source: str
    source_event_id: str
    message: str
    created_at: datetime


class ReportQueue(msgspec.Struct, frozen=True, kw_only=True):
    """The institution's open reports, oldest first; answered ones leave the queue."""

    items: list[QueuedReport]
    # True when more open reports wait than were listed.
    more: bool


class ReportAnswerRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The institution's answer to a report: the person's national number, and the answer (1 to 4000 characters)."""

    subject: str
    answer: str


class ReportCloseRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Closing an answered report: the person's national number."""

    subject: str


class InstitutionReportView(msgspec.Struct, frozen=True, kw_only=True):
    """A report after the institution's step: its status and answer, as the person now sees them."""

    report_id: UUID
    record_id: UUID
    category: str
    status: ReportStatus
    answer: str | None
    created_at: datetime
    answered_at: datetime | None
