"""The set-based ingest answers and stores exactly what the per-item path would: the same 1,000-item batch goes
through both, each in a savepoint rolled back afterwards, and answers, accepted records, stored rows and flexi
counters are compared. A database error during the set-based write falls back to the per-item path."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
import pytest

from backend.records import bulk_queries, queries
from backend.records.schemas import NewRecord, StoredRecord
from backend.records.service import IngestOutcome, MalformedItem, ingest_declarations, ingest_item_by_item
from tests.backend.records.cloud_events import bad_check_digits, dimona, event, flexi
from tests.backend.records.institutions import Institution, make_institution
from tests.factories import create_person, new_insz, new_kbo

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
TIME = "2026-11-02T09:00:00+00:00"


def _flexi(insz: str, event_id: str, month: int, amount: int, **extra: Any) -> dict[str, Any]:
    return event(insz, event_id, data=flexi(KBO, f"2026-{month:02d}", amount), time=TIME, **extra)


KBO = new_kbo()


async def _setup(conn: asyncpg.Connection, onss: Institution) -> tuple[list[str], list[object]]:
    """People, what an earlier request stored, and a mixed 1,000-item batch referring to both."""
    numbers = [new_insz() for _ in range(40)]
    for number in numbers:
        await create_person(conn, insz=number)
    earlier = [_flexi(numbers[n % 40], f"old-{n}", n % 12 + 1, 10_000 + n) for n in range(60)]
    earlier.append(_flexi(numbers[0], "old-fix", 1, 1, corrects="old-0"))  # old-0 is already corrected
    assert (await ingest_declarations(conn, onss.caller, earlier, now=NOW)).answer.accepted == 61
    other = await make_institution(conn, "ONSS_OTHER")
    # A source another institution owns (the test ONSS_OTHER may not declare flexi wages itself).
    await conn.execute(
        "INSERT INTO ingest_sources (source, org_id) VALUES ('/other/owned', $1)", other.organisation.org_id
    )

    rng = random.Random(7)

    def person_of(n: int) -> str:
        return numbers[(n * 7) % 40]

    items: list[object] = []
    for n in range(1000):
        person = person_of(n)
        shape = n % 20
        if shape in (0, 1, 2, 3, 4, 5):
            items.append(_flexi(person, f"new-{n}", rng.randint(1, 12), rng.randint(0, 90_000)))
        elif shape in (6, 7):
            items.append(event(person, f"new-{n}", "dimona", dimona(KBO, "2026-03-02"), time=TIME))
        elif shape == 8:  # a repeat of an earlier item of this batch (maybe rejected), or of the earlier request
            items.append(items[rng.randrange(len(items))] if n > 20 and rng.random() < 0.5 else earlier[n % 60])
        elif shape == 9:  # corrects an earlier item of the batch: its own person's, or someone else's
            target = items[n - 9 + rng.choice([0, 1, 2])]
            subject = target["subject"] if isinstance(target, dict) and rng.random() < 0.8 else person
            ref = target["id"] if isinstance(target, dict) else "none"
            items.append(_flexi(subject, f"new-{n}", 5, 1_234, corrects=ref))
        elif shape == 10:  # cancels a stored record (twice cancelling the same is refused the second time)
            old = earlier[(n // 20) % 30]
            items.append(event(old["subject"], f"new-{n}", cancels=old["id"], time=TIME))
        elif shape == 11:  # corrects a stored record, possibly one already corrected or cancelled
            old = earlier[(n // 20) % 61]
            items.append(_flexi(old["subject"], f"new-{n}", 7, 4_321, corrects=old["id"]))
        elif shape == 12:  # refers forward to an item later in the batch: not there yet
            items.append(event(person_of(n + 8), f"new-{n}", cancels=f"new-{n + 8}", time=TIME))
        elif shape == 13:
            items.append(_flexi(bad_check_digits(person), f"new-{n}", 1, 1))
        elif shape == 14:
            items.append(_flexi(new_insz(), f"new-{n}", 1, 1))
        elif shape == 15:
            items.append(_flexi(person, f"new-{n}", 1, -1))
        elif shape == 16:
            items.append(MalformedItem() if n % 40 == 16 else 42)
        elif shape == 17:  # another category than the record it corrects
            subject = person_of(n - 17)
            items.append(event(subject, f"new-{n}", "dimona", dimona(KBO), corrects=f"new-{n - 17}", time=TIME))
        elif shape == 18:
            items.append(event(person, f"new-{n}", data=flexi(KBO, "2026-01", 1), source="/other/owned", time=TIME))
        else:  # a cancellation of an item of this batch, perhaps corrected already
            items.append(event(person_of(n - 19), f"new-{n}", cancels=f"new-{n - 19}", time=TIME))
    return numbers, items


async def _state(conn: asyncpg.Connection, outcome: IngestOutcome) -> dict[str, Any]:
    """Everything observable, with generated record ids replaced by the event each record came from."""
    rows = await conn.fetch("SELECT record_id, source, source_event_id FROM records")
    name = {row["record_id"]: f"{row['source']}#{row['source_event_id']}" for row in rows}

    def ref(record_id: UUID | None) -> str | None:
        return None if record_id is None else name[record_id]

    def stored(record: StoredRecord) -> tuple[object, ...]:
        return (ref(record.record_id), record.category, record.kind, record.status, record.valid_from,
                record.valid_to, record.payload, ref(record.supersedes), record.occurred_at)  # fmt: skip

    records = await conn.fetch(
        """
        SELECT record_id, citizen_id, category, kind, status, valid_from, valid_to, payload, supersedes, occurred_at,
               producer_org_id
        FROM records ORDER BY source, source_event_id
        """
    )
    return {
        "answer": [
            (item.index, item.id, item.status, ref(item.record_id), [(e.field, e.message) for e in item.errors])
            for item in outcome.answer.items
        ],
        "counts": (outcome.answer.accepted, outcome.answer.duplicates, outcome.answer.rejected),
        "accepted": [stored(record) for record in outcome.accepted],
        "records": [
            {**dict(row), "record_id": ref(row["record_id"]), "supersedes": ref(row["supersedes"])} for row in records
        ],
        "ingested": sorted(
            (row["source"], row["source_event_id"], row["citizen_id"], ref(row["record_id"]))
            for row in await conn.fetch("SELECT source, source_event_id, citizen_id, record_id FROM ingested_events")
        ),
        "counters": [dict(row) for row in await conn.fetch("SELECT * FROM flexi_counters ORDER BY 1, 2")],
        "sources": [dict(row) for row in await conn.fetch("SELECT source, org_id FROM ingest_sources ORDER BY 1")],
    }


async def _in_savepoint(conn: asyncpg.Connection, run: Any) -> dict[str, Any]:
    savepoint = conn.transaction()
    await savepoint.start()
    try:
        return await _state(conn, await run())
    finally:
        await savepoint.rollback()


async def test_the_set_based_path_answers_like_the_per_item_path(
    conn: asyncpg.Connection, onss: Institution, caplog: pytest.LogCaptureFixture
) -> None:
    _, items = await _setup(conn, onss)
    bulk = await _in_savepoint(conn, lambda: ingest_declarations(conn, onss.caller, items, now=NOW))
    assert "fell back" not in caplog.text, "the batch must go through the set-based path"
    each = await _in_savepoint(conn, lambda: ingest_item_by_item(conn, onss.caller, items, now=NOW))
    for key in each:
        assert bulk[key] == each[key], key
    accepted, duplicates, rejected = bulk["counts"]
    # The batch really mixes every case.
    assert min(accepted, duplicates, rejected) >= 30, bulk["counts"]
    assert bulk["counters"]
    assert {"correction", "cancellation"} <= {row["kind"] for row in bulk["records"]}
    statuses = {status for _, _, status, _, _ in bulk["answer"]}
    assert statuses == {"accepted", "duplicate", "rejected"}
    messages = {message for *_, errors in bulk["answer"] for _, message in errors}
    assert {"no event with this id from this source for this person", "is used by another institution"} <= messages
    assert any(message.startswith("that event was already cancelled") for message in messages)
    assert any(message.startswith("that event was already corrected") for message in messages)


async def test_a_database_error_in_the_set_based_write_falls_back_item_by_item(
    conn: asyncpg.Connection, onss: Institution, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    insz = new_insz()
    person = await create_person(conn, insz=insz)
    items = [_flexi(insz, f"db-{n}", n + 1, 1_000) for n in range(5)]
    items.append(_flexi(insz, "db-fix", 1, 500, corrects="db-0"))
    written = bulk_queries.insert_records

    async def failing_after_writing(conn: asyncpg.Connection, *args: Any) -> list[StoredRecord]:
        await written(conn, *args)  # the records are written; the savepoint must take them back
        await conn.execute("SELECT 1 / 0")
        return []

    stored = queries.insert_record

    async def failing_for_one(conn: asyncpg.Connection, record: NewRecord) -> StoredRecord:
        if record.source_event_id == "db-2":
            await conn.execute("SELECT 1 / 0")
        return await stored(conn, record)

    monkeypatch.setattr(bulk_queries, "insert_records", failing_after_writing)
    monkeypatch.setattr(queries, "insert_record", failing_for_one)
    outcome = await ingest_declarations(conn, onss.caller, items, now=NOW)
    assert "fell back" in caplog.text
    assert [item.status for item in outcome.answer.items] == ["accepted"] * 2 + ["rejected"] + ["accepted"] * 3
    assert [(e.field, e.message) for e in outcome.answer.items[2].errors] == [
        ("items[2]", "could not be stored; please send it again later")
    ]
    assert [record.source_event_id for record in outcome.accepted] == ["db-0", "db-1", "db-3", "db-4", "db-fix"]
    rows = await conn.fetch("SELECT source_event_id, status FROM records WHERE citizen_id = $1", person.person_id)
    assert sorted((row["source_event_id"], row["status"]) for row in rows) == [
        ("db-0", "corrected"), ("db-1", "active"), ("db-3", "active"), ("db-4", "active"), ("db-fix", "active"),
    ]  # fmt: skip
    counter = await queries.select_flexi_counter(conn, person.person_id, 2026)
    assert counter is not None
    assert counter.total_cents == 500 + 3 * 1_000


async def test_accepted_records_are_exactly_what_the_database_gives_back(
    conn: asyncpg.Connection, onss: Institution, caplog: pytest.LogCaptureFixture
) -> None:
    """The set-based path builds the accepted records in memory: time in UTC, payload keys in jsonb's order."""
    insz = new_insz()
    await create_person(conn, insz=insz)
    items = [
        _flexi(insz, "exact-0", 3, 48_000),
        event(insz, "exact-1", "dimona", dimona(KBO, "2026-03-02", end="2026-03-31"), time="2026-11-02T10:00:00+01:00"),
        event(insz, "exact-2", cancels="exact-0", time=TIME),
    ]
    outcome = await ingest_declarations(conn, onss.caller, items, now=NOW)
    assert "fell back" not in caplog.text
    assert [item.status for item in outcome.answer.items] == ["accepted"] * 3
    for record in outcome.accepted:
        row = await conn.fetchrow(
            "SELECT" + queries._RECORD_COLUMNS + "FROM records WHERE record_id = $1", record.record_id
        )
        assert row is not None
        read_back = msgspec.convert(dict(row), StoredRecord)
        if record.kind == "declaration" and read_back.status != "active":
            read_back = msgspec.structs.replace(read_back, status="active")  # as first stored
        assert msgspec.json.encode(record) == msgspec.json.encode(read_back)
