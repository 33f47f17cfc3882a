"""SQL for OpenID Connect sign-ins in progress: one typed function per statement."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import msgspec

# How long a sign-in may take between leaving for the provider and coming back. Longer than any real
# eID or itsme session, short enough that a leaked state is useless soon after.
LOGIN_ATTEMPT_LIFETIME = timedelta(minutes=10)


class ClaimedLoginAttempt(msgspec.Struct, frozen=True, kw_only=True):
    """What the callback needs from a sign-in it has just claimed."""

    nonce: str
    code_verifier: str
    next_path: str


async def insert_login_attempt(
    conn: asyncpg.Connection, *, state: str, nonce: str, code_verifier: str, next_path: str
) -> None:
    """Record a sign-in leaving for the provider."""
    await conn.execute(
        """
        INSERT INTO oidc_login_attempts (state, nonce, code_verifier, next_path)
        VALUES ($1, $2, $3, $4)
        """,
        state,
        nonce,
        code_verifier,
        next_path,
    )


async def claim_login_attempt(conn: asyncpg.Connection, state: str) -> ClaimedLoginAttempt | None:
    """Mark a sign-in as used and return its secrets; None when unknown, already used or expired.

    One UPDATE does check and mark together, so two callbacks racing with the same state cannot both win.
    """
    row = await conn.fetchrow(
        """
        UPDATE oidc_login_attempts SET used_at = now()
        WHERE state = $1 AND used_at IS NULL AND created_at > now() - $2::interval
        RETURNING nonce, code_verifier, next_path
        """,
        state,
        LOGIN_ATTEMPT_LIFETIME,
    )
    return None if row is None else msgspec.convert(dict(row), ClaimedLoginAttempt)


async def delete_stale_login_attempts(conn: asyncpg.Connection, *, older_than: timedelta = timedelta(hours=1)) -> int:
    """Remove sign-ins started longer ago than `older_than` (used or not); returns how many went."""
    result = await conn.execute(
        "DELETE FROM oidc_login_attempts WHERE created_at < now() - $1::interval",
        older_than,
    )
    return int(result.split()[-1])
