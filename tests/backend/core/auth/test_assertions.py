"""Institution client assertions: every attack we know of is refused with its own code, and valid ones pass once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from backend.core.auth.assertion_queries import insert_used_assertion, select_api_client, upsert_api_client
from backend.core.auth.assertions import (
    AssertionRejected,
    InstitutionCaller,
    delete_expired_assertions,
    verify_assertion,
)
from backend.core.auth.institution_keys import (
    generate_es256_key,
    load_or_create_private_key,
    make_assertion,
    public_jwk,
)
from backend.core.identity.queries import insert_organisation

KID = "k1"
CLIENT = "acme-api"
OTHER_CLIENT = "other-api"
DORMANT_CLIENT = "dormant-api"


@dataclass(frozen=True)
class World:
    """Two organisations, an active client each (both keys named "k1"), an inactive client, and "now"."""

    now: datetime
    org_id: UUID
    key: ec.EllipticCurvePrivateKey
    other_key: ec.EllipticCurvePrivateKey
    dormant_key: ec.EllipticCurvePrivateKey


async def register_client(
    conn: asyncpg.Connection,
    *,
    client_id: str,
    org_id: UUID,
    keys: dict[str, ec.EllipticCurvePrivateKey],
    active: bool = True,
) -> None:
    """Register an API client whose JWKS holds the public half of each key under its kid."""
    jwks = {"keys": [public_jwk(key, kid) for kid, key in keys.items()]}
    assert await upsert_api_client(conn, client_id, org_id, jwks, active=active)


async def create_organisation(conn: asyncpg.Connection, *, kbo: str, code: str | None) -> UUID:
    """A demo organisation with a valid KBO number."""
    organisation = await insert_organisation(
        conn,
        kbo=kbo,
        kind="institution" if code else "other",
        code=code,
        name_nl="Testinstelling",
        name_fr="Institution de test",
        name_de="Testeinrichtung",
    )
    return organisation.org_id


@pytest.fixture
async def world(conn: asyncpg.Connection) -> World:
    """The clients every test talks about, inside the test's rolled-back transaction."""
    org_id = await create_organisation(conn, kbo="0403019261", code="TESTINST")
    other_org_id = await create_organisation(conn, kbo="0202023977", code=None)
    world = World(
        now=datetime.now(UTC).replace(microsecond=0),
        org_id=org_id,
        key=generate_es256_key(),
        other_key=generate_es256_key(),
        dormant_key=generate_es256_key(),
    )
    await register_client(conn, client_id=CLIENT, org_id=org_id, keys={KID: world.key})
    await register_client(conn, client_id=OTHER_CLIENT, org_id=other_org_id, keys={KID: world.other_key})
    await register_client(conn, client_id=DORMANT_CLIENT, org_id=org_id, keys={KID: world.dormant_key}, active=False)
    return world


# --- building tokens, honest and otherwise -------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64json(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value).encode())


def _ts(moment: datetime) -> int:
    return int(moment.timestamp())


def claims(w: World, *, drop: tuple[str, ...] = (), **changes: Any) -> dict[str, Any]:
    """Valid claims for CLIENT at `w.now`, with some replaced (`changes`) or removed (`drop`)."""
    base: dict[str, Any] = {
        "iss": CLIENT,
        "sub": CLIENT,
        "aud": "vitrine",
        "iat": _ts(w.now),
        "exp": _ts(w.now + timedelta(minutes=2)),
        "jti": "jti-" + base64.b32encode(hashlib.sha256(repr(changes).encode()).digest()[:10]).decode(),
    }
    base.update(changes)
    return {name: value for name, value in base.items() if name not in drop}


def es256(
    w: World,
    payload: dict[str, Any],
    *,
    key: ec.EllipticCurvePrivateKey | None = None,
    headers: dict[str, Any] | None = None,
) -> str:
    """Sign with ES256 (CLIENT's key unless told), naming KID unless the headers say otherwise."""
    return jwt.encode(payload, key or w.key, algorithm="ES256", headers={"kid": KID, **(headers or {})})


