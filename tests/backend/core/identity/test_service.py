"""People and organisations: validated numbers, identifier history, conflicts."""

from __future__ import annotations

import asyncpg
import pytest

from backend.core.errors import Problem
from backend.core.identity import queries, service
from backend.core.identity.schemas import PersonCreate
from tests.factories import create_organisation, create_person, new_insz, new_kbo


async def test_a_person_is_found_by_national_number_and_never_exposes_it(conn: asyncpg.Connection) -> None:
    insz = new_insz()
    person = await create_person(conn, insz=insz, given_name="Els")
    found = await service.find_person_by_insz(conn, f"{insz[:2]}.{insz[2:4]}.{insz[4:6]}-{insz[6:9]}.{insz[9:]}")
    assert found == person
    assert insz not in repr(person)
    assert person.birth_date is not None, "the birth date is taken from the number when not given"


@pytest.mark.parametrize(
    ("value", "check"),
    [("85073003327", "checksum"), ("8507300332", "length"), ("85O73003328", "format"), ("85133003328", "birth_date")],
)
async def test_an_invalid_number_is_refused_naming_the_check(conn: asyncpg.Connection, value: str, check: str) -> None:
    with pytest.raises(Problem) as caught:
        await service.register_person(conn, PersonCreate(insz=value, given_name="X", family_name="Y"))
    assert caught.value.status == 422
    assert caught.value.errors[0].field == "insz"
    assert f"({check})" in caught.value.errors[0].message
    assert value not in caught.value.errors[0].message
    assert await conn.fetchval("SELECT count(*) FROM people WHERE given_name = 'X'") == 0


async def test_a_number_cannot_be_registered_twice(conn: asyncpg.Connection) -> None:
    insz = new_insz()
    await create_person(conn, insz=insz)
    with pytest.raises(Problem) as caught:
        await create_person(conn, insz=insz)
    assert caught.value.status == 409


async def test_a_changed_number_keeps_the_person_and_the_old_number_still_finds_them(conn: asyncpg.Connection) -> None:
    old, new = new_insz(), new_insz()
    person = await create_person(conn, insz=old)
    await service.change_national_number(conn, person.person_id, new)
    assert await service.find_person_by_insz(conn, new) == person
    assert await service.find_person_by_insz(conn, old) == person
    assert await queries.select_current_insz(conn, person.person_id) == new
    history = await queries.select_identifiers(conn, person.person_id)
    assert [(record.insz, record.current) for record in history] == [(new, True), (old, False)]


async def test_someone_else_s_number_is_refused(conn: asyncpg.Connection) -> None:
    first, second = await create_person(conn), await create_person(conn)
    taken = await queries.select_current_insz(conn, second.person_id)
    assert taken is not None
    with pytest.raises(Problem) as caught:
        await service.change_national_number(conn, first.person_id, taken)
    assert caught.value.status == 409


async def test_organisations_need_a_valid_unique_kbo(conn: asyncpg.Connection) -> None:
    kbo = new_kbo()
    organisation = await create_organisation(conn, kbo=f"BE {kbo[:4]}.{kbo[4:7]}.{kbo[7:]}")
    assert organisation.kbo == kbo
    assert organisation.name("de") == "ÖSHZ Teststadt"
    assert organisation.name("en") == "CPAS de Testville"
    with pytest.raises(Problem) as duplicate:
        await create_organisation(conn, kbo=kbo)
    assert duplicate.value.status == 409
    with pytest.raises(Problem) as invalid:
        await create_organisation(conn, kbo=kbo[:-1] + str((int(kbo[-1]) + 1) % 10))
    assert invalid.value.errors[0].field == "kbo"


async def test_pseudonyms_are_stable_and_reveal_nothing(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    first = service.pseudonym_for("k" * 40, scope="staff", person_id=person.person_id)
    assert first == service.pseudonym_for("k" * 40, scope="staff", person_id=person.person_id)
    assert first != service.pseudonym_for("j" * 40, scope="staff", person_id=person.person_id)
    assert str(person.person_id) not in first
