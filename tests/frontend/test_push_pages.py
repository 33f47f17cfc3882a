"""Notifications on one's devices on the settings page: push per kind, the devices with "remove" (no script
needed), the explanation without JavaScript, and the opt-in button with it, in a real browser."""

from __future__ import annotations

import re
from datetime import time

import asyncpg
import httpx
import pytest

from backend.core.identity.demo import PERSONAS
from backend.core.settings import Settings
from notifications import push_queries
from notifications.preferences import channel_enabled, quiet_hours
from notifications.schemas import QuietHours
from tests import browser as harness
from tests.browser import PHONE_WIDTH, PageFactory, assert_accessible
from tests.factories import create_person, csrf_token, sign_in_client

CSRF = "_csrf_token"
API = "/api/v1/me/push-subscriptions"
KEYS = {"p256dh": "BA" + "A" * 85, "auth": "A" * 22}


async def test_settings_list_devices_and_switch_push_per_kind(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    person = await create_person(conn, language="en", email="devices@example.be")
    await sign_in_client(client, conn, settings.secret_key, person)
    page = (await client.get("/inbox/preferences")).text
    assert len(re.findall(r'name="push-[a-z_]+" value="on" checked', page)) == len(
        re.findall(r'name="email-[a-z_]+" value="on" checked', page)
    ), "push is on by default, for every kind"
    assert "Turning notifications on needs JavaScript" in page
    assert "No device shows notifications from Vitrine yet." in page
    assert 'data-public-key="B' in page, "the VAPID public key for the opt-in script"

    token = await csrf_token(client, "/inbox/preferences")
    agent = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0", "X-CSRFToken": token}
    body = {"endpoint": "https://updates.push.example.org/wpush/v2/one", "keys": KEYS}
    device = (await client.post(API, json=body, headers=agent)).json()
    page = (await client.get("/inbox/preferences")).text
    assert "Firefox · Linux" in page
    assert f'action="/inbox/devices/{device["subscription_id"]}/remove"' in page

    saved = await client.post("/inbox/preferences", data={CSRF: token, "email-access_alert": "on"})
    assert saved.status_code == 303
    assert not await channel_enabled(conn, person.person_id, "access_alert", "push")
    assert await channel_enabled(conn, person.person_id, "access_alert", "email")
    saved = await client.post("/inbox/preferences", data={CSRF: token, "push-access_alert": "on"})
    assert await channel_enabled(conn, person.person_id, "access_alert", "push")

    removed = await client.post(f"/inbox/devices/{device['subscription_id']}/remove", data={CSRF: token})
    assert removed.status_code == 303
    assert removed.headers["location"] == "/inbox/preferences?device=removed"
    assert await push_queries.count_active(conn, person.person_id) == 0
    assert "The device was removed" in (await client.get("/inbox/preferences?device=removed")).text
    again = await client.post(f"/inbox/devices/{device['subscription_id']}/remove", data={CSRF: token})
    assert again.status_code == 404


async def test_removing_a_device_needs_the_form_token(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    person = await create_person(conn, language="en")
    await sign_in_client(client, conn, settings.secret_key, person)
    token = await csrf_token(client, "/inbox/preferences")
    body = {"endpoint": "https://updates.push.example.org/wpush/v2/two", "keys": KEYS}
    device = (await client.post(API, json=body, headers={"X-CSRFToken": token})).json()
    refused = await client.post(f"/inbox/devices/{device['subscription_id']}/remove", data={})
    assert refused.status_code == 403
    assert await push_queries.count_active(conn, person.person_id) == 1


async def test_quiet_hours_are_set_checked_and_cleared(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    person = await create_person(conn, language="en")
    await sign_in_client(client, conn, settings.secret_key, person)
    token = await csrf_token(client, "/inbox/preferences")
    saved = await client.post("/inbox/quiet-hours", data={CSRF: token, "quiet_from": "22:00", "quiet_to": "07:00"})
    assert saved.status_code == 303
    assert saved.headers["location"] == "/inbox/preferences?saved=quiet"
    assert await quiet_hours(conn, person.person_id) == QuietHours(quiet_from=time(22, 0), quiet_to=time(7, 0))
    page = (await client.get("/inbox/preferences")).text
    assert 'name="quiet_from" value="22:00"' in page
    assert 'name="quiet_to" value="07:00"' in page

    for bad, field, message in (
        ({"quiet_from": "22:00", "quiet_to": ""}, "quiet_to", "Enter the time the quiet hours end, like 07:00"),
        ({"quiet_from": "25:00", "quiet_to": "07:00"}, "quiet_from", "Enter the time the quiet hours start"),
        ({"quiet_from": "08:00", "quiet_to": "08:00"}, "quiet_to", "must end at another time than they start"),
    ):
        refused = await client.post("/inbox/quiet-hours", data={CSRF: token, **bad})
        assert refused.status_code == 422
        assert 'class="error-summary"' in refused.text
        assert f'href="#{field}"' in refused.text
        assert message in refused.text
        assert f'id="{field}" name="{field}" value="{bad[field]}"' in refused.text, "what was typed is kept"
    assert await quiet_hours(conn, person.person_id) == QuietHours(quiet_from=time(22, 0), quiet_to=time(7, 0))

    cleared = await client.post("/inbox/quiet-hours", data={CSRF: token, "quiet_from": "", "quiet_to": ""})
    assert cleared.status_code == 303
    assert await quiet_hours(conn, person.person_id) is None


SOFIE = next(persona for persona in PERSONAS if persona.key == "sofie")

# A development server with demo data (the browser harness's fixtures).
dev_local_dir = harness.dev_local_dir
dev_database_url = harness.dev_database_url
dev_live_server = harness.dev_live_server
new_dev_page = harness.new_dev_page


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
@pytest.mark.parametrize("width", [PHONE_WIDTH, 1280])
async def test_with_javascript_the_settings_offer_to_turn_on_notifications(
    new_dev_page: PageFactory, width: int
) -> None:
    page = await new_dev_page(width)
    await page.goto("/dev/sign-in")
    name = f"{SOFIE.given_name} {SOFIE.family_name}"
    persona = page.locator(".persona").filter(has=page.get_by_role("heading", name=name, exact=True))
    async with page.expect_navigation():
        await persona.get_by_role("button").click()

    await page.goto("/inbox/preferences")
    button = page.locator("[data-push-subscribe]")
    assert await button.is_visible()
    assert await button.inner_text() == "Meldingen aanzetten op dit toestel", "in Sofie's language"
    assert not await page.locator("[data-push-needs-script]").is_visible()
    assert await page.evaluate("navigator.serviceWorker !== undefined")
    await assert_accessible(page, f"inbox-preferences-push--{width}")

    # Register the service worker as the opt-in does: served at /sw.js for the whole site, allowed by the CSP.
    scope = await page.evaluate(
        "navigator.serviceWorker.register('/sw.js', {scope: '/'}).then(function (r) { return r.scope; })"
    )
    assert scope == page.url.split("/inbox")[0] + "/"

    # Register a subscription the way the opt-in script does (the page's CSRF token in the header, the browser's
    # cookies), as a browser whose push service is elsewhere; then the device is listed, and removed by its form.
    status = await page.evaluate(
        """(keys) => {
          const section = document.querySelector("[data-module='push-devices']");
          return fetch(section.getAttribute("data-api"), {
            method: "POST", credentials: "same-origin",
            headers: {"Content-Type": "application/json", "X-CSRFToken": section.getAttribute("data-csrf")},
            body: JSON.stringify({endpoint: "https://updates.push.example.org/wpush/v2/browser-test", keys: keys})
          }).then((answer) => answer.status);
        }""",
        KEYS,
    )
    assert status == 201
    await page.reload()
    devices = page.locator(".device-list__item")
    assert await devices.count() == 1
    await assert_accessible(page, f"inbox-preferences-devices--{width}")
    async with page.expect_navigation():
        await devices.first.get_by_role("button").click()
    assert page.url.endswith("/inbox/preferences?device=removed")
    assert await page.locator(".device-list__item").count() == 0
    assert harness.problems_of(page).lines() == []
