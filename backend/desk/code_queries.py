"""SQL for presence codes and desk mandate drafts: one typed function per statement, the connection first."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from backend.desk.schemas import MandateDraft


async def supersede_live_codes(conn: asyncpg.Connection, citizen_id: UUID, at: datetime) -> int:
    """Retire the person's unused codes when a fresh one is made; how many."""
    result = await conn.execute(
        """
        UPDATE desk_presence_codes SET superseded_at = $2
        WHERE citizen_id = $1 AND used_at IS NULL AND superseded_at IS NULL
        """,
        citizen_id,
        at,
    )
    return int(result.split()[-1])


async def insert_presence_code(
    conn: asyncpg.Connection, citizen_id: UUID, *, code_hmac: bytes, created_at: datetime, expires_at: datetime
) -> None:
    """Keep the keyed hash of a new presence code."""
    await conn.execute(
        """
        INSERT INTO desk_presence_codes (citizen_id, code_hmac, created_at, expires_at) VALUES ($1, $2, $3, $4)
        """,
        citizen_id,
        code_hmac,
        created_at,
        expires_at,
    )


async def use_presence_code(conn: asyncpg.Connection, citizen_id: UUID, code_hmac: bytes, at: datetime) -> bool:
    """Spend the person's live code with this hash; False when there is none (wrong, used, superseded, expired)."""
    found = await conn.fetchval(
        """
        UPDATE desk_presence_codes SET used_at = $3
        WHERE citizen_id = $1 AND code_hmac = $2 AND used_at IS NULL AND superseded_at IS NULL AND expires_at > $3
        RETURNING code_id
        """,
        citizen_id,
        code_hmac,
        at,
    )
    return found is not None


async def select_code_state(conn: asyncpg.Connection, citizen_id: UUID, code_hmac: bytes) -> str | None:
    """Why a matching code no longer works ("used", "superseded", "expired"), or None when none matches."""
    row = await conn.fetchrow(
        """
        SELECT used_at, superseded_at FROM desk_presence_codes
        WHERE citizen_id = $1 AND code_hmac = $2 ORDER BY created_at DESC LIMIT 1
        """,
        citizen_id,
        code_hmac,
    )
    if row is None:
        return None
    if row["used_at"] is not None:
        return "used"
    if row["superseded_at"] is not None:
        return "superseded"
    return "expired"


def _draft(row: asyncpg.Record | None) -> MandateDraft | None:
    if row is None:
        return None
    values: dict[str, Any] = dict(row)
    values["themes"] = json.loads(values["themes"])
    values["legal_text_sha256"] = values["legal_text_sha256"].strip()
    return MandateDraft(**values)


async def insert_draft(
    conn: asyncpg.Connection,
    *,
    citizen_id: UUID,
    session_id: UUID,
    mandatary_person_id: UUID | None,
    mandatary_org_id: UUID | None,
    mandatary_label: str,
    themes: list[dict[str, str]],
    duration: str,
    legal_text_version: int,
    legal_text_language: str,
    legal_text_sha256: str,
    created_at: datetime,
    code_hmac: bytes,
    code_expires_at: datetime,
) -> MandateDraft:
    """Keep a prepared mandate with the keyed hash of its confirmation code."""
    row = await conn.fetchrow(
        """
        INSERT INTO desk_mandate_drafts (citizen_id, session_id, mandatary_person_id, mandatary_org_id,
            mandatary_label, themes, duration, legal_text_version, legal_text_language, legal_text_sha256,
            created_at, code_hmac, code_expires_at)
        VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, $12, $13)
        RETURNING
        citizen_id, draft_id, session_id, mandatary_person_id, mandatary_org_id, mandatary_label, themes,
        duration, legal_text_version, legal_text_language, legal_text_sha256, created_at, code_expires_at,
        confirmed_at, confirmed_via, form_reference, mandate_id

        """,
        citizen_id,
        session_id,
        mandatary_person_id,
        mandatary_org_id,
        mandatary_label,
        json.dumps(themes),
        duration,
        legal_text_version,
        legal_text_language,
        legal_text_sha256,
        created_at,
        code_hmac,
        code_expires_at,
    )
    draft = _draft(row)
    assert draft is not None
    return draft


