"""The reviewers' console: contested accesses by deadline, one case at a time, and flagged events.

Reviewers (staff with the role "reviewer") handle the cases about their own organisation's accesses; Vitrine's
data-protection office (reviewers of no organisation) handles every case (backend.access_log.review_scope). A
case outside a reviewer's scope does not exist for them: its page and its actions answer 404, as for an unknown
case. A case page shows the access in plain language and lets the reviewer answer, escalate, close, and reveal
who stands behind a pseudonymous reference: that reveal is written to the revealed person's own access log and to
the case's history.
"""

from __future__ import annotations

from typing import Any, Final, Literal
from urllib.parse import urlencode
from uuid import UUID

import asyncpg
import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from backend.access_log import anomaly_queries, contest_queries
from backend.access_log.anomalies import FLAGS, cursor_token, flag_label, flagged_events, parse_cursor_token
from backend.access_log.contest_schemas import ANSWER_MAX, REASON_MAX, Contest, ContestStatus, ContestStep
from backend.access_log.contest_views import describe_contest
from backend.access_log.contests import (
    answer_contest,
    close_contest,
    escalate_contest,
    reveal_actor,
)
from backend.access_log.review_scope import handles, reviewed_organisation
from backend.access_log.views import capitalised
from backend.access_log.written_time import brussels_datetime
from backend.core.auth.guards import requires_reviewer, signed_in_user
from backend.core.digits import positive_int
from backend.core.errors import Problem
from backend.core.i18n import Language, _, current_language
from backend.core.identity import queries as identity_queries
from backend.core.identity.schemas import StaffMember
from frontend.pages.access_log_contest import event_entry
from frontend.rendering import page

# Cases per page of the queue: the most urgent come first, the rest page by page.
QUEUE_PAGE: Final = 50
# Flagged accesses shown at a time.
FLAGS_PAGE: Final = 50
QueueFilter = Literal["pending", "answered", "closed", "all"]
QUEUE_STATUSES: Final[dict[str, tuple[ContestStatus, ...]]] = {
    "pending": ("open", "escalated"),
    "answered": ("answered",),
    "closed": ("closed",),
    "all": ("open", "escalated", "answered", "closed"),
}
# The person kinds behind a pseudonymous reference that a reviewer can reveal.
REVEALABLE: Final = frozenset({"helper", "agent", "staff"})


class AnswerForm(msgspec.Struct, kw_only=True):
    """The reviewer's answer to the citizen."""

    answer: str = ""


class EscalateForm(msgspec.Struct, kw_only=True):
    """Why the case is escalated."""

    reason: str = ""


def case_url(contest_id: UUID) -> str:
    """A case's page in the console."""
    return f"/review/cases/{contest_id}"


def _queue_choices(current: str) -> list[dict[str, Any]]:
    labels = {
        "pending": _("Waiting for an answer"),
        "answered": _("Answered, not closed"),
        "closed": _("Closed"),
        "all": _("All cases"),
    }
    return [{"value": value, "label": label, "selected": value == current} for value, label in labels.items()]


def _reviewer(request: Request[Any, Any, Any]) -> StaffMember:
    staff = signed_in_user(request).staff
    assert staff is not None  # requires_reviewer lets only staff through
    return staff


async def _scope_note(conn: asyncpg.Connection, reviewer: StaffMember, language: Language) -> str:
    """What the reviewer's queue holds, in a sentence."""
    org_id = reviewed_organisation(reviewer)
    if org_id is None:
        return _(
            "As Vitrine's data-protection office, you see every case: those about helpers and desk agents, "
            "escalated ones and those of every organisation."
        )
    organisation = await identity_queries.select_organisation(conn, org_id)
    name = _("your organisation") if organisation is None else organisation.name(language)
    return _("You see the cases about accesses by %(organisation)s.") % {"organisation": name}


async def _case_in_scope(conn: asyncpg.Connection, request: Request[Any, Any, Any], contest_id: UUID) -> Contest:
    """The case to show, if it exists and the reviewer handles it; otherwise the same 404 either way (the actions
    check the same in backend.access_log.contests, on the row they lock)."""
    contest = await contest_queries.select_contest(conn, contest_id)
    if contest is None or not handles(_reviewer(request), contest.accessor_org_id):
        raise Problem(404, "There is no such case.", kind="no-such-contest")
    return contest


def _page_number(value: str | None) -> int:
    """The page asked for: a positive whole number; anything else (an edited address) is the first page."""
    return positive_int(value, below=1_000_000) or 1


