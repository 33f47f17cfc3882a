"""The access log's write path: gap-free chains, append-only storage, verification that names tampering."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any, cast
from uuid import UUID, uuid4

import asyncpg
import pytest

from backend.access_log import queries
from backend.access_log.chain import GENESIS
from backend.access_log.schemas import Accessor
from backend.access_log.service import accessor_for, record_access
from backend.access_log.verify import ChainReport, verify_citizen
from backend.core.auth.actors import Actor
from backend.core.db import connect, create_pool, pool_source, transaction
from backend.core.migrations import migrate
from tests.factories import create_organisation, create_person

ONEM = Accessor(kind="institution", client_id="onem-test")


async def _log_three(conn: asyncpg.Connection, citizen_id: UUID) -> None:
    organisation = await create_organisation(conn, kind="institution", code="ONEMLOG")
    accessor = Accessor(kind="institution", org_id=organisation.org_id, client_id="onem-test")
    await record_access(
        conn,
        citizen_id=citizen_id,
        accessor=accessor,
        action="read",
        channel="api",
        categories=["dimona", "dmfa"],
        purpose_code="unemployment_benefit",
    )
    await record_access(
        conn,
        citizen_id=citizen_id,
        accessor=accessor,
        action="read",
        channel="api",
        outcome="denied",
        reason="purpose does not cover flexi_wages",
        categories=["flexi_wages"],
    )
    await record_access(conn, citizen_id=citizen_id, accessor=accessor, action="check", channel="api")


async def test_events_form_a_gap_free_chain(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    await _log_three(conn, person.person_id)
    chain = await queries.select_chain(conn, person.person_id)
    assert [event.seq for event in chain] == [1, 2, 3]
    assert chain[0].prev_hash == GENESIS
    assert chain[1].prev_hash == chain[0].hash
    assert chain[2].prev_hash == chain[1].hash
    assert chain[1].outcome == "denied"
    assert chain[0].categories == ["dimona", "dmfa"]
    report = await verify_citizen(conn, person.person_id)
    assert report.broken is None
    assert report.events == 3
    assert report.head_hash == chain[2].hash.hex()


async def test_a_refusal_must_say_why(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    with pytest.raises(ValueError, match="reason"):
        await record_access(
            conn, citizen_id=person.person_id, accessor=ONEM, action="read", channel="api", outcome="denied"
        )


async def test_the_application_role_may_not_change_or_delete_events(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    await _log_three(conn, person.person_id)
    assert await conn.fetchval("SELECT current_user") == "vitrine_app"
    for statement in (
        "UPDATE access_events SET reason = 'nothing to see' WHERE citizen_id = $1",
        "DELETE FROM access_events WHERE citizen_id = $1",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with conn.transaction():
                await conn.execute(statement, person.person_id)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with conn.transaction():
            await conn.execute("TRUNCATE access_events")


async def test_even_the_owner_is_refused_by_the_trigger(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    await _log_three(conn, person.person_id)
    partition = await conn.fetchval(
        "SELECT tableoid::regclass::text FROM access_events WHERE citizen_id = $1 LIMIT 1", person.person_id
    )
    await conn.execute("RESET ROLE")
    try:
        for statement, args in (
            ("UPDATE access_events SET reason = 'x' WHERE citizen_id = $1", [person.person_id]),
            ("DELETE FROM access_events WHERE citizen_id = $1", [person.person_id]),
            ("TRUNCATE access_events", []),
            ("TRUNCATE " + partition, []),  # a partition name read from the catalog
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                async with conn.transaction():
                    await conn.execute(statement, *args)
    finally:
        await conn.execute("SET ROLE vitrine_app")


async def test_verification_names_an_edit_made_by_a_superuser(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    await _log_three(conn, person.person_id)
    second = (await queries.select_chain(conn, person.person_id))[1]
    report = await _verified_after_superuser_edit(
        conn,
        person.person_id,
        ("ALTER TABLE access_events DISABLE TRIGGER access_events_append_only",),
        (
            "UPDATE access_events SET outcome = 'granted', reason = 'x' WHERE citizen_id = $1 AND seq = 2",
            person.person_id,
        ),
        ("ALTER TABLE access_events ENABLE TRIGGER access_events_append_only",),
    )
    assert report.broken is not None
    assert report.broken.seq == 2
    assert report.broken.event_id == second.event_id
    assert report.broken.problem == "content hash"
    assert report.broken.found == second.hash.hex()


async def test_the_head_keeps_the_logs_organisations_and_verification_names_a_wrong_list(
    conn: asyncpg.Connection,
) -> None:
    person = await create_person(conn)
    await _log_three(conn, person.person_id)
    other = await create_organisation(conn, kind="institution", code="SFPLOG")
    await record_access(
        conn,
        citizen_id=person.person_id,
        accessor=Accessor(kind="institution", org_id=other.org_id, client_id="sfp-test"),
        action="read",
        channel="api",
    )
    await record_access(
        conn, citizen_id=person.person_id, accessor=Accessor(kind="helper", ref="h"), action="read", channel="web"
    )
    chain = await queries.select_chain(conn, person.person_id)
    first_org = chain[0].actor_org_id
    assert await _head_organisations(conn, person.person_id) == [first_org, other.org_id]
    assert (await verify_citizen(conn, person.person_id)).broken is None
    report = await _verified_after_superuser_edit(
        conn,
        person.person_id,
        ("UPDATE access_log_heads SET org_ids = $2 WHERE citizen_id = $1", person.person_id, [other.org_id]),
    )
    assert report.broken is not None
    assert report.broken.problem == "head organisations"
    assert report.broken.expected == f"{first_org},{other.org_id}"
    assert report.broken.found == str(other.org_id)


class _Undo(Exception):
    """Raised to roll back a savepoint on purpose."""


async def _verified_after_superuser_edit(
    conn: asyncpg.Connection, citizen_id: UUID, *statements: tuple[Any, ...]
) -> ChainReport:
    """Run the statements as the superuser in a savepoint, verify the citizen's log, then undo the edit."""
    await conn.execute("RESET ROLE")
    try:
        async with conn.transaction():
            for statement, *args in statements:
                await conn.execute(statement, *args)
            report = await verify_citizen(conn, citizen_id)
            raise _Undo
    except _Undo:
        pass
    finally:
        await conn.execute("SET ROLE vitrine_app")
    return report


