"""PostgreSQL restarted (fast shutdown, then start) while people use a page and the API: the web process recovers
by itself. During the outage every request gets an answer (503, problem+json for the API), none hangs; a few
seconds after the server is back every request succeeds again, from the same web process."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Final

import httpx
import pytest

from backend.core.auth import sessions
from tests.faults.population import seed_population
from tests.faults.servers import PrivatePostgres, Vitrine, running

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("faults")]

PATHS: Final = ("/inbox", "/api/v1/me/notifications")
CLIENTS_PER_PATH: Final = 2
BEFORE_OUTAGE_SECONDS: Final = 2.0
OUTAGE_SECONDS: Final = 3.0
# After the server is back, the pool replaces the connections the restart closed; this is the grace allowed.
RECOVERY_SECONDS: Final = 3.0
AFTER_RECOVERY_SECONDS: Final = 5.0
# Far above any normal answer: a request still unanswered after this long counts as hanging.
HANG_SECONDS: Final = 10.0


@dataclass(frozen=True)
class Sample:
    """One request of the load: when it started (seconds since the load began), what came back."""

    path: str
    started: float
    status: int | None
    content_type: str
    body: str
    error: str | None


async def _load(client: httpx.AsyncClient, path: str, began: float, stop: asyncio.Event) -> list[Sample]:
    samples: list[Sample] = []
    while not stop.is_set():
        started = time.monotonic() - began
        try:
            answer = await client.get(path)
        except httpx.HTTPError as exc:
            samples.append(Sample(path, started, None, "", "", f"{type(exc).__name__}: {exc}"))
        else:
            samples.append(
                Sample(path, started, answer.status_code, answer.headers.get("content-type", ""), answer.text, None)
            )
        await asyncio.sleep(0.05)
    return samples


async def test_web_recovers_from_a_postgres_restart_without_being_restarted(
    vitrine: Vitrine, private_postgres: PrivatePostgres
) -> None:
    population = await seed_population(vitrine.environment["DATABASE_URL"], people=1)
    cookie = {sessions.cookie_name(False): population.people[0].session_token}
    with running(vitrine.start_web()) as web:
        timeout = httpx.Timeout(HANG_SECONDS)
        async with httpx.AsyncClient(base_url=vitrine.base_url, cookies=cookie, timeout=timeout) as client:
            for path in PATHS:
                assert (await client.get(path)).status_code == 200, path
            stop = asyncio.Event()
            began = time.monotonic()
            loads = [
                asyncio.create_task(_load(client, path, began, stop)) for path in PATHS for _ in range(CLIENTS_PER_PATH)
            ]
            await asyncio.sleep(BEFORE_OUTAGE_SECONDS)
            await asyncio.to_thread(private_postgres.stop, "fast")
            down_at = time.monotonic() - began
            await asyncio.sleep(OUTAGE_SECONDS)
            await asyncio.to_thread(private_postgres.start)
            up_at = time.monotonic() - began
            await asyncio.sleep(RECOVERY_SECONDS + AFTER_RECOVERY_SECONDS)
            stop.set()
            samples = [sample for load in loads for sample in await load]
        assert web.poll() is None, "the web process must still be running (it was not restarted)"

    assert [sample for sample in samples if sample.error] == [], "every request gets an answer, none hangs"
    unexpected = [(s.path, s.status, s.body[:200]) for s in samples if s.status not in {200, 503}]
    assert unexpected == [], "during and after the outage: 200, or 503 while the database cannot be reached"
    outage = [s for s in samples if s.status == 503]
    assert {s.path for s in outage} == set(PATHS), "the outage was seen by the page and the API"
    for sample in outage:
        assert down_at - 1 <= sample.started <= up_at + RECOVERY_SECONDS, sample
        if sample.path.startswith("/api/"):
            assert sample.content_type == "application/problem+json", sample
            assert '"status":503' in sample.body, sample
        else:
            assert sample.content_type.startswith("text/html"), sample
    recovered = [s for s in samples if s.started > up_at + RECOVERY_SECONDS]
    assert len(recovered) >= len(PATHS) * CLIENTS_PER_PATH, "the load went on after the recovery window"
    assert all(s.status == 200 for s in recovered), [
        (s.path, s.status, s.started) for s in recovered if s.status != 200
    ]
