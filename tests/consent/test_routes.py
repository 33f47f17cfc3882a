"""The mandate JSON API end to end: invite, answer with a code (rate-limited), end, and name agents."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from backend.core.auth import sessions
from backend.core.identity.schemas import Person
from backend.core.settings import Settings
from consent import codes
from tests.conftest import in_process_client
from tests.consent.api import sign_in
from tests.factories import (
    create_access_manager,
    create_agent,
    create_mandate,
    create_organisation,
    create_person,
    invite_helper,
)


@pytest.fixture
async def api(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process_client(app) as client:
        yield client


async def _invite_body(api: httpx.AsyncClient, conn: asyncpg.Connection, helper: Person) -> dict[str, Any]:
    text = (await api.get("/api/v1/mandates/legal-text")).json()
    insz = await conn.fetchval("SELECT insz FROM person_identifiers WHERE person_id = $1", helper.person_id)
    return {
        "mandatary_insz": f"{insz[:2]}.{insz[2:4]}.{insz[4:6]}-{insz[6:9]}.{insz[9:]}",
        "mandatary_family_name": helper.family_name.upper(),
        "themes": [{"code": "work_and_wages", "access": "read"}, {"code": "messages", "access": "act"}],
        "duration": "6_months",
        "legal_text_version": text["version"],
        "legal_text_language": text["language"],
        "legal_text_sha256": text["sha256"],
    }


async def test_a_citizen_invites_and_the_helper_accepts(
    api: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    citizen = await create_person(conn, language="fr")
    helper = await create_person(conn, family_name="Van den Bossche")
    await sign_in(api, conn, settings, citizen)
    themes = (await api.get("/api/v1/mandates/themes")).json()
    assert {theme["code"]: theme["accesses"] for theme in themes} == {
        "benefits_and_risks": ["read"],
        "corrections": ["act"],
        "messages": ["read", "act"],
        "posting": ["read"],
        "work_and_wages": ["read"],
    }
    assert next(t for t in themes if t["code"] == "work_and_wages")["name"] == "Travail et salaires"
    text = (await api.get("/api/v1/mandates/legal-text")).json()
    assert text["language"] == "fr"
    assert text["text"].startswith("Consentement")
    created = await api.post("/api/v1/mandates", json=await _invite_body(api, conn, helper))
    assert created.status_code == 201, created.text
    code = created.json()["code"]
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    assert [m["state"] for m in (await api.get("/api/v1/mandates")).json()] == ["pending"]

    await sign_in(api, conn, settings, helper)
    typed = {"code": code.lower().replace("-", " ")}
    preview = await api.post("/api/v1/mandates/invitations/preview", json=typed)
    assert preview.status_code == 200, preview.text
    assert preview.json()["citizen"]["name"] == f"{citizen.given_name} {citizen.family_name}"
    accepted = await api.post("/api/v1/mandates/invitations/accept", json=typed)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "active"
    received = (await api.get("/api/v1/mandates/received")).json()
    assert [(m["mandate_id"], m["state"]) for m in received] == [(accepted.json()["mandate_id"], "active")]
    again = await api.post("/api/v1/mandates/invitations/accept", json=typed)
    assert again.status_code == 422
    assert again.json()["type"] == "urn:vitrine:problem:invitation-code-used"
    assert again.json()["errors"][0]["field"] == "code"


async def test_bad_input_is_a_422_naming_the_field_and_changes_nothing(
    api: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    citizen = await create_person(conn)
    helper = await create_person(conn)
    await sign_in(api, conn, settings, citizen)
    body = await _invite_body(api, conn, helper)
    for change, field in (
        ({"mandatary_family_name": "Somebody"}, "mandatary_insz"),
        ({"mandatary_insz": None, "mandatary_family_name": None, "mandatary_kbo": "0403019261"}, "mandatary_kbo"),
        ({"duration": "2_years"}, "duration"),
        ({"duration": "until_date", "until": "2099-01-01"}, "until"),
        ({"themes": []}, "themes"),
    ):
        response = await api.post("/api/v1/mandates", json=body | change)
        assert response.status_code == 422, (change, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert field in [error["field"] for error in response.json()["errors"]], response.json()
    assert (await api.get("/api/v1/mandates")).json() == []


async def test_the_api_needs_a_signed_in_person(api: httpx.AsyncClient) -> None:
    assert (await api.get("/api/v1/mandates")).status_code == 401
    assert (await api.post("/api/v1/mandates/invitations/accept", json={"code": "BBBB-BBBB-BBBB"})).status_code == 401


async def test_code_entry_is_rate_limited_per_account(
    api: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    citizen = await create_person(conn)
    helper = await create_person(conn)
    created = await invite_helper(conn, citizen, helper=helper)
    await sign_in(api, conn, settings, helper)
    statuses = [
        (await api.post("/api/v1/mandates/invitations/preview", json={"code": created.code})).status_code
        for _ in range(6)
    ]
    assert statuses == [200] * 5 + [429]
    refused = await api.post("/api/v1/mandates/invitations/accept", json={"code": created.code})
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "600"


async def test_code_entry_is_rate_limited_per_address(
    api: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    citizen = await create_person(conn)
    statuses: list[int] = []
    for attempts in (5, 5, 1):
        helper = await create_person(conn)
        created = await invite_helper(conn, citizen, helper=helper)
        await sign_in(api, conn, settings, helper)
        for _ in range(attempts):
            response = await api.post("/api/v1/mandates/invitations/preview", json={"code": created.code})
            statuses.append(response.status_code)
    assert statuses == [200] * 10 + [429]


async def test_either_side_ends_and_the_citizen_cancels_through_the_api(
    api: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    citizen = await create_person(conn)
    helper = await create_person(conn)
    stranger = await create_person(conn)
    mandate = await create_mandate(
        conn, citizen, helper=helper, themes=(("posting", "read"), ("work_and_wages", "read"))
    )
    await sign_in(api, conn, settings, stranger)
    not_yours = await api.post(f"/api/v1/mandates/{mandate.mandate_id}/end", json={})
    assert not_yours.status_code == 404
    await sign_in(api, conn, settings, helper)
    one_theme = await api.post(f"/api/v1/mandates/{mandate.mandate_id}/themes/posting/end", json={"reason": "done"})
    assert one_theme.status_code == 200, one_theme.text
    assert {t["code"]: t["active"] for t in one_theme.json()["themes"]} == {"posting": False, "work_and_wages": True}
    await sign_in(api, conn, settings, citizen)
    ended = await api.post(f"/api/v1/mandates/{mandate.mandate_id}/end", json={"reason": "I manage myself"})
    assert ended.status_code == 200
    assert (ended.json()["state"], ended.json()["ended_by"], ended.json()["end_reason"]) == (
        "revoked",
        "citizen",
        "I manage myself",
    )
    waiting = await invite_helper(conn, citizen, helper=helper)
    cancelled = await api.post(f"/api/v1/mandates/{waiting.mandate.mandate_id}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["state"] == "revoked"


async def test_access_managers_name_agents(
    api: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    citizen = await create_person(conn)
    organisation = await create_organisation(conn)
    manager = await create_access_manager(conn, organisation)
    agent = await create_agent(conn, organisation)
    outsider = await create_person(conn)
    mandate = await create_mandate(conn, citizen, organisation=organisation, accepted_by=manager)
    await sign_in(api, conn, settings, agent)
    assert (await api.get(f"/api/v1/mandates/organisations/{organisation.org_id}")).status_code == 403
    named = await api.post(f"/api/v1/mandates/{mandate.mandate_id}/agents", json={"agent_id": str(agent.person_id)})
    assert named.status_code == 404  # an agent is no party to manage the mandate
    await sign_in(api, conn, settings, manager)
    listed = (await api.get(f"/api/v1/mandates/organisations/{organisation.org_id}")).json()
    assert [m["mandate_id"] for m in listed] == [str(mandate.mandate_id)]
    path = f"/api/v1/mandates/{mandate.mandate_id}/agents"
    assert (await api.post(path, json={"agent_id": str(agent.person_id)})).json() == {"changed": True}
    assert (await api.post(path, json={"agent_id": str(agent.person_id)})).json() == {"changed": False}
    stranger = await api.post(path, json={"agent_id": str(outsider.person_id)})
    assert stranger.status_code == 422
    assert stranger.json()["errors"][0]["field"] == "agent_id"
    assert (await api.delete(f"{path}/{agent.person_id}")).json() == {"changed": True}
    all_clients = f"/api/v1/mandates/organisations/{organisation.org_id}/agents"
    assert (await api.post(all_clients, json={"agent_id": str(agent.person_id)})).json() == {"changed": True}
    assert (await api.delete(f"{all_clients}/{agent.person_id}")).json() == {"changed": True}


async def test_mandates_cannot_be_managed_while_acting_for_someone(
    api: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    citizen = await create_person(conn)
    helper = await create_person(conn)
    await create_mandate(conn, citizen, helper=helper)
    session_id = await sign_in(api, conn, settings, helper)
    await sessions.update_acting_context(conn, session_id, acting_for=citizen.person_id, acting_org=None)
    response = await api.get("/api/v1/mandates")
    assert response.status_code == 403
    assert response.json()["type"] == "urn:vitrine:problem:mandates-acting-for-someone"


def test_codes_shown_by_the_api_use_the_alphabet() -> None:
    assert set("ABCDEFGHIJKLMNOPQRSTUVWXYZ23456789") - set(codes.ALPHABET) == set("AEILOUY")
