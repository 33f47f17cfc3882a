"""Institutions reporting accesses made in their own systems: each item answered on its own, idempotent by id,
nothing stored for a refused item, and the good ones in the citizen's chain with channel "reported"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from backend.access_log import queries
from backend.access_log.reported import MAX_BATCH_ITEMS
from backend.access_log.verify import verify_citizen
from backend.core.auth.assertion_queries import upsert_api_client
from backend.core.auth.institution_keys import generate_es256_key, make_assertion, public_jwk
from backend.core.identity.purposes import Purpose, upsert_purpose
from tests.factories import create_organisation, create_person, new_insz

LEGAL = {"legal_basis_nl": "Wet", "legal_basis_fr": "Loi", "legal_basis_de": "Gesetz", "legal_basis_en": "Law"}
PATH = "/api/v1/access-events"
CLIENT_ID = "onem-report"


class Caller:
    """The reporting institution: its client id, key and organisation."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, org_id: UUID) -> None:
        self.key = key
        self.org_id = org_id

    def headers(self) -> dict[str, str]:
        """A fresh, single-use assertion."""
        return {"authorization": f"Bearer {make_assertion(self.key, client_id=CLIENT_ID, kid='k1')}"}


@pytest.fixture
async def caller(conn: asyncpg.Connection) -> Caller:
    organisation = await create_organisation(conn, kind="institution", code="ONEMREP")
    key = generate_es256_key()
    await upsert_api_client(conn, CLIENT_ID, organisation.org_id, {"keys": [public_jwk(key, "k1")]})
    await upsert_purpose(
        conn,
        Purpose(
            org_id=organisation.org_id,
            code="unemployment_benefit",
            categories=("dimona", "drs"),
            authorisation_ref="IVC/TEST/1",
            **LEGAL,
        ),
    )
    # Another institution's purpose: registered, but not for the caller.
    other = await create_organisation(conn, kind="institution", code="PENSIONREP")
    await upsert_purpose(
        conn,
        Purpose(
            org_id=other.org_id,
            code="pension_calculation",
            categories=("dimona",),
            authorisation_ref="IVC/TEST/2",
            **LEGAL,
        ),
    )
    return Caller(key, organisation.org_id)


def _item(subject: str, event_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "id": event_id,
        "subject": subject,
        "occurred_at": "2024-05-01T10:00:00+02:00",
        "action": "read",
        "categories": ["dimona"],
        "purpose": "unemployment_benefit",
        **overrides,
    }


def _bad_checksum(insz: str) -> str:
    return insz[:9] + f"{(int(insz[9:]) + 1) % 100:02d}"


def _errors(item: dict[str, Any]) -> dict[str, str]:
    return {error["field"]: error["message"] for error in item["errors"]}


async def _post(client: httpx.AsyncClient, caller: Caller, body: Any) -> httpx.Response:
    return await client.post(PATH, json=body, headers=caller.headers())