def es256_any_claims(w: World, payload: dict[str, Any]) -> str:
    """ES256 over claims that PyJWT's own encoder refuses to produce (it checks some claim types)."""
    return jwt.PyJWS().encode(json.dumps(payload).encode(), w.key, algorithm="ES256", headers={"kid": KID})


def unsigned(w: World, alg: str | None) -> str:
    """A token claiming algorithm `alg` (or none at all) with an empty signature."""
    header = {"typ": "JWT", "kid": KID} | ({"alg": alg} if alg is not None else {})
    return f"{_b64json(header)}.{_b64json(claims(w))}."


def hs256_with_public_pem(w: World) -> str:
    """The classic confusion: HMAC keyed with the public key's PEM, hoping the verifier feeds it the same PEM."""
    pem = w.key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = f"{_b64json({'alg': 'HS256', 'typ': 'JWT', 'kid': KID})}.{_b64json(claims(w))}"
    signature = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


@cache
def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def rs256(w: World) -> str:
    """A properly signed RS256 token with CLIENT's kid."""
    return jwt.encode(claims(w), _rsa_key(), algorithm="RS256", headers={"kid": KID})


def es384(w: World) -> str:
    """A properly signed ES384 token: the right family, the wrong algorithm."""
    key = ec.generate_private_key(ec.SECP384R1())
    return jwt.encode(claims(w), key, algorithm="ES384", headers={"kid": KID})


def tampered(w: World) -> str:
    """A valid token whose payload has been swapped (here: for another purpose) under the same signature."""
    header, _, signature = es256(w, claims(w, purpose="benefits")).split(".")
    return f"{header}.{_b64json(claims(w, purpose='everything'))}.{signature}"


def stripped_signature(w: World) -> str:
    """A valid token with its signature cut off."""
    header, payload, _ = es256(w, claims(w)).split(".")
    return f"{header}.{payload}."


def embedded_jwk(w: World) -> str:
    """An attacker's own key, offered in the header (`jwk`, `jku`) for the verifier to trust."""
    attacker = generate_es256_key()
    headers = {"jwk": public_jwk(attacker, KID), "jku": "https://attacker.example/jwks.json"}
    return es256(w, claims(w), key=attacker, headers=headers)


def not_json_payload(w: World) -> str:
    """A well-formed ES256 header over a payload that is not JSON."""
    return f"{_b64json({'alg': 'ES256', 'kid': KID})}.{_b64(b'not json')}.{_b64(b'x' * 64)}"


Builder = Callable[[World], str]

