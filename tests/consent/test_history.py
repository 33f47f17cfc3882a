"""What the database itself guarantees: published themes and consent texts never change, the history only grows,
mandates only move forward; and the scheduled sweeps (expiry, reminders) do their work once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from consent import event_queries
from consent.sweeps import due_expiry_reminders, expire_mandates
from tests.factories import create_mandate, create_organisation, create_person, invite_helper


@pytest.fixture
async def as_owner(conn: asyncpg.Connection) -> AsyncIterator[asyncpg.Connection]:
    """The test's connection acting as the schema owner instead of the application role."""
    await conn.execute("RESET ROLE")
    try:
        yield conn
    finally:
        await conn.execute("SET ROLE vitrine_app")


async def _refused(conn: asyncpg.Connection, statement: str, *args: object, match: str | None = None) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match=match):
        async with conn.transaction():
            await conn.execute(statement, *args)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE mandate_theme_versions SET categories = array_append(categories, 'drs') WHERE code = 'work_and_wages'",
        "DELETE FROM mandate_theme_versions WHERE code = 'posting'",
        "UPDATE mandate_legal_texts SET text = text || ' (and more)' WHERE language = 'en'",
        "DELETE FROM mandate_legal_texts WHERE language = 'de'",
    ],
)
async def test_catalogues_are_read_only_for_the_application(conn: asyncpg.Connection, statement: str) -> None:
    assert await conn.fetchval("SELECT current_user") == "vitrine_app"
    await _refused(conn, statement)


async def test_published_themes_are_immutable_even_for_the_owner(as_owner: asyncpg.Connection) -> None:
    conn = as_owner
    for statement in (
        "UPDATE mandate_theme_versions SET categories = array_append(categories, 'drs') WHERE code = 'work_and_wages'",
        "UPDATE mandate_theme_versions SET name_en = 'Work' WHERE code = 'work_and_wages'",
        "DELETE FROM mandate_theme_versions WHERE code = 'posting'",
        "TRUNCATE mandate_theme_versions CASCADE",
    ):
        await _refused(conn, statement, match="immutable")
    # A draft may still be edited; once published, it is frozen like the others.
    await conn.execute(
        """
        INSERT INTO mandate_theme_versions (code, version, categories, name_nl, name_fr, name_de, name_en,
            description_nl, description_fr, description_de, description_en)
        VALUES ('posting', 2, ARRAY['limosa'], 'D', 'D', 'D', 'D', 'd', 'd', 'd', 'd')
        """
    )
    await conn.execute("UPDATE mandate_theme_versions SET categories = ARRAY['limosa', 'a1'] WHERE version = 2")
    await conn.execute("UPDATE mandate_theme_versions SET published_at = now() WHERE version = 2")
    await _refused(
        conn, "UPDATE mandate_theme_versions SET categories = ARRAY['a1'] WHERE version = 2", match="immutable"
    )


async def test_consent_texts_are_immutable_even_for_the_owner(as_owner: asyncpg.Connection) -> None:
    for statement in (
        "UPDATE mandate_legal_texts SET published_at = now() WHERE language = 'nl'",
        "DELETE FROM mandate_legal_texts WHERE language = 'fr'",
        "TRUNCATE mandate_legal_texts CASCADE",
    ):
        await _refused(as_owner, statement, match="immutable")


async def test_a_consent_text_must_match_its_hash(as_owner: asyncpg.Connection) -> None:
    with pytest.raises(asyncpg.CheckViolationError):
        async with as_owner.transaction():
            await as_owner.execute(
                "INSERT INTO mandate_legal_texts (version, language, text, sha256) VALUES (2, 'en', $1, $2)",
                "A consent text long enough to pass the length check, " * 3,
                "0" * 64,
            )


