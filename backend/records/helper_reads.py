"""Reading a person's records for them: a helper, or an organisation's agent, under a mandate.

A helper sees exactly the categories that an active mandate covers (a theme given as READ or ACT), never more.
Every category read is one event in the person's access log (actor, organisation, mandate, channel, category and
the records shown), written by consent's one decision function, `decide_and_log`, in the request's transaction;
a refusal is written there too, as a denied event. Which categories to offer is asked with `decide`, which logs
nothing: listing what may be opened is not reading it. Nothing is cached between requests, so a mandate ended or
expired a second ago is felt by the very next request.

The person reading their own records goes through none of this and is not logged. Services never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from uuid import UUID

import asyncpg
from litestar import Response

from backend.access_log.schemas import Channel
from backend.access_log.service import accessor_for, record_access
from backend.access_log.views import BRUSSELS
from backend.core.auth.actors import SignedIn
from backend.core.errors import FieldError, ProblemDetails, problem_response
from backend.core.i18n import _, current_language, gettext
from backend.core.request_context import current_request_id
from backend.records import helper_read_queries as queries
from backend.records.citizen_format import day
from backend.records.error_report_schemas import ErrorReport
from backend.records.error_reports import filing_ref
from backend.records.registry import REGISTRY, Registry
from consent.decision import REASON_TEXTS, decide, decide_and_log
from consent.mandate_queries import select_mandate
from consent.schemas import Decision

# The theme action that lets a helper report an error in the person's name (theme "corrections", given as ACT).
REPORT_ERROR_ACTION: Final = "report_error"
_OWN: Final = Decision(allowed=True, reason="own_data")


@dataclass(frozen=True, slots=True)
class HelperView:
    """What the pages say to a helper: whose data, under which mandate until when, which categories."""

    name: str
    until_label: str | None
    category_titles: list[str]
    may_report: bool


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


async def _read_decisions(
    conn: asyncpg.Connection, user: SignedIn, at: datetime, registry: Registry
) -> dict[str, Decision]:
    """The decision for reading each category of the registry, in its order (logs nothing)."""
    decisions = {}
    for category in registry.all():
        decisions[category.code] = await decide(
            conn, actor=user, subject_id=user.subject_id, action="read", category=category.code, now=at
        )
    return decisions


async def readable_categories(
    conn: asyncpg.Connection, user: SignedIn, *, now: datetime | None = None, registry: Registry = REGISTRY
) -> list[str]:
    """The categories, in the registry's order, that this person may see of whom they look at now (logs nothing)."""
    if not user.acting_for_someone:
        return [category.code for category in registry.all()]
    decisions = await _read_decisions(conn, user, _now(now), registry)
    return [code for code, decision in decisions.items() if decision.allowed]


async def read_categories(
    conn: asyncpg.Connection,
    user: SignedIn,
    codes: Sequence[str],
    *,
    channel: Channel,
    active_only: bool = True,
    record_refs: dict[str, list[str]] | None = None,
    now: datetime | None = None,
) -> dict[str, Decision]:
    """Decide and log the read of each category: one access-log event per category, naming the records shown.

    `record_refs` names the records shown when they are not all of the category's (one record, some reports);
    otherwise the category's records (those that count now when `active_only`) are named.
    """
    if not user.acting_for_someone:
        return dict.fromkeys(codes, _OWN)
    at = _now(now)
    refs = (
        record_refs
        if record_refs is not None
        else await queries.select_record_refs(conn, user.subject_id, codes, active_only=active_only)
    )
    decisions = {}
    for code in codes:
        # A refusal shows no record, so its event names none; asked first without logging, then logged once.
        shown = (
            await decide(conn, actor=user, subject_id=user.subject_id, action="read", category=code, now=at)
        ).allowed
        decisions[code] = await decide_and_log(
            conn,
            actor=user,
            subject_id=user.subject_id,
            action="read",
            category=code,
            channel=channel,
            record_refs=refs.get(code, ()) if shown else (),
            now=at,
        )
    return decisions


async def read_category(
    conn: asyncpg.Connection,
    user: SignedIn,
    code: str,
    *,
    channel: Channel,
    record_refs: list[str] | None = None,
    now: datetime | None = None,
) -> Decision:
    """Decide and log the read of one category (its records, or only `record_refs` when given)."""
    refs = None if record_refs is None else {code: record_refs}
    decisions = await read_categories(conn, user, [code], channel=channel, record_refs=refs, now=now)
    return decisions[code]


async def shown_categories(
    conn: asyncpg.Connection, user: SignedIn, *, channel: Channel, active_only: bool = True
) -> list[str] | None:
    """The categories to show: None (all of them) for the person's own records; for a helper, those the mandate
    covers, each read logged in the person's access log (one event per category, naming its records)."""
    if not user.acting_for_someone:
        return None
    codes = await readable_categories(conn, user)
    decisions = await read_categories(conn, user, codes, channel=channel, active_only=active_only)
    return [code for code, decision in decisions.items() if decision.allowed]


async def readable_reports(
    conn: asyncpg.Connection, user: SignedIn, reports: Sequence[ErrorReport], *, channel: Channel
) -> list[ErrorReport]:
    """The reports whose category the reader may see (all of them for the person); for a helper, each category
    shown is one read in the person's access log, naming the reported records."""
    if not user.acting_for_someone:
        return list(reports)
    codes = set(await readable_categories(conn, user))
    shown = [report for report in reports if report.category in codes]
    refs: dict[str, list[str]] = {}
    for report in shown:
        refs.setdefault(report.category, []).append(str(report.record_id))
    decisions = await read_categories(conn, user, list(refs), channel=channel, record_refs=refs)
    return [report for report in shown if decisions[report.category].allowed]


