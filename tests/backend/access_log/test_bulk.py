"""Bulk appends build exactly the chains that one-by-one appends build."""

from __future__ import annotations

import asyncpg
import pytest

from backend.access_log import queries
from backend.access_log.bulk import NewAccess, record_accesses
from backend.access_log.schemas import Accessor
from backend.access_log.service import record_access
from backend.access_log.verify import verify_citizen
from tests.factories import create_person

ONEM = Accessor(kind="institution", client_id="onem-test")


async def test_a_batch_extends_existing_chains_gap_free(conn: asyncpg.Connection) -> None:
    first, second = await create_person(conn), await create_person(conn)
    await record_access(conn, citizen_id=first.person_id, accessor=ONEM, action="read", channel="api")
    batch = [
        NewAccess(citizen_id=citizen, accessor=ONEM, action="read", channel="batch", record_refs=(f"r{number}",))
        for number, citizen in enumerate([first.person_id, second.person_id] * 5)
    ]
    events = await record_accesses(conn, batch)
    assert len(events) == 10
    for person, expected in ((first, list(range(1, 7))), (second, list(range(1, 6)))):
        chain = await queries.select_chain(conn, person.person_id)
        assert [event.seq for event in chain] == expected
        report = await verify_citizen(conn, person.person_id)
        assert report.broken is None, report.broken
    # Order within a citizen follows the batch.
    refs = [event.record_refs[0] for event in await queries.select_chain(conn, second.person_id)]
    assert refs == ["r1", "r3", "r5", "r7", "r9"]


async def test_a_refusal_without_reason_stores_nothing(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    with pytest.raises(ValueError, match="reason"):
        await record_accesses(
            conn,
            [
                NewAccess(citizen_id=person.person_id, accessor=ONEM, action="read", channel="api"),
                NewAccess(citizen_id=person.person_id, accessor=ONEM, action="read", channel="api", outcome="denied"),
            ],
        )
    assert await queries.select_chain(conn, person.person_id) == []
    assert await record_accesses(conn, []) == []
