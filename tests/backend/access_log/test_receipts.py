"""Log receipts: signed, verifiable offline, refused when forged, and caught out by a rewritten log."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide

from backend.access_log import queries
from backend.access_log.chain import GENESIS
from backend.access_log.receipt_routes import RECEIPT_ROUTES, service_key_from_state
from backend.access_log.receipts import (
    RECEIPT_TYPE,
    Receipt,
    ReceiptInvalid,
    check_extends,
    issue_receipt,
    load_service_key,
    service_jwks,
    service_key_id,
    service_key_path,
    verify_receipt,
    verify_receipt_file,
)
from backend.access_log.schemas import Accessor
from backend.access_log.service import record_access
from backend.core.errors import make_exception_handler
from backend.core.settings import Settings
from tests.conftest import in_process_client
from tests.factories import create_person

ACCESSOR = Accessor(kind="institution", client_id="x")
VERIFY = "/api/v1/access-log/receipts/verify"
KEYS = "/.well-known/vitrine-keys.json"


@pytest.fixture
def service_key(tmp_path: Path) -> ec.EllipticCurvePrivateKey:
    """A development service key under the test's own local folder."""
    return load_service_key(tmp_path, None)


@pytest.fixture
def jwks(service_key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    """The published keys for `service_key`."""
    return service_jwks(service_key)


@pytest.fixture
async def receipts_client(
    settings: Settings, conn: asyncpg.Connection, service_key: ec.EllipticCurvePrivateKey
) -> AsyncIterator[httpx.AsyncClient]:
    """A small app with only the receipt routes, its requests on the test's rolled-back connection."""

    async def provide_conn() -> AsyncIterator[asyncpg.Connection]:
        yield conn

    @asynccontextmanager
    async def connection_source() -> AsyncIterator[asyncpg.Connection]:
        yield conn

    app = Litestar(
        route_handlers=RECEIPT_ROUTES,
        dependencies={"conn": Provide(provide_conn)},
        state=State({"settings": settings, "connection_source": connection_source, "service_key": service_key}),
        exception_handlers={Exception: make_exception_handler(None)},
        debug=False,
    )
    async with in_process_client(app) as client:
        yield client


async def _log(conn: asyncpg.Connection, citizen_id: UUID, count: int) -> None:
    for number in range(count):
        await record_access(
            conn, citizen_id=citizen_id, accessor=ACCESSOR, action="read", channel="api", record_refs=[f"r{number}"]
        )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _claims(citizen_id: UUID, **overrides: Any) -> dict[str, Any]:
    return {
        "iss": "vitrine",
        "sub": str(citizen_id),
        "iat": 1_700_000_000,
        "events": 3,
        "head": "ab" * 32,
        "ver": 1,
        **overrides,
    }


def _unsigned(claims: dict[str, Any], headers: dict[str, str]) -> str:
    """An "alg": "none" token: a header, a payload and an empty signature."""
    header = _b64(json.dumps({"alg": "none", **headers}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}."


async def _tamper(conn: asyncpg.Connection, statement: str, *args: Any) -> None:
    """Change the append-only log as a superuser would (undone with the test's transaction)."""
    await conn.execute("RESET ROLE")
    try:
        await conn.execute("ALTER TABLE access_events DISABLE TRIGGER access_events_append_only")
        await conn.execute(statement, *args)
        await conn.execute("ALTER TABLE access_events ENABLE TRIGGER access_events_append_only")
    finally:
        await conn.execute("SET ROLE vitrine_app")


# --- The service key -----------------------------------------------------------------------------------------


def test_the_development_key_is_created_once_private_and_published_without_its_secret(tmp_path: Path) -> None:
    key = load_service_key(tmp_path, None)
    path = service_key_path(tmp_path)
    assert path == tmp_path / "keys" / "service-signing.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert service_key_id(load_service_key(tmp_path, None)) == service_key_id(key)
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    published = service_jwks(key)
    assert published["keys"] == [
        {
            "kty": "EC",
            "crv": "P-256",
            "x": published["keys"][0]["x"],
            "y": published["keys"][0]["y"],
            "kid": hashlib.sha256(der).hexdigest()[:16],
            "alg": "ES256",
            "use": "sig",
        }
    ]


def test_a_configured_pem_is_used_and_nothing_is_written(tmp_path: Path) -> None:
    configured = ec.generate_private_key(ec.SECP256R1())
    pem = configured.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    assert service_key_id(load_service_key(tmp_path, pem)) == service_key_id(configured)
    assert not (tmp_path / "keys").exists()
    rsa_pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode("ascii")
    )
    with pytest.raises(ValueError, match="P-256"):
        load_service_key(tmp_path, rsa_pem)
    with pytest.raises(ValueError, match="PEM"):
        load_service_key(tmp_path, "not a key")


def test_the_key_comes_from_the_app_state(service_key: ec.EllipticCurvePrivateKey) -> None:
    assert service_key_from_state(State({"service_key": service_key})) is service_key
    with pytest.raises(RuntimeError, match="service_key"):
        service_key_from_state(State({}))


# --- Issue and verify --------------------------------------------------------------------------------------------


async def test_a_receipt_states_the_head_and_verifies_offline(
    conn: asyncpg.Connection, service_key: ec.EllipticCurvePrivateKey, jwks: dict[str, Any]
) -> None:
    person = await create_person(conn)
    await _log(conn, person.person_id, 3)
    head = await queries.select_head(conn, person.person_id)
    assert head is not None
    issued_at = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
    token = await issue_receipt(conn, service_key, person.person_id, now=issued_at)
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "ES256", "kid": service_key_id(service_key), "typ": RECEIPT_TYPE}
    receipt = verify_receipt(token, jwks)
    assert receipt == Receipt(
        citizen_id=person.person_id,
        events=3,
        head_hash=head[1].hex(),
        as_of=issued_at,
        issuer="vitrine",
        kid=service_key_id(service_key),
    )
    report = await check_extends(conn, receipt)
    assert report.consistent, report.message


