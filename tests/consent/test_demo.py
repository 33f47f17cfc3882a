"""Demo mandates: the demo CPAS agent has a client to act for, seeded through the real services, once."""

from __future__ import annotations

import asyncpg

from backend.core.identity.demo import ORGANISATIONS, PERSONAS, seed_identity
from backend.core.identity.queries import select_organisation_by_kbo, select_person_by_insz
from backend.core.identity.schemas import Person
from consent.acting import may_act_for
from consent.demo import seed_agent_clients
from consent.ending import end_mandate
from tests.factories import TEST_SECRET, signed_in


async def _persona(conn: asyncpg.Connection, key: str) -> Person:
    person = await select_person_by_insz(conn, next(p.insz for p in PERSONAS if p.key == key))
    assert person is not None
    return person


async def test_without_the_demo_identity_nothing_is_seeded(conn: asyncpg.Connection) -> None:
    assert await seed_agent_clients(conn) == 0


async def test_the_cpas_agent_may_act_for_the_demo_client_and_a_second_run_adds_nothing(
    conn: asyncpg.Connection,
) -> None:
    await seed_identity(conn, secret=TEST_SECRET)
    cpas = await select_organisation_by_kbo(conn, next(o.kbo for o in ORGANISATIONS if o.key == "cpas_liege"))
    assert cpas is not None
    jean, nathalie, koen = [await _persona(conn, key) for key in ("jean", "nathalie", "koen")]

    assert await seed_agent_clients(conn) == 2, "the mandate, and the agent named for it"
    assert await seed_agent_clients(conn) == 0

    assert await may_act_for(conn, nathalie.person_id, jean.person_id, cpas.org_id)
    assert not await may_act_for(conn, koen.person_id, jean.person_id, cpas.org_id), "the union agent is not named"

    # Once Jean ends it, the next run gives the demo its client back.
    mandate_id = await conn.fetchval(
        "SELECT mandate_id FROM mandates WHERE citizen_id = $1 AND mandatary_org_id = $2", jean.person_id, cpas.org_id
    )
    await end_mandate(conn, await signed_in(conn, jean), mandate_id)
    assert not await may_act_for(conn, nathalie.person_id, jean.person_id, cpas.org_id)
    assert await seed_agent_clients(conn) == 2
    assert await may_act_for(conn, nathalie.person_id, jean.person_id, cpas.org_id)