async def may_report_errors(conn: asyncpg.Connection, user: SignedIn, *, now: datetime | None = None) -> bool:
    """True when the person may report an error here: in their own records, or with the ACT right of the theme
    that covers reporting errors (logs nothing: it decides whether to show the button)."""
    if not user.acting_for_someone:
        return True
    decision = await decide(
        conn, actor=user, subject_id=user.subject_id, action="act", category=REPORT_ERROR_ACTION, now=_now(now)
    )
    return decision.allowed


async def decide_report_error(conn: asyncpg.Connection, user: SignedIn, *, channel: Channel) -> Decision:
    """May this person report an error for whom they look at? A refusal is logged as a denied event; an allowed
    report is logged with the report itself (`log_report_filed`)."""
    if not user.acting_for_someone:
        return _OWN
    return await decide_and_log(
        conn,
        actor=user,
        subject_id=user.subject_id,
        action="act",
        category=REPORT_ERROR_ACTION,
        channel=channel,
    )


async def log_report_filed(
    conn: asyncpg.Connection,
    user: SignedIn,
    decision: Decision,
    *,
    report_id: UUID,
    record_id: UUID,
    category: str,
    channel: Channel,
) -> None:
    """Write in the person's access log that a helper filed an error report for them (same transaction)."""
    await record_access(
        conn,
        citizen_id=user.subject_id,
        accessor=accessor_for(user.actor, subject_id=user.subject_id),
        action="change",
        channel=channel,
        categories=[category],
        record_refs=[str(record_id)],
        mandate_id=decision.mandate_id,
        case_ref=filing_ref(report_id),
    )


def refusal_reason(decision: Decision) -> str:
    """Why a helper may not do this, in the reader's language (as the person's access log says it)."""
    return gettext(REASON_TEXTS[decision.reason])


def category_refusal(decision: Decision, category: str, *, registry: Registry = REGISTRY) -> ProblemDetails:
    """The 403 problem for a category a helper may not see, naming the category and why."""
    found = registry.get(category)
    return ProblemDetails(
        type="urn:vitrine:problem:mandate-refused",
        title="Not allowed",
        status=403,
        detail=_("You may not see %(category)s of this person: %(reason)s.")
        % {
            "category": category if found is None else found.title.get(current_language()),
            "reason": refusal_reason(decision),
        },
        request_id=current_request_id(),
        errors=[FieldError(field="category", message=refusal_reason(decision), location="path")],
    )


def action_refusal(decision: Decision) -> ProblemDetails:
    """The 403 problem for reporting an error without the right to do so for this person, naming why."""
    return ProblemDetails(
        type="urn:vitrine:problem:mandate-refused",
        title="Not allowed",
        status=403,
        detail=_("You may not report an error for this person: %(reason)s.") % {"reason": refusal_reason(decision)},
        request_id=current_request_id(),
    )


def refused_response(problem: ProblemDetails) -> Response[Any]:
    """The problem+json response, returned (not raised) so that the logged refusal is committed (typed to stand
    in for the handler's own response, so that its success keeps its schema in the API description)."""
    return problem_response(problem)


def giver_name(user: SignedIn) -> str | None:
    """The name of the person a helper or an organisation's agent acts for (None for one's own data).

    Who filed a report is then said from the reader's side ("under a mandate from …"), never "under your mandate":
    the pages and their JSON twins pass it alike, so both say the same thing to the same reader.
    """
    return None if user.acting_for is None else user.acting_for.display_name


async def helper_view(
    conn: asyncpg.Connection,
    user: SignedIn,
    *,
    language: str,
    now: datetime | None = None,
    registry: Registry = REGISTRY,
) -> HelperView | None:
    """What to tell a helper about the data they see (None for the person's own data): whose, which categories,
    until when (the earliest end among the mandates that allow them), and whether they may report errors."""
    if user.acting_for is None:
        return None
    at = _now(now)
    decisions = await _read_decisions(conn, user, at, registry)
    allowed = [code for code, decision in decisions.items() if decision.allowed]
    ends = []
    for mandate_id in sorted({m for code in allowed if (m := decisions[code].mandate_id) is not None}):
        mandate = await select_mandate(conn, mandate_id, at)
        if mandate is not None and mandate.ends_at is not None:
            ends.append(mandate.ends_at)
    until = min(ends).astimezone(BRUSSELS).date() if ends else None
    return HelperView(
        name=user.acting_for.display_name,
        until_label=None if until is None else day(until, language),
        category_titles=[category.title.get(language) for code in allowed if (category := registry.get(code))],
        may_report=await may_report_errors(conn, user, now=at),
    )


__all__ = [
    "REPORT_ERROR_ACTION",
    "HelperView",
    "action_refusal",
    "category_refusal",
    "decide_report_error",
    "giver_name",
    "helper_view",
    "log_report_filed",
    "may_report_errors",
    "read_categories",
    "read_category",
    "readable_categories",
    "readable_reports",
    "refusal_reason",
    "refused_response",
    "shown_categories",
]
