"""Anomaly flags on access events, for reviewers, and the alerts they raise for citizens who opted in.

An event is flagged when it is the first access by an institution never seen in this person's log, when it
touches categories its purpose does not cover, when a helper or an organisation's agent made it, when one
pseudonymous person made more than 20 accesses within 10 minutes across citizens, or when it happened at night
in Belgium. The rules are pure functions of the event and a few facts; `flag_event` gathers the facts, stores
the flags and, for a citizen who asked, the alerts, all in the caller's transaction right after the event.

`record_and_flag` is `record_access` followed by `flag_event`: the write path for callers that want flags.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, time, timedelta
from typing import Concatenate, Final, Literal, ParamSpec, get_args
from uuid import UUID

import asyncpg
import msgspec

from backend.access_log import anomaly_queries
from backend.access_log.anomaly_queries import FlagCursor
from backend.access_log.schemas import AccessEvent, ActorKind
from backend.access_log.service import record_access
from backend.access_log.views import BRUSSELS, LogEntry, capitalised, describe, speaking
from backend.access_log.written_time import brussels_datetime
from backend.core.digits import positive_int
from backend.core.i18n import N_, Language, gettext

Flag = Literal["first_institution", "outside_purpose", "helper", "burst", "night"]
FLAGS: Final[tuple[Flag, ...]] = get_args(Flag)

# What the citizen's opt-in covers (the form says so): helpers act under the citizen's own mandate, and a burst
# is about the agent, not about this citizen.
ALERTED_FLAGS: Final[frozenset[Flag]] = frozenset({"first_institution", "outside_purpose", "night"})

BURST_WINDOW: Final = timedelta(minutes=10)
BURST_LIMIT: Final = 20
NIGHT_STARTS: Final = time(22, 0)
NIGHT_ENDS: Final = time(6, 0)

FLAG_LABELS: Final[dict[str, str]] = {
    "first_institution": N_("First access by this institution"),
    "outside_purpose": N_("Data outside the stated purpose"),
    "helper": N_("Access by a helper or an organisation's agent"),
    "burst": N_("Many accesses by one person in a short time"),
    "night": N_("Access at night (22:00 to 06:00)"),
}


class EventFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What the rules need beyond the event itself, looked up by `gather_facts`."""

    # Whether the event's organisation appears earlier in this citizen's log (None: not an institution).
    institution_seen_before: bool | None = None
    # The categories the event's registered purpose covers (None: no such purpose, or not an institution).
    purpose_categories: tuple[str, ...] | None = None
    # Events by the same pseudonymous person within the burst window, this one included (None: no reference).
    actor_events_in_window: int | None = None


def is_night(moment: datetime) -> bool:
    """True from 22:00 to 06:00 in Brussels (22:00 included, 06:00 not)."""
    local = moment.astimezone(BRUSSELS).time()
    return local >= NIGHT_STARTS or local < NIGHT_ENDS


def is_outside_purpose(categories: Sequence[str], allowed: Sequence[str] | None) -> bool:
    """True when some category is not covered by the purpose, or when there is no registered purpose at all."""
    return allowed is None or not set(categories) <= set(allowed)


def is_helper(kind: ActorKind) -> bool:
    """True for a person acting under a mandate: a private helper or an organisation's agent."""
    return kind in ("helper", "agent")


def is_burst(events_in_window: int) -> bool:
    """True when one person made more than BURST_LIMIT accesses within BURST_WINDOW."""
    return events_in_window > BURST_LIMIT


def flags_for(event: AccessEvent, facts: EventFacts) -> list[Flag]:
    """The flags an event deserves, in FLAGS order (pure: every lookup is in `facts`)."""
    raised: set[Flag] = set()
    if event.actor_kind == "institution":
        if facts.institution_seen_before is False:
            raised.add("first_institution")
        if is_outside_purpose(event.categories, facts.purpose_categories):
            raised.add("outside_purpose")
    if is_helper(event.actor_kind):
        raised.add("helper")
    if facts.actor_events_in_window is not None and is_burst(facts.actor_events_in_window):
        raised.add("burst")
    if is_night(event.occurred_at):
        raised.add("night")
    return [flag for flag in FLAGS if flag in raised]


async def gather_facts(conn: asyncpg.Connection, event: AccessEvent) -> EventFacts:
    """Look up what `flags_for` needs about an event already in the log."""
    seen_before: bool | None = None
    purpose: tuple[str, ...] | None = None
    if event.actor_kind == "institution" and event.actor_org_id is not None:
        seen_before = await anomaly_queries.select_institution_seen_before(
            conn, event.citizen_id, event.actor_org_id, event.seq
        )
        if event.purpose_code is not None:
            categories = await anomaly_queries.select_purpose_categories(conn, event.actor_org_id, event.purpose_code)
            purpose = None if categories is None else tuple(categories)
    in_window: int | None = None
    if event.actor_ref is not None:
        in_window = await anomaly_queries.count_actor_events(
            conn, event.actor_ref, after=event.occurred_at - BURST_WINDOW, until=event.occurred_at
        )
    return EventFacts(institution_seen_before=seen_before, purpose_categories=purpose, actor_events_in_window=in_window)


