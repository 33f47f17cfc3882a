"""Contest pages in process: the citizen's one-step button and case page, the reviewers' console (queue, case,
answer, escalate, close, reveal, flags), the accesses one made, and the alerts opt-in.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import httpx
from cryptography.hazmat.primitives.asymmetric import ec

from backend.access_log import contest_queries, queries
from backend.access_log.anomalies import record_and_flag
from backend.access_log.companions import log_companions
from backend.access_log.contest_views import describe_contest
from backend.access_log.contests import open_contest
from backend.access_log.schemas import AccessEvent, Accessor
from backend.access_log.service import record_access
from backend.access_log.views import LogFilters, citizen_log_page
from backend.core.identity import queries as identity_queries
from backend.core.identity import service as identity_service
from backend.core.identity.schemas import Organisation, Person
from backend.core.settings import Settings
from frontend.pages.review import FLAGS_PAGE, QUEUE_PAGE
from frontend.rendering import create_environment
from tests.factories import (
    TEST_SECRET,
    create_agent,
    create_organisation,
    create_person,
    create_staff,
    csrf_token,
    sign_in_client,
)

CSRF = "_csrf_token"


async def _onem(conn: asyncpg.Connection) -> Organisation:
    return await create_organisation(
        conn,
        kind="institution",
        code="ONEMCASE",
        name_nl="Rijksdienst voor Arbeidsvoorziening",
        name_fr="Office national de l'emploi",
        name_de="Landesamt für Arbeitsbeschaffung",
    )


async def _access(conn: asyncpg.Connection, person: Person, organisation: Organisation, **overrides: Any) -> Any:
    return await record_access(
        conn,
        citizen_id=person.person_id,
        **{
            "accessor": Accessor(kind="institution", org_id=organisation.org_id, client_id="onem-case"),
            "action": "read",
            "channel": "api",
            "categories": ["dimona"],
            "occurred_at": datetime(2026, 3, 3, 9, 15, tzinfo=UTC),
            **overrides,
        },
    )


def _location(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    return response.headers["location"]


async def test_the_citizen_contests_in_one_step_and_the_reviewer_answers(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    citizen = await create_person(conn, language="en")
    reviewer = await create_staff(conn, "reviewer", language="en")
    event = await _access(conn, citizen, await _onem(conn))
    await sign_in_client(client, conn, settings.secret_key, citizen)

    log = await client.get("/access-log")
    action = f"/access-log/events/{event.event_id}/contest"
    assert f'action="{action}"' in log.text, "every entry carries the one-step button"
    token = await csrf_token(client, "/access-log")
    refused = await client.post(action)
    assert refused.status_code == 403, "no CSRF token, no case"

    case_url = _location(await client.post(action, data={CSRF: token}))
    assert re.fullmatch(r"/access-log/contests/[0-9a-f-]{36}\?opened=1", case_url)
    contest_id = UUID(case_url.split("/")[-1].split("?")[0])
    case = await client.get(case_url)
    assert case.status_code == 200
    assert "Your question has been sent" in case.text
    assert "(Brussels time)" in case.text
    assert "Office national de l&#39;emploi read your employment declarations (Dimona) on 3 March 2026" in case.text

    # The optional message: empty is explained, then sent once.
    empty = await client.post(f"/access-log/contests/{contest_id}/message", data={CSRF: token, "message": " "})
    assert empty.status_code == 422
    assert 'class="error-summary"' in empty.text
    assert 'href="#contest-message"' in empty.text
    sent = await client.post(
        f"/access-log/contests/{contest_id}/message", data={CSRF: token, "message": "I never asked ONEM for anything."}
    )
    assert _location(sent) == f"/access-log/contests/{contest_id}"
    assert "I never asked ONEM for anything." in (await client.get(f"/access-log/contests/{contest_id}")).text

    again = await client.post(action, data={CSRF: token})
    assert again.status_code == 409
    assert "You already asked about this access" in again.text
    assert f'href="/access-log/contests/{contest_id}"' in again.text

    # The reviewer's console.
    await sign_in_client(client, conn, settings.secret_key, await _person(conn, reviewer.person_id))
    queue = await client.get("/review")
    assert queue.status_code == 200
    assert f'href="/review/cases/{contest_id}"' in queue.text
    page = await client.get(f"/review/cases/{contest_id}")
    assert page.status_code == 200
    assert "I never asked ONEM for anything." in page.text
    assert "Reveal the person" not in page.text, "an institution's system has nobody to reveal"
    review_token = await csrf_token(client, f"/review/cases/{contest_id}")
    blank = await client.post(f"/review/cases/{contest_id}/answer", data={CSRF: review_token, "answer": ""})
    assert blank.status_code == 422
    assert 'href="#case-answer"' in blank.text
    answered = await client.post(
        f"/review/cases/{contest_id}/answer",
        data={CSRF: review_token, "answer": "ONEM checked your employment to compute your benefit."},
    )
    assert _location(answered) == f"/review/cases/{contest_id}"
    closed = await client.post(f"/review/cases/{contest_id}/close", data={CSRF: review_token})
    assert _location(closed) == f"/review/cases/{contest_id}"
    history = (await client.get(f"/review/cases/{contest_id}")).text
    assert "Opened by the citizen" in history
    assert "Answered by An Claes" in history
    assert "Closed by An Claes" in history

    # Back as the citizen: the answer is on the case page and on the entry.
    await sign_in_client(client, conn, settings.secret_key, citizen)
    case = await client.get(f"/access-log/contests/{contest_id}")
    assert "ONEM checked your employment to compute your benefit." in case.text
    log_page = await citizen_log_page(conn, citizen.person_id, language="en", filters=LogFilters(), before_seq=None)
    companions = await log_companions(conn, citizen.person_id, [entry.seq for entry in log_page.entries], language="en")
    rendered = _entry_html(log_page.entries[0], companions.contests.get(event.event_id))
    assert "Contested on" in rendered
    assert "Closed" in rendered
    assert "ONEM checked your employment to compute your benefit." in rendered
    assert "I don't recognise this / why?" in rendered, "a closed case may be followed by a new question"


def _entry_html(entry: Any, contest: Any) -> str:
    template = create_environment().from_string(
        '{% from "components/access-entry/macro.html" import access_entry %}'
        '{{ access_entry({"entry": entry, "contest": contest, "csrf_input": csrf_input}) }}'
    )
    return template.render(entry=entry, contest=contest, csrf_input='<input type="hidden" name="_csrf_token">')


async def _person(conn: asyncpg.Connection, person_id: UUID) -> Person:
    person = await identity_queries.select_person(conn, person_id)
    assert person is not None
    return person


async def test_a_pending_case_replaces_the_button_with_its_deadline(conn: asyncpg.Connection) -> None:
    citizen = await create_person(conn, language="en")
    event = await _access(conn, citizen, await _onem(conn))
    now = await contest_queries.select_now(conn)
    contest = await contest_queries.insert_contest(
        conn, event, receipt="r", message=None, opened_at=now, due_at=now.replace(year=now.year + 1)
    )
    log_page = await citizen_log_page(conn, citizen.person_id, language="en", filters=LogFilters(), before_seq=None)
    rendered = _entry_html(log_page.entries[0], describe_contest(contest, now=now, language="en"))
    assert "Waiting for an answer" in rendered
    assert "An answer is due by" in rendered
    assert '/contest"' not in rendered, "no second question while one waits"
    assert "<form" not in rendered


async def test_only_reviewers_enter_the_console(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    assert (await client.get("/review")).status_code == 303, "a visitor is sent to sign in"
    await sign_in_client(client, conn, settings.secret_key, await create_person(conn))
    assert (await client.get("/review")).status_code == 403
    assert (await client.get("/review/flags")).status_code == 403
    desk = await create_staff(conn, "support")
    await sign_in_client(client, conn, settings.secret_key, desk)
    assert (await client.get("/review")).status_code == 403


async def test_a_reviewer_reveals_the_agent_within_the_case_and_that_reveal_is_logged(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    citizen = await create_person(conn)
    cpas = await create_organisation(conn)
    agent = await create_agent(conn, cpas, given_name="Nathalie", family_name="Lambert")
    membership = (await identity_queries.select_memberships(conn, agent.person_id))[0]
    event = await record_access(
        conn,
        citizen_id=citizen.person_id,
        accessor=Accessor(kind="agent", org_id=cpas.org_id, ref=membership.pseudonym, role="agent"),
        action="read",
        channel="web",
        categories=["dmfa"],
    )
    await sign_in_client(client, conn, settings.secret_key, citizen)
    token = await csrf_token(client, "/access-log")
    case_url = _location(await client.post(f"/access-log/events/{event.event_id}/contest", data={CSRF: token}))
    contest_id = case_url.split("/")[-1].split("?")[0]

    reviewer = await create_staff(conn, "reviewer", language="en")
    await sign_in_client(client, conn, settings.secret_key, reviewer)
    before = await client.get(f"/review/cases/{contest_id}")
    assert membership.pseudonym in before.text
    assert "Nathalie Lambert" not in before.text, "the name stays hidden until revealed"
    review_token = await csrf_token(client, f"/review/cases/{contest_id}")
    revealed = await client.post(f"/review/cases/{contest_id}/reveal", data={CSRF: review_token})
    assert _location(revealed) == f"/review/cases/{contest_id}#case-history"
    after = await client.get(f"/review/cases/{contest_id}")
    assert "revealed who made the access: Nathalie Lambert" in after.text
    assert "Reveal the person" not in after.text
    agent_log = await queries.select_chain(conn, agent.person_id)
    assert [(e.actor_kind, e.categories, e.case_ref) for e in agent_log] == [("staff", ["identity"], contest_id)]

    # Escalating, then answering, both move the case forward.
    escalated = await client.post(
        f"/review/cases/{contest_id}/escalate", data={CSRF: review_token, "reason": "Ask the CPAS's DPO."}
    )
    assert _location(escalated) == f"/review/cases/{contest_id}"
    assert "Escalated by" in (await client.get(f"/review/cases/{contest_id}")).text
    twice = await client.post(f"/review/cases/{contest_id}/escalate", data={CSRF: review_token, "reason": "again"})
    assert twice.status_code == 409


async def test_reviewers_see_flagged_accesses_and_filter_them(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    citizen = await create_person(conn)
    await record_and_flag(
        conn,
        citizen_id=citizen.person_id,
        accessor=Accessor(kind="helper", ref="11111111-2222-3333-4444-555555555555"),
        action="read",
        channel="web",
        occurred_at=datetime(2026, 2, 10, 23, 30, tzinfo=UTC),
    )
    await sign_in_client(client, conn, settings.secret_key, await create_staff(conn, "reviewer", language="en"))
    listing = await client.get("/review/flags")
    assert listing.status_code == 200
    assert "Access at night (22:00 to 06:00)" in listing.text
    assert "Access by a helper or an organisation&#39;s agent" in listing.text
    only_burst = await client.get("/review/flags", params={"flag": "burst"})
    assert "11111111-2222-3333-4444-555555555555" not in only_burst.text
    assert '<option value="burst" selected>' in only_burst.text
    odd = await client.get("/review/flags", params={"flag": "nonsense"})
    assert odd.status_code == 200, "an unknown flag shows everything"


async def _reviewer_of(conn: asyncpg.Connection, organisation: Organisation | None) -> Person:
    """A reviewer who works for an organisation, or for Vitrine's data-protection office (None)."""
    person = await create_person(conn, language="en")
    await identity_service.make_staff(
        conn,
        person_id=person.person_id,
        office="Data protection",
        roles=["reviewer"],
        secret=TEST_SECRET,
        org_id=None if organisation is None else organisation.org_id,
    )
    return person


