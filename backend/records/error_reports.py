""" "Report an error": a person tells the institution that declared a record about them what is wrong with it.

A report is a case for the record's producer: open until the institution answers, then answered, then closed.
Every step is written in the report's append-only history in the same statement as the status change. One
report per record may wait for an answer at a time. Reporting is the person's own act about their own data, so
nothing here writes to the access log; a report a helper files for the person under a mandate is logged by the
caller (backend.records.helper_reads), and the person sees on the report who filed it. Services never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final
from uuid import UUID

import asyncpg
import msgspec

from backend.access_log.views import speaking
from backend.core.errors import FieldError, Problem, validation_problem
from backend.core.i18n import N_, Language, _, gettext
from backend.core.identity.queries import select_person
from backend.core.identity.schemas import Person
from backend.records import citizen_queries, helper_read_queries
from backend.records import error_report_queries as queries
from backend.records.citizen_describing import Describing, category_path, known_employers
from backend.records.citizen_format import moment_day
from backend.records.citizen_records import describe_record
from backend.records.error_report_schemas import (
    ANSWER_MAX,
    MESSAGE_MAX,
    MESSAGE_MIN,
    ErrorReport,
    ErrorReportView,
    ReportBadge,
)
from backend.records.registry import REGISTRY, Registry

STATUS_LABELS: Final[dict[str, str]] = {
    "open": N_("Waiting for an answer"),
    "answered": N_("Answered"),
    "closed": N_("Closed"),
}
REPORTS_PATH: Final = "/my-data/error-reports"


class ReportAlreadyOpen(Problem):
    """The record already has a report waiting for an answer; `report` is that report."""

    def __init__(self, report: ErrorReport) -> None:
        super().__init__(
            409,
            f"You already reported an error in this record; report {report.report_id} is waiting for an answer.",
            kind="error-report-already-open",
        )
        self.report = report


def report_path(report_id: UUID) -> str:
    """The person's page of one report."""
    return f"{REPORTS_PATH}/{report_id}"


def filing_ref(report_id: UUID) -> str:
    """How the person's access log names a report that a helper filed for them (the event's case reference)."""
    return f"error-report:{report_id}"


def message_error(value: str) -> str | None:
    """Why a report's message cannot be sent (in the reader's language), or None when it can."""
    text = value.strip()
    if not text:
        return _("Write what is wrong in this record")
    if len(text) < MESSAGE_MIN:
        return _("Write at least %(count)s characters, so that the institution understands what is wrong") % {
            "count": MESSAGE_MIN
        }
    if len(text) > MESSAGE_MAX:
        return _("Write at most %(count)s characters") % {"count": MESSAGE_MAX}
    return None


async def report_error(
    conn: asyncpg.Connection, *, citizen_id: UUID, record_id: UUID, message: str, filed_by: UUID | None = None
) -> ErrorReport:
    """Open a report on one of the person's records for the institution that declared it (`filed_by`: the helper
    who files it for them, once their right to do so was decided).

    404 when the record is not theirs, 422 naming `message` when it is empty, shorter than 10 or longer than 2000
    characters (after trimming), 409 while another report on the record waits for an answer.
    """
    record = await citizen_queries.select_own_record(conn, citizen_id, record_id)
    if record is None:
        raise Problem(404, "There is no such record among yours.", kind="no-such-record")
    problem = message_error(message)
    if problem is not None:
        raise validation_problem([FieldError(field="message", message=problem)])
    waiting = await queries.select_open_report(conn, citizen_id, record_id)
    if waiting is not None:
        raise ReportAlreadyOpen(waiting)
    try:
        # A savepoint: if a concurrent request opened one between our check and this insert, the unique index
        # refuses ours and the request's transaction stays usable to answer with theirs.
        async with conn.transaction():
            return await queries.insert_report(
                conn,
                citizen_id=citizen_id,
                record_id=record_id,
                category=record.category,
                source_institution=record.producer_org_id,
                message=message.strip(),
                filed_by=filed_by,
            )
    except asyncpg.UniqueViolationError:
        waiting = await queries.select_open_report(conn, citizen_id, record_id)
        if waiting is None:
            raise
        raise ReportAlreadyOpen(waiting) from None


async def own_report(conn: asyncpg.Connection, citizen_id: UUID, report_id: UUID) -> ErrorReport:
    """One of the person's reports; another person's is a 404."""
    report = await queries.select_own_report(conn, citizen_id, report_id)
    if report is None:
        raise Problem(404, "There is no such error report among yours.", kind="no-such-error-report")
    return report


async def _institution_report(conn: asyncpg.Connection, org_id: UUID, citizen_id: UUID, report_id: UUID) -> ErrorReport:
    """A report locked for a step by its institution; a report of another institution is answered as missing."""
    report = await queries.lock_report(conn, citizen_id, report_id)
    if report is None or report.source_institution != org_id:
        raise Problem(404, "There is no such error report for your institution.", kind="no-such-error-report")
    return report


async def answer_report(
    conn: asyncpg.Connection, *, org_id: UUID, citizen_id: UUID, report_id: UUID, answer: str
) -> ErrorReport:
    """The source institution answers an open report (1 to 4000 characters); 409 once it was answered."""
    text = answer.strip()
    if not text or len(text) > ANSWER_MAX:
        raise validation_problem([FieldError(field="answer", message=f"must be 1 to {ANSWER_MAX} characters")])
    report = await _institution_report(conn, org_id, citizen_id, report_id)
    if report.status != "open":
        raise Problem(409, f"This report is already {report.status}.", kind="error-report-not-open")
    step = await queries.select_next_step(conn, citizen_id, report_id)
    return await queries.answer_report(conn, report, org_id=org_id, answer=text, step=step)


