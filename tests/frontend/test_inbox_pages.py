"""The inbox pages in process (list, one message, read and archive forms, notification settings), the staff pages
(templates preview, failed deliveries) with their guard, and the inbox in a real browser on a phone.

The routes come from backend/app.py, which the in-process tests and the browser test's development server share.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
from arq.connections import ArqRedis

from backend.core.db import connect
from backend.core.identity import queries as identity_queries
from backend.core.identity.demo import PERSONAS
from backend.core.identity.schemas import Person
from backend.core.settings import Settings
from notifications import delivery_queries, notification_queries, outbox_queries
from notifications.outbox import enqueue_notification
from notifications.preferences import channel_enabled
from notifications.relay import materialise, run_relay_once
from notifications.schemas import KINDS
from tests import browser as harness
from tests.browser import PHONE_WIDTH, PageFactory, assert_accessible
from tests.conftest import source_of
from tests.factories import create_person, create_staff, csrf_token, sign_in_client

CSRF = "_csrf_token"
ALERT = {"seq": 7, "flag": "first_institution", "occurred_at": "2026-11-20T10:00:00+00:00"}
ANSWER_ID = "00000000-0000-4000-8000-00000000beef"


async def _notices(conn: asyncpg.Connection, redis: ArqRedis, person: Person) -> dict[str, UUID]:
    """Two notices for the person: an access alert, then an answered question (newer)."""
    await enqueue_notification(
        conn, citizen_id=person.person_id, kind="access_alert", dedup_key="access-alert:7:x", payload=ALERT
    )
    await enqueue_notification(
        conn,
        citizen_id=person.person_id,
        kind="contest_answered",
        dedup_key="contest-answered:beef",
        payload={"contest_id": ANSWER_ID},
    )
    await run_relay_once(source_of(conn), redis)
    found = await notification_queries.select_inbox(conn, person.person_id, archived=False, limit=10)
    return {notice.kind: notice.notification_id for notice in found}


def _location(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    return response.headers["location"]


async def test_the_inbox_lists_unread_first_and_reads_and_archives_with_forms(
    client: httpx.AsyncClient, conn: asyncpg.Connection, redis: ArqRedis, settings: Settings
) -> None:
    person = await create_person(conn, language="en", email="reader@example.be")
    ids = await _notices(conn, redis, person)
    await sign_in_client(client, conn, settings.secret_key, person)

    listing = await client.get("/inbox")
    assert listing.status_code == 200
    assert "You have 2 unread messages." in listing.text
    assert listing.text.index("An access to your data stood out") > 0
    alert_url, answer_url = f"/inbox/{ids['access_alert']}", f"/inbox/{ids['contest_answered']}"
    assert f'action="{alert_url}/read"' in listing.text
    assert f'action="{answer_url}/archive"' in listing.text

    token = await csrf_token(client, "/inbox")
    assert (await client.post(f"{alert_url}/read")).status_code == 403, "no CSRF token, no change"
    assert _location(await client.post(f"{alert_url}/read", data={CSRF: token})) == "/inbox"
    after_read = (await client.get("/inbox")).text
    assert "You have 1 unread message." in after_read
    # Unread first: the answer (still unread) comes before the alert (read), whatever their age.
    assert after_read.index("Your question about an access has been answered") < after_read.index(
        "An access to your data stood out"
    )

    opened = await client.get(answer_url)
    assert opened.status_code == 200
    assert "A reviewer has answered your question" in opened.text
    assert f'href="/access-log/contests/{ANSWER_ID}"' in opened.text
    assert "Read the answer" in opened.text
    assert 'lang="en"' in opened.text
    assert "You have read all your messages." in (await client.get("/inbox")).text, "opening marks it read"

    assert _location(await client.post(f"{answer_url}/archive", data={CSRF: token})) == "/inbox"
    assert answer_url not in (await client.get("/inbox")).text
    archived = await client.get("/inbox?view=archived")
    assert f'href="{answer_url}"' in archived.text
    assert f'action="{answer_url}/archive"' not in archived.text, "archived stays archived"


async def test_another_persons_message_is_not_found(
    client: httpx.AsyncClient, conn: asyncpg.Connection, redis: ArqRedis, settings: Settings
) -> None:
    owner = await create_person(conn, language="en")
    ids = await _notices(conn, redis, owner)
    stranger = await create_person(conn, language="en")
    await sign_in_client(client, conn, settings.secret_key, stranger)
    token = await csrf_token(client, "/inbox")
    url = f"/inbox/{ids['access_alert']}"
    assert (await client.get(url)).status_code == 404
    assert (await client.post(f"{url}/archive", data={CSRF: token})).status_code == 404
    assert (await client.post(f"{url}/read", data={CSRF: token})).status_code == 404
    notice = await notification_queries.select_notification(conn, owner.person_id, ids["access_alert"])
    assert notice is not None
    assert notice.unread, "nothing changed"
    assert (await client.get("/inbox/not-a-uuid")).status_code == 404


async def test_the_inbox_needs_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.get("/inbox")
    assert (response.status_code, response.headers["location"]) == (303, "/sign-in?next=/inbox")


async def test_settings_keep_the_inbox_on_and_save_email_per_kind(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    person = await create_person(conn, language="en", email="choices@example.be")
    await sign_in_client(client, conn, settings.secret_key, person)
    form = await client.get("/inbox/preferences")
    assert form.status_code == 200
    assert len(re.findall(r'id="inbox-[a-z_]+" checked disabled', form.text)) == len(KINDS), "the inbox is always on"
    assert len(re.findall(r'name="email-[a-z_]+" value="on" checked', form.text)) == len(KINDS), "e-mail on by default"
    assert "We have no e-mail address for you" not in form.text

    token = await csrf_token(client, "/inbox/preferences")
    saved = await client.post(
        "/inbox/preferences", data={CSRF: token, "email-access_alert": "on", "inbox-flexi_ceiling": "", "x": "y"}
    )
    assert _location(saved) == "/inbox/preferences?saved=1"
    assert await channel_enabled(conn, person.person_id, "access_alert", "email")
    assert not await channel_enabled(conn, person.person_id, "flexi_ceiling", "email")
    page = (await client.get("/inbox/preferences?saved=1")).text
    assert "Your choices have been saved" in page
    assert 'name="email-access_alert" value="on" checked' in page
    assert 'name="email-flexi_ceiling" value="on">' in page


async def test_without_an_address_the_settings_say_so(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    await sign_in_client(client, conn, settings.secret_key, await create_person(conn, language="en"))
    assert "We have no e-mail address for you" in (await client.get("/inbox/preferences")).text


async def test_staff_pages_are_for_desk_staff_and_reviewers(
    client: httpx.AsyncClient, conn: asyncpg.Connection, redis: ArqRedis, settings: Settings
) -> None:
    citizen = await create_person(conn, language="en", email="bounced@example.be")
    ids = await _notices(conn, redis, citizen)
    await delivery_queries.claim_delivery(conn, citizen.person_id, ids["access_alert"], "email", lease_seconds=60)
    await delivery_queries.update_failed(
        conn, citizen.person_id, ids["access_alert"], "email", error="SMTP 550: 5.1.1 <<address>>: no such user"
    )

    await sign_in_client(client, conn, settings.secret_key, citizen)
    assert (await client.get("/staff/deliveries")).status_code == 403
    assert (await client.get("/staff/notification-templates")).status_code == 403

    desk = await create_staff(conn, "support", language="en")
    await sign_in_client(client, conn, settings.secret_key, desk)
    templates = await client.get("/staff/notification-templates?language=fr")
    assert templates.status_code == 200
    assert "Vos revenus flexi ont atteint 75\xa0% du plafond 2026" in templates.text
    assert "Vous avez un nouveau message dans Vitrine" in templates.text
    assert templates.text.count('class="notice-card') >= 8

    reviewer = await create_staff(conn, "reviewer", language="en")
    await sign_in_client(client, conn, settings.secret_key, reviewer)
    deliveries = await client.get("/staff/deliveries")
    assert deliveries.status_code == 200
    assert str(ids["access_alert"]) in deliveries.text
    assert "SMTP 550: 5.1.1 &lt;&lt;address&gt;&gt;: no such user" in deliveries.text
    assert "bounced@example.be" not in deliveries.text
    assert citizen.family_name not in deliveries.text


async def test_the_header_count(conn: asyncpg.Connection, redis: ArqRedis) -> None:
    person = await create_person(conn)
    await _notices(conn, redis, person)
    assert await notification_queries.count_unread(conn, person.person_id) == 2


# --- in a browser ------------------------------------------------------------------------------------------------

dev_local_dir = harness.dev_local_dir
dev_database_url = harness.dev_database_url
dev_live_server = harness.dev_live_server
new_dev_page = harness.new_dev_page

SOFIE = next(persona for persona in PERSONAS if persona.key == "sofie")


@pytest.fixture
async def sofie_with_a_warning(dev_database_url: str) -> AsyncIterator[UUID]:
    """A flexi warning in Sofie's inbox in the development database (committed; relayed without Redis)."""
    conn = await connect(dev_database_url)
    try:
        async with conn.transaction():
            sofie = await identity_queries.select_person_by_insz(conn, SOFIE.insz)
            assert sofie is not None, "the demo data is seeded by `vitrine seed`"
            payload: dict[str, Any] = {
                "year": 2026,
                "threshold": 75,
                "total_cents": 1_530_000,
                "limit_cents": 1_800_000,
                "provisional": True,
                "as_of": "2026-11-10",
                "forecast": "2026-12-24",
            }
            await enqueue_notification(
                conn, citizen_id=sofie.person_id, kind="flexi_ceiling", dedup_key="flexi:2026:75", payload=payload
            )
            for entry in await outbox_queries.claim_waiting(conn, limit=50):
                await materialise(conn, entry)
                await outbox_queries.update_enqueued(conn, entry.citizen_id, entry.outbox_id)
        yield sofie.person_id
    finally:
        await conn.close()


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
async def test_sofie_reads_her_warning_on_a_phone_without_javascript(
    new_dev_page: PageFactory, sofie_with_a_warning: UUID
) -> None:
    page = await new_dev_page(PHONE_WIDTH, javascript=False)
    await page.goto("/dev/sign-in")
    name = f"{SOFIE.given_name} {SOFIE.family_name}"
    persona = page.locator(".persona").filter(has=page.get_by_role("heading", name=name, exact=True))
    async with page.expect_navigation():
        await persona.get_by_role("button").click()

    await page.goto("/inbox")
    card = page.locator(".notice-card").filter(has_text="flexi-inkomen")
    assert await card.count() >= 1
    scroll_width = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE_WIDTH, f"the page scrolls sideways: {scroll_width} px wide"
    await assert_accessible(page, f"inbox--{PHONE_WIDTH}")

    async with page.expect_navigation():
        await card.first.locator(".notice-card__title a").click()
    assert re.search(r"/inbox/[0-9a-f-]{36}$", page.url)
    assert "€" in await page.locator(".notice-body").inner_text()
    await assert_accessible(page, f"inbox-notice--{PHONE_WIDTH}")
    async with page.expect_navigation():
        await page.locator("form[action$='/archive'] button").click()

    await page.goto("/inbox/preferences")
    await assert_accessible(page, f"inbox-preferences--{PHONE_WIDTH}")
    await page.locator("#email-flexi_ceiling").uncheck()
    async with page.expect_navigation():
        await page.locator(".preferences-form button[type=submit]").click()
    assert page.url.endswith("/inbox/preferences?saved=1")
    assert not await page.locator("#email-flexi_ceiling").is_checked()
    await page.locator("#email-flexi_ceiling").check()
    async with page.expect_navigation():
        await page.locator(".preferences-form button[type=submit]").click()


AMIRA = next(persona for persona in PERSONAS if persona.key == "amira")  # desk staff


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
@pytest.mark.parametrize("width", [PHONE_WIDTH, 1280])
async def test_desk_staff_preview_templates_and_see_failed_deliveries(new_dev_page: PageFactory, width: int) -> None:
    page = await new_dev_page(width, javascript=False)
    await page.goto("/dev/sign-in")
    name = f"{AMIRA.given_name} {AMIRA.family_name}"
    persona = page.locator(".persona").filter(has=page.get_by_role("heading", name=name, exact=True))
    async with page.expect_navigation():
        await persona.get_by_role("button").click()

    await page.goto("/staff/notification-templates?language=de")
    assert await page.locator(".template-preview").count() >= 9, "every variant and the e-mail"
    assert "Sie haben eine neue Nachricht in Vitrine" in await page.locator("main").inner_text()
    await assert_accessible(page, f"staff-notification-templates--{width}")
    await page.goto("/staff/deliveries")
    assert await page.locator("h1").inner_text()
    await assert_accessible(page, f"staff-deliveries--{width}")
