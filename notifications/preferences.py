"""Who gets what where: per kind and channel, with defaults; the inbox is never a choice; quiet hours for push."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from backend.core.i18n import N_, gettext
from notifications import preference_queries
from notifications.schemas import KINDS, SWITCHABLE_CHANNELS, Kind, OptionalChannel, PreferenceOut, QuietHours

BRUSSELS: Final = ZoneInfo("Europe/Brussels")

# Labels for the preferences page (translated where shown).
KIND_LABELS: Final[dict[str, str]] = {
    "flexi_ceiling": N_("Flexi income nearing or passing the tax-free ceiling"),
    "flexi_pension_limit": N_("Flexi income nearing or passing the limit for an early pension"),
    "mandate_expiring": N_("A mandate ending soon"),
    "access_alert": N_("An access to my data that stood out"),
    "contest_answered": N_("An answer to my question about an access"),
    "error_report_answered": N_("An answer to an error I reported in my data"),
    "desk_session_opened": N_("An agent at a help desk opened my file"),
    "desk_mandate_code": N_("A code to confirm a mandate prepared at a help desk"),
}


def kind_label(kind: str) -> str:
    """A kind of message in words, in the current language (the code itself for a kind without a label)."""
    return gettext(KIND_LABELS[kind]) if kind in KIND_LABELS else kind


# Default when the person never chose: every optional channel on (an e-mail only says a message is waiting).
DEFAULT_ENABLED: Final = True


async def channel_enabled(conn: asyncpg.Connection, citizen_id: UUID, kind: str, channel: OptionalChannel) -> bool:
    """Whether notices of this kind go to this channel for the person."""
    chosen = await preference_queries.select_preference(conn, citizen_id, kind, channel)
    return DEFAULT_ENABLED if chosen is None else chosen


async def preference_table(conn: asyncpg.Connection, citizen_id: UUID) -> list[PreferenceOut]:
    """Every kind with every channel: the inbox always on (locked), the optional channels as chosen."""
    chosen = await preference_queries.select_preferences(conn, citizen_id)
    table: list[PreferenceOut] = []
    for kind in KINDS:
        table.append(PreferenceOut(kind=kind, channel="inbox", enabled=True, locked=True))
        for channel in SWITCHABLE_CHANNELS:
            enabled = chosen.get((kind, channel), DEFAULT_ENABLED)
            table.append(PreferenceOut(kind=kind, channel=channel, enabled=enabled, locked=False))
    return table


async def set_preference(
    conn: asyncpg.Connection, citizen_id: UUID, kind: Kind, channel: OptionalChannel, enabled: bool
) -> None:
    """Record one choice (from the next notice on)."""
    await preference_queries.upsert_preference(conn, citizen_id, kind, channel, enabled)


async def quiet_hours(conn: asyncpg.Connection, citizen_id: UUID) -> QuietHours | None:
    """The person's quiet hours for notifications on devices, if set."""
    return await preference_queries.select_quiet_hours(conn, citizen_id)


async def set_quiet_hours(conn: asyncpg.Connection, citizen_id: UUID, hours: QuietHours | None) -> None:
    """Set the person's quiet hours (None clears them); pushes already waiting keep the time they were given."""
    await preference_queries.upsert_quiet_hours(
        conn, citizen_id, hours.quiet_from if hours else None, hours.quiet_to if hours else None
    )


def in_quiet_hours(hours: QuietHours | None, moment: datetime) -> bool:
    """True when the moment falls in the person's quiet hours (Brussels time; the start is included, the end not;
    a period such as 22:00-07:00 runs past midnight)."""
    if hours is None:
        return False
    local = moment.astimezone(BRUSSELS).time().replace(tzinfo=None)
    start, end = hours.quiet_from, hours.quiet_to
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_hours_end(hours: QuietHours, moment: datetime) -> datetime:
    """When the quiet period the moment falls in ends (UTC): the next `quiet_to` in Brussels after the moment.

    Local wall-clock time, so a night crossing a change to or from summer time still ends at, say, 07:00.
    """
    local = moment.astimezone(BRUSSELS)
    for days in (0, 1):
        day = (local + timedelta(days=days)).date()
        end = datetime.combine(day, hours.quiet_to, tzinfo=BRUSSELS)
        if end > local:
            return end.astimezone(moment.tzinfo)
    raise AssertionError("a quiet period always ends within a day")
