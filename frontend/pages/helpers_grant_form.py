"""The grant flow's form: the answers of the three steps, carried between them in hidden fields, the checks of
each step, and where an error the service names belongs (which step, which field on the page).

These checks only let the person correct mistakes early; `consent.service.invite` checks everything again.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Final

import asyncpg
import msgspec
from litestar.datastructures import FormMultiDict

from backend.core.auth.actors import SignedIn
from backend.core.digits import is_ascii_digits
from backend.core.i18n import N_, _
from backend.core.identifiers import IdentifierError, parse_insz, parse_kbo
from backend.core.identity import queries as identity_queries
from consent import service
from consent.schemas import Duration, Language, MandateInvite, ThemeChoice, ThemeOut
from frontend.pages.mandate_display import DURATIONS

_LANGUAGES: Final = ("nl", "fr", "de", "en")
_THEME_INDEX: Final = re.compile(r"^themes\[(\d+)\]")
# The same words as the service, so that a person who cannot be found reads the same at every step.
_UNKNOWN_PERSON: Final = N_("No person with this national number and surname is known in Vitrine. Check both.")


class GrantForm(msgspec.Struct, kw_only=True):
    """Every answer of the three steps, as typed."""

    kind: str = ""
    mandatary_insz: str = ""
    mandatary_family_name: str = ""
    mandatary_kbo: str = ""
    themes: dict[str, str] = msgspec.field(default_factory=dict)
    acknowledge_high_risk: bool = False
    duration: str = ""
    until: str = ""
    agree: bool = False
    legal_text_version: str = ""
    legal_text_language: str = ""
    legal_text_sha256: str = ""

    def hidden(self, step: int) -> list[tuple[str, str]]:
        """The answers of the other steps, carried along in hidden fields."""
        fields: list[tuple[str, str]] = []
        if step != 1:
            fields += [
                ("kind", self.kind),
                ("mandatary_insz", self.mandatary_insz),
                ("mandatary_family_name", self.mandatary_family_name),
                ("mandatary_kbo", self.mandatary_kbo),
            ]
        if step != 2:
            fields += [(f"theme_{code}", access) for code, access in self.themes.items()]
            if self.acknowledge_high_risk:
                fields.append(("acknowledge_high_risk", "on"))
        if step != 3:
            fields += [("duration", self.duration), ("until", self.until)]
        return [(name, value) for name, value in fields if value]


def read_form(form: FormMultiDict, themes: list[ThemeOut]) -> GrantForm:
    """The answers from a posted step; a theme access no step offers (an edited form) is left out."""

    def text(name: str, limit: int = 200) -> str:
        return str(form.get(name, "")).strip()[:limit]

    chosen = {theme.code: text(f"theme_{theme.code}") for theme in themes}
    return GrantForm(
        kind=text("kind"),
        mandatary_insz=text("mandatary_insz", 32),
        mandatary_family_name=text("mandatary_family_name"),
        mandatary_kbo=text("mandatary_kbo", 32),
        themes={code: access for code, access in chosen.items() if access in ("read", "act")},
        acknowledge_high_risk=text("acknowledge_high_risk") == "on",
        duration=text("duration"),
        until=text("until", 10),
        agree=text("agree") == "on",
        legal_text_version=text("legal_text_version", 10),
        legal_text_language=text("legal_text_language", 2),
        legal_text_sha256=text("legal_text_sha256", 64),
    )


def field_error(field_id: str, message: str) -> dict[str, str]:
    """One entry of the error summary: the id of the field on the page, and what is wrong."""
    return {"field_id": field_id, "message": message}


async def who_errors(conn: asyncpg.Connection, user: SignedIn, form: GrantForm) -> list[dict[str, str]]:
    """Step 1: is the person (number and surname) or the organisation (KBO) known?"""
    if form.kind == "organisation":
        if not form.mandatary_kbo:
            return [field_error("mandatary_kbo", _("Enter the enterprise number of the organisation."))]
        try:
            kbo = parse_kbo(form.mandatary_kbo).digits
        except IdentifierError:
            message = _("This is not a valid enterprise number. It has 10 digits, for example 0403.019.261.")
            return [field_error("mandatary_kbo", message)]
        if await identity_queries.select_organisation_by_kbo(conn, kbo) is None:
            return [field_error("mandatary_kbo", _("No organisation with this enterprise number is known in Vitrine."))]
        return []
    if form.kind != "person":
        return [field_error("kind-person", _("Choose whether you give the mandate to a person or an organisation."))]
    errors = []
    if not form.mandatary_insz:
        errors.append(field_error("mandatary_insz", _("Enter the national number of the person.")))
    if not form.mandatary_family_name:
        errors.append(
            field_error("mandatary_family_name", _("Give the surname of the person, as on their identity card."))
        )
    if errors:
        return errors
    try:
        insz = parse_insz(form.mandatary_insz).digits
    except IdentifierError:
        message = _("This is not a valid national number. It has 11 digits, for example 85.07.30-033.28.")
        return [field_error("mandatary_insz", message)]
    person = await identity_queries.select_person_by_insz(conn, insz)
    # The same answer for an unknown number and a wrong surname: nobody learns who is registered.
    if person is None or service.comparable_name(person.family_name) != service.comparable_name(
        form.mandatary_family_name
    ):
        return [field_error("mandatary_insz", _(_UNKNOWN_PERSON))]
    if person.person_id == user.person.person_id:
        return [field_error("mandatary_insz", _("You cannot give a mandate to yourself."))]
    return []


def what_errors(form: GrantForm, themes: list[ThemeOut]) -> list[dict[str, str]]:
    """Step 2: at least one theme, and the acknowledgement when a theme lets someone act in your name."""
    if not form.themes:
        return [field_error(f"theme-{themes[0].code}", _("Choose at least one theme."))]
    risky = any(theme.high_risk for theme in themes if theme.code in form.themes)
    if risky and not form.acknowledge_high_risk:
        message = _("This mandate lets someone act in your name. Confirm that you understand this.")
        return [field_error("acknowledge_high_risk", message)]
    return []


def _until(form: GrantForm) -> date | None:
    try:
        return date.fromisoformat(form.until) if form.duration == "until_date" and form.until else None
    except ValueError:
        return None


def how_long_errors(form: GrantForm) -> list[dict[str, str]]:
    """Step 3: a duration from the menu, a readable last day when needed, and the consent given."""
    errors = []
    if form.duration not in DURATIONS:
        errors.append(field_error("duration-1_day", _("Choose how long the mandate lasts.")))
    elif form.duration == "until_date" and _until(form) is None:
        errors.append(field_error("until", _("Enter the last day of the mandate as a date, for example 2026-12-31.")))
    if not form.agree:
        errors.append(field_error("agree", _("Tick the box to confirm that you agree, or go back.")))
    return errors


def place(field: str, form: GrantForm, themes: list[ThemeOut]) -> tuple[int, str]:
    """The step and the field id on the page of an error the service names."""
    if field.startswith("mandatary_"):
        return 1, field
    if field == "acknowledge_high_risk":
        return 2, field
    if field.startswith("themes"):
        chosen = [theme.code for theme in themes if theme.code in form.themes]
        match = _THEME_INDEX.match(field)
        index = int(match.group(1)) if match else 0
        return 2, f"theme-{chosen[index] if index < len(chosen) else themes[0].code}"
    if field == "until":
        return 3, "until"
    return 3, "agree"


def invite_data(form: GrantForm, themes: list[ThemeOut]) -> MandateInvite:
    """The invitation as the JSON API would receive it; the service checks every part of it again."""
    chosen = [{"code": theme.code, "access": form.themes[theme.code]} for theme in themes if theme.code in form.themes]
    language = form.legal_text_language if form.legal_text_language in _LANGUAGES else "en"
    return MandateInvite(
        # Converted so that the literal types hold; read_form kept only "read" and "act", step 3 checked duration.
        themes=msgspec.convert(chosen, list[ThemeChoice]),
        duration=msgspec.convert(form.duration, Duration),
        until=_until(form),
        legal_text_version=int(form.legal_text_version) if is_ascii_digits(form.legal_text_version) else 0,
        legal_text_language=msgspec.convert(language, Language),
        legal_text_sha256=form.legal_text_sha256,
        mandatary_insz=form.mandatary_insz if form.kind == "person" else None,
        mandatary_family_name=form.mandatary_family_name if form.kind == "person" else None,
        mandatary_kbo=form.mandatary_kbo if form.kind == "organisation" else None,
        acknowledge_high_risk=form.acknowledge_high_risk,
    )
