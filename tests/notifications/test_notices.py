"""Notices owed by other areas become outbox rows once: mandates ending soon (both sides), access alerts (then
marked delivered), contest answers, answers to error reports; and the crons that run them and the sweep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from arq.connections import ArqRedis
from cryptography.hazmat.primitives.asymmetric import ec

from backend.access_log.alerts import pending_alerts, set_alerts_enabled
from backend.access_log.anomalies import record_and_flag
from backend.access_log.contests import answer_contest, open_contest
from backend.access_log.schemas import Accessor
from backend.core.identity import queries as identity_queries
from backend.records.citizen import category_page
from backend.records.error_reports import answer_report, report_error
from notifications import notification_queries
from notifications.notices import (
    collect_access_alerts,
    collect_contest_answers,
    collect_mandate_reminders,
    collect_notices,
    collect_report_answers,
)
from notifications.relay import run_relay_once
from notifications.sweeper import sweep_deliveries
from tests.backend.records.citizen_data import make_citizen_file
from tests.backend.records.institutions import make_institution
from tests.conftest import source_of
from tests.factories import (
    create_access_manager,
    create_mandate,
    create_organisation,
    create_person,
    create_staff,
)

KEY = ec.generate_private_key(ec.SECP256R1())
NIGHT = datetime(2026, 2, 10, 23, 30, tzinfo=UTC)


async def _outbox(conn: asyncpg.Connection, citizen_id: UUID) -> list[tuple[str, str, dict[str, Any]]]:
    rows = await conn.fetch(
        "SELECT kind, dedup_key, payload FROM notification_outbox WHERE citizen_id = $1 ORDER BY dedup_key",
        citizen_id,
    )
    return [(row["kind"], row["dedup_key"], row["payload"]) for row in rows]


async def test_a_mandate_ending_soon_is_announced_to_both_sides_once(conn: asyncpg.Connection) -> None:
    granted = datetime(2026, 3, 1, 9, tzinfo=UTC)
    citizen = await create_person(conn, language="fr")
    helper = await create_person(conn, language="nl")
    mandate = await create_mandate(conn, citizen, helper=helper, duration="1_month", now=granted)
    organisation = await create_organisation(conn)
    managers = [await create_access_manager(conn, organisation) for _ in range(2)]
    await create_mandate(
        conn, citizen, organisation=organisation, accepted_by=managers[0], duration="1_month", now=granted
    )
    later = granted + timedelta(days=20)
    assert await collect_mandate_reminders(conn, now=later) == 2 + 2 + 1
    assert await collect_mandate_reminders(conn, now=later + timedelta(hours=1)) == 0, "claimed once"
    citizen_rows = await _outbox(conn, citizen.person_id)
    assert len(citizen_rows) == 2
    assert {payload["side"] for _, _, payload in citizen_rows} == {"citizen"}
    (helper_row,) = await _outbox(conn, helper.person_id)
    assert helper_row[:2] == ("mandate_expiring", f"mandate-expiry:{mandate.mandate_id}")
    assert helper_row[2]["side"] == "mandatary"
    for manager in managers:
        assert [payload["side"] for _, _, payload in await _outbox(conn, manager.person_id)] == ["mandatary"]


async def test_access_alerts_are_handed_over_once_and_marked_delivered(conn: asyncpg.Connection) -> None:
    person = await create_person(conn, language="en")
    await set_alerts_enabled(conn, person.person_id, True)
    event = await record_and_flag(
        conn,
        citizen_id=person.person_id,
        accessor=Accessor(kind="helper", ref=str(uuid4())),
        action="read",
        channel="web",
        occurred_at=NIGHT,
    )
    assert len(await pending_alerts(conn, person.person_id, language="en")) == 1
    assert await collect_access_alerts(conn) == 1
    assert await collect_access_alerts(conn) == 0
    assert await pending_alerts(conn, person.person_id, language="en") == [], "delivered_at is set"
    (row,) = await _outbox(conn, person.person_id)
    assert row[:2] == ("access_alert", f"access-alert:{event.seq}:night")
    assert row[2]["flag"] == "night"


async def test_an_answered_contest_is_announced_once(conn: asyncpg.Connection) -> None:
    person = await create_person(conn, language="de")
    reviewer = await identity_queries.select_staff(conn, (await create_staff(conn, "reviewer")).person_id)
    assert reviewer is not None
    organisation = await create_organisation(conn, kind="institution", code="ONEMNOTE")
    event = await record_and_flag(
        conn,
        citizen_id=person.person_id,
        accessor=Accessor(kind="institution", org_id=organisation.org_id, client_id="onem-note"),
        action="read",
        channel="api",
        categories=["dimona"],
    )
    contest = await open_contest(conn, citizen_id=person.person_id, event_id=event.event_id, key=KEY)
    assert await collect_contest_answers(conn) == 0, "not answered yet"
    await answer_contest(conn, contest_id=contest.contest_id, reviewer=reviewer, answer="Dimona check.")
    assert await collect_contest_answers(conn) == 1
    assert await collect_contest_answers(conn) == 0
    (row,) = await _outbox(conn, person.person_id)
    assert row == (
        "contest_answered",
        f"contest-answered:{contest.contest_id}",
        {"contest_id": str(contest.contest_id)},
    )
    assert await collect_contest_answers(conn, now=datetime.now(UTC) + timedelta(days=40)) == 0


async def test_an_answered_error_report_is_announced_once(conn: asyncpg.Connection) -> None:
    onss = await make_institution(conn, "ONSS")
    file = await make_citizen_file(conn, onss, language="fr")
    page = await category_page(conn, file.person.person_id, "dimona", language="fr")
    assert page is not None
    report = await report_error(
        conn, citizen_id=file.person.person_id, record_id=page.dimona[-1].record_id, message="Cet emploi est faux."
    )
    assert await collect_report_answers(conn) == 0, "not answered yet"
    await answer_report(
        conn,
        org_id=onss.organisation.org_id,
        citizen_id=file.person.person_id,
        report_id=report.report_id,
        answer="Corrigé.",
    )
    assert await collect_report_answers(conn) == 1
    assert await collect_report_answers(conn) == 0
    (row,) = [found for found in await _outbox(conn, file.person.person_id) if found[0] == "error_report_answered"]
    assert row == (
        "error_report_answered",
        f"error-report-answered:{report.report_id}",
        {"report_id": str(report.report_id)},
    )
    assert await collect_report_answers(conn, now=datetime.now(UTC) + timedelta(days=40)) == 0


async def test_the_crons_collect_relay_and_sweep(conn: asyncpg.Connection, redis: ArqRedis) -> None:
    person = await create_person(conn, language="nl", email="cron@example.be")
    await set_alerts_enabled(conn, person.person_id, True)
    await record_and_flag(
        conn,
        citizen_id=person.person_id,
        accessor=Accessor(kind="helper", ref=str(uuid4())),
        action="read",
        channel="web",
        occurred_at=NIGHT,
    )
    ctx: dict[str, Any] = {"connection_source": source_of(conn), "redis": redis}
    counts = await collect_notices(ctx)
    assert counts["access_alerts"] == 1
    assert await sweep_deliveries(ctx) == 0, "relayed and queued by the sweep's relay run: nothing stuck"
    (notice,) = await notification_queries.select_inbox(conn, person.person_id, archived=False, limit=5)
    assert notice.subject == "Een toegang tot uw gegevens viel op"
    assert "11 februari 2026" in notice.body, "23:30 UTC on 10 February is the 11th in Brussels"
    assert len(await redis.queued_jobs()) == 1
    assert await run_relay_once(source_of(conn), redis) == 0
