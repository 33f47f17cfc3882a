"""The purposes registry: why an institution may read data, which categories, on which legal basis.

(institution, purpose) decides the categories; the legal basis is kept in the four languages so that a
citizen reads it in their own.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec


class Purpose(msgspec.Struct, frozen=True, kw_only=True):
    """One registered purpose of one institution."""

    org_id: UUID
    code: str
    categories: tuple[str, ...]
    legal_basis_nl: str
    legal_basis_fr: str
    legal_basis_de: str
    legal_basis_en: str
    authorisation_ref: str

    def legal_basis(self, language: str) -> str:
        """The legal basis in a language (English when the language is unknown)."""
        if language == "nl":
            return self.legal_basis_nl
        if language == "fr":
            return self.legal_basis_fr
        if language == "de":
            return self.legal_basis_de
        return self.legal_basis_en


async def upsert_purpose(conn: asyncpg.Connection, purpose: Purpose) -> bool:
    """Register or update a purpose; True when it was new."""
    inserted = await conn.fetchval(
        """
        INSERT INTO purposes (org_id, code, categories, legal_basis_nl, legal_basis_fr, legal_basis_de,
                              legal_basis_en, authorisation_ref)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (org_id, code) DO UPDATE
            SET categories = EXCLUDED.categories, legal_basis_nl = EXCLUDED.legal_basis_nl,
                legal_basis_fr = EXCLUDED.legal_basis_fr, legal_basis_de = EXCLUDED.legal_basis_de,
                legal_basis_en = EXCLUDED.legal_basis_en, authorisation_ref = EXCLUDED.authorisation_ref,
                active = true
        RETURNING xmax = 0
        """,
        purpose.org_id,
        purpose.code,
        list(purpose.categories),
        purpose.legal_basis_nl,
        purpose.legal_basis_fr,
        purpose.legal_basis_de,
        purpose.legal_basis_en,
        purpose.authorisation_ref,
    )
    return bool(inserted)


async def select_purpose(conn: asyncpg.Connection, org_id: UUID, code: str) -> Purpose | None:
    """An institution's active purpose by code."""
    row = await conn.fetchrow(
        """
        SELECT org_id, code, categories, legal_basis_nl, legal_basis_fr, legal_basis_de, legal_basis_en,
               authorisation_ref
        FROM purposes WHERE org_id = $1 AND code = $2 AND active
        """,
        org_id,
        code,
    )
    return None if row is None else msgspec.convert(dict(row), Purpose)


async def select_purposes(conn: asyncpg.Connection, org_id: UUID) -> list[Purpose]:
    """All active purposes of an institution."""
    rows = await conn.fetch(
        """
        SELECT org_id, code, categories, legal_basis_nl, legal_basis_fr, legal_basis_de, legal_basis_en,
               authorisation_ref
        FROM purposes WHERE org_id = $1 AND active ORDER BY code
        """,
        org_id,
    )
    return [msgspec.convert(dict(row), Purpose) for row in rows]
