"""The request's transaction is closed before the response, even when a dependency raises after `conn`.

Litestar drops the cleanup of generator dependencies when a later dependency raises; a yield-based `conn` then
rolled back later, from a garbage-collection task, racing whatever used the connection next.
"""

from __future__ import annotations

import asyncio

import asyncpg
import httpx


async def test_a_refused_request_leaves_nothing_running_on_its_connection(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    for _ in range(20):
        refused = await client.get("/api/v1/institution/purposes", headers={"authorization": "Bearer not-a-jwt"})
        assert refused.status_code == 401
        await asyncio.sleep(0)  # let any late clean-up task start
        assert await conn.fetchval("SELECT 1") == 1
    assert await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = pg_backend_pid()") == 1
