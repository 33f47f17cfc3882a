"""The citizen's view of their access log: logged events turned into plain-language entries.

Every entry answers who looked, at what, why (purpose, legal basis, authorisation), with which outcome, and
when, in the person's own language and in Belgian time. The log itself stays in its stored, hashed form; this
module only describes it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time
from gettext import NullTranslations
from typing import Final, Literal, get_args
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import msgspec
from babel.dates import format_date, format_time
from babel.lists import format_list

from backend.access_log import view_queries
from backend.access_log.schemas import Action, ActorKind, Channel, Outcome
from backend.access_log.view_queries import LogRow
from backend.core.i18n import N_, Language, _, current_catalogue, current_language, set_language
from backend.core.identity.purposes import Purpose
from backend.core.identity.schemas import Organisation

# The zone view_queries.select_log_rows uses for the period filter: the two must agree.
BRUSSELS: Final = ZoneInfo("Europe/Brussels")

# Babel locales for dates and lists: Belgian variants, and British English for "3 March 2026".
BABEL_LOCALES: Final[dict[str, str]] = {"nl": "nl_BE", "fr": "fr_BE", "de": "de_BE", "en": "en_GB"}

CategoryCode = Literal["identity", "dimona", "dmfa", "flexi_wages", "limosa", "a1", "drs"]
CATEGORIES: Final[tuple[CategoryCode, ...]] = get_args(CategoryCode)

# Lower case: they are read inside a sentence ("… read your employment declarations (Dimona) …"), and each names
# a plural or collective noun so that "your" reads right in every language.
CATEGORY_LABELS: Final[dict[str, str]] = {
    "identity": N_("identity"),
    "dimona": N_("employment declarations (Dimona)"),
    "dmfa": N_("quarterly wages and working time (DmfA)"),
    "flexi_wages": N_("flexi-job wages"),
    "limosa": N_("posting to Belgium (Limosa)"),
    "a1": N_("posting abroad (A1)"),
    "drs": N_("social-risk declarations"),
}

# Registered purposes in plain words, as the end of a sentence ("… to compute your unemployment benefit").
# A purpose without words here is shown by its code and left out of the sentence.
PURPOSE_LABELS: Final[dict[str, str]] = {
    "unemployment_benefit": N_("to compute your unemployment benefit"),
    "incapacity_benefit": N_("to compute your incapacity benefit"),
    "pension_calculation": N_("to calculate your pension"),
    "flexi_income_tax": N_("to tax your flexi-job income correctly"),
    "contribution_collection": N_("to collect social-security contributions"),
}

OUTCOME_LABELS: Final[dict[str, str]] = {
    "granted": N_("Granted"),
    "denied": N_("Refused"),
    "error": N_("Failed (technical error)"),
}

CHANNEL_LABELS: Final[dict[str, str]] = {
    "web": N_("Vitrine website"),
    "api": N_("Institution's system (API)"),
    "desk": N_("Help desk"),
    "batch": N_("Batch processing"),
    "reported": N_("Reported by the institution"),
}

ACTION_LABELS: Final[dict[str, str]] = {
    "read": N_("Read"),
    "change": N_("Changed"),
    "check": N_("Checked"),
    "export": N_("Exported"),
}

# Who can be filtered on: the kinds a citizen meets (system jobs are not people or organisations to look for).
ActorFilter = Literal["institution", "helper", "agent", "staff"]
ACTOR_FILTERS: Final[tuple[ActorFilter, ...]] = get_args(ActorFilter)
ACTOR_FILTER_LABELS: Final[dict[str, str]] = {
    "institution": N_("Institutions"),
    "helper": N_("Helpers"),
    "agent": N_("Agents of an organisation"),
    "staff": N_("Desk agents"),
}
OUTCOMES: Final[tuple[Outcome, ...]] = get_args(Outcome)

# Sentences for a granted access, by action, with and without the purpose clause. Whole sentences (not pieces)
# so that translators can put the date, the data and the purpose where their language wants them.
_GRANTED_WITH_PURPOSE: Final[dict[str, str]] = {
    "read": N_("%(who)s read your %(what)s on %(date)s %(purpose)s."),
    "change": N_("%(who)s changed your %(what)s on %(date)s %(purpose)s."),
    "check": N_("%(who)s checked your %(what)s on %(date)s %(purpose)s."),
    "export": N_("%(who)s exported your %(what)s on %(date)s %(purpose)s."),
}
_GRANTED: Final[dict[str, str]] = {
    "read": N_("%(who)s read your %(what)s on %(date)s."),
    "change": N_("%(who)s changed your %(what)s on %(date)s."),
    "check": N_("%(who)s checked your %(what)s on %(date)s."),
    "export": N_("%(who)s exported your %(what)s on %(date)s."),
}
_DENIED: Final = N_("%(who)s asked for your %(what)s on %(date)s; this was refused.")
_FAILED: Final = N_("%(who)s asked for your %(what)s on %(date)s; this failed because of a technical error.")
# What an entry says was read when the event names no category.
_DATA: Final = N_("data")


class LogFilters(msgspec.Struct, frozen=True, kw_only=True):
    """What a citizen narrows their log to; every filter left at None lets everything through."""

    institution: UUID | None = None
    category: CategoryCode | None = None
    period_from: date | None = None
    period_to: date | None = None
    outcome: Outcome | None = None
    actor: ActorFilter | None = None

    @property
    def active(self) -> bool:
        """True when at least one filter is set."""
        return any(getattr(self, name) is not None for name in self.__struct_fields__)


class Who(msgspec.Struct, frozen=True, kw_only=True):
    """Who accessed, in words: an institution's name, or a helper or agent by pseudonymous reference."""

    kind: ActorKind
    name: str
    organisation_id: UUID | None
    organisation: str | None
    # The pseudonym of an agent or desk agent (never their name): a reviewer can reveal them within a case.
    reference: str | None


class CategoryEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One category of data, by code and in words."""

    code: str
    label: str


class Why(msgspec.Struct, frozen=True, kw_only=True):
    """Why the access was allowed: the purpose, its legal basis in the person's language, the authorisation."""

    purpose_code: str | None
    purpose: str | None
    legal_basis: str | None
    authorisation_ref: str | None


class LogEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One access in plain language."""

    seq: int
    event_id: UUID
    occurred_at: datetime  # in Brussels time
    day: date
    time: str
    who: Who
    action: Action
    action_label: str
    what: list[CategoryEntry]
    why: Why | None
    outcome: Outcome
    outcome_label: str
    reason: str | None
    channel: Channel
    channel_label: str
    case_ref: str | None
    sentence: str


class LogDay(msgspec.Struct, frozen=True, kw_only=True):
    """The entries of one Brussels day, with the day written out ("Wednesday, 1 April 2026")."""

    day: date
    label: str
    entries: list[LogEntry]


class LogPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of a citizen's log and the cursor for the next (older) page, if any.

    `entries` are in log order (newest first by seq, the keyset order); `days` groups the same entries by their
    Brussels day for reading.
    """

    entries: list[LogEntry]
    language: Language
    next_before_seq: int | None

    @property
    def days(self) -> list[LogDay]:
        """The entries grouped by day, newest day first (made on each call: only the HTML page reads them, once)."""
        return group_by_day(self.entries, self.language)


@contextmanager
def speaking(language: Language) -> Iterator[None]:
    """Translate into language for the block, then restore the request's language.

    The entries are for the person whose log it is, in their language, whatever language the caller runs in.
    """
    previous = current_language()
    set_language(language)
    try:
        yield
    finally:
        set_language(previous)


def babel_locale(language: str) -> str:
    """The babel locale that writes dates and lists for a language."""
    return BABEL_LOCALES.get(language, BABEL_LOCALES["en"])


# A fixed label translated once per catalogue (the one gettext reads now: a new one whenever catalogues load).
@functools.lru_cache(maxsize=4096)
def _translated(catalogue: NullTranslations, message: str) -> str:
    return catalogue.gettext(message)


def category_label(code: str) -> str:
    """A category in words in the current language (an unknown code is shown as it is)."""
    label = CATEGORY_LABELS.get(code)
    return code if label is None else _translated(current_catalogue(), label)


def capitalised(text: str) -> str:
    """Text with its first letter in upper case (labels are written to sit inside a sentence)."""
    return text[:1].upper() + text[1:]


