"""Institution look-ups: only what the institution may read for its purpose, every call in the person's log,
a refusal logged as a denied event that survives the 403, and nothing logged for an unknown person."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import httpx
import pytest

from backend.access_log.queries import select_chain
from backend.core.identity.purposes import Purpose, upsert_purpose
from backend.records.service import ingest_declarations
from tests.backend.records.cloud_events import LOOKUPS, dimona, event, flexi
from tests.backend.records.institutions import LEGAL, Institution, make_institution
from tests.factories import create_person, new_insz, new_kbo


async def _register(conn: asyncpg.Connection, institution: Institution, code: str, *categories: str) -> None:
    await upsert_purpose(
        conn,
        Purpose(
            org_id=institution.organisation.org_id,
            code=code,
            categories=categories,
            authorisation_ref=f"IVC/TEST/{code}",
            **LEGAL,
        ),
    )


@pytest.fixture
async def sfp(conn: asyncpg.Connection) -> Institution:
    institution = await make_institution(conn, "SFP")
    await _register(conn, institution, "pension_calculation", "dimona", "dmfa")
    return institution


@pytest.fixture
async def person(conn: asyncpg.Connection, onss: Institution) -> tuple[str, UUID]:
    """Someone with a Dimona (and its correction), a cancelled Dimona and flexi wages."""
    insz = new_insz()
    created = await create_person(conn, insz=insz)
    kbo = new_kbo()
    outcome = await ingest_declarations(
        conn,
        onss.caller,
        [
            event(insz, "d-1", "dimona", dimona(kbo, "2026-01-05")),
            event(insz, "d-1-fix", "dimona", dimona(kbo, "2026-01-06"), corrects="d-1"),
            event(insz, "d-2", "dimona", dimona(kbo, "2026-03-01")),
            event(insz, "d-2-cancel", "dimona", cancels="d-2"),
            event(insz, "f-1", data=flexi(kbo, "2026-01", 10_000)),
        ],
        now=datetime.now(UTC),
    )
    assert outcome.answer.accepted == 5, outcome.answer
    return insz, created.person_id


async def test_an_allowed_look_up_returns_the_records_and_is_logged(
    api: httpx.AsyncClient, conn: asyncpg.Connection, sfp: Institution, person: tuple[str, UUID]
) -> None:
    insz, citizen_id = person
    body = {"insz": insz, "categories": ["dimona", "dmfa"], "purpose": "pension_calculation", "case_ref": "P-2026-7"}
    response = await api.post(LOOKUPS, json=body, headers=sfp.headers())
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer["records"]) == {"dimona", "dmfa"}
    assert answer["records"]["dmfa"] == []
    (current,) = answer["records"]["dimona"]
    assert current["source_event_id"] == "d-1-fix"
    assert current["kind"] == "correction"
    assert current["payload"]["start"] == "2026-01-06"
    assert {"record_id", "received_at", "source", "valid_from", "payload"} <= set(current)
    (logged,) = await select_chain(conn, citizen_id)
    assert str(logged.event_id) == answer["access_event_id"]
    assert (logged.actor_kind, logged.actor_org_id, logged.actor_client_id) == (
        "institution",
        sfp.organisation.org_id,
        sfp.client_id,
    )
    assert (logged.purpose_code, logged.legal_basis_ref, logged.case_ref) == (
        "pension_calculation",
        "IVC/TEST/pension_calculation",
        "P-2026-7",
    )
    assert (logged.channel, logged.action, logged.outcome) == ("api", "read", "granted")
    assert logged.categories == ["dimona", "dmfa"]
    assert logged.record_refs == [current["record_id"]]


async def test_a_category_outside_the_purpose_refuses_the_whole_look_up_and_the_refusal_is_kept(
    api: httpx.AsyncClient, conn: asyncpg.Connection, sfp: Institution, person: tuple[str, UUID]
) -> None:
    insz, citizen_id = person
    body = {"insz": insz, "categories": ["dimona", "flexi_wages"], "purpose": "pension_calculation"}
    response = await api.post(LOOKUPS, json=body, headers=sfp.headers())
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert "records" not in problem
    assert problem["errors"] == [
        {
            "field": "categories[1]",
            "message": "category flexi_wages is not covered by purpose pension_calculation",
            "location": "body",
        }
    ]
    # The request's transaction was committed (a raised 403 would have rolled the denied event back with it).
    (logged,) = await select_chain(conn, citizen_id)
    assert (logged.outcome, logged.channel, logged.purpose_code) == ("denied", "api", "pension_calculation")
    assert logged.reason == "category flexi_wages is not covered by purpose pension_calculation"
    assert logged.categories == ["dimona", "flexi_wages"]
    assert logged.record_refs == []


async def test_a_purpose_that_covers_a_category_is_not_enough_without_being_a_recipient(
    api: httpx.AsyncClient, conn: asyncpg.Connection, person: tuple[str, UUID]
) -> None:
    insz, citizen_id = person
    # Registered for a purpose that lists flexi wages, but flexi wages are not provided to this institution.
    other = await make_institution(conn, "FAMIWAL")
    await _register(conn, other, "flexi_income_tax", "flexi_wages")
    body = {"insz": insz, "categories": ["flexi_wages"], "purpose": "flexi_income_tax"}
    response = await api.post(LOOKUPS, json=body, headers=other.headers())
    assert response.status_code == 403
    assert response.json()["errors"][0]["message"] == (
        "category flexi_wages is not provided to this institution for purpose flexi_income_tax"
    )
    (logged,) = await select_chain(conn, citizen_id)
    assert logged.outcome == "denied"


async def test_an_unregistered_purpose_is_refused_and_logged(
    api: httpx.AsyncClient, conn: asyncpg.Connection, sfp: Institution, person: tuple[str, UUID]
) -> None:
    insz, citizen_id = person
    body = {"insz": insz, "categories": ["dimona"], "purpose": "curiosity"}
    response = await api.post(LOOKUPS, json=body, headers=sfp.headers())
    assert response.status_code == 403
    assert response.json()["errors"] == [
        {"field": "purpose", "message": "purpose curiosity is not registered for this institution", "location": "body"}
    ]
    (logged,) = await select_chain(conn, citizen_id)
    assert (logged.outcome, logged.purpose_code, logged.legal_basis_ref) == ("denied", "curiosity", None)


async def test_an_unknown_person_is_a_404_and_nothing_is_logged(
    api: httpx.AsyncClient, conn: asyncpg.Connection, sfp: Institution
) -> None:
    before = await conn.fetchval("SELECT count(*) FROM access_events")
    body = {"insz": new_insz(), "categories": ["dimona"], "purpose": "pension_calculation"}
    response = await api.post(LOOKUPS, json=body, headers=sfp.headers())
    assert response.status_code == 404
    assert await conn.fetchval("SELECT count(*) FROM access_events") == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"insz": "12345678901", "categories": ["dimona"], "purpose": "pension_calculation"}, "insz"),
        ({"insz": "85073003328", "categories": ["horoscope"], "purpose": "pension_calculation"}, "categories[0]"),
        ({"insz": "85073003328", "categories": [], "purpose": "pension_calculation"}, "categories"),
        ({"insz": "85073003328", "categories": ["dimona"], "purpose": "pension_calculation", "why": "?"}, "why"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(
    api: httpx.AsyncClient, sfp: Institution, body: dict[str, object], field: str
) -> None:
    response = await api.post(LOOKUPS, json=body, headers=sfp.headers())
    assert response.status_code == 422, response.text
    assert field in {error["field"] for error in response.json()["errors"]}
