"""Helpers under a mandate see exactly the categories the mandate covers, and every read is in the person's log.

One table over the reading contexts (the person themself; a helper with the covering theme as READ, or with
"Reporting errors" as ACT too; a helper with other themes only; ended, expired and pending mandates; an agent
named for the organisation's mandate and one not named; a citizen with no mandate), through the services the
pages and the JSON twins call: which categories the overview shows, whether a category can be opened, and the
access-log rows written (count, outcome, categories, mandate, records).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

import asyncpg
import pytest

from backend.core.identity.schemas import Person
from backend.records.citizen import records_overview
from backend.records.error_report_queries import select_own_reports
from backend.records.error_reports import report_error
from backend.records.helper_reads import may_report_errors, read_category, readable_reports, shown_categories
from frontend.rendering import LOCALE_DIR
from tests.backend.records import helper_contexts as contexts
from tests.backend.records.citizen_data import make_citizen_file
from tests.backend.records.helper_contexts import EVERY_CATEGORY, WAGES_CATEGORIES, Reader, log_rows, record_ids
from tests.backend.records.institutions import Institution

Context = Callable[[asyncpg.Connection, Person], Awaitable[Reader]]
MESSAGE = "I stopped working for this employer on 31 March 2026."


@pytest.fixture(autouse=True, scope="module")
def catalogs() -> None:
    """The translations the app loads at start-up (refusal reasons are written in the reader's language)."""
    from backend.core import i18n

    i18n.load_catalogs(LOCALE_DIR)


@dataclass(frozen=True)
class Expected:
    """What a context sees: the overview's categories, whether Dimona opens, the refusal's reason, reporting."""

    overview: list[str]
    dimona: bool
    refusal: str | None
    may_report: bool
    logged: bool = True


CASES: list[tuple[str, Context, Expected]] = [
    ("the person themself", contexts.myself, Expected(EVERY_CATEGORY, True, None, True, logged=False)),
    ("helper, theme given as READ", contexts.helper_reading, Expected(WAGES_CATEGORIES, True, None, False)),
    ("helper, READ and ACT", contexts.helper_acting, Expected(WAGES_CATEGORIES, True, None, True)),
    (
        "helper, other themes only",
        contexts.helper_other_themes,
        Expected(["limosa", "a1"], False, "the mandate does not cover this data or action", False),
    ),
    ("ended mandate", contexts.helper_revoked, Expected([], False, "the mandate was ended", False)),
    ("expired mandate", contexts.helper_expired, Expected([], False, "the mandate has expired", False)),
    (
        "pending mandate",
        contexts.helper_pending,
        Expected([], False, "the mandate has not been accepted yet", False),
    ),
    ("agent named for the mandate", contexts.agent_assigned, Expected(WAGES_CATEGORIES, True, None, False)),
    (
        "agent not named for the mandate",
        contexts.agent_not_assigned,
        Expected([], False, "the organisation has not named this agent for this mandate", False),
    ),
    ("no mandate at all", contexts.no_mandate, Expected([], False, "no mandate was given for this", False)),
]


@pytest.mark.parametrize(("context", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
async def test_each_context_sees_exactly_what_its_mandate_covers(
    conn: asyncpg.Connection, onss: Institution, context: Context, expected: Expected
) -> None:
    mother = (await make_citizen_file(conn, onss, language="en")).person
    reader = await context(conn, mother)
    before = len(await log_rows(conn, mother))
    user = reader.user

    # The overview: exactly the covered categories, one granted read per category shown.
    only = await shown_categories(conn, user, channel="api")
    overview = await records_overview(conn, user.subject_id, language="en", only=only)
    assert [card.code for card in overview.categories] == expected.overview
    rows = (await log_rows(conn, mother))[before:]
    if not expected.logged:
        assert only is None
        assert rows == [], "the person reading their own records is not logged"
    else:
        assert [(row.outcome, row.categories) for row in rows] == [("granted", [code]) for code in expected.overview]
        for row in rows:
            assert (row.mandate_id, row.channel, row.action) == (reader.mandate_id, "api", "read")
            assert sorted(row.record_refs) == await record_ids(conn, mother, row.categories[0])

    # One category: allowed (one granted event naming its records) or refused (one denied event saying why).
    before = len(await log_rows(conn, mother))
    decision = await read_category(conn, user, "dimona", channel="web")
    assert decision.allowed is expected.dimona
    rows = (await log_rows(conn, mother))[before:]
    if not expected.logged:
        assert rows == []
    else:
        (row,) = rows
        assert (row.categories, row.channel, row.action) == (["dimona"], "web", "read")
        assert row.outcome == ("granted" if expected.dimona else "denied")
        assert row.reason == expected.refusal
        # A refusal names the mandate that was asked about; a stranger has none.
        assert row.mandate_id == reader.mandate_id
        # The records shown are named; a refusal showed none.
        assert sorted(row.record_refs) == (await record_ids(conn, mother, "dimona") if expected.dimona else [])
        if reader.org_id is not None:
            assert (row.actor_kind, row.actor_org_id, row.actor_ref) == ("agent", reader.org_id, reader.pseudonym)
        else:
            assert (row.actor_kind, row.actor_ref) == ("helper", str(reader.person.person_id))

    # "Report an error" is offered only with the ACT right of "Reporting errors"; asking logs nothing.
    before = len(await log_rows(conn, mother))
    assert await may_report_errors(conn, user) is expected.may_report
    assert len(await log_rows(conn, mother)) == before


async def test_a_helper_sees_only_the_error_reports_in_covered_categories(
    conn: asyncpg.Connection, onss: Institution
) -> None:
    mother = (await make_citizen_file(conn, onss, language="en")).person
    dimona, drs = (await record_ids(conn, mother, "dimona"))[0], (await record_ids(conn, mother, "drs"))[0]
    for record_id in (dimona, drs):
        await report_error(conn, citizen_id=mother.person_id, record_id=UUID(record_id), message=MESSAGE)
    reports = await select_own_reports(conn, mother.person_id, limit=10)
    reader = await contexts.helper_reading(conn, mother)
    before = len(await log_rows(conn, mother))

    shown = await readable_reports(conn, reader.user, reports, channel="web")

    assert [report.category for report in shown] == ["dimona"]
    (row,) = (await log_rows(conn, mother))[before:]
    assert (row.outcome, row.categories, row.record_refs, row.mandate_id) == (
        "granted",
        ["dimona"],
        [dimona],
        reader.mandate_id,
    )
    # The person herself sees both, and nothing is logged.
    mine = await readable_reports(conn, (await contexts.myself(conn, mother)).user, reports, channel="web")
    assert len(mine) == 2
    assert len(await log_rows(conn, mother)) == before + 1
