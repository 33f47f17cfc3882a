"""Reviewers' flags on assisted sessions: many sessions in a day, identity check instead of a code, outside hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import asyncpg
import pytest

from backend.desk.review import flags_of, outside_hours, sessions_per_agent
from backend.desk.schemas import DeskSession
from tests.backend.desk.desk_data import desk_agent, opened


@pytest.mark.parametrize(
    ("moment", "outside"),
    [
        (datetime(2026, 11, 18, 7, 0, tzinfo=UTC), False),  # Wednesday 08:00 Brussels (winter)
        (datetime(2026, 11, 18, 6, 59, tzinfo=UTC), True),  # 07:59
        (datetime(2026, 11, 18, 16, 59, tzinfo=UTC), False),  # 17:59
        (datetime(2026, 11, 18, 17, 0, tzinfo=UTC), True),  # 18:00
        (datetime(2026, 7, 15, 6, 0, tzinfo=UTC), False),  # summer time: 08:00 Brussels
        (datetime(2026, 11, 21, 10, 0, tzinfo=UTC), True),  # Saturday
        (datetime(2026, 11, 22, 10, 0, tzinfo=UTC), True),  # Sunday
    ],
)
def test_opening_hours_are_weekdays_eight_to_six_in_brussels(moment: datetime, outside: bool) -> None:
    assert outside_hours(moment) is outside


def _session(agent: object, opened_at: datetime, verification: str = "presence_code") -> DeskSession:
    return DeskSession(
        citizen_id=uuid4(),
        session_id=uuid4(),
        agent_person_id=agent,  # type: ignore[arg-type]
        agent_ref="STA-1",
        office="Test desk",
        verification=verification,  # type: ignore[arg-type]
        document_type="be_eid" if verification == "identity_check" else None,
        document_last4="1234" if verification == "identity_check" else None,
        reason="Help",
        scopes=("view_data",),
        opened_at=opened_at,
        expires_at=opened_at + timedelta(minutes=30),
        extended_at=None,
        ended_at=None,
        end_reason=None,
    )


@pytest.mark.parametrize(("count", "flagged"), [(3, False), (4, True)])
def test_many_sessions_by_one_agent_in_one_day_are_flagged(count: int, flagged: bool) -> None:
    agent, other = uuid4(), uuid4()
    morning = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
    sessions = [_session(agent, morning + timedelta(minutes=20 * i)) for i in range(count)]
    sessions += [_session(other, morning), _session(agent, morning + timedelta(days=1))]
    flags = flags_of(sessions, many_per_day=3)
    assert all(("many_sessions" in flags[s.session_id]) is flagged for s in sessions[:count])
    assert all("many_sessions" not in flags[s.session_id] for s in sessions[count:])


def test_an_identity_check_is_flagged() -> None:
    agent = uuid4()
    noon = datetime(2026, 11, 18, 11, 0, tzinfo=UTC)
    with_code, checked = _session(agent, noon), _session(agent, noon, "identity_check")
    flags = flags_of([with_code, checked])
    assert flags[with_code.session_id] == []
    assert flags[checked.session_id] == ["identity_check"]


async def test_sessions_are_grouped_per_agent_most_flagged_first(conn: asyncpg.Connection) -> None:
    calm = await desk_agent(conn)
    busy = await desk_agent(conn)
    noon = datetime(2026, 11, 18, 11, 0, tzinfo=UTC)
    await opened(conn, calm, now=noon, with_code=True)
    await opened(conn, busy, now=noon)  # identity check
    await opened(conn, busy, now=datetime(2026, 11, 21, 11, 0, tzinfo=UTC))  # Saturday
    groups = await sessions_per_agent(conn, now=noon + timedelta(days=5))
    refs = [group.agent_ref for group in groups]
    assert refs.index(busy.pseudonym) < refs.index(calm.pseudonym)
    only = await sessions_per_agent(conn, agent_ref=calm.pseudonym, now=noon + timedelta(days=5))
    assert [group.agent_ref for group in only] == [calm.pseudonym]
    flagged = await sessions_per_agent(conn, flagged_only=True, now=noon + timedelta(days=5))
    assert calm.pseudonym not in [group.agent_ref for group in flagged]
