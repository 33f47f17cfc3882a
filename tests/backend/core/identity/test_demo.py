"""The demo identity: its two reviewers show both scopes of the reviewers' console."""

from __future__ import annotations

import asyncpg

from backend.access_log.review_scope import handles, reviewed_organisation
from backend.core.identity import queries
from backend.core.identity.demo import PERSONAS, seed_identity
from tests.factories import TEST_SECRET


async def test_one_demo_reviewer_is_vitrines_office_and_one_is_onems(conn: asyncpg.Connection) -> None:
    await seed_identity(conn, secret=TEST_SECRET)
    onem = await queries.select_organisation_by_code(conn, "ONEM")
    assert onem is not None
    staff = {}
    for key in ("marc", "lieve"):
        person = await queries.select_person_by_insz(conn, next(p.insz for p in PERSONAS if p.key == key))
        assert person is not None
        record = await queries.select_staff(conn, person.person_id)
        assert record is not None
        assert record.roles == ("reviewer",)
        staff[key] = record
    assert reviewed_organisation(staff["marc"]) is None
    assert reviewed_organisation(staff["lieve"]) == onem.org_id
    assert handles(staff["lieve"], onem.org_id)
    assert not handles(staff["lieve"], None), "helpers' and desk agents' cases are for Vitrine's office"
    assert handles(staff["marc"], None)
    assert handles(staff["marc"], onem.org_id)
    assert await seed_identity(conn, secret=TEST_SECRET) == 0, "seeding again adds nothing"
