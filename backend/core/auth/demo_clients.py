"""Demo API clients: one per demo institution, with a private key kept under the local folder.

Private keys never go into git or the database; only the public JWK is registered. A fresh `.local/` gets new
keys, and the next seed registers their public halves.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import asyncpg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from backend.core.auth.assertion_queries import select_api_client, upsert_api_client
from backend.core.auth.institution_keys import load_or_create_private_key, public_jwk
from backend.core.identity.demo import INSTITUTIONS
from backend.core.identity.queries import select_organisation_by_code


def demo_client_id(code: str) -> str:
    """The demo client id of an institution code (ONSS → onss-demo)."""
    return f"{code.lower().replace('_', '-')}-demo"


def key_id(key: ec.EllipticCurvePrivateKey) -> str:
    """A key id derived from the public key, so a new key always gets a new kid."""
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()[:16]


def key_path(keys_dir: Path, code: str) -> Path:
    """Where an institution's demo private key lives."""
    return keys_dir / f"{demo_client_id(code)}.pem"


async def register_demo_clients(conn: asyncpg.Connection, keys_dir: Path) -> int:
    """Register (or refresh) each demo institution's client with the public half of its local key.

    Returns how many clients were new.
    """
    registered = 0
    for demo in INSTITUTIONS:
        assert demo.code is not None
        organisation = await select_organisation_by_code(conn, demo.code)
        if organisation is None:
            continue
        key = load_or_create_private_key(key_path(keys_dir, demo.code))
        jwks = {"keys": [public_jwk(key, key_id(key))]}
        existed = await select_api_client(conn, demo_client_id(demo.code)) is not None
        await upsert_api_client(conn, demo_client_id(demo.code), organisation.org_id, jwks)
        registered += 0 if existed else 1
    return registered
