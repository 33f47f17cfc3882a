"""The JSON API of one's own notices: list, unread count, read, archive, preferences; others' notices are not
found; bad input is a problem naming the field and changes nothing."""

from __future__ import annotations

import asyncpg
import httpx
from arq.connections import ArqRedis

from backend.core.settings import Settings
from notifications.preferences import channel_enabled
from notifications.relay import run_relay_once
from tests.conftest import source_of
from tests.factories import create_person, sign_in_client
from tests.notifications.helpers import owe_answer_notice

API = "/api/v1/me/notifications"


async def test_ones_own_notices_through_the_api(
    client: httpx.AsyncClient, conn: asyncpg.Connection, redis: ArqRedis, settings: Settings
) -> None:
    person = await create_person(conn, language="de")
    await owe_answer_notice(conn, person.person_id, "00000000-0000-4000-8000-00000000a001")
    await run_relay_once(source_of(conn), redis)
    await sign_in_client(client, conn, settings.secret_key, person)

    (notice,) = (await client.get(API)).json()
    assert notice["subject"] == "Ihre Frage zu einem Zugriff wurde beantwortet"
    assert notice["read_at"] is None
    assert (await client.get(f"{API}/unread-count")).json() == {"unread": 1}
    one = await client.get(f"{API}/{notice['notification_id']}")
    assert one.json()["read_at"] is None, "reading through the API does not mark it read"

    read = await client.post(f"{API}/{notice['notification_id']}/read")
    assert read.status_code == 200
    assert read.json()["read_at"] is not None
    assert (await client.get(f"{API}/unread-count")).json() == {"unread": 0}
    archived = await client.post(f"{API}/{notice['notification_id']}/archive")
    assert archived.json()["archived_at"] is not None
    assert (await client.get(API)).json() == []
    assert [n["notification_id"] for n in (await client.get(f"{API}?archived=true")).json()] == [
        notice["notification_id"]
    ]

    stranger = await create_person(conn)
    await sign_in_client(client, conn, settings.secret_key, stranger)
    missing = await client.post(f"{API}/{notice['notification_id']}/read")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert (await client.get(f"{API}/{notice['notification_id']}")).status_code == 404


async def test_preferences_through_the_api(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    person = await create_person(conn, email="api@example.be")
    await sign_in_client(client, conn, settings.secret_key, person)
    table = (await client.get(f"{API}/preferences")).json()
    assert {"kind": "flexi_ceiling", "channel": "inbox", "enabled": True, "locked": True} in table
    assert {"kind": "flexi_ceiling", "channel": "email", "enabled": True, "locked": False} in table

    off = {"kind": "mandate_expiring", "channel": "email", "enabled": False}
    changed = await client.put(f"{API}/preferences", json=off)
    assert changed.status_code == 200
    assert {"kind": "mandate_expiring", "channel": "email", "enabled": False, "locked": False} in changed.json()
    assert not await channel_enabled(conn, person.person_id, "mandate_expiring", "email")

    for bad, field in (
        ({"kind": "mandate_expiring", "channel": "inbox", "enabled": False}, "channel"),  # the inbox is no choice
        ({"kind": "lottery", "channel": "email", "enabled": False}, "kind"),
        ({"kind": "mandate_expiring", "channel": "email", "enabled": "no"}, "enabled"),
    ):
        refused = await client.put(f"{API}/preferences", json=bad)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert [error["field"] for error in refused.json()["errors"]] == [field]
    assert await channel_enabled(conn, person.person_id, "flexi_ceiling", "email"), "nothing else changed"


async def test_the_api_needs_sign_in(client: httpx.AsyncClient) -> None:
    assert (await client.get(API)).status_code == 401
