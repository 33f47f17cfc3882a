"""SQL for the citizen's view of their access log: one typed function per statement, the connection first.

Each event comes with the organisation that acted and the purpose it gave, joined in the same statement, so a
page of fifty entries costs one round trip. Paging is by keyset on `seq` (never OFFSET), so the hundredth page is
as fast as the first.
"""

from __future__ import annotations

from datetime import date
from typing import Final
from uuid import UUID

import asyncpg
import msgspec

from backend.access_log.schemas import AccessEvent
from backend.core.identity.purposes import Purpose
from backend.core.identity.schemas import Organisation

# The purpose is joined whether or not it is still active: an access is explained by the purpose it was made
# for, even if the institution has since withdrawn it.
_SELECT_ROWS: Final = """
    SELECT e.citizen_id, e.seq, e.event_id, e.occurred_at, e.logged_at, e.actor_kind, e.actor_org_id,
           e.actor_client_id, e.actor_system, e.actor_role, e.actor_ref, e.mandate_id, e.purpose_code,
           e.legal_basis_ref, e.categories, e.record_refs, e.case_ref, e.channel, e.action, e.outcome, e.reason,
           e.source, e.source_event_id, e.prev_hash, e.hash,
           o.org_id AS o_org_id, o.kbo AS o_kbo, o.kind AS o_kind, o.code AS o_code, o.name_nl AS o_name_nl,
           o.name_fr AS o_name_fr, o.name_de AS o_name_de,
           p.org_id AS p_org_id, p.code AS p_code, p.categories AS p_categories, p.legal_basis_nl AS p_legal_basis_nl,
           p.legal_basis_fr AS p_legal_basis_fr, p.legal_basis_de AS p_legal_basis_de,
           p.legal_basis_en AS p_legal_basis_en, p.authorisation_ref AS p_authorisation_ref
    FROM access_events AS e
    LEFT JOIN organisations AS o ON o.org_id = e.actor_org_id
    LEFT JOIN purposes AS p ON p.org_id = e.actor_org_id AND p.code = e.purpose_code
"""


class LogRow(msgspec.Struct, frozen=True, kw_only=True):
    """One logged event with the organisation that acted and the registered purpose it named, when known."""

    event: AccessEvent
    organisation: Organisation | None
    purpose: Purpose | None


def _log_row(row: asyncpg.Record) -> LogRow:
    # Built field by field from the row's positions (the SELECT lists the event's columns in EVENT_COLUMNS order,
    # then the organisation's, then the purpose's): a page of the log is fifty of these, and going through a dict
    # and msgspec.convert per row cost as much as the query. The values are as stored, under the table's CHECKs.
    return LogRow(
        event=AccessEvent(
            citizen_id=row[0],
            seq=row[1],
            event_id=row[2],
            occurred_at=row[3],
            logged_at=row[4],
            actor_kind=row[5],
            actor_org_id=row[6],
            actor_client_id=row[7],
            actor_system=row[8],
            actor_role=row[9],
            actor_ref=row[10],
            mandate_id=row[11],
            purpose_code=row[12],
            legal_basis_ref=row[13],
            categories=row[14],
            record_refs=row[15],
            case_ref=row[16],
            channel=row[17],
            action=row[18],
            outcome=row[19],
            reason=row[20],
            source=row[21],
            source_event_id=row[22],
            prev_hash=row[23],
            hash=row[24],
        ),
        organisation=None
        if row[25] is None
        else Organisation(
            org_id=row[25], kbo=row[26], kind=row[27], code=row[28], name_nl=row[29], name_fr=row[30], name_de=row[31]
        ),
        purpose=None
        if row[32] is None
        else Purpose(
            org_id=row[32],
            code=row[33],
            categories=tuple(row[34]),
            legal_basis_nl=row[35],
            legal_basis_fr=row[36],
            legal_basis_de=row[37],
            legal_basis_en=row[38],
            authorisation_ref=row[39],
        ),
    )


async def select_log_rows(
    conn: asyncpg.Connection,
    citizen_id: UUID,
    *,
    before_seq: int | None,
    org_id: UUID | None,
    category: str | None,
    period_from: date | None,
    period_to: date | None,
    outcome: str | None,
    actor_kind: str | None,
    limit: int,
) -> list[LogRow]:
    """A citizen's events, newest first, below a keyset cursor, narrowed by the filters that are set.

    The period is in Brussels days (an access at 23:30 UTC on 31 March happened on 1 April for a Belgian), both
    ends included; views.BRUSSELS must name the same zone.
    """
    rows = await conn.fetch(
        _SELECT_ROWS
        + """
        WHERE e.citizen_id = $1
          AND ($2::bigint IS NULL OR e.seq < $2)
          AND ($3::uuid IS NULL OR e.actor_org_id = $3)
          AND ($4::text IS NULL OR $4 = ANY (e.categories))
          AND ($5::date IS NULL OR e.occurred_at >= $5::date::timestamp AT TIME ZONE 'Europe/Brussels')
          AND ($6::date IS NULL OR e.occurred_at < ($6::date + 1)::timestamp AT TIME ZONE 'Europe/Brussels')
          AND ($7::text IS NULL OR e.outcome = $7)
          AND ($8::text IS NULL OR e.actor_kind = $8)
        ORDER BY e.seq DESC
        LIMIT $9
        """,
        citizen_id,
        before_seq,
        org_id,
        category,
        period_from,
        period_to,
        outcome,
        actor_kind,
        limit,
    )
    return [_log_row(row) for row in rows]


async def select_export_rows(
    conn: asyncpg.Connection, citizen_id: UUID, *, after_seq: int, up_to_seq: int, limit: int
) -> list[LogRow]:
    """A citizen's events in chain order (oldest first) after a keyset cursor and up to a fixed last seq.

    The fixed end makes an export that is read in several pages one consistent prefix of the chain even while new
    accesses are being appended.
    """
    rows = await conn.fetch(
        _SELECT_ROWS
        + """
        WHERE e.citizen_id = $1 AND e.seq > $2 AND e.seq <= $3
        ORDER BY e.seq
        LIMIT $4
        """,
        citizen_id,
        after_seq,
        up_to_seq,
        limit,
    )
    return [_log_row(row) for row in rows]
