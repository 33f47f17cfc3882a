"""Rules for people and organisations: validated national and enterprise numbers, identifier history.

Services take a connection and never commit.
"""

from __future__ import annotations

import hashlib
import hmac
from uuid import UUID

import asyncpg

from backend.core.errors import FieldError, Problem, validation_problem
from backend.core.identifiers import IdentifierError, Insz, parse_insz, parse_kbo
from backend.core.identity import queries
from backend.core.identity.schemas import (
    Organisation,
    OrganisationCreate,
    Person,
    PersonCreate,
    StaffRole,
)

_IDENTIFIER_MESSAGES = {
    "format": "may contain only digits, dots, dashes and spaces",
    "length": "must have the right number of digits",
    "checksum": "check digits do not match",
    "birth_date": "does not contain a valid birth date",
    "future": "would mean a birth date in the future",
}


def insz_or_problem(value: str, *, field: str = "insz") -> Insz:
    """Parse a national number, or raise a 422 naming the field and the check that failed."""
    try:
        return parse_insz(value)
    except IdentifierError as exc:
        message = f"National number {_IDENTIFIER_MESSAGES.get(exc.code, 'is not valid')} ({exc.code})"
        raise validation_problem([FieldError(field=field, message=message)]) from None


def kbo_or_problem(value: str, *, field: str = "kbo") -> str:
    """Parse an enterprise number to its ten digits, or raise a 422 naming the field and the failed check."""
    try:
        return parse_kbo(value).digits
    except IdentifierError as exc:
        message = f"Enterprise number {_IDENTIFIER_MESSAGES.get(exc.code, 'is not valid')} ({exc.code})"
        raise validation_problem([FieldError(field=field, message=message)]) from None


async def register_person(conn: asyncpg.Connection, data: PersonCreate) -> Person:
    """Register a person with their national number; a number already known is a conflict."""
    insz = insz_or_problem(data.insz)
    if await queries.select_person_by_insz(conn, insz.digits) is not None:
        raise Problem(
            409,
            "This national number belongs to a person already registered.",
            kind="duplicate",
            errors=[FieldError(field="insz", message="already registered")],
        )
    person = await queries.insert_person(
        conn,
        given_name=data.given_name,
        family_name=data.family_name,
        birth_date=data.birth_date or insz.birth_date,
        language=data.language,
        email=data.email,
        phone=data.phone,
    )
    await queries.insert_identifier(conn, person.person_id, insz=insz.digits, kind=insz.kind)
    return person


async def change_national_number(conn: asyncpg.Connection, person_id: UUID, new_insz: str) -> None:
    """Give a person a new number; the old one keeps pointing at the same person (relinking)."""
    insz = insz_or_problem(new_insz)
    owner = await queries.select_person_by_insz(conn, insz.digits)
    if owner is not None:
        if owner.person_id == person_id:
            return
        raise Problem(
            409,
            "This national number belongs to another person.",
            kind="duplicate",
            errors=[FieldError(field="insz", message="belongs to another person")],
        )
    if await queries.select_person(conn, person_id) is None:
        raise Problem(404, "No such person.")
    await queries.close_current_identifier(conn, person_id)
    await queries.insert_identifier(conn, person_id, insz=insz.digits, kind=insz.kind)


async def find_person_by_insz(conn: asyncpg.Connection, value: str, *, field: str = "insz") -> Person | None:
    """The person with this (current or former) national number; a malformed number is a 422."""
    return await queries.select_person_by_insz(conn, insz_or_problem(value, field=field).digits)


async def register_organisation(conn: asyncpg.Connection, data: OrganisationCreate) -> Organisation:
    """Register an organisation by a valid KBO number; a known number is a conflict."""
    kbo = kbo_or_problem(data.kbo)
    if await queries.select_organisation_by_kbo(conn, kbo) is not None:
        raise Problem(
            409,
            "This enterprise number is already registered.",
            kind="duplicate",
            errors=[FieldError(field="kbo", message="already registered")],
        )
    return await queries.insert_organisation(
        conn,
        kbo=kbo,
        kind=data.kind,
        code=data.code,
        name_nl=data.name_nl,
        name_fr=data.name_fr,
        name_de=data.name_de,
    )


def pseudonym_for(secret: str, *, scope: str, person_id: UUID) -> str:
    """A stable pseudonymous reference for an agent or staff member, shown to citizens instead of a name.

    It is an HMAC so that it cannot be reversed without the key; reviewers reveal the person within a case.
    """
    digest = hmac.new(secret.encode(), f"{scope}:{person_id}".encode(), hashlib.sha256).hexdigest()
    return f"{scope[:3].upper()}-{digest[:10].upper()}"


async def add_member(conn: asyncpg.Connection, *, org_id: UUID, person_id: UUID, role: str, secret: str) -> None:
    """Make a person an access manager or agent of an organisation."""
    await queries.insert_member(
        conn,
        org_id=org_id,
        person_id=person_id,
        role=role,
        pseudonym=pseudonym_for(secret, scope=f"org:{org_id}", person_id=person_id),
    )


async def make_staff(
    conn: asyncpg.Connection,
    *,
    person_id: UUID,
    office: str,
    roles: list[StaffRole],
    secret: str,
    org_id: UUID | None = None,
) -> None:
    """Make a person a member of staff with roles at an office."""
    await queries.upsert_staff(
        conn,
        person_id=person_id,
        office=office,
        roles=list(roles),
        pseudonym=pseudonym_for(secret, scope="staff", person_id=person_id),
        org_id=org_id,
    )