def test_a_person_reading_their_own_data_is_not_an_access_by_others() -> None:
    me = uuid4()
    with pytest.raises(ValueError, match="own data"):
        accessor_for(Actor(kind="person", person_id=me), subject_id=me)
    helper = accessor_for(Actor(kind="person", person_id=uuid4()), subject_id=me)
    assert helper.kind == "helper"
    agent = accessor_for(Actor(kind="agent", person_id=uuid4(), org_id=uuid4(), pseudonym="ORG-1"), subject_id=me)
    assert (agent.kind, agent.ref) == ("agent", "ORG-1")


@pytest.mark.xdist_group("embedded")
async def test_concurrent_writers_keep_one_gap_free_chain_and_the_cli_verifies_it(
    scratch_database_url: str, redis_url: str
) -> None:
    owner = await connect(scratch_database_url, as_app=False)
    await migrate(owner)
    await owner.close()
    pool = await create_pool(scratch_database_url, min_size=4, max_size=8)
    try:
        async with transaction(pool_source(pool)) as setup:
            person = await create_person(setup)

        async def writer(number: int) -> None:
            for _ in range(10):
                async with transaction(pool_source(pool)) as conn:
                    await record_access(
                        conn,
                        citizen_id=person.person_id,
                        accessor=ONEM,
                        action="read",
                        channel="batch",
                        record_refs=[f"writer-{number}"],
                    )

        await asyncio.gather(*(writer(number) for number in range(8)))
        async with pool.acquire() as proxy:
            conn = cast(asyncpg.Connection, proxy)
            chain = await queries.select_chain(conn, person.person_id)
            assert [event.seq for event in chain] == list(range(1, 81))
            assert (await verify_citizen(conn, person.person_id)).broken is None
    finally:
        await pool.close()
    environ = {
        "PATH": "/usr/bin:/bin",
        "VITRINE_ENV": "test",
        "DATABASE_URL": scratch_database_url,
        "REDIS_URL": redis_url,
    }
    intact = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "backend.cli", "verify-log"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert intact.returncode == 0, intact.stderr
    assert "1 chain(s) checked, 0 broken" in intact.stdout
    owner = await connect(scratch_database_url, as_app=False)
    await owner.execute("ALTER TABLE access_events DISABLE TRIGGER access_events_append_only")
    await owner.execute("DELETE FROM access_events WHERE seq = 40")
    await owner.close()
    broken = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "backend.cli", "verify-log", "--citizen", str(person.person_id)],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert broken.returncode == 1
    assert "at seq 41" in broken.stdout
    assert "sequence gap: expected 40, found 41" in broken.stdout


async def test_demo_accesses_are_seeded_once(conn: asyncpg.Connection) -> None:
    from backend.access_log.demo import seed_accesses
    from backend.core.identity.demo import seed_identity
    from tests.factories import TEST_SECRET

    await seed_identity(conn, secret=TEST_SECRET)
    assert await seed_accesses(conn) == 4
    assert await seed_accesses(conn) == 0


async def _head_organisations(conn: asyncpg.Connection, citizen_id: UUID) -> list[UUID]:
    head = await queries.select_head_with_organisations(conn, citizen_id)
    assert head is not None
    return head[1]
