"""Reading ES256 public keys from JWKs: parsed by hand so that only a P-256 public key can come out.

A JWKS holding an RSA or symmetric key, a key for another algorithm or use, or a private key published by
mistake must never be used to verify anything; PyJWK would accept some of those.
"""

from __future__ import annotations

import base64
import binascii
from typing import Final

from cryptography.hazmat.primitives.asymmetric import ec

_P256_COORDINATE_BYTES: Final = 32


def b64url_decode(value: str) -> bytes:
    """Base64url without padding, as JOSE writes it."""
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def es256_public_key(jwk: object) -> ec.EllipticCurvePublicKey | None:
    """The P-256 public key of a JWK meant for ES256 signatures, or None for anything else."""
    if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or "d" in jwk:
        return None
    if jwk.get("alg", "ES256") != "ES256" or jwk.get("use", "sig") != "sig":
        return None
    x, y = jwk.get("x"), jwk.get("y")
    if not isinstance(x, str) or not isinstance(y, str):
        return None
    try:
        x_bytes, y_bytes = b64url_decode(x), b64url_decode(y)
        if len(x_bytes) != _P256_COORDINATE_BYTES or len(y_bytes) != _P256_COORDINATE_BYTES:
            return None
        numbers = ec.EllipticCurvePublicNumbers(
            int.from_bytes(x_bytes, "big"), int.from_bytes(y_bytes, "big"), ec.SECP256R1()
        )
        # public_key() checks that the point is on the curve, which refuses invalid-curve keys.
        return numbers.public_key()
    except (ValueError, binascii.Error):
        return None