async def _read_at_night(conn: asyncpg.Connection, citizen: Person, organisation: Organisation) -> AccessEvent:
    """The organisation reads the citizen's DmfA at night under no registered purpose: flagged as it is recorded."""
    return await record_and_flag(
        conn,
        citizen_id=citizen.person_id,
        accessor=Accessor(kind="institution", org_id=organisation.org_id, client_id="night-case"),
        action="read",
        channel="api",
        categories=["dmfa"],
        occurred_at=datetime(2026, 2, 10, 23, 30, tzinfo=UTC),
    )


async def test_an_organisations_reviewer_handles_only_the_cases_about_its_own_accesses(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    onem = await _onem(conn)
    cpas = await create_organisation(conn)
    citizen = await create_person(conn, language="en")
    by_onem = await _access(conn, citizen, onem)
    by_cpas = await _access(
        conn, citizen, cpas, accessor=Accessor(kind="institution", org_id=cpas.org_id, client_id="cpas-case")
    )
    await _read_at_night(conn, citizen, cpas)
    await sign_in_client(client, conn, settings.secret_key, citizen)
    token = await csrf_token(client, "/access-log")
    onem_case = _location(await client.post(f"/access-log/events/{by_onem.event_id}/contest", data={CSRF: token}))
    cpas_case = _location(await client.post(f"/access-log/events/{by_cpas.event_id}/contest", data={CSRF: token}))
    onem_id, cpas_id = (url.split("/")[-1].split("?")[0] for url in (onem_case, cpas_case))

    await sign_in_client(client, conn, settings.secret_key, await _reviewer_of(conn, onem))
    queue = await client.get("/review")
    assert "You see the cases about accesses by Office national de l&#39;emploi." in queue.text
    assert f'href="/review/cases/{onem_id}"' in queue.text
    assert f'href="/review/cases/{cpas_id}"' not in queue.text
    assert (await client.get(f"/review/cases/{onem_id}")).status_code == 200
    # Another organisation's case does not exist for this reviewer: its page and every action answer 404.
    assert (await client.get(f"/review/cases/{cpas_id}")).status_code == 404
    review_token = await csrf_token(client, f"/review/cases/{onem_id}")
    before = await contest_queries.select_contest(conn, UUID(cpas_id))
    for action, form in (
        ("answer", {"answer": "Not ours to answer."}),
        ("escalate", {"reason": "Not ours."}),
        ("close", {}),
        ("reveal", {}),
    ):
        refused = await client.post(f"/review/cases/{cpas_id}/{action}", data={CSRF: review_token, **form})
        assert refused.status_code == 404, action
    assert await contest_queries.select_contest(conn, UUID(cpas_id)) == before
    assert "CPAS de Testville" not in (await client.get("/review/flags")).text

    # Vitrine's data-protection office handles every case, and sees every flag.
    await sign_in_client(client, conn, settings.secret_key, await _reviewer_of(conn, None))
    everything = await client.get("/review")
    assert "As Vitrine&#39;s data-protection office, you see every case" in everything.text
    assert f'href="/review/cases/{onem_id}"' in everything.text
    assert f'href="/review/cases/{cpas_id}"' in everything.text
    assert (await client.get(f"/review/cases/{cpas_id}")).status_code == 200
    assert "CPAS de Testville" in (await client.get("/review/flags")).text


async def test_an_agent_sees_the_accesses_they_made_and_reading_them_is_not_logged(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    cpas = await create_organisation(conn)
    agent = await create_agent(conn, cpas, language="en")
    membership = (await identity_queries.select_memberships(conn, agent.person_id))[0]
    client_a = await create_person(conn, given_name="Yasmina", family_name="Haddad")
    client_b = await create_person(conn, given_name="Luc", family_name="Martin")
    for person in (client_a, client_b):
        await record_access(
            conn,
            citizen_id=person.person_id,
            accessor=Accessor(kind="agent", org_id=cpas.org_id, ref=membership.pseudonym, role="agent"),
            action="read",
            channel="web",
            categories=["dmfa"],
        )
    # Someone else's access to the agent's own data is not "made by me".
    await _access(conn, agent, await _onem(conn))
    await sign_in_client(client, conn, settings.secret_key, agent)
    events_before = await conn.fetchval("SELECT count(*) FROM access_events")

    mine = await client.get("/access-log/made-by-me")
    assert mine.status_code == 200
    assert "Yasmina Haddad" in mine.text
    assert "Luc Martin" in mine.text
    assert mine.text.count('class="access-entry ') == 2
    assert await conn.fetchval("SELECT count(*) FROM access_events") == events_before

    stranger = await create_person(conn)
    await sign_in_client(client, conn, settings.secret_key, stranger)
    assert "Yasmina Haddad" not in (await client.get("/access-log/made-by-me")).text
    assert (await client.get("/access-log/made-by-me", params={"before": "nonsense"})).status_code == 200


async def test_the_alerts_opt_in_is_a_checkbox_form(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    citizen = await create_person(conn)
    await sign_in_client(client, conn, settings.secret_key, citizen)
    token = await csrf_token(client, "/access-log")
    on = await client.post("/access-log/alerts", data={CSRF: token, "alerts": "on"})
    assert _location(on) == "/access-log#access-alerts"
    assert await conn.fetchval("SELECT enabled FROM access_alert_preferences WHERE citizen_id = $1", citizen.person_id)
    off = await client.post("/access-log/alerts", data={CSRF: token})
    assert _location(off) == "/access-log#access-alerts"
    assert not await conn.fetchval(
        "SELECT enabled FROM access_alert_preferences WHERE citizen_id = $1", citizen.person_id
    )


async def test_the_log_shows_the_case_on_the_entry_the_alerts_notice_and_the_opt_in(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    citizen = await create_person(conn, language="en")
    onem = await _onem(conn)
    await _access(conn, citizen, onem)
    await sign_in_client(client, conn, settings.secret_key, citizen)
    token = await csrf_token(client, "/access-log")
    assert _location(await client.post("/access-log/alerts", data={CSRF: token, "alerts": "on"}))
    night = await _read_at_night(conn, citizen, onem)
    contested = await client.post(f"/access-log/events/{night.event_id}/contest", data={CSRF: token})
    assert contested.status_code == 303

    page = await client.get("/access-log")
    assert page.status_code == 200, page.text
    assert "Accesses you asked us to tell you about" in page.text
    assert "Access at night (22:00 to 06:00)" in page.text
    assert f'href="/access-log?before={night.seq + 1}#access-entry-{night.seq}"' in page.text
    assert 'id="access-alerts-enabled" name="alerts" value="on" checked' in page.text
    assert "Alerts are on." in page.text
    assert "Contested on" in page.text
    assert "Waiting for an answer" in page.text
    assert page.text.count('class="access-entry__contest-form"') == 1, "the pending entry has no button"
    assert 'href="/access-log/made-by-me"' in page.text


async def test_the_queue_pages_through_every_case_and_counts_the_late_ones_in_all_of_them(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    onem = await _onem(conn)
    citizen = await create_person(conn, language="en")
    key = ec.generate_private_key(ec.SECP256R1())
    opened = []
    for _ in range(QUEUE_PAGE + 2):
        event = await _access(conn, citizen, onem)
        opened.append(await open_contest(conn, citizen_id=citizen.person_id, event_id=event.event_id, key=key))
    # The three opened last are late: they come first, whatever page they would otherwise fall on.
    late = [contest.contest_id for contest in opened[-3:]]
    await conn.execute(
        "UPDATE access_contests SET opened_at = now() - interval '40 days', due_at = now() - interval '9 days'"
        " WHERE contest_id = ANY($1::uuid[])",
        late,
    )
    await sign_in_client(client, conn, settings.secret_key, await _reviewer_of(conn, onem))

    first = (await client.get("/review")).text
    assert f"Cases 1 to {QUEUE_PAGE} of {QUEUE_PAGE + 2}." in first
    assert "3 cases are past their deadline." in first
    assert all(f'href="/review/cases/{contest_id}"' in first for contest_id in late)
    assert 'href="/review?status=pending&amp;page=2" class="access-log__page-link" rel="next"' in first
    assert 'rel="prev"' not in first

    second = (await client.get("/review?status=pending&page=2")).text
    assert f"Cases {QUEUE_PAGE + 1} to {QUEUE_PAGE + 2} of {QUEUE_PAGE + 2}." in second
    assert "3 cases are past their deadline." in second
    shown = set(re.findall(r'href="/review/cases/([0-9a-f-]{36})"', first + second))
    assert shown == {str(contest.contest_id) for contest in opened}
    assert 'href="/review?status=pending&amp;page=1" class="access-log__page-link" rel="prev"' in second
    assert 'rel="next"' not in second

    beyond = (await client.get("/review?status=pending&page=3")).text
    assert "There are no more cases here." in beyond
    assert 'href="/review?status=pending&amp;page=2" class="access-log__page-link" rel="prev"' in beyond
    # An edited address is the first page, not an error.
    assert f"Cases 1 to {QUEUE_PAGE} of" in (await client.get("/review?page=-4")).text
    assert f"Cases 1 to {QUEUE_PAGE} of" in (await client.get("/review", params={"page": "²"})).text


async def test_flagged_accesses_page_on_to_older_ones_and_back_to_the_newest(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    cpas = await create_organisation(conn)
    citizen = await create_person(conn, language="en")
    for _ in range(FLAGS_PAGE + 1):
        await _read_at_night(conn, citizen, cpas)
    # The organisation's own reviewer sees only these accesses, so the pages hold exactly them.
    await sign_in_client(client, conn, settings.secret_key, await _reviewer_of(conn, cpas))

    first = (await client.get("/review/flags", params={"flag": "night"})).text
    assert first.count('class="case-card"') == FLAGS_PAGE
    older = re.search(r'href="(/review/flags\?[^"]+)" class="access-log__page-link" rel="next"', first)
    assert older is not None
    assert "flag=night" in older.group(1)
    assert "Newest flagged accesses" not in first

    second = (await client.get(older.group(1).replace("&amp;", "&"))).text
    assert second.count('class="case-card"') == 1
    assert 'rel="next"' not in second
    assert 'href="/review/flags?flag=night" class="access-log__page-link">Newest flagged accesses</a>' in second
    # An edited cursor shows the newest page rather than an error.
    edited = await client.get("/review/flags", params={"flag": "night", "before": "yesterday"})
    assert edited.status_code == 200
    assert edited.text.count('class="case-card"') == FLAGS_PAGE
