"""POST /api/v1/mandates/check: one answer for every service, each check in the citizen's access log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from litestar import Litestar

from backend.access_log.queries import select_chain
from backend.core.auth.assertion_queries import upsert_api_client
from backend.core.auth.institution_keys import generate_es256_key, make_assertion, public_jwk
from backend.core.identity.purposes import Purpose, upsert_purpose
from backend.core.identity.schemas import Organisation, Person
from consent.check import NO_MANDATE
from tests.conftest import in_process_client
from tests.factories import (
    create_access_manager,
    create_mandate,
    create_organisation,
    create_person,
    invite_helper,
)

LEGAL = {"legal_basis_nl": "Wet", "legal_basis_fr": "Loi", "legal_basis_de": "Gesetz", "legal_basis_en": "Law"}


@pytest.fixture
async def api(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process_client(app) as client:
        yield client


@pytest.fixture
async def institution(conn: asyncpg.Connection) -> tuple[Organisation, ec.EllipticCurvePrivateKey]:
    organisation = await create_organisation(conn, kind="institution", code="ONEMCHECK")
    key = generate_es256_key()
    await upsert_api_client(conn, "onem-check", organisation.org_id, {"keys": [public_jwk(key, "k1")]})
    await upsert_purpose(
        conn,
        Purpose(
            org_id=organisation.org_id,
            code="unemployment_benefit",
            categories=("dimona", "drs"),
            authorisation_ref="IVC/TEST/7",
            **LEGAL,
        ),
    )
    return organisation, key


async def _insz(conn: asyncpg.Connection, person: Person) -> str:
    return str(await conn.fetchval("SELECT insz FROM person_identifiers WHERE person_id = $1", person.person_id))


async def _check(
    api: httpx.AsyncClient, institution: tuple[Organisation, ec.EllipticCurvePrivateKey], body: dict[str, Any]
) -> httpx.Response:
    token = make_assertion(institution[1], client_id="onem-check", kid="k1", purpose="unemployment_benefit")
    return await api.post("/api/v1/mandates/check", json=body, headers={"authorization": f"Bearer {token}"})


async def test_an_active_mandate_is_allowed_and_the_check_is_logged(
    api: httpx.AsyncClient, conn: asyncpg.Connection, institution: tuple[Organisation, ec.EllipticCurvePrivateKey]
) -> None:
    citizen = await create_person(conn)
    helper = await create_person(conn)
    mandate = await create_mandate(
        conn, citizen, helper=helper, themes=(("benefits_and_risks", "read"), ("messages", "act"))
    )
    body = {"citizen_insz": await _insz(conn, citizen), "mandatary_insz": await _insz(conn, helper)}
    allowed = await _check(api, institution, body | {"theme": "benefits_and_risks", "access": "read"})
    assert allowed.status_code == 200, allowed.text
    assert allowed.json() == {
        "result": "ALLOWED",
        "mandate_id": str(mandate.mandate_id),
        "themes": [
            {"code": "benefits_and_risks", "version": 1, "access": "read"},
            {"code": "messages", "version": 1, "access": "act"},
        ],
        "valid_until": mandate.ends_at.isoformat().replace("+00:00", "Z"),
    }
    assert (await _check(api, institution, body | {"theme": "messages", "access": "read"})).json()["result"] == (
        "ALLOWED"
    )
    event = (await select_chain(conn, citizen.person_id))[-1]
    assert (event.actor_kind, event.actor_org_id, event.actor_client_id) == (
        "institution",
        institution[0].org_id,
        "onem-check",
    )
    assert (event.action, event.outcome, event.channel) == ("check", "granted", "api")
    assert event.mandate_id == mandate.mandate_id
    assert event.purpose_code == "unemployment_benefit"
    assert event.legal_basis_ref == "IVC/TEST/7"


async def test_anything_else_is_disallowed_and_logged_as_refused(
    api: httpx.AsyncClient, conn: asyncpg.Connection, institution: tuple[Organisation, ec.EllipticCurvePrivateKey]
) -> None:
    citizen = await create_person(conn)
    helper = await create_person(conn)
    stranger = await create_person(conn)
    await create_mandate(conn, citizen, helper=helper, themes=(("messages", "read"),))
    organisation = await create_organisation(conn)
    await invite_helper(conn, citizen, organisation=organisation)  # pending: not yet a mandate
    citizen_insz, helper_insz = await _insz(conn, citizen), await _insz(conn, helper)
    for body in (
        {"mandatary_insz": helper_insz, "theme": "messages", "access": "act"},  # read only
        {"mandatary_insz": helper_insz, "theme": "posting", "access": "read"},  # not given
        {"mandatary_insz": await _insz(conn, stranger), "theme": "messages", "access": "read"},
        {"mandatary_kbo": organisation.kbo, "theme": "work_and_wages", "access": "read"},
    ):
        response = await _check(api, institution, body | {"citizen_insz": citizen_insz})
        assert response.status_code == 200, response.text
        assert response.json() == {"result": "DISALLOWED", "mandate_id": None, "themes": [], "valid_until": None}
    refusals = [e for e in await select_chain(conn, citizen.person_id) if e.action == "check"]
    assert len(refusals) == 4
    assert {(e.outcome, e.reason, e.mandate_id) for e in refusals} == {("denied", NO_MANDATE, None)}


async def test_an_organisation_mandate_is_checked_by_kbo(
    api: httpx.AsyncClient, conn: asyncpg.Connection, institution: tuple[Organisation, ec.EllipticCurvePrivateKey]
) -> None:
    citizen = await create_person(conn)
    organisation = await create_organisation(conn)
    manager = await create_access_manager(conn, organisation)
    mandate = await create_mandate(conn, citizen, organisation=organisation, accepted_by=manager)
    response = await _check(
        api,
        institution,
        {
            "citizen_insz": await _insz(conn, citizen),
            "mandatary_kbo": f"{organisation.kbo[:4]}.{organisation.kbo[4:7]}.{organisation.kbo[7:]}",
            "theme": "work_and_wages",
            "access": "read",
        },
    )
    assert response.json()["result"] == "ALLOWED"
    assert response.json()["mandate_id"] == str(mandate.mandate_id)


async def test_bad_checks_are_422_naming_the_field(
    api: httpx.AsyncClient, conn: asyncpg.Connection, institution: tuple[Organisation, ec.EllipticCurvePrivateKey]
) -> None:
    citizen = await create_person(conn)
    helper = await create_person(conn)
    good = {
        "citizen_insz": await _insz(conn, citizen),
        "mandatary_insz": await _insz(conn, helper),
        "theme": "messages",
        "access": "read",
    }
    unknown_citizen = await create_person(conn)
    unknown_insz = await _insz(conn, unknown_citizen)
    await conn.execute("DELETE FROM person_identifiers WHERE person_id = $1", unknown_citizen.person_id)
    for change, field in (
        ({"citizen_insz": unknown_insz}, "citizen_insz"),
        ({"citizen_insz": "12345678901"}, "citizen_insz"),
        ({"theme": "mandates"}, "theme"),
        ({"theme": "work_and_wages", "access": "act"}, "access"),
        ({"access": "write"}, "access"),
        ({"mandatary_kbo": "0403019261"}, "mandatary_insz"),
    ):
        response = await _check(api, institution, good | change)
        assert response.status_code == 422, (change, response.text)
        assert field in [error["field"] for error in response.json()["errors"]], response.json()
    assert await select_chain(conn, citizen.person_id) == []


async def test_the_check_needs_an_institution_assertion(api: httpx.AsyncClient) -> None:
    response = await api.post("/api/v1/mandates/check", json={})
    assert response.status_code == 401