async def test_a_citizen_without_a_log_gets_an_empty_receipt(
    conn: asyncpg.Connection, service_key: ec.EllipticCurvePrivateKey, jwks: dict[str, Any]
) -> None:
    person = await create_person(conn)
    receipt = verify_receipt(await issue_receipt(conn, service_key, person.person_id), jwks)
    assert (receipt.events, receipt.head_hash) == (0, "0" * 64)
    assert (await check_extends(conn, receipt)).consistent
    # The empty log is a prefix of every log.
    await _log(conn, person.person_id, 2)
    later = verify_receipt(await issue_receipt(conn, service_key, person.person_id), jwks)
    assert (await check_extends(conn, receipt, later)).consistent


async def test_forged_receipts_are_refused_with_the_right_code(
    conn: asyncpg.Connection, service_key: ec.EllipticCurvePrivateKey, jwks: dict[str, Any]
) -> None:
    person = await create_person(conn)
    await _log(conn, person.person_id, 2)
    token = await issue_receipt(conn, service_key, person.person_id)
    header_b64, payload_b64, signature_b64 = token.split(".")
    kid = service_key_id(service_key)
    claims = json.loads(_unb64(payload_b64))

    # The payload edited (one event hidden), the signature kept.
    edited = _b64(json.dumps({**claims, "events": 1}).encode())
    forgeries: dict[str, str] = {"signature": f"{header_b64}.{edited}.{signature_b64}"}

    # Re-signed with another key, under Vitrine's kid and under its own.
    other = ec.generate_private_key(ec.SECP256R1())
    headers = {"kid": kid, "typ": RECEIPT_TYPE}
    forgeries["signature/other key"] = jwt.encode(claims, other, algorithm="ES256", headers=headers)
    forgeries["unknown_key"] = jwt.encode(
        claims, other, algorithm="ES256", headers={"kid": service_key_id(other), "typ": RECEIPT_TYPE}
    )
    forgeries["unknown_key/no kid"] = jwt.encode(claims, other, algorithm="ES256", headers={"typ": RECEIPT_TYPE})

    # alg "none", and HS256 keyed with the published public key (PEM and JWK forms).
    forgeries["algorithm/none"] = _unsigned(claims, headers)
    public_pem = service_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for name, secret in (("pem", public_pem), ("jwk", json.dumps(jwks["keys"][0]).encode())):
        hs_header = _b64(json.dumps({"alg": "HS256", "kid": kid, "typ": RECEIPT_TYPE}).encode())
        signing_input = f"{hs_header}.{payload_b64}".encode()
        mac = hmac.new(secret, signing_input, hashlib.sha256).digest()
        forgeries[f"algorithm/hs256 {name}"] = f"{hs_header}.{payload_b64}.{_b64(mac)}"
    # ES384 is still not ES256: the algorithm is pinned, not merely "some ECDSA".
    p384 = ec.generate_private_key(ec.SECP384R1())
    forgeries["algorithm/es384"] = jwt.encode(claims, p384, algorithm="ES384", headers=headers)

    # Signed by Vitrine's key but not a receipt: wrong type, wrong issuer, a claim missing or unreadable.
    forgeries["claims/typ"] = jwt.encode(claims, service_key, algorithm="ES256", headers={"kid": kid, "typ": "JWT"})
    for label, changed in (
        ("iss", {**claims, "iss": "someone"}),
        ("missing head", {key: value for key, value in claims.items() if key != "head"}),
        ("ver", {**claims, "ver": 2}),
        ("sub", {**claims, "sub": "not-a-uuid"}),
        ("events", {**claims, "events": -1}),
        ("events bool", {**claims, "events": True}),
        ("head", {**claims, "head": "AB" * 32}),
        ("empty with head", {**claims, "events": 0}),
    ):
        forgeries[f"claims/{label}"] = jwt.encode(changed, service_key, algorithm="ES256", headers=headers)

    forgeries["malformed/garbage"] = "not.a.receipt"
    forgeries["malformed/empty"] = ""

    for label, forged in forgeries.items():
        with pytest.raises(ReceiptInvalid) as refused:
            verify_receipt(forged, jwks)
        assert refused.value.code == label.split("/")[0], (label, refused.value.message)

    # The genuine one still passes, and a JWKS holding a non-EC key under the kid is not used.
    assert verify_receipt(token, jwks).events == 2
    with pytest.raises(ReceiptInvalid) as refused:
        verify_receipt(token, {"keys": [{"kty": "oct", "k": _b64(public_pem), "kid": kid}]})
    assert refused.value.code == "unknown_key"