async def select_draft(conn: asyncpg.Connection, citizen_id: UUID, draft_id: UUID) -> MandateDraft | None:
    """One of the person's drafts, locked for its confirmation."""
    row = await conn.fetchrow(
        """
        SELECT
        citizen_id, draft_id, session_id, mandatary_person_id, mandatary_org_id, mandatary_label, themes,
        duration, legal_text_version, legal_text_language, legal_text_sha256, created_at, code_expires_at,
        confirmed_at, confirmed_via, form_reference, mandate_id
        FROM desk_mandate_drafts WHERE citizen_id = $1 AND draft_id = $2 FOR UPDATE
        """,
        citizen_id,
        draft_id,
    )
    return _draft(row)


async def select_draft_by_code(conn: asyncpg.Connection, citizen_id: UUID, code_hmac: bytes) -> MandateDraft | None:
    """The person's unconfirmed draft with this confirmation code (expired ones included), locked."""
    row = await conn.fetchrow(
        """
        SELECT
        citizen_id, draft_id, session_id, mandatary_person_id, mandatary_org_id, mandatary_label, themes,
        duration, legal_text_version, legal_text_language, legal_text_sha256, created_at, code_expires_at,
        confirmed_at, confirmed_via, form_reference, mandate_id
        FROM desk_mandate_drafts
        WHERE citizen_id = $1 AND code_hmac = $2 ORDER BY created_at DESC LIMIT 1 FOR UPDATE
        """,
        citizen_id,
        code_hmac,
    )
    return _draft(row)


async def select_drafts_of_session(conn: asyncpg.Connection, citizen_id: UUID, session_id: UUID) -> list[MandateDraft]:
    """The drafts prepared in a session, oldest first."""
    rows = await conn.fetch(
        """
        SELECT
        citizen_id, draft_id, session_id, mandatary_person_id, mandatary_org_id, mandatary_label, themes,
        duration, legal_text_version, legal_text_language, legal_text_sha256, created_at, code_expires_at,
        confirmed_at, confirmed_via, form_reference, mandate_id
        FROM desk_mandate_drafts WHERE citizen_id = $1 AND session_id = $2 ORDER BY created_at
        """,
        citizen_id,
        session_id,
    )
    return [draft for row in rows if (draft := _draft(row)) is not None]


async def select_waiting_drafts(conn: asyncpg.Connection, citizen_id: UUID, at: datetime) -> list[MandateDraft]:
    """The person's drafts still waiting for their confirmation, oldest first."""
    rows = await conn.fetch(
        """
        SELECT
        citizen_id, draft_id, session_id, mandatary_person_id, mandatary_org_id, mandatary_label, themes,
        duration, legal_text_version, legal_text_language, legal_text_sha256, created_at, code_expires_at,
        confirmed_at, confirmed_via, form_reference, mandate_id
        FROM desk_mandate_drafts
        WHERE citizen_id = $1 AND confirmed_at IS NULL AND code_expires_at > $2 ORDER BY created_at
        """,
        citizen_id,
        at,
    )
    return [draft for row in rows if (draft := _draft(row)) is not None]


async def update_confirmed(
    conn: asyncpg.Connection,
    citizen_id: UUID,
    draft_id: UUID,
    *,
    at: datetime,
    via: str,
    form_reference: str | None,
    mandate_id: UUID,
) -> bool:
    """Mark a draft confirmed, with the mandate it became; False when it already was."""
    found = await conn.fetchval(
        """
        UPDATE desk_mandate_drafts SET confirmed_at = $3, confirmed_via = $4, form_reference = $5, mandate_id = $6
        WHERE citizen_id = $1 AND draft_id = $2 AND confirmed_at IS NULL
        RETURNING draft_id
        """,
        citizen_id,
        draft_id,
        at,
        via,
        form_reference,
        mandate_id,
    )
    return found is not None
