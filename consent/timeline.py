"""The citizen's joined timeline: what happened to their mandates, what each helper did under them, and what
institutions accessed, in one chronological list that can be narrowed to one stream.

Next to a helper's action the citizen finds the mandate it was done under (or, for a refused attempt, the
helper's mandate still running), so that they can end it at once. Reading one's own timeline is not logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Final, Literal, get_args
from uuid import UUID

import asyncpg
import msgspec
from babel.dates import format_date, format_time

from backend.access_log.view_queries import LogRow
from backend.access_log.views import BRUSSELS, LogEntry, babel_locale, describe, speaking
from backend.core.auth.actors import SignedIn
from backend.core.i18n import N_, Language, _, gettext
from consent import mandate_queries, theme_queries, timeline_queries
from consent.mandate_queries import MandateRow
from consent.parties import acting_for_self
from consent.timeline_queries import Cursor, TimelineMandateEvent

Stream = Literal["mandates", "helpers", "institutions"]
STREAMS: Final[tuple[Stream, ...]] = get_args(Stream)
STREAM_LABELS: Final[dict[Stream, str]] = {
    "mandates": N_("Your mandates"),
    "helpers": N_("What your helpers did"),
    "institutions": N_("Institutions and other accesses"),
}

# One whole sentence per step, so that translators can order the words as their language wants.
_BY_CITIZEN: Final[dict[str, str]] = {
    "invited": N_("You invited %(helper)s to help you."),
    "invitation_cancelled": N_("You cancelled your invitation to %(helper)s."),
    "revoked": N_("You ended the mandate of %(helper)s."),
    "theme_revoked": N_("You ended the theme “%(theme)s” in the mandate of %(helper)s."),
}
_BY_MANDATARY: Final[dict[str, str]] = {
    "accepted": N_("%(helper)s accepted your mandate: it started at that moment."),
    "declined": N_("%(helper)s declined your invitation."),
    "revoked": N_("%(helper)s ended the mandate you gave."),
    "theme_revoked": N_("%(helper)s ended the theme “%(theme)s” of the mandate you gave."),
    "agent_assigned": N_("%(helper)s named an agent (reference %(agent)s) to use your mandate."),
    "agent_unassigned": N_("%(helper)s withdrew an agent (reference %(agent)s) from your mandate."),
}
_BY_SYSTEM: Final[dict[str, str]] = {
    "expired": N_("The mandate of %(helper)s came to its end."),
    "expiry_reminded": N_("Vitrine reminded you and %(helper)s that the mandate ends soon."),
}


class TimelineItem(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the timeline: a step of a mandate, or an access (with its full log entry)."""

    key: str
    stream: Stream
    occurred_at: datetime  # in Brussels time
    day: date
    time: str
    sentence: str
    actor: str | None
    reason: str | None
    mandate_id: UUID | None
    # A pending or active mandate the citizen can end from this line (helpers' actions only).
    end_mandate_id: UUID | None
    entry: LogEntry | None


class TimelineDay(msgspec.Struct, frozen=True, kw_only=True):
    """The items of one Brussels day, with the day written out."""

    day: date
    label: str
    items: list[TimelineItem]


class TimelinePage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of the timeline, newest first, and the cursor (occurred_at, event id) of the next page."""

    items: list[TimelineItem]
    days: list[TimelineDay]
    next_before: Cursor | None


def _mandatary_name(row: MandateRow | TimelineMandateEvent, language: str) -> str:
    """The helper's name, or the organisation's in the reader's language (as identity.Organisation.name does)."""
    if row.mandatary_person_id is not None:
        return row.mandatary_person_name or _("a helper")
    names = {"nl": row.org_name_nl, "de": row.org_name_de or row.org_name_fr}
    return names.get(language, row.org_name_fr) or _("an organisation")


class _Mandates:
    """The citizen's mandates, to name helpers and to find the mandate a line can end."""

    def __init__(self, rows: Sequence[MandateRow], language: str) -> None:
        self._language = language
        self._by_id = {row.mandate_id: row for row in rows}
        self._rows = rows  # newest first

    def _open(self, row: MandateRow | None) -> UUID | None:
        return row.mandate_id if row is not None and row.state in ("pending", "active") else None

    def helper_name(self, row: LogRow) -> str | None:
        """The helper's name for a helper's access (they are logged by person id), or None."""
        event = row.event
        if event.actor_kind != "helper" or event.actor_ref is None:
            return None
        found = next((m for m in self._rows if str(m.mandatary_person_id) == event.actor_ref), None)
        return None if found is None else _mandatary_name(found, self._language)

    def to_end(self, row: LogRow) -> UUID | None:
        """The mandate the access was made under if it still runs, else the acting side's running mandate."""
        event = row.event
        if event.mandate_id is not None and (found := self._open(self._by_id.get(event.mandate_id))):
            return found
        for mandate in self._rows:
            same_helper = event.actor_kind == "helper" and str(mandate.mandatary_person_id) == event.actor_ref
            same_org = event.actor_kind == "agent" and mandate.mandatary_org_id == event.actor_org_id
            if (same_helper or same_org) and (found := self._open(mandate)):
                return found
        return None


