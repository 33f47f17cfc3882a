"""The JSON API of one's push devices: the public key, register with the CSRF header, list, remove; bad input is
a problem naming the field and changes nothing; an endpoint registered by another person moves to them."""

from __future__ import annotations

import base64
import os
from typing import Any

import asyncpg
import httpx
import pytest

from backend.core.settings import Settings
from notifications import push_queries
from notifications.preferences import channel_enabled
from notifications.push_keys import application_server_key, vapid_private_key
from notifications.push_subscriptions import device_label, subscription_errors
from notifications.schemas import PushKeys, PushSubscriptionIn
from tests.factories import create_person, csrf_token, sign_in_client

API = "/api/v1/me/push-subscriptions"
FIREFOX_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _body(endpoint: str = "https://updates.push.example.org/wpush/v2/abc", **keys: str) -> dict[str, Any]:
    return {
        "endpoint": endpoint,
        "expirationTime": None,
        "keys": {
            "p256dh": keys.get("p256dh", _b64(b"\x04" + os.urandom(64))),
            "auth": keys.get("auth", _b64(os.urandom(16))),
        },
    }


async def _signed_in(client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings) -> tuple[Any, str]:
    person = await create_person(conn, language="en")
    await sign_in_client(client, conn, settings.secret_key, person)
    return person, await csrf_token(client, "/inbox/preferences")


async def test_register_list_and_remove_a_device(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    person, token = await _signed_in(client, conn, settings)
    key = (await client.get(f"{API}/public-key")).json()
    assert key == {"public_key": application_server_key(vapid_private_key(settings))}

    headers = {"X-CSRFToken": token, "User-Agent": FIREFOX_ANDROID}
    created = await client.post(API, json=_body(), headers=headers)
    assert created.status_code == 201, created.text
    device = created.json()
    assert device["device_label"] == "Firefox · Android"
    assert device["active"] is True
    assert "endpoint" not in device, "the capability URL is never shown back"
    again = await client.post(API, json=_body(), headers=headers)
    assert again.json()["subscription_id"] == device["subscription_id"], "registering again renews, no duplicate"
    assert [d["subscription_id"] for d in (await client.get(API)).json()] == [device["subscription_id"]]

    stranger = await create_person(conn)
    await sign_in_client(client, conn, settings.secret_key, stranger)
    assert (await client.get(API)).json() == []
    other_token = await csrf_token(client, "/inbox/preferences")
    missing = await client.delete(f"{API}/{device['subscription_id']}", headers={"X-CSRFToken": other_token})
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")

    await sign_in_client(client, conn, settings.secret_key, person)
    removed = await client.delete(f"{API}/{device['subscription_id']}", headers={"X-CSRFToken": token})
    assert removed.status_code == 204
    assert await push_queries.select_subscriptions(conn, person.person_id) == []


async def test_changes_need_the_csrf_header(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    person, token = await _signed_in(client, conn, settings)
    for headers in ({}, {"X-CSRFToken": "forged" + token[6:]}, {"X-CSRFToken": "short"}):
        refused = await client.post(API, json=_body(), headers=headers)
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert await push_queries.count_active(conn, person.person_id) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_body("http://push.example.org/x"), "endpoint"),
        (_body("ftp://push.example.org/x"), "endpoint"),
        (_body("https://10.1.2.3/push/x"), "endpoint"),
        (_body("https://localhost/push/x"), "endpoint"),
        (_body("https://push.example.org/" + "x" * 2000), "endpoint"),
        (_body(p256dh="not base64url!"), "keys.p256dh"),
        (_body(p256dh=_b64(b"\x04" + os.urandom(32))), "keys.p256dh"),
        (_body(p256dh=_b64(b"\x02" + os.urandom(64))), "keys.p256dh"),
        (_body(auth=_b64(os.urandom(15))), "keys.auth"),
        (_body(auth="%%%"), "keys.auth"),
        # A missing member is reported on its object, with the member's name in the message.
        ({"endpoint": "https://push.example.org/x", "keys": {"auth": _b64(os.urandom(16))}}, "keys"),
        ({"endpoint": 42, "keys": {"p256dh": "a", "auth": "b"}}, "endpoint"),
    ],
)
async def test_bad_subscriptions_are_problems_naming_the_field(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings, body: dict[str, Any], field: str
) -> None:
    person, token = await _signed_in(client, conn, settings)
    refused = await client.post(API, json=body, headers={"X-CSRFToken": token})
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    errors = refused.json()["errors"]
    assert field in [error["field"] for error in errors]
    if field == "keys":
        assert "p256dh" in errors[0]["message"]
    assert await push_queries.count_active(conn, person.person_id) == 0, "nothing stored"


