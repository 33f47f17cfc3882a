"""Fixtures of the fault tests: a private PostgreSQL cluster (migrated), a private Redis, an SMTP server in
process, and the environment to run the real `vitrine web` and `vitrine worker` against them.

Each test starts its own and stops everything at the end; a fixture fails the test if anything it started is
still running afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from backend.core.db import connect
from backend.core.migrations import migrate
from tests.faults.mail import FaultySmtp
from tests.faults.population import SECRET_KEY
from tests.faults.servers import (
    PrivatePostgres,
    PrivateRedis,
    Vitrine,
    free_port,
    leftover_processes,
    private_postgres_with,
)

DATABASE = "vitrine"


@pytest.fixture
async def private_postgres() -> AsyncIterator[PrivatePostgres]:
    """A PostgreSQL cluster of the test's own with the `vitrine` database migrated; removed after the test."""
    async with private_postgres_with(DATABASE) as server:
        owner = await connect(server.url(DATABASE), as_app=False)
        try:
            await migrate(owner)
        finally:
            await owner.close()
        yield server
    assert leftover_processes(str(server.folder)) == [], "the private PostgreSQL must be stopped"


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A Redis of the test's own; stopped and removed after the test."""
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.remove()
    assert leftover_processes(f"127.0.0.1:{server.port}") == [], "the private Redis must be stopped"


@pytest.fixture
async def fault_smtp() -> AsyncIterator[FaultySmtp]:
    """An SMTP server on a loopback port of its own, listening until the test stops it or ends."""
    server = FaultySmtp(free_port())
    await server.start()
    try:
        yield server
    finally:
        server.release()
        await server.stop()


@pytest.fixture
def vitrine(
    request: pytest.FixtureRequest,
    private_postgres: PrivatePostgres,
    private_redis: PrivateRedis,
    fault_smtp: FaultySmtp,
    tmp_path: Path,
) -> Iterator[Vitrine]:
    """How to start the real processes against the private servers (each test starts and stops its own)."""
    local_dir = tmp_path / "local"
    app = Vitrine(
        database_url=private_postgres.url(DATABASE),
        redis_url=private_redis.url,
        smtp_url=fault_smtp.url,
        local_dir=local_dir,
        name=request.node.name,
    )
    app.environment["SECRET_KEY"] = SECRET_KEY
    yield app
    marker = f"VITRINE_LOCAL_DIR={local_dir}"
    assert leftover_processes(marker, where="environ") == [], "every web and worker process must be stopped"
