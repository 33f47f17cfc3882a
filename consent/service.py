"""Giving a mandate: the themes and consent text on offer, the citizen's invitation, and both sides' lists.

Services take a connection and never commit. Every change writes its event in mandate_events in the same
transaction. Bad input is refused with every failing field named, and changes nothing.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime
from typing import Final
from uuid import UUID

import asyncpg

from backend.core.auth.actors import SignedIn
from backend.core.errors import FieldError, Problem, validation_problem
from backend.core.i18n import N_, _
from backend.core.identity import queries as identity_queries
from backend.core.identity.schemas import Organisation, Person
from backend.core.identity.service import find_person_by_insz, kbo_or_problem
from consent import code_queries, codes, event_queries, mandate_queries, state_queries, theme_queries
from consent.parties import BRUSSELS, acting_for_self, is_access_manager
from consent.schemas import InvitationCreated, LegalText, MandateInvite, MandateOut, ThemeOut, ThemeVersion
from consent.views import mandate_out, mandates_out, theme_out

MAX_YEARS: Final = 3


def comparable_name(name: str) -> str:
    """A surname as compared: without accents, case, spaces, hyphens or apostrophes ("D'Hondt" = "d hondt")."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch)).casefold()


def latest_end_date(today: date) -> date:
    """The last day a mandate may run to when chosen today: three years on (28 February for 29 February)."""
    try:
        return today.replace(year=today.year + MAX_YEARS)
    except ValueError:
        return today.replace(year=today.year + MAX_YEARS, day=28)


async def published_themes(conn: asyncpg.Connection, language: str, *, now: datetime | None = None) -> list[ThemeOut]:
    """The themes a citizen may choose from, in their language."""
    return [theme_out(theme, language) for theme in await theme_queries.select_published_themes(conn, _at(now))]


async def current_legal_text(conn: asyncpg.Connection, language: str, *, now: datetime | None = None) -> LegalText:
    """The consent text to show before inviting, with the hash to send back."""
    text = await theme_queries.select_current_legal_text(conn, language, _at(now))
    if text is None:
        raise Problem(404, _("No consent text is published in this language."), kind="legal-text-missing")
    return text