def test_plain_http_is_only_for_loopback_outside_production() -> None:
    keys = PushKeys(p256dh=_b64(b"\x04" + os.urandom(64)), auth=_b64(os.urandom(16)))
    loopback = PushSubscriptionIn(endpoint="http://127.0.0.1:8123/push/x", keys=keys)
    assert subscription_errors(loopback, allow_loopback_http=True) == []
    assert [e.field for e in subscription_errors(loopback, allow_loopback_http=False)] == ["endpoint"]
    remote = PushSubscriptionIn(endpoint="http://push.example.org/x", keys=keys)
    assert [e.field for e in subscription_errors(remote, allow_loopback_http=True)] == ["endpoint"]


@pytest.mark.parametrize(
    ("agent", "label"),
    [
        (FIREFOX_ANDROID, "Firefox · Android"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36 Edg/131.0",
            "Edge · Windows",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Version/18.1 Safari/604.1",
            "Safari · iPhone",
        ),
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36", "Chrome · Linux"),
        (None, "?"),
    ],
)
def test_devices_are_named_by_browser_and_system(agent: str | None, label: str) -> None:
    assert device_label(agent) == label


async def test_an_endpoint_registered_by_another_person_moves_to_them(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    body = _body("https://updates.push.example.org/wpush/v2/shared-browser")
    first, token = await _signed_in(client, conn, settings)
    assert (await client.post(API, json=body, headers={"X-CSRFToken": token})).status_code == 201
    second, token = await _signed_in(client, conn, settings)
    assert (await client.post(API, json=body, headers={"X-CSRFToken": token})).status_code == 201
    assert await push_queries.count_active(conn, second.person_id) == 1
    assert await push_queries.count_active(conn, first.person_id) == 0
    (old,) = await push_queries.select_subscriptions(conn, first.person_id)
    assert old.disabled_reason == "taken over by another sign-in"


async def test_the_service_worker_is_served_for_the_whole_site(client: httpx.AsyncClient) -> None:
    worker = await client.get("/sw.js")
    assert worker.status_code == 200
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["service-worker-allowed"] == "/"
    assert worker.headers["cache-control"] == "no-cache"
    assert "showNotification" in worker.text
    assert "script-src 'self'" in worker.headers["content-security-policy"]


async def test_the_api_needs_sign_in(client: httpx.AsyncClient) -> None:
    assert (await client.get(API)).status_code == 401
    assert (await client.post(API, json=_body())).status_code in (401, 403)


async def test_push_is_switched_per_kind_through_the_preferences_api(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    person, _ = await _signed_in(client, conn, settings)
    table = (await client.get("/api/v1/me/notifications/preferences")).json()
    assert {"kind": "access_alert", "channel": "push", "enabled": True, "locked": False} in table
    off = {"kind": "access_alert", "channel": "push", "enabled": False}
    changed = await client.put("/api/v1/me/notifications/preferences", json=off)
    assert changed.status_code == 200
    assert not await channel_enabled(conn, person.person_id, "access_alert", "push")
    assert await channel_enabled(conn, person.person_id, "access_alert", "email"), "e-mail stays as it was"