async def _reported_count(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM reported_access_ids WHERE source = $1", CLIENT_ID))


async def test_a_mixed_batch_is_answered_item_by_item(
    client: httpx.AsyncClient, conn: asyncpg.Connection, caller: Caller
) -> None:
    anne_insz, bert_insz = new_insz(), new_insz()
    anne = await create_person(conn, insz=anne_insz)
    bert = await create_person(conn, insz=bert_insz)
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    batch: list[Any] = [
        _item(
            anne_insz,
            "ev-1",
            action="export",
            categories=["drs", "dimona"],
            system="Dossier",
            role="case worker",
            staff_ref="emp-77",
            case_ref="C-2024-1",
            record_refs=["dimona/123", "drs/9"],
        ),
        _item(bert_insz, "ev-2", outcome="denied", reason="no active file", categories=["drs"]),
        _item(anne_insz, "ev-1"),  # the same id again in this batch
        _item(_bad_checksum(anne_insz), "ev-4"),
        _item(new_insz(), "ev-5"),  # nobody has this number
        _item(anne_insz, "ev-6", purpose="curiosity"),
        _item(anne_insz, "ev-7", purpose="pension_calculation"),  # another institution's purpose
        _item(anne_insz, "ev-8", categories=["dimona", "health"]),
        {key: value for key, value in _item(anne_insz, "ev-9").items() if key != "action"},
        _item(anne_insz, "ev-10", colour="blue"),
        _item(anne_insz, "ev-11", id=11),
        _item(anne_insz, "ev-12", occurred_at="2024-05-01T10:00:00"),
        _item(anne_insz, "ev-13", occurred_at=future),
        _item(anne_insz, "ev-14", occurred_at="1999-12-31T23:00:00Z"),
        _item(anne_insz, "ev-15", outcome="denied"),
        42,
    ]

    response = await _post(client, caller, batch)
    assert response.status_code == 200, response.text
    body = response.json()
    items = body["items"]
    assert [item["index"] for item in items] == list(range(len(batch)))
    assert [item["status"] for item in items] == ["accepted", "accepted", "duplicate"] + ["rejected"] * 13
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 1, 13)

    assert items[0]["id"] == "ev-1"
    assert items[0]["seq"] == 1
    assert items[1]["seq"] == 1
    assert items[2]["event_id"] == items[0]["event_id"]
    assert items[2]["seq"] == 1
    assert all(item["event_id"] is None and item["seq"] is None for item in items[3:])

    assert "check digits" in _errors(items[3])["items[3].subject"]
    assert _errors(items[4]) == {"items[4].subject": "no person with this national number is known"}
    assert set(_errors(items[5])) == {"items[5].purpose"}
    assert set(_errors(items[6])) == {"items[6].purpose"}
    assert "health" in _errors(items[7])["items[7].categories"]
    assert "missing required field" in _errors(items[8])["items[8].action"]
    assert "unknown field" in _errors(items[9])["items[9].colour"]
    assert _errors(items[10]) == {"items[10].id": "Expected `str`, got `int`"}
    assert items[10]["id"] is None  # not a usable id, so not echoed
    assert "timezone" in _errors(items[11])["items[11].occurred_at"]
    assert _errors(items[12]) == {"items[12].occurred_at": "is in the future"}
    assert _errors(items[13]) == {"items[13].occurred_at": "is before 2000-01-01"}
    assert set(_errors(items[14])) == {"items[14].reason"}
    assert set(_errors(items[15])) == {"items[15]"}
    assert all(error["location"] == "body" for item in items for error in item["errors"])

    # Only the two good items were stored, each in its citizen's chain.
    (exported,) = await queries.select_chain(conn, anne.person_id)
    assert str(exported.event_id) == items[0]["event_id"]
    assert exported.channel == "reported"
    assert exported.action == "export"
    assert exported.outcome == "granted"
    assert exported.actor_kind == "institution"
    assert exported.actor_org_id == caller.org_id
    assert exported.actor_client_id == CLIENT_ID
    assert (exported.actor_system, exported.actor_role, exported.actor_ref) == ("Dossier", "case worker", "emp-77")
    assert exported.categories == ["dimona", "drs"]
    assert exported.record_refs == ["dimona/123", "drs/9"]
    assert exported.case_ref == "C-2024-1"
    assert exported.purpose_code == "unemployment_benefit"
    assert exported.legal_basis_ref == "IVC/TEST/1"
    assert exported.occurred_at == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    assert (exported.source, exported.source_event_id) == (CLIENT_ID, "ev-1")
    (denied,) = await queries.select_chain(conn, bert.person_id)
    assert (denied.outcome, denied.reason, denied.categories) == ("denied", "no active file", ["drs"])
    assert await _reported_count(conn) == 2

    # The same report again, with one new access: the first answer stands, the new one follows in the chain.
    again = await _post(client, caller, [batch[0], _item(anne_insz, "ev-3", action="check")])
    assert again.status_code == 200, again.text
    first, new = again.json()["items"]
    assert (first["status"], first["event_id"], first["seq"]) == ("duplicate", items[0]["event_id"], 1)
    assert (new["status"], new["seq"]) == ("accepted", 2)
    assert [event.seq for event in await queries.select_chain(conn, anne.person_id)] == [1, 2]
    assert (await verify_citizen(conn, anne.person_id)).broken is None


