"""Person statuses the flexi rule needs (pensioner, early retiree), and the demo's pensioner.

In production these come from the pension institutions; until that flow exists they are set by this service.
"""

from __future__ import annotations

from typing import Final
from uuid import UUID

import asyncpg

from backend.core.identity.demo import PERSONAS
from backend.core.identity.queries import select_person_by_insz
from notifications import preference_queries
from notifications.schemas import PersonStatus

# Demo personas and their status (DOMAIN.md: Jean is a pensioner with a flexi job, so no ceiling applies).
DEMO_STATUSES: Final[dict[str, PersonStatus]] = {"jean": PersonStatus(pensioner=True)}


async def person_status(conn: asyncpg.Connection, citizen_id: UUID) -> PersonStatus:
    """Whether the person is a pensioner or an early retiree (neither when unknown)."""
    return await preference_queries.select_person_status(conn, citizen_id)


async def set_person_status(conn: asyncpg.Connection, citizen_id: UUID, status: PersonStatus) -> bool:
    """Record a person's status; False when nothing changed."""
    return await preference_queries.upsert_person_status(conn, citizen_id, status)


async def seed_person_statuses(conn: asyncpg.Connection) -> int:
    """Demo seeder: the demo personas' statuses (Jean a pensioner); rows added or changed, 0 on a second run.

    Run it after the identity seeder and before the records seeder, so that Jean's flexi wages raise no warning.
    """
    changed = 0
    for persona in PERSONAS:
        status = DEMO_STATUSES.get(persona.key)
        if status is None:
            continue
        person = await select_person_by_insz(conn, persona.insz)
        if person is not None:
            changed += await set_person_status(conn, person.person_id, status)
    return changed
