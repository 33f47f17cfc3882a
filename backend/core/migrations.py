"""A small forward-only migration runner for `backend/migrations/NNNN_<what>.sql`.

Each file runs in its own transaction; an advisory lock keeps two processes from migrating at once; a database
that has migrations the code does not know is refused rather than touched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Final

import asyncpg

# Arbitrary but fixed: every Vitrine process agrees on it.
MIGRATION_LOCK_KEY: Final = 0x56_49_54_52  # "VITR"
_FILE_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")


def quote_ident(name: str) -> str:
    """Quote an SQL identifier (role names cannot be bind parameters)."""
    return '"' + name.replace('"', '""') + '"'


class MigrationError(Exception):
    """The database and the code disagree about the schema, or a migration file is malformed."""


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered SQL file."""

    version: int
    name: str
    sql: str


def load_migrations(package: str = "backend.migrations") -> list[Migration]:
    """Read the migration files in version order, refusing gaps, duplicates and stray names."""
    found: list[Migration] = []
    for entry in resources.files(package).iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE_NAME.match(entry.name)
        if match is None:
            raise MigrationError(f"migration file name {entry.name!r} is not NNNN_<what>.sql")
        found.append(Migration(int(match["version"]), match["name"], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda migration: migration.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise MigrationError(f"migration {expected:04d} is missing (found {migration.version:04d})")
    return found


async def applied_versions(conn: asyncpg.Connection) -> dict[int, str]:
    """Versions already applied, with their names; empty for a new database."""
    exists = await conn.fetchval("SELECT to_regclass('public.schema_migrations') IS NOT NULL")
    if not exists:
        return {}
    rows = await conn.fetch("SELECT version, name FROM schema_migrations ORDER BY version")
    return {row["version"]: row["name"] for row in rows}


async def migrate(conn: asyncpg.Connection, migrations: list[Migration] | None = None) -> list[Migration]:
    """Apply every pending migration; return those applied. Safe to call from several processes at once."""
    todo = load_migrations() if migrations is None else migrations
    # Migrations run as the login role (the schema owner), even on a connection acting as the application role.
    acting_as = await conn.fetchval("SELECT current_user")
    if acting_as != await conn.fetchval("SELECT session_user"):
        await conn.execute("RESET ROLE")
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
    try:
        await conn.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        done = await applied_versions(conn)
        known = {migration.version: migration.name for migration in todo}
        ahead = sorted(set(done) - set(known))
        if ahead:
            raise MigrationError(
                f"the database has migration {ahead[-1]:04d} which this code does not know; "
                "refusing to run an older Vitrine against a newer database"
            )
        for version, name in done.items():
            if known[version] != name:
                raise MigrationError(f"migration {version:04d} is {name!r} in the database, {known[version]!r} here")
        applied: list[Migration] = []
        for migration in todo:
            if migration.version in done:
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    migration.version,
                    migration.name,
                )
            applied.append(migration)
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
        if acting_as != await conn.fetchval("SELECT session_user"):
            # The name comes from the server (current_user), quoted as an identifier.
            await conn.execute(f"SET ROLE {quote_ident(str(acting_as))}")


async def pending_migrations(conn: asyncpg.Connection) -> list[Migration]:
    """Migrations not yet applied (used by readiness and start-up checks)."""
    done = await applied_versions(conn)
    return [migration for migration in load_migrations() if migration.version not in done]
