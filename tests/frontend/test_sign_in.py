"""Signing in and out, sessions, revocation and the acting context, through the real pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import msgspec
import pytest
from arq.connections import ArqRedis
from cryptography.hazmat.primitives import serialization

from backend.app import create_app
from backend.core.auth import sessions
from backend.core.auth.institution_keys import generate_es256_key
from backend.core.identity.demo import PERSONAS, seed_identity
from backend.core.settings import Settings, load_settings
from tests.conftest import in_process_client, source_of
from tests.factories import TEST_SECRET, create_agent, create_organisation, create_person, csrf_token

COOKIE = sessions.cookie_name(False)


@pytest.fixture
async def dev_client(settings: Settings, conn: asyncpg.Connection, redis: ArqRedis) -> AsyncIterator[httpx.AsyncClient]:
    """The app as `make run` builds it (development), on the test's transaction."""

    source = source_of(conn)

    development = msgspec.structs.replace(settings, env="development")
    app = create_app(development, connection_source=source, redis=redis, configure_logs=False)
    async with in_process_client(app) as client:
        yield client


async def _sign_in_as(client: httpx.AsyncClient, persona: str) -> httpx.Response:
    token = await csrf_token(client, "/dev/sign-in")
    return await client.post("/dev/sign-in", data={"persona": persona, "next": "/my", "_csrf_token": token})


