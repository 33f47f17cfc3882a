"""Contested accesses as stored, their history, and what the citizen's API takes and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Final, Literal, get_args
from uuid import UUID

import msgspec

ContestStatus = Literal["open", "escalated", "answered", "closed"]
# The forward order; a case never goes back (see 0004_access_contests.sql for how the database keeps to it).
STATUSES: Final[tuple[ContestStatus, ...]] = get_args(ContestStatus)
# Waiting for an answer: at most one such case per event.
PENDING: Final[frozenset[ContestStatus]] = frozenset({"open", "escalated"})
StepKind = Literal["opened", "escalated", "answered", "closed", "message", "revealed"]

MESSAGE_MAX: Final = 2000
ANSWER_MAX: Final = 4000
REASON_MAX: Final = 2000


class Contest(msgspec.Struct, frozen=True, kw_only=True):
    """A citizen's question about one access, as stored."""

    citizen_id: UUID
    contest_id: UUID
    seq: int
    event_id: UUID
    event_hash: bytes
    receipt: str
    accessor_org_id: UUID | None
    status: ContestStatus
    message: str | None
    opened_at: datetime
    due_at: datetime
    escalation_reason: str | None
    answer: str | None
    answered_at: datetime | None
    closed_at: datetime | None
    updated_at: datetime

    @property
    def pending(self) -> bool:
        """True while an answer is owed."""
        return self.status in PENDING


CONTEST_COLUMNS: Final = tuple(field.name for field in msgspec.structs.fields(Contest))


class ContestStep(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of a case's history."""

    step: int
    kind: StepKind
    status_left: ContestStatus | None
    status_entered: ContestStatus | None
    actor_person_id: UUID
    body: str | None
    revealed_person_id: UUID | None
    at: datetime


class ContestCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a citizen may add when contesting an access: an optional message."""

    message: Annotated[str, msgspec.Meta(min_length=1, max_length=MESSAGE_MAX)] | None = None


class ContestOut(msgspec.Struct, frozen=True, kw_only=True):
    """A contest as the citizen's API shows it; `receipt` is the signed receipt of the log when it was opened."""

    contest_id: UUID
    event_id: UUID
    seq: int
    event_hash: str
    status: ContestStatus
    message: str | None
    opened_at: datetime
    due_at: datetime
    overdue: bool
    answer: str | None
    answered_at: datetime | None
    escalation_reason: str | None
    closed_at: datetime | None
    receipt: str


__all__ = [
    "ANSWER_MAX",
    "CONTEST_COLUMNS",
    "MESSAGE_MAX",
    "PENDING",
    "REASON_MAX",
    "STATUSES",
    "Contest",
    "ContestCreate",
    "ContestOut",
    "ContestStatus",
    "ContestStep",
    "StepKind",
]
