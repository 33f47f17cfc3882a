"""Declaring records: a mixed batch is answered item by item, good items are stored, bad ones leave nothing,
repeats are duplicates, corrections and cancellations change the original's status."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from tests.backend.records.cloud_events import DECLARATIONS, bad_check_digits, dimona, errors_of, event, flexi
from tests.backend.records.institutions import Institution, make_institution
from tests.factories import create_person, new_insz, new_kbo


async def _records(conn: asyncpg.Connection, citizen_id: object) -> dict[str, tuple[str, str, str]]:
    rows = await conn.fetch(
        "SELECT source_event_id, category, kind, status FROM records WHERE citizen_id = $1", citizen_id
    )
    return {row["source_event_id"]: (row["category"], row["kind"], row["status"]) for row in rows}


async def test_a_mixed_batch_is_answered_item_by_item(
    api: httpx.AsyncClient, conn: asyncpg.Connection, onss: Institution
) -> None:
    anne_insz, bert_insz = new_insz(), new_insz()
    anne = await create_person(conn, insz=anne_insz)
    bert = await create_person(conn, insz=bert_insz)
    brasserie, bakery = new_kbo(), new_kbo()
    labelled: list[tuple[str, Any]] = [
        ("good", event(anne_insz, "e-1", data=flexi(brasserie, "2026-01", 100_000))),
        ("dimona", event(anne_insz, "d-1", "dimona", dimona(brasserie, end="2026-12-31"))),
        ("repeat", event(anne_insz, "e-1", data=flexi(brasserie, "2026-01", 100_000))),
        ("correction", event(anne_insz, "e-2", data=flexi(brasserie, "2026-01", 90_000), corrects="e-1")),
        ("to_cancel", event(anne_insz, "e-3", data=flexi(bakery, "2026-02", 50_000))),
        ("cancellation", event(anne_insz, "e-4", cancels="e-3")),
        ("bert", event(bert_insz, "b-1", data=flexi(bakery, "2026-02", 40_000))),
        ("bad_insz", event(bad_check_digits(anne_insz), "x-1", data=flexi(bakery, "2026-02", 1))),
        ("unknown_person", event(new_insz(), "x-2", data=flexi(bakery, "2026-02", 1))),
        ("bad_kbo", event(anne_insz, "x-3", data=flexi(bad_check_digits(bakery), "2026-02", 1))),
        ("unknown_category", event(anne_insz, "x-4", "pension", {"amount": 1})),
        (
            "unknown_version",
            {**event(anne_insz, "x-5", data=flexi(bakery, "2026-02", 1)), "type": "be.socialsecurity.flexi_wages.v2"},
        ),
        ("malformed_type", {**event(anne_insz, "x-6", data=flexi(bakery, "2026-02", 1)), "type": "flexi"}),
        ("unknown_data_field", event(anne_insz, "x-7", data=flexi(bakery, "2026-02", 1, bonus=5))),
        ("unknown_attribute", {**event(anne_insz, "x-8", data=flexi(bakery, "2026-02", 1)), "foo": "bar"}),
        ("wrong_type", event(anne_insz, "x-9", data=flexi(bakery, "2026-02", "100"))),  # type: ignore[arg-type]
        ("negative", event(anne_insz, "x-10", data=flexi(bakery, "2026-02", -5))),
        ("end_before_start", event(anne_insz, "x-11", "dimona", dimona(bakery, "2026-03-01", end="2026-02-01"))),
        ("far_future", event(anne_insz, "x-12", "dimona", dimona(bakery, "2031-01-01"))),
        ("before_1900", event(anne_insz, "x-13", "dimona", dimona(bakery, "1899-12-31"))),
        ("corrects_missing", event(anne_insz, "x-14", data=flexi(bakery, "2026-02", 1), corrects="nope")),
        ("corrects_other_person", event(anne_insz, "x-15", data=flexi(bakery, "2026-02", 1), corrects="b-1")),
        ("future_time", event(anne_insz, "x-16", data=flexi(bakery, "2026-02", 1), time="2099-01-01T00:00:00Z")),
        ("old_spec", {**event(anne_insz, "x-17", data=flexi(bakery, "2026-02", 1)), "specversion": "0.3"}),
        ("cancellation_with_data", event(anne_insz, "x-18", data=flexi(bakery, "2026-02", 1), cancels="e-2")),
        ("far_future_month", event(anne_insz, "x-19", data=flexi(bakery, "2031-01", 1))),
        ("bad_worker_type", event(anne_insz, "x-20", "dimona", dimona(bakery, worker_type="XYZ"))),
        ("not_an_object", 42),
        ("missing_data", event(anne_insz, "x-21")),
        ("corrects_and_cancels", event(anne_insz, "x-22", cancels="e-2", corrects="e-2")),
        ("corrects_corrected", event(anne_insz, "x-23", data=flexi(brasserie, "2026-01", 1), corrects="e-1")),
        ("other_category", event(anne_insz, "x-24", "dimona", dimona(bakery), corrects="e-2")),
        ("naive_time", event(anne_insz, "x-25", data=flexi(bakery, "2026-02", 1), time="2026-01-01T10:00:00")),
    ]
    labels = [label for label, _ in labelled]
    response = await api.post(DECLARATIONS, json=[item for _, item in labelled], headers=onss.headers())
    assert response.status_code == 200, response.text
    body = response.json()
    items = dict(zip(labels, body["items"], strict=True))
    accepted = {"good", "dimona", "correction", "to_cancel", "cancellation", "bert"}
    assert {label for label, item in items.items() if item["status"] == "accepted"} == accepted
    assert items["repeat"]["status"] == "duplicate"
    assert items["repeat"]["record_id"] == items["good"]["record_id"]
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (6, 1, len(labelled) - 7)

    def error(label: str) -> dict[str, str]:
        assert items[label]["status"] == "rejected", items[label]
        return {
            field.split(".", 1)[1] if "." in field else "": message
            for field, message in errors_of(items[label]).items()
        }

    index = labels.index
    assert error("bad_insz") == {"subject": "National number check digits do not match (checksum)"}
    assert error("unknown_person") == {"subject": "no person with this national number is known"}
    assert "check digits" in error("bad_kbo")["data.employer_kbo"]
    assert "unknown category `pension`" in error("unknown_category")["type"]
    assert "version 2" in error("unknown_version")["type"]
    assert "be.socialsecurity.<category>.v<version>" in error("malformed_type")["type"]
    assert "unknown field `bonus`" in error("unknown_data_field")["data.bonus"]
    assert "unknown field `foo`" in error("unknown_attribute")["foo"]
    assert "Expected `int`" in error("wrong_type")["data.amount_cents"]
    assert ">= 0" in error("negative")["data.amount_cents"]
    assert "`end` must not be before `start`" in error("end_before_start")["data.end"]
    assert error("far_future") == {"data.start": "is more than 2 years ahead"}
    assert error("before_1900") == {"data.start": "is before 1900-01-01"}
    assert error("corrects_missing") == {"corrects": "no event with this id from this source for this person"}
    assert error("corrects_other_person") == {"corrects": "no event with this id from this source for this person"}
    assert error("future_time") == {"time": "is in the future"}
    assert "specversion" in error("old_spec")
    assert "no data" in error("cancellation_with_data")["data"]
    assert error("far_future_month") == {"data.month": "is more than 2 years ahead"}
    assert "data.worker_type" in error("bad_worker_type")
    assert errors_of(items["not_an_object"]) == {f"items[{index('not_an_object')}]": "Expected `object`, got `int`"}
    assert error("missing_data") == {"data": "is required"}
    assert "not both" in error("corrects_and_cancels")["cancels"]
    assert error("corrects_corrected") == {"corrects": "that event was already corrected by event e-2"}
    assert "refers to a `flexi_wages` record" in error("other_category")["corrects"]
    assert "time" in error("naive_time")
    # Field paths name the item by its place in the batch.
    assert f"items[{index('bad_kbo')}].data.employer_kbo" in errors_of(items["bad_kbo"])
    assert items["bad_kbo"]["id"] == "x-3"

    assert await _records(conn, anne.person_id) == {
        "e-1": ("flexi_wages", "declaration", "corrected"),
        "d-1": ("dimona", "declaration", "active"),
        "e-2": ("flexi_wages", "correction", "active"),
        "e-3": ("flexi_wages", "declaration", "cancelled"),
        "e-4": ("flexi_wages", "cancellation", "cancelled"),
    }
    assert await _records(conn, bert.person_id) == {"b-1": ("flexi_wages", "declaration", "active")}
    stored = await conn.fetchrow(
        "SELECT payload, valid_from, valid_to, supersedes FROM records WHERE source_event_id = 'e-2'"
    )
    assert stored is not None
    assert stored["payload"] == {
        "employer_kbo": brasserie,
        "month": "2026-01",
        "amount_cents": 90_000,
        "corrects": None,
    }
    assert (stored["valid_from"].isoformat(), stored["valid_to"].isoformat()) == ("2026-01-01", "2026-01-31")
    assert str(stored["supersedes"]) == items["good"]["record_id"]

    # The same batch again changes nothing: what was stored is a duplicate of itself, the rest still refused.
    again = (await api.post(DECLARATIONS, json=[item for _, item in labelled], headers=onss.headers())).json()
    assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, 7, len(labelled) - 7)
    for label in accepted:
        assert again["items"][index(label)]["record_id"] == items[label]["record_id"]
    assert len(await _records(conn, anne.person_id)) == 5


async def test_only_the_category_source_may_declare_it(
    api: httpx.AsyncClient, conn: asyncpg.Connection, onss: Institution
) -> None:
    insz = new_insz()
    await create_person(conn, insz=insz)
    onem = await make_institution(conn, "ONEM")
    response = await api.post(
        DECLARATIONS, json=[event(insz, "o-1", "dimona", dimona(new_kbo()))], headers=onem.headers()
    )
    item = response.json()["items"][0]
    assert item["status"] == "rejected"
    assert errors_of(item) == {"items[0].type": "your institution may not declare `dimona`: its source is ONSS"}


async def test_a_source_belongs_to_the_institution_that_used_it_first(
    api: httpx.AsyncClient, conn: asyncpg.Connection, onss: Institution
) -> None:
    insz = new_insz()
    await create_person(conn, insz=insz)
    first = await api.post(
        DECLARATIONS, json=[event(insz, "s-1", data=flexi(new_kbo(), "2026-01", 1))], headers=onss.headers()
    )
    assert first.json()["accepted"] == 1
    # Another organisation whose code is also a source (a second ONSS client would share the organisation).
    impostor = await make_institution(conn, "ONSS_OTHER")
    answer = await api.post(
        DECLARATIONS, json=[event(insz, "s-1", data=flexi(new_kbo(), "2026-01", 1))], headers=impostor.headers()
    )
    assert errors_of(answer.json()["items"][0]) == {"items[0].source": "is used by another institution"}


async def test_a_declaration_is_not_an_access_and_is_not_logged(
    api: httpx.AsyncClient, conn: asyncpg.Connection, onss: Institution
) -> None:
    insz = new_insz()
    person = await create_person(conn, insz=insz)
    response = await api.post(
        DECLARATIONS, json=[event(insz, "n-1", data=flexi(new_kbo(), "2026-01", 1))], headers=onss.headers()
    )
    assert response.json()["accepted"] == 1
    assert await conn.fetchval("SELECT count(*) FROM access_events WHERE citizen_id = $1", person.person_id) == 0
    assert await conn.fetchval("SELECT received_at IS NOT NULL FROM records WHERE citizen_id = $1", person.person_id)


async def test_a_declaration_needs_a_signed_assertion(api: httpx.AsyncClient) -> None:
    response = await api.post(DECLARATIONS, json=[])
    assert response.status_code == 401
