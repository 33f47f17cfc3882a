"""Retrying Redis calls for a span of time rather than a number of attempts.

redis-py retries a connection inside a retried command, each with the same policy: with a count of retries the
waits multiply, and "about a minute" becomes anything from one minute to many. A window measured from the first
failure of an outage holds however the calls nest: once it has passed, every call still failing gives up.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from redis.asyncio.retry import Retry
from redis.backoff import AbstractBackoff
from redis.exceptions import RedisError

T = TypeVar("T")


class WindowRetry(Retry):
    """Retry with backoff until `window_seconds` have passed since the first failure; a success ends the outage.

    redis-py copies the policy into each connection, so each connection keeps its own clock.
    """

    __slots__ = ("_failing_since", "_window_seconds")

    def __init__(self, backoff: AbstractBackoff, window_seconds: float) -> None:
        super().__init__(backoff, retries=-1)
        self._window_seconds = window_seconds
        self._failing_since: float | None = None

    async def call_with_retry(self, do: Callable[[], Awaitable[T]], fail: Callable[[RedisError], Any]) -> T:
        """Call `do` until it succeeds, or raise its error once the window since the first failure has passed."""
        failures = 0
        while True:
            try:
                result = await do()
            except self._supported_errors as error:
                failures += 1
                await fail(error)
                now = time.monotonic()
                if self._failing_since is None:
                    self._failing_since = now
                if now - self._failing_since >= self._window_seconds:
                    raise
                await asyncio.sleep(self._backoff.compute(failures))
            else:
                self._failing_since = None
                return result