async def test_the_history_is_append_only_for_everyone(conn: asyncpg.Connection) -> None:
    citizen = await create_person(conn)
    mandate = await create_mandate(conn, citizen, helper=await create_person(conn))
    for statement in (
        "UPDATE mandate_events SET reason = 'nothing happened' WHERE citizen_id = $1",
        "DELETE FROM mandate_events WHERE citizen_id = $1",
    ):
        await _refused(conn, statement, citizen.person_id)
    await _refused(conn, "TRUNCATE mandate_events")
    await conn.execute("RESET ROLE")
    try:
        for statement in (
            "UPDATE mandate_events SET reason = 'nothing happened' WHERE citizen_id = $1",
            "DELETE FROM mandate_events WHERE citizen_id = $1",
        ):
            await _refused(conn, statement, citizen.person_id, match="append-only")
        await _refused(conn, "TRUNCATE mandate_events", match="append-only")
        # Mandates themselves only move forward and are never deleted, whoever asks.
        await _refused(
            conn,
            "UPDATE mandates SET ends_at = ends_at + interval '1 year' WHERE mandate_id = $1",
            mandate.mandate_id,
            match="moves forward",
        )
        await _refused(conn, "DELETE FROM mandates WHERE mandate_id = $1", mandate.mandate_id, match="never deleted")
        await _refused(
            conn,
            "UPDATE mandate_themes SET access = 'act' WHERE mandate_id = $1",
            mandate.mandate_id,
            match="moves forward",
        )
    finally:
        await conn.execute("SET ROLE vitrine_app")
    assert [e.kind for e in await event_queries.select_events(conn, citizen.person_id, mandate.mandate_id)] == [
        "invited",
        "accepted",
    ]


async def test_the_sweeper_marks_expired_mandates_once(conn: asyncpg.Connection) -> None:
    now = datetime.now(UTC)
    citizen = await create_person(conn)
    ended = await create_mandate(
        conn, citizen, helper=await create_person(conn), duration="1_day", now=now - timedelta(days=2)
    )
    lapsed = await invite_helper(conn, citizen, helper=await create_person(conn), now=now - timedelta(days=15))
    running = await create_mandate(conn, citizen, helper=await create_person(conn))
    assert await expire_mandates(conn, now=now) >= 2
    assert await expire_mandates(conn, now=now) == 0
    for mandate_id in (ended.mandate_id, lapsed.mandate.mandate_id):
        events = await event_queries.select_events(conn, citizen.person_id, mandate_id)
        assert (events[-1].kind, events[-1].actor_side) == ("expired", "system")
    running_kinds = [e.kind for e in await event_queries.select_events(conn, citizen.person_id, running.mandate_id)]
    assert "expired" not in running_kinds


async def test_expiry_reminders_are_claimed_once_for_both_sides(conn: asyncpg.Connection) -> None:
    now = datetime.now(UTC)
    citizen = await create_person(conn)
    organisation = await create_organisation(conn)
    from tests.factories import create_access_manager

    manager = await create_access_manager(conn, organisation)
    # One month accepted 20 days ago: ends in about 10 days.
    soon = await create_mandate(
        conn, citizen, organisation=organisation, accepted_by=manager, duration="1_month", now=now - timedelta(days=20)
    )
    await create_mandate(conn, citizen, helper=await create_person(conn), duration="1_year")  # not soon
    await create_mandate(conn, citizen, helper=await create_person(conn), duration="1_day")  # too short to remind
    due = [r for r in await due_expiry_reminders(conn, now=now) if r.citizen_id == citizen.person_id]
    assert [(r.mandate_id, r.mandatary_org_id, r.ends_at) for r in due] == [
        (soon.mandate_id, organisation.org_id, soon.ends_at)
    ]
    rows = await conn.fetch("SELECT kind FROM mandate_reminders WHERE citizen_id = $1 ORDER BY kind", citizen.person_id)
    assert [row["kind"] for row in rows] == ["expiry_citizen", "expiry_mandatary"]
    assert not [r for r in await due_expiry_reminders(conn, now=now) if r.citizen_id == citizen.person_id]
    kinds = [e.kind for e in await event_queries.select_events(conn, citizen.person_id, soon.mandate_id)]
    assert kinds.count("expiry_reminded") == 1
