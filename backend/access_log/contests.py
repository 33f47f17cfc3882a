"""Contesting an access in one step, and the reviewers' handling of the case.

The citizen's "I don't recognise this / why?" opens a case at once: the event is pinned by seq, id and hash,
a signed receipt of their log is attached, and an answer is due within one month (GDPR art. 12(3)), counted
in Brussels calendar months. Reviewers move the case forward only: open → escalated → answered → closed
(escalation may be skipped; a case is closed only once answered). Every step is written in the case's
append-only history in the same statement as the status change.

A reviewer may reveal who is behind the event's pseudonymous reference, only within a case: the reveal is an
access to that person's identity, so it is written to *their* access log (and to the case's history).
Reviewers see the cases of every institution in this version; routing by institution comes later.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from typing import Final
from uuid import UUID

import asyncpg
from cryptography.hazmat.primitives.asymmetric import ec

from backend.access_log import contest_queries
from backend.access_log.anomalies import record_and_flag
from backend.access_log.contest_schemas import ANSWER_MAX, MESSAGE_MAX, REASON_MAX, Contest, ContestStatus
from backend.access_log.receipts import issue_receipt
from backend.access_log.review_scope import handles
from backend.access_log.schemas import AccessEvent, Accessor
from backend.access_log.views import BRUSSELS
from backend.core.errors import FieldError, Problem, validation_problem
from backend.core.identity import queries as identity_queries
from backend.core.identity.schemas import Person, StaffMember

# The only steps a case may take; the database's CHECK on access_contest_events lists the same ones.
NEXT_STATUSES: Final[dict[ContestStatus, frozenset[ContestStatus]]] = {
    "open": frozenset({"escalated", "answered"}),
    "escalated": frozenset({"answered"}),
    "answered": frozenset({"closed"}),
    "closed": frozenset(),
}


class ContestAlreadyPending(Problem):
    """The event already has a case waiting for an answer; `contest` is that case."""

    def __init__(self, contest: Contest) -> None:
        super().__init__(
            409,
            f"You already contested this access; case {contest.contest_id} is waiting for an answer, due by "
            f"{contest.due_at.isoformat()}.",
            kind="contest-already-pending",
        )
        self.contest = contest


def answer_due(opened_at: datetime) -> datetime:
    """One calendar month after opened_at in Brussels, at the same wall-clock time (UTC).

    A day the next month lacks becomes its last day (31 January → 28 or 29 February), as in art. 12(3) GDPR
    practice; the summer-time change is absorbed by keeping the Brussels wall-clock time.
    """
    if opened_at.tzinfo is None:
        raise ValueError("opened_at must be timezone-aware")
    local = opened_at.astimezone(BRUSSELS)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day).astimezone(UTC)


def is_overdue(contest: Contest, now: datetime) -> bool:
    """True while an answer is owed and its deadline has passed."""
    return contest.pending and contest.due_at < now


def _text(value: str | None, *, field: str, maximum: int, missing: str) -> str:
    """Trimmed text for a field, or a 422 naming it."""
    text = (value or "").strip()
    if not text:
        raise validation_problem([FieldError(field=field, message=missing)])
    if len(text) > maximum:
        raise validation_problem([FieldError(field=field, message=f"must be at most {maximum} characters")])
    return text


async def open_contest(
    conn: asyncpg.Connection,
    *,
    citizen_id: UUID,
    event_id: UUID,
    key: ec.EllipticCurvePrivateKey,
    message: str | None = None,
) -> Contest:
    """Open a case about one event of the citizen's own log; 404 if it is not theirs, 409 while one is pending."""
    event = await contest_queries.select_event(conn, citizen_id, event_id)
    if event is None:
        raise Problem(404, "There is no such access in your log.", kind="no-such-access")
    text = (
        None
        if message is None or not message.strip()
        else _text(message, field="message", maximum=MESSAGE_MAX, missing="must not be empty")
    )
    pending = await contest_queries.select_pending_contest(conn, citizen_id, event.seq)
    if pending is not None:
        raise ContestAlreadyPending(pending)
    now = await contest_queries.select_now(conn)
    receipt = await issue_receipt(conn, key, citizen_id, now=now)
    try:
        # A savepoint: if another request opened a case between our check and this insert, the unique index
        # refuses it and the request's transaction stays usable to answer with that case.
        async with conn.transaction():
            return await contest_queries.insert_contest(
                conn, event, receipt=receipt, message=text, opened_at=now, due_at=answer_due(now)
            )
    except asyncpg.UniqueViolationError:
        pending = await contest_queries.select_pending_contest(conn, citizen_id, event.seq)
        if pending is None:
            raise
        raise ContestAlreadyPending(pending) from None


async def own_contest(conn: asyncpg.Connection, citizen_id: UUID, contest_id: UUID) -> Contest:
    """The citizen's own case, or 404 (another person's case is not found, not forbidden)."""
    contest = await contest_queries.select_own_contest(conn, citizen_id, contest_id)
    if contest is None:
        raise Problem(404, "There is no such case.", kind="no-such-contest")
    return contest


