"""The mandate check other services call: may this person or organisation use this theme for this citizen now?

Each check is written in the citizen's access log (the institution checked; granted when a mandate allows it,
refused with the reason otherwise), so the citizen sees who asked about acting for them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from backend.access_log.schemas import Accessor
from backend.access_log.service import record_access
from backend.core.auth.institution import Institution
from backend.core.errors import FieldError, Problem, validation_problem
from backend.core.i18n import N_
from backend.core.identity import queries as identity_queries
from backend.core.identity.schemas import Person
from backend.core.identity.service import insz_or_problem, kbo_or_problem
from consent import decision_queries, theme_queries
from consent.decision_queries import GrantRow
from consent.schemas import CheckedTheme, MandateCheck, MandateCheckResult, ThemeVersion

NO_MANDATE = N_("no active mandate covers this theme for the one asked about")


def _insz(value: str | None, field: str, errors: list[FieldError]) -> str | None:
    if value is None:
        return None
    try:
        return insz_or_problem(value, field=field).digits
    except Problem as problem:
        errors.extend(problem.errors)
        return None


def _kbo(value: str | None, errors: list[FieldError]) -> str | None:
    if value is None:
        return None
    try:
        return kbo_or_problem(value, field="mandatary_kbo")
    except Problem as problem:
        errors.extend(problem.errors)
        return None


async def _validated(
    conn: asyncpg.Connection, data: MandateCheck, at: datetime
) -> tuple[Person, str | None, str | None, ThemeVersion]:
    """The citizen, the mandatary's number, and the theme; a 422 naming every bad field."""
    errors: list[FieldError] = []
    citizen_insz = _insz(data.citizen_insz, "citizen_insz", errors)
    mandatary_insz = _insz(data.mandatary_insz, "mandatary_insz", errors)
    mandatary_kbo = _kbo(data.mandatary_kbo, errors)
    if (data.mandatary_insz is None) == (data.mandatary_kbo is None):
        errors.append(
            FieldError(field="mandatary_insz", message="give exactly one of mandatary_insz and mandatary_kbo")
        )
    themes = {theme.code: theme for theme in await theme_queries.select_published_themes(conn, at)}
    theme = themes.get(data.theme)
    if theme is None:
        errors.append(FieldError(field="theme", message="is not a published theme"))
    elif data.access not in theme.accesses:
        errors.append(FieldError(field="access", message=f"theme {theme.code} cannot be given as {data.access}"))
    citizen = None if citizen_insz is None else await identity_queries.select_person_by_insz(conn, citizen_insz)
    if citizen_insz is not None and citizen is None:
        errors.append(FieldError(field="citizen_insz", message="no person with this national number is known"))
    if errors or citizen is None or theme is None:
        raise validation_problem(errors)
    return citizen, mandatary_insz, mandatary_kbo, theme


async def check_mandate(
    conn: asyncpg.Connection, institution: Institution, data: MandateCheck, *, now: datetime | None = None
) -> MandateCheckResult:
    """ALLOWED with the mandate's id, active themes and end, or DISALLOWED; logged either way.

    An unknown mandatary is simply not allowed (and logged); an unknown citizen is a 422, having no log.
    """
    at = now or datetime.now(UTC)
    citizen, mandatary_insz, mandatary_kbo, theme = await _validated(conn, data, at)
    person = None if mandatary_insz is None else await identity_queries.select_person_by_insz(conn, mandatary_insz)
    organisation = (
        None if mandatary_kbo is None else await identity_queries.select_organisation_by_kbo(conn, mandatary_kbo)
    )
    grants: list[GrantRow] = []
    if person is not None or organisation is not None:
        grants = await decision_queries.select_active_grants(
            conn,
            citizen.person_id,
            mandatary_person_id=None if person is None else person.person_id,
            mandatary_org_id=None if organisation is None else organisation.org_id,
            at=at,
        )
    matching = [g for g in grants if g.theme_code == theme.code and (data.access == "read" or g.access == "act")]
    result = MandateCheckResult(result="DISALLOWED", mandate_id=None, themes=[], valid_until=None)
    if matching:
        found = matching[0]
        result = MandateCheckResult(
            result="ALLOWED",
            mandate_id=found.mandate_id,
            themes=[
                CheckedTheme(code=g.theme_code, version=g.theme_version, access=g.access)
                for g in grants
                if g.mandate_id == found.mandate_id
            ],
            valid_until=found.ends_at,
        )
    caller = institution.caller
    await record_access(
        conn,
        citizen_id=citizen.person_id,
        accessor=Accessor(kind="institution", org_id=caller.org_id, client_id=caller.client_id),
        action="check",
        channel="api",
        outcome="granted" if matching else "denied",
        reason=None if matching else NO_MANDATE,
        categories=list(theme.categories or theme.actions),
        purpose_code=None if institution.purpose is None else institution.purpose.code,
        legal_basis_ref=None if institution.purpose is None else institution.purpose.authorisation_ref,
        mandate_id=result.mandate_id,
    )
    return result
