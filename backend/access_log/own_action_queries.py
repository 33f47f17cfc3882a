"""SQL for the accesses a person made themself, as a helper, an organisation's agent or a member of staff."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from backend.access_log.event_rows import log_row
from backend.access_log.view_queries import LogRow


async def select_own_actions(
    conn: asyncpg.Connection, person_id: UUID, *, before: tuple[datetime, UUID] | None, limit: int
) -> list[tuple[LogRow, str, str]]:
    """Events this person made, across citizens, newest first, below a keyset cursor (occurred_at, event_id);
    each with the given and family name of the person whose data it was.

    A helper is logged by their person id; an agent by the pseudonym of their membership of that organisation;
    a member of staff by their staff pseudonym (former memberships included: they are still their own acts).
    """
    rows = await conn.fetch(
        """
        SELECT p.given_name AS citizen_given_name, p.family_name AS citizen_family_name,
               e.citizen_id, e.seq, e.event_id, e.occurred_at, e.logged_at, e.actor_kind, e.actor_org_id,
               e.actor_client_id, e.actor_system, e.actor_role, e.actor_ref, e.mandate_id, e.purpose_code,
               e.legal_basis_ref, e.categories, e.record_refs, e.case_ref, e.channel, e.action, e.outcome, e.reason,
               e.source, e.source_event_id, e.prev_hash, e.hash, o.org_id AS o_org_id, o.kbo AS o_kbo,
               o.kind AS o_kind, o.code AS o_code, o.name_nl AS o_name_nl, o.name_fr AS o_name_fr,
               o.name_de AS o_name_de
        FROM access_events AS e
        JOIN people AS p ON p.person_id = e.citizen_id
        LEFT JOIN organisations AS o ON o.org_id = e.actor_org_id
        WHERE e.actor_ref IS NOT NULL
          AND (
              (e.actor_kind = 'helper' AND e.actor_ref = $1::uuid::text)
              OR (e.actor_kind = 'agent' AND (e.actor_org_id, e.actor_ref) IN (
                  SELECT m.org_id, m.pseudonym FROM organisation_members AS m WHERE m.person_id = $1
              ))
              OR (e.actor_kind = 'staff' AND e.actor_ref IN (
                  SELECT s.pseudonym FROM staff_members AS s WHERE s.person_id = $1
              ))
          )
          AND ($2::timestamptz IS NULL OR (e.occurred_at, e.event_id) < ($2, $3::uuid))
        ORDER BY e.occurred_at DESC, e.event_id DESC
        LIMIT $4
        """,
        person_id,
        None if before is None else before[0],
        None if before is None else before[1],
        limit,
    )
    return [(log_row(row), str(row["citizen_given_name"]), str(row["citizen_family_name"])) for row in rows]


__all__ = ["select_own_actions"]
