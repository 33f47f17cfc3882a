"""The citizen's joined timeline: mandate history, helpers' actions and institutional accesses in one order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec
import pytest

from backend.access_log.schemas import Accessor
from backend.access_log.service import record_access
from backend.core.errors import Problem
from backend.core.identity.schemas import Person
from consent import ending
from consent.agents import assign_agent
from consent.timeline import citizen_timeline
from tests.factories import (
    create_access_manager,
    create_agent,
    create_mandate,
    create_organisation,
    create_person,
    invite_helper,
    signed_in,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def _helper_read(
    conn: asyncpg.Connection, citizen: Person, helper: Person, at: datetime, **extra: object
) -> None:
    await record_access(
        conn,
        citizen_id=citizen.person_id,
        accessor=Accessor(kind="helper", ref=str(helper.person_id)),
        action="read",
        channel="web",
        categories=["dimona"],
        occurred_at=at,
        **extra,  # type: ignore[arg-type]
    )


async def test_one_list_newest_first_with_each_stream(conn: asyncpg.Connection) -> None:
    citizen = await create_person(conn, language="en")
    helper = await create_person(conn, given_name="Pieter", family_name="Janssens")
    mandate = await create_mandate(conn, citizen, helper=helper, now=T0)
    institution = await create_organisation(conn, kind="institution", name_fr="Office national de l'emploi")
    await _helper_read(conn, citizen, helper, T0 + timedelta(hours=1), mandate_id=mandate.mandate_id)
    await record_access(
        conn,
        citizen_id=citizen.person_id,
        accessor=Accessor(kind="institution", org_id=institution.org_id, client_id="onem"),
        action="read",
        channel="api",
        categories=["dmfa"],
        occurred_at=T0 + timedelta(hours=2),
    )
    as_citizen = await signed_in(conn, citizen)
    await ending.end_mandate(conn, as_citizen, mandate.mandate_id, reason="Done", now=T0 + timedelta(hours=3))

    page = await citizen_timeline(conn, as_citizen, language="en", now=T0 + timedelta(hours=4))

    assert [(item.stream, item.sentence) for item in page.items] == [
        ("mandates", "You ended the mandate of Pieter Janssens."),
        ("institutions", page.items[1].sentence),
        ("helpers", page.items[2].sentence),
        ("mandates", "Pieter Janssens accepted your mandate: it started at that moment."),
        ("mandates", "You invited Pieter Janssens to help you."),
    ]
    assert "Office national de l'emploi" in page.items[1].sentence
    assert page.items[0].reason == "Done"
    assert page.items[2].actor == "Pieter Janssens"
    assert page.items[2].entry is not None
    assert page.items[2].end_mandate_id is None, "the mandate has ended: nothing left to end"
    assert [day.day for day in page.days] == [T0.date()]
    assert page.next_before is None

    only_helpers = await citizen_timeline(conn, as_citizen, language="en", stream="helpers")
    assert [item.stream for item in only_helpers.items] == ["helpers"]
    only_mandates = await citizen_timeline(conn, as_citizen, language="en", stream="mandates")
    assert {item.stream for item in only_mandates.items} == {"mandates"}
    assert len(only_mandates.items) == 3


async def test_next_to_a_helpers_action_the_mandate_to_end(conn: asyncpg.Connection) -> None:
    citizen = await create_person(conn)
    helper = await create_person(conn)
    mandate = await create_mandate(conn, citizen, helper=helper)
    # A refused attempt carries no mandate: the helper's running mandate is offered.
    await record_access(
        conn,
        citizen_id=citizen.person_id,
        accessor=Accessor(kind="helper", ref=str(helper.person_id)),
        action="read",
        channel="web",
        outcome="denied",
        reason="the mandate does not cover this data or action",
        categories=["drs"],
        occurred_at=datetime.now(UTC) - timedelta(minutes=2),
    )
    organisation = await create_organisation(conn)
    manager = await create_access_manager(conn, organisation)
    agent = await create_agent(conn, organisation)
    held = await create_mandate(conn, citizen, organisation=organisation, accepted_by=manager)
    await assign_agent(conn, await signed_in(conn, manager), held.mandate_id, agent.person_id)
    await record_access(
        conn,
        citizen_id=citizen.person_id,
        accessor=Accessor(kind="agent", org_id=organisation.org_id, ref="AG-1", role="agent"),
        action="read",
        channel="web",
        categories=["dimona"],
        occurred_at=datetime.now(UTC) - timedelta(minutes=1),
    )

    page = await citizen_timeline(conn, await signed_in(conn, citizen), language="nl", stream="helpers")

    assert [item.end_mandate_id for item in page.items] == [held.mandate_id, mandate.mandate_id]


async def test_paging_joins_both_sources_without_gaps_or_repeats(conn: asyncpg.Connection) -> None:
    citizen = await create_person(conn)
    helper = await create_person(conn)
    mandate = await create_mandate(conn, citizen, helper=helper, now=T0)
    for minutes in range(7):
        # Two accesses at the same moment as each other: the cursor must keep them apart.
        for _copy in range(2):
            await _helper_read(conn, citizen, helper, T0 + timedelta(minutes=minutes), mandate_id=mandate.mandate_id)
    as_citizen = await signed_in(conn, citizen)
    expected = await citizen_timeline(conn, as_citizen, language="en", limit=100)
    assert len(expected.items) == 16

    seen: list[str] = []
    before = None
    while True:
        page = await citizen_timeline(conn, as_citizen, language="en", before=before, limit=3)
        seen += [item.key for item in page.items]
        if page.next_before is None:
            break
        before = page.next_before
    assert seen == [item.key for item in expected.items]


async def test_every_mandate_step_reads_as_a_sentence(conn: asyncpg.Connection) -> None:
    citizen = await create_person(conn, language="en")
    declined_by = await create_person(conn, given_name="Dirk", family_name="Declines")
    invitation = await invite_helper(conn, citizen, helper=declined_by)
    from consent.invitations import decline_invitation

    await decline_invitation(conn, await signed_in(conn, declined_by), invitation.code, reason="Busy")
    cancelled = await invite_helper(
        conn, citizen, helper=await create_person(conn, given_name="Cas", family_name="Cancel")
    )
    as_citizen = await signed_in(conn, citizen)
    await ending.cancel_invitation(conn, as_citizen, cancelled.mandate.mandate_id)
    helper = await create_person(conn, given_name="Tom", family_name="Themes")
    mandate = await create_mandate(
        conn, citizen, helper=helper, themes=(("work_and_wages", "read"), ("posting", "read"))
    )
    await ending.end_theme(conn, await signed_in(conn, helper), mandate.mandate_id, "posting")

    sentences = [item.sentence for item in (await citizen_timeline(conn, as_citizen, language="en")).items]

    assert "Dirk Declines declined your invitation." in sentences
    assert "You cancelled your invitation to Cas Cancel." in sentences
    assert "Tom Themes ended the theme “Posting” of the mandate you gave." in sentences


async def test_only_the_citizen_themself_sees_their_timeline(conn: asyncpg.Connection) -> None:
    citizen = await create_person(conn)
    helper = await create_person(conn)
    await create_mandate(conn, citizen, helper=helper)
    acting = msgspec.structs.replace(await signed_in(conn, helper), acting_for=citizen)

    with pytest.raises(Problem) as refused:
        await citizen_timeline(conn, acting, language="nl")
    assert refused.value.status == 403
    own = await citizen_timeline(conn, await signed_in(conn, helper), language="nl")
    assert own.items == [], "the helper's own timeline holds nothing of the citizen's"