def _at(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


_UNKNOWN_PERSON = N_("No person with this national number and surname is known in Vitrine. Check both.")


async def _mandatary(
    conn: asyncpg.Connection, citizen: Person, data: MandateInvite, errors: list[FieldError]
) -> tuple[Person | None, Organisation | None]:
    """The person or organisation invited; problems are added to `errors`."""
    if (data.mandatary_insz is None) == (data.mandatary_kbo is None):
        message = _("Give the national number of a person or the enterprise number of an organisation (one of both).")
        errors.append(FieldError(field="mandatary_insz", message=message))
        return None, None
    if data.mandatary_kbo is not None:
        try:
            kbo = kbo_or_problem(data.mandatary_kbo, field="mandatary_kbo")
        except Problem as problem:
            errors.extend(problem.errors)
            return None, None
        organisation = await identity_queries.select_organisation_by_kbo(conn, kbo)
        if organisation is None:
            message = _("No organisation with this enterprise number is known in Vitrine.")
            errors.append(FieldError(field="mandatary_kbo", message=message))
        return None, organisation
    assert data.mandatary_insz is not None
    if data.mandatary_family_name is None:
        message = _("Give the surname of the person, as on their identity card.")
        errors.append(FieldError(field="mandatary_family_name", message=message))
    try:
        person = await find_person_by_insz(conn, data.mandatary_insz, field="mandatary_insz")
    except Problem as problem:
        errors.extend(problem.errors)
        return None, None
    if data.mandatary_family_name is None:
        return None, None
    # The same answer for an unknown number and a wrong surname: nobody learns who is registered.
    if person is None or comparable_name(person.family_name) != comparable_name(data.mandatary_family_name):
        errors.append(FieldError(field="mandatary_insz", message=_(_UNKNOWN_PERSON)))
        return None, None
    if person.person_id == citizen.person_id:
        errors.append(FieldError(field="mandatary_insz", message=_("You cannot give a mandate to yourself.")))
        return None, None
    return person, None


async def _themes(
    conn: asyncpg.Connection, data: MandateInvite, at: datetime, errors: list[FieldError]
) -> list[ThemeVersion]:
    """The published theme versions chosen; problems are added to `errors`."""
    published = {theme.code: theme for theme in await theme_queries.select_published_themes(conn, at)}
    chosen: list[ThemeVersion] = []
    for index, choice in enumerate(data.themes):
        theme = published.get(choice.code)
        if theme is None:
            errors.append(FieldError(field=f"themes[{index}].code", message=_("There is no theme with this code.")))
        elif any(earlier.code == choice.code for earlier in data.themes[:index]):
            errors.append(FieldError(field=f"themes[{index}].code", message=_("This theme is chosen twice.")))
        elif choice.access not in theme.accesses:
            message = (
                _("This theme has nothing to act on: choose “read”.")
                if choice.access == "act"
                else _("This theme has nothing to read: choose “act”.")
            )
            errors.append(FieldError(field=f"themes[{index}].access", message=message))
        else:
            chosen.append(theme)
    if any(theme.high_risk for theme in chosen) and not data.acknowledge_high_risk:
        message = _("This mandate lets someone act in your name. Confirm that you understand this.")
        errors.append(FieldError(field="acknowledge_high_risk", message=message))
    return chosen


def _check_duration(data: MandateInvite, at: datetime, errors: list[FieldError]) -> None:
    today = at.astimezone(BRUSSELS).date()
    if data.duration != "until_date":
        if data.until is not None:
            errors.append(
                FieldError(field="until", message=_("Give a last day only when the mandate runs until a date."))
            )
        return
    if data.until is None:
        errors.append(FieldError(field="until", message=_("Choose the last day of the mandate.")))
    elif data.until <= today:
        errors.append(FieldError(field="until", message=_("The last day must be after today.")))
    elif data.until > latest_end_date(today):
        message = _("A mandate lasts at most 3 years: choose %(day)s or earlier.") % {
            "day": latest_end_date(today).isoformat()
        }
        errors.append(FieldError(field="until", message=message))


async def _check_legal_text(
    conn: asyncpg.Connection, data: MandateInvite, at: datetime, errors: list[FieldError]
) -> LegalText | None:
    text = await theme_queries.select_legal_text(conn, data.legal_text_version, data.legal_text_language)
    current = await theme_queries.select_current_legal_text(conn, data.legal_text_language, at)
    if text is None or current is None or current.version != text.version:
        message = _("This is not the current consent text. Read the current one and confirm again.")
        errors.append(FieldError(field="legal_text_version", message=message))
        return None
    if text.sha256 != data.legal_text_sha256:
        message = _("The consent text differs from the one you were shown. Read it again and confirm.")
        errors.append(FieldError(field="legal_text_sha256", message=message))
        return None
    return text


async def invite(
    conn: asyncpg.Connection, user: SignedIn, data: MandateInvite, *, now: datetime | None = None
) -> InvitationCreated:
    """Create a pending mandate and its invitation code (shown once, valid 14 days)."""
    citizen = acting_for_self(user).person
    at = _at(now)
    errors: list[FieldError] = []
    person, organisation = await _mandatary(conn, citizen, data, errors)
    themes = await _themes(conn, data, at, errors)
    _check_duration(data, at, errors)
    legal_text = await _check_legal_text(conn, data, at, errors)
    if errors or legal_text is None or (person is None and organisation is None):
        raise validation_problem(errors)
    await state_queries.lock_citizen_mandates(conn, citizen.person_id)
    person_id = None if person is None else person.person_id
    org_id = None if organisation is None else organisation.org_id
    held = await mandate_queries.select_open_theme_codes(
        conn,
        citizen_id=citizen.person_id,
        mandatary_person_id=person_id,
        mandatary_org_id=org_id,
        codes=[theme.code for theme in themes],
        at=at,
    )
    if held:
        names = ", ".join(theme.name(citizen.language) for theme in themes if theme.code in {h[0] for h in held})
        if any(state == "active" for _code, state, _end in held):
            detail = _(
                "This helper already has an active mandate from you for: %(themes)s. A mandate is never extended: "
                "to renew it, end the current one and give a new consent."
            ) % {"themes": names}
        else:
            detail = _(
                "An invitation to this helper for %(themes)s is still waiting for an answer. Cancel it before "
                "making a new one."
            ) % {"themes": names}
        raise Problem(409, detail, kind="mandate-exists", errors=[FieldError(field="themes", message=detail)])
    mandate_id = await mandate_queries.insert_mandate(
        conn,
        citizen_id=citizen.person_id,
        mandatary_person_id=person_id,
        mandatary_org_id=org_id,
        duration=data.duration,
        until_date=data.until,
        legal_text_version=legal_text.version,
        legal_text_language=legal_text.language,
        legal_text_sha256=legal_text.sha256,
        created_at=at,
        invitation_expires_at=at + codes.CODE_VALIDITY,
    )
    accesses = {choice.code: choice.access for choice in data.themes}
    await mandate_queries.insert_mandate_themes(
        conn, citizen.person_id, mandate_id, [(theme.code, theme.version, accesses[theme.code]) for theme in themes]
    )
    code = codes.new_code()
    await code_queries.insert_invitation(
        conn, citizen.person_id, mandate_id, code_sha256=codes.code_hash(code), created_at=at
    )
    await event_queries.insert_event(
        conn,
        citizen_id=citizen.person_id,
        mandate_id=mandate_id,
        kind="invited",
        actor_side="citizen",
        actor_person_id=citizen.person_id,
        occurred_at=at,
    )
    row = await mandate_queries.select_mandate(conn, mandate_id, at)
    assert row is not None
    themes_rows = await mandate_queries.select_mandate_themes(conn, [(row.citizen_id, row.mandate_id)], at)
    return InvitationCreated(
        mandate=mandate_out(row, themes_rows, citizen.language),
        code=codes.grouped(code),
        code_expires_at=row.invitation_expires_at,
    )


async def mandates_given(conn: asyncpg.Connection, user: SignedIn, *, now: datetime | None = None) -> list[MandateOut]:
    """The mandates the signed-in person gave, newest first."""
    citizen = acting_for_self(user).person
    at = _at(now)
    rows = await mandate_queries.select_mandates_of_citizen(conn, citizen.person_id, at)
    return await mandates_out(conn, rows, citizen.language, at)


async def mandates_received(
    conn: asyncpg.Connection, user: SignedIn, *, now: datetime | None = None
) -> list[MandateOut]:
    """The mandates the signed-in person holds as helper, newest first."""
    at = _at(now)
    rows = await mandate_queries.select_mandates_of_person(conn, user.person.person_id, at)
    return await mandates_out(conn, rows, user.person.language, at)


async def mandates_of_organisation(
    conn: asyncpg.Connection, user: SignedIn, org_id: UUID, *, now: datetime | None = None
) -> list[MandateOut]:
    """The mandates an organisation holds, for its access managers."""
    if not await is_access_manager(conn, org_id, user.person.person_id):
        raise Problem(403, _("Only the organisation's access managers may see its mandates."), kind="not-manager")
    at = _at(now)
    rows = await mandate_queries.select_mandates_of_organisation(conn, org_id, at)
    return await mandates_out(conn, rows, user.person.language, at)
