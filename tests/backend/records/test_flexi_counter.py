"""The flexi counter kept at ingest: all employers together per income year, a correction replaces the
corrected month's amount, a cancellation removes it, and as_of is the time of the latest declaration."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from backend.records.queries import select_flexi_counter
from backend.records.service import ingest_declarations
from tests.backend.records.cloud_events import event, flexi
from tests.backend.records.institutions import Institution
from tests.factories import create_person, new_insz, new_kbo

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _at(day: str) -> str:
    return f"{day}T09:00:00+01:00"


async def test_the_counter_follows_corrections_and_cancellations(conn: asyncpg.Connection, onss: Institution) -> None:
    insz = new_insz()
    person = await create_person(conn, insz=insz)
    brasserie, bakery = new_kbo(), new_kbo()
    first = [
        event(insz, "f-jan", data=flexi(brasserie, "2026-01", 100_000), time=_at("2026-02-10")),
        event(insz, "f-feb", data=flexi(brasserie, "2026-02", 120_000), time=_at("2026-03-10")),
        event(insz, "g-feb", data=flexi(bakery, "2026-02", 30_000), time=_at("2026-03-11")),
        event(insz, "f-dec-2025", data=flexi(brasserie, "2025-12", 70_000), time=_at("2026-01-10")),
    ]
    outcome = await ingest_declarations(conn, onss.caller, first, now=NOW)
    assert outcome.answer.accepted == 4
    assert [record.source_event_id for record in outcome.accepted] == ["f-jan", "f-feb", "g-feb", "f-dec-2025"]
    counter = await select_flexi_counter(conn, person.person_id, 2026)
    assert counter is not None
    assert (counter.total_cents, counter.last_declared_month) == (250_000, "2026-02")
    assert counter.as_of == datetime(2026, 3, 11, 8, tzinfo=UTC)
    previous = await select_flexi_counter(conn, person.person_id, 2025)
    assert previous is not None
    assert previous.total_cents == 70_000

    second = [
        # The brasserie's February was 20,000 too high: the correction replaces it.
        event(insz, "f-feb-fix", data=flexi(brasserie, "2026-02", 100_000), corrects="f-feb", time=_at("2026-03-20")),
        # The bakery's February is cancelled altogether.
        event(insz, "g-feb-cancel", cancels="g-feb", time=_at("2026-03-21")),
        # The December 2025 wage was in fact for January 2026: the correction moves it to the other year.
        event(
            insz,
            "f-dec-fix",
            data=flexi(brasserie, "2026-01", 70_000, corrects="f-dec-2025"),
            time=_at("2026-03-22"),
        ),
    ]
    outcome = await ingest_declarations(conn, onss.caller, second, now=NOW)
    assert outcome.answer.accepted == 3, outcome.answer
    counter = await select_flexi_counter(conn, person.person_id, 2026)
    assert counter is not None
    assert counter.total_cents == 100_000 + 100_000 + 70_000
    assert counter.last_declared_month == "2026-02"
    assert counter.as_of == datetime(2026, 3, 22, 8, tzinfo=UTC)
    previous = await select_flexi_counter(conn, person.person_id, 2025)
    assert previous is not None
    assert (previous.total_cents, previous.last_declared_month) == (0, None)


async def test_a_rejected_or_repeated_item_leaves_the_counter_alone(
    conn: asyncpg.Connection, onss: Institution
) -> None:
    insz = new_insz()
    person = await create_person(conn, insz=insz)
    kbo = new_kbo()
    good = event(insz, "r-1", data=flexi(kbo, "2026-05", 50_000), time=_at("2026-06-10"))
    await ingest_declarations(conn, onss.caller, [good], now=NOW)
    outcome = await ingest_declarations(
        conn,
        onss.caller,
        [good, event(insz, "r-2", data=flexi(kbo, "2026-06", -1)), event(insz, "r-3", cancels="missing")],
        now=NOW,
    )
    assert [item.status for item in outcome.answer.items] == ["duplicate", "rejected", "rejected"]
    assert outcome.accepted == []
    counter = await select_flexi_counter(conn, person.person_id, 2026)
    assert counter is not None
    assert counter.total_cents == 50_000


async def test_the_payload_and_envelope_references_must_agree(conn: asyncpg.Connection, onss: Institution) -> None:
    insz = new_insz()
    await create_person(conn, insz=insz)
    kbo = new_kbo()
    items = [
        event(insz, "a-1", data=flexi(kbo, "2026-05", 50_000), time=_at("2026-06-10")),
        event(insz, "a-2", data=flexi(kbo, "2026-05", 40_000), time=_at("2026-06-10")),
        event(insz, "a-3", data=flexi(kbo, "2026-05", 45_000, corrects="a-1"), corrects="a-2", time=_at("2026-06-12")),
    ]
    outcome = await ingest_declarations(conn, onss.caller, items, now=NOW)
    rejected = outcome.answer.items[2]
    assert rejected.status == "rejected"
    assert [(error.field, error.message) for error in rejected.errors] == [
        ("items[2].data.corrects", "differs from the event's `corrects`")
    ]
