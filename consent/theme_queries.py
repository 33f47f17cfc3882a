"""SQL for the catalogues: published theme versions and consent texts (read-only for the application)."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import msgspec

from consent.schemas import LegalText, ThemeVersion


async def select_published_themes(conn: asyncpg.Connection, at: datetime) -> list[ThemeVersion]:
    """The latest version of every theme published at `at`, in a stable order."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT ON (code)
               code, version, categories, actions, high_risk, name_nl, name_fr, name_de, name_en,
               description_nl, description_fr, description_de, description_en
        FROM mandate_theme_versions
        WHERE published_at <= $1
        ORDER BY code, version DESC
        """,
        at,
    )
    return [msgspec.convert(dict(row), ThemeVersion) for row in rows]


async def select_legal_text(conn: asyncpg.Connection, version: int, language: str) -> LegalText | None:
    """One consent text by version and language."""
    row = await conn.fetchrow(
        "SELECT version, language, text, sha256 FROM mandate_legal_texts WHERE version = $1 AND language = $2",
        version,
        language,
    )
    return None if row is None else msgspec.convert(dict(row), LegalText)


async def select_current_legal_text(conn: asyncpg.Connection, language: str, at: datetime) -> LegalText | None:
    """The newest consent text in a language published at `at`."""
    row = await conn.fetchrow(
        """
        SELECT version, language, text, sha256 FROM mandate_legal_texts
        WHERE language = $1 AND published_at <= $2
        ORDER BY version DESC LIMIT 1
        """,
        language,
        at,
    )
    return None if row is None else msgspec.convert(dict(row), LegalText)
