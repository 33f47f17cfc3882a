"""An institution whose signed assertion states a purpose it does not hold: a look-up of a person is refused
and that refusal is in the person's access log; calls that name nobody are refused before anything runs."""

from __future__ import annotations

import asyncpg
import httpx

from backend.access_log.queries import select_chain
from backend.core.auth.institution_keys import make_assertion
from backend.core.identity.purposes import Purpose, upsert_purpose
from tests.backend.records.institutions import LEGAL, make_institution
from tests.factories import create_person, new_insz


async def test_a_look_up_under_a_purpose_not_held_is_refused_and_logged(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    institution = await make_institution(conn, "SFP")
    await upsert_purpose(
        conn,
        Purpose(
            org_id=institution.organisation.org_id,
            code="pension_calculation",
            categories=("dimona",),
            authorisation_ref="IVC/TEST/1",
            **LEGAL,
        ),
    )
    insz = new_insz()
    person = await create_person(conn, insz=insz)

    def stating(purpose: str) -> dict[str, str]:
        token = make_assertion(institution.key, client_id=institution.client_id, kid="k1", purpose=purpose)
        return {"authorization": f"Bearer {token}"}

    body = {"insz": insz, "categories": ["dimona"], "purpose": "unemployment_benefit"}
    refused = await client.post("/api/v1/lookups", json=body, headers=stating("unemployment_benefit"))
    assert refused.status_code == 403
    assert refused.json()["errors"] == [
        {
            "field": "purpose",
            "message": "purpose unemployment_benefit is not registered for this institution",
            "location": "body",
        }
    ]
    (logged,) = await select_chain(conn, person.person_id)
    assert (logged.outcome, logged.purpose_code) == ("denied", "unemployment_benefit")

    # The body cannot ask for another purpose than the assertion states, registered or not.
    other = {**body, "purpose": "pension_calculation"}
    mismatch = await client.post("/api/v1/lookups", json=other, headers=stating("unemployment_benefit"))
    assert mismatch.status_code == 403
    assert "differs from the purpose unemployment_benefit" in mismatch.json()["errors"][0]["message"]
    assert len(await select_chain(conn, person.person_id)) == 2

    whoami = await client.get("/api/v1/institution/whoami", headers=stating("unemployment_benefit"))
    assert whoami.status_code == 403
    assert whoami.json()["type"] == "urn:vitrine:problem:unknown-purpose"
