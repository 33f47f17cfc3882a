"""The request's transaction is closed before the response, even when a dependency raises after `conn`.

Litestar drops the cleanup of generator dependencies when a later dependency raises; a yield-based `conn` then
rolled back later, from a garbage-collection task, racing whatever used the connection next.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import asyncpg
import httpx
import pytest

from backend.core.db import ConnectionSource, create_pool, pool_source
from backend.core.request_transaction import _holder, provide_read_connection, provide_subject_connection


async def test_a_refused_request_leaves_nothing_running_on_its_connection(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    for _ in range(20):
        refused = await client.get("/api/v1/institution/purposes", headers={"authorization": "Bearer not-a-jwt"})
        assert refused.status_code == 401
        await asyncio.sleep(0)  # let any late clean-up task start
        assert await conn.fetchval("SELECT 1") == 1
    assert await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = pg_backend_pid()") == 1


class _Reader:
    """Only what `provide_subject_connection` reads of the signed-in person."""

    def __init__(self, *, acting_for_someone: bool) -> None:
        self.acting_for_someone = acting_for_someone


def _request(user: object, source: ConnectionSource) -> Any:
    return SimpleNamespace(scope={"user": user}, app=SimpleNamespace(state=SimpleNamespace(connection_source=source)))


@pytest.mark.parametrize(
    ("user", "in_transaction"),
    [
        (_Reader(acting_for_someone=False), False),
        (_Reader(acting_for_someone=True), True),
        (None, True),  # nobody known: the safe choice
    ],
)
async def test_a_transaction_only_when_someone_else_s_data_is_read(
    database_url: str, user: object, in_transaction: bool
) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=1)
    try:
        request = _request(user, pool_source(pool))
        conn = await provide_subject_connection(request)
        assert conn.is_in_transaction() is in_transaction
        # The same connection as the session middleware's and `conn`: one per request.
        assert await provide_read_connection(request) is conn
        await _holder(request.scope, pool_source(pool)).close(commit=False)
    finally:
        await pool.close()
