"""The mail server unreachable (connection refused) for a while, then back: the inbox is never held up, and every
e-mail goes out after its retry, exactly once."""

from __future__ import annotations

import asyncio
from typing import Final

import asyncpg
import httpx
import pytest

from backend.core.auth import sessions
from notifications.delivery_policy import RETRY_BASE_SECONDS
from tests.faults.mail import FaultySmtp
from tests.faults.population import seed_population
from tests.faults.servers import Vitrine, running

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("faults")]

PEOPLE: Final = 10


async def _retries_scheduled(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM deliveries WHERE channel = 'email' AND status = 'sending' "
                "AND attempts = 1 AND next_attempt_at IS NOT NULL AND last_error IS NOT NULL"
            )
        )
    finally:
        await conn.close()


async def test_smtp_down_then_up_delivers_every_email_once_and_never_holds_the_inbox(
    vitrine: Vitrine, fault_smtp: FaultySmtp
) -> None:
    population = await seed_population(vitrine.environment["DATABASE_URL"], people=PEOPLE)
    await fault_smtp.stop()
    with running(vitrine.start_web()), running(vitrine.start("worker")):
        async with httpx.AsyncClient(base_url=vitrine.base_url, timeout=30) as client:
            await population.declare_round(client, 0)
            await population.wait_for(
                {"notices": PEOPLE, "inbox:sent": PEOPLE}, within=30, why="the inbox does not wait for e-mail"
            )
            for _ in range(120):
                if await _retries_scheduled(population.database_url) == PEOPLE:
                    break
                await asyncio.sleep(0.25)
            assert await _retries_scheduled(population.database_url) == PEOPLE, await population.counts()
            person = population.people[0]
            client.cookies.set(sessions.cookie_name(False), person.session_token)
            inbox = await client.get("/api/v1/me/notifications")
            assert inbox.status_code == 200, inbox.text
            assert len(inbox.json()) == 1, "the person reads the notice while the e-mail waits"

            await fault_smtp.start()
            counts = await population.wait_for(
                {"email:sent": PEOPLE}, within=RETRY_BASE_SECONDS * 2, why="e-mails delivered at their retry"
            )
            await asyncio.sleep(3)

    assert counts.get("email:pending", 0) == counts.get("email:sending", 0) == counts.get("email:failed", 0) == 0
    assert fault_smtp.per_recipient() == {person.email: 1 for person in population.people}