# A page of the log names the same few institutions, purposes and categories again and again: their finished
# (frozen) descriptions are kept per catalogue, so describing an entry is mostly putting them together.
def _who(row: LogRow, language: str, catalogue: NullTranslations) -> Who:
    event = row.event
    return _who_of(
        catalogue,
        language,
        event.actor_kind,
        row.organisation,
        event.actor_org_id,
        event.actor_client_id,
        event.actor_ref,
        # At a help desk the event stores the office where the desk agent works: the person reads where it was.
        event.actor_system if event.actor_kind == "staff" and event.channel == "desk" else None,
    )


@functools.lru_cache(maxsize=4096)
def _who_of(
    catalogue: NullTranslations,
    language: str,
    kind: ActorKind,
    logged_organisation: Organisation | None,
    org_id: UUID | None,
    client_id: str | None,
    reference: str | None,
    office: str | None = None,
) -> Who:
    organisation = None if logged_organisation is None else logged_organisation.name(language)
    if kind == "institution":
        name = organisation or client_id or _("an institution")
    elif kind == "helper":
        name = _("a helper")
    elif kind == "agent":
        name = (
            _("an agent of %(organisation)s") % {"organisation": organisation}
            if organisation
            else _("an agent of an organisation")
        )
    elif kind == "staff" and office:
        name = _("a desk agent at %(office)s") % {"office": office}
    elif kind == "staff":
        name = (
            _("a desk agent of %(organisation)s") % {"organisation": organisation}
            if organisation
            else _("a Vitrine desk agent")
        )
    else:
        name = _("an automatic process of Vitrine")
    return Who(kind=kind, name=name, organisation_id=org_id, organisation=organisation, reference=reference)


def _why(row: LogRow, language: str, catalogue: NullTranslations) -> Why | None:
    event = row.event
    if event.purpose_code is None and event.legal_basis_ref is None:
        return None
    return _why_of(catalogue, language, event.purpose_code, event.legal_basis_ref, row.purpose)


@functools.lru_cache(maxsize=4096)
def _why_of(
    catalogue: NullTranslations,
    language: str,
    purpose_code: str | None,
    legal_basis_ref: str | None,
    purpose: Purpose | None,
) -> Why:
    label = PURPOSE_LABELS.get(purpose_code or "")
    return Why(
        purpose_code=purpose_code,
        purpose=None if label is None else _translated(catalogue, label),
        # The registry's text in the person's language; the reference stored with the event otherwise.
        legal_basis=purpose.legal_basis(language) if purpose is not None else legal_basis_ref,
        authorisation_ref=None if purpose is None else purpose.authorisation_ref,
    )


@functools.lru_cache(maxsize=1024)
def _what_of(catalogue: NullTranslations, codes: tuple[str, ...]) -> tuple[CategoryEntry, ...]:
    return tuple(
        CategoryEntry(
            code=code, label=code if code not in CATEGORY_LABELS else _translated(catalogue, CATEGORY_LABELS[code])
        )
        for code in codes
    )


# Babel's pattern formatting dominated rendering a page of the log; a page repeats few days, hours and lists.
@functools.lru_cache(maxsize=4096)
def date_label(day: date, width: Literal["full", "long"], language: str) -> str:
    """A day written out in a language ("3 March 2026"; "full" adds the weekday)."""
    return format_date(day, format=width, locale=babel_locale(language))


@functools.lru_cache(maxsize=8192)
def _time_label(hour: int, minute: int, language: str) -> str:
    return format_time(time(hour, minute), format="short", locale=babel_locale(language))


@functools.lru_cache(maxsize=1024)
def _listed(labels: tuple[str, ...], language: str) -> str:
    return format_list(list(labels), locale=babel_locale(language))


@functools.lru_cache(maxsize=1024)
def _what_listed(what: tuple[CategoryEntry, ...], language: str) -> str:
    # The categories of an entry as the sentence lists them ("your A, B and C"), once per set of categories.
    return _listed(tuple(item.label for item in what), language)


class _Labels(msgspec.Struct, frozen=True):
    """The fixed words of entries in one catalogue: describing an entry is then a few dictionary look-ups."""

    actions: dict[str, str]
    outcomes: dict[str, str]
    channels: dict[str, str]
    granted_with_purpose: dict[str, str]
    granted: dict[str, str]
    denied: str
    failed: str
    data: str


