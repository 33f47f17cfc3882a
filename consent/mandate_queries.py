"""SQL for mandates and their themes: one typed function per statement, the state computed by mandate_state()."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Final, LiteralString
from uuid import UUID

import asyncpg
import msgspec

from consent.schemas import Access, Duration, Language, MandateState, Side


class MandateRow(msgspec.Struct, frozen=True, kw_only=True):
    """A mandate as stored, with its state at the moment asked and the names of both sides."""

    citizen_id: UUID
    mandate_id: UUID
    mandatary_person_id: UUID | None
    mandatary_org_id: UUID | None
    duration: Duration
    until_date: date | None
    legal_text_version: int
    legal_text_language: Language
    created_at: datetime
    invitation_expires_at: datetime
    accepted_at: datetime | None
    declined_at: datetime | None
    decline_reason: str | None
    starts_at: datetime | None
    ends_at: datetime | None
    revoked_at: datetime | None
    revoked_by_side: Side | None
    revoke_reason: str | None
    expired_at: datetime | None
    state: MandateState
    citizen_name: str
    mandatary_person_name: str | None
    org_name_nl: str | None
    org_name_fr: str | None
    org_name_de: str | None


class MandateThemeRow(msgspec.Struct, frozen=True, kw_only=True):
    """A theme of a mandate with its version's names, and whether it is active at the moment asked."""

    citizen_id: UUID
    mandate_id: UUID
    code: str
    version: int
    access: Access
    revoked_at: datetime | None
    active: bool
    high_risk: bool
    name_nl: str
    name_fr: str
    name_de: str
    name_en: str

    def name(self, language: str) -> str:
        """The theme's name in a language (English when unknown)."""
        return {"nl": self.name_nl, "fr": self.name_fr, "de": self.name_de}.get(language, self.name_en)


# $1 is always the moment the state is computed for.
_SELECT_MANDATES: Final[LiteralString] = """
    SELECT m.citizen_id, m.mandate_id, m.mandatary_person_id, m.mandatary_org_id, m.duration, m.until_date,
           m.legal_text_version, m.legal_text_language, m.created_at, m.invitation_expires_at, m.accepted_at,
           m.declined_at, m.decline_reason, m.starts_at, m.ends_at, m.revoked_at, m.revoked_by_side,
           m.revoke_reason, m.expired_at, mandate_state(m, $1) AS state,
           c.given_name || ' ' || c.family_name AS citizen_name,
           mp.given_name || ' ' || mp.family_name AS mandatary_person_name,
           o.name_nl AS org_name_nl, o.name_fr AS org_name_fr, o.name_de AS org_name_de
    FROM mandates AS m
    JOIN people AS c ON c.person_id = m.citizen_id
    LEFT JOIN people AS mp ON mp.person_id = m.mandatary_person_id
    LEFT JOIN organisations AS o ON o.org_id = m.mandatary_org_id
"""


def _rows(rows: Sequence[asyncpg.Record]) -> list[MandateRow]:
    return [msgspec.convert(dict(row), MandateRow) for row in rows]


async def insert_mandate(
    conn: asyncpg.Connection,
    *,
    citizen_id: UUID,
    mandatary_person_id: UUID | None,
    mandatary_org_id: UUID | None,
    duration: Duration,
    until_date: date | None,
    legal_text_version: int,
    legal_text_language: str,
    legal_text_sha256: str,
    created_at: datetime,
    invitation_expires_at: datetime,
) -> UUID:
    """Create a pending mandate and return its id."""
    value = await conn.fetchval(
        """
        INSERT INTO mandates (citizen_id, mandatary_person_id, mandatary_org_id, duration, until_date,
                              legal_text_version, legal_text_language, legal_text_sha256, created_at,
                              invitation_expires_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        RETURNING mandate_id
        """,
        citizen_id,
        mandatary_person_id,
        mandatary_org_id,
        duration,
        until_date,
        legal_text_version,
        legal_text_language,
        legal_text_sha256,
        created_at,
        invitation_expires_at,
    )
    return UUID(str(value))


async def insert_mandate_themes(
    conn: asyncpg.Connection, citizen_id: UUID, mandate_id: UUID, themes: Sequence[tuple[str, int, Access]]
) -> None:
    """Attach themes (code, version, access) to a new mandate."""
    await conn.execute(
        """
        INSERT INTO mandate_themes (citizen_id, mandate_id, theme_code, theme_version, access)
        SELECT $1, $2, code, version, access
        FROM unnest($3::text[], $4::integer[], $5::text[]) AS t (code, version, access)
        """,
        citizen_id,
        mandate_id,
        [code for code, _, _ in themes],
        [version for _, version, _ in themes],
        [access for _, _, access in themes],
    )


async def select_mandate(conn: asyncpg.Connection, mandate_id: UUID, at: datetime) -> MandateRow | None:
    """A mandate by id, with its state at `at`."""
    rows = await conn.fetch(_SELECT_MANDATES + " WHERE m.mandate_id = $2", at, mandate_id)
    # Ids are random; two rows would mean a forged id, so it is treated as unknown.
    found = _rows(rows)
    return found[0] if len(found) == 1 else None


