"""The accesses a person made themself: a helper's, an agent's or a staff member's own actions, across citizens.

This is the person's own record of what they did, not an access by anyone to anyone's data, so reading it is
not logged. Each entry names whose data it was.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import asyncpg
import msgspec
from babel.dates import format_date

from backend.access_log import own_action_queries
from backend.access_log.views import LogEntry, babel_locale, describe, speaking
from backend.core.i18n import Language


class OwnAction(msgspec.Struct, frozen=True, kw_only=True):
    """One access this person made: whose data (by name) and the entry as the log describes it."""

    citizen_id: UUID
    citizen_name: str
    entry: LogEntry


class OwnActionDay(msgspec.Struct, frozen=True, kw_only=True):
    """The actions of one Brussels day, with the day written out."""

    label: str
    iso: str
    actions: list[OwnAction]


class OwnActionsPage(msgspec.Struct, frozen=True, kw_only=True):
    """A page of one's own actions, newest first, and the cursor of the older page (occurred_at, event id)."""

    days: list[OwnActionDay]
    count: int
    next_before: tuple[datetime, UUID] | None


async def own_actions_page(
    conn: asyncpg.Connection,
    person_id: UUID,
    *,
    language: Language,
    before: tuple[datetime, UUID] | None,
    limit: int = 50,
) -> OwnActionsPage:
    """One page of the accesses the person made, newest first, grouped by Brussels day."""
    rows = await own_action_queries.select_own_actions(conn, person_id, before=before, limit=limit + 1)
    shown = rows[:limit]
    with speaking(language):
        actions = [
            OwnAction(citizen_id=row.event.citizen_id, citizen_name=f"{given} {family}", entry=describe(row, language))
            for row, given, family in shown
        ]
    # The query's order is by occurrence, so each Brussels day's actions are already together and in order.
    by_day: dict[date, list[OwnAction]] = {}
    for action in actions:
        by_day.setdefault(action.entry.day, []).append(action)
    days = [
        OwnActionDay(
            label=format_date(day, format="full", locale=babel_locale(language)), iso=day.isoformat(), actions=items
        )
        for day, items in by_day.items()
    ]
    last = shown[-1][0].event if shown else None
    return OwnActionsPage(
        days=days,
        count=len(actions),
        next_before=(last.occurred_at, last.event_id) if last is not None and len(rows) > limit else None,
    )


__all__ = ["OwnAction", "OwnActionDay", "OwnActionsPage", "own_actions_page"]
