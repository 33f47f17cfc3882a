"""The worker killed with SIGKILL in the middle of deliveries, then started again: nothing lost, nothing sent twice.

The SMTP server holds back its answers, so that the kill lands while attempts are under way and before any of them
was told "250". The jobs the killed worker had taken stay marked in progress in Redis until arq's mark expires (the
job timeout plus ten seconds), and the deliveries it had claimed keep their lease (LEASE_SECONDS): rather than wait
two and a half minutes, the test moves those two clocks past their end, which is all that waiting would do.

Stopped with SIGTERM instead, the worker ends within seconds with status 0, its attempts under way cancelled.
"""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Final

import asyncpg
import httpx
import pytest
from arq.constants import in_progress_key_prefix
from redis.asyncio import Redis

from notifications.delivery_policy import LEASE_SECONDS, PENDING_AFTER_SECONDS
from notifications.relay import delivery_job_id
from tests.faults.mail import FaultySmtp
from tests.faults.population import seed_population
from tests.faults.servers import PrivateRedis, Vitrine, running

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("faults")]

PEOPLE: Final = 20


async def _wait_until_attempts_are_held(smtp: FaultySmtp, at_least: int) -> None:
    deadline = time.monotonic() + 60
    while smtp.waiting < at_least:
        assert time.monotonic() < deadline, f"only {smtp.waiting} attempts reached the SMTP server"
        await asyncio.sleep(0.05)


async def _let_the_leases_run_out(database_url: str, redis_url: str) -> int:
    """What waiting does: the killed attempts' leases end, arq's in-progress marks expire, and a delivery whose
    job was never queued (the kill came between the relay's commit and its enqueue) is old enough for the sweeper.

    The restarted worker's first sweep then queues what is missing. How many deliveries were unfinished.
    """
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            await conn.execute(
                "UPDATE deliveries SET updated_at = updated_at - make_interval(secs => $1) "
                "WHERE channel = 'email' AND status IN ('pending', 'sending')",
                max(LEASE_SECONDS, PENDING_AFTER_SECONDS) + 1,
            )
            rows = await conn.fetch(
                "SELECT citizen_id, notification_id FROM deliveries "
                "WHERE channel = 'email' AND status IN ('pending', 'sending')"
            )
    finally:
        await conn.close()
    redis = Redis.from_url(redis_url)
    try:
        for row in rows:
            job_id = delivery_job_id(row["citizen_id"], row["notification_id"], "email")
            await redis.delete(f"{in_progress_key_prefix}{job_id}")
    finally:
        await redis.aclose()
    return len(rows)


async def test_a_worker_killed_mid_delivery_loses_and_repeats_nothing(
    vitrine: Vitrine, private_redis: PrivateRedis, fault_smtp: FaultySmtp
) -> None:
    population = await seed_population(vitrine.environment["DATABASE_URL"], people=PEOPLE)
    with running(vitrine.start_web()):
        async with httpx.AsyncClient(base_url=vitrine.base_url, timeout=30) as client:
            fault_smtp.hold()
            worker = vitrine.start("worker")
            with running(worker):
                await population.declare_round(client, 0)
                await _wait_until_attempts_are_held(fault_smtp, at_least=5)
                in_flight = fault_smtp.waiting
                worker.send_signal(signal.SIGKILL)
                await asyncio.to_thread(worker.wait, 10)
            fault_smtp.release()
            await asyncio.sleep(0.5)
            assert fault_smtp.messages == [], "no attempt was told 250 before the kill"
            counts = await population.counts()
            assert counts["notices"] == PEOPLE, "every notice is in the inbox"
            assert counts.get("email:sent", 0) == 0, counts
            assert counts.get("email:sending", 0) >= in_flight >= 5, counts

            assert await _let_the_leases_run_out(population.database_url, private_redis.url) == PEOPLE
            with running(vitrine.start("worker")) as restarted:
                counts = await population.wait_for(
                    {"email:sent": PEOPLE}, within=60, why="the killed deliveries made by the restarted worker"
                )
                await asyncio.sleep(3)
                assert restarted.poll() is None

    assert counts.get("email:pending", 0) == counts.get("email:failed", 0) == 0
    assert await population.notices_per_person() == {person.email: 1 for person in population.people}
    assert fault_smtp.per_recipient() == {person.email: 1 for person in population.people}


async def test_a_worker_stopped_by_sigterm_mid_delivery_exits_cleanly_at_once(
    vitrine: Vitrine, private_redis: PrivateRedis, fault_smtp: FaultySmtp
) -> None:
    population = await seed_population(vitrine.environment["DATABASE_URL"], people=PEOPLE)
    with running(vitrine.start_web()):
        async with httpx.AsyncClient(base_url=vitrine.base_url, timeout=30) as client:
            fault_smtp.hold()
            with running(vitrine.start("worker")) as worker:
                await population.declare_round(client, 0)
                await _wait_until_attempts_are_held(fault_smtp, at_least=5)
                worker.send_signal(signal.SIGTERM)
                started = time.monotonic()
                await asyncio.to_thread(worker.wait, 10)
                assert worker.returncode == 0, vitrine.log_tail("worker")
                assert time.monotonic() - started < 5, "the jobs under way are cancelled, not waited for"
            fault_smtp.release()
            await asyncio.sleep(0.5)
    assert fault_smtp.messages == [], "no attempt was told 250 after the stop"
    counts = await population.counts()
    assert counts["notices"] == PEOPLE, "every notice is in the inbox"
    assert counts.get("email:sent", 0) == 0, counts
