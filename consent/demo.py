"""Demo mandates: Jean Dubois has given the CPAS of Liège a mandate, and its access manager has named the CPAS
social worker for it, so that the demo agent has a client to act for.

Made through the real services (the citizen's invitation, the access manager's acceptance and naming), and
idempotent: while the mandate is pending or active and the agent named, a second run adds nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Final

import asyncpg

from backend.core.auth.actors import SignedIn
from backend.core.identity import queries as identity_queries
from backend.core.identity.demo import ORGANISATIONS, PERSONAS
from backend.core.identity.schemas import Person
from consent import agents, invitations, mandate_queries, service
from consent.schemas import MandateInvite, ThemeChoice

CLIENT: Final = "jean"
ORGANISATION: Final = "cpas_liege"
MANAGER: Final = "isabelle"
AGENT: Final = "nathalie"
# What a CPAS needs to help with social assistance: work and wages, and the social-risk declarations.
THEMES: Final = (
    ThemeChoice(code="work_and_wages", access="read"),
    ThemeChoice(code="benefits_and_risks", access="read"),
)


async def _person(conn: asyncpg.Connection, key: str) -> Person | None:
    persona = next(p for p in PERSONAS if p.key == key)
    return await identity_queries.select_person_by_insz(conn, persona.insz)


async def _as(conn: asyncpg.Connection, person: Person) -> SignedIn:
    """The person as the services see a signed-in person (no browser session: nothing is read from one)."""
    memberships = tuple(await identity_queries.select_memberships(conn, person.person_id))
    return SignedIn(
        person=person, session_id=uuid.uuid4(), memberships=memberships, staff=None, acting_for=None, acting_org=None
    )


async def seed_agent_clients(conn: asyncpg.Connection, *, now: datetime | None = None) -> int:
    """Give the demo CPAS a mandate from the demo client and name its agent for it, when missing; rows added."""
    at = now or datetime.now(UTC)
    kbo = next(o.kbo for o in ORGANISATIONS if o.key == ORGANISATION)
    organisation = await identity_queries.select_organisation_by_kbo(conn, kbo)
    client, manager, agent = [await _person(conn, key) for key in (CLIENT, MANAGER, AGENT)]
    if organisation is None or client is None or manager is None or agent is None:
        return 0  # the identity seeder has not run
    as_manager = await _as(conn, manager)
    held = await mandate_queries.select_mandates_of_organisation(conn, organisation.org_id, at)
    open_one = next(
        (row for row in held if row.citizen_id == client.person_id and row.state in ("pending", "active")), None
    )
    added = 0
    if open_one is None:
        text = await service.current_legal_text(conn, client.language, now=at)
        invitation = await service.invite(
            conn,
            await _as(conn, client),
            MandateInvite(
                themes=list(THEMES),
                duration="1_year",
                legal_text_version=text.version,
                legal_text_language=text.language,
                legal_text_sha256=text.sha256,
                mandatary_kbo=kbo,
            ),
            now=at,
        )
        mandate = await invitations.accept_invitation(conn, as_manager, invitation.code, now=at)
        mandate_id, added = mandate.mandate_id, 1
    elif open_one.state == "pending":
        return 0  # someone is answering the invitation in the demo: leave it to them
    else:
        mandate_id = open_one.mandate_id
    if await agents.assign_agent(conn, as_manager, mandate_id, agent.person_id, now=at):
        added += 1
    return added
