"""Plain data helpers: create rows through the real services, with overridable defaults."""

from __future__ import annotations

import itertools
import re
from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx

from backend.core.identifiers import kbo_check_digits, make_insz
from backend.core.identity import service
from backend.core.identity.schemas import Organisation, OrganisationCreate, Person, PersonCreate

_serials = itertools.count(500)
_kbo_prefixes = itertools.count(40_000_000)
TEST_SECRET = "test-secret-for-pseudonyms-0000000000000"


def new_insz() -> str:
    """A valid national number not used by any other test in this run."""
    number = next(_serials)
    return make_insz(date(1960, 1, 1) + timedelta(days=number // 900), number % 900 + 1)


def new_kbo() -> str:
    """A valid enterprise number not used by any other test in this run."""
    first8 = f"0{next(_kbo_prefixes) % 10_000_000:07d}"
    return f"{first8}{kbo_check_digits(first8):02d}"


async def create_person(conn: asyncpg.Connection, **overrides: Any) -> Person:
    """A registered person (with a fresh national number unless one is given)."""
    data = {"insz": new_insz(), "given_name": "An", "family_name": "Claes", "language": "nl", **overrides}
    return await service.register_person(conn, PersonCreate(**data))


async def create_organisation(conn: asyncpg.Connection, **overrides: Any) -> Organisation:
    """A registered organisation (a CPAS unless told otherwise)."""
    data = {
        "kbo": new_kbo(),
        "kind": "cpas",
        "name_nl": "OCMW Teststad",
        "name_fr": "CPAS de Testville",
        "name_de": "ÖSHZ Teststadt",
        **overrides,
    }
    return await service.register_organisation(conn, OrganisationCreate(**data))


async def create_agent(conn: asyncpg.Connection, organisation: Organisation, **overrides: Any) -> Person:
    """A person who works as an agent of the organisation."""
    person = await create_person(conn, **overrides)
    await service.add_member(
        conn, org_id=organisation.org_id, person_id=person.person_id, role="agent", secret=TEST_SECRET
    )
    return person


async def create_staff(conn: asyncpg.Connection, *roles: str, **overrides: Any) -> Person:
    """A person on staff with the given roles at a test office."""
    person = await create_person(conn, **overrides)
    await service.make_staff(
        conn,
        person_id=person.person_id,
        office="Test desk",
        roles=list(roles or ("support",)),  # type: ignore[arg-type]
        secret=TEST_SECRET,
    )
    return person


_CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')


async def csrf_token(client: httpx.AsyncClient, path: str = "/") -> str:
    """Load a page and return the CSRF token of its forms (the cookie is kept by the client)."""
    response = await client.get(path)
    match = _CSRF_FIELD.search(response.text)
    assert match, f"no CSRF field on {path}"
    return match.group(1)


async def sign_in_client(client: httpx.AsyncClient, conn: asyncpg.Connection, secret_key: str, person: Person) -> Any:
    """Sign a person in on an in-process client (a demo session row and its cookie); returns the session id."""
    from backend.core.auth import sessions  # only the helpers that sign in need the session module

    session_id = await sessions.insert_session(conn, person_id=person.person_id, method="demo")
    client.cookies.set(
        sessions.cookie_name(False),
        sessions.issue_token(secret_key, session_id=session_id, person_id=person.person_id),
    )
    return session_id


# Mandates (consent): sign-in contexts, invitations and accepted mandates through the real services.


async def signed_in(
    conn: asyncpg.Connection, person: Person, *, acting_org: Any = None, acting_for: Person | None = None
) -> Any:
    """The SignedIn a session of this person resolves to (memberships read from the database)."""
    import uuid

    from backend.core.auth.actors import SignedIn
    from backend.core.identity import queries as identity_queries

    memberships = tuple(await identity_queries.select_memberships(conn, person.person_id))
    return SignedIn(
        person=person,
        session_id=uuid.uuid4(),
        memberships=memberships,
        staff=None,
        acting_for=acting_for,
        acting_org=acting_org,
    )


async def create_access_manager(conn: asyncpg.Connection, organisation: Organisation, **overrides: Any) -> Person:
    """A person who is access manager of the organisation."""
    person = await create_person(conn, **overrides)
    await service.add_member(
        conn, org_id=organisation.org_id, person_id=person.person_id, role="access_manager", secret=TEST_SECRET
    )
    return person


async def invite_helper(
    conn: asyncpg.Connection,
    citizen: Person,
    *,
    helper: Person | None = None,
    organisation: Organisation | None = None,
    themes: tuple[tuple[str, str], ...] = (("work_and_wages", "read"),),
    duration: str = "1_year",
    until: date | None = None,
    now: Any = None,
) -> Any:
    """A pending mandate from citizen to a helper or an organisation, as the citizen's invitation makes it."""
    from consent import service as consent_service
    from consent.schemas import MandateInvite, ThemeChoice

    text = await consent_service.current_legal_text(conn, citizen.language, now=now)
    data = MandateInvite(
        mandatary_insz=None if helper is None else await _current_insz(conn, helper),
        mandatary_family_name=None if helper is None else helper.family_name,
        mandatary_kbo=None if organisation is None else organisation.kbo,
        themes=[ThemeChoice(code=code, access=access) for code, access in themes],  # type: ignore[arg-type]
        duration=duration,  # type: ignore[arg-type]
        until=until,
        legal_text_version=text.version,
        legal_text_language=text.language,
        legal_text_sha256=text.sha256,
        acknowledge_high_risk=True,
    )
    return await consent_service.invite(conn, await signed_in(conn, citizen), data, now=now)


async def _current_insz(conn: asyncpg.Connection, person: Person) -> str:
    from backend.core.identity import queries as identity_queries

    insz = await identity_queries.select_current_insz(conn, person.person_id)
    assert insz is not None
    return insz


async def create_mandate(
    conn: asyncpg.Connection,
    citizen: Person,
    *,
    helper: Person | None = None,
    organisation: Organisation | None = None,
    accepted_by: Person | None = None,
    themes: tuple[tuple[str, str], ...] = (("work_and_wages", "read"),),
    duration: str = "1_year",
    now: Any = None,
) -> Any:
    """An accepted (active) mandate; for an organisation, `accepted_by` is one of its access managers."""
    from consent.invitations import accept_invitation

    invitation = await invite_helper(
        conn, citizen, helper=helper, organisation=organisation, themes=themes, duration=duration, now=now
    )
    accepter = helper if helper is not None else accepted_by
    assert accepter is not None, "an organisation's mandate is accepted by one of its access managers"
    return await accept_invitation(conn, await signed_in(conn, accepter), invitation.code, now=now)
