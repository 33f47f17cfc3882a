"""Contested accesses in words: status, dates in Brussels time, the answer, for the citizen and for reviewers."""

from __future__ import annotations

from datetime import datetime
from typing import Final
from uuid import UUID

import msgspec

from backend.access_log.contest_schemas import Contest, ContestOut, ContestStatus
from backend.access_log.contests import is_overdue
from backend.access_log.views import BRUSSELS
from backend.access_log.written_time import brussels_date, brussels_datetime
from backend.core.i18n import N_, Language, gettext
from backend.core.identity.schemas import Organisation

STATUS_LABELS: Final[dict[str, str]] = {
    "open": N_("Waiting for an answer"),
    "escalated": N_("Escalated, waiting for an answer"),
    "answered": N_("Answered"),
    "closed": N_("Closed"),
}


class ContestView(msgspec.Struct, frozen=True, kw_only=True):
    """A case in the reader's language; dates are Brussels time, written out."""

    contest_id: UUID
    seq: int
    event_id: UUID
    status: ContestStatus
    status_label: str
    pending: bool
    overdue: bool
    opened_at: datetime
    opened_on: str
    due_at: datetime
    due: str
    institution: str | None
    message: str | None
    escalation_reason: str | None
    answer: str | None
    answered_on: str | None


def describe_contest(
    contest: Contest, *, now: datetime, language: Language, organisation: Organisation | None = None
) -> ContestView:
    """A case in words; call it inside `views.speaking(language)` when the request speaks another language."""
    return ContestView(
        contest_id=contest.contest_id,
        seq=contest.seq,
        event_id=contest.event_id,
        status=contest.status,
        status_label=gettext(STATUS_LABELS[contest.status]),
        pending=contest.pending,
        overdue=is_overdue(contest, now),
        opened_at=contest.opened_at.astimezone(BRUSSELS),
        opened_on=brussels_date(contest.opened_at, language),
        due_at=contest.due_at.astimezone(BRUSSELS),
        due=brussels_datetime(contest.due_at, language),
        institution=None if organisation is None else organisation.name(language),
        message=contest.message,
        escalation_reason=contest.escalation_reason,
        answer=contest.answer,
        answered_on=None if contest.answered_at is None else brussels_date(contest.answered_at, language),
    )


def contest_out(contest: Contest, *, now: datetime) -> ContestOut:
    """A case as the citizen's API answers it."""
    return ContestOut(
        contest_id=contest.contest_id,
        event_id=contest.event_id,
        seq=contest.seq,
        event_hash=contest.event_hash.hex(),
        status=contest.status,
        message=contest.message,
        opened_at=contest.opened_at,
        due_at=contest.due_at,
        overdue=is_overdue(contest, now),
        answer=contest.answer,
        answered_at=contest.answered_at,
        escalation_reason=contest.escalation_reason,
        closed_at=contest.closed_at,
        receipt=contest.receipt,
    )


__all__ = [
    "STATUS_LABELS",
    "ContestView",
    "contest_out",
    "describe_contest",
]
