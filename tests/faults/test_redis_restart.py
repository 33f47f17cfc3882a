"""Redis stopped and started again while the institutions' declarations keep coming in through the real web
process, with the real worker delivering: every notice owed reaches the inbox and the mailbox exactly once."""

from __future__ import annotations

import asyncio
from typing import Final

import httpx
import pytest

from tests.faults.mail import FaultySmtp
from tests.faults.population import ROUNDS, seed_population
from tests.faults.servers import PrivateRedis, Vitrine, running

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("faults")]

PEOPLE: Final = 20
# Deliveries whose job could not be queued while Redis was down are found by the sweeper, which runs once a
# minute and looks at deliveries pending for a minute: the worst case is a little over two minutes.
CATCH_UP_SECONDS: Final = 180.0


async def test_redis_restart_during_ingest_loses_and_repeats_nothing(
    vitrine: Vitrine, private_redis: PrivateRedis, fault_smtp: FaultySmtp
) -> None:
    population = await seed_population(vitrine.environment["DATABASE_URL"], people=PEOPLE)
    expected_total = PEOPLE * len(ROUNDS)
    with running(vitrine.start_web()), running(vitrine.start("worker")) as worker:
        async with httpx.AsyncClient(base_url=vitrine.base_url, timeout=30) as client:
            await population.declare_round(client, 0)
            await population.wait_for({"email:sent": PEOPLE}, within=60, why="first round delivered")

            # Redis goes away: declarations are still taken, and what they owe waits in PostgreSQL's outbox (the
            # relay claims nothing while it cannot queue the e-mails).
            await asyncio.to_thread(private_redis.stop)
            await population.declare_round(client, 1)
            await population.wait_for(
                {"notices": PEOPLE, "outbox_waiting": PEOPLE}, within=10, why="the second round waits in the outbox"
            )
            await asyncio.sleep(2)

            await asyncio.to_thread(private_redis.start)
            await population.declare_round(client, 2)
            counts = await population.wait_for(
                {"notices": expected_total, "email:sent": expected_total, "outbox_waiting": 0},
                within=CATCH_UP_SECONDS,
                why="every notice delivered after Redis came back",
            )
            # A little longer: nothing more arrives (no second delivery of anything).
            await asyncio.sleep(3)
        assert worker.poll() is None, f"the worker must survive a Redis restart:\n{vitrine.log_tail('worker')}"

    assert counts.get("email:pending", 0) == counts.get("email:sending", 0) == counts.get("email:failed", 0) == 0
    assert counts["inbox:sent"] == expected_total
    assert await population.notices_per_person() == {person.email: len(ROUNDS) for person in population.people}
    assert fault_smtp.per_recipient() == {person.email: len(ROUNDS) for person in population.people}
