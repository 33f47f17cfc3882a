"""Flexi warnings against the database: evaluated in the ingest transaction, once per threshold and year, none for
pensioners, the pension limit for early retirees, and the daily safety net."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
from asyncpg.connection import LoggedQuery

from backend.core.auth.assertions import InstitutionCaller
from backend.core.identity.demo import PERSONAS, seed_identity
from backend.core.identity.queries import select_current_insz, select_organisation_by_code, select_person_by_insz
from backend.records.demo import demo_events
from notifications.flexi import evaluate_flexi, evaluate_flexi_year
from notifications.schemas import PersonStatus
from notifications.statuses import person_status, seed_person_statuses, set_person_status
from tests.backend.records.cloud_events import event, flexi
from tests.conftest import source_of
from tests.factories import TEST_SECRET, create_person, new_insz, new_kbo
from tests.notifications.helpers import ingest_and_evaluate, onss_caller

YEAR = 2025
DECLARED = datetime(2026, 1, 10, 9, tzinfo=UTC)


async def _outbox(conn: asyncpg.Connection, citizen_id: Any) -> list[tuple[str, dict[str, Any]]]:
    rows = await conn.fetch(
        "SELECT dedup_key, payload FROM notification_outbox WHERE citizen_id = $1 "
        "ORDER BY (payload ->> 'threshold')::int, dedup_key",
        citizen_id,
    )
    return [(row["dedup_key"], row["payload"]) for row in rows]


def _month(insz: str, employer: str, month: int, amount: int, **extra: Any) -> dict[str, Any]:
    return event(
        insz,
        f"{insz}-{month:02d}",
        data=flexi(employer, f"{YEAR}-{month:02d}", amount),
        time=DECLARED.isoformat(),
        **extra,
    )


async def test_each_threshold_is_warned_once_as_the_months_come_in(conn: asyncpg.Connection) -> None:
    caller = await onss_caller(conn)
    insz, employer = new_insz(), new_kbo()
    person = await create_person(conn, insz=insz)
    keys_after_month: dict[int, list[str]] = {}
    for month in range(1, 11):
        # EUR 1,900 a month: 73.9 % after July, 84.4 % after August, 95 % after September, past it in October.
        await ingest_and_evaluate(conn, caller, [_month(insz, employer, month, 190_000)])
        keys_after_month[month] = [key for key, _ in await _outbox(conn, person.person_id)]
    assert keys_after_month[7] == []
    assert keys_after_month[8] == ["flexi:2025:75"]
    assert keys_after_month[9] == ["flexi:2025:75", "flexi:2025:90"]
    assert keys_after_month[10] == ["flexi:2025:75", "flexi:2025:90", "flexi:2025:100"]
    payloads = dict(await _outbox(conn, person.person_id))
    assert payloads["flexi:2025:75"] == {
        "year": 2025,
        "threshold": 75,
        "total_cents": 1_520_000,
        "limit_cents": 1_800_000,
        "provisional": False,
        "as_of": "2026-01-10",
        # EUR 1,900 a month: EUR 18,000 after 9.47 months, so mid-October.
        "forecast": "2025-10-15",
    }
    assert payloads["flexi:2025:100"]["forecast"] is None


async def test_a_correction_down_and_up_again_repeats_nothing(conn: asyncpg.Connection) -> None:
    caller = await onss_caller(conn)
    insz, employer = new_insz(), new_kbo()
    person = await create_person(conn, insz=insz)
    await ingest_and_evaluate(conn, caller, [_month(insz, employer, month, 190_000) for month in range(1, 11)])
    assert [key for key, _ in await _outbox(conn, person.person_id)] == ["flexi:2025:100"], "one batch, one warning"
    down = event(insz, "down", data=flexi(employer, f"{YEAR}-10", 0), time=DECLARED.isoformat(), corrects=f"{insz}-10")
    await ingest_and_evaluate(conn, caller, [down])
    up = event(insz, "up", data=flexi(employer, f"{YEAR}-10", 190_000), time=DECLARED.isoformat(), corrects="down")
    outcome = await ingest_and_evaluate(conn, caller, [up])
    assert outcome.answer.accepted == 1
    assert [key for key, _ in await _outbox(conn, person.person_id)] == ["flexi:2025:100"]


async def test_pensioners_get_nothing_and_early_retirees_the_pension_limit(conn: asyncpg.Connection) -> None:
    caller = await onss_caller(conn)
    employer = new_kbo()
    pensioner = await create_person(conn)
    retiree = await create_person(conn)
    await set_person_status(conn, pensioner.person_id, PersonStatus(pensioner=True))
    await set_person_status(conn, retiree.person_id, PersonStatus(early_retiree=True))
    assert await person_status(conn, retiree.person_id) == PersonStatus(early_retiree=True)
    pensioner_insz = await select_current_insz(conn, pensioner.person_id)
    assert pensioner_insz is not None
    retiree_insz = await select_current_insz(conn, retiree.person_id)
    assert retiree_insz is not None
    await ingest_and_evaluate(
        conn,
        caller,
        [_month(pensioner_insz, employer, month, 250_000) for month in range(1, 11)]
        + [_month(retiree_insz, employer, month, 90_000) for month in range(1, 8)],
    )
    assert await _outbox(conn, pensioner.person_id) == []
    # EUR 6,300 after seven months: 80 % of EUR 7,876.
    assert [key for key, _ in await _outbox(conn, retiree.person_id)] == ["flexi-pension:2025:75"]


async def test_no_counter_no_warning(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    assert await evaluate_flexi(conn, person.person_id, YEAR) == []


async def test_the_daily_run_catches_what_the_ingest_did_not_warn_about(conn: asyncpg.Connection) -> None:
    caller = await onss_caller(conn)
    insz, employer = new_insz(), new_kbo()
    person = await create_person(conn, insz=insz)
    low = await create_person(conn)
    low_insz = await select_current_insz(conn, low.person_id)
    assert low_insz is not None
    # Recorded as a pensioner when the wages came in (no ceiling, no warning)...
    await set_person_status(conn, person.person_id, PersonStatus(pensioner=True))
    await ingest_and_evaluate(
        conn, caller, [_month(insz, employer, 1, 1_500_000), _month(low_insz, employer, 1, 100_000)]
    )
    assert await _outbox(conn, person.person_id) == []
    # ...then the status is corrected: no new declaration comes, the daily run sees it.
    await set_person_status(conn, person.person_id, PersonStatus())
    assert await evaluate_flexi_year(source_of(conn), YEAR, batch=1) == 1
    assert [key for key, _ in await _outbox(conn, person.person_id)] == ["flexi:2025:75"]
    assert await evaluate_flexi_year(source_of(conn), YEAR) == 0, "nothing twice"
    assert await evaluate_flexi_year(source_of(conn), 2023) == 0, "no ceiling, nothing to look at"


async def test_the_demo_pensioner_gets_no_warning_and_sofie_does(conn: asyncpg.Connection) -> None:
    await seed_identity(conn, secret=TEST_SECRET)
    assert await seed_person_statuses(conn) == 1
    assert await seed_person_statuses(conn) == 0, "idempotent"
    onss = await select_organisation_by_code(conn, "ONSS")
    assert onss is not None
    caller = InstitutionCaller(client_id="onss-demo", org_id=onss.org_id, org_code="ONSS", jti="demo")
    await ingest_and_evaluate(conn, caller, demo_events())
    people = {persona.key: await select_person_by_insz(conn, persona.insz) for persona in PERSONAS}
    jean, sofie = people["jean"], people["sofie"]
    assert jean is not None
    assert sofie is not None
    assert await person_status(conn, jean.person_id) == PersonStatus(pensioner=True)
    assert await _outbox(conn, jean.person_id) == []
    warnings = await _outbox(conn, sofie.person_id)
    assert [key for key, _ in warnings] == ["flexi:2026:75"]
    assert warnings[0][1]["provisional"] is True
    assert date.fromisoformat(warnings[0][1]["forecast"]).year == 2026


async def test_a_total_below_every_threshold_costs_one_statement_and_the_edge_still_warns(
    conn: asyncpg.Connection,
) -> None:
    caller = await onss_caller(conn)
    employer = new_kbo()
    # 75 % of the 2025 pension limit (EUR 7,876) is EUR 5,907: the smallest total any warning can start from.
    below, edge = new_insz(), new_insz()
    low = await create_person(conn, insz=below)
    retiree = await create_person(conn, insz=edge)
    await set_person_status(conn, retiree.person_id, PersonStatus(early_retiree=True))
    await ingest_and_evaluate(conn, caller, [_month(below, employer, 1, 590_699), _month(edge, employer, 1, 590_700)])
    statements: list[str] = []

    def note(record: LoggedQuery) -> None:
        statements.append(record.query)

    conn.add_query_logger(note)
    try:
        assert await evaluate_flexi(conn, low.person_id, YEAR) == []
        await asyncio.sleep(0.01)  # asyncpg calls query loggers soon after, not during, the statement
    finally:
        conn.remove_query_logger(note)
    assert len(statements) == 1, statements
    assert [key for key, _ in await _outbox(conn, retiree.person_id)] == ["flexi-pension:2025:75"]
