"""Redis calls retried for a window of time: the wait ends with the window however redis-py nests its retries,
and a Redis that comes back within the window is used as if nothing had happened."""

from __future__ import annotations

import asyncio
import time

import pytest
from redis.asyncio import Redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from backend.core.redis_retry import WindowRetry
from tests.faults.servers import PrivateRedis, free_port


def _client(port: int, window_seconds: float) -> Redis:
    return Redis(
        host="127.0.0.1",
        port=port,
        socket_connect_timeout=0.5,
        retry_on_error=[RedisConnectionError, OSError],
        retry=WindowRetry(ExponentialBackoff(cap=0.2, base=0.01), window_seconds),
    )


async def test_a_command_gives_up_once_the_window_has_passed() -> None:
    client = _client(free_port(), window_seconds=1.0)
    try:
        started = time.monotonic()
        with pytest.raises(RedisConnectionError):
            await client.ping()
        elapsed = time.monotonic() - started
        # The connection is retried inside the retried command: a count of retries would multiply the wait.
        assert 1.0 <= elapsed < 2.0, elapsed
        started = time.monotonic()
        with pytest.raises(RedisConnectionError):
            await client.ping()
        assert time.monotonic() - started < 1.0, "the outage goes on: the next call does not wait a window again"
    finally:
        await client.aclose()


async def test_a_redis_back_within_the_window_answers() -> None:
    server = PrivateRedis()
    client = _client(server.port, window_seconds=10.0)

    def start_later() -> None:
        time.sleep(0.5)
        server.start()

    try:
        answered, _ = await asyncio.gather(client.ping(), asyncio.to_thread(start_later))
        assert answered is True
    finally:
        await client.aclose()
        await asyncio.to_thread(server.remove)
