"""PostgreSQL access: the asyncpg pool, its codecs, and the per-request transaction.

Services take a connection and never commit; the transaction belongs to whoever opened it (the request's
yield dependency, a job, or a test that rolls it back).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import asyncpg
import msgspec

Connection = asyncpg.Connection  # the one connection type services accept
ConnectionSource = Callable[[], AbstractAsyncContextManager[asyncpg.Connection]]

_json_encoder = msgspec.json.Encoder()
_json_decoder = msgspec.json.Decoder()


def _encode_json(value: Any) -> str:
    return _json_encoder.encode(value).decode()


def _decode_json(value: str) -> Any:
    return _json_decoder.decode(value)


APP_ROLE = "vitrine_app"


async def init_connection(conn: asyncpg.Connection) -> None:
    """Register codecs on a new connection: json and jsonb go through msgspec."""
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=_encode_json, decoder=_decode_json, schema="pg_catalog")


async def init_app_connection(conn: asyncpg.Connection) -> None:
    """Codecs, then act as the application role when the login role may: it can only append to the access log.

    A login role that is not a member (a production role granted exactly the application's rights) stays itself.
    """
    await init_connection(conn)
    may_switch = await conn.fetchval(
        """
        SELECT CASE WHEN EXISTS (SELECT FROM pg_roles WHERE rolname = $1)
                    THEN pg_has_role(current_user, $1, 'MEMBER') ELSE false END
        """,
        APP_ROLE,
    )
    if may_switch:
        await conn.execute(f"SET ROLE {APP_ROLE}")


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """Open a pool whose connections carry Vitrine's codecs and a UTC session time zone."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=init_app_connection,
        server_settings={"timezone": "UTC", "application_name": "vitrine"},
        command_timeout=30,
    )
    assert pool is not None
    return pool


async def connect(dsn: str, *, as_app: bool = True) -> asyncpg.Connection:
    """One connection with the same codecs as the pool; `as_app=False` keeps the login role (migrations)."""
    conn = await asyncpg.connect(dsn, server_settings={"timezone": "UTC", "application_name": "vitrine"})
    await (init_app_connection if as_app else init_connection)(conn)
    return conn


def pool_source(pool: asyncpg.Pool) -> ConnectionSource:
    """A connection source that borrows from the pool."""

    def acquire() -> AbstractAsyncContextManager[asyncpg.Connection]:
        return pool.acquire()  # type: ignore[return-value]

    return acquire


@asynccontextmanager
async def transaction(source: ConnectionSource) -> AsyncIterator[asyncpg.Connection]:
    """Borrow a connection and run the block in one transaction: commit on success, roll back on error.

    Inside a test's outer transaction this becomes a savepoint, so the test can still roll everything back.
    """
    async with source() as conn, conn.transaction():
        yield conn
