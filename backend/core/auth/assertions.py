"""Institutions calling the API: verifying their signed client assertions (RFC 7523 style JWTs).

An institution registers an API client with its public keys (a JWKS) and signs every call with its private key:
`Authorization: Bearer <assertion>`, an ES256 JWT whose `iss` and `sub` are the client id, whose `aud` is
exactly "vitrine", which lives at most five minutes and whose `jti` is never used twice. Private keys never
reach Vitrine.

The order of the checks matters. The header's algorithm is checked before any key is looked at, so a token
that says "none", "HS256" or "RS256" never gets the chance to make us treat a public key as something else.
The unverified `iss` only chooses which client's keys to try; nothing else from the token is trusted until the
signature has been verified with one of that client's keys.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal
from uuid import UUID

import asyncpg
import jwt
import msgspec
from cryptography.hazmat.primitives.asymmetric import ec

from backend.core.auth import assertion_queries as queries
from backend.core.auth.jwk import es256_public_key
from backend.core.errors import Problem

__all__ = [
    "ASSERTION_ALGORITHM",
    "ASSERTION_AUDIENCE",
    "CLOCK_SKEW",
    "MAX_ASSERTION_LIFETIME",
    "AssertionRejected",
    "InstitutionCaller",
    "RejectionCode",
    "delete_expired_assertions",
    "verify_assertion",
]

ASSERTION_ALGORITHM: Final = "ES256"
# One audience value only: an assertion made for another service (or for several) is never accepted here.
ASSERTION_AUDIENCE: Final = "vitrine"
MAX_ASSERTION_LIFETIME: Final = timedelta(minutes=5)
# Institutions' clocks drift; a minute either way is tolerated on iat, nbf and exp.
CLOCK_SKEW: Final = timedelta(seconds=60)

_REQUIRED_CLAIMS: Final = ["iss", "sub", "aud", "exp", "iat", "jti"]
# The bounds of used_assertions.jti: a shorter id is guessable, a longer one only fills the table.
_JTI_MIN_LENGTH: Final = 8
_JTI_MAX_LENGTH: Final = 200

RejectionCode = Literal[
    "malformed",
    "algorithm",
    "unknown_client",
    "signature",
    "issuer",
    "audience",
    "expired",
    "not_yet_valid",
    "lifetime",
    "replay",
    "missing_claim",
]
"""Stable machine codes carried by :class:`AssertionRejected`."""


class AssertionRejected(Exception):
    """An assertion was refused. `code` is stable; `message` never repeats the token or its claims.

    Claim values come from the caller, so echoing them would let anyone write into our logs; the code and a
    fixed sentence are enough to tell an institution what to fix.
    """

    def __init__(self, code: RejectionCode, message: str) -> None:
        super().__init__(message)
        self.code: RejectionCode = code
        self.message = message

    def to_problem(self) -> Problem:
        """A 401 problem naming the code, with the Bearer challenge RFC 6750 asks for."""
        return Problem(
            401,
            self.message,
            kind=f"assertion-{self.code.replace('_', '-')}",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )


class InstitutionCaller(msgspec.Struct, frozen=True):
    """Who is calling, once the assertion is verified: the client, its organisation, and the assertion id."""

    client_id: str
    org_id: UUID
    org_code: str | None
    jti: str
    # The signed `purpose` claim when the institution stated one; checking it against `purposes` is the caller's.
    purpose: str | None = None


def _public_key_from_jwk(jwk: object) -> ec.EllipticCurvePublicKey:
    key = es256_public_key(jwk)
    if key is None:
        raise AssertionRejected("signature", "The client's key for this assertion is not an ES256 public key.")
    return key


def _select_key(jwks: dict[str, Any], kid: object) -> ec.EllipticCurvePublicKey:
    """The client's key named by the header's `kid`, or its only key when the header names none."""
    keys = jwks.get("keys")
    if not isinstance(keys, list):
        raise AssertionRejected("signature", "The client has no usable keys.")
    if kid is None:
        # Without a kid there is no way to choose, so guessing among several keys is refused: a rotation must
        # not turn into "any of my keys will do" by accident.
        if len(keys) != 1:
            raise AssertionRejected("signature", "The assertion names no key (kid) and the client has several.")
        return _public_key_from_jwk(keys[0])
    if not isinstance(kid, str):
        raise AssertionRejected("malformed", "The assertion's kid is not a string.")
    matching = [key for key in keys if isinstance(key, dict) and key.get("kid") == kid]
    if len(matching) != 1:
        raise AssertionRejected("signature", "No single key of the client matches the assertion's kid.")
    return _public_key_from_jwk(matching[0])


def _verified_claims(token: str, key: ec.EllipticCurvePublicKey, client_id: str) -> dict[str, Any]:
    """Signature, audience, issuer, subject and required claims, checked by PyJWT.

    Time claims are left to `_check_times`: PyJWT reads the wall clock itself, and the same rules must apply
    to the `now` that the caller passes (tests, and a request's single notion of "now").
    """
    try:
        return jwt.decode(
            token,
            key,
            algorithms=[ASSERTION_ALGORITHM],
            audience=ASSERTION_AUDIENCE,
            issuer=client_id,
            subject=client_id,
            options={
                "require": _REQUIRED_CLAIMS,
                # An `aud` list would make one assertion valid at several services; only the bare string counts.
                "strict_aud": True,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
            },
        )
    except jwt.InvalidSignatureError as exc:
        raise AssertionRejected("signature", "The assertion's signature does not verify.") from exc
    except jwt.InvalidAlgorithmError as exc:
        raise AssertionRejected("algorithm", "Assertions must be signed with ES256.") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise AssertionRejected("missing_claim", f"The assertion lacks the {exc.claim!r} claim.") from exc
    except jwt.InvalidAudienceError as exc:
        raise AssertionRejected("audience", f"The assertion's audience must be {ASSERTION_AUDIENCE!r}.") from exc
    except (jwt.InvalidIssuerError, jwt.exceptions.InvalidSubjectError) as exc:
        raise AssertionRejected("issuer", "The assertion's iss and sub must both be the client id.") from exc
    except jwt.InvalidTokenError as exc:
        raise AssertionRejected("malformed", "The assertion could not be read.") from exc


def _numeric_date(claims: dict[str, Any], name: str) -> float:
    value = claims[name]
    # bool is an int in Python; `"exp": true` is not a date.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AssertionRejected("malformed", f"The assertion's {name} claim is not a number of seconds.")
    return float(value)


def _check_times(claims: dict[str, Any], now: datetime) -> datetime:
    """iat, nbf and exp against `now` with CLOCK_SKEW, and the lifetime; returns the expiry."""
    skew = CLOCK_SKEW.total_seconds()
    current = now.timestamp()
    iat = _numeric_date(claims, "iat")
    exp = _numeric_date(claims, "exp")
    nbf = _numeric_date(claims, "nbf") if claims.get("nbf") is not None else None
    if iat > current + skew or (nbf is not None and nbf > current + skew):
        raise AssertionRejected("not_yet_valid", "The assertion is not valid yet.")
    if exp <= current - skew:
        raise AssertionRejected("expired", "The assertion has expired.")
    # A long-lived assertion is a bearer token in all but name; the lifetime is what bounds a stolen one.
    if not 0 < exp - iat <= MAX_ASSERTION_LIFETIME.total_seconds():
        raise AssertionRejected("lifetime", "An assertion may live at most five minutes (exp - iat).")
    return datetime.fromtimestamp(exp, UTC)


async def verify_assertion(conn: asyncpg.Connection, token: str, *, now: datetime | None = None) -> InstitutionCaller:
    """Verify an institution's assertion and spend its `jti`; raise AssertionRejected on any failure.

    `now` (timezone-aware) defaults to the current time. The `jti` is recorded in the caller's transaction:
    if the request then fails, its rollback also forgets the `jti`, so the same assertion could be sent again.
    That is acceptable because the failed request had no effect, and an assertion is only ever accepted once
    by a request that commits.
    """
    current = now or datetime.now(UTC)

    # 1. The header, unverified: only ES256, decided before any key is looked up.
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise AssertionRejected("malformed", "The assertion is not a signed JWT.") from exc
    if header.get("alg") != ASSERTION_ALGORITHM:
        raise AssertionRejected("algorithm", "Assertions must be signed with ES256.")
    # Headers like jku, x5u or jwk are ignored on purpose: keys only ever come from the client's registration.

    # 2. The issuer, unverified, only to find whose keys to try.
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError as exc:
        raise AssertionRejected("malformed", "The assertion could not be read.") from exc
    issuer = unverified.get("iss")
    if issuer is None:
        raise AssertionRejected("missing_claim", "The assertion lacks the 'iss' claim.")
    if not isinstance(issuer, str):
        raise AssertionRejected("issuer", "The assertion's iss must be the client id.")
    client = await queries.select_api_client(conn, issuer)
    # An inactive client is reported like an unknown one: which ids exist is nobody else's business.
    if client is None or not client.active:
        raise AssertionRejected("unknown_client", "No active API client has this id.")

    # 3. The key and the signature, then the claims that can only be trusted once it verifies.
    key = _select_key(client.jwks, header.get("kid"))
    claims = _verified_claims(token, key, client.client_id)
    expires_at = _check_times(claims, current)
    jti = claims["jti"]
    if not isinstance(jti, str) or not _JTI_MIN_LENGTH <= len(jti) <= _JTI_MAX_LENGTH:
        raise AssertionRejected("malformed", "The assertion's jti must be a string of 8 to 200 characters.")
    purpose = claims.get("purpose")
    if purpose is not None and not isinstance(purpose, str):
        raise AssertionRejected("malformed", "The assertion's purpose claim is not a string.")

    # 4. Spend the jti. The row must outlive the assertion's acceptance window (exp plus the skew allowed on
    # exp), or a replay just after the row's deletion would be accepted.
    spent = await queries.insert_used_assertion(conn, client.client_id, jti, expires_at + CLOCK_SKEW)
    if not spent:
        raise AssertionRejected("replay", "This assertion has already been used.")
    return InstitutionCaller(
        client_id=client.client_id, org_id=client.org_id, org_code=client.org_code, jti=jti, purpose=purpose
    )


async def delete_expired_assertions(conn: asyncpg.Connection) -> int:
    """Forget spent assertion ids that can no longer be replayed (for the worker's cron); returns how many."""
    return await queries.delete_expired_assertions(conn)