# --- Extension and rewriting -------------------------------------------------------------------------------------


async def test_a_later_receipt_extends_an_earlier_one(
    conn: asyncpg.Connection, service_key: ec.EllipticCurvePrivateKey, jwks: dict[str, Any]
) -> None:
    person = await create_person(conn)
    await _log(conn, person.person_id, 2)
    earlier = verify_receipt(await issue_receipt(conn, service_key, person.person_id), jwks)
    await _log(conn, person.person_id, 3)
    later = verify_receipt(await issue_receipt(conn, service_key, person.person_id), jwks)
    assert (earlier.events, later.events) == (2, 5)

    extension = await check_extends(conn, earlier, later)
    assert extension.consistent, extension.message
    assert (await check_extends(conn, earlier)).consistent

    # The same receipt twice extends itself; swapped, the "later" one is shorter.
    assert (await check_extends(conn, later, later)).consistent
    swapped = await check_extends(conn, later, earlier)
    assert (swapped.consistent, swapped.check) == (False, "order")

    stranger = await create_person(conn)
    other = verify_receipt(await issue_receipt(conn, service_key, stranger.person_id), jwks)
    mixed = await check_extends(conn, earlier, other)
    assert (mixed.consistent, mixed.check) == (False, "citizen")

    # Two receipts of the same length with different heads are a fork.
    forked = Receipt(citizen_id=person.person_id, events=2, head_hash="cd" * 32, as_of=later.as_of, kid=later.kid)
    fork = await check_extends(conn, earlier, forked)
    assert (fork.consistent, fork.check) == (False, "fork")


async def test_a_rewritten_log_is_detected(
    conn: asyncpg.Connection, service_key: ec.EllipticCurvePrivateKey, jwks: dict[str, Any]
) -> None:
    person = await create_person(conn)
    await _log(conn, person.person_id, 2)
    earlier = verify_receipt(await issue_receipt(conn, service_key, person.person_id), jwks)
    await _log(conn, person.person_id, 2)
    later = verify_receipt(await issue_receipt(conn, service_key, person.person_id), jwks)
    forged_hash = hashlib.sha256(b"rewritten").digest()

    await _tamper(
        conn, "UPDATE access_events SET hash = $2 WHERE citizen_id = $1 AND seq = 2", person.person_id, forged_hash
    )

    report = await check_extends(conn, earlier)
    assert not report.consistent
    assert (report.check, report.seq) == ("earlier_vs_log", 2)
    assert (report.expected, report.found) == (earlier.head_hash, forged_hash.hex())
    assert report.message == (
        f"the log was rewritten: event 2 now has hash {forged_hash.hex()}, the receipt says {earlier.head_hash}"
    )
    extension = await check_extends(conn, earlier, later)
    assert (extension.consistent, extension.check) == (False, "earlier_vs_log")
    # The later receipt's own head (event 4) was not touched.
    assert (await check_extends(conn, later)).consistent


