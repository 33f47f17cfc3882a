"""Two ingests for the same person at once: the second recomputes the counter only after the first commits,
so neither one's wages are lost (a real database with committed transactions)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from backend.core.auth.assertions import InstitutionCaller
from backend.core.db import connect
from backend.core.migrations import migrate
from backend.records.queries import select_flexi_counter
from backend.records.service import ingest_declarations
from tests.backend.records.cloud_events import event, flexi
from tests.factories import create_organisation, create_person, new_insz, new_kbo


async def test_concurrent_ingests_do_not_lose_wages(scratch_database_url: str) -> None:
    owner = await connect(scratch_database_url, as_app=False)
    await migrate(owner)
    await owner.close()
    first, second = await connect(scratch_database_url), await connect(scratch_database_url)
    try:
        insz = new_insz()
        person = await create_person(first, insz=insz)
        onss = await create_organisation(first, kind="institution", code="ONSS")
        caller = InstitutionCaller(client_id="onss-test", org_id=onss.org_id, org_code="ONSS", jti="test")
        kbo = new_kbo()
        now = datetime.now(UTC)
        one = first.transaction()
        await one.start()
        await ingest_declarations(first, caller, [event(insz, "c-1", data=flexi(kbo, "2026-01", 10_000))], now=now)
        other = second.transaction()
        await other.start()
        waiting = asyncio.create_task(
            # Another source, so that nothing but the counter makes the two ingests meet.
            ingest_declarations(
                second, caller, [event(insz, "c-2", data=flexi(kbo, "2026-02", 20_000), source="/other")], now=now
            )
        )
        await asyncio.sleep(0.3)
        assert not waiting.done(), "the second ingest must wait for the first one's counter"
        await one.commit()
        outcome = await asyncio.wait_for(waiting, timeout=10)
        assert outcome.answer.accepted == 1
        await other.commit()
        counter = await select_flexi_counter(first, person.person_id, 2026)
        assert counter is not None
        assert counter.total_cents == 30_000
    finally:
        await first.close()
        await second.close()
