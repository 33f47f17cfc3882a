"""Anomaly flags on access events, and the alerts they raise for citizens who opted in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from backend.access_log import anomaly_queries
from backend.access_log.alerts import PendingAlert, alerts_enabled, pending_alerts, set_alerts_enabled
from backend.access_log.anomalies import (
    EventFacts,
    cursor_token,
    flag_event,
    flagged_events,
    flags_for,
    is_burst,
    is_night,
    is_outside_purpose,
    parse_cursor_token,
    record_and_flag,
)
from backend.access_log.anomaly_queries import FlagCursor
from backend.access_log.companions import log_companions
from backend.access_log.schemas import AccessEvent, Accessor
from backend.access_log.service import record_access
from backend.core.identity.purposes import Purpose, upsert_purpose
from backend.core.identity.schemas import Organisation, Person
from tests.factories import create_organisation, create_person

# 10:00 in Brussels in winter (UTC+1).
DAYTIME = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "night"),
    [
        (datetime(2026, 2, 10, 20, 59, tzinfo=UTC), False),  # 21:59 Brussels (winter)
        (datetime(2026, 2, 10, 21, 0, tzinfo=UTC), True),  # 22:00
        (datetime(2026, 2, 11, 4, 59, tzinfo=UTC), True),  # 05:59
        (datetime(2026, 2, 11, 5, 0, tzinfo=UTC), False),  # 06:00
        (datetime(2026, 7, 10, 20, 0, tzinfo=UTC), True),  # 22:00 Brussels (summer, UTC+2)
        (datetime(2026, 7, 10, 3, 59, tzinfo=UTC), True),  # 05:59
        (datetime(2026, 7, 10, 4, 0, tzinfo=UTC), False),  # 06:00
        (datetime(2026, 7, 10, 12, 0, tzinfo=UTC), False),
    ],
)
def test_night_is_22_to_6_in_brussels(moment: datetime, night: bool) -> None:
    assert is_night(moment) is night


@pytest.mark.parametrize(
    ("categories", "allowed", "outside"),
    [
        (["dimona"], ["dimona", "dmfa"], False),
        (["dimona", "dmfa"], ["dimona", "dmfa"], False),
        ([], ["dimona"], False),
        (["flexi_wages"], ["dimona", "dmfa"], True),
        (["dimona", "flexi_wages"], ["dimona"], True),
        (["dimona"], None, True),  # no registered purpose covers anything
        ([], None, True),
    ],
)
def test_outside_purpose_is_not_a_subset(categories: list[str], allowed: list[str] | None, outside: bool) -> None:
    assert is_outside_purpose(categories, allowed) is outside


@pytest.mark.parametrize(("count", "burst"), [(1, False), (20, False), (21, True), (500, True)])
def test_a_burst_is_more_than_twenty(count: int, burst: bool) -> None:
    assert is_burst(count) is burst


def _event(**overrides: Any) -> AccessEvent:
    fields: dict[str, Any] = {
        "citizen_id": uuid4(),
        "seq": 1,
        "event_id": uuid4(),
        "occurred_at": DAYTIME,
        "logged_at": DAYTIME,
        "actor_kind": "institution",
        "actor_org_id": uuid4(),
        "actor_client_id": None,
        "actor_system": None,
        "actor_role": None,
        "actor_ref": None,
        "mandate_id": None,
        "purpose_code": "p",
        "legal_basis_ref": None,
        "categories": ["dimona"],
        "record_refs": [],
        "case_ref": None,
        "channel": "api",
        "action": "read",
        "outcome": "granted",
        "reason": None,
        "source": None,
        "source_event_id": None,
        "prev_hash": bytes(32),
        "hash": bytes(32),
        **overrides,
    }
    return AccessEvent(**fields)


@pytest.mark.parametrize(
    ("event", "facts", "expected"),
    [
        (_event(), EventFacts(institution_seen_before=True, purpose_categories=("dimona",)), []),
        (
            _event(),
            EventFacts(institution_seen_before=False, purpose_categories=("dimona",)),
            ["first_institution"],
        ),
        (
            _event(categories=["dimona", "flexi_wages"]),
            EventFacts(institution_seen_before=True, purpose_categories=("dimona",)),
            ["outside_purpose"],
        ),
        (
            _event(occurred_at=datetime(2026, 2, 10, 23, 0, tzinfo=UTC)),
            EventFacts(institution_seen_before=False, purpose_categories=None),
            ["first_institution", "outside_purpose", "night"],
        ),
        (
            _event(actor_kind="agent", actor_ref="ORG-1", purpose_code=None),
            EventFacts(actor_events_in_window=21),
            ["helper", "burst"],
        ),
        (
            _event(actor_kind="helper", actor_org_id=None, actor_ref="x"),
            EventFacts(actor_events_in_window=3),
            ["helper"],
        ),
        (_event(actor_kind="staff", actor_ref="STA-1", purpose_code=None), EventFacts(actor_events_in_window=20), []),
    ],
)
def test_flags_for_combines_the_rules(event: AccessEvent, facts: EventFacts, expected: list[str]) -> None:
    assert flags_for(event, facts) == expected


# --- against the database ------------------------------------------------------------------------------------


async def _institution(conn: asyncpg.Connection, code: str) -> Organisation:
    organisation = await create_organisation(conn, kind="institution", code=code)
    await upsert_purpose(
        conn,
        Purpose(
            org_id=organisation.org_id,
            code="unemployment_benefit",
            categories=("dimona", "dmfa"),
            legal_basis_nl="KB",
            legal_basis_fr="AR",
            legal_basis_de="KE",
            legal_basis_en="RD",
            authorisation_ref="IVC/TEST/001",
        ),
    )
    return organisation


def _as(organisation: Organisation) -> Accessor:
    return Accessor(kind="institution", org_id=organisation.org_id, client_id="test-client")


async def _institution_reads(
    conn: asyncpg.Connection, person: Person, organisation: Organisation, **overrides: Any
) -> AccessEvent:
    """An institution reads under its registered purpose (overridable), flagged as it is recorded."""
    fields: dict[str, Any] = {
        "categories": ["dimona"],
        "purpose_code": "unemployment_benefit",
        "occurred_at": DAYTIME,
        **overrides,
    }
    return await record_and_flag(
        conn, citizen_id=person.person_id, accessor=_as(organisation), action="read", channel="api", **fields
    )


async def _helper_reads(conn: asyncpg.Connection, person: Person, occurred_at: datetime) -> AccessEvent:
    """A private helper reads, flagged as it is recorded."""
    return await record_and_flag(
        conn,
        citizen_id=person.person_id,
        accessor=Accessor(kind="helper", ref=str(uuid4())),
        action="read",
        channel="web",
        occurred_at=occurred_at,
    )


async def test_record_and_flag_flags_a_first_access_once_and_an_access_outside_the_purpose(
    conn: asyncpg.Connection,
) -> None:
    person = await create_person(conn)
    onem = await _institution(conn, "ONEMFLAG")
    common: dict[str, Any] = {"citizen_id": person.person_id, "accessor": _as(onem), "action": "read", "channel": "api"}

    first = await record_and_flag(
        conn, **common, categories=["dimona"], purpose_code="unemployment_benefit", occurred_at=DAYTIME
    )
    assert first.seq == 1, "record_and_flag records exactly as record_access does"
    assert await anomaly_queries.select_event_flags(conn, person.person_id, 1) == ["first_institution"]

    await record_and_flag(
        conn, **common, categories=["dimona"], purpose_code="unemployment_benefit", occurred_at=DAYTIME
    )
    assert await anomaly_queries.select_event_flags(conn, person.person_id, 2) == []

    await record_and_flag(
        conn,
        **common,
        categories=["flexi_wages"],
        purpose_code="unemployment_benefit",
        outcome="denied",
        reason="not covered",
        occurred_at=DAYTIME,
    )
    assert await anomaly_queries.select_event_flags(conn, person.person_id, 3) == ["outside_purpose"]

    await record_and_flag(conn, **common, categories=["dimona"], purpose_code="not_registered", occurred_at=DAYTIME)
    assert await anomaly_queries.select_event_flags(conn, person.person_id, 4) == ["outside_purpose"]


async def test_an_institution_is_seen_before_exactly_when_an_earlier_event_of_the_log_names_it(
    conn: asyncpg.Connection,
) -> None:
    person = await create_person(conn)
    onem, sfp = await _institution(conn, "ONEMSEEN"), await _institution(conn, "SFPSEEN")
    order = [onem, sfp, onem, onem, sfp]
    flagged = []
    for organisation in order:
        event = await _institution_reads(conn, person, organisation)
        flagged.append(
            "first_institution" in await anomaly_queries.select_event_flags(conn, person.person_id, event.seq)
        )
    assert flagged == [True, True, False, False, False]
    # Asked again later, with more events after them, the answers stay those of their own moment.
    expected = {1: False, 2: False, 3: True, 4: True, 5: True}
    for seq, organisation in enumerate(order, start=1):
        seen = await anomaly_queries.select_institution_seen_before(conn, person.person_id, organisation.org_id, seq)
        assert seen is expected[seq], seq


async def test_flagging_the_same_event_twice_adds_nothing(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    event = await record_access(
        conn,
        citizen_id=person.person_id,
        accessor=Accessor(kind="helper", ref=str(uuid4())),
        action="read",
        channel="web",
        occurred_at=datetime(2026, 2, 10, 23, 30, tzinfo=UTC),
    )
    assert await flag_event(conn, event) == ["helper", "night"]
    assert await flag_event(conn, event) == ["helper", "night"]
    count = await conn.fetchval("SELECT count(*) FROM access_event_flags WHERE citizen_id = $1", person.person_id)
    assert count == 2


async def test_a_burst_is_flagged_from_the_twenty_first_access_within_ten_minutes_across_citizens(
    conn: asyncpg.Connection,
) -> None:
    organisation = await create_organisation(conn)
    agent = Accessor(kind="agent", org_id=organisation.org_id, ref=f"CPA-{uuid4().hex[:10]}", role="agent")
    citizens = [await create_person(conn) for _ in range(3)]
    start = DAYTIME
    flags = []
    for number in range(22):
        event = await record_and_flag(
            conn,
            citizen_id=citizens[number % 3].person_id,
            accessor=agent,
            action="read",
            channel="web",
            occurred_at=start + timedelta(seconds=20 * number),
        )
        flags.append(await anomaly_queries.select_event_flags(conn, event.citizen_id, event.seq))
    assert all(found == ["helper"] for found in flags[:20])
    assert flags[20] == ["burst", "helper"]
    assert flags[21] == ["burst", "helper"]

    # Ten minutes after the 1st access, the window no longer holds twenty others.
    later = await record_and_flag(
        conn,
        citizen_id=citizens[0].person_id,
        accessor=agent,
        action="read",
        channel="web",
        occurred_at=start + timedelta(minutes=30),
    )
    assert await anomaly_queries.select_event_flags(conn, later.citizen_id, later.seq) == ["helper"]


async def _page_alerts(conn: asyncpg.Connection, person: Person) -> tuple[bool, list[PendingAlert]]:
    """The opt-in and the pending alerts as the access-log page reads them."""
    companions = await log_companions(conn, person.person_id, [], language="fr")
    return companions.alerts_enabled, companions.pending_alerts


async def test_alerts_are_owed_only_to_citizens_who_opted_in_and_only_for_what_they_asked(
    conn: asyncpg.Connection,
) -> None:
    person = await create_person(conn, language="fr")
    onem = await _institution(conn, "ONEMALRT")
    assert not await alerts_enabled(conn, person.person_id)

    # Before opting in: flagged, no alert.
    await _institution_reads(conn, person, onem)
    assert await anomaly_queries.select_event_flags(conn, person.person_id, 1) == ["first_institution"]
    assert await pending_alerts(conn, person.person_id, language="fr") == []
    assert await _page_alerts(conn, person) == (False, [])

    await set_alerts_enabled(conn, person.person_id, True)
    assert await alerts_enabled(conn, person.person_id)
    night = datetime(2026, 2, 10, 23, 30, tzinfo=UTC)
    await _institution_reads(conn, person, onem, occurred_at=night)
    # A helper's access is flagged for reviewers but is not something the citizen asked to be told about.
    await _helper_reads(conn, person, DAYTIME)
    alerts = await pending_alerts(conn, person.person_id, language="fr")
    assert [(alert.seq, alert.flag) for alert in alerts] == [(2, "night")]
    assert "11 février 2026" in alerts[0].entry.sentence, "in the citizen's language, on the Brussels day"
    assert alerts[0].flag_label
    # The page reads the opt-in and the pending alerts in its one companion statement: the same answer.
    assert await _page_alerts(conn, person) == (True, alerts)

    await set_alerts_enabled(conn, person.person_id, False)
    await _institution_reads(conn, person, onem, categories=["flexi_wages"])
    assert len(await pending_alerts(conn, person.person_id, language="fr")) == 1
    assert await _page_alerts(conn, person) == (False, alerts)


async def test_reviewers_list_flagged_events_newest_first_and_by_flag(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    onem = await _institution(conn, "ONEMLIST")
    await _institution_reads(conn, person, onem)
    await _helper_reads(conn, person, datetime(2026, 2, 10, 23, 0, tzinfo=UTC))
    mine = [
        item
        for item in (await flagged_events(conn, flag=None, language="en")).events
        if item.citizen_id == person.person_id
    ]
    assert sorted(item.entry.seq for item in mine) == [1, 2]
    assert {tuple(item.flags) for item in mine} == {("first_institution",), ("helper", "night")}
    night = (await flagged_events(conn, flag="night", language="en")).events
    assert all("night" in item.flags for item in night)
    assert any(item.citizen_id == person.person_id and item.entry.seq == 2 for item in night)
    assert not any(item.citizen_id == person.person_id and item.entry.seq == 1 for item in night)


async def test_reviewers_page_through_flagged_events_without_skipping_events_flagged_at_the_same_time(
    conn: asyncpg.Connection,
) -> None:
    # Everything in this test runs in one transaction, so every flag below has the very same raised_at, as the
    # flags of one bulk ingest do: only the (raised_at, citizen, seq) order keeps the pages apart.
    person = await create_person(conn)
    for _ in range(3):
        await _helper_reads(conn, person, DAYTIME)
    raised_at = await conn.fetchval("SELECT now()")
    start = FlagCursor(raised_at + timedelta(microseconds=1), UUID(int=2**128 - 1), 2**62)
    seen: list[int] = []
    before: FlagCursor | None = start
    while len(seen) < 3:
        page = await flagged_events(conn, flag="helper", language="en", limit=1, before=before)
        assert len(page.events) == 1
        assert page.events[0].citizen_id == person.person_id
        seen.append(page.events[0].entry.seq)
        before = page.older
        if len(seen) < 3:  # older flags of other people may follow the last one, or none
            assert page.older is not None
            assert parse_cursor_token(cursor_token(page.older)) == page.older, "the cursor survives the address"
    assert seen == [3, 2, 1]
    both = await flagged_events(conn, flag="helper", language="en", limit=2, before=start)
    assert [item.entry.seq for item in both.events] == [3, 2]
    assert both.older == FlagCursor(raised_at, person.person_id, 2)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "nonsense",
        "2026-12-01T10:00:00+00:00~not-a-uuid~3",
        "2026-12-01T10:00:00~00000000-0000-0000-0000-000000000001~3",  # no time zone
        "2026-12-01T10:00:00+00:00~00000000-0000-0000-0000-000000000001~0",
        "2026-12-01T10:00:00+00:00~00000000-0000-0000-0000-000000000001~-3",
        "2026-12-01T10:00:00+00:00~00000000-0000-0000-0000-000000000001~99999999999999999999",
        "2026-13-01T10:00:00+00:00~00000000-0000-0000-0000-000000000001~3",
    ],
)
def test_an_edited_flags_cursor_is_read_as_none(token: str) -> None:
    assert parse_cursor_token(token) is None


async def test_flags_are_append_only_for_the_application(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    await _helper_reads(conn, person, DAYTIME)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with conn.transaction():
            await conn.execute("UPDATE access_event_flags SET flag = 'night' WHERE citizen_id = $1", person.person_id)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with conn.transaction():
            await conn.execute("DELETE FROM access_event_flags WHERE citizen_id = $1", person.person_id)
