"""The citizen's invitation: a pending mandate with its code, and every kind of bad input refused with its field."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
import pytest

from backend.core.errors import Problem
from backend.core.identity.schemas import Person
from consent import codes, ending, event_queries, service
from consent.parties import BRUSSELS
from consent.schemas import MandateInvite, ThemeChoice
from tests.factories import (
    create_mandate,
    create_organisation,
    create_person,
    invite_helper,
    new_insz,
    new_kbo,
    signed_in,
)

CODE_SHAPE = re.compile(f"^[{codes.ALPHABET}]{{4}}-[{codes.ALPHABET}]{{4}}-[{codes.ALPHABET}]{{4}}$")


async def _insz(conn: asyncpg.Connection, person: Person) -> str:
    return str(await conn.fetchval("SELECT insz FROM person_identifiers WHERE person_id = $1", person.person_id))


async def _valid(conn: asyncpg.Connection, citizen: Person, helper: Person) -> MandateInvite:
    text = await service.current_legal_text(conn, citizen.language)
    return MandateInvite(
        mandatary_insz=await _insz(conn, helper),
        mandatary_family_name=helper.family_name,
        themes=[ThemeChoice(code="work_and_wages", access="read")],
        duration="1_year",
        legal_text_version=text.version,
        legal_text_language=text.language,
        legal_text_sha256=text.sha256,
    )


async def _count_mandates(conn: asyncpg.Connection, citizen: Person) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM mandates WHERE citizen_id = $1", citizen.person_id))


async def test_an_invitation_is_a_pending_mandate_with_a_code_shown_once(conn: asyncpg.Connection) -> None:
    citizen = await create_person(conn, given_name="Els", family_name="Claes")
    helper = await create_person(conn, given_name="Jan", family_name="Peeters")
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    created = await invite_helper(conn, citizen, helper=helper, now=now)
    assert CODE_SHAPE.match(created.code)
    assert created.code_expires_at == now + timedelta(days=14)
    mandate = created.mandate
    assert mandate.state == "pending"
    assert mandate.mandatary.name == "Jan Peeters"
    assert mandate.citizen.name == "Els Claes"
    assert [(t.code, t.access, t.version) for t in mandate.themes] == [("work_and_wages", "read", 1)]
    assert mandate.starts_at is None
    assert mandate.ends_at is None
    # Only the hash of the code is stored, never the code.
    stored = await conn.fetchrow("SELECT * FROM mandate_invitations WHERE mandate_id = $1", mandate.mandate_id)
    assert stored is not None
    assert stored["code_sha256"] == codes.code_hash(created.code.replace("-", ""))
    assert not any(created.code.replace("-", "") in str(value) for value in stored.values())
    # The exact consent text is recorded with its hash.
    text = await service.current_legal_text(conn, citizen.language)
    consented = await conn.fetchrow(
        "SELECT legal_text_version, legal_text_language, legal_text_sha256 FROM mandates WHERE mandate_id = $1",
        mandate.mandate_id,
    )
    assert consented is not None
    assert tuple(consented) == (text.version, text.language, text.sha256)
    events = await event_queries.select_events(conn, citizen.person_id, mandate.mandate_id)
    assert [(e.kind, e.actor_side, e.actor_person_id) for e in events] == [("invited", "citizen", citizen.person_id)]


async def test_the_surname_is_compared_without_case_or_accents(conn: asyncpg.Connection) -> None:
    citizen = await create_person(conn)
    helper = await create_person(conn, family_name="Dubois-Lefèvre")
    data = msgspec.structs.replace(await _valid(conn, citizen, helper), mandatary_family_name="dubois lefevre")
    created = await service.invite(conn, await signed_in(conn, citizen), data)
    assert created.mandate.mandatary.person_id == helper.person_id


async def test_an_organisation_is_invited_by_its_enterprise_number(conn: asyncpg.Connection) -> None:
    citizen = await create_person(conn)
    organisation = await create_organisation(conn)
    created = await invite_helper(conn, citizen, organisation=organisation)
    assert created.mandate.mandatary.kind == "organisation"
    assert created.mandate.mandatary.org_id == organisation.org_id
    assert created.mandate.mandatary.name == "OCMW Teststad"  # the citizen reads Dutch


def _until(days: int) -> Callable[[MandateInvite], MandateInvite]:
    today = datetime.now(BRUSSELS).date()
    return lambda data: msgspec.structs.replace(data, duration="until_date", until=today + timedelta(days=days))


def _themes(*choices: tuple[str, str]) -> Callable[[MandateInvite], MandateInvite]:
    return lambda data: msgspec.structs.replace(
        data,
        themes=[ThemeChoice(code=code, access=access) for code, access in choices],  # type: ignore[arg-type]
    )


def _replace(**changes: Any) -> Callable[[MandateInvite], MandateInvite]:
    return lambda data: msgspec.structs.replace(data, **changes)


BAD_INPUT: list[tuple[str, Callable[[MandateInvite], MandateInvite], str]] = [
    ("unknown national number", _replace(mandatary_insz="unknown"), "mandatary_insz"),
    ("malformed national number", _replace(mandatary_insz="12345"), "mandatary_insz"),
    ("wrong surname", _replace(mandatary_family_name="Janssens"), "mandatary_insz"),
    ("no surname", _replace(mandatary_family_name=None), "mandatary_family_name"),
    ("unknown enterprise", _replace(mandatary_insz=None, mandatary_kbo="new"), "mandatary_kbo"),
    ("malformed enterprise", _replace(mandatary_insz=None, mandatary_kbo="0123456789"), "mandatary_kbo"),
    ("person and enterprise", _replace(mandatary_kbo="new"), "mandatary_insz"),
    ("nobody", _replace(mandatary_insz=None), "mandatary_insz"),
    ("end past the maximum", _until(3 * 366 + 1), "until"),
    ("end today", _until(0), "until"),
    ("date without until_date", _replace(until=date(2027, 1, 1)), "until"),
    ("until_date without date", _replace(duration="until_date"), "until"),
    ("unknown theme", _themes(("mandates", "read")), "themes[0].code"),
    ("theme twice", _themes(("posting", "read"), ("posting", "read")), "themes[1].code"),
    ("act on a theme with nothing to do", _themes(("work_and_wages", "act")), "themes[0].access"),
    ("read on a theme with nothing to read", _themes(("corrections", "read")), "themes[0].access"),
    ("high risk not acknowledged", _themes(("corrections", "act")), "acknowledge_high_risk"),
    ("consent text changed", _replace(legal_text_sha256="0" * 64), "legal_text_sha256"),
    ("unknown consent text", _replace(legal_text_version=99), "legal_text_version"),
]


@pytest.mark.parametrize(("case", "change", "field"), BAD_INPUT, ids=[case for case, _, _ in BAD_INPUT])
async def test_bad_input_names_the_field_and_changes_nothing(
    conn: asyncpg.Connection, case: str, change: Callable[[MandateInvite], MandateInvite], field: str
) -> None:
    citizen = await create_person(conn)
    helper = await create_person(conn, family_name="Peeters")
    data = change(await _valid(conn, citizen, helper))
    if data.mandatary_insz == "unknown":
        data = msgspec.structs.replace(data, mandatary_insz=new_insz())
    if data.mandatary_kbo == "new":
        data = msgspec.structs.replace(data, mandatary_kbo=new_kbo())
    with pytest.raises(Problem) as caught:
        await service.invite(conn, await signed_in(conn, citizen), data)
    assert caught.value.status == 422, case
    assert field in [error.field for error in caught.value.errors]
    assert await _count_mandates(conn, citizen) == 0


async def test_unknown_number_and_wrong_surname_get_the_same_answer(conn: asyncpg.Connection) -> None:
    citizen = await create_person(conn)
    helper = await create_person(conn, family_name="Peeters")
    answers = []
    for change in ({"mandatary_insz": new_insz()}, {"mandatary_family_name": "Janssens"}):
        data = msgspec.structs.replace(await _valid(conn, citizen, helper), **change)
        with pytest.raises(Problem) as caught:
            await service.invite(conn, await signed_in(conn, citizen), data)
        answers.append((caught.value.status, caught.value.detail, [(e.field, e.message) for e in caught.value.errors]))
    assert answers[0] == answers[1]


async def test_a_mandate_to_oneself_is_refused(conn: asyncpg.Connection) -> None:
    citizen = await create_person(conn)
    with pytest.raises(Problem) as caught:
        await service.invite(conn, await signed_in(conn, citizen), await _valid(conn, citizen, citizen))
    assert [(e.field, e.message) for e in caught.value.errors] == [
        ("mandatary_insz", "You cannot give a mandate to yourself.")
    ]


async def test_a_second_mandate_for_the_same_helper_and_theme_is_explained(conn: asyncpg.Connection) -> None:
    citizen = await create_person(conn)
    helper = await create_person(conn)
    active = await create_mandate(conn, citizen, helper=helper, themes=(("work_and_wages", "read"),))
    with pytest.raises(Problem) as caught:
        await invite_helper(conn, citizen, helper=helper, themes=(("work_and_wages", "read"), ("posting", "read")))
    assert caught.value.status == 409
    assert caught.value.kind == "mandate-exists"
    assert "renew" in caught.value.detail
    assert "Work and wages" not in caught.value.detail
    assert "Werk en loon" in caught.value.detail
    # Another theme is fine; a waiting invitation blocks a second one until it is cancelled.
    waiting = await invite_helper(conn, citizen, helper=helper, themes=(("posting", "read"),))
    with pytest.raises(Problem) as again:
        await invite_helper(conn, citizen, helper=helper, themes=(("posting", "read"),))
    assert again.value.status == 409
    assert "waiting" in again.value.detail
    await ending.cancel_invitation(conn, await signed_in(conn, citizen), waiting.mandate.mandate_id)
    await invite_helper(conn, citizen, helper=helper, themes=(("posting", "read"),))
    # Renewal is a new consent once the current one has ended.
    await ending.end_mandate(conn, await signed_in(conn, citizen), active.mandate_id, reason="renewing")
    renewed = await invite_helper(conn, citizen, helper=helper, themes=(("work_and_wages", "read"),))
    assert renewed.mandate.state == "pending"


async def test_nobody_gives_mandates_while_acting_for_someone_else(conn: asyncpg.Connection) -> None:
    citizen = await create_person(conn)
    helper = await create_person(conn)
    other = await create_person(conn)
    user = await signed_in(conn, helper, acting_for=citizen)
    with pytest.raises(Problem) as caught:
        await service.invite(conn, user, await _valid(conn, citizen, other))
    assert caught.value.status == 403
    assert await _count_mandates(conn, citizen) == 0