ATTACKS = [
    # Not a JWT at all.
    pytest.param(lambda w: "", "malformed", id="empty"),
    pytest.param(lambda w: "abc", "malformed", id="one-segment"),
    pytest.param(lambda w: "a.b.c", "malformed", id="garbage-segments"),
    pytest.param(not_json_payload, "malformed", id="payload-not-json"),
    # Algorithm confusion, refused before any key is touched.
    pytest.param(lambda w: unsigned(w, "none"), "algorithm", id="alg-none"),
    pytest.param(lambda w: unsigned(w, "None"), "algorithm", id="alg-None-capitalised"),
    pytest.param(lambda w: unsigned(w, None), "algorithm", id="alg-missing"),
    pytest.param(hs256_with_public_pem, "algorithm", id="hs256-keyed-with-public-pem"),
    pytest.param(rs256, "algorithm", id="rs256"),
    pytest.param(es384, "algorithm", id="es384"),
    # Time.
    pytest.param(
        lambda w: es256(w, claims(w, iat=_ts(w.now - timedelta(seconds=200)), exp=_ts(w.now - timedelta(seconds=61)))),
        "expired",
        id="expired-beyond-skew",
    ),
    pytest.param(
        lambda w: es256(w, claims(w, nbf=_ts(w.now + timedelta(seconds=120)), exp=_ts(w.now + timedelta(seconds=240)))),
        "not_yet_valid",
        id="nbf-in-future",
    ),
    pytest.param(
        lambda w: es256(w, claims(w, iat=_ts(w.now + timedelta(seconds=120)), exp=_ts(w.now + timedelta(seconds=240)))),
        "not_yet_valid",
        id="iat-in-future",
    ),
    pytest.param(
        lambda w: es256(w, claims(w, exp=_ts(w.now + timedelta(seconds=301)))), "lifetime", id="lifetime-over-5-min"
    ),
    pytest.param(
        lambda w: es256(w, claims(w, iat=_ts(w.now + timedelta(seconds=30)), exp=_ts(w.now + timedelta(seconds=10)))),
        "lifetime",
        id="exp-before-iat",
    ),
    pytest.param(lambda w: es256(w, claims(w, exp="soon")), "malformed", id="exp-not-a-number"),
    # Audience.
    pytest.param(lambda w: es256(w, claims(w, aud="https://vitrine.example")), "audience", id="wrong-audience"),
    pytest.param(lambda w: es256(w, claims(w, aud=["vitrine", "elsewhere"])), "audience", id="audience-list"),
    pytest.param(lambda w: es256(w, claims(w, drop=("aud",))), "missing_claim", id="missing-aud"),
    # Issuer and subject.
    pytest.param(
        lambda w: es256(w, claims(w, iss=OTHER_CLIENT, sub=OTHER_CLIENT)), "signature", id="iss-of-another-client"
    ),
    pytest.param(lambda w: es256(w, claims(w, iss="nobody-api", sub="nobody-api")), "unknown_client", id="unknown-iss"),
    pytest.param(
        lambda w: es256(w, claims(w, iss=DORMANT_CLIENT, sub=DORMANT_CLIENT), key=w.dormant_key),
        "unknown_client",
        id="inactive-client",
    ),
    pytest.param(lambda w: es256(w, claims(w, sub=OTHER_CLIENT)), "issuer", id="sub-differs-from-iss"),
    pytest.param(lambda w: es256_any_claims(w, claims(w, iss=42, sub=42)), "issuer", id="iss-not-a-string"),
    pytest.param(lambda w: es256(w, claims(w, drop=("iss",))), "missing_claim", id="missing-iss"),
    pytest.param(lambda w: es256(w, claims(w, drop=("sub",))), "missing_claim", id="missing-sub"),
    # Keys and signatures.
    pytest.param(lambda w: es256(w, claims(w), key=w.other_key), "signature", id="other-key-right-kid"),
    pytest.param(lambda w: es256(w, claims(w), headers={"kid": "k9"}), "signature", id="unknown-kid"),
    pytest.param(embedded_jwk, "signature", id="attacker-key-in-header"),
    pytest.param(tampered, "signature", id="tampered-payload"),
    pytest.param(stripped_signature, "signature", id="signature-stripped"),
    # Other claims.
    pytest.param(lambda w: es256(w, claims(w, drop=("jti",))), "missing_claim", id="missing-jti"),
    pytest.param(lambda w: es256(w, claims(w, drop=("exp",))), "missing_claim", id="missing-exp"),
    pytest.param(lambda w: es256(w, claims(w, drop=("iat",))), "missing_claim", id="missing-iat"),
    pytest.param(lambda w: es256(w, claims(w, jti="short")), "malformed", id="jti-too-short"),
    pytest.param(lambda w: es256(w, claims(w, jti=12345678)), "malformed", id="jti-not-a-string"),
]


@pytest.mark.parametrize(("build", "code"), ATTACKS)
async def test_attack_is_refused(conn: asyncpg.Connection, world: World, build: Builder, code: str) -> None:
    token = build(world)
    with pytest.raises(AssertionRejected) as caught:
        await verify_assertion(conn, token, now=world.now)
    assert caught.value.code == code
    # Nothing from the token finds its way into the message (it ends up in logs and responses).
    assert token not in str(caught.value) or token == ""
    spent = await conn.fetchval("SELECT count(*) FROM used_assertions")
    assert spent == 0


# --- what is accepted ------------------------------------------------------------------------------------------


async def test_valid_assertion_is_accepted_once(conn: asyncpg.Connection, world: World) -> None:
    token = make_assertion(world.key, client_id=CLIENT, kid=KID, purpose="benefits", now=world.now)

    caller = await verify_assertion(conn, token, now=world.now)

    assert caller == InstitutionCaller(
        client_id=CLIENT, org_id=world.org_id, org_code="TESTINST", jti=caller.jti, purpose="benefits"
    )
    with pytest.raises(AssertionRejected) as caught:
        await verify_assertion(conn, token, now=world.now + timedelta(seconds=5))
    assert caught.value.code == "replay"


