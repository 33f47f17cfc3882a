"""The authorisation matrix of decide(): who may read or act on which data of a citizen, now, and the log of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import msgspec
import pytest

from backend.access_log.queries import select_chain
from backend.core.auth.actors import Actor
from backend.core.identity.schemas import Organisation, Person
from consent import ending, invitations
from consent.decision import REASON_TEXTS, decide, decide_and_log, refusal_response
from consent.schemas import Decision
from tests.factories import (
    create_access_manager,
    create_agent,
    create_mandate,
    create_organisation,
    create_person,
    invite_helper,
    signed_in,
)


@dataclass
class World:
    """A citizen and everyone who might act for them, each in a different situation."""

    citizen: Person
    people: dict[str, Person]
    organisation: Organisation
    other_organisation: Organisation
    mandates: dict[str, UUID]


@pytest.fixture
async def world(conn: asyncpg.Connection) -> World:
    citizen = await create_person(conn, given_name="Els", family_name="Claes")
    people = {name: await create_person(conn, given_name=name.title()) for name in ("other", "reader", "actor")}
    people |= {name: await create_person(conn) for name in ("revoked", "partly", "expired", "pending")}
    mandates: dict[str, UUID] = {}
    reader = await create_mandate(
        conn, citizen, helper=people["reader"], themes=(("work_and_wages", "read"), ("messages", "read"))
    )
    mandates["reader"] = reader.mandate_id
    actor = await create_mandate(conn, citizen, helper=people["actor"], themes=(("messages", "act"),))
    mandates["actor"] = actor.mandate_id
    revoked = await create_mandate(conn, citizen, helper=people["revoked"])
    await ending.end_mandate(conn, await signed_in(conn, citizen), revoked.mandate_id)
    partly = await create_mandate(
        conn, citizen, helper=people["partly"], themes=(("work_and_wages", "read"), ("posting", "read"))
    )
    await ending.end_theme(conn, await signed_in(conn, citizen), partly.mandate_id, "posting")
    # A one-day mandate accepted three days ago.
    await create_mandate(
        conn, citizen, helper=people["expired"], duration="1_day", now=datetime.now(UTC) - timedelta(days=3)
    )
    await invite_helper(conn, citizen, helper=people["pending"])

    organisation = await create_organisation(conn)
    other_organisation = await create_organisation(conn, name_nl="Vakbond")
    manager = await create_access_manager(conn, organisation)
    people["manager"] = manager
    for name in ("assigned", "unassigned", "all_clients"):
        people[name] = await create_agent(conn, organisation)
    people["outsider"] = await create_agent(conn, other_organisation)
    held = await create_mandate(conn, citizen, organisation=organisation, accepted_by=manager)
    mandates["organisation"] = held.mandate_id
    from consent.agents import assign_agent, assign_agent_to_all_clients

    manager_session = await signed_in(conn, manager)
    await assign_agent(conn, manager_session, held.mandate_id, people["assigned"].person_id)
    await assign_agent_to_all_clients(conn, manager_session, organisation.org_id, people["all_clients"].person_id)
    return World(citizen, people, organisation, other_organisation, mandates)


async def _actor(conn: asyncpg.Connection, world: World, who: str) -> Any:
    """`who`, or `who@org` / `who@other` for a person acting as (their) organisation."""
    name, _, context = who.partition("@")
    person = world.citizen if name == "citizen" else world.people[name]
    if context == "org":
        return await signed_in(conn, person, acting_org=world.organisation.org_id)
    if context == "other":
        return await signed_in(conn, person, acting_org=world.other_organisation.org_id)
    return await signed_in(conn, person)


# (who, action, category, allowed, reason)
MATRIX = [
    ("citizen", "read", "dimona", True, "own_data"),
    ("citizen", "act", "report_error", True, "own_data"),
    ("other", "read", "dimona", False, "no_mandate"),
    ("reader", "read", "dimona", True, "mandate"),
    ("reader", "read", "flexi_wages", True, "mandate"),
    ("reader", "read", "limosa", False, "theme_not_granted"),
    ("reader", "read", "notification_settings", True, "mandate"),
    ("reader", "act", "change_notification_settings", False, "read_only"),
    ("reader", "act", "report_error", False, "theme_not_granted"),
    ("actor", "act", "change_notification_settings", True, "mandate"),
    ("actor", "read", "notification_settings", True, "mandate"),
    ("actor", "read", "dimona", False, "theme_not_granted"),
    ("revoked", "read", "dimona", False, "mandate_revoked"),
    ("partly", "read", "dimona", True, "mandate"),
    ("partly", "read", "a1", False, "theme_revoked"),
    ("expired", "read", "dimona", False, "mandate_expired"),
    ("pending", "read", "dimona", False, "mandate_pending"),
    ("assigned@org", "read", "dimona", True, "mandate"),
    ("all_clients@org", "read", "dmfa", True, "mandate"),
    ("assigned@org", "read", "drs", False, "theme_not_granted"),
    ("unassigned@org", "read", "dimona", False, "agent_not_assigned"),
    ("manager@org", "read", "dimona", False, "agent_not_assigned"),
    ("assigned", "read", "dimona", False, "not_acting_as_organisation"),
    ("outsider@other", "read", "dimona", False, "no_mandate"),
]


@pytest.mark.parametrize(
    ("who", "action", "category", "allowed", "reason"), MATRIX, ids=[f"{m[0]}-{m[1]}-{m[2]}" for m in MATRIX]
)
async def test_the_authorisation_matrix(
    conn: asyncpg.Connection, world: World, who: str, action: Any, category: str, allowed: bool, reason: str
) -> None:
    actor = await _actor(conn, world, who)
    before = await select_chain(conn, world.citizen.person_id)
    decision = await decide_and_log(
        conn, actor=actor, subject_id=world.citizen.person_id, action=action, category=category, channel="web"
    )
    assert (decision.allowed, decision.reason) == (allowed, reason)
    chain = await select_chain(conn, world.citizen.person_id)
    if reason == "own_data" or (allowed and action == "act"):
        assert chain == before  # nothing logged: own data, or an allowed change the caller logs with the change
        return
    assert len(chain) == len(before) + 1
    event = chain[-1]
    assert event.outcome == ("granted" if allowed else "denied")
    assert event.reason == (None if allowed else REASON_TEXTS[decision.reason])
    assert event.categories == [category]
    assert event.action == ("read" if action == "read" else "change")
    assert event.channel == "web"
    assert event.mandate_id == decision.mandate_id
    if "@" in who:
        assert (event.actor_kind, event.actor_org_id) == ("agent", actor.acting_org)
        assert event.actor_ref is not None
        assert event.actor_ref.startswith("ORG-")
    else:
        assert (event.actor_kind, event.actor_ref) == ("helper", str(actor.person.person_id))
    if allowed:
        assert decision.mandate_id is not None
        assert decision.themes


async def test_a_refusal_leaks_nothing_about_other_mandates(conn: asyncpg.Connection, world: World) -> None:
    stranger = await _actor(conn, world, "other")
    decision = await decide(conn, actor=stranger, subject_id=world.citizen.person_id, action="read", category="dimona")
    assert decision == Decision(allowed=False, reason="no_mandate", mandate_id=None, themes=())
    # Every refusal answers the same words, whatever the reason.
    bodies = {
        msgspec.json.decode(refusal_response(Decision(allowed=False, reason=reason)).content)["detail"]
        for reason in ("no_mandate", "theme_revoked", "agent_not_assigned")
    }
    assert len(bodies) == 1
    response = refusal_response(decision)
    assert response.status_code == 403
    # No national number anywhere in what was logged about the helpers.
    chain_text = repr(await select_chain(conn, world.citizen.person_id))
    insz_values = await conn.fetch("SELECT insz FROM person_identifiers")
    assert not any(row["insz"] in chain_text for row in insz_values)


async def test_an_unknown_subject_is_refused_without_a_log_or_an_error(conn: asyncpg.Connection, world: World) -> None:
    reader = await _actor(conn, world, "reader")
    decision = await decide_and_log(
        conn, actor=reader, subject_id=uuid4(), action="read", category="dimona", channel="api"
    )
    assert (decision.allowed, decision.reason) == (False, "no_mandate")


async def test_nothing_is_cached_an_end_counts_at_once(conn: asyncpg.Connection, world: World) -> None:
    reader = await _actor(conn, world, "reader")
    ask = {"actor": reader, "subject_id": world.citizen.person_id, "action": "read", "category": "dimona"}
    assert (await decide(conn, **ask)).allowed
    await ending.end_mandate(conn, await signed_in(conn, world.citizen), world.mandates["reader"])
    assert (await decide(conn, **ask)).reason == "mandate_revoked"


async def test_expiry_needs_no_sweep(conn: asyncpg.Connection, world: World) -> None:
    reader = await _actor(conn, world, "reader")
    later = datetime.now(UTC) + timedelta(days=366)
    ask = {"actor": reader, "subject_id": world.citizen.person_id, "action": "read", "category": "dimona"}
    assert (await decide(conn, **ask)).allowed
    assert (await decide(conn, **ask, now=later)).reason == "mandate_expired"


async def test_a_plain_actor_works_like_a_session(conn: asyncpg.Connection, world: World) -> None:
    """Jobs pass an Actor, not a SignedIn: an agent without its organisation is refused like anyone else."""
    agent = world.people["assigned"]
    as_job = Actor(kind="agent", person_id=agent.person_id, org_id=world.organisation.org_id)
    decision = await decide(conn, actor=as_job, subject_id=world.citizen.person_id, action="read", category="dimona")
    assert decision.allowed
    assert decision.mandate_id == world.mandates["organisation"]
    institution = Actor(kind="institution", org_id=world.organisation.org_id, client_id="x")
    refused = await decide(
        conn, actor=institution, subject_id=world.citizen.person_id, action="read", category="dimona"
    )
    assert refused.reason == "not_a_mandatary"
    # An agent who left the organisation loses its mandates at once, even if still named.
    await conn.execute("UPDATE organisation_members SET active = false WHERE person_id = $1", agent.person_id)
    gone = await decide(conn, actor=as_job, subject_id=world.citizen.person_id, action="read", category="dimona")
    assert gone.reason == "agent_not_member"


async def test_a_pending_organisation_invitation_allows_nothing(conn: asyncpg.Connection, world: World) -> None:
    created = await invite_helper(conn, world.citizen, organisation=world.other_organisation)
    outsider = await _actor(conn, world, "outsider@other")
    decision = await decide(conn, actor=outsider, subject_id=world.citizen.person_id, action="read", category="dimona")
    assert decision.reason == "mandate_pending"
    manager = await create_access_manager(conn, world.other_organisation)
    await invitations.accept_invitation(conn, await signed_in(conn, manager), created.code)
    still = await decide(conn, actor=outsider, subject_id=world.citizen.person_id, action="read", category="dimona")
    assert still.reason == "agent_not_assigned"
