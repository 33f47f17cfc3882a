"""Answering with the code (once, within 14 days, only by the one invited) and ending a mandate from either side."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest

from backend.core.errors import Problem
from consent import ending, event_queries, invitations
from tests.factories import (
    create_access_manager,
    create_agent,
    create_mandate,
    create_organisation,
    create_person,
    invite_helper,
    signed_in,
)

T0 = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)


async def _refusal(conn: asyncpg.Connection, person: object, code: str, *, now: datetime | None = None) -> Problem:
    with pytest.raises(Problem) as caught:
        await invitations.accept_invitation(conn, await signed_in(conn, person), code, now=now)  # type: ignore[arg-type]
    assert caught.value.errors[0].field == "code"
    return caught.value


async def test_the_helper_previews_then_accepts_and_the_mandate_starts_now(conn: asyncpg.Connection) -> None:
    citizen = await create_person(conn, given_name="Els", family_name="Claes")
    helper = await create_person(conn)
    created = await invite_helper(conn, citizen, helper=helper, now=T0)
    typed = created.code.lower().replace("-", " ")
    accepted_at = T0 + timedelta(days=3)
    preview = await invitations.preview_invitation(conn, await signed_in(conn, helper), typed, now=accepted_at)
    assert preview.state == "pending"
    assert preview.citizen.name == "Els Claes"
    mandate = await invitations.accept_invitation(conn, await signed_in(conn, helper), typed, now=accepted_at)
    assert mandate.state == "active"
    assert mandate.starts_at == accepted_at
    assert mandate.ends_at == datetime(2027, 2, 3, 10, 0, tzinfo=UTC)  # one calendar year from acceptance
    events = await event_queries.select_events(conn, citizen.person_id, mandate.mandate_id)
    assert [(e.kind, e.actor_side) for e in events] == [("invited", "citizen"), ("accepted", "mandatary")]
    # A code works once.
    used = await _refusal(conn, helper, created.code, now=accepted_at)
    assert used.kind == "invitation-code-used"


@pytest.mark.parametrize(
    ("duration", "until", "ends_at"),
    [
        ("1_day", None, datetime(2026, 2, 1, 10, 0, tzinfo=UTC)),
        # 31 January plus one month is the last day of February, at the same Belgian clock time.
        ("1_month", None, datetime(2026, 2, 28, 10, 0, tzinfo=UTC)),
        # Summer time in Belgium: the same clock time is an hour earlier in UTC.
        ("6_months", None, datetime(2026, 7, 31, 9, 0, tzinfo=UTC)),
        ("1_year", None, datetime(2027, 1, 31, 10, 0, tzinfo=UTC)),
        # "Until 31 March" covers 31 March: it ends at midnight, Belgian summer time.
        ("until_date", date(2026, 3, 31), datetime(2026, 3, 31, 22, 0, tzinfo=UTC)),
    ],
)
async def test_durations_run_from_acceptance_in_belgian_time(
    conn: asyncpg.Connection, duration: str, until: date | None, ends_at: datetime
) -> None:
    citizen = await create_person(conn)
    helper = await create_person(conn)
    created = await invite_helper(conn, citizen, helper=helper, duration=duration, until=until, now=T0)
    mandate = await invitations.accept_invitation(conn, await signed_in(conn, helper), created.code, now=T0)
    assert mandate.ends_at == ends_at


async def test_a_code_expires_after_14_days(conn: asyncpg.Connection) -> None:
    citizen = await create_person(conn)
    helper = await create_person(conn)
    late = await invite_helper(conn, citizen, helper=helper, now=T0)
    expired = await _refusal(conn, helper, late.code, now=T0 + timedelta(days=14))
    assert expired.kind == "invitation-code-expired"
    assert "14 days" in expired.detail
    just_in_time = await invite_helper(conn, citizen, helper=helper, themes=(("posting", "read"),), now=T0)
    mandate = await invitations.accept_invitation(
        conn, await signed_in(conn, helper), just_in_time.code, now=T0 + timedelta(days=14) - timedelta(seconds=1)
    )
    assert mandate.state == "active"


async def test_a_cancelled_code_is_refused_clearly(conn: asyncpg.Connection) -> None:
    citizen = await create_person(conn)
    helper = await create_person(conn)
    created = await invite_helper(conn, citizen, helper=helper)
    cancelled = await ending.cancel_invitation(conn, await signed_in(conn, citizen), created.mandate.mandate_id)
    assert cancelled.state == "revoked"
    assert cancelled.ended_by == "citizen"
    refusal = await _refusal(conn, helper, created.code)
    assert refusal.kind == "invitation-code-cancelled"
    events = await event_queries.select_events(conn, citizen.person_id, created.mandate.mandate_id)
    assert [e.kind for e in events] == ["invited", "invitation_cancelled"]


async def test_someone_else_s_code_is_answered_like_an_unknown_one(conn: asyncpg.Connection) -> None:
    citizen = await create_person(conn)
    helper = await create_person(conn)
    stranger = await create_person(conn)
    created = await invite_helper(conn, citizen, helper=helper)
    not_yours = await _refusal(conn, stranger, created.code)
    unknown = await _refusal(conn, stranger, "BBBB-BBBB-BBBB")
    own = await _refusal(conn, citizen, created.code)  # the citizen cannot accept their own invitation
    assert (not_yours.kind, not_yours.detail) == (unknown.kind, unknown.detail) == (own.kind, own.detail)
    assert not_yours.kind == "invitation-code-unknown"
    malformed = await _refusal(conn, stranger, "AEIO")
    assert malformed.kind == "invitation-code-format"
    # Nothing was spent: the helper can still accept.
    mandate = await invitations.accept_invitation(conn, await signed_in(conn, helper), created.code)
    assert mandate.state == "active"


async def test_the_helper_may_decline_with_a_reason(conn: asyncpg.Connection) -> None:
    citizen = await create_person(conn)
    helper = await create_person(conn)
    created = await invite_helper(conn, citizen, helper=helper)
    declined = await invitations.decline_invitation(
        conn, await signed_in(conn, helper), created.code, reason="I cannot help with this"
    )
    assert (declined.state, declined.ended_by, declined.end_reason) == (
        "declined",
        "mandatary",
        "I cannot help with this",
    )
    assert (await _refusal(conn, helper, created.code)).kind == "invitation-code-used"


async def test_any_access_manager_accepts_for_the_organisation(conn: asyncpg.Connection) -> None:
    citizen = await create_person(conn)
    organisation = await create_organisation(conn)
    manager = await create_access_manager(conn, organisation)
    agent = await create_agent(conn, organisation)
    created = await invite_helper(conn, citizen, organisation=organisation)
    assert (await _refusal(conn, agent, created.code)).kind == "invitation-code-unknown"
    mandate = await invitations.accept_invitation(conn, await signed_in(conn, manager), created.code)
    assert mandate.state == "active"
    events = await event_queries.select_events(conn, citizen.person_id, mandate.mandate_id)
    assert (events[-1].kind, events[-1].actor_person_id, events[-1].actor_org_id) == (
        "accepted",
        manager.person_id,
        organisation.org_id,
    )


async def test_either_side_ends_a_mandate_at_once(conn: asyncpg.Connection) -> None:
    citizen = await create_person(conn)
    helper = await create_person(conn)
    stranger = await create_person(conn)
    by_citizen = await create_mandate(conn, citizen, helper=helper)
    ended = await ending.end_mandate(
        conn, await signed_in(conn, citizen), by_citizen.mandate_id, reason="no longer needed"
    )
    assert (ended.state, ended.ended_by, ended.end_reason) == ("revoked", "citizen", "no longer needed")
    with pytest.raises(Problem) as again:
        await ending.end_mandate(conn, await signed_in(conn, citizen), by_citizen.mandate_id)
    assert again.value.status == 409
    by_helper = await create_mandate(conn, citizen, helper=helper)
    with pytest.raises(Problem) as not_party:
        await ending.end_mandate(conn, await signed_in(conn, stranger), by_helper.mandate_id)
    assert not_party.value.status == 404
    ended = await ending.end_mandate(conn, await signed_in(conn, helper), by_helper.mandate_id)
    assert (ended.state, ended.ended_by) == ("revoked", "mandatary")
    events = await event_queries.select_events(conn, citizen.person_id, by_helper.mandate_id)
    assert (events[-1].kind, events[-1].actor_side, events[-1].actor_person_id) == (
        "revoked",
        "mandatary",
        helper.person_id,
    )


async def test_themes_end_one_by_one_and_the_last_ends_the_mandate(conn: asyncpg.Connection) -> None:
    citizen = await create_person(conn)
    helper = await create_person(conn)
    mandate = await create_mandate(
        conn, citizen, helper=helper, themes=(("posting", "read"), ("work_and_wages", "read"))
    )
    user = await signed_in(conn, citizen)
    after_one = await ending.end_theme(conn, user, mandate.mandate_id, "posting", reason="posting is over")
    assert after_one.state == "active"
    assert {t.code: t.active for t in after_one.themes} == {"posting": False, "work_and_wages": True}
    with pytest.raises(Problem) as twice:
        await ending.end_theme(conn, user, mandate.mandate_id, "posting")
    assert twice.value.status == 409
    with pytest.raises(Problem) as missing:
        await ending.end_theme(conn, user, mandate.mandate_id, "messages")
    assert missing.value.status == 404
    after_all = await ending.end_theme(conn, await signed_in(conn, helper), mandate.mandate_id, "work_and_wages")
    assert (after_all.state, after_all.ended_by, after_all.end_reason) == (
        "revoked",
        "mandatary",
        ending.ALL_THEMES_ENDED,
    )
    kinds = [e.kind for e in await event_queries.select_events(conn, citizen.person_id, mandate.mandate_id)]
    assert kinds == ["invited", "accepted", "theme_revoked", "theme_revoked", "revoked"]