async def test_demo_sign_in_lists_personas_and_signs_in(
    dev_client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await seed_identity(conn, secret=TEST_SECRET)
    listing = await dev_client.get("/dev/sign-in")
    assert listing.status_code == 200
    for persona in PERSONAS:
        assert persona.family_name in listing.text
    response = await _sign_in_as(dev_client, "sofie")
    assert response.status_code == 303
    assert response.headers["location"] == "/my"
    set_cookie = next(v for v in response.headers.get_list("set-cookie") if v.startswith(f"{COOKIE}="))
    assert "HttpOnly" in set_cookie
    assert "SameSite=lax" in set_cookie or "SameSite=Lax" in set_cookie
    overview = await dev_client.get("/my")
    assert overview.status_code == 200
    assert "Sofie Peeters" in overview.text
    assert '<html lang="nl">' in overview.text, "the person's own language wins over the browser's"


async def test_seeding_twice_adds_nothing(conn: asyncpg.Connection) -> None:
    first = await seed_identity(conn, secret=TEST_SECRET)
    assert first >= len(PERSONAS)
    assert await seed_identity(conn, secret=TEST_SECRET) == 0


async def test_demo_sign_in_does_not_exist_outside_development(client: httpx.AsyncClient) -> None:
    assert (await client.get("/dev/sign-in")).status_code == 404
    response = await client.post("/dev/sign-in", data={"persona": "sofie"})
    assert response.status_code in {403, 404}, "refused either by CSRF or because the route is absent"
    page = await client.get("/sign-in")
    assert "/dev/sign-in" not in page.text


async def test_an_unknown_persona_is_refused_and_signs_nobody_in(
    dev_client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    response = await _sign_in_as(dev_client, "nobody")
    assert response.status_code == 422
    assert COOKIE not in response.headers.get("set-cookie", "")
    assert await conn.fetchval("SELECT count(*) FROM sessions") == 0


async def test_each_sign_in_gets_a_new_session_and_ends_the_old_one(
    dev_client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await seed_identity(conn, secret=TEST_SECRET)
    await _sign_in_as(dev_client, "sofie")
    await _sign_in_as(dev_client, "jean")
    rows = await conn.fetch("SELECT revoked_reason FROM sessions ORDER BY created_at, revoked_reason NULLS LAST")
    assert sorted(str(row["revoked_reason"]) for row in rows) == ["None", "replaced"]
    assert "Jean Dubois" in (await dev_client.get("/my")).text


async def test_sign_out_takes_effect_on_the_next_request(
    dev_client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await seed_identity(conn, secret=TEST_SECRET)
    await _sign_in_as(dev_client, "lena")
    stolen_cookie = dev_client.cookies.get(COOKIE)
    token = await csrf_token(dev_client, "/my")
    response = await dev_client.post("/sign-out", data={"_csrf_token": token})
    assert response.status_code == 303
    assert (await dev_client.get("/my")).status_code == 303, "signed out: sent to sign in"
    # A copy of the old cookie is worthless too: the session row is revoked.
    dev_client.cookies.set(COOKIE, stolen_cookie or "")
    again = await dev_client.get("/my")
    assert again.status_code == 303
    assert again.headers["location"] == "/sign-in?next=/my"


async def test_sign_out_needs_the_csrf_token(dev_client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await seed_identity(conn, secret=TEST_SECRET)
    await _sign_in_as(dev_client, "lena")
    assert (await dev_client.post("/sign-out")).status_code == 403
    assert (await dev_client.get("/my")).status_code == 200


async def test_revocation_is_felt_by_the_very_next_request(
    dev_client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await seed_identity(conn, secret=TEST_SECRET)
    await _sign_in_as(dev_client, "tomasz")
    assert (await dev_client.get("/my")).status_code == 200
    person_id = await conn.fetchval("SELECT person_id FROM sessions WHERE revoked_at IS NULL")
    assert await sessions.revoke_all_sessions(conn, person_id) == 1
    response = await dev_client.get("/my")
    assert response.status_code == 303
    cleared = [v for v in response.headers.get_list("set-cookie") if v.startswith(f"{COOKIE}=")]
    assert cleared, "the dead cookie is cleared"
    assert "Max-Age=0" in cleared[0]


@pytest.mark.parametrize("mangle", ["expired", "tampered", "wrong-key", "garbage"])
async def test_a_bad_session_token_means_anonymous(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings, mangle: str
) -> None:
    person = await create_person(conn)
    session_id = await sessions.insert_session(conn, person_id=person.person_id, method="demo")
    now = datetime.now(UTC)
    token = {
        "expired": sessions.issue_token(
            settings.secret_key, session_id=session_id, person_id=person.person_id, now=now - timedelta(hours=1)
        ),
        "tampered": sessions.issue_token(settings.secret_key, session_id=session_id, person_id=person.person_id)[:-3]
        + "AAA",
        "wrong-key": sessions.issue_token("x" * 40, session_id=session_id, person_id=person.person_id),
        "garbage": "not-a-token",
    }[mangle]
    client.cookies.set(COOKIE, token)
    response = await client.get("/my")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in")


async def test_an_active_session_token_is_renewed(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    person = await create_person(conn)
    session_id = await sessions.insert_session(conn, person_id=person.person_id, method="demo")
    old = sessions.issue_token(
        settings.secret_key,
        session_id=session_id,
        person_id=person.person_id,
        now=datetime.now(UTC) - timedelta(minutes=6),
    )
    client.cookies.set(COOKIE, old)
    response = await client.get("/my")
    assert response.status_code == 200
    renewed = [value for value in response.headers.get_list("set-cookie") if value.startswith(f"{COOKIE}=")]
    assert len(renewed) == 1
    assert old not in renewed[0]


async def test_an_agent_switches_acting_context_explicitly_and_sees_a_banner(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    organisation = await create_organisation(conn)
    agent = await create_agent(conn, organisation, given_name="Nora")
    other = await create_organisation(conn)
    session_id = await sessions.insert_session(conn, person_id=agent.person_id, method="demo")
    client.cookies.set(
        COOKIE, sessions.issue_token(settings.secret_key, session_id=session_id, person_id=agent.person_id)
    )
    overview = await client.get("/my")
    assert "OCMW Teststad" in overview.text
    assert "acting-banner" not in overview.text
    token = await csrf_token(client, "/my")
    refused = await client.post("/acting-context", data={"choice": f"org:{other.org_id}", "_csrf_token": token})
    assert refused.status_code == 422
    switched = await client.post("/acting-context", data={"choice": f"org:{organisation.org_id}", "_csrf_token": token})
    assert switched.status_code == 303
    assert "acting-banner" in (await client.get("/")).text
    await client.post("/acting-context", data={"choice": "self", "_csrf_token": token})
    assert "acting-banner" not in (await client.get("/")).text


async def test_production_has_no_demo_sign_in_and_sends_hsts(
    settings: Settings, conn: asyncpg.Connection, redis: ArqRedis
) -> None:
    source = source_of(conn)

    production = load_settings(
        {
            "VITRINE_ENV": "production",
            "SECRET_KEY": "p" * 48,
            "BASE_URL": "https://vitrine.example",
            "DATABASE_URL": settings.database_url or "",
            "REDIS_URL": settings.redis_url or "",
            "OIDC_ISSUER": "https://idp.example",
            "OIDC_CLIENT_ID": "vitrine",
            "OIDC_CLIENT_SECRET": "s" * 40,
            "SERVICE_SIGNING_KEY": generate_es256_key()
            .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
            .decode(),
            "VAPID_PRIVATE_KEY": generate_es256_key()
            .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
            .decode(),
            "VAPID_SUBJECT": "mailto:operations@vitrine.example",
        }
    )
    app = create_app(production, connection_source=source, redis=redis, configure_logs=False)
    assert all(not route.path.startswith("/dev") for route in app.routes)
    async with in_process_client(app) as client:
        assert (await client.get("/dev/sign-in")).status_code == 404
        home = await client.get("/")
        assert home.headers["strict-transport-security"].startswith("max-age=")
        csrf_cookie = next(v for v in home.headers.get_list("set-cookie") if v.startswith("__Host-vitrine_csrf="))
        assert "Secure" in csrf_cookie
        assert "HttpOnly" in csrf_cookie
        assert "/dev/sign-in" not in (await client.get("/sign-in")).text


async def test_sign_in_is_rate_limited_per_account(dev_client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await seed_identity(conn, secret=TEST_SECRET)
    token = await csrf_token(dev_client, "/dev/sign-in")
    statuses = [
        (
            await dev_client.post(
                "/dev/sign-in",
                data={"persona": "marc", "_csrf_token": token},
                headers={"accept": "application/json"},
            )
        ).status_code
        for _ in range(12)
    ]
    assert statuses[:10] == [303] * 10
    assert statuses[10:] == [429, 429]
