"""Rate limits count in PostgreSQL, survive the request's rollback, and answer 429 past the limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from backend.core.auth import rate_limit
from backend.core.db import create_pool, pool_source, transaction
from backend.core.errors import Problem
from tests.conftest import source_of

SECRET = "r" * 40
RULE = rate_limit.RateLimit("test", limit=3, window_seconds=60)


@pytest.fixture
def source(conn: asyncpg.Connection) -> rate_limit.ConnectionSource:
    return source_of(conn)


async def test_the_limit_refuses_with_429_and_retry_after(source: rate_limit.ConnectionSource) -> None:
    now = datetime(2026, 11, 25, 10, 0, 5, tzinfo=UTC)
    for _ in range(RULE.limit):
        await rate_limit.enforce(source, SECRET, RULE, "198.51.100.7", now=now)
    with pytest.raises(Problem) as caught:
        await rate_limit.enforce(source, SECRET, RULE, "198.51.100.7", now=now)
    assert caught.value.status == 429
    assert caught.value.headers["Retry-After"] == "60"
    # Another address, and the next window, start afresh.
    await rate_limit.enforce(source, SECRET, RULE, "198.51.100.8", now=now)
    await rate_limit.enforce(source, SECRET, RULE, "198.51.100.7", now=now + timedelta(seconds=60))


async def test_buckets_do_not_store_what_they_count(
    source: rate_limit.ConnectionSource, conn: asyncpg.Connection
) -> None:
    await rate_limit.hit(source, SECRET, RULE, "85073003328")
    buckets = [row["bucket"] for row in await conn.fetch("SELECT bucket FROM rate_limit_hits")]
    assert buckets
    assert all("85073003328" not in bucket for bucket in buckets)


async def test_a_hit_survives_the_rollback_of_the_request(database_url: str) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=2)
    source = pool_source(pool)
    subject = "192.0.2.44"
    try:

        async def request_that_fails() -> None:
            async with transaction(source) as request_conn:
                await request_conn.execute("SELECT 1")
                for _ in range(RULE.limit + 1):
                    await rate_limit.enforce(source, SECRET, RULE, subject)

        with pytest.raises(Problem):
            await request_that_fails()
        async with transaction(source) as check:
            hits = await check.fetchval(
                "SELECT hits FROM rate_limit_hits WHERE bucket = $1", rate_limit.bucket_key(SECRET, RULE, subject)
            )
        assert hits == RULE.limit + 1
    finally:
        async with transaction(source) as cleanup:
            await cleanup.execute(
                "DELETE FROM rate_limit_hits WHERE bucket = $1", rate_limit.bucket_key(SECRET, RULE, subject)
            )
        await pool.close()
