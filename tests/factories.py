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
