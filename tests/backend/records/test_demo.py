"""Demo records: declared through the real ingest as the demo ONSS, idempotent, and telling the personas'
stories (Sofie close to the flexi ceiling)."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from backend.core.identity.demo import PERSONAS, seed_identity
from backend.core.identity.queries import select_person_by_insz
from backend.records.demo import demo_events, seed_records
from backend.records.flexi import flexi_ceiling_for_year
from backend.records.queries import select_flexi_counter, select_records
from tests.factories import TEST_SECRET


async def _person_id(conn: asyncpg.Connection, key: str) -> UUID:
    insz = next(persona.insz for persona in PERSONAS if persona.key == key)
    person = await select_person_by_insz(conn, insz)
    assert person is not None
    return person.person_id


async def test_without_the_demo_identity_nothing_is_seeded(conn: asyncpg.Connection) -> None:
    assert await seed_records(conn) == 0


async def test_the_demo_records_are_seeded_once(conn: asyncpg.Connection) -> None:
    await seed_identity(conn, secret=TEST_SECRET)
    first = await seed_records(conn)
    assert first == len(demo_events())
    assert await seed_records(conn) == 0

    sofie = await _person_id(conn, "sofie")
    counter = await select_flexi_counter(conn, sofie, 2026)
    ceiling = flexi_ceiling_for_year(2026)
    assert counter is not None
    assert ceiling is not None
    assert counter.total_cents == 1_530_000
    assert 0.84 < counter.total_cents / ceiling.amount_cents < 0.86
    assert counter.last_declared_month == "2026-10"
    records = await select_records(conn, sofie)
    flexi_employers = {
        r.payload["employer_kbo"]
        for r in records
        if r.category == "dimona" and r.payload and r.payload["worker_type"] == "FLX"
    }
    assert len(flexi_employers) == 2
    assert {r.category for r in records} == {"dimona", "dmfa", "flexi_wages"}
    assert sum(r.status == "corrected" for r in records) == 1

    expected = {
        "jean": {"dimona", "flexi_wages"},
        "lena": {"dimona"},
        "tomasz": {"limosa"},
        "pieter": {"dimona", "a1", "drs"},
    }
    for key, categories in expected.items():
        held = await select_records(conn, await _person_id(conn, key))
        assert {r.category for r in held} == categories, key
    lena = await select_records(conn, await _person_id(conn, "lena"))
    assert {r.payload["worker_type"] for r in lena if r.payload} == {"STU"}
