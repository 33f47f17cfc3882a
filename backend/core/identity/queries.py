"""SQL for people, identifiers, organisations, members and staff: one typed function per statement."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import asyncpg
import msgspec

from backend.core.identity.schemas import (
    IdentifierRecord,
    Membership,
    Organisation,
    Person,
    StaffMember,
)


def _person(row: asyncpg.Record | None) -> Person | None:
    return None if row is None else msgspec.convert(dict(row), Person)


def _organisation(row: asyncpg.Record | None) -> Organisation | None:
    return None if row is None else msgspec.convert(dict(row), Organisation)


async def insert_person(
    conn: asyncpg.Connection,
    *,
    given_name: str,
    family_name: str,
    birth_date: date | None,
    language: str,
    email: str | None,
    phone: str | None,
) -> Person:
    """Create a person and return it."""
    row = await conn.fetchrow(
        """
        INSERT INTO people (given_name, family_name, birth_date, language, email, phone)
        VALUES ($1, $2, $3, $4, $5, $6)
        RETURNING person_id, given_name, family_name, birth_date, language, email, phone
        """,
        given_name,
        family_name,
        birth_date,
        language,
        email,
        phone,
    )
    person = _person(row)
    assert person is not None
    return person


async def select_person(conn: asyncpg.Connection, person_id: UUID) -> Person | None:
    """A person by internal id."""
    return _person(
        await conn.fetchrow(
            """
            SELECT person_id, given_name, family_name, birth_date, language, email, phone
            FROM people WHERE person_id = $1
            """,
            person_id,
        )
    )


async def select_person_by_insz(conn: asyncpg.Connection, insz: str) -> Person | None:
    """The person who has (or had) this national number."""
    row = await conn.fetchrow(
        """
        SELECT p.person_id, p.given_name, p.family_name, p.birth_date, p.language, p.email, p.phone
        FROM person_identifiers AS i JOIN people AS p USING (person_id)
        WHERE i.insz = $1
        """,
        insz,
    )
    return _person(row)


async def update_person_contact(
    conn: asyncpg.Connection, person_id: UUID, *, email: str | None, phone: str | None, language: str
) -> Person | None:
    """Change a person's contact points and language."""
    row = await conn.fetchrow(
        """
        UPDATE people SET email = $2, phone = $3, language = $4, updated_at = now()
        WHERE person_id = $1
        RETURNING person_id, given_name, family_name, birth_date, language, email, phone
        """,
        person_id,
        email,
        phone,
        language,
    )
    return _person(row)


async def insert_identifier(conn: asyncpg.Connection, person_id: UUID, *, insz: str, kind: str) -> None:
    """Give a person a (new, current) national number."""
    await conn.execute(
        "INSERT INTO person_identifiers (person_id, insz, kind) VALUES ($1, $2, $3)", person_id, insz, kind
    )


async def close_current_identifier(conn: asyncpg.Connection, person_id: UUID) -> int:
    """End the validity of a person's current number (before a new one is added)."""
    result = await conn.execute(
        "UPDATE person_identifiers SET valid_to = now() WHERE person_id = $1 AND valid_to IS NULL", person_id
    )
    return int(result.split()[-1])


async def select_identifiers(conn: asyncpg.Connection, person_id: UUID) -> list[IdentifierRecord]:
    """A person's numbers, the current one first."""
    rows = await conn.fetch(
        """
        SELECT insz, kind, valid_to IS NULL AS current
        FROM person_identifiers WHERE person_id = $1
        ORDER BY valid_to IS NULL DESC, valid_from DESC
        """,
        person_id,
    )
    return [msgspec.convert(dict(row), IdentifierRecord) for row in rows]


async def select_current_insz(conn: asyncpg.Connection, person_id: UUID) -> str | None:
    """A person's current national number (for screens and outgoing calls, never for URLs or logs)."""
    value = await conn.fetchval(
        "SELECT insz FROM person_identifiers WHERE person_id = $1 AND valid_to IS NULL", person_id
    )
    return None if value is None else str(value)


