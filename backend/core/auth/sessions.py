"""Browser sessions: a short-lived signed JWT in a cookie, backed by a server-side row.

The JWT lets every request find its session without a lookup table in memory; the row lets sign-out and
revocation take effect on the very next request. Tokens last 15 minutes and are renewed while the person is
active; a session ends after 12 hours whatever happens.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Final, Literal
from uuid import UUID

import asyncpg
import jwt
import msgspec

TOKEN_LIFETIME = timedelta(minutes=15)
RENEW_AFTER = timedelta(minutes=5)
SESSION_LIFETIME = timedelta(hours=12)
_ALGORITHM = "HS256"
_AUDIENCE = "vitrine-session"

SignInMethod = Literal["oidc", "demo"]


class SessionClaims(msgspec.Struct, frozen=True):
    """What a session token says: which session, whose, and when it was issued."""

    session_id: UUID
    person_id: UUID
    issued_at: datetime


class SessionRow(msgspec.Struct, frozen=True, kw_only=True):
    """A session as stored."""

    session_id: UUID
    person_id: UUID
    method: SignInMethod
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    acting_for: UUID | None
    acting_org: UUID | None


def cookie_name(secure: bool) -> str:
    """`__Host-` binds the cookie to this exact host over https; plain http (development) cannot use it."""
    return "__Host-vitrine_session" if secure else "vitrine_session"


def issue_token(secret: str, *, session_id: UUID, person_id: UUID, now: datetime | None = None) -> str:
    """A signed session token valid for TOKEN_LIFETIME."""
    issued = now or datetime.now(UTC)
    return jwt.encode(
        {
            "sid": str(session_id),
            "sub": str(person_id),
            "aud": _AUDIENCE,
            "iat": int(issued.timestamp()),
            "exp": int((issued + TOKEN_LIFETIME).timestamp()),
        },
        secret,
        algorithm=_ALGORITHM,
    )


def read_token(secret: str, token: str) -> SessionClaims | None:
    """The claims of a valid, unexpired token; None for anything else."""
    verified = _verified_token(secret, token)
    if verified is None:
        return None
    claims, expires = verified
    # The one check that changes with time is made on every call, exactly as pyjwt makes it.
    return claims if expires > time.time() else None


def _verified_token(secret: str, token: str) -> tuple[SessionClaims, int] | None:
    cached = _verified_tokens.get((secret, token))
    if cached is not None:
        return cached
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[_ALGORITHM],
            audience=_AUDIENCE,
            options={"require": ["sid", "sub", "iat", "exp", "aud"]},
        )
        verified = (
            SessionClaims(
                session_id=UUID(claims["sid"]),
                person_id=UUID(claims["sub"]),
                issued_at=datetime.fromtimestamp(int(claims["iat"]), UTC),
            ),
            int(claims["exp"]),
        )
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        return None  # refusals are not remembered: a token is only ever trusted after a full check
    if len(_verified_tokens) >= _VERIFIED_TOKENS_KEPT:
        _verified_tokens.pop(next(iter(_verified_tokens)))
    _verified_tokens[(secret, token)] = verified
    return verified


# A browser sends the same token on every request for up to TOKEN_LIFETIME; its signature and claims were checked
# in full the first time, and the same bytes under the same secret always check the same. Only the expiry is
# checked again (read_token); the session row is still read on every request, so revocation is still immediate.
_VERIFIED_TOKENS_KEPT: Final = 4096
_verified_tokens: dict[tuple[str, str], tuple[SessionClaims, int]] = {}


async def insert_session(conn: asyncpg.Connection, *, person_id: UUID, method: SignInMethod) -> UUID:
    """Open a new session (always a new id: a sign-in never reuses an earlier session)."""
    value = await conn.fetchval(
        """
        INSERT INTO sessions (person_id, method, expires_at)
        VALUES ($1, $2, now() + make_interval(secs => $3))
        RETURNING session_id
        """,
        person_id,
        method,
        SESSION_LIFETIME.total_seconds(),
    )
    return UUID(str(value))


async def select_live_session(conn: asyncpg.Connection, session_id: UUID, person_id: UUID) -> SessionRow | None:
    """The session if it exists, belongs to this person, is not revoked and has not reached its end."""
    row = await conn.fetchrow(
        """
        SELECT session_id, person_id, method, created_at, expires_at, revoked_at, acting_for, acting_org
        FROM sessions
        WHERE session_id = $1 AND person_id = $2 AND revoked_at IS NULL AND expires_at > now()
        """,
        session_id,
        person_id,
    )
    return None if row is None else msgspec.convert(dict(row), SessionRow)


async def touch_session(conn: asyncpg.Connection, session_id: UUID) -> None:
    """Record activity (when the token is renewed)."""
    await conn.execute("UPDATE sessions SET last_seen_at = now() WHERE session_id = $1", session_id)


async def revoke_session(
    conn: asyncpg.Connection, session_id: UUID, *, reason: Literal["signed_out", "revoked", "replaced"]
) -> bool:
    """End a session now; True if it was still live."""
    result = await conn.execute(
        "UPDATE sessions SET revoked_at = now(), revoked_reason = $2 WHERE session_id = $1 AND revoked_at IS NULL",
        session_id,
        reason,
    )
    return result.endswith(" 1")


async def revoke_all_sessions(conn: asyncpg.Connection, person_id: UUID) -> int:
    """End every live session of a person (lost phone, suspected misuse); returns how many."""
    result = await conn.execute(
        """
        UPDATE sessions SET revoked_at = now(), revoked_reason = 'revoked'
        WHERE person_id = $1 AND revoked_at IS NULL
        """,
        person_id,
    )
    return int(result.split()[-1])


async def update_acting_context(
    conn: asyncpg.Connection, session_id: UUID, *, acting_for: UUID | None, acting_org: UUID | None
) -> None:
    """Switch whom the person acts for, and as which organisation, in this session."""
    await conn.execute(
        "UPDATE sessions SET acting_for = $2, acting_org = $3 WHERE session_id = $1",
        session_id,
        acting_for,
        acting_org,
    )
