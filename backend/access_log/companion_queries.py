"""SQL for what the citizen's access-log page shows beside its entries, read in one statement.

Beside the fifty entries (view_queries.select_log_rows), the page needs the organisations of the whole log (its
institution filter), the case of each contested entry, the alerts opt-in and the alerts still owed. Four small
reads were four round trips, each with its own parse, plan and wake-up, about as much as the entries' own
statement; here each is a sub-select of one row, the lists as arrays of anonymous records (asyncpg reads those
as tuples, in the order the sub-select lists the columns).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final
from uuid import UUID

import asyncpg
import msgspec

from backend.access_log.contest_schemas import CONTEST_COLUMNS, Contest
from backend.access_log.event_rows import ORGANISATION_FIELDS, log_row
from backend.access_log.schemas import EVENT_COLUMNS
from backend.access_log.view_queries import LogRow
from backend.core.identity.schemas import Organisation

# An alert's record: its flag, the event's columns, then the organisation's (the names event_rows.log_row reads).
_ALERT_NAMES: Final = ("flag", *EVENT_COLUMNS, *(f"o_{name}" for name in ORGANISATION_FIELDS))


_SELECT_COMPANIONS: Final = f"""
    SELECT now(),
           ARRAY(
               SELECT row(o.org_id, o.kbo, o.kind, o.code, o.name_nl, o.name_fr, o.name_de)
               FROM access_log_heads AS h
               JOIN organisations AS o ON o.org_id = ANY (h.org_ids)
               WHERE h.citizen_id = $1
           ),
           ARRAY(
               SELECT row({", ".join(f"c.{name}" for name in CONTEST_COLUMNS)})
               FROM (
                   SELECT DISTINCT ON (seq) * FROM access_contests
                   WHERE citizen_id = $1 AND seq = ANY ($2::bigint[])
                   ORDER BY seq, opened_at DESC, contest_id
               ) AS c
           ),
           coalesce((SELECT enabled FROM access_alert_preferences WHERE citizen_id = $1), false),
           ARRAY(
               SELECT row(a.flag, {", ".join(f"e.{name}" for name in EVENT_COLUMNS)},
                          {", ".join(f"o.{name}" for name in ORGANISATION_FIELDS)})
               FROM access_alerts AS a
               JOIN access_event_flags AS f USING (citizen_id, seq, flag)
               JOIN access_events AS e
                   ON e.citizen_id = f.citizen_id AND e.seq = f.seq AND e.logged_at = f.logged_at
               LEFT JOIN organisations AS o ON o.org_id = e.actor_org_id
               WHERE a.citizen_id = $1 AND a.delivered_at IS NULL
               ORDER BY a.created_at DESC, a.seq DESC, a.flag
               LIMIT $3
           )
"""  # noqa: S608 (the interpolated names are this module's constants, never input)


class LogCompanionRows(msgspec.Struct, frozen=True, kw_only=True):
    """What the statement read: the transaction's time (for the cases' deadlines) and the four lists."""

    now: datetime
    organisations: list[Organisation]
    contests: list[Contest]
    alerts_enabled: bool
    pending_alerts: list[tuple[LogRow, str]]


def _organisation(values: tuple[object, ...]) -> Organisation:
    return msgspec.convert(dict(zip(ORGANISATION_FIELDS, values, strict=True)), Organisation)


def _contest(values: tuple[object, ...]) -> Contest:
    return msgspec.convert(dict(zip(CONTEST_COLUMNS, values, strict=True)), Contest)


def _alert(values: tuple[object, ...]) -> tuple[LogRow, str]:
    named = dict(zip(_ALERT_NAMES, values, strict=True))
    return log_row(named), str(named["flag"])


async def select_log_companions(
    conn: asyncpg.Connection, citizen_id: UUID, seqs: Sequence[int], *, alerts_limit: int
) -> LogCompanionRows:
    """The organisations in the citizen's log (in no particular order), the latest case of each event at seqs
    that was contested, the alerts opt-in and the newest `alerts_limit` alerts not yet delivered."""
    row = await conn.fetchrow(
        _SELECT_COMPANIONS,
        citizen_id,
        list(seqs),
        alerts_limit,
    )
    assert row is not None  # a SELECT without FROM has its one row
    now, organisations, contests, alerts_enabled, alerts = row
    return LogCompanionRows(
        now=now,
        organisations=[_organisation(values) for values in organisations],
        contests=[_contest(values) for values in contests],
        alerts_enabled=bool(alerts_enabled),
        pending_alerts=[_alert(values) for values in alerts],
    )


__all__ = ["LogCompanionRows", "select_log_companions"]
