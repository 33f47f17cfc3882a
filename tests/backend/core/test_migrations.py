"""The migration runner: applies in order, once, under a lock; refuses a database ahead of the code."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from backend.core.db import connect
from backend.core.migrations import Migration, MigrationError, applied_versions, load_migrations, migrate
from tests.faults.servers import private_postgres_with


def test_files_are_numbered_without_gaps() -> None:
    migrations = load_migrations()
    assert [migration.version for migration in migrations] == list(range(1, len(migrations) + 1))
    assert all(migration.sql.strip() for migration in migrations)


async def test_migrate_applies_everything_once(scratch_database_url: str) -> None:
    conn = await connect(scratch_database_url, as_app=False)
    try:
        first = await migrate(conn)
        assert [m.version for m in first] == [m.version for m in load_migrations()]
        assert await migrate(conn) == []
        assert set(await applied_versions(conn)) == {m.version for m in load_migrations()}
    finally:
        await conn.close()


async def test_concurrent_migrations_do_not_collide(scratch_database_url: str) -> None:
    conns = [await connect(scratch_database_url, as_app=False) for _ in range(3)]
    try:
        results = await asyncio.gather(*(migrate(conn) for conn in conns))
        assert sum(len(result) for result in results) == len(load_migrations())
    finally:
        for conn in conns:
            await conn.close()


async def test_databases_of_a_new_server_migrate_at_the_same_time() -> None:
    # The application role belongs to the whole server, and the migration lock to one database: on a new server
    # (a newcomer's first `make test`, one database per test process) two migrations create the role at once.
    names = ("first", "second", "third")
    async with private_postgres_with(*names) as server:
        conns = [await connect(server.url(name), as_app=False) for name in names]
        try:
            results = await asyncio.gather(*(migrate(conn) for conn in conns))
            assert [len(result) for result in results] == [len(load_migrations())] * 3
        finally:
            for conn in conns:
                await conn.close()


async def test_a_failing_migration_leaves_nothing_behind(scratch_database_url: str) -> None:
    good = load_migrations()
    broken = [*good, Migration(len(good) + 1, "broken", "CREATE TABLE half_done (id int); SELECT 1/0;")]
    conn = await connect(scratch_database_url, as_app=False)
    try:
        with pytest.raises(asyncpg.DivisionByZeroError):
            await migrate(conn, broken)
        assert await conn.fetchval("SELECT to_regclass('public.half_done')") is None
        assert max(await applied_versions(conn)) == len(good)
    finally:
        await conn.close()


async def test_a_database_ahead_of_the_code_is_refused(scratch_database_url: str) -> None:
    conn = await connect(scratch_database_url, as_app=False)
    try:
        await migrate(conn)
        future = len(load_migrations()) + 1
        await conn.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, 'from_the_future')", future)
        with pytest.raises(MigrationError, match="does not know"):
            await migrate(conn)
    finally:
        await conn.close()


async def test_a_renamed_migration_is_refused(scratch_database_url: str) -> None:
    conn = await connect(scratch_database_url, as_app=False)
    try:
        await migrate(conn)
        await conn.execute("UPDATE schema_migrations SET name = 'something_else' WHERE version = 1")
        with pytest.raises(MigrationError, match="something_else"):
            await migrate(conn)
    finally:
        await conn.close()