def _when(moment: datetime, language: str) -> tuple[datetime, date, str]:
    local = moment.astimezone(BRUSSELS)
    return local, local.date(), format_time(local, format="short", locale=babel_locale(language))


def _mandate_item(event: TimelineMandateEvent, themes: dict[str, str], language: str) -> TimelineItem:
    helper = _mandatary_name(event, language)
    texts = {"citizen": _BY_CITIZEN, "mandatary": _BY_MANDATARY}.get(event.actor_side, _BY_SYSTEM)
    template = texts.get(event.kind) or _BY_SYSTEM.get(event.kind) or N_("The mandate of %(helper)s changed.")
    theme = themes.get(event.theme_code or "", event.theme_code or "")
    sentence = gettext(template) % {"helper": helper, "theme": theme, "agent": event.agent_ref or "?"}
    local, day, time = _when(event.occurred_at, language)
    actor = {"citizen": _("You"), "mandatary": helper}.get(event.actor_side, _("Vitrine"))
    return TimelineItem(
        key=f"mandate-event-{event.event_id}",
        stream="mandates",
        occurred_at=local,
        day=day,
        time=time,
        sentence=sentence,
        actor=actor,
        reason=event.reason,
        mandate_id=event.mandate_id,
        end_mandate_id=None,
        entry=None,
    )


def _access_item(row: LogRow, mandates: _Mandates, language: Language) -> TimelineItem:
    entry = describe(row, language)
    by_helper = row.event.actor_kind in ("helper", "agent")
    return TimelineItem(
        key=f"access-event-{row.event.event_id}",
        stream="helpers" if by_helper else "institutions",
        occurred_at=entry.occurred_at,
        day=entry.day,
        time=entry.time,
        sentence=entry.sentence,
        actor=mandates.helper_name(row) or entry.who.name,
        reason=entry.reason,
        mandate_id=row.event.mandate_id,
        end_mandate_id=mandates.to_end(row) if by_helper else None,
        entry=entry,
    )


def _group(items: list[TimelineItem], language: str) -> list[TimelineDay]:
    days: dict[date, list[TimelineItem]] = {}
    for item in items:
        days.setdefault(item.day, []).append(item)
    return [
        TimelineDay(day=day, label=format_date(day, format="full", locale=babel_locale(language)), items=days[day])
        for day in sorted(days, reverse=True)
    ]


async def citizen_timeline(
    conn: asyncpg.Connection,
    user: SignedIn,
    *,
    language: Language,
    stream: Stream | None = None,
    before: Cursor | None = None,
    limit: int = 50,
    now: datetime | None = None,
) -> TimelinePage:
    """One page of the signed-in citizen's joined timeline, newest first, optionally one stream only."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    citizen = acting_for_self(user).person
    at = now or datetime.now(UTC)
    mandate_events: list[TimelineMandateEvent] = []
    access_rows: list[LogRow] = []
    # One row more than shown from each source tells whether an older page exists.
    if stream in (None, "mandates"):
        mandate_events = await timeline_queries.select_mandate_events(
            conn, citizen.person_id, before=before, limit=limit + 1
        )
    if stream in (None, "helpers", "institutions"):
        access_rows = await timeline_queries.select_access_events(
            conn,
            citizen.person_id,
            helpers=None if stream is None else stream == "helpers",
            before=before,
            limit=limit + 1,
        )
    mandates = _Mandates(await mandate_queries.select_mandates_of_citizen(conn, citizen.person_id, at), language)
    themes = {theme.code: theme.name(language) for theme in await theme_queries.select_published_themes(conn, at)}
    keyed: list[tuple[Cursor, TimelineMandateEvent | LogRow]] = [
        ((event.occurred_at, event.recorded_at, event.event_id), event) for event in mandate_events
    ] + [((row.event.occurred_at, row.event.logged_at, row.event.event_id), row) for row in access_rows]
    keyed.sort(key=lambda pair: pair[0], reverse=True)
    shown = keyed[:limit]
    with speaking(language):
        items = [
            _mandate_item(source, themes, language)
            if isinstance(source, TimelineMandateEvent)
            else _access_item(source, mandates, language)
            for _key, source in shown
        ]
    return TimelinePage(
        items=items,
        days=_group(items, language),
        next_before=shown[-1][0] if len(keyed) > limit else None,
    )
