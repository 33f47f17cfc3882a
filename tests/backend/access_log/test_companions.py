"""What the access-log page shows beside its entries, read in one statement."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
from cryptography.hazmat.primitives.asymmetric import ec

from backend.access_log.alerts import set_alerts_enabled
from backend.access_log.anomalies import record_and_flag
from backend.access_log.companions import log_companions
from backend.access_log.contests import open_contest
from backend.access_log.schemas import Accessor
from backend.access_log.service import record_access
from tests.factories import create_organisation, create_person

NIGHT = datetime(2026, 2, 10, 23, 30, tzinfo=UTC)


async def test_an_empty_log_has_no_companions(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    companions = await log_companions(conn, person.person_id, [], language="en")
    assert companions.organisations == []
    assert companions.contests == {}
    assert companions.alerts_enabled is False
    assert companions.pending_alerts == []


async def test_the_companions_of_a_page_the_whole_logs_organisations_its_cases_and_alerts(
    conn: asyncpg.Connection,
) -> None:
    person = await create_person(conn)
    sfp = await create_organisation(conn, kind="institution", name_fr="Service fédéral des Pensions", name_nl="FPD")
    onem = await create_organisation(conn, kind="institution", name_fr="Office national de l'emploi", name_nl="RVA")
    await set_alerts_enabled(conn, person.person_id, True)
    by_sfp = Accessor(kind="institution", org_id=sfp.org_id, client_id="sfp")
    first = await record_access(conn, citizen_id=person.person_id, accessor=by_sfp, action="read", channel="api")
    await record_access(
        conn, citizen_id=person.person_id, accessor=Accessor(kind="helper", ref="h"), action="read", channel="web"
    )
    at_night = await record_and_flag(
        conn,
        citizen_id=person.person_id,
        accessor=Accessor(kind="institution", org_id=onem.org_id, client_id="onem"),
        action="read",
        channel="api",
        occurred_at=NIGHT,
    )
    key = ec.generate_private_key(ec.SECP256R1())
    contested = await open_contest(conn, citizen_id=person.person_id, event_id=first.event_id, key=key)
    await open_contest(conn, citizen_id=person.person_id, event_id=at_night.event_id, key=key)

    # The page shows seqs 3 and 1: the case of each, none for the entry not on it.
    companions = await log_companions(conn, person.person_id, [3, 1], language="fr")
    # Every organisation of the log, sorted by its name in the reader's language; the helper is none.
    assert companions.organisations == [
        (onem.org_id, "Office national de l'emploi"),
        (sfp.org_id, "Service fédéral des Pensions"),
    ]
    assert set(companions.contests) == {first.event_id, at_night.event_id}
    assert companions.contests[first.event_id].contest_id == contested.contest_id
    assert companions.contests[first.event_id].pending
    assert companions.alerts_enabled is True
    # No purpose was given for it either: three alerted flags on one access.
    assert [(alert.seq, alert.flag) for alert in companions.pending_alerts] == [
        (3, "first_institution"),
        (3, "night"),
        (3, "outside_purpose"),
    ]
    assert companions.pending_alerts[0].entry.who.name == "Office national de l'emploi"

    only_first = await log_companions(conn, person.person_id, [2, 1], language="nl")
    assert set(only_first.contests) == {first.event_id}
    assert [name for _, name in only_first.organisations] == ["FPD", "RVA"]