async def test_a_new_token_reusing_a_jti_is_a_replay(conn: asyncpg.Connection, world: World) -> None:
    await verify_assertion(conn, make_assertion(world.key, client_id=CLIENT, kid=KID, jti="same-id-1"), now=None)
    again = make_assertion(world.key, client_id=CLIENT, kid=KID, jti="same-id-1")
    with pytest.raises(AssertionRejected) as caught:
        await verify_assertion(conn, again)
    assert caught.value.code == "replay"


async def test_jti_is_spent_per_client(conn: asyncpg.Connection, world: World) -> None:
    """Two institutions picking the same jti do not lock each other out."""
    mine = make_assertion(world.key, client_id=CLIENT, kid=KID, jti="shared-jti-1", now=world.now)
    theirs = make_assertion(world.other_key, client_id=OTHER_CLIENT, kid=KID, jti="shared-jti-1", now=world.now)

    assert (await verify_assertion(conn, mine, now=world.now)).client_id == CLIENT
    assert (await verify_assertion(conn, theirs, now=world.now)).client_id == OTHER_CLIENT


async def test_spent_jti_outlives_the_acceptance_window(conn: asyncpg.Connection, world: World) -> None:
    token = make_assertion(world.key, client_id=CLIENT, kid=KID, lifetime_seconds=60, now=world.now)
    caller = await verify_assertion(conn, token, now=world.now)

    expires_at = await conn.fetchval("SELECT expires_at FROM used_assertions WHERE jti = $1", caller.jti)
    assert expires_at == world.now + timedelta(seconds=60 + 60)


@pytest.mark.parametrize(
    ("iat_offset", "exp_offset"),
    [pytest.param(-200, -30, id="expired-within-skew"), pytest.param(30, 150, id="issued-within-skew")],
)
async def test_clock_skew_is_tolerated(
    conn: asyncpg.Connection, world: World, iat_offset: int, exp_offset: int
) -> None:
    payload = claims(
        world,
        iat=_ts(world.now + timedelta(seconds=iat_offset)),
        exp=_ts(world.now + timedelta(seconds=exp_offset)),
    )
    caller = await verify_assertion(conn, es256(world, payload), now=world.now)
    assert caller.client_id == CLIENT


async def test_key_rotation_selects_the_key_by_kid(conn: asyncpg.Connection, world: World) -> None:
    old, new = generate_es256_key(), generate_es256_key()
    await register_client(conn, client_id="rotating-api", org_id=world.org_id, keys={"2024": old, "2025": new})

    for kid, key in (("2024", old), ("2025", new)):
        token = make_assertion(key, client_id="rotating-api", kid=kid, now=world.now)
        assert (await verify_assertion(conn, token, now=world.now)).client_id == "rotating-api"

    crossed = make_assertion(old, client_id="rotating-api", kid="2025", now=world.now)
    with pytest.raises(AssertionRejected) as caught:
        await verify_assertion(conn, crossed, now=world.now)
    assert caught.value.code == "signature"


async def test_token_without_kid_uses_the_only_key(conn: asyncpg.Connection, world: World) -> None:
    token = jwt.encode(claims(world), world.key, algorithm="ES256")
    assert (await verify_assertion(conn, token, now=world.now)).client_id == CLIENT


async def test_token_without_kid_is_refused_when_there_are_several_keys(conn: asyncpg.Connection, world: World) -> None:
    await register_client(conn, client_id=CLIENT, org_id=world.org_id, keys={"a": world.key, "b": generate_es256_key()})
    token = jwt.encode(claims(world), world.key, algorithm="ES256")
    with pytest.raises(AssertionRejected) as caught:
        await verify_assertion(conn, token, now=world.now)
    assert caught.value.code == "signature"


