"""Easy-read: the person's data one category per screen, and a plain-language summary to take home.

Everything is read through the records services (the same finished views the person sees on their own pages),
and only after `session_for` has checked the agent's open session and its scope; each screen is logged in the
person's access log with the session as case, in the same transaction as the read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final
from uuid import UUID

import asyncpg
import msgspec

from backend.core.i18n import Language
from backend.core.identity.schemas import StaffMember
from backend.desk import session_queries
from backend.desk.audit import log_step
from backend.desk.gate import session_for
from backend.desk.schemas import DeskSession, SessionAction
from backend.records.citizen import category_pages, records_overview
from backend.records.citizen_schemas import CategoryCard, CategoryPage, RecordView
from backend.records.registry import REGISTRY

# Long pages defeat the purpose of easy-read: a screen shows the newest records and says how many there are.
MAX_LINES: Final = 12


class EasyLine(msgspec.Struct, frozen=True, kw_only=True):
    """One record in one short sentence, with where to report an error in it."""

    record_id: str
    text: str
    declared_on: str


class EasyScreen(msgspec.Struct, frozen=True, kw_only=True):
    """One category on one screen: what it is, how many records, the newest of them, and where to go next."""

    step: int
    steps: int
    card: CategoryCard
    lines: list[EasyLine]
    extra: list[str]
    hidden: int
    previous_step: int | None
    next_step: int | None


class Summary(msgspec.Struct, frozen=True, kw_only=True):
    """What the person takes home: their data category by category, and what was done in the session."""

    session: DeskSession
    cards: list[CategoryCard]
    total_records: int
    actions: list[SessionAction]


def _entries(page: CategoryPage) -> tuple[list[RecordView], list[str]]:
    """The page's records newest first, and sentences that sum them up (a flexi year against its ceiling)."""
    extra: list[str] = []
    entries: list[RecordView] = [*page.dimona, *page.limosa, *page.a1, *page.drs, *page.identity, *page.other]
    for quarter in page.dmfa:
        entries.extend(quarter.declarations)
    for year in page.flexi_wages:
        entries.extend(reversed(year.months))
        if year.ceiling is not None:
            extra.append(f"{year.year}: {year.ceiling.progress}")
    entries.sort(key=lambda entry: entry.declared_at, reverse=True)
    return entries, extra


def steps() -> list[str]:
    """The categories in the order they are walked through."""
    return [category.code for category in REGISTRY.all()]


async def easy_screen(
    conn: asyncpg.Connection,
    staff: StaffMember,
    session_id: UUID,
    step: int,
    *,
    language: Language,
    now: datetime | None = None,
) -> EasyScreen | None:
    """Screen `step` (1-based) of the walk-through, logged as a read of that category; None past the last one."""
    at = now or datetime.now(UTC)
    codes = steps()
    if step < 1 or step > len(codes):
        return None
    session = await session_for(conn, staff, session_id, "view_data", now=at)
    code = codes[step - 1]
    page = (await category_pages(conn, session.citizen_id, [code], language=language))[0]
    entries, extra = _entries(page)
    shown = entries[:MAX_LINES]
    await log_step(
        conn,
        session,
        kind="viewed",
        action="read",
        at=at,
        categories=[code],
        record_refs=[str(entry.record_id) for entry in shown],
        detail=code,
    )
    return EasyScreen(
        step=step,
        steps=len(codes),
        card=page.card,
        lines=[EasyLine(record_id=str(e.record_id), text=e.summary, declared_on=e.declared_on) for e in shown],
        extra=extra,
        hidden=len(entries) - len(shown),
        previous_step=step - 1 if step > 1 else None,
        next_step=step + 1 if step < len(codes) else None,
    )


async def take_home_summary(
    conn: asyncpg.Connection, staff: StaffMember, session_id: UUID, *, language: Language, now: datetime | None = None
) -> Summary:
    """The summary to print for the person, logged as a read of every category's count."""
    at = now or datetime.now(UTC)
    session = await session_for(conn, staff, session_id, "view_data", now=at)
    overview = await records_overview(conn, session.citizen_id, language=language)
    await log_step(
        conn,
        session,
        kind="summary_printed",
        action="read",
        at=at,
        categories=[card.code for card in overview.categories],
    )
    actions = await session_queries.select_actions(conn, session.citizen_id, [session.session_id])
    return Summary(
        session=session,
        cards=overview.categories,
        total_records=overview.total_records,
        actions=[action for action in actions if action.kind != "refused"],
    )
