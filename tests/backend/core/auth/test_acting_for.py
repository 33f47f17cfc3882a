"""Acting for someone lasts only while the mandates area says it may: checked on every request."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import pytest

from backend.core.auth import sessions
from backend.core.auth.middleware import resolve_signed_in
from tests.factories import create_person


@pytest.mark.parametrize(("allowed", "kept"), [(True, True), (False, False), (None, False)])
async def test_acting_for_is_kept_only_while_allowed(
    conn: asyncpg.Connection, allowed: bool | None, kept: bool
) -> None:
    helper, citizen = await create_person(conn), await create_person(conn, given_name="Maria")
    session_id = await sessions.insert_session(conn, person_id=helper.person_id, method="demo")
    await sessions.update_acting_context(conn, session_id, acting_for=citizen.person_id, acting_org=None)
    asked: list[tuple[UUID, UUID]] = []

    async def may_act_for(_: asyncpg.Connection, helper_id: UUID, citizen_id: UUID, org_id: UUID | None) -> bool:
        assert org_id is None, "acting for oneself: no organisation"
        asked.append((helper_id, citizen_id))
        return bool(allowed)

    claims = sessions.SessionClaims(session_id=session_id, person_id=helper.person_id, issued_at=datetime.now(UTC))
    signed_in, _ = await resolve_signed_in(conn, claims, None if allowed is None else may_act_for)
    assert signed_in is not None
    assert (signed_in.acting_for is not None) is kept
    assert signed_in.subject_id == (citizen.person_id if kept else helper.person_id)
    if allowed is not None:
        assert asked == [(helper.person_id, citizen.person_id)]
    stored = await conn.fetchval("SELECT acting_for FROM sessions WHERE session_id = $1", session_id)
    assert (stored is not None) is kept, "a lapsed acting context is cleared in the session row"
