"""Reviewers' view of assisted sessions, per agent, with flags for patterns worth a look.

A flag is not a verdict: many sessions in one day, a session opened without the person's own code (an identity
check instead), and a session opened outside opening hours (08:00-18:00 Brussels, Monday to Friday).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Final, Literal

import asyncpg
import msgspec

from backend.desk import session_queries
from backend.desk.citizen import BRUSSELS
from backend.desk.schemas import DeskSession

Flag = Literal["many_sessions", "identity_check", "outside_hours"]
# More sessions than this by one agent on one Brussels day is unusual for a desk.
MANY_PER_DAY: Final = 15
OPENS: Final = time(8, 0)
CLOSES: Final = time(18, 0)
PERIOD: Final = timedelta(days=30)


class ReviewedSession(msgspec.Struct, frozen=True, kw_only=True):
    """A session with its flags and how many steps it had."""

    session: DeskSession
    actions: int
    flags: list[Flag]


class AgentSessions(msgspec.Struct, frozen=True, kw_only=True):
    """One agent (by pseudonym) and their sessions in the period."""

    agent_ref: str
    office: str
    sessions: list[ReviewedSession]

    @property
    def flagged(self) -> int:
        """How many of the agent's sessions carry a flag."""
        return sum(1 for item in self.sessions if item.flags)


def outside_hours(opened_at: datetime) -> bool:
    """True when a session was opened on a weekend or outside 08:00-18:00 Brussels time."""
    local = opened_at.astimezone(BRUSSELS)
    return local.weekday() >= 5 or not OPENS <= local.time() < CLOSES


def flags_of(sessions: list[DeskSession], *, many_per_day: int = MANY_PER_DAY) -> dict[object, list[Flag]]:
    """The flags of each session (by session id), over one agent's or many agents' sessions."""
    per_day: dict[tuple[object, object], int] = {}
    for session in sessions:
        key = (session.agent_person_id, session.opened_at.astimezone(BRUSSELS).date())
        per_day[key] = per_day.get(key, 0) + 1
    found: dict[object, list[Flag]] = {}
    for session in sessions:
        flags: list[Flag] = []
        if per_day[(session.agent_person_id, session.opened_at.astimezone(BRUSSELS).date())] > many_per_day:
            flags.append("many_sessions")
        if session.verification == "identity_check":
            flags.append("identity_check")
        if outside_hours(session.opened_at):
            flags.append("outside_hours")
        found[session.session_id] = flags
    return found


async def sessions_per_agent(
    conn: asyncpg.Connection,
    *,
    agent_ref: str | None = None,
    flagged_only: bool = False,
    now: datetime | None = None,
    many_per_day: int = MANY_PER_DAY,
) -> list[AgentSessions]:
    """Sessions of the last 30 days grouped per agent, most flagged agents first."""
    at = now or datetime.now(UTC)
    sessions = await session_queries.select_sessions_since(conn, at - PERIOD)
    flags = flags_of(sessions, many_per_day=many_per_day)
    counts = await session_queries.count_actions_by_session(conn, [s.session_id for s in sessions])
    groups: dict[str, AgentSessions] = {}
    for session in sessions:
        if agent_ref is not None and session.agent_ref != agent_ref:
            continue
        item = ReviewedSession(
            session=session, actions=counts.get(session.session_id, 0), flags=flags[session.session_id]
        )
        if flagged_only and not item.flags:
            continue
        group = groups.setdefault(
            session.agent_ref, AgentSessions(agent_ref=session.agent_ref, office=session.office, sessions=[])
        )
        group.sessions.append(item)
    return sorted(groups.values(), key=lambda group: (-group.flagged, group.agent_ref))