@pytest.mark.parametrize(
    "jwk",
    [
        pytest.param({"kty": "RSA", "kid": KID, "n": "AQAB", "e": "AQAB"}, id="rsa-key"),
        pytest.param({"kty": "oct", "kid": KID, "k": "c2VjcmV0"}, id="symmetric-key"),
        pytest.param({"kid": KID, "x": "", "y": ""}, id="no-kty"),
    ],
)
async def test_unusable_registered_key_is_never_used(
    conn: asyncpg.Connection, world: World, jwk: dict[str, str]
) -> None:
    assert await upsert_api_client(conn, CLIENT, world.org_id, {"keys": [jwk]})
    with pytest.raises(AssertionRejected) as caught:
        await verify_assertion(conn, es256(world, claims(world)), now=world.now)
    assert caught.value.code == "signature"


async def test_registered_private_key_is_refused(conn: asyncpg.Connection, world: World) -> None:
    """A JWKS with `d` in it was registered by mistake; it must not quietly work."""
    jwk: dict[str, Any] = dict(public_jwk(world.key, KID))
    jwk["d"] = _b64(world.key.private_numbers().private_value.to_bytes(32, "big"))
    assert await upsert_api_client(conn, CLIENT, world.org_id, {"keys": [jwk]})
    with pytest.raises(AssertionRejected) as caught:
        await verify_assertion(conn, es256(world, claims(world)), now=world.now)
    assert caught.value.code == "signature"


# --- housekeeping and registration -----------------------------------------------------------------------------


async def test_delete_expired_assertions_removes_only_expired_rows(conn: asyncpg.Connection, world: World) -> None:
    now = datetime.now(UTC)
    assert await insert_used_assertion(conn, CLIENT, "expired-jti-1", now - timedelta(minutes=1))
    assert await insert_used_assertion(conn, CLIENT, "live-jti-0001", now + timedelta(minutes=5))

    assert await delete_expired_assertions(conn) == 1

    left = await conn.fetch("SELECT jti FROM used_assertions ORDER BY jti")
    assert [row["jti"] for row in left] == ["live-jti-0001"]


async def test_upsert_never_moves_a_client_to_another_organisation(conn: asyncpg.Connection, world: World) -> None:
    other_org = await create_organisation(conn, kbo="0877843268", code=None)
    assert not await upsert_api_client(conn, CLIENT, other_org, {"keys": [public_jwk(world.other_key, KID)]})

    client = await select_api_client(conn, CLIENT)
    assert client is not None
    assert client.org_id == world.org_id
    assert client.jwks == {"keys": [public_jwk(world.key, KID)]}


def test_rejection_becomes_a_401_problem() -> None:
    problem = AssertionRejected("replay", "This assertion has already been used.").to_problem()
    assert problem.status == 401
    assert problem.kind == "assertion-replay"
    assert problem.headers["WWW-Authenticate"].startswith("Bearer")


# --- institution-side key helpers ------------------------------------------------------------------------------


def test_public_jwk_holds_only_the_public_key() -> None:
    key = generate_es256_key()
    jwk = public_jwk(key, "2025-01")

    assert set(jwk) == {"kty", "crv", "x", "y", "kid", "use", "alg"}
    assert (jwk["kty"], jwk["crv"], jwk["kid"], jwk["use"], jwk["alg"]) == ("EC", "P-256", "2025-01", "sig", "ES256")
    assert len(base64.urlsafe_b64decode(jwk["x"] + "=")) == 32
    assert public_jwk(key.public_key(), "2025-01") == jwk


def test_private_key_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "institution" / "signing.pem"

    created = load_or_create_private_key(path)
    loaded = load_or_create_private_key(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert loaded.private_numbers() == created.private_numbers()


def test_make_assertion_claims() -> None:
    key = generate_es256_key()
    now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    token = make_assertion(key, client_id=CLIENT, kid=KID, purpose="benefits", now=now, jti="fixed-jti-1")

    assert jwt.get_unverified_header(token)["kid"] == KID
    payload = jwt.decode(token, options={"verify_signature": False})
    assert payload == {
        "iss": CLIENT,
        "sub": CLIENT,
        "aud": "vitrine",
        "iat": _ts(now),
        "exp": _ts(now) + 120,
        "jti": "fixed-jti-1",
        "purpose": "benefits",
    }
    with pytest.raises(ValueError, match="300"):
        make_assertion(key, client_id=CLIENT, kid=KID, lifetime_seconds=301)