async def close_report(conn: asyncpg.Connection, *, org_id: UUID, citizen_id: UUID, report_id: UUID) -> ErrorReport:
    """The source institution closes an answered report; 409 before it is answered or once it is closed."""
    report = await _institution_report(conn, org_id, citizen_id, report_id)
    if report.status != "answered":
        raise Problem(409, "Only an answered report can be closed.", kind="error-report-not-answered")
    step = await queries.select_next_step(conn, citizen_id, report_id)
    return await queries.close_report(conn, report, org_id=org_id, step=step)


def badge(report: ErrorReport, language: str) -> ReportBadge:
    """A record's latest report as the record shows it."""
    return ReportBadge(
        report_id=report.report_id,
        status=report.status,
        status_label=gettext(STATUS_LABELS[report.status]),
        created_on=moment_day(report.created_at, language),
        url=report_path(report.report_id),
    )


async def badges_by_record(
    conn: asyncpg.Connection, citizen_id: UUID, record_ids: Sequence[UUID], language: str
) -> dict[UUID, ReportBadge]:
    """The latest report on each of these records that has one, by record id."""
    if not record_ids:
        return {}
    reports = await queries.select_latest_reports(conn, citizen_id, record_ids)
    return {report.record_id: badge(report, language) for report in reports}


async def describe_reports(
    conn: asyncpg.Connection,
    citizen_id: UUID,
    reports: Sequence[ErrorReport],
    language: Language,
    *,
    registry: Registry = REGISTRY,
    giver: str | None = None,
) -> list[ErrorReportView]:
    """Reports in the person's language, each with the record it is about in one line and the institution's name.

    `giver` is the person's name when a helper reads: who filed a report is then said from the helper's side.
    """
    records = await citizen_queries.select_own_records_by_id(
        conn, citizen_id, sorted({report.record_id for report in reports})
    )
    context = Describing(language=language, employers=await known_employers(conn, records), badges={})
    with speaking(language):
        summaries = {
            record.record_id: describe_record(record, context, registry=registry).summary for record in records
        }
        views = _report_views(reports, summaries, await _institution_names(conn, reports, language), language, registry)
        filers = await _filers(conn, citizen_id, reports, language, giver)
    return [msgspec.structs.replace(view, filed_by=filers.get(view.report_id)) for view in views]


async def _filers(
    conn: asyncpg.Connection, citizen_id: UUID, reports: Sequence[ErrorReport], language: str, giver: str | None
) -> dict[UUID, str]:
    """Who filed each report that a helper filed for the person, as their access log recorded it."""
    refs = {filing_ref(report.report_id): report.report_id for report in reports}
    filings = await helper_read_queries.select_report_filings(conn, citizen_id, list(refs))
    organisations = {
        organisation.org_id: organisation
        for organisation in await citizen_queries.select_organisations_by_id(
            conn, sorted({filing.actor_org_id for filing in filings if filing.actor_org_id is not None})
        )
    }
    found = {}
    for filing in filings:
        organisation = None if filing.actor_org_id is None else organisations.get(filing.actor_org_id)
        if filing.actor_kind == "agent" and organisation is not None:
            label = (
                _("%(organisation)s (agent %(agent)s), under your mandate")
                if giver is None
                else _("%(organisation)s (agent %(agent)s), under a mandate from %(giver)s")
            ) % {"organisation": organisation.name(language), "agent": filing.actor_ref or "?", "giver": giver}
        else:
            person = None if filing.actor_ref is None else await _person(conn, filing.actor_ref)
            label = (
                _("%(name)s, under your mandate") if giver is None else _("%(name)s, under a mandate from %(giver)s")
            ) % {"name": _("a helper") if person is None else person.display_name, "giver": giver}
        found[refs[filing.report_ref]] = label
    return found


async def _person(conn: asyncpg.Connection, ref: str) -> Person | None:
    try:
        person_id = UUID(ref)
    except ValueError:
        return None
    return await select_person(conn, person_id)


async def _institution_names(
    conn: asyncpg.Connection, reports: Sequence[ErrorReport], language: str
) -> dict[UUID, str]:
    organisations = await citizen_queries.select_organisations_by_id(
        conn, sorted({report.source_institution for report in reports})
    )
    return {organisation.org_id: organisation.name(language) for organisation in organisations}


def _report_views(
    reports: Sequence[ErrorReport],
    summaries: dict[UUID, str],
    institutions: dict[UUID, str],
    language: str,
    registry: Registry,
) -> list[ErrorReportView]:
    views = []
    for report in reports:
        category = registry.get(report.category)
        views.append(
            ErrorReportView(
                report_id=report.report_id,
                record_id=report.record_id,
                category=report.category,
                category_title=report.category if category is None else category.title.get(language),
                record_summary=summaries.get(report.record_id),
                institution_id=report.source_institution,
                institution=institutions.get(report.source_institution),
                message=report.message,
                status=report.status,
                status_label=gettext(STATUS_LABELS[report.status]),
                waiting=report.waiting,
                answer=report.answer,
                created_at=report.created_at,
                created_on=moment_day(report.created_at, language),
                answered_at=report.answered_at,
                answered_on=None if report.answered_at is None else moment_day(report.answered_at, language),
                url=report_path(report.report_id),
                record_url=category_path(report.category),
            )
        )
    return views


__all__ = [
    "REPORTS_PATH",
    "STATUS_LABELS",
    "ReportAlreadyOpen",
    "answer_report",
    "badge",
    "badges_by_record",
    "close_report",
    "describe_reports",
    "filing_ref",
    "message_error",
    "own_report",
    "report_error",
    "report_path",
]