async def add_message(conn: asyncpg.Connection, *, citizen_id: UUID, contest_id: UUID, message: str) -> Contest:
    """Add the citizen's optional message to their case while it is open and has none yet."""
    contest = await own_contest(conn, citizen_id, contest_id)
    text = _text(message, field="message", maximum=MESSAGE_MAX, missing="must not be empty")
    updated = await contest_queries.update_message(conn, contest, text)
    if updated is None:
        raise Problem(409, "A message can be added once, while the case is open.", kind="contest-message-closed")
    return updated


async def _reviewable(conn: asyncpg.Connection, contest_id: UUID, reviewer: StaffMember) -> Contest:
    contest = await contest_queries.select_contest_for_update(conn, contest_id)
    # A case the reviewer does not handle (another organisation's) does not exist for them.
    if contest is None or not handles(reviewer, contest.accessor_org_id):
        raise Problem(404, "There is no such case.", kind="no-such-contest")
    if contest.citizen_id == reviewer.person_id:
        raise Problem(403, "A reviewer cannot handle a case about their own data.", kind="contest-own-data")
    return contest


async def _move(
    conn: asyncpg.Connection, contest: Contest, entered: ContestStatus, *, reviewer_id: UUID, body: str | None
) -> Contest:
    if entered not in NEXT_STATUSES[contest.status]:
        raise Problem(
            409,
            f"This case is {contest.status}; it cannot become {entered} (a case only moves forward).",
            kind="contest-transition",
        )
    moved = await contest_queries.update_status(conn, contest, entered=entered, actor_person_id=reviewer_id, body=body)
    if moved is None:  # cannot happen while the row is locked; kept so a race could never pass silently
        raise Problem(409, "This case changed meanwhile; reload it.", kind="contest-changed")
    return moved


async def answer_contest(conn: asyncpg.Connection, *, contest_id: UUID, reviewer: StaffMember, answer: str) -> Contest:
    """The reviewer's answer to the citizen (required text); stops the one-month clock."""
    contest = await _reviewable(conn, contest_id, reviewer)
    text = _text(answer, field="answer", maximum=ANSWER_MAX, missing="Write the answer to the citizen")
    return await _move(conn, contest, "answered", reviewer_id=reviewer.person_id, body=text)


async def escalate_contest(
    conn: asyncpg.Connection, *, contest_id: UUID, reviewer: StaffMember, reason: str
) -> Contest:
    """Escalate an open case (to the institution's data-protection officer), with the reason why."""
    contest = await _reviewable(conn, contest_id, reviewer)
    text = _text(reason, field="reason", maximum=REASON_MAX, missing="Write why the case is escalated")
    return await _move(conn, contest, "escalated", reviewer_id=reviewer.person_id, body=text)


async def close_contest(conn: asyncpg.Connection, *, contest_id: UUID, reviewer: StaffMember) -> Contest:
    """Close an answered case."""
    contest = await _reviewable(conn, contest_id, reviewer)
    return await _move(conn, contest, "closed", reviewer_id=reviewer.person_id, body=None)


async def resolve_actor(conn: asyncpg.Connection, event: AccessEvent) -> UUID | None:
    """The person behind an event's pseudonymous reference: an agent, a member of staff, or a helper."""
    if event.actor_ref is None:
        return None
    if event.actor_kind == "agent" and event.actor_org_id is not None:
        return await contest_queries.select_member_by_pseudonym(conn, event.actor_org_id, event.actor_ref)
    if event.actor_kind == "staff":
        return await contest_queries.select_staff_by_pseudonym(conn, event.actor_ref)
    if event.actor_kind == "helper":
        try:
            return UUID(event.actor_ref)  # a private helper is logged by their person id
        except ValueError:
            return None
    return None


async def reveal_actor(conn: asyncpg.Connection, *, contest_id: UUID, reviewer: StaffMember) -> Person:
    """Reveal who made the contested access, and log that reveal in the revealed person's own access log."""
    contest = await _reviewable(conn, contest_id, reviewer)
    if contest.status == "closed":
        raise Problem(409, "This case is closed; nothing can be revealed any more.", kind="contest-closed")
    event = await contest_queries.select_event(conn, contest.citizen_id, contest.event_id)
    person_id = None if event is None else await resolve_actor(conn, event)
    person = None if person_id is None else await identity_queries.select_person(conn, person_id)
    if person is None:
        raise Problem(409, "No person stands behind this access's reference.", kind="contest-nobody-to-reveal")
    await record_and_flag(
        conn,
        citizen_id=person.person_id,
        accessor=Accessor(kind="staff", org_id=reviewer.org_id, ref=reviewer.pseudonym, role="reviewer"),
        action="read",
        channel="web",
        categories=["identity"],
        case_ref=str(contest.contest_id),
    )
    await contest_queries.insert_reveal(
        conn, contest, reviewer_id=reviewer.person_id, revealed_person_id=person.person_id
    )
    return person


__all__ = [
    "NEXT_STATUSES",
    "ContestAlreadyPending",
    "add_message",
    "answer_contest",
    "answer_due",
    "close_contest",
    "escalate_contest",
    "is_overdue",
    "open_contest",
    "own_contest",
    "resolve_actor",
    "reveal_actor",
]
