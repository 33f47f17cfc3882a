"""SQL for contested accesses: one typed function per statement, the connection first.

A case and its history change together in one statement (a data-modifying CTE): the database checks the
foreign keys between them at the end of that statement, so neither can be written without the other. A new
history step takes the next number of its case, which is safe because the case row is locked or just created.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from backend.access_log.contest_schemas import CONTEST_COLUMNS, Contest, ContestStatus, ContestStep
from backend.access_log.event_rows import ORGANISATION_FIELDS
from backend.access_log.schemas import AccessEvent
from backend.core.identity.schemas import Organisation


def _contest(row: asyncpg.Record | None) -> Contest | None:
    return None if row is None else msgspec.convert({name: row[name] for name in CONTEST_COLUMNS}, Contest)


def _contests(rows: list[asyncpg.Record]) -> list[Contest]:
    return [msgspec.convert({name: row[name] for name in CONTEST_COLUMNS}, Contest) for row in rows]


async def select_now(conn: asyncpg.Connection) -> datetime:
    """The transaction's time, the same `now()` every row of this transaction is stamped with."""
    value: datetime = await conn.fetchval("SELECT now()")
    return value


async def select_event(conn: asyncpg.Connection, citizen_id: UUID, event_id: UUID) -> AccessEvent | None:
    """One event of a citizen's log by its id (None if it is not in this citizen's log)."""
    row = await conn.fetchrow(
        """
        SELECT citizen_id, seq, event_id, occurred_at, logged_at, actor_kind, actor_org_id, actor_client_id,
               actor_system, actor_role, actor_ref, mandate_id, purpose_code, legal_basis_ref, categories,
               record_refs, case_ref, channel, action, outcome, reason, source, source_event_id, prev_hash, hash
        FROM access_events WHERE citizen_id = $1 AND event_id = $2
        """,
        citizen_id,
        event_id,
    )
    return None if row is None else msgspec.convert(dict(row), AccessEvent)


async def insert_contest(
    conn: asyncpg.Connection,
    event: AccessEvent,
    *,
    receipt: str,
    message: str | None,
    opened_at: datetime,
    due_at: datetime,
) -> Contest:
    """Open a case about an event and write its first step ("opened" by the citizen) in one statement."""
    row = await conn.fetchrow(
        """
        WITH opened AS (
            INSERT INTO access_contests (
                citizen_id, seq, event_id, event_hash, receipt, accessor_org_id, status, message, opened_at, due_at,
                updated_at
            ) VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9, $8)
            RETURNING citizen_id, contest_id, seq, event_id, event_hash, receipt, accessor_org_id, status, message,
                      opened_at, due_at, escalation_reason, answer, answered_at, closed_at, updated_at
        ), step AS (
            INSERT INTO access_contest_events (
                citizen_id, contest_id, step, kind, status_entered, actor_person_id, body, at
            )
            SELECT citizen_id, contest_id, 1, 'opened', 'open', citizen_id, message, opened_at FROM opened
        )
        SELECT * FROM opened
        """,
        event.citizen_id,
        event.seq,
        event.event_id,
        event.hash,
        receipt,
        event.actor_org_id,
        message,
        opened_at,
        due_at,
    )
    contest = _contest(row)
    assert contest is not None
    return contest


async def select_contest(conn: asyncpg.Connection, contest_id: UUID) -> Contest | None:
    """A case by id, whoever's it is (reviewers)."""
    row = await conn.fetchrow(
        """
        SELECT citizen_id, contest_id, seq, event_id, event_hash, receipt, accessor_org_id, status, message,
               opened_at, due_at, escalation_reason, answer, answered_at, closed_at, updated_at
        FROM access_contests WHERE contest_id = $1
        """,
        contest_id,
    )
    return _contest(row)


async def select_contest_for_update(conn: asyncpg.Connection, contest_id: UUID) -> Contest | None:
    """A case by id, locked until the end of the transaction so that its steps are taken one at a time."""
    row = await conn.fetchrow(
        """
        SELECT citizen_id, contest_id, seq, event_id, event_hash, receipt, accessor_org_id, status, message,
               opened_at, due_at, escalation_reason, answer, answered_at, closed_at, updated_at
        FROM access_contests WHERE contest_id = $1
        FOR UPDATE
        """,
        contest_id,
    )
    return _contest(row)