async def flag_event(conn: asyncpg.Connection, event: AccessEvent) -> list[Flag]:
    """Flag an event just recorded (same transaction), and owe the citizen an alert if they opted in.

    Returns the flags raised. Calling it again for the same event adds nothing.
    """
    flags = flags_for(event, await gather_facts(conn, event))
    if not flags:
        return []
    new = await anomaly_queries.insert_flags(conn, event, flags)
    alerted = [flag for flag in new if flag in ALERTED_FLAGS]
    if alerted and await anomaly_queries.select_alerts_enabled(conn, event.citizen_id):
        await anomaly_queries.insert_alerts(conn, event.citizen_id, event.seq, alerted)
    return flags


_P = ParamSpec("_P")


def _then_flagged(
    record: Callable[Concatenate[asyncpg.Connection, _P], Awaitable[AccessEvent]],
) -> Callable[Concatenate[asyncpg.Connection, _P], Awaitable[AccessEvent]]:
    # Typed by ParamSpec, so record_and_flag takes exactly record_access's keywords without restating them.
    async def record_and_flag(conn: asyncpg.Connection, /, *args: _P.args, **kwargs: _P.kwargs) -> AccessEvent:
        """Record an access exactly as `record_access` does, then flag it in the same transaction."""
        event = await record(conn, *args, **kwargs)
        await flag_event(conn, event)
        return event

    return record_and_flag


record_and_flag = _then_flagged(record_access)


class FlaggedEvent(msgspec.Struct, frozen=True, kw_only=True):
    """A flagged event for reviewers: the entry in plain language and its flags in words."""

    citizen_id: UUID
    entry: LogEntry
    # Who, starting with a capital (it heads the item), and when, written out in Brussels time.
    who: str
    when: str
    flags: list[str]
    flag_labels: list[str]


def flag_label(flag: str) -> str:
    """A flag in words in the current language."""
    label = FLAG_LABELS.get(flag)
    return flag if label is None else gettext(label)


class FlaggedPage(msgspec.Struct, frozen=True, kw_only=True):
    """A page of flagged events, and where the next (older) page starts when there is one."""

    events: list[FlaggedEvent]
    older: FlagCursor | None


def cursor_token(cursor: FlagCursor) -> str:
    """A page's end as it travels in an address (the "Older accesses" link): time, citizen and seq."""
    return f"{cursor.raised_at.isoformat()}~{cursor.citizen_id}~{cursor.seq}"


def parse_cursor_token(token: str) -> FlagCursor | None:
    """The cursor a `cursor_token` wrote, or None for anything else (an edited address shows the newest page)."""
    parts = token.split("~")
    seq = positive_int(parts[2], below=2**63) if len(parts) == 3 else None
    if seq is None:
        return None
    try:
        raised_at = datetime.fromisoformat(parts[0])
        citizen_id = UUID(parts[1])
    except ValueError:
        return None
    return None if raised_at.tzinfo is None else FlagCursor(raised_at, citizen_id, seq)


async def flagged_events(
    conn: asyncpg.Connection,
    *,
    flag: Flag | None,
    language: Language,
    limit: int = 50,
    actor_org_id: UUID | None = None,
    before: FlagCursor | None = None,
) -> FlaggedPage:
    """The most recently flagged events across citizens (or only one organisation's accesses), `limit` at a time
    from `before` on, for the reviewers' console."""
    # One row more than shown tells whether there is an older page.
    rows = await anomaly_queries.select_flagged_events(
        conn, flag=flag, limit=limit + 1, actor_org_id=actor_org_id, before=before
    )
    flagged: list[FlaggedEvent] = []
    with speaking(language):
        for row, flags, _cursor in rows[:limit]:
            entry = describe(row, language)
            flagged.append(
                FlaggedEvent(
                    citizen_id=row.event.citizen_id,
                    entry=entry,
                    who=capitalised(entry.who.name),
                    when=brussels_datetime(row.event.occurred_at, language),
                    flags=flags,
                    flag_labels=[flag_label(name) for name in flags],
                )
            )
    older = rows[limit - 1][2] if len(rows) > limit else None
    return FlaggedPage(events=flagged, older=older)


__all__ = [
    "ALERTED_FLAGS",
    "BURST_LIMIT",
    "BURST_WINDOW",
    "FLAGS",
    "FLAG_LABELS",
    "EventFacts",
    "Flag",
    "FlaggedEvent",
    "FlaggedPage",
    "cursor_token",
    "flag_event",
    "flag_label",
    "flagged_events",
    "flags_for",
    "gather_facts",
    "is_burst",
    "is_helper",
    "is_night",
    "is_outside_purpose",
    "parse_cursor_token",
    "record_and_flag",
]