async def insert_organisation(
    conn: asyncpg.Connection,
    *,
    kbo: str,
    kind: str,
    code: str | None,
    name_nl: str,
    name_fr: str,
    name_de: str,
) -> Organisation:
    """Create an organisation and return it."""
    row = await conn.fetchrow(
        """
        INSERT INTO organisations (kbo, kind, code, name_nl, name_fr, name_de)
        VALUES ($1, $2, $3, $4, $5, $6)
        RETURNING org_id, kbo, kind, code, name_nl, name_fr, name_de
        """,
        kbo,
        kind,
        code,
        name_nl,
        name_fr,
        name_de,
    )
    organisation = _organisation(row)
    assert organisation is not None
    return organisation


async def select_organisation(conn: asyncpg.Connection, org_id: UUID) -> Organisation | None:
    """An organisation by internal id."""
    return _organisation(
        await conn.fetchrow(
            "SELECT org_id, kbo, kind, code, name_nl, name_fr, name_de FROM organisations WHERE org_id = $1", org_id
        )
    )


async def select_organisation_by_kbo(conn: asyncpg.Connection, kbo: str) -> Organisation | None:
    """An organisation by its ten-digit KBO number."""
    return _organisation(
        await conn.fetchrow(
            "SELECT org_id, kbo, kind, code, name_nl, name_fr, name_de FROM organisations WHERE kbo = $1", kbo
        )
    )


async def select_organisation_by_code(conn: asyncpg.Connection, code: str) -> Organisation | None:
    """An institution by its short code (ONSS, ONEM, ...)."""
    return _organisation(
        await conn.fetchrow(
            "SELECT org_id, kbo, kind, code, name_nl, name_fr, name_de FROM organisations WHERE code = $1", code
        )
    )


async def insert_member(conn: asyncpg.Connection, *, org_id: UUID, person_id: UUID, role: str, pseudonym: str) -> None:
    """Add a person to an organisation in a role (idempotent)."""
    await conn.execute(
        """
        INSERT INTO organisation_members (org_id, person_id, role, pseudonym) VALUES ($1, $2, $3, $4)
        ON CONFLICT (org_id, person_id, role) DO UPDATE SET active = true
        """,
        org_id,
        person_id,
        role,
        pseudonym,
    )


async def select_memberships(conn: asyncpg.Connection, person_id: UUID) -> list[Membership]:
    """A person's active roles in organisations."""
    rows = await conn.fetch(
        """
        SELECT m.org_id, o.name_nl AS org_name_nl, o.name_fr AS org_name_fr, o.name_de AS org_name_de,
               o.kind AS org_kind, m.role, m.pseudonym
        FROM organisation_members AS m JOIN organisations AS o USING (org_id)
        WHERE m.person_id = $1 AND m.active
        ORDER BY o.name_nl, m.role
        """,
        person_id,
    )
    return [msgspec.convert(dict(row), Membership) for row in rows]


async def upsert_staff(
    conn: asyncpg.Connection,
    *,
    person_id: UUID,
    office: str,
    roles: list[str],
    pseudonym: str,
    org_id: UUID | None,
) -> None:
    """Make a person a member of staff, or update their office and roles."""
    await conn.execute(
        """
        INSERT INTO staff_members (person_id, office, roles, pseudonym, org_id) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (person_id) DO UPDATE
            SET office = EXCLUDED.office, roles = EXCLUDED.roles, org_id = EXCLUDED.org_id, active = true
        """,
        person_id,
        office,
        roles,
        pseudonym,
        org_id,
    )


async def select_staff(conn: asyncpg.Connection, person_id: UUID) -> StaffMember | None:
    """A person's staff record, if they are active staff."""
    row = await conn.fetchrow(
        """
        SELECT person_id, office, roles, pseudonym, org_id
        FROM staff_members WHERE person_id = $1 AND active
        """,
        person_id,
    )
    return None if row is None else msgspec.convert(dict(row), StaffMember)
