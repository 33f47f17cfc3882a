"""An organisation's agent through the real app and real sessions: "My clients", acting for a client named to
them, reading a covered category on /my-data under the organisation's mandate, and the naming's withdrawal felt
on the very next request."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from litestar import Litestar

from backend.core.identity import queries as identity_queries
from backend.core.settings import Settings
from consent import agents
from tests.backend.records.citizen_data import make_citizen_file
from tests.backend.records.helper_contexts import WAGES, log_rows
from tests.backend.records.institutions import make_institution
from tests.conftest import in_process_client
from tests.factories import (
    create_access_manager,
    create_agent,
    create_mandate,
    create_organisation,
    create_person,
    sign_in_client,
    signed_in,
)
from tests.frontend.mandate_pages import post_form

# The banner while acting for someone (working for the organisation alone shows a banner of its own).
ACTING = "You are acting for"


def _banner(html: str) -> str:
    """The acting banner of a page (empty when there is none)."""
    return html.partition('class="acting-banner__text">')[2].partition("</p>")[0]


@pytest.fixture
async def pages(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of the real app."""
    async with in_process_client(app) as client:
        yield client


async def test_an_agent_acts_for_a_named_client_reads_under_the_mandate_and_is_dropped_once_withdrawn(
    pages: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    onss = await make_institution(conn, "ONSS")
    mother = (await make_citizen_file(conn, onss, given_name="Maria", family_name="Janssens")).person
    hidden = await create_person(conn, given_name="Hidde", family_name="Verborgen")
    organisation = await create_organisation(conn)
    manager = await create_access_manager(conn, organisation)
    agent = await create_agent(conn, organisation, given_name="Els", family_name="Agent", language="en")
    named = await create_mandate(conn, mother, organisation=organisation, accepted_by=manager, themes=WAGES)
    await create_mandate(conn, hidden, organisation=organisation, accepted_by=manager, themes=WAGES)
    as_manager = await signed_in(conn, manager)
    assert await agents.assign_agent(conn, as_manager, named.mandate_id, agent.person_id)
    [membership] = await identity_queries.select_memberships(conn, agent.person_id)
    await sign_in_client(pages, conn, settings.secret_key, agent)

    # Working for oneself, the list is not there: the page says how to work as the organisation's agent.
    alone = await pages.get("/organisation/my-clients")
    assert alone.status_code == 200
    assert "You are working for yourself now." in alone.text
    chosen = await post_form(pages, "/acting-context", {"choice": f"org:{organisation.org_id}"}, token_page="/my")
    assert chosen.status_code == 303

    listed = await pages.get("/organisation/my-clients")
    assert listed.status_code == 200
    assert "Maria Janssens" in listed.text
    assert "Work and wages" in listed.text
    assert "Hidde" not in listed.text, "nothing about a client the agent is not named for"
    assert str(hidden.person_id) not in listed.text

    # A client the agent is not named for: 403, and a denied event in that person's log under the pseudonym.
    refused = await post_form(
        pages, "/helping/act", {"citizen_id": str(hidden.person_id)}, token_page="/organisation/my-clients"
    )
    assert refused.status_code == 403
    assert "Your organisation has not named you for this person" in refused.text
    [denied] = await log_rows(conn, hidden)
    assert (denied.actor_kind, denied.actor_org_id, denied.actor_ref, denied.outcome, denied.reason) == (
        "agent",
        organisation.org_id,
        membership.pseudonym,
        "denied",
        "the organisation has not named this agent for this mandate",
    )
    assert ACTING not in (await pages.get("/my")).text

    # The named client: acting starts, and a covered category is read under the organisation's mandate.
    acted = await post_form(
        pages, "/helping/act", {"citizen_id": str(mother.person_id)}, token_page="/organisation/my-clients"
    )
    assert acted.status_code == 303
    # The banner names the organisation the agent acts on behalf of, in the agent's language.
    banner = _banner((await pages.get("/my")).text)
    assert "You are acting for Maria Janssens on behalf of CPAS de Testville." in banner
    before = len(await log_rows(conn, mother))
    dimona = await pages.get("/my-data/dimona")
    assert dimona.status_code == 200
    [read] = (await log_rows(conn, mother))[before:]
    assert (read.actor_kind, read.actor_org_id, read.actor_ref, read.outcome, read.categories, read.mandate_id) == (
        "agent",
        organisation.org_id,
        membership.pseudonym,
        "granted",
        ["dimona"],
        named.mandate_id,
    )

    # The access manager withdraws the naming: the very next request no longer acts for her, reads nothing of hers.
    assert await agents.unassign_agent(conn, as_manager, named.mandate_id, agent.person_id)
    after = len(await log_rows(conn, mother))
    dropped = (await pages.get("/my-data/dimona")).text
    assert ACTING not in dropped
    assert "You are working for CPAS de Testville." in dropped, "back to working for the organisation"
    assert len(await log_rows(conn, mother)) == after, "nothing of the client's was read"
    assert "Maria Janssens" not in (await pages.get("/organisation/my-clients")).text


async def test_my_clients_is_for_people_who_work_for_an_organisation(
    pages: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    await sign_in_client(pages, conn, settings.secret_key, await create_person(conn, language="en"))

    assert (await pages.get("/organisation/my-clients")).status_code == 403
