"""Acting for someone: may_act_for (the session middleware's check on every request) and start_acting_for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec
import pytest

from backend.access_log.queries import select_chain
from backend.core.auth import sessions
from backend.core.auth.middleware import resolve_signed_in
from consent import ending
from consent.acting import may_act_for, start_acting_for
from tests.factories import (
    create_access_manager,
    create_mandate,
    create_organisation,
    create_person,
    invite_helper,
    signed_in,
)


async def test_an_active_mandate_of_any_theme_lets_the_helper_act(conn: asyncpg.Connection) -> None:
    citizen = await create_person(conn)
    helper = await create_person(conn)
    await create_mandate(conn, citizen, helper=helper, themes=(("messages", "act"),))

    assert await may_act_for(conn, helper.person_id, citizen.person_id)
    assert not await may_act_for(conn, citizen.person_id, helper.person_id), "a mandate goes one way"
    assert not await may_act_for(conn, citizen.person_id, citizen.person_id)


@pytest.mark.parametrize("situation", ["none", "pending", "revoked", "themes_ended", "expired", "declined"])
async def test_no_active_mandate_no_acting(conn: asyncpg.Connection, situation: str) -> None:
    citizen = await create_person(conn)
    helper = await create_person(conn)
    as_citizen = await signed_in(conn, citizen)
    if situation == "pending":
        await invite_helper(conn, citizen, helper=helper)
    elif situation == "revoked":
        mandate = await create_mandate(conn, citizen, helper=helper)
        await ending.end_mandate(conn, as_citizen, mandate.mandate_id)
    elif situation == "themes_ended":
        mandate = await create_mandate(conn, citizen, helper=helper)
        await ending.end_theme(conn, as_citizen, mandate.mandate_id, "work_and_wages")
    elif situation == "expired":
        await create_mandate(conn, citizen, helper=helper, duration="1_day", now=datetime.now(UTC) - timedelta(days=2))
    elif situation == "declined":
        from consent.invitations import decline_invitation

        invitation = await invite_helper(conn, citizen, helper=helper)
        await decline_invitation(conn, await signed_in(conn, helper), invitation.code)

    assert not await may_act_for(conn, helper.person_id, citizen.person_id)


async def test_an_organisation_mandate_does_not_let_its_manager_act_as_a_person(conn: asyncpg.Connection) -> None:
    citizen = await create_person(conn)
    organisation = await create_organisation(conn)
    manager = await create_access_manager(conn, organisation)
    await create_mandate(conn, citizen, organisation=organisation, accepted_by=manager)

    assert not await may_act_for(conn, manager.person_id, citizen.person_id)


async def test_the_end_is_felt_at_its_exact_moment(conn: asyncpg.Connection) -> None:
    citizen = await create_person(conn)
    helper = await create_person(conn)
    ended_at = datetime.now(UTC)
    mandate = await create_mandate(conn, citizen, helper=helper, now=ended_at - timedelta(hours=1))
    await ending.end_mandate(conn, await signed_in(conn, citizen), mandate.mandate_id, now=ended_at)

    assert await may_act_for(conn, helper.person_id, citizen.person_id, now=ended_at - timedelta(seconds=1))
    assert not await may_act_for(conn, helper.person_id, citizen.person_id, now=ended_at)


async def test_start_acting_sets_the_session_and_the_middleware_drops_it_once_ended(conn: asyncpg.Connection) -> None:
    citizen = await create_person(conn)
    helper = await create_person(conn)
    mandate = await create_mandate(conn, citizen, helper=helper)
    session_id = await sessions.insert_session(conn, person_id=helper.person_id, method="demo")
    claims = sessions.SessionClaims(session_id=session_id, person_id=helper.person_id, issued_at=datetime.now(UTC))
    user, _row = await resolve_signed_in(conn, claims, may_act_for)
    assert user is not None

    decision = await start_acting_for(conn, user, citizen.person_id)

    assert decision.allowed
    acting, _row = await resolve_signed_in(conn, claims, may_act_for)
    assert acting is not None
    assert acting.acting_for is not None
    assert acting.acting_for.person_id == citizen.person_id
    assert await select_chain(conn, citizen.person_id) == [], "switching context reads nothing: nothing to log"

    await ending.end_mandate(conn, await signed_in(conn, citizen), mandate.mandate_id)
    dropped, _row = await resolve_signed_in(conn, claims, may_act_for)
    assert dropped is not None
    assert dropped.acting_for is None
    stored = await sessions.select_live_session(conn, session_id, helper.person_id)
    assert stored is not None
    assert stored.acting_for is None


async def test_a_refused_start_is_logged_in_the_citizens_log_with_the_reason(conn: asyncpg.Connection) -> None:
    citizen = await create_person(conn)
    helper = await create_person(conn)
    mandate = await create_mandate(conn, citizen, helper=helper)
    await ending.end_mandate(conn, await signed_in(conn, citizen), mandate.mandate_id)
    session_id = await sessions.insert_session(conn, person_id=helper.person_id, method="demo")
    user = msgspec.structs.replace(await signed_in(conn, helper), session_id=session_id)

    decision = await start_acting_for(conn, user, citizen.person_id)

    assert not decision.allowed
    assert decision.reason == "mandate_revoked"
    [event] = await select_chain(conn, citizen.person_id)
    assert (event.actor_kind, event.actor_ref, event.outcome, event.reason, event.mandate_id) == (
        "helper",
        str(helper.person_id),
        "denied",
        "the mandate was ended",
        mandate.mandate_id,
    )
    stored = await sessions.select_live_session(conn, session_id, helper.person_id)
    assert stored is not None
    assert stored.acting_for is None
