"""Redis stopped and started again while the institutions' declarations keep coming in through the real web
process, with the real worker delivering: every notice owed reaches the inbox while Redis is away, and the mailbox
exactly once when it is back; a Redis outage longer than the worker's retry window does not end the worker."""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import asyncpg
import httpx
import pytest

from tests.faults.mail import FaultySmtp
from tests.faults.population import ROUNDS, seed_population
from tests.faults.servers import PrivateRedis, Vitrine, running, stop_process

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("faults")]

PEOPLE: Final = 20
# The relay queues what waited as soon as it finds Redis answering (its poll is five seconds), and the worker
# rides out a short restart: a few seconds, with room to spare on a busy machine.
CATCH_UP_SECONDS: Final = 30.0
# The long outage: the worker retries Redis for two seconds (WORKER_REDIS_RETRY_SECONDS), Redis stays away six.
RETRY_WINDOW_SECONDS: Final = 2
OUTAGE_SECONDS: Final = 6.0
LOST = "the worker lost Redis"
UNREACHABLE = "Redis cannot be reached; the worker"


async def test_redis_restart_during_ingest_loses_and_repeats_nothing(
    vitrine: Vitrine, private_redis: PrivateRedis, fault_smtp: FaultySmtp
) -> None:
    population = await seed_population(vitrine.environment["DATABASE_URL"], people=PEOPLE)
    expected_total = PEOPLE * len(ROUNDS)
    with running(vitrine.start_web()), running(vitrine.start("worker")) as worker:
        async with httpx.AsyncClient(base_url=vitrine.base_url, timeout=30) as client:
            await population.declare_round(client, 0)
            await population.wait_for({"email:sent": PEOPLE}, within=60, why="first round delivered")

            # Redis goes away: declarations are still taken, and what they owe reaches the inbox at once; the
            # e-mails wait in PostgreSQL as pending deliveries.
            await asyncio.to_thread(private_redis.stop)
            await population.declare_round(client, 1)
            await population.wait_for(
                {"notices": 2 * PEOPLE, "outbox_waiting": 0, "email:pending": PEOPLE},
                within=10,
                why="the second round is in the inbox while Redis is down",
            )
            await asyncio.sleep(2)

            await asyncio.to_thread(private_redis.start)
            await population.declare_round(client, 2)
            counts = await population.wait_for(
                {"notices": expected_total, "email:sent": expected_total, "outbox_waiting": 0},
                within=CATCH_UP_SECONDS,
                why="every notice delivered soon after Redis came back",
            )
            # A little longer: nothing more arrives (no second delivery of anything).
            await asyncio.sleep(3)
        assert worker.poll() is None, f"the worker must survive a Redis restart:\n{vitrine.log_tail('worker')}"

    assert counts.get("email:pending", 0) == counts.get("email:sending", 0) == counts.get("email:failed", 0) == 0
    assert counts["inbox:sent"] == expected_total
    assert await population.notices_per_person() == {person.email: len(ROUNDS) for person in population.people}
    assert fault_smtp.per_recipient() == {person.email: len(ROUNDS) for person in population.people}


async def test_a_redis_outage_longer_than_the_retry_window_does_not_stop_the_worker(
    vitrine: Vitrine, private_redis: PrivateRedis, fault_smtp: FaultySmtp
) -> None:
    database_url = vitrine.environment["DATABASE_URL"]
    population = await seed_population(database_url, people=PEOPLE)
    vitrine.environment["WORKER_REDIS_RETRY_SECONDS"] = str(RETRY_WINDOW_SECONDS)
    log = vitrine.log_path("worker")
    with running(vitrine.start_web()), running(vitrine.start("worker")) as worker:
        async with httpx.AsyncClient(base_url=vitrine.base_url, timeout=30) as client:
            await population.declare_round(client, 0)
            await population.wait_for({"email:sent": PEOPLE}, within=60, why="first round delivered")

            # Redis goes away for longer than the worker retries it: the arq worker stops, the process does not;
            # notices reach the inbox and the heartbeat goes on, both needing only PostgreSQL.
            log_before = _log_size(log)
            await asyncio.to_thread(private_redis.stop)
            stopped_at = await _database_now(database_url)
            await population.declare_round(client, 1)
            await population.wait_for(
                {"notices": 2 * PEOPLE, "email:pending": PEOPLE, "email:sent": PEOPLE},
                within=10,
                why="the second round is in the inbox while Redis is down",
            )
            await asyncio.sleep(OUTAGE_SECONDS)
            during = _log_since(log, log_before)
            assert worker.poll() is None, f"the worker must outlive the outage:\n{vitrine.log_tail('worker')}"
            assert LOST in during, f"the arq worker gave up on Redis past its retry window:\n{during}"
            assert UNREACHABLE in during, during
            assert "Traceback" not in during, f"an outage is logged in one line per attempt:\n{during}"
            assert during.count(UNREACHABLE) <= OUTAGE_SECONDS, "attempts back off"
            assert await _last_beat(database_url) > stopped_at, "the heartbeat is written while Redis is away"

            # Redis is back: the worker takes jobs again, and each waiting e-mail goes out once.
            await asyncio.to_thread(private_redis.start)
            await population.wait_for(
                {"email:sent": 2 * PEOPLE, "email:pending": 0},
                within=CATCH_UP_SECONDS,
                why="the second round delivered once Redis came back",
            )
            await asyncio.sleep(2)
            assert fault_smtp.per_recipient() == {person.email: 2 for person in population.people}

            # Redis goes away again and the worker is stopped while it waits: it ends at once, cleanly.
            log_before = _log_size(log)
            await asyncio.to_thread(private_redis.stop)
            await _wait_for_line(log, log_before, LOST, within=15)
            worker.send_signal(signal.SIGTERM)
            started = time.monotonic()
            await asyncio.to_thread(stop_process, worker, 10)
            assert worker.returncode == 0, vitrine.log_tail("worker")
            assert time.monotonic() - started < 5, "SIGTERM ends the wait for Redis at once"
    assert await _heartbeats(database_url) == 0, "a clean stop removes the worker's heartbeat"


def _log_size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _log_since(path: Path, offset: int) -> str:
    with path.open("rb") as file:
        file.seek(offset)
        return file.read().decode(errors="replace")


async def _wait_for_line(path: Path, offset: int, text: str, *, within: float) -> None:
    deadline = time.monotonic() + within
    while text not in _log_since(path, offset):
        assert time.monotonic() < deadline, f"{text!r} not logged:\n{_log_since(path, offset)}"
        await asyncio.sleep(0.1)


async def _value(database_url: str, query: str) -> Any:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval(query)
    finally:
        await conn.close()


async def _database_now(database_url: str) -> datetime:
    moment: datetime = await _value(database_url, "SELECT now()")
    return moment


async def _last_beat(database_url: str) -> datetime:
    moment: datetime = await _value(database_url, "SELECT max(beat_at) FROM worker_heartbeats")
    return moment


async def _heartbeats(database_url: str) -> int:
    count: int = await _value(database_url, "SELECT count(*) FROM worker_heartbeats")
    return count
