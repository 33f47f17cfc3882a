"""Bulk appends build exactly the chains that one-by-one appends build."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

import asyncpg
import pytest

from backend.access_log import queries
from backend.access_log.bulk import NewAccess, record_accesses
from backend.access_log.chain import CHAIN_VERSION, HASHED_FIELDS, event_hash, row_hash, timestamp_us, versioned_hash
from backend.access_log.schemas import Accessor
from backend.access_log.service import record_access
from backend.access_log.verify import verify_citizen
from backend.core.db import connect, create_pool, pool_source, transaction
from backend.core.migrations import migrate
from tests.factories import create_organisation, create_person

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
    with pytest.raises(TypeError, match="tuples"):
        await record_accesses(
            conn,
            [NewAccess(citizen_id=person.person_id, accessor=ONEM, action="read", channel="api", categories=["x"])],  # type: ignore[arg-type]
        )


def test_the_positional_hash_is_the_canonical_hash() -> None:
    fields: dict[str, Any] = {
        "citizen_id": uuid.uuid4(),
        "seq": 7,
        "event_id": uuid.uuid4(),
        "occurred_at": datetime(2026, 3, 1, 23, 30, 0, 123456, tzinfo=UTC),
        "logged_at": datetime(2026, 3, 2, 8, 0, tzinfo=timezone(timedelta(hours=1))),
        "actor_kind": "institution",
        "actor_org_id": uuid.uuid4(),
        "actor_client_id": "onem-test",
        "actor_system": "desk",
        "actor_role": None,
        "actor_ref": "ref-1",
        "mandate_id": None,
        "purpose_code": "unemployment_benefit",
        "legal_basis_ref": "IVC/KSZG/1",
        "categories": ["dimona", "dmfa"],
        "record_refs": ["r1", "é"],
        "case_ref": None,
        "channel": "api",
        "action": "read",
        "outcome": "denied",
        "reason": "no mandate",
        "source": "onem-test",
        "source_event_id": "42",
    }
    previous = bytes(range(32))
    values = [fields[name] for name in HASHED_FIELDS]
    occurred, logged = timestamp_us(fields["occurred_at"]), timestamp_us(fields["logged_at"])
    assert row_hash(previous, values, occurred, logged) == event_hash(previous, fields)
    versioned = [CHAIN_VERSION, *values]
    versioned[1 + HASHED_FIELDS.index("occurred_at")] = occurred
    versioned[1 + HASHED_FIELDS.index("logged_at")] = logged
    assert versioned_hash(previous, versioned) == event_hash(previous, fields)


async def test_every_column_is_stored_as_returned_and_hashed(conn: asyncpg.Connection) -> None:
    # The rows are encoded by hand for the binary COPY: every column, NULL or not, non-ASCII text, empty, repeated
    # and unsorted arrays, an explicit and a default occurrence time must come back as the events returned.
    person, other = await create_person(conn), await create_person(conn)
    full = Accessor(
        kind="agent", org_id=uuid.uuid4(), client_id="client-é", system="desk-1", role="agent", ref="pseudo-ß"
    )
    occurred = datetime(2026, 3, 1, 23, 30, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    batch = [
        NewAccess(
            citizen_id=person.person_id,
            accessor=full,
            action="change",
            channel="desk",
            outcome="denied",
            reason="geen mandaat — «refus»",
            categories=("dmfa", "dimona", "dmfa"),
            record_refs=("r2", "r1", "r2"),
            purpose_code="unemployment_benefit",
            legal_basis_ref="IVC/KSZG/1",
            mandate_id=uuid.uuid4(),
            case_ref="CASE-é-1",
            occurred_at=occurred,
            source="onem-test",
            source_event_id="42",
        ),
        NewAccess(citizen_id=person.person_id, accessor=ONEM, action="read", channel="api"),
        NewAccess(citizen_id=other.person_id, accessor=full, action="export", channel="web", categories=("x" * 300,)),
        NewAccess(
            citizen_id=person.person_id,
            accessor=full,
            action="change",
            channel="desk",
            outcome="denied",
            reason="geen mandaat — «refus»",
            categories=("dmfa", "dimona", "dmfa"),
            record_refs=(),
        ),
    ]
    events = await record_accesses(conn, batch)
    stored = await queries.select_chain(conn, person.person_id) + await queries.select_chain(conn, other.person_id)
    assert sorted(stored, key=lambda event: (str(event.citizen_id), event.seq)) == sorted(
        events, key=lambda event: (str(event.citizen_id), event.seq)
    )
    first = events[0]
    assert first.categories == ["dimona", "dmfa"]
    assert first.record_refs == ["r2", "r1", "r2"]
    assert first.occurred_at == occurred
    assert events[1].occurred_at == events[1].logged_at
    assert events[1].actor_org_id is None
    assert events[1].categories == []
    assert events[1].record_refs == []
    # The returned sequence reads like a list: from the end, by slice, and not past its length.
    assert events[-1] == events[3]
    assert events[1:3] == [events[1], events[2]]
    assert list(events) == [events[index] for index in range(4)]
    with pytest.raises(IndexError):
        events[4]
    # Events that share everything but their own fields still get lists of their own.
    assert events[3].categories == first.categories
    assert events[3].categories is not first.categories
    for citizen in (person.person_id, other.person_id):
        assert (await verify_citizen(conn, citizen)).broken is None


async def test_concurrent_batches_over_new_and_known_citizens_keep_gap_free_chains(
    scratch_database_url: str, redis_url: str
) -> None:
    owner = await connect(scratch_database_url, as_app=False)
    await migrate(owner)
    await owner.close()
    pool = await create_pool(scratch_database_url, min_size=4, max_size=8)
    try:
        async with transaction(pool_source(pool)) as setup:
            people = [(await create_person(setup)).person_id for _ in range(12)]
            # Half of them already have a chain; the others get their head from whichever batch comes first.
            for citizen in people[:6]:
                await record_access(setup, citizen_id=citizen, accessor=ONEM, action="read", channel="api")

        async def writer(number: int) -> None:
            for round_ in range(4):
                batch = [
                    NewAccess(citizen_id=citizen, accessor=ONEM, action="read", channel="batch", case_ref=f"{number}")
                    for citizen in (people if (number + round_) % 2 else people[::-1])
                ]
                async with transaction(pool_source(pool)) as conn:
                    await record_accesses(conn, batch)

        await asyncio.gather(*(writer(number) for number in range(6)))
        async with pool.acquire() as proxy:
            conn = cast(asyncpg.Connection, proxy)
            for index, citizen in enumerate(people):
                chain = await queries.select_chain(conn, citizen)
                # Six writers, four batches each, one event per citizen per batch; plus the first event for half.
                assert [event.seq for event in chain] == list(range(1, 25 + (index < 6)))
                assert (await verify_citizen(conn, citizen)).broken is None
    finally:
        await pool.close()
    verified = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "backend.cli", "verify-log"],
        env={
            "PATH": "/usr/bin:/bin",
            "VITRINE_ENV": "test",
            "DATABASE_URL": scratch_database_url,
            "REDIS_URL": redis_url,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verified.returncode == 0, verified.stderr


async def test_an_unknown_citizen_is_refused_by_the_head_and_nothing_is_stored(conn: asyncpg.Connection) -> None:
    # access_events has no per-row foreign key to people: the head row, which references people, is the check.
    known = await create_person(conn)
    unknown = uuid.uuid4()
    batch = [
        NewAccess(citizen_id=citizen, accessor=ONEM, action="read", channel="batch")
        for citizen in (known.person_id, unknown)
    ]
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        async with conn.transaction():
            await record_accesses(conn, batch)
    assert await queries.select_chain(conn, known.person_id) == []
    assert await conn.fetchval("SELECT count(*) FROM access_events WHERE citizen_id = $1", unknown) == 0
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        async with conn.transaction():
            await record_access(conn, citizen_id=unknown, accessor=ONEM, action="read", channel="api")


async def test_batches_and_single_appends_in_one_transaction_move_the_same_heads(conn: asyncpg.Connection) -> None:
    # Each head is moved by the row address read under its lock; a head already moved earlier in the same
    # transaction (by a batch or by record_access) has a new address, which the next batch must find.
    first, second = await create_person(conn), await create_person(conn)
    for _ in range(2):
        await record_accesses(
            conn,
            [
                NewAccess(citizen_id=citizen, accessor=ONEM, action="read", channel="batch")
                for citizen in (first.person_id, second.person_id, first.person_id)
            ],
        )
        await record_access(conn, citizen_id=first.person_id, accessor=ONEM, action="read", channel="api")
    assert [event.seq for event in await queries.select_chain(conn, first.person_id)] == list(range(1, 7))
    assert [event.seq for event in await queries.select_chain(conn, second.person_id)] == [1, 2]
    for citizen in (first.person_id, second.person_id):
        assert (await verify_citizen(conn, citizen)).broken is None


async def test_a_batch_adds_only_new_organisations_to_the_heads_in_order_of_first_appearance(
    conn: asyncpg.Connection,
) -> None:
    first, second = await create_person(conn), await create_person(conn)
    onem, sfp, inami = [await create_organisation(conn, kind="institution") for _ in range(3)]
    by = {org.org_id: Accessor(kind="institution", org_id=org.org_id, client_id="batch") for org in (onem, sfp, inami)}
    await record_access(conn, citizen_id=first.person_id, accessor=by[onem.org_id], action="read", channel="api")
    await record_accesses(
        conn,
        [
            NewAccess(citizen_id=first.person_id, accessor=by[onem.org_id], action="read", channel="batch"),
            NewAccess(citizen_id=first.person_id, accessor=by[sfp.org_id], action="read", channel="batch"),
            NewAccess(citizen_id=second.person_id, accessor=by[inami.org_id], action="read", channel="batch"),
            NewAccess(
                citizen_id=first.person_id, accessor=Accessor(kind="helper", ref="h"), action="read", channel="web"
            ),
            NewAccess(citizen_id=first.person_id, accessor=by[sfp.org_id], action="read", channel="batch"),
            NewAccess(citizen_id=second.person_id, accessor=by[onem.org_id], action="read", channel="batch"),
        ],
    )
    assert await _head_organisations(conn, first.person_id) == [onem.org_id, sfp.org_id]
    assert await _head_organisations(conn, second.person_id) == [inami.org_id, onem.org_id]
    # A batch that brings no new organisation leaves the lists as they are.
    await record_accesses(
        conn, [NewAccess(citizen_id=first.person_id, accessor=by[sfp.org_id], action="read", channel="batch")]
    )
    assert await _head_organisations(conn, first.person_id) == [onem.org_id, sfp.org_id]
    for citizen in (first.person_id, second.person_id):
        assert (await verify_citizen(conn, citizen)).broken is None


async def _head_organisations(conn: asyncpg.Connection, citizen_id: uuid.UUID) -> list[uuid.UUID]:
    head = await queries.select_head_with_organisations(conn, citizen_id)
    assert head is not None
    return head[1]
