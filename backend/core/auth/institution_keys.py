"""Keys on the institution's side: an ES256 key pair, its public JWK, and signed assertions.

Vitrine itself only ever verifies; these helpers serve the demo institutions, the command that registers a
client, and tests. They make exactly the assertions that `verify_assertion` accepts.
"""

from __future__ import annotations

import base64
import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from backend.core.auth.assertions import ASSERTION_ALGORITHM, ASSERTION_AUDIENCE, MAX_ASSERTION_LIFETIME

__all__ = ["generate_es256_key", "load_or_create_private_key", "make_assertion", "public_jwk"]

_P256_COORDINATE_BYTES = 32


def generate_es256_key() -> ec.EllipticCurvePrivateKey:
    """A new P-256 private key, the curve ES256 signs with."""
    return ec.generate_private_key(ec.SECP256R1())


def _require_p256(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> None:
    if not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("ES256 needs a P-256 key")


def _b64url(value: int) -> str:
    raw = value.to_bytes(_P256_COORDINATE_BYTES, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def public_jwk(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey, kid: str) -> dict[str, str]:
    """The public half of a P-256 key as an RFC 7517 JWK, named by `kid`, for signatures with ES256 only.

    Given a private key, only its public numbers are written: the result is safe to register and publish.
    """
    _require_p256(key)
    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    numbers = public.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        # Coordinates are fixed-width (RFC 7518 §6.2.1.2): leading zero bytes are kept, not trimmed.
        "x": _b64url(numbers.x),
        "y": _b64url(numbers.y),
        "kid": kid,
        "use": "sig",
        "alg": ASSERTION_ALGORITHM,
    }


def load_or_create_private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """The P-256 private key stored as PEM at `path`, created (mode 0600, parent directories too) if missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = generate_es256_key()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            # O_EXCL with the mode given at creation: the file never exists with wider permissions, and two
            # processes starting together cannot overwrite each other's key.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process won the race; its key is read below
        else:
            with os.fdopen(fd, "wb") as file:
                file.write(pem)
            return key
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path} does not hold an elliptic-curve private key")
    _require_p256(loaded)
    return loaded


def make_assertion(
    key: ec.EllipticCurvePrivateKey,
    *,
    client_id: str,
    kid: str,
    lifetime_seconds: int = 120,
    purpose: str | None = None,
    now: datetime | None = None,
    jti: str | None = None,
) -> str:
    """A signed client assertion for one API call: iss = sub = client_id, aud "vitrine", a fresh jti.

    `purpose` adds a `purpose` claim. The lifetime must be between 1 second and five minutes, because Vitrine
    refuses anything longer.
    """
    if not 0 < lifetime_seconds <= MAX_ASSERTION_LIFETIME.total_seconds():
        raise ValueError("an assertion lives between 1 and 300 seconds")
    _require_p256(key)
    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": client_id,
        "sub": client_id,
        "aud": ASSERTION_AUDIENCE,
        "iat": int(issued.timestamp()),
        "exp": int((issued + timedelta(seconds=lifetime_seconds)).timestamp()),
        "jti": jti or secrets.token_urlsafe(24),
    }
    if purpose is not None:
        claims["purpose"] = purpose
    return jwt.encode(claims, key, algorithm=ASSERTION_ALGORITHM, headers={"kid": kid, "typ": "JWT"})
