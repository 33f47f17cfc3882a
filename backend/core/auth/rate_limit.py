"""Fixed-window rate limits for sign-in and code entry, per client address and per account.

Counters live in PostgreSQL (the system of record) and are written in their own short transaction, so a hit
still counts when the request that made it fails and rolls back. Bucket names are keyed hashes: no address
or national number is stored.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import msgspec

from backend.core.db import ConnectionSource, transaction

__all__ = ["ConnectionSource", "RateLimit", "bucket_key", "delete_old_windows", "enforce", "hit"]
from backend.core.errors import Problem


class RateLimit(msgspec.Struct, frozen=True):
    """At most `limit` hits per `window_seconds` in one bucket family."""

    name: str
    limit: int
    window_seconds: int


SIGN_IN_PER_ADDRESS = RateLimit("sign-in:address", limit=20, window_seconds=300)
SIGN_IN_PER_ACCOUNT = RateLimit("sign-in:account", limit=10, window_seconds=300)
CODE_ENTRY_PER_ADDRESS = RateLimit("code:address", limit=10, window_seconds=600)
CODE_ENTRY_PER_ACCOUNT = RateLimit("code:account", limit=5, window_seconds=600)


def bucket_key(secret: str, rule: RateLimit, subject: str) -> str:
    """A bucket name that does not reveal the address or account it counts."""
    digest = hmac.new(secret.encode(), f"{rule.name}:{subject}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{rule.name}:{digest}"


async def hit(
    source: ConnectionSource, secret: str, rule: RateLimit, subject: str, *, now: datetime | None = None
) -> int:
    """Count one attempt and return the count in the current window."""
    moment = now or datetime.now(UTC)
    epoch = int(moment.timestamp())
    window_start = datetime.fromtimestamp(epoch - epoch % rule.window_seconds, UTC)
    async with transaction(source) as conn:
        count = await conn.fetchval(
            """
            INSERT INTO rate_limit_hits (bucket, window_start, hits) VALUES ($1, $2, 1)
            ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limit_hits.hits + 1
            RETURNING hits
            """,
            bucket_key(secret, rule, subject),
            window_start,
        )
    return int(count)


async def enforce(
    source: ConnectionSource, secret: str, rule: RateLimit, subject: str, *, now: datetime | None = None
) -> None:
    """Count an attempt; past the limit, refuse with 429 and say when to try again."""
    count = await hit(source, secret, rule, subject, now=now)
    if count > rule.limit:
        raise Problem(
            429,
            "Too many attempts. Please wait a few minutes before trying again.",
            kind="rate-limited",
            headers={"Retry-After": str(rule.window_seconds)},
        )


async def delete_old_windows(source: ConnectionSource, *, older_than_seconds: int = 86400) -> int:
    """Drop counters of windows long past (worker cron)."""
    async with transaction(source) as conn:
        result = await conn.execute(
            "DELETE FROM rate_limit_hits WHERE window_start < now() - make_interval(secs => $1)", older_than_seconds
        )
    return int(result.split()[-1])
