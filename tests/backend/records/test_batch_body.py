"""Reading a batch: JSON arrays and NDJSON, size limits (413), unreadable bodies (422) and other media (415)."""

from __future__ import annotations

import asyncpg
import httpx
import msgspec

from backend.records.routes import MAX_BODY_BYTES
from backend.records.service import MAX_BATCH_ITEMS
from tests.backend.records.cloud_events import DECLARATIONS, errors_of, event, flexi
from tests.backend.records.institutions import Institution
from tests.factories import create_person, new_insz, new_kbo


async def _stored(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM records"))


async def test_malformed_json_is_a_422_naming_the_body(api: httpx.AsyncClient, onss: Institution) -> None:
    response = await api.post(
        DECLARATIONS, content=b'[{"id": ', headers=onss.headers(**{"content-type": "application/json"})
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"] == [{"field": "body", "message": "is not valid JSON", "location": "body"}]


async def test_a_single_object_is_not_a_batch(api: httpx.AsyncClient, onss: Institution) -> None:
    response = await api.post(DECLARATIONS, json={"id": "1"}, headers=onss.headers())
    assert response.status_code == 422
    assert response.json()["errors"][0]["message"] == "must be a JSON array of CloudEvents"


async def test_more_than_a_thousand_items_is_a_413(
    api: httpx.AsyncClient, conn: asyncpg.Connection, onss: Institution
) -> None:
    insz = new_insz()
    await create_person(conn, insz=insz)
    kbo = new_kbo()
    batch = [event(insz, f"big-{n}", data=flexi(kbo, "2026-01", 1)) for n in range(MAX_BATCH_ITEMS + 1)]
    response = await api.post(DECLARATIONS, json=batch, headers=onss.headers())
    assert response.status_code == 413
    assert response.json()["type"] == "urn:vitrine:problem:batch-too-large"
    assert await _stored(conn) == 0


async def test_more_than_a_mebibyte_is_a_413(api: httpx.AsyncClient, onss: Institution) -> None:
    body = b"[" + b" " * MAX_BODY_BYTES + b"]"
    response = await api.post(DECLARATIONS, content=body, headers=onss.headers(**{"content-type": "application/json"}))
    assert response.status_code == 413
    assert response.json()["type"] == "urn:vitrine:problem:batch-too-large"


async def test_other_media_types_are_a_415(api: httpx.AsyncClient, onss: Institution) -> None:
    response = await api.post(DECLARATIONS, content=b"<xml/>", headers=onss.headers(**{"content-type": "text/xml"}))
    assert response.status_code == 415


async def test_ndjson_answers_each_line_and_a_bad_line_is_one_bad_item(
    api: httpx.AsyncClient, conn: asyncpg.Connection, onss: Institution
) -> None:
    insz = new_insz()
    await create_person(conn, insz=insz)
    kbo = new_kbo()
    lines = [
        msgspec.json.encode(event(insz, "nd-1", data=flexi(kbo, "2026-01", 10_000))),
        b'{"specversion": "1.0", "id": ',
        b"",
        msgspec.json.encode(event(insz, "nd-2", data=flexi(kbo, "2026-02", 20_000))),
    ]
    response = await api.post(
        DECLARATIONS,
        content=b"\n".join(lines) + b"\n",
        headers=onss.headers(**{"content-type": "application/x-ndjson"}),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [item["status"] for item in body["items"]] == ["accepted", "rejected", "accepted"]
    assert errors_of(body["items"][1]) == {"items[1]": "is not valid JSON"}
    assert await _stored(conn) == 2


async def test_the_cloudevents_batch_media_type_is_a_json_array(
    api: httpx.AsyncClient, conn: asyncpg.Connection, onss: Institution
) -> None:
    insz = new_insz()
    await create_person(conn, insz=insz)
    response = await api.post(
        DECLARATIONS,
        content=msgspec.json.encode([event(insz, "cb-1", data=flexi(new_kbo(), "2026-01", 1))]),
        headers=onss.headers(**{"content-type": "application/cloudevents-batch+json"}),
    )
    assert response.json()["accepted"] == 1


async def test_an_empty_batch_is_answered_empty(api: httpx.AsyncClient, onss: Institution) -> None:
    response = await api.post(DECLARATIONS, json=[], headers=onss.headers())
    assert response.json() == {"accepted": 0, "duplicates": 0, "rejected": 0, "items": []}
