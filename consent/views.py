"""Mandates as both sides see them: rows turned into finished Structs in the reader's language."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from consent import mandate_queries
from consent.mandate_queries import MandateRow, MandateThemeRow
from consent.schemas import MandateOut, MandateThemeOut, Party, Side, ThemeOut, ThemeVersion


def organisation_name(row: MandateRow, language: str) -> str:
    """An organisation's name as identity.Organisation.name gives it (French where no German or English exists)."""
    if language == "nl":
        return row.org_name_nl or ""
    if language == "de":
        return row.org_name_de or row.org_name_fr or ""
    return row.org_name_fr or ""


def _ending(row: MandateRow) -> tuple[datetime | None, Side | None, str | None]:
    if row.state == "revoked":
        return row.revoked_at, row.revoked_by_side, row.revoke_reason
    if row.state == "declined":
        return row.declined_at, "mandatary", row.decline_reason
    if row.state == "expired":
        return (row.ends_at if row.accepted_at is not None else row.invitation_expires_at), None, None
    return None, None, None


def mandate_out(row: MandateRow, themes: Sequence[MandateThemeRow], language: str) -> MandateOut:
    """One mandate with its themes, in a language."""
    if row.mandatary_person_id is not None:
        mandatary = Party(kind="person", person_id=row.mandatary_person_id, name=row.mandatary_person_name or "")
    else:
        mandatary = Party(kind="organisation", org_id=row.mandatary_org_id, name=organisation_name(row, language))
    ended_at, ended_by, end_reason = _ending(row)
    return MandateOut(
        mandate_id=row.mandate_id,
        citizen=Party(kind="person", person_id=row.citizen_id, name=row.citizen_name),
        mandatary=mandatary,
        state=row.state,
        themes=[
            MandateThemeOut(
                code=theme.code,
                version=theme.version,
                name=theme.name(language),
                access=theme.access,
                high_risk=theme.high_risk,
                active=theme.active,
                revoked_at=theme.revoked_at,
            )
            for theme in themes
            if theme.mandate_id == row.mandate_id and theme.citizen_id == row.citizen_id
        ],
        duration=row.duration,
        until=row.until_date,
        created_at=row.created_at,
        invitation_expires_at=row.invitation_expires_at,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        ended_at=ended_at,
        ended_by=ended_by,
        end_reason=end_reason,
        legal_text_version=row.legal_text_version,
        legal_text_language=row.legal_text_language,
    )


async def mandates_out(
    conn: asyncpg.Connection, rows: Sequence[MandateRow], language: str, at: datetime
) -> list[MandateOut]:
    """Many mandates with their themes, loaded in one query."""
    if not rows:
        return []
    themes = await mandate_queries.select_mandate_themes(conn, [(row.citizen_id, row.mandate_id) for row in rows], at)
    return [mandate_out(row, themes, language) for row in rows]


def theme_out(theme: ThemeVersion, language: str) -> ThemeOut:
    """A theme as offered, in a language."""
    return ThemeOut(
        code=theme.code,
        version=theme.version,
        name=theme.name(language),
        description=theme.description(language),
        categories=list(theme.categories),
        actions=list(theme.actions),
        high_risk=theme.high_risk,
        accesses=list(theme.accesses),
    )
