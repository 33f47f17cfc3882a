"""The reading contexts of the mandate tests: who looks at the mother's records, and under what mandate.

Each context is built through the real services (invitations, acceptance, ending, agents); the mother's file is
declared through the real ingest (tests.backend.records.citizen_data).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from backend.core.auth.actors import SignedIn
from backend.core.identity.schemas import Person
from consent.agents import assign_agent
from consent.ending import end_mandate
from tests.factories import (
    create_access_manager,
    create_agent,
    create_mandate,
    create_organisation,
    create_person,
    invite_helper,
    signed_in,
)

WAGES: tuple[tuple[str, str], ...] = (("work_and_wages", "read"),)
WAGES_AND_CORRECTIONS: tuple[tuple[str, str], ...] = (("work_and_wages", "read"), ("corrections", "act"))
POSTING: tuple[tuple[str, str], ...] = (("posting", "read"),)
WAGES_CATEGORIES = ["dimona", "dmfa", "flexi_wages"]
EVERY_CATEGORY = ["identity", "dimona", "dmfa", "flexi_wages", "limosa", "a1", "drs"]


@dataclass(frozen=True)
class Reader:
    """Who reads the mother's records (`user`), and the mandate that is theirs, if any."""

    user: SignedIn
    person: Person
    mandate_id: UUID | None
    org_id: UUID | None = None
    pseudonym: str | None = None


async def _helper(conn: asyncpg.Connection, mother: Person, themes: tuple[tuple[str, str], ...]) -> Reader:
    helper = await create_person(conn, given_name="Jan", family_name="Peeters", language="en")
    mandate = await create_mandate(conn, mother, helper=helper, themes=themes)
    return Reader(user=await signed_in(conn, helper, acting_for=mother), person=helper, mandate_id=mandate.mandate_id)


async def myself(conn: asyncpg.Connection, mother: Person) -> Reader:
    """The mother herself."""
    return Reader(user=await signed_in(conn, mother), person=mother, mandate_id=None)


async def helper_reading(conn: asyncpg.Connection, mother: Person) -> Reader:
    """A helper with "Work and wages" given as READ."""
    return await _helper(conn, mother, WAGES)


async def helper_acting(conn: asyncpg.Connection, mother: Person) -> Reader:
    """A helper with "Work and wages" (READ) and "Reporting errors" given as ACT."""
    return await _helper(conn, mother, WAGES_AND_CORRECTIONS)


async def helper_other_themes(conn: asyncpg.Connection, mother: Person) -> Reader:
    """A helper whose mandate covers "Posting" only."""
    return await _helper(conn, mother, POSTING)


async def helper_revoked(conn: asyncpg.Connection, mother: Person) -> Reader:
    """A helper whose "Work and wages" mandate the mother ended."""
    reader = await _helper(conn, mother, WAGES)
    assert reader.mandate_id is not None
    await end_mandate(conn, await signed_in(conn, mother), reader.mandate_id)
    return reader


async def helper_expired(conn: asyncpg.Connection, mother: Person) -> Reader:
    """A helper whose one-day mandate, accepted three days ago, has expired."""
    helper = await create_person(conn, given_name="Jan", family_name="Peeters", language="en")
    mandate = await create_mandate(
        conn, mother, helper=helper, themes=WAGES, duration="1_day", now=datetime.now(UTC) - timedelta(days=3)
    )
    return Reader(user=await signed_in(conn, helper, acting_for=mother), person=helper, mandate_id=mandate.mandate_id)


async def helper_pending(conn: asyncpg.Connection, mother: Person) -> Reader:
    """A helper invited but who has not accepted yet."""
    helper = await create_person(conn, given_name="Jan", family_name="Peeters", language="en")
    invitation = await invite_helper(conn, mother, helper=helper, themes=WAGES)
    return Reader(
        user=await signed_in(conn, helper, acting_for=mother),
        person=helper,
        mandate_id=invitation.mandate.mandate_id,
    )


async def _organisation_agent(conn: asyncpg.Connection, mother: Person, *, assigned: bool) -> Reader:
    organisation = await create_organisation(conn)
    manager = await create_access_manager(conn, organisation)
    mandate = await create_mandate(conn, mother, organisation=organisation, accepted_by=manager, themes=WAGES)
    agent = await create_agent(conn, organisation, language="en")
    if assigned:
        assert await assign_agent(conn, await signed_in(conn, manager), mandate.mandate_id, agent.person_id)
    user = await signed_in(conn, agent, acting_org=organisation.org_id, acting_for=mother)
    membership = user.membership(organisation.org_id)
    assert membership is not None
    return Reader(
        user=user,
        person=agent,
        mandate_id=mandate.mandate_id,
        org_id=organisation.org_id,
        pseudonym=membership.pseudonym,
    )


async def agent_assigned(conn: asyncpg.Connection, mother: Person) -> Reader:
    """An agent of an organisation holding a "Work and wages" mandate, named for it."""
    return await _organisation_agent(conn, mother, assigned=True)


async def agent_not_assigned(conn: asyncpg.Connection, mother: Person) -> Reader:
    """An agent of that organisation whom it has not named for the mandate."""
    return await _organisation_agent(conn, mother, assigned=False)


async def no_mandate(conn: asyncpg.Connection, mother: Person) -> Reader:
    """A citizen the mother never gave a mandate to."""
    stranger = await create_person(conn, language="en")
    return Reader(user=await signed_in(conn, stranger, acting_for=mother), person=stranger, mandate_id=None)


@dataclass(frozen=True)
class LogRow:
    """An access-log event of the mother's, as the tests compare it."""

    actor_kind: str
    actor_org_id: UUID | None
    actor_ref: str | None
    mandate_id: UUID | None
    categories: list[str]
    record_refs: list[str]
    channel: str
    action: str
    outcome: str
    reason: str | None
    case_ref: str | None


async def log_rows(conn: asyncpg.Connection, person: Person) -> list[LogRow]:
    """The person's access-log events, in order."""
    rows = await conn.fetch(
        """
        SELECT actor_kind, actor_org_id, actor_ref, mandate_id, categories, record_refs, channel, action, outcome,
               reason, case_ref
        FROM access_events WHERE citizen_id = $1 ORDER BY seq
        """,
        person.person_id,
    )
    return [LogRow(**dict(row)) for row in rows]


async def record_ids(conn: asyncpg.Connection, person: Person, category: str) -> list[str]:
    """The ids of the person's records of a category that count now."""
    rows: list[Any] = await conn.fetch(
        "SELECT record_id FROM records WHERE citizen_id = $1 AND category = $2 AND status = 'active'",
        person.person_id,
        category,
    )
    return sorted(str(row["record_id"]) for row in rows)
