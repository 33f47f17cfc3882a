"""Demo accesses, so a demo citizen's log has something to show (never loaded in production)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from backend.access_log import queries
from backend.access_log.anomalies import record_and_flag
from backend.access_log.schemas import Accessor
from backend.core.identity.demo import PERSONAS
from backend.core.identity.purposes import select_purpose
from backend.core.identity.queries import select_organisation_by_code, select_person_by_insz

# (days ago, hour in UTC, institution code, purpose, categories, outcome, reason)
_SOFIE: tuple[tuple[int, int, str, str, tuple[str, ...], str, str | None], ...] = (
    (41, 9, "ONEM", "unemployment_benefit", ("dimona", "dmfa"), "granted", None),
    (23, 13, "SPF_FINANCES", "flexi_income_tax", ("flexi_wages",), "granted", None),
    (9, 22, "ONEM", "unemployment_benefit", ("flexi_wages",), "denied", "the purpose does not cover flexi_wages"),
    (2, 8, "SFP", "pension_calculation", ("dmfa",), "granted", None),
)


async def seed_accesses(conn: asyncpg.Connection, *, now: datetime | None = None) -> int:
    """Give Sofie Peeters a few institutional accesses, once (a second run adds nothing)."""
    sofie = next(persona for persona in PERSONAS if persona.key == "sofie")
    person = await select_person_by_insz(conn, sofie.insz)
    if person is None or await queries.select_head(conn, person.person_id) is not None:
        return 0
    moment = now or datetime.now(UTC)
    added = 0
    for days_ago, hour, code, purpose_code, categories, outcome, reason in _SOFIE:
        organisation = await select_organisation_by_code(conn, code)
        if organisation is None:
            continue
        purpose = await select_purpose(conn, organisation.org_id, purpose_code)
        await record_and_flag(
            conn,
            citizen_id=person.person_id,
            accessor=Accessor(kind="institution", org_id=organisation.org_id, client_id=f"{code.lower()}-demo"),
            action="read",
            channel="api",
            outcome=outcome,  # type: ignore[arg-type]
            reason=reason,
            categories=categories,
            purpose_code=purpose_code,
            legal_basis_ref=None if purpose is None else purpose.authorisation_ref,
            case_ref=f"{code}-2026-{1000 + days_ago}",
            occurred_at=(moment - timedelta(days=days_ago)).replace(hour=hour, minute=12, second=0, microsecond=0),
        )
        added += 1
    return added
