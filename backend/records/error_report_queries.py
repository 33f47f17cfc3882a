"""SQL for error reports on records: one typed function per statement, the connection first.

A report and its history change together in one statement (a data-modifying CTE), so that the database checks
the foreign keys between them at the end of that statement: neither can be written without the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final
from uuid import UUID

import asyncpg
import msgspec

from backend.records.error_report_schemas import REPORT_COLUMNS, ErrorReport, QueuedReport, ReportStep

_COLUMNS: Final = """
    citizen_id, report_id, record_id, category, source_institution, message, status, answer, created_at, answered_at
"""


def _report(row: asyncpg.Record | None) -> ErrorReport | None:
    return None if row is None else msgspec.convert({name: row[name] for name in REPORT_COLUMNS}, ErrorReport)


def _reports(rows: list[asyncpg.Record]) -> list[ErrorReport]:
    return [msgspec.convert({name: row[name] for name in REPORT_COLUMNS}, ErrorReport) for row in rows]


async def select_now(conn: asyncpg.Connection) -> datetime:
    """The transaction's time, which every row of this transaction is stamped with."""
    value: datetime = await conn.fetchval("SELECT now()")
    return value


async def insert_report(
    conn: asyncpg.Connection,
    *,
    citizen_id: UUID,
    record_id: UUID,
    category: str,
    source_institution: UUID,
    message: str,
    filed_by: UUID | None = None,
) -> ErrorReport:
    """Open a report and write its first step in one statement: "opened", with the message, by the citizen or by
    the helper who filed it for them (`filed_by`)."""
    row = await conn.fetchrow(
        """
        WITH opened AS (
            INSERT INTO record_error_reports (citizen_id, record_id, category, source_institution, message, status)
            VALUES ($1, $2, $3, $4, $5, 'open')
            RETURNING citizen_id, report_id, record_id, category, source_institution, message, status, answer,
                      created_at, answered_at
        ), step AS (
            INSERT INTO record_error_report_events (
                citizen_id, report_id, step, kind, status_entered, actor_person_id, body, at
            )
            SELECT citizen_id, report_id, 1, 'opened', 'open', COALESCE($6::uuid, citizen_id), message, created_at
            FROM opened
        )
        SELECT * FROM opened
        """,
        citizen_id,
        record_id,
        category,
        source_institution,
        message,
        filed_by,
    )
    report = _report(row)
    assert report is not None
    return report


async def select_own_report(conn: asyncpg.Connection, citizen_id: UUID, report_id: UUID) -> ErrorReport | None:
    """A report by id, only if it is this citizen's."""
    row = await conn.fetchrow(
        "SELECT" + _COLUMNS + "FROM record_error_reports WHERE citizen_id = $1 AND report_id = $2",
        citizen_id,
        report_id,
    )
    return _report(row)


async def select_record_category(conn: asyncpg.Connection, citizen_id: UUID, record_id: UUID) -> str | None:
    """The category of one of the citizen's records (None when it is not theirs)."""
    value: str | None = await conn.fetchval(
        "SELECT category FROM records WHERE citizen_id = $1 AND record_id = $2", citizen_id, record_id
    )
    return value


async def lock_report(conn: asyncpg.Connection, citizen_id: UUID, report_id: UUID) -> ErrorReport | None:
    """A report, locked until the end of the transaction so that its steps are taken one at a time."""
    row = await conn.fetchrow(
        "SELECT" + _COLUMNS + "FROM record_error_reports WHERE citizen_id = $1 AND report_id = $2 FOR UPDATE",
        citizen_id,
        report_id,
    )
    return _report(row)


async def select_open_report(conn: asyncpg.Connection, citizen_id: UUID, record_id: UUID) -> ErrorReport | None:
    """The report on a record that is still waiting for an answer, if any."""
    row = await conn.fetchrow(
        "SELECT" + _COLUMNS + "FROM record_error_reports WHERE citizen_id = $1 AND record_id = $2 AND status = 'open'",
        citizen_id,
        record_id,
    )
    return _report(row)


async def select_own_reports(conn: asyncpg.Connection, citizen_id: UUID, *, limit: int) -> list[ErrorReport]:
    """A citizen's reports, newest first."""
    rows = await conn.fetch(
        "SELECT"
        + _COLUMNS
        + "FROM record_error_reports WHERE citizen_id = $1 ORDER BY created_at DESC, report_id LIMIT $2",
        citizen_id,
        limit,
    )
    return _reports(rows)


