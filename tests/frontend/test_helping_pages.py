"""The helper's and the organisation's mandate pages in process: People I help (accept or decline with a code,
act for someone, end), and Clients and agents (name agents for one client or for all)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

import asyncpg
import httpx
import pytest
from litestar import Litestar

from backend.access_log.queries import select_chain
from backend.core.settings import Settings
from consent import ending
from tests.catalog import t
from tests.conftest import in_process_client
from tests.factories import (
    create_access_manager,
    create_agent,
    create_mandate,
    create_organisation,
    create_person,
    invite_helper,
    sign_in_client,
    signed_in,
)
from tests.frontend.mandate_pages import post_form, summary_errors


@pytest.fixture
async def pages(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of the real app with the mandate pages."""
    async with in_process_client(app) as client:
        yield client


async def test_a_helper_accepts_with_the_code_acts_and_is_dropped_when_the_mandate_ends(
    pages: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    citizen = await create_person(conn, given_name="Sofie", family_name="Peeters")
    helper = await create_person(conn, given_name="Pieter", family_name="Janssens")
    invitation = await invite_helper(conn, citizen, helper=helper)
    await sign_in_client(pages, conn, settings.secret_key, helper)

    wrong = await post_form(pages, "/helping/accept", {"code": "BCDF-GHJK-MNPQ"}, token_page="/helping/accept")
    assert wrong.status_code == 422
    assert [field for field, _message in summary_errors(wrong.text)] == ["code"]

    typed = invitation.code.lower().replace("-", " ")
    preview = await post_form(pages, "/helping/accept", {"code": typed}, token_page="/helping/accept")
    assert preview.status_code == 200, preview.text
    assert "Sofie Peeters" in preview.text
    assert "Werk en loon" in preview.text, "the theme in the helper's language"

    accepted = await post_form(pages, "/helping/accept/answer", {"code": typed, "accept": "1"}, token_page="/helping")
    assert accepted.status_code == 303
    assert accepted.headers["location"] == "/helping?done=accepted"
    listed = await pages.get("/helping")
    assert t("nl", "Act for this person") in listed.text, "the page is in the helper's language (nl)"

    acted = await post_form(pages, "/helping/act", {"citizen_id": str(citizen.person_id)}, token_page="/helping")
    assert acted.status_code == 303
    overview = await pages.get("/my")
    assert 'class="acting-banner"' in overview.text
    # A mandate given to the helper personally: the banner names whom they act for, and no organisation.
    banner = overview.text.partition('class="acting-banner__text">')[2].partition("</p>")[0]
    assert banner.strip() == t("nl", "You are acting for %(name)s.") % {"name": "Sofie Peeters"}

    # The citizen ends the mandate (here through the service, in the same transaction as the helper's session).
    await ending.end_mandate(conn, await signed_in(conn, citizen), invitation.mandate.mandate_id)
    again = await pages.get("/my")
    assert 'class="acting-banner"' not in again.text, "the very next request no longer acts for her"


async def test_acting_without_an_active_mandate_is_refused_and_logged(
    pages: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    citizen = await create_person(conn)
    helper = await create_person(conn, language="en")
    await sign_in_client(pages, conn, settings.secret_key, helper)

    refused = await post_form(pages, "/helping/act", {"citizen_id": str(citizen.person_id)}, token_page="/helping")

    assert refused.status_code == 403
    assert "You cannot act for this person" in refused.text
    chain = await select_chain(conn, citizen.person_id)
    assert [(e.actor_kind, e.outcome, e.reason, e.actor_ref) for e in chain] == [
        ("helper", "denied", "no mandate was given for this", str(helper.person_id))
    ]
    assert 'class="acting-banner"' not in (await pages.get("/my")).text
    # An id that names nobody: the same refusal, nothing logged anywhere.
    unknown = await post_form(pages, "/helping/act", {"citizen_id": str(UUID(int=7))}, token_page="/helping")
    assert unknown.status_code == 403


async def test_a_helper_declines_an_invitation_with_a_reason(
    pages: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    citizen = await create_person(conn)
    helper = await create_person(conn)
    invitation = await invite_helper(conn, citizen, helper=helper)
    await sign_in_client(pages, conn, settings.secret_key, helper)

    declined = await post_form(
        pages, "/helping/accept/answer", {"code": invitation.code, "decline": "1", "reason": "Too busy"}, "/helping"
    )

    assert declined.status_code == 303
    row = await conn.fetchrow(
        "SELECT mandate_state(m, clock_timestamp()) AS state, decline_reason FROM mandates AS m WHERE mandate_id = $1",
        invitation.mandate.mandate_id,
    )
    assert row is not None
    assert (row["state"], row["decline_reason"]) == ("declined", "Too busy")


async def test_a_helper_ends_a_mandate_from_their_side(
    pages: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    citizen = await create_person(conn, given_name="Els")
    helper = await create_person(conn)
    mandate = await create_mandate(conn, citizen, helper=helper)
    await sign_in_client(pages, conn, settings.secret_key, helper)

    confirm = await pages.get(f"/helping/{mandate.mandate_id}/end")
    assert confirm.status_code == 200
    ended = await post_form(pages, f"/helping/{mandate.mandate_id}/end", {"reason": ""}, token_page="/helping")

    assert ended.status_code == 303
    assert (
        await conn.fetchval("SELECT revoked_by_side FROM mandates WHERE mandate_id = $1", mandate.mandate_id)
        == "mandatary"
    )


async def test_an_access_manager_names_agents_for_one_client_and_for_all(
    pages: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    organisation = await create_organisation(conn, name_nl="OCMW Brugge")
    manager = await create_access_manager(conn, organisation, given_name="Ann", family_name="Manager", language="en")
    agent = await create_agent(conn, organisation, given_name="Bart", family_name="Agent")
    citizen = await create_person(conn, given_name="Carla", family_name="Client")
    mandate = await create_mandate(conn, citizen, organisation=organisation, accepted_by=manager)
    await sign_in_client(pages, conn, settings.secret_key, manager)

    listed = await pages.get("/organisation/clients")
    assert listed.status_code == 200, listed.text
    assert "Carla Client" in listed.text
    assert "Bart Agent" in listed.text
    org = {"org_id": str(organisation.org_id), "agent_id": str(agent.person_id)}

    path = f"/organisation/clients/mandates/{mandate.mandate_id}/agents"
    assigned = await post_form(pages, path, org, token_page="/organisation/clients")
    assert assigned.status_code == 303
    assert "done=assigned" in assigned.headers["location"]
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM mandate_agent_assignments WHERE mandate_id = $1 AND removed_at IS NULL",
            mandate.mandate_id,
        )
        == 1
    )
    page_after = await pages.get(assigned.headers["location"])
    assert "The agent may now use this mandate." in page_after.text
    removed = await post_form(pages, f"{path}/remove", org, token_page="/organisation/clients")
    assert removed.status_code == 303
    assert "done=unassigned" in removed.headers["location"]

    everyone = await post_form(pages, "/organisation/clients/agents", org, token_page="/organisation/clients")
    assert "done=assigned-all" in everyone.headers["location"]
    again = await post_form(pages, "/organisation/clients/agents", org, token_page="/organisation/clients")
    assert "done=unchanged" in again.headers["location"]
    withdrawn = await post_form(pages, "/organisation/clients/agents/remove", org, token_page="/organisation/clients")
    assert "done=unassigned-all" in withdrawn.headers["location"]

    other = await create_organisation(conn)
    foreign = await post_form(
        pages, "/organisation/clients/agents", {**org, "org_id": str(other.org_id)}, "/organisation/clients"
    )
    assert foreign.status_code == 422


async def test_clients_and_agents_is_for_access_managers_only(
    pages: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    organisation = await create_organisation(conn)
    agent = await create_agent(conn, organisation)
    await sign_in_client(pages, conn, settings.secret_key, agent)

    assert (await pages.get("/organisation/clients")).status_code == 403


async def test_a_manager_of_several_organisations_chooses_one(
    pages: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    from backend.core.identity import service as identity_service
    from tests.factories import TEST_SECRET

    first = await create_organisation(conn, name_nl="OCMW Aalst")
    second = await create_organisation(conn, name_nl="Vakbond Aalst")
    manager = await create_access_manager(conn, first)
    await identity_service.add_member(
        conn, org_id=second.org_id, person_id=manager.person_id, role="access_manager", secret=TEST_SECRET
    )
    await sign_in_client(pages, conn, settings.secret_key, manager)

    chooser = await pages.get("/organisation/clients")
    assert chooser.status_code == 200
    assert f'href="/organisation/clients?org={first.org_id}"' in chooser.text
    assert f'href="/organisation/clients?org={second.org_id}"' in chooser.text
    chosen = await pages.get(f"/organisation/clients?org={second.org_id}")
    assert "Vakbond Aalst" in chosen.text
    assert 'id="assign-all"' in chosen.text