async def select_own_contest(conn: asyncpg.Connection, citizen_id: UUID, contest_id: UUID) -> Contest | None:
    """A case by id, only if it is this citizen's."""
    row = await conn.fetchrow(
        """
        SELECT citizen_id, contest_id, seq, event_id, event_hash, receipt, accessor_org_id, status, message,
               opened_at, due_at, escalation_reason, answer, answered_at, closed_at, updated_at
        FROM access_contests WHERE citizen_id = $1 AND contest_id = $2
        """,
        citizen_id,
        contest_id,
    )
    return _contest(row)


async def select_pending_contest(conn: asyncpg.Connection, citizen_id: UUID, seq: int) -> Contest | None:
    """The case still waiting for an answer about the citizen's event at seq, if any."""
    row = await conn.fetchrow(
        """
        SELECT citizen_id, contest_id, seq, event_id, event_hash, receipt, accessor_org_id, status, message,
               opened_at, due_at, escalation_reason, answer, answered_at, closed_at, updated_at
        FROM access_contests WHERE citizen_id = $1 AND seq = $2 AND status IN ('open', 'escalated')
        """,
        citizen_id,
        seq,
    )
    return _contest(row)


async def select_own_contests(conn: asyncpg.Connection, citizen_id: UUID, *, limit: int) -> list[Contest]:
    """The citizen's cases, newest first."""
    rows = await conn.fetch(
        """
        SELECT citizen_id, contest_id, seq, event_id, event_hash, receipt, accessor_org_id, status, message,
               opened_at, due_at, escalation_reason, answer, answered_at, closed_at, updated_at
        FROM access_contests WHERE citizen_id = $1
        ORDER BY opened_at DESC, contest_id
        LIMIT $2
        """,
        citizen_id,
        limit,
    )
    return _contests(rows)


async def update_status(
    conn: asyncpg.Connection,
    contest: Contest,
    *,
    entered: ContestStatus,
    actor_person_id: UUID,
    body: str | None,
) -> Contest | None:
    """Move a case from its current status to `entered` and write the step; None if its status has changed."""
    row = await conn.fetchrow(
        """
        WITH moved AS (
            UPDATE access_contests SET
                status = $4,
                escalation_reason = CASE WHEN $4 = 'escalated' THEN $6 ELSE escalation_reason END,
                answer = CASE WHEN $4 = 'answered' THEN $6 ELSE answer END,
                answered_at = CASE WHEN $4 = 'answered' THEN now() ELSE answered_at END,
                closed_at = CASE WHEN $4 = 'closed' THEN now() ELSE closed_at END,
                updated_at = now()
            WHERE citizen_id = $1 AND contest_id = $2 AND status = $3
            RETURNING citizen_id, contest_id, seq, event_id, event_hash, receipt, accessor_org_id, status, message,
                      opened_at, due_at, escalation_reason, answer, answered_at, closed_at, updated_at
        ), step AS (
            INSERT INTO access_contest_events (
                citizen_id, contest_id, step, kind, status_left, status_entered, actor_person_id, body
            )
            SELECT citizen_id, contest_id,
                   (SELECT coalesce(max(h.step), 0) + 1 FROM access_contest_events AS h
                    WHERE h.citizen_id = $1 AND h.contest_id = $2),
                   $4, $3, $4, $5, $6
            FROM moved
        )
        SELECT * FROM moved
        """,
        contest.citizen_id,
        contest.contest_id,
        contest.status,
        entered,
        actor_person_id,
        body,
    )
    return _contest(row)


async def update_message(conn: asyncpg.Connection, contest: Contest, message: str) -> Contest | None:
    """Add the citizen's message to an open case that has none yet, with its step; None otherwise."""
    row = await conn.fetchrow(
        """
        WITH added AS (
            UPDATE access_contests SET message = $3, updated_at = now()
            WHERE citizen_id = $1 AND contest_id = $2 AND status = 'open' AND message IS NULL
            RETURNING citizen_id, contest_id, seq, event_id, event_hash, receipt, accessor_org_id, status, message,
                      opened_at, due_at, escalation_reason, answer, answered_at, closed_at, updated_at
        ), step AS (
            INSERT INTO access_contest_events (citizen_id, contest_id, step, kind, actor_person_id, body)
            SELECT citizen_id, contest_id,
                   (SELECT coalesce(max(h.step), 0) + 1 FROM access_contest_events AS h
                    WHERE h.citizen_id = $1 AND h.contest_id = $2),
                   'message', citizen_id, $3
            FROM added
        )
        SELECT * FROM added
        """,
        contest.citizen_id,
        contest.contest_id,
        message,
    )
    return _contest(row)


