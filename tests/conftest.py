"""Test fixtures: a real PostgreSQL database per test worker built by the real migrations, a connection
rolled back after each test, a real Redis database claimed per test process, and the app wired to both.

DATABASE_URL and REDIS_URL point at the servers (`make test` starts embedded ones when they are unset).
This file is a composition root: it may import every area.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from arq import create_pool as create_arq_pool
from arq.connections import ArqRedis, RedisSettings
from litestar import Litestar
from redis import Redis as SyncRedis

from backend.app import create_app
from backend.core import i18n
from backend.core.db import ConnectionSource, connect
from backend.core.migrations import migrate
from backend.core.settings import Settings, load_settings

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping

    _ASGIApp = Callable[
        [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]
    ]

# Any national number in a log record or a request URL fails the test it appeared in (see the module).
pytest_plugins = ("tests.national_number_watch",)


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


def _with_redis_db(url: str, number: int) -> str:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        # Spelled out: urlunsplit writes `unix:/path` (one slash), which redis-py refuses.
        return f"unix://{parts.path}?db={number}"
    return urlunsplit((parts.scheme, parts.netloc, f"/{number}", "", ""))


@pytest.fixture(autouse=True)
def english_by_default() -> None:
    """Each test starts in English: requests run in the test's own context and would otherwise leak their
    language into the next test. Tests of other languages choose theirs explicitly."""
    i18n.set_language("en")


@pytest.fixture(scope="session")
def server_urls() -> tuple[str, str]:
    """The servers the suite runs against; refusing to run without them rather than skipping."""
    database_url = os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    if not database_url or not redis_url:
        pytest.exit("DATABASE_URL and REDIS_URL must be set: run the suite with `make test`", returncode=4)
    return database_url, redis_url


@pytest.fixture(scope="session")
async def database_url(server_urls: tuple[str, str]) -> AsyncIterator[str]:
    """A fresh database for this test worker, built by the migrations, dropped at the end."""
    # The process id keeps concurrent runs on one server (two checkouts, CI beside a developer) apart.
    name = f"vitrine_test_{os.getpid()}"
    admin = await asyncpg.connect(_with_database(server_urls[0], "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = _with_database(server_urls[0], name)
    conn = await connect(url, as_app=False)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    yield url
    admin = await asyncpg.connect(_with_database(server_urls[0], "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def scratch_database_url(database_url: str) -> AsyncIterator[str]:
    """An empty database of the test's own, for tests that commit or migrate from nothing; dropped after."""
    parts = urlsplit(database_url)
    name = f"{parts.path.lstrip('/')}_scratch"
    admin = await asyncpg.connect(_with_database(database_url, "postgres"))
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{name}"')
    yield _with_database(database_url, name)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


_REDIS_CLAIM_KEY = "vitrine:test-redis-db:{number}"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@pytest.fixture(scope="session")
def redis_url(server_urls: tuple[str, str]) -> Iterator[str]:
    """A Redis database number claimed by this test process alone.

    Claims live in database 0 as keys holding the claiming process id, so two suites running at once on one
    Redis (CI beside a developer, two checkouts) never take each other's jobs; a claim left by a process that
    no longer exists is taken over.
    """
    client = SyncRedis.from_url(server_urls[1])
    claimed: int | None = None
    try:
        for number in range(1, 16):
            key = _REDIS_CLAIM_KEY.format(number=number)
            if client.set(key, os.getpid(), nx=True):
                claimed = number
                break
            holder = client.get(key)
            # A holder that died without releasing its claim: take it over unless someone else just did.
            if (
                holder is not None
                and not _process_alive(int(cast("bytes", holder)))
                and client.getset(key, os.getpid()) == holder
            ):
                claimed = number
                break
        if claimed is None:
            pytest.exit("every Redis database 1-15 is claimed by a running test process", returncode=4)
        url = _with_redis_db(server_urls[1], claimed)
        SyncRedis.from_url(url).flushdb()
        yield url
    finally:
        if claimed is not None:
            key = _REDIS_CLAIM_KEY.format(number=claimed)
            if client.get(key) == str(os.getpid()).encode():
                client.delete(key)
        client.close()


@pytest.fixture(scope="session")
def settings(database_url: str, redis_url: str) -> Settings:
    """Test settings pointing at this worker's database and Redis."""
    return load_settings({"VITRINE_ENV": "test", "DATABASE_URL": database_url, "REDIS_URL": redis_url})


@pytest.fixture(scope="session")
async def session_connection(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """One connection for the worker's tests; each test runs inside a transaction on it."""
    conn = await connect(database_url)
    yield conn
    await conn.close()


@pytest.fixture
async def conn(session_connection: asyncpg.Connection) -> AsyncIterator[asyncpg.Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    transaction = session_connection.transaction()
    await transaction.start()
    try:
        yield session_connection
    finally:
        await transaction.rollback()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[ArqRedis]:
    """This worker's Redis database, emptied after the test."""
    pool = await create_arq_pool(RedisSettings.from_dsn(redis_url))
    yield pool
    await pool.flushdb()
    await pool.aclose()


@pytest.fixture
def app(settings: Settings, conn: asyncpg.Connection, redis: ArqRedis) -> Litestar:
    """The real app, its requests running inside the test's rolled-back transaction."""

    return create_app(settings, connection_source=source_of(conn), redis=redis, configure_logs=False)


def source_of(conn: asyncpg.Connection) -> ConnectionSource:
    """A connection source that always lends the test's own connection (inside its rolled-back transaction)."""

    @asynccontextmanager
    async def lend() -> AsyncIterator[asyncpg.Connection]:
        yield conn

    return lend


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the app, in process and on the test's own event loop (so it can share `conn`)."""
    async with in_process_client(app) as test_client:
        yield test_client


def in_process_client(app: Litestar) -> httpx.AsyncClient:
    """An httpx client that calls the ASGI app directly on the current event loop."""
    transport = httpx.ASGITransport(app=cast("_ASGIApp", app))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver.local")


@pytest.fixture
def environ_without_urls() -> dict[str, str]:
    """The process environment minus the service URLs (for tests of the embedded default and the mail sink)."""
    return {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL", "SMTP_URL"}}
