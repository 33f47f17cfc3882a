"""What the citizen's access-log page shows beside its entries, in the reader's language, from one statement."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg
import msgspec

from backend.access_log import companion_queries
from backend.access_log.alerts import PENDING_SHOWN, PendingAlert
from backend.access_log.anomalies import flag_label
from backend.access_log.contest_views import ContestView, describe_contest
from backend.access_log.views import describe, organisation_choices, speaking
from backend.core.i18n import Language


class LogCompanions(msgspec.Struct, frozen=True, kw_only=True):
    """The organisations of the whole log as (id, name) sorted by name (the institution filter), the case of each
    contested entry by event id, whether alerts are on, and the alerts still owed (newest first)."""

    organisations: list[tuple[UUID, str]]
    contests: dict[UUID, ContestView]
    alerts_enabled: bool
    pending_alerts: list[PendingAlert]


async def log_companions(
    conn: asyncpg.Connection, citizen_id: UUID, seqs: Sequence[int], *, language: Language
) -> LogCompanions:
    """Everything the log page shows besides the entries at seqs, read in one round trip."""
    rows = await companion_queries.select_log_companions(conn, citizen_id, seqs, alerts_limit=PENDING_SHOWN)
    with speaking(language):
        contests = {
            contest.event_id: describe_contest(contest, now=rows.now, language=language) for contest in rows.contests
        }
        alerts = [
            PendingAlert(seq=row.event.seq, flag=flag, flag_label=flag_label(flag), entry=describe(row, language))
            for row, flag in rows.pending_alerts
        ]
    return LogCompanions(
        organisations=organisation_choices(rows.organisations, language),
        contests=contests,
        alerts_enabled=rows.alerts_enabled,
        pending_alerts=alerts,
    )


__all__ = ["LogCompanions", "log_companions"]
