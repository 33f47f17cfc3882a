"""Notices owed by other areas, turned into outbox rows: mandates ending soon, access alerts, contest answers.

Each source is claimed once in the transaction that writes the outbox rows (reminder rows, `delivered_at`, or
the outbox's own deduplication key), so a crash between the two leaves both undone and the next run redoes it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final

import asyncpg

from backend.core.db import ConnectionSource, transaction
from consent.sweeps import due_expiry_reminders
from notifications import notice_queries
from notifications.outbox import enqueue_notification

BATCH: Final = 500
# Answers older than this when notifications started are not announced any more.
ANSWER_WINDOW: Final = timedelta(days=30)


async def collect_mandate_reminders(conn: asyncpg.Connection, *, now: datetime | None = None) -> int:
    """Mandates ending within the reminder window: one notice to the citizen, one to each person on the other
    side (the helper, or the organisation's access managers); how many outbox rows were written."""
    written = 0
    for reminder in await due_expiry_reminders(conn, now=now):
        base: dict[str, Any] = {"mandate_id": str(reminder.mandate_id), "ends_at": reminder.ends_at.isoformat()}
        key = f"mandate-expiry:{reminder.mandate_id}"
        recipients = [(reminder.citizen_id, "citizen")]
        if reminder.mandatary_person_id is not None:
            recipients.append((reminder.mandatary_person_id, "mandatary"))
        elif reminder.mandatary_org_id is not None:
            managers = await notice_queries.select_access_managers(conn, reminder.mandatary_org_id)
            recipients += [(manager, "mandatary") for manager in managers]
        for person_id, side in recipients:
            outbox_id = await enqueue_notification(
                conn, citizen_id=person_id, kind="mandate_expiring", dedup_key=key, payload={**base, "side": side}
            )
            written += outbox_id is not None
    return written


async def collect_access_alerts(conn: asyncpg.Connection, *, limit: int = BATCH) -> int:
    """Hand undelivered access alerts over to the outbox and mark them delivered; how many alerts."""
    alerts = await notice_queries.claim_pending_alerts(conn, limit=limit)
    for alert in alerts:
        await enqueue_notification(
            conn,
            citizen_id=alert.citizen_id,
            kind="access_alert",
            dedup_key=f"access-alert:{alert.seq}:{alert.flag}",
            payload={"seq": alert.seq, "flag": alert.flag, "occurred_at": alert.occurred_at.isoformat()},
        )
    if alerts:
        await notice_queries.update_alerts_delivered(conn, alerts)
    return len(alerts)


async def _collect_answers(
    conn: asyncpg.Connection, kind: str, payload_key: str, *, now: datetime | None, limit: int
) -> int:
    since = (now or datetime.now(UTC)) - ANSWER_WINDOW
    written = 0
    for answer in await notice_queries.select_unannounced_answers(conn, kind, answered_since=since, limit=limit):
        outbox_id = await enqueue_notification(
            conn,
            citizen_id=answer.citizen_id,
            kind=kind,
            dedup_key=notice_queries.answer_dedup_key(kind, answer.case_id),
            payload={payload_key: str(answer.case_id)},
        )
        written += outbox_id is not None
    return written


async def collect_contest_answers(conn: asyncpg.Connection, *, now: datetime | None = None, limit: int = BATCH) -> int:
    """Announce contests answered recently and not announced yet; how many outbox rows were written."""
    return await _collect_answers(conn, "contest_answered", "contest_id", now=now, limit=limit)


async def collect_report_answers(conn: asyncpg.Connection, *, now: datetime | None = None, limit: int = BATCH) -> int:
    """Announce error reports answered recently by their institution and not announced yet; how many outbox rows."""
    return await _collect_answers(conn, "error_report_answered", "report_id", now=now, limit=limit)


async def collect_notices(ctx: dict[str, Any]) -> dict[str, int]:
    """Worker cron: each source in transactions of its own, so one failing does not hold back the others."""
    source: ConnectionSource = ctx["connection_source"]
    counts = {"mandate_reminders": 0, "access_alerts": 0, "contest_answers": 0, "report_answers": 0}
    async with transaction(source) as conn:
        counts["mandate_reminders"] = await collect_mandate_reminders(conn)
    while True:
        async with transaction(source) as conn:
            handed = await collect_access_alerts(conn)
        counts["access_alerts"] += handed
        if handed < BATCH:
            break
    async with transaction(source) as conn:
        counts["contest_answers"] = await collect_contest_answers(conn)
    async with transaction(source) as conn:
        counts["report_answers"] = await collect_report_answers(conn)
    return counts
