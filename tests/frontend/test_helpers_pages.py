"""The citizen's mandate pages in process: the three-step grant flow, My helpers (end at once, one theme, cancel
an invitation), the printable receipt and the joined timeline."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from litestar import Litestar

from backend.core.identity.schemas import Person
from backend.core.settings import Settings
from tests.catalog import t
from tests.conftest import in_process_client
from tests.factories import (
    create_mandate,
    create_organisation,
    create_person,
    csrf_token,
    invite_helper,
    sign_in_client,
)
from tests.frontend.mandate_pages import (
    CSRF,
    current_insz,
    hidden_fields,
    post_form,
    summary_errors,
)

CODE = re.compile(r'id="invitation-code">([A-Z0-9-]+)<')


def _step(language: str, step: int) -> str:
    """The grant flow's progress line in a language."""
    return t(language, "Step %(step)s of 3") % {"step": step}


@pytest.fixture
async def pages(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of the real app with the mandate pages."""
    async with in_process_client(app) as client:
        yield client


async def test_the_grant_flow_creates_a_pending_mandate_and_shows_its_code_once(
    pages: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    citizen = await create_person(conn, given_name="Sofie", family_name="Peeters")
    helper = await create_person(conn, given_name="Pieter", family_name="Janssens")
    await sign_in_client(pages, conn, settings.secret_key, citizen)

    step1 = await pages.get("/helpers/new")
    assert step1.status_code == 200, step1.text
    assert _step("nl", 1) in step1.text, "the page is in the citizen's language (nl)"

    step2 = await post_form(
        pages,
        "/helpers/new/who",
        {"kind": "person", "mandatary_insz": await current_insz(conn, helper), "mandatary_family_name": "janssens"},
    )
    assert step2.status_code == 200, step2.text
    assert _step("nl", 2) in step2.text
    state = hidden_fields(step2.text)
    assert state["kind"] == "person"

    step3 = await post_form(pages, "/helpers/new/what", {**state, "theme_work_and_wages": "read"})
    assert step3.status_code == 200, step3.text
    assert _step("nl", 3) in step3.text
    assert "Toestemming voor een volmacht" in step3.text, "the consent text is in the citizen's language (nl)"

    created = await post_form(
        pages, "/helpers/new/confirm", {**hidden_fields(step3.text), "duration": "1_month", "agree": "on"}
    )
    assert created.status_code == 201, created.text
    code = CODE.search(created.text)
    assert code
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code.group(1))

    listed = await pages.get("/helpers")
    assert "Pieter Janssens" in listed.text
    assert code.group(1) not in listed.text, "the code is shown once, right after creation"


async def _count_mandates(conn: asyncpg.Connection, citizen: Person) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM mandates WHERE citizen_id = $1", citizen.person_id))


async def test_a_wrong_surname_reshows_step_1_naming_the_field(
    pages: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    citizen = await create_person(conn, language="en")
    helper = await create_person(conn, family_name="Janssens")
    await sign_in_client(pages, conn, settings.secret_key, citizen)

    answer = await post_form(
        pages,
        "/helpers/new/who",
        {"kind": "person", "mandatary_insz": await current_insz(conn, helper), "mandatary_family_name": "Jansen"},
    )

    assert answer.status_code == 422
    assert "Step 1 of 3" in answer.text
    assert summary_errors(answer.text) == [
        ("mandatary_insz", "No person with this national number and surname is known in Vitrine. Check both.")
    ]
    assert 'id="mandatary_insz"' in answer.text
    assert 'value="Jansen"' in answer.text, "what was typed is kept"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "kind-person"),
        ({"kind": "person", "mandatary_insz": "12345678901", "mandatary_family_name": "X"}, "mandatary_insz"),
        ({"kind": "person", "mandatary_insz": ""}, "mandatary_insz"),
        ({"kind": "organisation", "mandatary_kbo": "0403019262"}, "mandatary_kbo"),
        ({"kind": "organisation", "mandatary_kbo": "0403019261"}, "mandatary_kbo"),
    ],
    ids=["no-choice", "bad-number", "empty", "bad-kbo", "unknown-kbo"],
)
async def test_step_1_refuses_bad_input(
    pages: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings, data: dict[str, str], field: str
) -> None:
    citizen = await create_person(conn)
    await sign_in_client(pages, conn, settings.secret_key, citizen)

    answer = await post_form(pages, "/helpers/new/who", data)

    assert answer.status_code == 422
    assert summary_errors(answer.text)[0][0] == field
    assert f'id="{field}"' in answer.text


async def _to_step_2(client: httpx.AsyncClient, conn: asyncpg.Connection, helper: Person) -> dict[str, str]:
    step2 = await post_form(
        client,
        "/helpers/new/who",
        {
            "kind": "person",
            "mandatary_insz": await current_insz(conn, helper),
            "mandatary_family_name": helper.family_name,
        },
    )
    assert step2.status_code == 200, step2.text
    return hidden_fields(step2.text)


async def test_step_2_needs_a_theme_and_the_acknowledgement_for_a_high_risk_one(
    pages: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    citizen = await create_person(conn, language="en")
    helper = await create_person(conn)
    await sign_in_client(pages, conn, settings.secret_key, citizen)
    state = await _to_step_2(pages, conn, helper)

    nothing = await post_form(pages, "/helpers/new/what", state)
    assert nothing.status_code == 422
    assert summary_errors(nothing.text) == [("theme-benefits_and_risks", "Choose at least one theme.")]

    risky = await post_form(pages, "/helpers/new/what", {**state, "theme_corrections": "act"})
    assert risky.status_code == 422
    assert "High risk" in risky.text
    assert [field for field, _message in summary_errors(risky.text)] == ["acknowledge_high_risk"]

    acknowledged = await post_form(
        pages, "/helpers/new/what", {**state, "theme_corrections": "act", "acknowledge_high_risk": "on"}
    )
    assert acknowledged.status_code == 200
    assert "Step 3 of 3" in acknowledged.text

    back = await post_form(pages, "/helpers/new/what", {**state, "theme_posting": "read", "back": "1"})
    assert back.status_code == 200
    assert "Step 1 of 3" in back.text
    assert hidden_fields(back.text)["theme_posting"] == "read", "the later answers are kept when going back"
    assert await _count_mandates(conn, citizen) == 0


async def _to_step_3(client: httpx.AsyncClient, conn: asyncpg.Connection, helper: Person) -> dict[str, str]:
    state = await _to_step_2(client, conn, helper)
    step3 = await post_form(client, "/helpers/new/what", {**state, "theme_work_and_wages": "read"})
    assert step3.status_code == 200, step3.text
    return hidden_fields(step3.text)


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"duration": "1_month"}, ["agree"]),
        ({"agree": "on"}, ["duration-1_day"]),
        ({"duration": "until_date", "agree": "on"}, ["until"]),
        ({"duration": "until_date", "until": "2099-01-01", "agree": "on"}, ["until"]),
        ({"duration": "1_month", "agree": "on", "legal_text_sha256": "0" * 64}, ["agree"]),
    ],
    ids=["no-consent", "no-duration", "no-day", "too-long", "other-text"],
)
async def test_the_last_step_is_checked_again_and_changes_nothing_when_refused(
    pages: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings, data: dict[str, str], fields: list[str]
) -> None:
    citizen = await create_person(conn, language="en")
    helper = await create_person(conn)
    await sign_in_client(pages, conn, settings.secret_key, citizen)
    state = await _to_step_3(pages, conn, helper)

    answer = await post_form(pages, "/helpers/new/confirm", {**state, **data})

    assert answer.status_code == 422, answer.text
    assert "Step 3 of 3" in answer.text
    assert [field for field, _message in summary_errors(answer.text)] == fields
    assert await _count_mandates(conn, citizen) == 0


async def test_a_tampered_first_step_is_refused_at_the_end_on_step_1(
    pages: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    citizen = await create_person(conn, language="en")
    helper = await create_person(conn, family_name="Maes")
    await sign_in_client(pages, conn, settings.secret_key, citizen)
    state = await _to_step_3(pages, conn, helper)

    answer = await post_form(
        pages,
        "/helpers/new/confirm",
        {**state, "mandatary_family_name": "Someone Else", "duration": "1_day", "agree": "on"},
    )

    assert answer.status_code == 422
    assert "Step 1 of 3" in answer.text
    assert [field for field, _message in summary_errors(answer.text)] == ["mandatary_insz"]
    assert await _count_mandates(conn, citizen) == 0


async def test_a_citizen_gives_an_organisation_a_mandate_by_its_kbo(
    pages: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    citizen = await create_person(conn)
    organisation = await create_organisation(conn, name_nl="OCMW Gent")
    await sign_in_client(pages, conn, settings.secret_key, citizen)

    step2 = await post_form(pages, "/helpers/new/who", {"kind": "organisation", "mandatary_kbo": organisation.kbo})
    assert step2.status_code == 200, step2.text
    assert "OCMW Gent" in step2.text
    step3 = await post_form(
        pages, "/helpers/new/what", {**hidden_fields(step2.text), "theme_benefits_and_risks": "read"}
    )
    created = await post_form(
        pages, "/helpers/new/confirm", {**hidden_fields(step3.text), "duration": "6_months", "agree": "on"}
    )

    assert created.status_code == 201, created.text
    assert (
        await conn.fetchval("SELECT mandatary_org_id FROM mandates WHERE citizen_id = $1", citizen.person_id)
        == organisation.org_id
    )


async def test_my_helpers_lists_active_pending_and_ended_and_ends_at_once(
    pages: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    citizen = await create_person(conn, language="en")
    active_helper = await create_person(conn, given_name="Actief", family_name="Helper")
    pending_helper = await create_person(conn, given_name="Wachtend", family_name="Helper")
    two_themes = await create_mandate(
        conn, citizen, helper=active_helper, themes=(("work_and_wages", "read"), ("posting", "read"))
    )
    invitation = await invite_helper(conn, citizen, helper=pending_helper)
    await sign_in_client(pages, conn, settings.secret_key, citizen)

    listed = await pages.get("/helpers")
    assert listed.status_code == 200
    active, pending = (listed.text.index(name) for name in ("Actief Helper", "Wachtend Helper"))
    assert listed.text.index('id="group-active"') < active < listed.text.index('id="group-pending"') < pending
    assert f"/helpers/{invitation.mandate.mandate_id}/cancel" in listed.text
    mandate_id = two_themes.mandate_id
    assert f"/helpers/{mandate_id}/themes/posting/end" in listed.text

    # One theme first: a confirmation page, then the POST.
    confirm = await pages.get(f"/helpers/{mandate_id}/themes/posting/end")
    assert confirm.status_code == 200
    token = await csrf_token(pages, f"/helpers/{mandate_id}/themes/posting/end")
    ended_theme = await pages.post(f"/helpers/{mandate_id}/themes/posting/end", data={CSRF: token, "reason": ""})
    assert ended_theme.status_code == 303
    assert ended_theme.headers["location"] == "/helpers?done=theme-ended"

    # Then the whole mandate, with a reason the helper will see.
    confirm = await pages.get(f"/helpers/{mandate_id}/end")
    assert confirm.status_code == 200
    assert "Actief Helper" in confirm.text
    token = await csrf_token(pages, f"/helpers/{mandate_id}/end")
    ended = await pages.post(f"/helpers/{mandate_id}/end", data={CSRF: token, "reason": "No longer needed"})
    assert ended.status_code == 303

    cancelled = await post_form(pages, f"/helpers/{invitation.mandate.mandate_id}/cancel", {})
    assert cancelled.status_code == 303
    after = await pages.get(cancelled.headers["location"])
    assert "The invitation is cancelled" in after.text
    ended_section = after.text.partition('id="group-ended"')[2]
    assert "Actief Helper" in ended_section
    assert "Wachtend Helper" in ended_section
    assert "No longer needed" in ended_section
    states = await conn.fetch(
        "SELECT mandate_state(m, clock_timestamp()) AS state FROM mandates AS m WHERE citizen_id = $1",
        citizen.person_id,
    )
    assert {row["state"] for row in states} == {"revoked"}


async def test_ending_someone_elses_mandate_is_not_found(
    pages: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    citizen = await create_person(conn)
    stranger = await create_person(conn)
    mandate = await create_mandate(conn, citizen, helper=await create_person(conn))
    await sign_in_client(pages, conn, settings.secret_key, stranger)

    assert (await pages.get(f"/helpers/{mandate.mandate_id}/end")).status_code == 404
    refused = await post_form(pages, f"/helpers/{mandate.mandate_id}/end", {}, token_page="/helpers")
    assert refused.status_code == 404
    assert (
        await conn.fetchval(
            "SELECT mandate_state(m, clock_timestamp()) FROM mandates AS m WHERE mandate_id = $1", mandate.mandate_id
        )
        == "active"
    )


async def test_the_printable_receipt_carries_the_code_of_the_signed_receipt(
    pages: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    from consent.receipts import verification_code, verify_mandate_receipt

    citizen = await create_person(conn, given_name="Sofie", family_name="Peeters")
    helper = await create_person(conn, given_name="Pieter", family_name="Janssens")
    mandate = await create_mandate(conn, citizen, helper=helper)
    await sign_in_client(pages, conn, settings.secret_key, citizen)

    printable = await pages.get(f"/helpers/{mandate.mandate_id}/receipt")
    assert printable.status_code == 200, printable.text
    signed = await pages.get(f"/api/v1/mandates/{mandate.mandate_id}/receipt.jwt")
    assert signed.status_code == 200
    assert signed.headers["content-type"].startswith("application/jwt")
    code = verification_code(signed.text)
    assert f'id="verification-code">{code}<' in printable.text
    keys = (await pages.get("/.well-known/vitrine-keys.json")).json()
    stated = verify_mandate_receipt(signed.text, keys)
    assert (stated.citizen, stated.mandatary) == ("Sofie Peeters", "Pieter Janssens")
    insz = await current_insz(conn, helper)
    assert insz not in signed.text
    assert insz not in printable.text

    # The helper may download it too; anyone else gets a 404.
    await sign_in_client(pages, conn, settings.secret_key, helper)
    assert (await pages.get(f"/api/v1/mandates/{mandate.mandate_id}/receipt.jwt")).text == signed.text
    await sign_in_client(pages, conn, settings.secret_key, await create_person(conn))
    assert (await pages.get(f"/api/v1/mandates/{mandate.mandate_id}/receipt.jwt")).status_code == 404
    assert (await pages.get(f"/helpers/{mandate.mandate_id}/receipt")).status_code == 404


async def test_the_timeline_joins_mandate_events_helpers_and_institutions(
    pages: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    from backend.access_log.schemas import Accessor
    from backend.access_log.service import record_access

    citizen = await create_person(conn)
    helper = await create_person(conn, given_name="Pieter", family_name="Janssens")
    mandate = await create_mandate(conn, citizen, helper=helper)
    institution = await create_organisation(conn, kind="institution", name_nl="Rijksdienst voor Arbeidsvoorziening")
    await record_access(
        conn,
        citizen_id=citizen.person_id,
        accessor=Accessor(kind="helper", ref=str(helper.person_id)),
        action="read",
        channel="web",
        categories=["dimona"],
        mandate_id=mandate.mandate_id,
    )
    await record_access(
        conn,
        citizen_id=citizen.person_id,
        accessor=Accessor(kind="institution", org_id=institution.org_id, client_id="onem"),
        action="read",
        channel="api",
        categories=["dmfa"],
    )
    await sign_in_client(pages, conn, settings.secret_key, citizen)

    everything = await pages.get("/helpers/timeline")
    assert everything.status_code == 200, everything.text
    invited = t("nl", "You invited %(helper)s to help you.") % {"helper": "Pieter Janssens"}
    accepted = t("nl", "%(helper)s accepted your mandate: it started at that moment.") % {"helper": "Pieter Janssens"}
    assert invited in everything.text, "the timeline is in the citizen's language (nl)"
    assert accepted in everything.text
    assert "Rijksdienst voor Arbeidsvoorziening" in everything.text
    assert f'href="/helpers/{mandate.mandate_id}/end"' in everything.text, "end the mandate next to the action"

    helpers_only = await pages.get("/helpers/timeline?stream=helpers")
    assert "timeline-item--helpers" in helpers_only.text
    assert "timeline-item--mandates" not in helpers_only.text
    assert "timeline-item--institutions" not in helpers_only.text
    institutions = await pages.get("/helpers/timeline?stream=institutions")
    assert "Rijksdienst voor Arbeidsvoorziening" in institutions.text
    assert "timeline-item--helpers" not in institutions.text


async def test_the_overview_links_to_helpers_and_helping(
    pages: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    await sign_in_client(pages, conn, settings.secret_key, await create_person(conn))

    overview = await pages.get("/my")

    assert 'href="/helpers"' in overview.text
    assert 'href="/helping"' in overview.text
    assert 'href="/organisation/clients"' not in overview.text


def test_the_timeline_cursor_reads_back_what_it_writes_and_ignores_anything_else() -> None:
    from datetime import UTC, datetime
    from uuid import uuid4

    from frontend.pages.helpers_timeline import read_cursor, write_cursor

    cursor = (datetime(2026, 3, 2, 9, 0, tzinfo=UTC), datetime(2026, 3, 2, 9, 0, 1, tzinfo=UTC), uuid4())
    assert read_cursor(write_cursor(cursor)) == cursor
    for garbage in (None, "", "x~y~z", "2026-03-02T09:00:00~2026-03-02T09:00:00~" + str(uuid4()), "a~b"):
        assert read_cursor(garbage) is None