async def test_a_database_error_rolls_back_only_that_item(
    client: httpx.AsyncClient, conn: asyncpg.Connection, caller: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    insz = new_insz()
    person = await create_person(conn, insz=insz)
    real_insert = queries.insert_reported

    async def failing_insert(
        conn: asyncpg.Connection, citizen_id: UUID, source: str, source_event_id: str, event_id: UUID, seq: int
    ) -> None:
        if source_event_id == "boom":
            # After record_access has appended the event: a real database error, so the savepoint must undo it.
            await conn.execute("SELECT 1 / 0")
        await real_insert(conn, citizen_id, source, source_event_id, event_id, seq)

    monkeypatch.setattr(queries, "insert_reported", failing_insert)
    response = await _post(client, caller, [_item(insz, "a"), _item(insz, "boom"), _item(insz, "b")])
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [item["status"] for item in items] == ["accepted", "rejected", "accepted"]
    assert [item["seq"] for item in items] == [1, None, 2]
    assert _errors(items[1]) == {"items[1]": "could not be stored; please send it again later"}
    chain = await queries.select_chain(conn, person.person_id)
    assert [event.source_event_id for event in chain] == ["a", "b"]
    assert (await verify_citizen(conn, person.person_id)).broken is None


async def test_an_oversized_batch_is_413(client: httpx.AsyncClient, conn: asyncpg.Connection, caller: Caller) -> None:
    insz = new_insz()
    await create_person(conn, insz=insz)
    batch = [_item(insz, f"ev-{number}") for number in range(MAX_BATCH_ITEMS + 1)]
    response = await _post(client, caller, batch)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == "urn:vitrine:problem:batch-too-large"
    assert await _reported_count(conn) == 0


@pytest.mark.parametrize("content", [b'{"id": "ev-1"}', b"not json", b""])
async def test_a_body_that_is_not_an_array_is_422(client: httpx.AsyncClient, caller: Caller, content: bytes) -> None:
    headers = {**caller.headers(), "content-type": "application/json"}
    response = await client.post(PATH, content=content, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [error["field"] for error in response.json()["errors"]] == ["body"]


async def test_an_empty_batch_is_answered_with_nothing_done(client: httpx.AsyncClient, caller: Caller) -> None:
    response = await _post(client, caller, [])
    assert response.status_code == 200
    assert response.json() == {"accepted": 0, "duplicates": 0, "rejected": 0, "items": []}


async def test_without_an_assertion_it_is_401(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    response = await client.post(PATH, json=[])
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_replayed_assertion_is_401_and_stores_nothing(
    client: httpx.AsyncClient, conn: asyncpg.Connection, caller: Caller
) -> None:
    insz = new_insz()
    person = await create_person(conn, insz=insz)
    headers = caller.headers()
    first = await client.post(PATH, json=[_item(insz, "ev-1")], headers=headers)
    assert first.status_code == 200, first.text
    replay = await client.post(PATH, json=[_item(insz, "ev-2")], headers=headers)
    assert replay.status_code == 401
    assert replay.json()["type"] == "urn:vitrine:problem:assertion-replay"
    assert [event.source_event_id for event in await queries.select_chain(conn, person.person_id)] == ["ev-1"]


async def test_the_endpoint_is_in_the_openapi_schema(client: httpx.AsyncClient) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200, response.text
    operation = response.json()["paths"][PATH]["post"]
    assert operation["tags"] == ["access log"]
    assert "200" in operation["responses"]