@functools.lru_cache(maxsize=16)
def _labels_of(catalogue: NullTranslations) -> _Labels:
    def translated(labels: dict[str, str]) -> dict[str, str]:
        return {code: catalogue.gettext(message) for code, message in labels.items()}

    return _Labels(
        actions=translated(ACTION_LABELS),
        outcomes=translated(OUTCOME_LABELS),
        channels=translated(CHANNEL_LABELS),
        granted_with_purpose=translated(_GRANTED_WITH_PURPOSE),
        granted=translated(_GRANTED),
        denied=catalogue.gettext(_DENIED),
        failed=catalogue.gettext(_FAILED),
        data=catalogue.gettext(_DATA),
    )


def _sentence(
    labels: _Labels,
    *,
    who: Who,
    what: tuple[CategoryEntry, ...],
    why: Why | None,
    row: LogRow,
    when: date,
    language: str,
) -> str:
    event = row.event
    values = {
        "who": who.name,
        "what": _what_listed(what, language) if what else labels.data,
        "date": date_label(when, "long", language),
    }
    if event.outcome == "denied":
        text = labels.denied % values
    elif event.outcome == "error":
        text = labels.failed % values
    elif why is not None and why.purpose is not None:
        text = labels.granted_with_purpose[event.action] % {**values, "purpose": why.purpose}
    else:
        text = labels.granted[event.action] % values
    return capitalised(text)


def describe(row: LogRow, language: Language) -> LogEntry:
    """One event as a plain-language entry; call it inside `speaking(language)`."""
    event = row.event
    catalogue = current_catalogue()
    labels = _labels_of(catalogue)
    occurred = event.occurred_at.astimezone(BRUSSELS)
    day = occurred.date()
    who = _who(row, language, catalogue)
    what = _what_of(catalogue, tuple(event.categories))
    why = _why(row, language, catalogue)
    return LogEntry(
        seq=event.seq,
        event_id=event.event_id,
        occurred_at=occurred,
        day=day,
        time=_time_label(occurred.hour, occurred.minute, language),
        who=who,
        action=event.action,
        action_label=labels.actions[event.action],
        what=list(what),
        why=why,
        outcome=event.outcome,
        outcome_label=labels.outcomes[event.outcome],
        reason=event.reason,
        channel=event.channel,
        channel_label=labels.channels[event.channel],
        case_ref=event.case_ref,
        sentence=_sentence(labels, who=who, what=what, why=why, row=row, when=day, language=language),
    )


def group_by_day(entries: list[LogEntry], language: Language) -> list[LogDay]:
    """Entries grouped by their Brussels day, newest day first, each day's entries in the given (log) order.

    The log is in the order accesses were logged; an access an institution reports late can have an older day
    than the entries logged around it, so it joins its own day rather than opening a second heading.
    """
    days: dict[date, list[LogEntry]] = {}
    for entry in entries:
        days.setdefault(entry.day, []).append(entry)
    return [
        LogDay(day=day, label=date_label(day, "full", language), entries=days[day])
        for day in sorted(days, reverse=True)
    ]


async def citizen_log_page(
    conn: asyncpg.Connection,
    citizen_id: UUID,
    *,
    language: Language,
    filters: LogFilters,
    before_seq: int | None,
    limit: int = 50,
) -> LogPage:
    """One page of a citizen's log in plain language, newest first, below the cursor `before_seq`."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    # One row more than shown tells whether there is an older page, so the last page offers no empty "older" link.
    rows = await view_queries.select_log_rows(
        conn,
        citizen_id,
        before_seq=before_seq,
        org_id=filters.institution,
        category=filters.category,
        period_from=filters.period_from,
        period_to=filters.period_to,
        outcome=filters.outcome,
        actor_kind=filters.actor,
        limit=limit + 1,
    )
    shown = rows[:limit]
    with speaking(language):
        entries = [describe(row, language) for row in shown]
    return LogPage(
        entries=entries,
        language=language,
        next_before_seq=shown[-1].event.seq if len(rows) > limit else None,
    )


def organisation_choices(organisations: Sequence[Organisation], language: Language) -> list[tuple[UUID, str]]:
    """Organisations as (id, name in the reader's language), sorted by name (the log's institution filter)."""
    named = [(organisation.org_id, organisation.name(language)) for organisation in organisations]
    return sorted(named, key=lambda item: item[1].casefold())