async def select_latest_reports(
    conn: asyncpg.Connection, citizen_id: UUID, record_ids: Sequence[UUID]
) -> list[ErrorReport]:
    """The most recent report on each of these records of the citizen that has one."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT ON (record_id)
               citizen_id, report_id, record_id, category, source_institution, message, status, answer,
               created_at, answered_at
        FROM record_error_reports
        WHERE citizen_id = $1 AND record_id = ANY($2::uuid[])
        ORDER BY record_id, created_at DESC, report_id
        """,
        citizen_id,
        list(record_ids),
    )
    return _reports(rows)


async def answer_report(
    conn: asyncpg.Connection, report: ErrorReport, *, org_id: UUID, answer: str, step: int
) -> ErrorReport:
    """Record the institution's answer on a locked open report, with its history step, in one statement."""
    row = await conn.fetchrow(
        """
        WITH step AS (
            INSERT INTO record_error_report_events (
                citizen_id, report_id, step, kind, status_left, status_entered, actor_org_id, body
            ) VALUES ($1, $2, $3, 'answered', 'open', 'answered', $4, $5)
            RETURNING at
        )
        UPDATE record_error_reports
        SET status = 'answered', answer = $5, answered_at = (SELECT at FROM step)
        WHERE citizen_id = $1 AND report_id = $2 AND status = 'open'
        RETURNING citizen_id, report_id, record_id, category, source_institution, message, status, answer,
                  created_at, answered_at
        """,
        report.citizen_id,
        report.report_id,
        step,
        org_id,
        answer,
    )
    updated = _report(row)
    assert updated is not None
    return updated


async def close_report(conn: asyncpg.Connection, report: ErrorReport, *, org_id: UUID, step: int) -> ErrorReport:
    """Close a locked, answered report, with its history step, in one statement."""
    row = await conn.fetchrow(
        """
        WITH step AS (
            INSERT INTO record_error_report_events (
                citizen_id, report_id, step, kind, status_left, status_entered, actor_org_id
            ) VALUES ($1, $2, $3, 'closed', 'answered', 'closed', $4)
        )
        UPDATE record_error_reports SET status = 'closed'
        WHERE citizen_id = $1 AND report_id = $2 AND status = 'answered'
        RETURNING citizen_id, report_id, record_id, category, source_institution, message, status, answer,
                  created_at, answered_at
        """,
        report.citizen_id,
        report.report_id,
        step,
        org_id,
    )
    updated = _report(row)
    assert updated is not None
    return updated


async def select_report_steps(conn: asyncpg.Connection, citizen_id: UUID, report_id: UUID) -> list[ReportStep]:
    """A report's history, in order."""
    rows = await conn.fetch(
        """
        SELECT step, kind, status_left, status_entered, actor_person_id, actor_org_id, body, at
        FROM record_error_report_events WHERE citizen_id = $1 AND report_id = $2 ORDER BY step
        """,
        citizen_id,
        report_id,
    )
    return [msgspec.convert(dict(row), ReportStep) for row in rows]


async def select_next_step(conn: asyncpg.Connection, citizen_id: UUID, report_id: UUID) -> int:
    """The number the next history step of a (locked) report takes."""
    value: int = await conn.fetchval(
        "SELECT COALESCE(max(step), 0) + 1 FROM record_error_report_events WHERE citizen_id = $1 AND report_id = $2",
        citizen_id,
        report_id,
    )
    return value


async def select_open_queue(conn: asyncpg.Connection, org_id: UUID, *, limit: int) -> list[tuple[UUID, QueuedReport]]:
    """An institution's open reports, oldest first (the queue index), each with the person it is about (their id
    and current national number) and the source and id of the declaration it is about."""
    rows = await conn.fetch(
        """
        SELECT q.citizen_id, q.report_id, i.insz AS subject, q.record_id, q.category, r.source, r.source_event_id,
               q.message, q.created_at
        FROM record_error_reports AS q
        JOIN records AS r ON r.citizen_id = q.citizen_id AND r.record_id = q.record_id
        JOIN person_identifiers AS i ON i.person_id = q.citizen_id AND i.valid_to IS NULL
        WHERE q.source_institution = $1 AND q.status = 'open'
        ORDER BY q.created_at, q.report_id
        LIMIT $2
        """,
        org_id,
        limit,
    )
    return [
        (
            row["citizen_id"],
            QueuedReport(
                report_id=row["report_id"],
                subject=row["subject"],
                record_id=row["record_id"],
                category=row["category"],
                source=row["source"],
                source_event_id=row["source_event_id"],
                message=row["message"],
                created_at=row["created_at"],
            ),
        )
        for row in rows
    ]
