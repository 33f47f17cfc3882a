"""Sign-in through OpenID Connect, end to end: the real routes against a provider running on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit

import asyncpg
import httpx
import msgspec
import pytest
from arq.connections import ArqRedis

from backend.app import create_app
from backend.core.auth import sessions
from backend.core.auth.oidc import OidcClient
from backend.core.settings import Settings
from tests.conftest import in_process_client, source_of
from tests.factories import create_person, new_insz
from tests.oidc_provider import OidcProvider, subject_for

APP_BASE = "http://testserver.local"


@pytest.fixture
def provider() -> Iterator[OidcProvider]:
    with OidcProvider.running(redirect_uri=f"{APP_BASE}/auth/oidc/callback") as running:
        yield running


@pytest.fixture
async def oidc_client(
    provider: OidcProvider, settings: Settings, conn: asyncpg.Connection, redis: ArqRedis
) -> AsyncIterator[httpx.AsyncClient]:
    source = source_of(conn)

    config = provider.client_config()
    configured = msgspec.structs.replace(
        settings,
        oidc_issuer=config.issuer,
        oidc_client_id=config.client_id,
        oidc_client_secret=config.client_secret,
        base_url=APP_BASE,
    )
    async with httpx.AsyncClient() as http:
        oidc = OidcClient(config, http)
        app = create_app(configured, connection_source=source, redis=redis, oidc=oidc, configure_logs=False)
        async with in_process_client(app) as client:
            yield client


async def _round_trip(client: httpx.AsyncClient, next_path: str = "/my") -> httpx.Response:
    start = await client.get("/auth/oidc/start", params={"next": next_path})
    assert start.status_code == 303
    async with httpx.AsyncClient() as browser:
        authorize = await browser.get(start.headers["location"])
    assert authorize.status_code == 302
    callback = urlsplit(authorize.headers["location"])
    return await client.get(f"{callback.path}?{callback.query}")


async def test_a_known_person_signs_in_and_lands_where_they_wanted(
    oidc_client: httpx.AsyncClient, provider: OidcProvider, conn: asyncpg.Connection
) -> None:
    insz = new_insz()
    await create_person(conn, insz=insz, given_name="Hanne", family_name="Maes")
    provider.next_subject = subject_for(insz)
    page = await oidc_client.get("/sign-in?next=/my")
    assert "/auth/oidc/start" in page.text
    response = await _round_trip(oidc_client)
    assert response.status_code == 303
    assert response.headers["location"] == "/my"
    overview = await oidc_client.get("/my")
    assert "Hanne Maes" in overview.text
    assert await conn.fetchval("SELECT method FROM sessions WHERE revoked_at IS NULL") == "oidc"


async def test_someone_vitrine_does_not_know_gets_no_session(
    oidc_client: httpx.AsyncClient, provider: OidcProvider, conn: asyncpg.Connection
) -> None:
    provider.next_subject = subject_for(new_insz())
    response = await _round_trip(oidc_client)
    assert response.status_code == 403
    assert sessions.cookie_name(False) not in response.headers.get("set-cookie", "")
    assert await conn.fetchval("SELECT count(*) FROM sessions") == 0


async def test_a_forged_id_token_signs_nobody_in(
    oidc_client: httpx.AsyncClient, provider: OidcProvider, conn: asyncpg.Connection
) -> None:
    insz = new_insz()
    await create_person(conn, insz=insz)
    provider.next_subject = subject_for(insz)
    provider.tamper_next_id_token(signing="hs256_public_key")
    response = await _round_trip(oidc_client)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in"), "a failed sign-in is a 401: back to sign in"
    assert await conn.fetchval("SELECT count(*) FROM sessions") == 0


async def test_a_replayed_callback_is_refused(
    oidc_client: httpx.AsyncClient, provider: OidcProvider, conn: asyncpg.Connection
) -> None:
    insz = new_insz()
    await create_person(conn, insz=insz)
    provider.next_subject = subject_for(insz)
    start = await oidc_client.get("/auth/oidc/start")
    async with httpx.AsyncClient() as browser:
        authorize = await browser.get(start.headers["location"])
    callback = urlsplit(authorize.headers["location"])
    first = await oidc_client.get(f"{callback.path}?{callback.query}")
    assert first.status_code == 303
    second = await oidc_client.get(f"{callback.path}?{callback.query}", headers={"accept": "application/json"})
    assert second.status_code == 401
    assert await conn.fetchval("SELECT count(*) FROM sessions") == 1


async def test_a_cancelled_sign_in_is_explained(oidc_client: httpx.AsyncClient) -> None:
    response = await oidc_client.get(
        "/auth/oidc/callback?error=access_denied&state=x", headers={"accept": "application/json"}
    )
    assert response.status_code == 401
    assert response.json()["type"] == "urn:vitrine:problem:sign-in-failed"