@get("/review", name="review-queue", guards=[requires_reviewer], include_in_schema=False)
async def review_queue(request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]) -> Template:
    """Contested accesses the reviewer handles, overdue first (highlighted), then by answer deadline, a page of
    QUEUE_PAGE at a time, with how many there are and how many are late in the whole queue."""
    requested = request.query_params.get("status", "pending")
    current = requested if requested in QUEUE_STATUSES else "pending"
    number = _page_number(request.query_params.get("page"))
    language = current_language()
    reviewer = _reviewer(request)
    scope = reviewed_organisation(reviewer)
    counts = await contest_queries.count_queue(conn, statuses=QUEUE_STATUSES[current], accessor_org_id=scope)
    rows = await contest_queries.select_queue(
        conn,
        statuses=QUEUE_STATUSES[current],
        limit=QUEUE_PAGE,
        offset=(number - 1) * QUEUE_PAGE,
        accessor_org_id=scope,
    )
    now = await contest_queries.select_now(conn)
    views = [
        describe_contest(contest, now=now, language=language, organisation=organisation)
        for contest, organisation in rows
    ]
    cases = [{"contest": view, "url": case_url(view.contest_id)} for view in views]
    first = (number - 1) * QUEUE_PAGE + 1

    def page_url(wanted: int) -> str:
        return f"/review?{urlencode({'status': current, 'page': wanted})}"

    return page(
        request,
        "pages/review/queue.html",
        cases=cases,
        overdue=counts.overdue,
        total=counts.total,
        shown_from=first,
        shown_to=first + len(cases) - 1,
        previous_url=page_url(number - 1) if number > 1 else None,
        next_url=page_url(number + 1) if first + len(cases) <= counts.total and cases else None,
        paged=number > 1,
        choices=_queue_choices(current),
        scope_note=await _scope_note(conn, reviewer, language),
    )


async def _names(conn: asyncpg.Connection, ids: set[UUID]) -> dict[UUID, str]:
    names: dict[UUID, str] = {}
    for person_id in ids:
        person = await identity_queries.select_person(conn, person_id)
        names[person_id] = _("someone no longer known") if person is None else person.display_name
    return names


def _history_line(step: ContestStep, names: dict[UUID, str], citizen_id: UUID, language: Language) -> dict[str, Any]:
    actor = _("the citizen") if step.actor_person_id == citizen_id else names[step.actor_person_id]
    texts = {
        "opened": _("Opened by %(who)s"),
        "message": _("Message from %(who)s"),
        "escalated": _("Escalated by %(who)s"),
        "answered": _("Answered by %(who)s"),
        "closed": _("Closed by %(who)s"),
    }
    if step.kind == "revealed" and step.revealed_person_id is not None:
        text = _("%(who)s revealed who made the access: %(person)s") % {
            "who": actor,
            "person": names[step.revealed_person_id],
        }
    else:
        text = texts.get(step.kind, step.kind) % {"who": actor}
    return {"when": brussels_datetime(step.at, language), "iso": step.at.isoformat(), "text": text, "body": step.body}


async def _case_page(
    request: Request[Any, Any, Any],
    conn: asyncpg.Connection,
    contest_id: UUID,
    *,
    errors: list[dict[str, str]] | None = None,
    values: dict[str, str] | None = None,
) -> Template:
    language = current_language()
    contest = await _case_in_scope(conn, request, contest_id)
    organisation = None
    if contest.accessor_org_id is not None:
        organisation = await identity_queries.select_organisation(conn, contest.accessor_org_id)
    history = await contest_queries.select_history(conn, contest.citizen_id, contest.contest_id)
    people = {step.actor_person_id for step in history if step.actor_person_id != contest.citizen_id}
    people |= {step.revealed_person_id for step in history if step.revealed_person_id is not None}
    names = await _names(conn, people)
    entry = await event_entry(conn, contest.citizen_id, contest.seq, language)
    flags = await anomaly_queries.select_event_flags(conn, contest.citizen_id, contest.seq)
    own_case = contest.citizen_id == signed_in_user(request).person.person_id
    return page(
        request,
        "pages/review/case.html",
        status_code=422 if errors else 200,
        contest=describe_contest(
            contest, now=await contest_queries.select_now(conn), language=language, organisation=organisation
        ),
        event_hash=contest.event_hash.hex(),
        entry=entry,
        event_when=None if entry is None else brussels_datetime(entry.occurred_at, language),
        capitalised_who=None if entry is None else capitalised(entry.who.name),
        flags=[flag_label(flag) for flag in flags],
        history=[_history_line(step, names, contest.citizen_id, language) for step in history],
        can_answer=not own_case and contest.status in ("open", "escalated"),
        can_escalate=not own_case and contest.status == "open",
        can_close=not own_case and contest.status == "answered",
        can_reveal=(
            not own_case
            and contest.status != "closed"
            and entry is not None
            and entry.who.kind in REVEALABLE
            and not any(step.kind == "revealed" for step in history)
        ),
        own_case=own_case,
        answer_max=ANSWER_MAX,
        reason_max=REASON_MAX,
        errors=errors or [],
        field_errors={error["field_id"]: error["message"] for error in errors or []},
        values={"answer": "", "reason": "", **(values or {})},
        url=case_url(contest.contest_id),
    )