async def select_mandates_of_citizen(conn: asyncpg.Connection, citizen_id: UUID, at: datetime) -> list[MandateRow]:
    """The mandates a citizen gave, newest first."""
    return _rows(
        await conn.fetch(_SELECT_MANDATES + " WHERE m.citizen_id = $2 ORDER BY m.created_at DESC", at, citizen_id)
    )


async def select_mandates_of_person(conn: asyncpg.Connection, person_id: UUID, at: datetime) -> list[MandateRow]:
    """The mandates a person received as helper, newest first."""
    return _rows(
        await conn.fetch(
            _SELECT_MANDATES + " WHERE m.mandatary_person_id = $2 ORDER BY m.created_at DESC", at, person_id
        )
    )


async def select_mandates_of_organisation(conn: asyncpg.Connection, org_id: UUID, at: datetime) -> list[MandateRow]:
    """The mandates an organisation holds, newest first."""
    return _rows(
        await conn.fetch(_SELECT_MANDATES + " WHERE m.mandatary_org_id = $2 ORDER BY m.created_at DESC", at, org_id)
    )


# The organisation's ($2) active mandates with an active theme that its agent ($3) is named for.
_AGENT_CLIENTS: Final[LiteralString] = """
    WHERE m.mandatary_org_id = $2 AND mandate_is_active(m, $1)
      AND EXISTS (
          SELECT FROM mandate_themes AS t
          WHERE t.citizen_id = m.citizen_id AND t.mandate_id = m.mandate_id
            AND mandate_theme_is_active(t, $1)
      )
      AND EXISTS (
          SELECT FROM organisation_members AS om
          WHERE om.org_id = $2 AND om.person_id = $3 AND om.active
      )
      AND (
          EXISTS (
              SELECT FROM mandate_agent_assignments AS a
              WHERE a.citizen_id = m.citizen_id AND a.mandate_id = m.mandate_id
                AND a.agent_person_id = $3 AND a.removed_at IS NULL
          )
          OR EXISTS (
              SELECT FROM organisation_agent_assignments AS oa
              WHERE oa.org_id = $2 AND oa.agent_person_id = $3 AND oa.removed_at IS NULL
          )
      )
    ORDER BY c.family_name, c.given_name, m.created_at DESC
"""


async def select_agent_client_mandates(
    conn: asyncpg.Connection, org_id: UUID, agent_id: UUID, at: datetime
) -> list[MandateRow]:
    """The organisation's active mandates this agent may use (named for it or for all clients), by client name.

    Nothing about a client the agent is not named for leaves the database.
    """
    return _rows(await conn.fetch(_SELECT_MANDATES + _AGENT_CLIENTS, at, org_id, agent_id))


async def select_mandate_themes(
    conn: asyncpg.Connection, keys: Sequence[tuple[UUID, UUID]], at: datetime
) -> list[MandateThemeRow]:
    """The themes of some mandates (citizen id, mandate id), with their names and activity at `at`."""
    rows = await conn.fetch(
        """
        SELECT t.citizen_id, t.mandate_id, t.theme_code AS code, t.theme_version AS version, t.access, t.revoked_at,
               mandate_theme_is_active(t, $3) AS active, v.high_risk, v.name_nl, v.name_fr, v.name_de, v.name_en
        FROM unnest($1::uuid[], $2::uuid[]) AS k (citizen_id, mandate_id)
        JOIN mandate_themes AS t USING (citizen_id, mandate_id)
        JOIN mandate_theme_versions AS v ON v.code = t.theme_code AND v.version = t.theme_version
        ORDER BY t.theme_code
        """,
        [citizen for citizen, _ in keys],
        [mandate for _, mandate in keys],
        at,
    )
    return [msgspec.convert(dict(row), MandateThemeRow) for row in rows]


async def select_open_theme_codes(
    conn: asyncpg.Connection,
    *,
    citizen_id: UUID,
    mandatary_person_id: UUID | None,
    mandatary_org_id: UUID | None,
    codes: Sequence[str],
    at: datetime,
) -> list[tuple[str, MandateState, datetime | None]]:
    """Themes among `codes` the same mandatary already holds (pending or active) from this citizen."""
    rows = await conn.fetch(
        """
        SELECT t.theme_code, mandate_state(m, $5) AS state, m.ends_at
        FROM mandates AS m JOIN mandate_themes AS t USING (citizen_id, mandate_id)
        WHERE m.citizen_id = $1
          AND (m.mandatary_person_id = $2 OR m.mandatary_org_id = $3)
          AND t.theme_code = ANY ($4::text[])
          AND mandate_theme_is_active(t, $5)
          AND mandate_state(m, $5) IN ('pending', 'active')
        ORDER BY t.theme_code
        """,
        citizen_id,
        mandatary_person_id,
        mandatary_org_id,
        list(codes),
        at,
    )
    return [(row["theme_code"], row["state"], row["ends_at"]) for row in rows]
