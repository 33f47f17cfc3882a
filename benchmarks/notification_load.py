"""The load of the notification benchmark: people and an ONSS API client in the scratch database, and batches
of CloudEvents posted to the real ingest API at a steady rate, some of which carry a person past a flexi
threshold."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import asyncpg
import httpx

from backend.core.auth.assertion_queries import upsert_api_client
from backend.core.auth.assertions import InstitutionCaller
from backend.core.auth.institution_keys import generate_es256_key, make_assertion, public_jwk
from backend.core.identity.demo import INSTITUTIONS
from backend.core.identity.queries import insert_organisation
from backend.core.identity.scale import generate_people
from backend.records.service import ingest_declarations
from benchmarks.harness import BenchmarkError
from benchmarks.servers import HOST

EMPLOYER = "0403019261"
SOURCE = "/onss/bench-notifications"
# 13,000 EUR already declared for January: 72 % of the 2026 ceiling (18,000 EUR); 1,000 more passes 75 %.
BEFORE_CENTS, CROSSING_CENTS, BACKGROUND_CENTS = 1_300_000, 100_000, 20_000


def _event(subject: str, event_id: str, category: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": SOURCE,
        "type": f"be.socialsecurity.{category}.v1",
        "subject": subject,
        "time": "2026-11-02T09:00:00+00:00",
        "data": data,
    }


def _flexi(month: str, cents: int) -> dict[str, Any]:
    return {"employer_kbo": EMPLOYER, "month": month, "amount_cents": cents}


class Setup:
    """The scratch database's people and the ONSS API client the load signs with."""

    def __init__(self) -> None:
        self.key = generate_es256_key()
        self.client_id = "onss-bench-notifications"
        self.background: list[str] = []  # national numbers
        self.watched: dict[str, str] = {}  # national number -> e-mail address
        self.bulk: list[uuid.UUID] = []  # people owed a notice in the throughput phase
        self.transport_retries = 0

    async def prepare(self, conn: asyncpg.Connection, *, citizens: int, watched: int, bulk: int) -> None:
        """People, the API client, and the watched people's first flexi wages (below every threshold)."""
        await generate_people(conn, citizens=citizens)
        rows = await conn.fetch("SELECT person_id, insz FROM person_identifiers ORDER BY insz")
        if len(rows) < watched + bulk + 100:
            raise BenchmarkError("not enough people for the watched and bulk groups")
        onss = next(demo for demo in INSTITUTIONS if demo.code == "ONSS")
        async with conn.transaction():
            organisation = await insert_organisation(
                conn, kbo=onss.kbo, kind="institution", code="ONSS", name_nl="RSZ", name_fr="ONSS", name_de="LSS"
            )
            await upsert_api_client(conn, self.client_id, organisation.org_id, {"keys": [public_jwk(self.key, "k1")]})
        caller = InstitutionCaller(client_id=self.client_id, org_id=organisation.org_id, org_code="ONSS", jti="-")
        watched_rows, bulk_rows = rows[:watched], rows[watched : watched + bulk]
        self.background = [row["insz"].strip() for row in rows[watched + bulk :]]
        async with conn.transaction():
            for index, row in enumerate([*watched_rows, *bulk_rows]):
                await conn.execute(
                    "UPDATE people SET email = $2 WHERE person_id = $1", row["person_id"], f"p{index}@bench.example"
                )
            self.watched = {row["insz"].strip(): f"p{index}@bench.example" for index, row in enumerate(watched_rows)}
            self.bulk = [row["person_id"] for row in bulk_rows]
            first = [
                _event(insz, f"before-{insz}", "flexi_wages", _flexi("2026-01", BEFORE_CENTS)) for insz in self.watched
            ]
            for start in range(0, len(first), 1_000):
                await ingest_declarations(conn, caller, first[start : start + 1_000])

    def headers(self) -> dict[str, str]:
        """A fresh single-use assertion."""
        token = make_assertion(self.key, client_id=self.client_id, kid="k1")
        return {"authorization": f"Bearer {token}", "content-type": "application/json"}


def _background(setup: Setup, index: int, batch: int) -> list[dict[str, Any]]:
    """A batch of declarations that owe nobody a notice: Dimona, and small flexi wages far below any threshold."""
    items = []
    for slot in range(batch):
        insz = setup.background[(index * batch + slot) % len(setup.background)]
        event_id = f"bg-{index}-{slot}"
        if slot % 2:
            dimona = {"employer_kbo": EMPLOYER, "worker_type": "FLX", "start": "2026-03-02"}
            items.append(_event(insz, event_id, "dimona", dimona))
        else:
            items.append(_event(insz, event_id, "flexi_wages", _flexi("2026-05", BACKGROUND_CENTS)))
    return items


# A kept-alive connection the server closes just as a request goes out fails without reaching the handler; the
# call is sent again (a repeat the server did see is answered "duplicate", as idempotent ingest does).
TRANSPORT_TRIES = 3


async def _post(client: httpx.AsyncClient, setup: Setup, batch: list[dict[str, Any]]) -> tuple[float, int]:
    body = json.dumps(batch)
    for attempt in range(1, TRANSPORT_TRIES + 1):
        try:
            answer = await client.post("/api/v1/declarations", content=body, headers=setup.headers())
            break
        except httpx.TransportError as problem:
            setup.transport_retries += 1
            if attempt == TRANSPORT_TRIES:
                raise BenchmarkError(f"ingest call failed {TRANSPORT_TRIES} times: {problem!r}") from None
    answered = time.time()
    if answer.status_code != 200:
        raise BenchmarkError(f"ingest answered {answer.status_code}: {answer.text[:300]}")
    accepted = sum(1 for item in answer.json()["items"] if item["status"] == "accepted")
    return answered, accepted


async def offer_load(
    port: int, setup: Setup, *, rate: int, seconds: int, batch: int
) -> tuple[dict[str, float], int, float]:
    """Post batches at the rate; the watched people's crossing declarations are spread evenly over the calls.
    Returns the answer time per watched national number, the declarations accepted, and the seconds it took."""
    calls = rate * seconds // batch
    watched = list(setup.watched)
    # Crossings per call (at most a batch), so that every watched person crosses once during the load.
    per_call = min(-(-len(watched) // max(calls, 1)), batch)
    answered: dict[str, float] = {}
    accepted = 0
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=30, limits=limits) as client:

        async def call(index: int, due: float) -> None:
            nonlocal accepted
            await asyncio.sleep(max(due - time.monotonic(), 0))
            items = _background(setup, index, batch)
            crossing = watched[index * per_call : (index + 1) * per_call]
            for slot, insz in enumerate(crossing):
                items[slot] = _event(insz, f"cross-{insz}", "flexi_wages", _flexi("2026-02", CROSSING_CENTS))
            moment, count = await _post(client, setup, items)
            accepted += count
            answered.update(dict.fromkeys(crossing, moment))

        began = time.monotonic()
        await asyncio.gather(*(call(index, began + index * batch / rate) for index in range(calls)))
        # Over at least the offered period: the last call is due one interval before its end.
        return answered, accepted, max(time.monotonic() - began, float(seconds))
