"""The people and the institution of a fault test, in its private database, and what they do through the real
web process: the ONSS declares flexi wages that take each person past 75, 90 and 100 % of the 2025 ceiling, one
threshold per round, so each round owes every person one notice (inbox and e-mail)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass
from typing import Final

import asyncpg
import httpx

from backend.core.auth import sessions
from backend.core.db import connect
from tests.backend.records.cloud_events import DECLARATIONS, event, flexi
from tests.backend.records.institutions import Institution, make_institution
from tests.factories import create_person, new_insz, new_kbo

# 2025 ceiling EUR 18,000: 14,000 passes 75 %, 16,500 passes 90 %, 18,500 passes 100 % (one warning a round).
ROUNDS: Final = (("2025-01", 1_400_000), ("2025-02", 250_000), ("2025-03", 200_000))
DECLARED_AT: Final = "2025-04-02T09:00:00+02:00"
SECRET_KEY: Final = "fault-tests-secret-key-0123456789abcdef"


@dataclass(frozen=True)
class Person:
    """One person of the test: national number, e-mail address, and a session cookie value for the pages."""

    insz: str
    email: str
    session_token: str


@dataclass
class Population:
    """The ONSS as API client, an employer, and the people."""

    database_url: str
    onss: Institution
    employer: str
    people: list[Person]

    async def declare_round(self, client: httpx.AsyncClient, round_index: int) -> None:
        """The ONSS declares one month of flexi wages for everyone, through the real API (one batch)."""
        month, amount = ROUNDS[round_index]
        batch = [
            event(person.insz, f"{person.insz}-{month}", data=flexi(self.employer, month, amount), time=DECLARED_AT)
            for person in self.people
        ]
        answer = await client.post(DECLARATIONS, json=batch, headers=self.onss.headers())
        assert answer.status_code == 200, answer.text
        assert answer.json()["accepted"] == len(self.people), answer.text

    async def counts(self) -> dict[str, int]:
        """Notices, e-mail deliveries by status, and outbox rows still waiting."""
        conn = await asyncpg.connect(self.database_url)
        try:
            notices = await conn.fetchval("SELECT count(*) FROM notifications")
            rows = await conn.fetch(
                "SELECT channel || ':' || status AS key, count(*) AS n FROM deliveries GROUP BY channel, status"
            )
            waiting = await conn.fetchval("SELECT count(*) FROM notification_outbox WHERE enqueued_at IS NULL")
        finally:
            await conn.close()
        return {"notices": notices, "outbox_waiting": waiting, **{row["key"]: row["n"] for row in rows}}

    async def notices_per_person(self) -> Counter[str]:
        """How many inbox notices each person has (by e-mail address)."""
        conn = await asyncpg.connect(self.database_url)
        try:
            rows = await conn.fetch(
                "SELECT p.email, count(*) AS n FROM notifications n JOIN people p ON p.person_id = n.citizen_id "
                "GROUP BY p.email"
            )
        finally:
            await conn.close()
        return Counter({row["email"]: row["n"] for row in rows})

    async def wait_for(self, expected: dict[str, int], *, within: float, why: str) -> dict[str, int]:
        """Poll the counts until they include `expected`; fail with the last counts after `within` seconds."""
        deadline = time.monotonic() + within
        while True:
            counts = await self.counts()
            if all(counts.get(key, 0) == value for key, value in expected.items()):
                return counts
            assert time.monotonic() < deadline, f"{why}: expected {expected}, still {counts}"
            await asyncio.sleep(0.25)


async def seed_population(database_url: str, people: int) -> Population:
    """Commit the ONSS (with an API key), an employer number and `people` people with e-mail and a session."""
    conn = await connect(database_url)
    try:
        async with conn.transaction():
            onss = await make_institution(conn, "ONSS")
            seeded = []
            for index in range(people):
                insz = new_insz()
                email = f"person{index}@faults.example"
                person = await create_person(conn, insz=insz, email=email, language=("nl", "fr", "de", "en")[index % 4])
                session_id = await sessions.insert_session(conn, person_id=person.person_id, method="demo")
                token = sessions.issue_token(SECRET_KEY, session_id=session_id, person_id=person.person_id)
                seeded.append(Person(insz=insz, email=email, session_token=token))
    finally:
        await conn.close()
    return Population(database_url=database_url, onss=onss, employer=new_kbo(), people=seeded)
