"""Mandate receipts: a signed JWS that verifies against Vitrine's published keys, and refuses any forgery."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta

import asyncpg
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from backend.access_log.receipts import issue_receipt, service_jwks, service_key_id
from backend.core.errors import Problem
from backend.core.identity import queries as identity_queries
from consent import ending
from consent.receipts import (
    MANDATE_RECEIPT_TYPE,
    MandateReceiptInvalid,
    receipt_for_party,
    verification_code,
    verify_mandate_receipt,
)
from tests.factories import (
    create_access_manager,
    create_mandate,
    create_organisation,
    create_person,
    invite_helper,
    signed_in,
)


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict[str, object], dict[str, object], str]:
    header, payload, signature = token.split(".")
    return _decoded(header), _decoded(payload), signature


def _decoded(part: str) -> dict[str, object]:
    value = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    assert isinstance(value, dict)
    return value


async def test_a_receipt_verifies_and_states_what_was_agreed(
    conn: asyncpg.Connection, key: ec.EllipticCurvePrivateKey
) -> None:
    citizen = await create_person(conn, given_name="Sofie", family_name="Peeters", language="fr")
    helper = await create_person(conn, given_name="Pieter", family_name="Janssens")
    mandate = await create_mandate(
        conn, citizen, helper=helper, themes=(("work_and_wages", "read"), ("messages", "act")), duration="1_month"
    )

    receipt, token = await receipt_for_party(conn, await signed_in(conn, citizen), mandate.mandate_id, key)
    stated = verify_mandate_receipt(token, service_jwks(key))

    assert stated == receipt
    assert stated.mandate_id == mandate.mandate_id
    assert (stated.citizen, stated.mandatary, stated.mandatary_kind) == ("Sofie Peeters", "Pieter Janssens", "person")
    assert [(t.code, t.access, t.name) for t in stated.themes] == [
        ("messages", "act", "Notifications"),
        ("work_and_wages", "read", "Travail et salaires"),
    ]
    assert stated.valid_from == mandate.starts_at
    assert stated.valid_until == mandate.ends_at
    text = await conn.fetchrow("SELECT version, sha256 FROM mandate_legal_texts WHERE language = 'fr'")
    assert text is not None
    assert (stated.legal_text_version, stated.legal_text_language, stated.legal_text_sha256) == (
        text["version"],
        "fr",
        text["sha256"],
    )
    header, claims, _signature = _parts(token)
    assert header == {"alg": "ES256", "kid": service_key_id(key), "typ": MANDATE_RECEIPT_TYPE}
    assert claims["iss"] == "vitrine"
    assert claims["sub"] == str(mandate.mandate_id)
    for person in (citizen, helper):
        insz = await identity_queries.select_current_insz(conn, person.person_id)
        assert insz is not None
        assert insz not in json.dumps(claims), "never a national number"


async def test_the_same_state_gives_the_same_receipt_and_a_change_a_new_one(
    conn: asyncpg.Connection, key: ec.EllipticCurvePrivateKey
) -> None:
    citizen = await create_person(conn)
    mandate = await create_mandate(
        conn, citizen, helper=await create_person(conn), themes=(("work_and_wages", "read"), ("posting", "read"))
    )
    as_citizen = await signed_in(conn, citizen)

    _first, token = await receipt_for_party(conn, as_citizen, mandate.mandate_id, key)
    _again, same = await receipt_for_party(
        conn, as_citizen, mandate.mandate_id, key, now=datetime.now(UTC) + timedelta(hours=1)
    )
    assert same == token, "deterministic: the code printed on paper matches the file downloaded later"
    assert re.fullmatch(r"[A-Z2-7]{5}-[A-Z2-7]{5}", verification_code(token))

    await ending.end_theme(conn, as_citizen, mandate.mandate_id, "posting")
    changed, newer = await receipt_for_party(conn, as_citizen, mandate.mandate_id, key)
    assert newer != token
    assert verification_code(newer) != verification_code(token)
    assert next(t for t in changed.themes if t.code == "posting").ended_at is not None


async def test_a_pending_and_an_organisation_mandate_have_receipts_too(
    conn: asyncpg.Connection, key: ec.EllipticCurvePrivateKey
) -> None:
    citizen = await create_person(conn)
    invitation = await invite_helper(conn, citizen, helper=await create_person(conn))
    organisation = await create_organisation(conn, name_nl="OCMW Gent")
    manager = await create_access_manager(conn, organisation)
    held = await create_mandate(conn, citizen, organisation=organisation, accepted_by=manager)

    pending, _token = await receipt_for_party(conn, await signed_in(conn, citizen), invitation.mandate.mandate_id, key)
    assert pending.valid_from is None
    assert pending.valid_until is None
    assert pending.duration == "1_year"
    by_manager, token = await receipt_for_party(conn, await signed_in(conn, manager), held.mandate_id, key)
    assert (by_manager.mandatary, by_manager.mandatary_kind) == ("OCMW Gent", "organisation")
    assert verify_mandate_receipt(token, service_jwks(key)) == by_manager


async def test_only_a_party_gets_a_receipt(conn: asyncpg.Connection, key: ec.EllipticCurvePrivateKey) -> None:
    mandate = await create_mandate(conn, await create_person(conn), helper=await create_person(conn))

    with pytest.raises(Problem) as refused:
        await receipt_for_party(conn, await signed_in(conn, await create_person(conn)), mandate.mandate_id, key)
    assert refused.value.status == 404


@pytest.fixture
async def genuine(conn: asyncpg.Connection, key: ec.EllipticCurvePrivateKey) -> str:
    citizen = await create_person(conn)
    mandate = await create_mandate(conn, citizen, helper=await create_person(conn, given_name="Pieter"))
    _receipt, token = await receipt_for_party(conn, await signed_in(conn, citizen), mandate.mandate_id, key)
    return token


async def test_a_forged_receipt_is_refused(genuine: str, key: ec.EllipticCurvePrivateKey) -> None:
    jwks = service_jwks(key)
    header, claims, signature = _parts(genuine)
    encoded_header = genuine.split(".")[0]

    # The helper's name changed, the signature kept.
    forged_claims = {**claims, "mandatary": "Mallory Thief"}
    tampered = f"{encoded_header}.{_b64(json.dumps(forged_claims).encode())}.{signature}"
    with pytest.raises(MandateReceiptInvalid, match="signature"):
        verify_mandate_receipt(tampered, jwks)

    # Signed by another key that claims Vitrine's kid.
    impostor = ec.generate_private_key(ec.SECP256R1())
    resigned = jwt.encode(
        forged_claims, impostor, algorithm="ES256", headers={"kid": header["kid"], "typ": MANDATE_RECEIPT_TYPE}
    )
    with pytest.raises(MandateReceiptInvalid, match="signature"):
        verify_mandate_receipt(resigned, jwks)

    # No signature at all, or an HMAC keyed with something public.
    none_header = _b64(json.dumps({"alg": "none", "kid": header["kid"], "typ": MANDATE_RECEIPT_TYPE}).encode())
    unsigned = f"{none_header}.{genuine.split('.')[1]}."
    with pytest.raises(MandateReceiptInvalid, match="ES256"):
        verify_mandate_receipt(unsigned, jwks)
    hmac = jwt.encode(
        claims,
        "a-public-value-anyone-could-read-0123456789",
        algorithm="HS256",
        headers={"kid": header["kid"], "typ": MANDATE_RECEIPT_TYPE},
    )
    with pytest.raises(MandateReceiptInvalid, match="ES256"):
        verify_mandate_receipt(hmac, jwks)

    # A key that is not published, and a published set that leaks a private half.
    with pytest.raises(MandateReceiptInvalid, match="not published"):
        verify_mandate_receipt(genuine, service_jwks(impostor))
    leaky = {"keys": [{**jwks["keys"][0], "d": "secret"}]}
    with pytest.raises(MandateReceiptInvalid, match="public key"):
        verify_mandate_receipt(genuine, leaky)
    with pytest.raises(MandateReceiptInvalid):
        verify_mandate_receipt("not a token", jwks)


async def test_another_vitrine_token_does_not_pass_as_a_mandate_receipt(
    conn: asyncpg.Connection, key: ec.EllipticCurvePrivateKey, genuine: str
) -> None:
    citizen = await create_person(conn)
    log_receipt = await issue_receipt(conn, key, citizen.person_id)

    with pytest.raises(MandateReceiptInvalid, match="typ"):
        verify_mandate_receipt(log_receipt, service_jwks(key))
    # Same key, right type, claims of another kind of statement.
    _header, claims, _signature = _parts(genuine)
    wrong = jwt.encode(
        {**claims, "ver": 2}, key, algorithm="ES256", headers={"kid": service_key_id(key), "typ": MANDATE_RECEIPT_TYPE}
    )
    with pytest.raises(MandateReceiptInvalid, match="version 1"):
        verify_mandate_receipt(wrong, service_jwks(key))
