"""The citizen's opt-in access alerts: the preference, and the alerts still waiting to be delivered.

`anomalies.flag_event` writes an `access_alerts` row for each alerted flag while the preference is on. That row
is the durable record the notifications pipeline will deliver (and mark delivered); until it does, the access
log page shows the pending alerts as a notice.
"""

from __future__ import annotations

from typing import Final
from uuid import UUID

import asyncpg
import msgspec

from backend.access_log import anomaly_queries
from backend.access_log.anomalies import flag_label
from backend.access_log.views import LogEntry, describe, speaking
from backend.core.i18n import Language

PENDING_SHOWN: Final = 10


class PendingAlert(msgspec.Struct, frozen=True, kw_only=True):
    """An alert owed to the citizen: which access and why it stood out, in their language."""

    seq: int
    flag: str
    flag_label: str
    entry: LogEntry


async def alerts_enabled(conn: asyncpg.Connection, citizen_id: UUID) -> bool:
    """Whether the citizen asked to be told about unusual accesses."""
    return await anomaly_queries.select_alerts_enabled(conn, citizen_id)


async def set_alerts_enabled(conn: asyncpg.Connection, citizen_id: UUID, enabled: bool) -> None:
    """Turn the citizen's access alerts on or off (from the next flagged access on)."""
    await anomaly_queries.upsert_alerts_enabled(conn, citizen_id, enabled)


async def pending_alerts(
    conn: asyncpg.Connection, citizen_id: UUID, *, language: Language, limit: int = PENDING_SHOWN
) -> list[PendingAlert]:
    """The citizen's undelivered alerts, newest first, in plain language."""
    rows = await anomaly_queries.select_pending_alerts(conn, citizen_id, limit=limit)
    with speaking(language):
        return [
            PendingAlert(seq=row.event.seq, flag=flag, flag_label=flag_label(flag), entry=describe(row, language))
            for row, flag in rows
        ]


__all__ = ["PENDING_SHOWN", "PendingAlert", "alerts_enabled", "pending_alerts", "set_alerts_enabled"]