async def insert_reveal(
    conn: asyncpg.Connection, contest: Contest, *, reviewer_id: UUID, revealed_person_id: UUID
) -> None:
    """Write in the case's history that a reviewer revealed who is behind the event's pseudonymous reference."""
    await conn.execute(
        """
        INSERT INTO access_contest_events (citizen_id, contest_id, step, kind, actor_person_id, revealed_person_id)
        SELECT $1, $2, coalesce(max(step), 0) + 1, 'revealed', $3, $4
        FROM access_contest_events WHERE citizen_id = $1 AND contest_id = $2
        """,
        contest.citizen_id,
        contest.contest_id,
        reviewer_id,
        revealed_person_id,
    )


async def select_history(conn: asyncpg.Connection, citizen_id: UUID, contest_id: UUID) -> list[ContestStep]:
    """A case's history, oldest step first."""
    rows = await conn.fetch(
        """
        SELECT step, kind, status_left, status_entered, actor_person_id, body, revealed_person_id, at
        FROM access_contest_events WHERE citizen_id = $1 AND contest_id = $2
        ORDER BY step
        """,
        citizen_id,
        contest_id,
    )
    return [msgspec.convert(dict(row), ContestStep) for row in rows]


async def select_queue(
    conn: asyncpg.Connection,
    *,
    statuses: Sequence[ContestStatus],
    limit: int,
    offset: int = 0,
    accessor_org_id: UUID | None = None,
) -> list[tuple[Contest, Organisation | None]]:
    """Cases in the given statuses with the organisation that accessed: overdue first, then by deadline, `limit`
    of them after the first `offset`; only the cases about one organisation's accesses when `accessor_org_id` is
    given (backend.access_log.review_scope)."""
    rows = await conn.fetch(
        """
        SELECT c.citizen_id, c.contest_id, c.seq, c.event_id, c.event_hash, c.receipt, c.accessor_org_id, c.status,
               c.message, c.opened_at, c.due_at, c.escalation_reason, c.answer, c.answered_at, c.closed_at,
               c.updated_at, o.org_id, o.kbo, o.kind, o.code, o.name_nl, o.name_fr, o.name_de
        FROM access_contests AS c
        LEFT JOIN organisations AS o ON o.org_id = c.accessor_org_id
        WHERE c.status = ANY ($1::text[]) AND ($3::uuid IS NULL OR c.accessor_org_id = $3)
        ORDER BY (c.status IN ('open', 'escalated') AND c.due_at < now()) DESC, c.due_at, c.contest_id
        LIMIT $2 OFFSET $4
        """,
        list(statuses),
        limit,
        accessor_org_id,
        offset,
    )
    queue: list[tuple[Contest, Organisation | None]] = []
    for row in rows:
        organisation = None
        if row["org_id"] is not None:
            organisation = msgspec.convert({name: row[name] for name in ORGANISATION_FIELDS}, Organisation)
        queue.append((msgspec.convert({name: row[name] for name in CONTEST_COLUMNS}, Contest), organisation))
    return queue


class QueueCounts(msgspec.Struct, frozen=True, kw_only=True):
    """How many cases a queue holds, and how many of them are past their deadline."""

    total: int
    overdue: int


async def count_queue(
    conn: asyncpg.Connection, *, statuses: Sequence[ContestStatus], accessor_org_id: UUID | None = None
) -> QueueCounts:
    """The size of the queue `select_queue` pages through, and its late cases (waiting past their deadline)."""
    row = await conn.fetchrow(
        """
        SELECT count(*) AS total,
               count(*) FILTER (WHERE c.status IN ('open', 'escalated') AND c.due_at < now()) AS overdue
        FROM access_contests AS c
        WHERE c.status = ANY ($1::text[]) AND ($2::uuid IS NULL OR c.accessor_org_id = $2)
        """,
        list(statuses),
        accessor_org_id,
    )
    assert row is not None  # an aggregate without GROUP BY always answers one row
    return QueueCounts(total=row["total"], overdue=row["overdue"])


async def select_member_by_pseudonym(conn: asyncpg.Connection, org_id: UUID, pseudonym: str) -> UUID | None:
    """The person behind an organisation member's pseudonym (former members included)."""
    value = await conn.fetchval(
        "SELECT person_id FROM organisation_members WHERE org_id = $1 AND pseudonym = $2 LIMIT 1", org_id, pseudonym
    )
    return None if value is None else UUID(str(value))


async def select_staff_by_pseudonym(conn: asyncpg.Connection, pseudonym: str) -> UUID | None:
    """The member of staff behind a pseudonym (former staff included)."""
    value = await conn.fetchval("SELECT person_id FROM staff_members WHERE pseudonym = $1", pseudonym)
    return None if value is None else UUID(str(value))
