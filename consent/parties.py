"""Who is who in a mandate: the citizen, the mandatary (a person, or an organisation's access managers)."""

from __future__ import annotations

from datetime import datetime
from typing import Final
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from backend.core.auth.actors import SignedIn
from backend.core.errors import Problem
from backend.core.i18n import _
from consent import agent_queries, mandate_queries
from consent.mandate_queries import MandateRow
from consent.schemas import Side

BRUSSELS: Final = ZoneInfo("Europe/Brussels")


def acting_for_self(user: SignedIn) -> SignedIn:
    """The signed-in person, refused while they act for someone else: nobody gives mandates for another."""
    if user.acting_for_someone:
        raise Problem(
            403,
            _("While you act for someone else you cannot manage mandates. Switch back to yourself first."),
            kind="mandates-acting-for-someone",
        )
    return user


async def is_access_manager(conn: asyncpg.Connection, org_id: UUID, person_id: UUID) -> bool:
    """True for an active access manager of the organisation (read from the database, not the session)."""
    return any(m.role == "access_manager" for m in await agent_queries.select_member_roles(conn, org_id, person_id))


async def side_of(conn: asyncpg.Connection, user: SignedIn, row: MandateRow) -> Side | None:
    """Which side of the mandate the signed-in person stands on, if any."""
    me = user.person.person_id
    if row.citizen_id == me and not user.acting_for_someone:
        return "citizen"
    if row.mandatary_person_id == me:
        return "mandatary"
    if row.mandatary_org_id is not None and await is_access_manager(conn, row.mandatary_org_id, me):
        return "mandatary"
    return None


def no_such_mandate() -> Problem:
    """The one answer for a mandate that does not exist and for one that is not yours."""
    return Problem(404, _("There is no such mandate among yours."), kind="mandate-not-found")


async def mandate_of_party(
    conn: asyncpg.Connection, user: SignedIn, mandate_id: UUID, at: datetime
) -> tuple[MandateRow, Side]:
    """A mandate the signed-in person is a party to, and their side; 404 otherwise."""
    row = await mandate_queries.select_mandate(conn, mandate_id, at)
    side = None if row is None else await side_of(conn, user, row)
    if row is None or side is None:
        raise no_such_mandate()
    return row, side
