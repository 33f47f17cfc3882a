"""Ending mandates: either side ends a mandate, or one of its themes, at once and without the other's agreement.

A citizen ending a mandate nobody has accepted yet cancels the invitation (its code stops working). Ending the
last theme ends the mandate. Each end records who ended it, from which side, and why.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final
from uuid import UUID

import asyncpg

from backend.core.auth.actors import SignedIn
from backend.core.errors import Problem
from backend.core.i18n import _
from consent import code_queries, event_queries, mandate_queries, state_queries
from consent.mandate_queries import MandateRow
from consent.parties import mandate_of_party
from consent.schemas import MandateOut, Side
from consent.views import mandates_out

# Stored as the reason when the last theme's end ends the whole mandate.
ALL_THEMES_ENDED: Final = "all themes ended"


def _already_ended() -> Problem:
    return Problem(409, _("This mandate has already ended."), kind="mandate-ended")


async def _reload(conn: asyncpg.Connection, mandate_id: UUID, language: str, at: datetime) -> MandateOut:
    row = await mandate_queries.select_mandate(conn, mandate_id, at)
    assert row is not None
    return (await mandates_out(conn, [row], language, at))[0]


async def _end(
    conn: asyncpg.Connection,
    row: MandateRow,
    side: Side,
    *,
    by: UUID,
    org_id: UUID | None,
    reason: str | None,
    at: datetime,
) -> None:
    """Revoke the mandate and write its event; cancels the code of an invitation not yet answered."""
    if not await state_queries.update_revoked(
        conn, row.citizen_id, row.mandate_id, side=side, by=by, reason=reason, at=at
    ):
        raise _already_ended()
    cancelled = row.accepted_at is None and await code_queries.update_invitation_cancelled(
        conn, row.citizen_id, row.mandate_id, at
    )
    await event_queries.insert_event(
        conn,
        citizen_id=row.citizen_id,
        mandate_id=row.mandate_id,
        kind="invitation_cancelled" if cancelled and side == "citizen" else "revoked",
        actor_side=side,
        actor_person_id=by,
        actor_org_id=org_id,
        reason=reason,
        occurred_at=at,
    )


async def end_mandate(
    conn: asyncpg.Connection,
    user: SignedIn,
    mandate_id: UUID,
    *,
    reason: str | None = None,
    now: datetime | None = None,
) -> MandateOut:
    """End a pending or active mandate now, from whichever side the signed-in person stands on."""
    at = now or datetime.now(UTC)
    row, side = await mandate_of_party(conn, user, mandate_id, at)
    if row.state not in ("pending", "active"):
        raise _already_ended()
    org_id = row.mandatary_org_id if side == "mandatary" else None
    await _end(conn, row, side, by=user.person.person_id, org_id=org_id, reason=reason, at=at)
    return await _reload(conn, mandate_id, user.person.language, at)


async def cancel_invitation(
    conn: asyncpg.Connection, user: SignedIn, mandate_id: UUID, *, now: datetime | None = None
) -> MandateOut:
    """The citizen withdraws an invitation nobody has answered: the mandate never starts and the code dies."""
    at = now or datetime.now(UTC)
    row, side = await mandate_of_party(conn, user, mandate_id, at)
    if side != "citizen":
        raise Problem(403, _("Only the person who gave the invitation can cancel it."), kind="not-citizen")
    if row.accepted_at is not None:
        raise Problem(409, _("This mandate was already accepted: end it instead."), kind="mandate-accepted")
    if row.state != "pending":
        raise _already_ended()
    await _end(conn, row, side, by=user.person.person_id, org_id=None, reason=None, at=at)
    return await _reload(conn, mandate_id, user.person.language, at)


async def end_theme(
    conn: asyncpg.Connection,
    user: SignedIn,
    mandate_id: UUID,
    theme_code: str,
    *,
    reason: str | None = None,
    now: datetime | None = None,
) -> MandateOut:
    """End one theme of a mandate now; ending the last one ends the mandate."""
    at = now or datetime.now(UTC)
    row, side = await mandate_of_party(conn, user, mandate_id, at)
    if row.state not in ("pending", "active"):
        raise _already_ended()
    themes = await mandate_queries.select_mandate_themes(conn, [(row.citizen_id, row.mandate_id)], at)
    theme = next((t for t in themes if t.code == theme_code), None)
    if theme is None:
        raise Problem(404, _("This mandate has no such theme."), kind="theme-not-found")
    org_id = row.mandatary_org_id if side == "mandatary" else None
    me = user.person.person_id
    if not await state_queries.update_theme_revoked(
        conn, row.citizen_id, row.mandate_id, theme_code, side=side, by=me, reason=reason, at=at
    ):
        raise Problem(409, _("This theme has already ended."), kind="theme-ended")
    await event_queries.insert_event(
        conn,
        citizen_id=row.citizen_id,
        mandate_id=row.mandate_id,
        kind="theme_revoked",
        actor_side=side,
        actor_person_id=me,
        actor_org_id=org_id,
        theme_code=theme_code,
        reason=reason,
        occurred_at=at,
    )
    if not any(t.active for t in themes if t.code != theme_code):
        await _end(conn, row, side, by=me, org_id=org_id, reason=ALL_THEMES_ENDED, at=at)
    return await _reload(conn, mandate_id, user.person.language, at)
