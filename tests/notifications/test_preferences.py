"""Preferences: defaults, one choice per kind and channel, the inbox always on; quiet hours for push."""

from __future__ import annotations

from datetime import UTC, datetime, time

import asyncpg
import pytest

from notifications import preference_queries
from notifications.preferences import (
    channel_enabled,
    in_quiet_hours,
    kind_label,
    preference_table,
    quiet_hours_end,
    set_preference,
)
from notifications.schemas import KINDS, QuietHours
from tests.factories import create_person

NIGHT = QuietHours(quiet_from=time(22, 0), quiet_to=time(7, 0))
LUNCH = QuietHours(quiet_from=time(12, 0), quiet_to=time(13, 30))


@pytest.mark.parametrize(
    ("hours", "moment", "quiet"),
    [
        (None, datetime(2026, 1, 5, 3, 0, tzinfo=UTC), False),
        # Winter: Brussels is UTC+1.
        (NIGHT, datetime(2026, 1, 5, 20, 59, tzinfo=UTC), False),
        (NIGHT, datetime(2026, 1, 5, 21, 0, tzinfo=UTC), True),  # 22:00 Brussels, start included
        (NIGHT, datetime(2026, 1, 6, 5, 59, tzinfo=UTC), True),
        (NIGHT, datetime(2026, 1, 6, 6, 0, tzinfo=UTC), False),  # 07:00 Brussels, end excluded
        # Summer: UTC+2.
        (NIGHT, datetime(2026, 7, 6, 4, 30, tzinfo=UTC), True),
        (LUNCH, datetime(2026, 7, 6, 10, 15, tzinfo=UTC), True),
        (LUNCH, datetime(2026, 7, 6, 11, 30, tzinfo=UTC), False),
    ],
)
def test_quiet_hours_are_read_in_brussels(hours: QuietHours | None, moment: datetime, quiet: bool) -> None:
    assert in_quiet_hours(hours, moment) is quiet


async def test_defaults_and_choices(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    table = await preference_table(conn, person.person_id)
    assert len(table) == len(KINDS) * 3, "inbox, e-mail and push per kind"
    assert all(item.enabled for item in table)
    assert all(item.locked == (item.channel == "inbox") for item in table)
    await set_preference(conn, person.person_id, "access_alert", "email", False)
    await set_preference(conn, person.person_id, "access_alert", "email", False)
    assert not await channel_enabled(conn, person.person_id, "access_alert", "email")
    assert await channel_enabled(conn, person.person_id, "flexi_ceiling", "email")
    await set_preference(conn, person.person_id, "access_alert", "email", True)
    assert await channel_enabled(conn, person.person_id, "access_alert", "email")
    assert kind_label("flexi_ceiling") == "Flexi income nearing or passing the tax-free ceiling"
    assert kind_label("something_new") == "something_new"


async def test_quiet_hours_are_stored_per_person(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    assert await preference_queries.select_quiet_hours(conn, person.person_id) is None
    await preference_queries.upsert_quiet_hours(conn, person.person_id, time(22, 0), time(7, 0))
    assert await preference_queries.select_quiet_hours(conn, person.person_id) == NIGHT
    await preference_queries.upsert_quiet_hours(conn, person.person_id, None, None)
    assert await preference_queries.select_quiet_hours(conn, person.person_id) is None
    with pytest.raises(asyncpg.CheckViolationError):
        async with conn.transaction():
            await preference_queries.upsert_quiet_hours(conn, person.person_id, time(22, 0), None)


@pytest.mark.parametrize(
    ("hours", "moment", "ends"),
    [
        # Winter (UTC+1): 23:00 Brussels ends at 07:00 Brussels the next day, 06:00 UTC.
        (NIGHT, datetime(2026, 1, 5, 22, 0, tzinfo=UTC), datetime(2026, 1, 6, 6, 0, tzinfo=UTC)),
        # 03:00 Brussels ends the same morning.
        (NIGHT, datetime(2026, 1, 6, 2, 0, tzinfo=UTC), datetime(2026, 1, 6, 6, 0, tzinfo=UTC)),
        # The night the clocks go forward (29 March 2026): 07:00 Brussels is then 05:00 UTC.
        (NIGHT, datetime(2026, 3, 28, 22, 30, tzinfo=UTC), datetime(2026, 3, 29, 5, 0, tzinfo=UTC)),
        # The night the clocks go back (25 October 2026): 07:00 Brussels is then 06:00 UTC.
        (NIGHT, datetime(2026, 10, 24, 21, 0, tzinfo=UTC), datetime(2026, 10, 25, 6, 0, tzinfo=UTC)),
        (LUNCH, datetime(2026, 7, 6, 10, 15, tzinfo=UTC), datetime(2026, 7, 6, 11, 30, tzinfo=UTC)),
    ],
)
def test_quiet_hours_end_at_the_next_local_end_time(hours: QuietHours, moment: datetime, ends: datetime) -> None:
    assert in_quiet_hours(hours, moment)
    assert quiet_hours_end(hours, moment) == ends
    assert not in_quiet_hours(hours, quiet_hours_end(hours, moment))
