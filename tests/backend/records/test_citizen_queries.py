"""The reference data version read with the overview's counts, and what the overview reads because of it."""

from __future__ import annotations

import asyncio

import asyncpg
from asyncpg.connection import LoggedQuery

from backend.records.citizen import records_overview
from backend.records.citizen_queries import select_category_summaries
from tests.backend.records.citizen_data import make_citizen_file
from tests.backend.records.institutions import Institution
from tests.factories import create_person


async def _version(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT version FROM reference_data_version"))


async def test_every_change_to_institutions_or_purposes_is_a_new_version_never_reused(
    conn: asyncpg.Connection,
) -> None:
    start = await _version(conn)
    await conn.execute("UPDATE organisations SET name_de = name_de WHERE code = 'ONEM'")
    renamed = await _version(conn)
    assert renamed != start
    await conn.execute("UPDATE purposes SET active = active WHERE code = 'unemployment_benefit'")
    assert await _version(conn) not in (start, renamed)
    # A change that is rolled back takes its number with it: the next change gets another one.
    before = await _version(conn)
    undone = conn.transaction()
    await undone.start()
    await conn.execute("UPDATE organisations SET name_fr = 'Nom provisoire' WHERE code = 'ONEM'")
    abandoned = await _version(conn)
    await undone.rollback()
    assert await _version(conn) == before
    await conn.execute("UPDATE organisations SET name_fr = name_fr WHERE code = 'ONEM'")
    assert await _version(conn) not in (before, abandoned)


async def test_counts_come_with_the_version_even_for_a_person_without_records(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    counts = await select_category_summaries(conn, person.person_id)
    assert counts.summaries == []
    assert counts.reference_version == await _version(conn)


async def test_the_overview_reads_institutions_again_only_when_they_changed(
    conn: asyncpg.Connection, onss: Institution
) -> None:
    file = await make_citizen_file(conn, onss, language="nl")
    statements: list[str] = []

    def logged(query: LoggedQuery) -> None:
        statements.append(query.query)

    await records_overview(conn, file.person.person_id, language="nl")
    conn.add_query_logger(logged)
    try:
        await records_overview(conn, file.person.person_id, language="nl")
        await asyncio.sleep(0)  # asyncpg calls the loggers soon after each statement, not during it
        assert len(statements) == 1, statements  # the counts and the version, nothing else
        await conn.execute("UPDATE organisations SET name_nl = 'Rijksdienst, hernoemd' WHERE code = 'ONEM'")
        await asyncio.sleep(0)
        statements.clear()
        overview = await records_overview(conn, file.person.person_id, language="nl")
        await asyncio.sleep(0)
        assert len(statements) == 2, statements  # the counts, then the institutions of the new version
    finally:
        conn.remove_query_logger(logged)
    dimona = next(card for card in overview.categories if card.code == "dimona")
    assert "Rijksdienst, hernoemd" in [recipient.institution for recipient in dimona.recipients]