async def test_an_edit_that_keeps_the_stored_hash_or_drops_events_is_detected(
    conn: asyncpg.Connection, service_key: ec.EllipticCurvePrivateKey, jwks: dict[str, Any]
) -> None:
    person = await create_person(conn)
    await _log(conn, person.person_id, 3)
    receipt = verify_receipt(await issue_receipt(conn, service_key, person.person_id), jwks)

    await _tamper(
        conn, "UPDATE access_events SET record_refs = '{}' WHERE citizen_id = $1 AND seq = 3", person.person_id
    )
    altered = await check_extends(conn, receipt)
    assert (altered.consistent, altered.check, altered.expected) == (False, "earlier_vs_log", receipt.head_hash)
    assert "content now hashes to" in altered.message

    await _tamper(conn, "DELETE FROM access_events WHERE citizen_id = $1 AND seq = 3", person.person_id)
    dropped = await check_extends(conn, receipt)
    assert (dropped.consistent, dropped.found) == (False, None)
    assert "no longer holds event 3" in dropped.message


# --- The public endpoints ----------------------------------------------------------------------------------------


async def test_the_public_keys_are_published_and_cacheable(
    receipts_client: httpx.AsyncClient,
    conn: asyncpg.Connection,
    service_key: ec.EllipticCurvePrivateKey,
) -> None:
    response = await receipts_client.get(KEYS)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert response.headers["content-type"].startswith("application/json")
    published = response.json()
    assert published == service_jwks(service_key)
    assert "d" not in published["keys"][0]
    # What is published is enough to verify a receipt offline.
    person = await create_person(conn)
    token = await issue_receipt(conn, service_key, person.person_id)
    assert verify_receipt(token, published).citizen_id == person.person_id


async def test_the_verify_endpoint_answers_for_valid_and_extending_receipts(
    receipts_client: httpx.AsyncClient, conn: asyncpg.Connection, service_key: ec.EllipticCurvePrivateKey
) -> None:
    person = await create_person(conn)
    await _log(conn, person.person_id, 1)
    earlier = await issue_receipt(conn, service_key, person.person_id, now=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC))
    await _log(conn, person.person_id, 2)
    later = await issue_receipt(conn, service_key, person.person_id)
    head = await queries.select_head(conn, person.person_id)
    assert head is not None

    alone = await receipts_client.post(VERIFY, json={"receipt": earlier})
    assert alone.status_code == 200
    body = alone.json()
    assert body["valid"] is True
    assert body["citizen_id"] == str(person.person_id)
    assert body["events"] == 1
    assert body["as_of"] == "2025-01-02T03:04:05Z"
    assert body["matches_log"] is True
    assert body["extends_earlier"] is None
    assert body["kid"] == service_key_id(service_key)

    both = await receipts_client.post(VERIFY, json={"receipt": later, "earlier": earlier})
    assert both.status_code == 200
    body = both.json()
    assert (body["events"], body["head"]) == (3, head[1].hex())
    assert (body["matches_log"], body["extends_earlier"], body["extension_problem"]) == (True, True, None)

    backwards = (await receipts_client.post(VERIFY, json={"receipt": earlier, "earlier": later})).json()
    assert backwards["extends_earlier"] is False
    assert "fewer than" in backwards["extension_problem"]


async def test_the_verify_endpoint_reports_a_rewritten_log(
    receipts_client: httpx.AsyncClient, conn: asyncpg.Connection, service_key: ec.EllipticCurvePrivateKey
) -> None:
    person = await create_person(conn)
    await _log(conn, person.person_id, 2)
    token = await issue_receipt(conn, service_key, person.person_id)
    await _tamper(
        conn,
        "UPDATE access_events SET hash = $2 WHERE citizen_id = $1 AND seq = 2",
        person.person_id,
        hashlib.sha256(b"other").digest(),
    )
    body = (await receipts_client.post(VERIFY, json={"receipt": token})).json()
    assert (body["valid"], body["matches_log"]) == (True, False)
    assert body["log_problem"].startswith("the log was rewritten: event 2 now has hash")