@get("/review/cases/{contest_id:uuid}", name="review-case", guards=[requires_reviewer], include_in_schema=False)
async def review_case(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], contest_id: FromPath[UUID]
) -> Template:
    """One case: the access in plain language, its flags, the deadline, the history and what can be done."""
    return await _case_page(request, conn, contest_id)


def _required(value: str, *, field_id: str, missing: str, maximum: int) -> list[dict[str, str]]:
    text = value.strip()
    if not text:
        return [{"field_id": field_id, "message": missing}]
    if len(text) > maximum:
        message = _("Write at most %(count)s characters") % {"count": maximum}
        return [{"field_id": field_id, "message": message}]
    return []


@post(
    "/review/cases/{contest_id:uuid}/answer",
    name="review-answer",
    guards=[requires_reviewer],
    include_in_schema=False,
    status_code=303,
)
async def review_answer(
    request: Request[Any, Any, Any],
    conn: NamedDependency[asyncpg.Connection],
    contest_id: FromPath[UUID],
    data: URLEncodedBody[AnswerForm],
) -> Response[Any]:
    """Answer the citizen (the text is required); the citizen sees it on the entry of their log."""
    errors = _required(
        data.answer, field_id="case-answer", missing=_("Write the answer to the citizen"), maximum=ANSWER_MAX
    )
    if errors:
        return await _case_page(request, conn, contest_id, errors=errors, values={"answer": data.answer})
    await answer_contest(conn, contest_id=contest_id, reviewer=_reviewer(request), answer=data.answer)
    return Redirect(path=case_url(contest_id), status_code=303)


@post(
    "/review/cases/{contest_id:uuid}/escalate",
    name="review-escalate",
    guards=[requires_reviewer],
    include_in_schema=False,
    status_code=303,
)
async def review_escalate(
    request: Request[Any, Any, Any],
    conn: NamedDependency[asyncpg.Connection],
    contest_id: FromPath[UUID],
    data: URLEncodedBody[EscalateForm],
) -> Response[Any]:
    """Escalate an open case, saying why (required)."""
    errors = _required(
        data.reason, field_id="case-reason", missing=_("Write why you escalate the case"), maximum=REASON_MAX
    )
    if errors:
        return await _case_page(request, conn, contest_id, errors=errors, values={"reason": data.reason})
    await escalate_contest(conn, contest_id=contest_id, reviewer=_reviewer(request), reason=data.reason)
    return Redirect(path=case_url(contest_id), status_code=303)


@post(
    "/review/cases/{contest_id:uuid}/close",
    name="review-close",
    guards=[requires_reviewer],
    include_in_schema=False,
    status_code=303,
)
async def review_close(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], contest_id: FromPath[UUID]
) -> Response[Any]:
    """Close an answered case."""
    await close_contest(conn, contest_id=contest_id, reviewer=_reviewer(request))
    return Redirect(path=case_url(contest_id), status_code=303)


@post(
    "/review/cases/{contest_id:uuid}/reveal",
    name="review-reveal",
    guards=[requires_reviewer],
    include_in_schema=False,
    status_code=303,
)
async def review_reveal(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], contest_id: FromPath[UUID]
) -> Response[Any]:
    """Reveal who stands behind the access's pseudonymous reference; logged in that person's access log."""
    await reveal_actor(conn, contest_id=contest_id, reviewer=_reviewer(request))
    return Redirect(path=f"{case_url(contest_id)}#case-history", status_code=303)


@get("/review/flags", name="review-flags", guards=[requires_reviewer], include_in_schema=False)
async def review_flags(request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]) -> Template:
    """The most recently flagged accesses across citizens (the reviewer's organisation's only, for an organisation's
    reviewer), narrowed to one kind of flag if asked, FLAGS_PAGE at a time with a link to older ones."""
    requested = request.query_params.get("flag", "")
    flag = next((name for name in FLAGS if name == requested), None)
    before = parse_cursor_token(request.query_params.get("before", ""))
    flagged = await flagged_events(
        conn,
        flag=flag,
        language=current_language(),
        limit=FLAGS_PAGE,
        actor_org_id=reviewed_organisation(_reviewer(request)),
        before=before,
    )
    choices = [{"value": "", "label": _("Every flag"), "selected": flag is None}] + [
        {"value": name, "label": flag_label(name), "selected": name == flag} for name in FLAGS
    ]
    kept = {"flag": flag} if flag is not None else {}
    return page(
        request,
        "pages/review/flags.html",
        events=flagged.events,
        choices=choices,
        filtered=flag is not None,
        paged=before is not None,
        newest_url=f"/review/flags?{urlencode(kept)}" if kept else "/review/flags",
        older_url=None
        if flagged.older is None
        else f"/review/flags?{urlencode({**kept, 'before': cursor_token(flagged.older)})}",
    )


# Registered by the composition root (backend/app.py).
ROUTES: Final[list[Any]] = [
    review_queue,
    review_case,
    review_answer,
    review_escalate,
    review_close,
    review_reveal,
    review_flags,
]

__all__ = ["ROUTES", "case_url"]
