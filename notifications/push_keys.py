"""Vitrine's VAPID key (RFC 8292): the P-256 key whose signature tells push services the messages are ours.

Production reads it from VAPID_PRIVATE_KEY (PEM). Development and tests keep one at `<local>/keys/vapid.pem`,
created once, like the service signing key, so that subscriptions made in the browser keep working across
restarts (a new key would make every push service refuse the old subscriptions with 403).
"""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from backend.core.auth.institution_keys import load_or_create_private_key
from backend.core.settings import Settings


def vapid_key_path(local_dir: Path) -> Path:
    """Where the development/test VAPID key is kept under the local folder."""
    return local_dir / "keys" / "vapid.pem"


def _require_p256(key: object, origin: str) -> ec.EllipticCurvePrivateKey:
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError(f"{origin}: the VAPID key must be a P-256 private key")
    return key


@lru_cache(maxsize=4)
def _load(local_dir: Path, pem: str | None) -> ec.EllipticCurvePrivateKey:
    if pem is not None:
        try:
            loaded = serialization.load_pem_private_key(pem.encode("utf-8"), password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            # The cryptography message may quote key material; only say what is wrong.
            raise ValueError("VAPID_PRIVATE_KEY: not a readable unencrypted PEM private key") from exc
        return _require_p256(loaded, "VAPID_PRIVATE_KEY")
    path = vapid_key_path(local_dir)
    return _require_p256(load_or_create_private_key(path), str(path))


def vapid_private_key(settings: Settings) -> ec.EllipticCurvePrivateKey:
    """The VAPID private key of this configuration (read once per process)."""
    return _load(settings.local_path, settings.vapid_private_key)


def application_server_key(key: ec.EllipticCurvePrivateKey) -> str:
    """The public key as browsers want it for `applicationServerKey`: the uncompressed point, base64url."""
    point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode("ascii")