async def test_the_verify_endpoint_refuses_forgeries_naming_the_field(
    receipts_client: httpx.AsyncClient, conn: asyncpg.Connection, service_key: ec.EllipticCurvePrivateKey
) -> None:
    person = await create_person(conn)
    token = await issue_receipt(conn, service_key, person.person_id)
    forged = jwt.encode(
        _claims(person.person_id),
        ec.generate_private_key(ec.SECP256R1()),
        algorithm="ES256",
        headers={"kid": service_key_id(service_key), "typ": RECEIPT_TYPE},
    )

    refused = await receipts_client.post(VERIFY, json={"receipt": forged})
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["detail"] == "The receipt in `receipt` was refused (signature)."
    assert problem["errors"] == [
        {"field": "receipt", "message": "The receipt's signature does not verify.", "location": "body"}
    ]

    bad_earlier = await receipts_client.post(VERIFY, json={"receipt": token, "earlier": "x.y.z"})
    assert bad_earlier.status_code == 422
    assert [error["field"] for error in bad_earlier.json()["errors"]] == ["earlier"]

    none_alg = _unsigned(_claims(person.person_id), {"typ": RECEIPT_TYPE})
    assert (await receipts_client.post(VERIFY, json={"receipt": none_alg})).json()["detail"].endswith("(algorithm).")

    for body in ({}, {"receipt": 12}, {"receipt": "a" * 5000}, {"receipt": token, "extra": 1}):
        unreadable = await receipts_client.post(VERIFY, json=body)
        assert unreadable.status_code in {400, 422}, body
        assert unreadable.headers["content-type"].startswith("application/problem+json")


# --- The offline command -----------------------------------------------------------------------------------------


async def test_the_offline_command_verifies_a_receipt_file(
    conn: asyncpg.Connection, service_key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    person = await create_person(conn)
    await _log(conn, person.person_id, 2)
    receipt_file = tmp_path / "receipt.jws"
    receipt_file.write_text(await issue_receipt(conn, service_key, person.person_id) + "\n", encoding="utf-8")

    # Against the local service key (the fixture made it under tmp_path).
    code, message = verify_receipt_file(receipt_file, None, tmp_path)
    assert code == 0, message
    assert f"citizen {person.person_id}, 2 event(s)" in message

    # Against a JWKS file: the right one, then another service's.
    published = tmp_path / "keys.json"
    published.write_text(json.dumps(service_jwks(service_key)), encoding="utf-8")
    assert verify_receipt_file(receipt_file, published, tmp_path / "elsewhere")[0] == 0
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps(service_jwks(ec.generate_private_key(ec.SECP256R1()))), encoding="utf-8")
    code, message = verify_receipt_file(receipt_file, foreign, tmp_path)
    assert code == 1
    assert message.startswith("receipt refused (unknown_key)")

    # Unusable input is exit code 2, and no key is invented when there is none locally.
    empty_local = tmp_path / "empty"
    code, message = verify_receipt_file(receipt_file, None, empty_local)
    assert code == 2
    assert "--jwks" in message
    assert not service_key_path(empty_local).exists()
    assert verify_receipt_file(tmp_path / "missing.jws", None, tmp_path)[0] == 2
    broken = tmp_path / "broken.json"
    broken.write_text("[1, 2]", encoding="utf-8")
    assert verify_receipt_file(receipt_file, broken, tmp_path)[0] == 2
    garbage = tmp_path / "garbage.jws"
    garbage.write_text("hello", encoding="utf-8")
    assert verify_receipt_file(garbage, None, tmp_path) == (
        1,
        "receipt refused (malformed): The receipt is not a compact JWS.",
    )


def test_a_receipt_for_an_unknown_citizen_still_reads_as_one() -> None:
    # Verification is offline: it says what was signed, not whether the citizen exists (check_extends does that).
    key = ec.generate_private_key(ec.SECP256R1())
    citizen = uuid4()
    token = jwt.encode(
        _claims(citizen, events=0, head=GENESIS.hex()),
        key,
        algorithm="ES256",
        headers={"kid": service_key_id(key), "typ": RECEIPT_TYPE},
    )
    receipt = verify_receipt(token, service_jwks(key))
    assert (receipt.citizen_id, receipt.events, receipt.as_of) == (
        citizen,
        0,
        datetime.fromtimestamp(1_700_000_000, UTC),
    )


async def test_a_signed_in_citizen_downloads_a_receipt_that_verifies(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    from backend.core.auth import sessions

    person = await create_person(conn)
    await record_access(
        conn,
        citizen_id=person.person_id,
        accessor=Accessor(kind="institution", client_id="x"),
        action="read",
        channel="api",
    )
    session_id = await sessions.insert_session(conn, person_id=person.person_id, method="demo")
    client.cookies.set(
        sessions.cookie_name(False),
        sessions.issue_token(settings.secret_key, session_id=session_id, person_id=person.person_id),
    )
    response = await client.get("/api/v1/me/access-log/receipt")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jwt")
    keys = (await client.get("/.well-known/vitrine-keys.json")).json()
    receipt = verify_receipt(response.text, keys)
    assert (receipt.citizen_id, receipt.events) == (person.person_id, 1)
    checked = await client.post("/api/v1/access-log/receipts/verify", json={"receipt": response.text})
    assert checked.json()["valid"] is True
    assert checked.json()["matches_log"] is True
