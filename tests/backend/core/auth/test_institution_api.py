"""The institution API end to end: signed assertions, single use, purposes, and `vitrine institution-token`."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import asyncpg
import httpx
import msgspec
import pytest

from backend.app import create_app
from backend.core.auth.assertion_queries import upsert_api_client
from backend.core.auth.institution_keys import generate_es256_key, make_assertion, public_jwk
from backend.core.db import connect
from backend.core.identity.purposes import Purpose, upsert_purpose
from backend.core.migrations import migrate
from backend.core.settings import Settings
from tests.conftest import in_process_client
from tests.factories import create_organisation

LEGAL = {"legal_basis_nl": "Wet", "legal_basis_fr": "Loi", "legal_basis_de": "Gesetz", "legal_basis_en": "Law"}


@pytest.fixture
async def institution(conn: asyncpg.Connection) -> tuple[str, object]:
    organisation = await create_organisation(conn, kind="institution", code="ONEMTEST")
    key = generate_es256_key()
    await upsert_api_client(conn, "onem-test", organisation.org_id, {"keys": [public_jwk(key, "k1")]})
    await upsert_purpose(
        conn,
        Purpose(
            org_id=organisation.org_id,
            code="unemployment_benefit",
            categories=("dimona", "drs"),
            authorisation_ref="IVC/TEST/1",
            **LEGAL,
        ),
    )
    return "onem-test", key


async def test_a_valid_assertion_is_accepted_once(client: httpx.AsyncClient, institution: tuple[str, object]) -> None:
    client_id, key = institution
    token = make_assertion(key, client_id=client_id, kid="k1", purpose="unemployment_benefit")  # type: ignore[arg-type]
    first = await client.get("/api/v1/institution/whoami", headers={"authorization": f"Bearer {token}"})
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["client_id"] == client_id
    assert body["organisation"] == "ONEMTEST"
    assert body["purpose"]["categories"] == ["dimona", "drs"]
    assert body["purpose"]["legal_basis"]["fr"] == "Loi"
    replay = await client.get("/api/v1/institution/whoami", headers={"authorization": f"Bearer {token}"})
    assert replay.status_code == 401
    assert replay.json()["type"] == "urn:vitrine:problem:assertion-replay"
    assert replay.headers["www-authenticate"].startswith("Bearer")


async def test_an_unknown_purpose_is_403(client: httpx.AsyncClient, institution: tuple[str, object]) -> None:
    client_id, key = institution
    token = make_assertion(key, client_id=client_id, kid="k1", purpose="curiosity")  # type: ignore[arg-type]
    response = await client.get("/api/v1/institution/whoami", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.json()["type"] == "urn:vitrine:problem:unknown-purpose"


async def test_a_purpose_header_cannot_contradict_the_signed_purpose(
    client: httpx.AsyncClient, institution: tuple[str, object]
) -> None:
    client_id, key = institution
    token = make_assertion(key, client_id=client_id, kid="k1", purpose="unemployment_benefit")  # type: ignore[arg-type]
    response = await client.get(
        "/api/v1/institution/whoami",
        headers={"authorization": f"Bearer {token}", "Vitrine-Purpose": "pension_calculation"},
    )
    assert response.status_code == 403


async def test_no_or_bad_credentials_are_401_problems(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/institution/purposes")
    assert missing.status_code == 401
    assert missing.headers["content-type"].startswith("application/problem+json")
    malformed = await client.get("/api/v1/institution/purposes", headers={"authorization": "Bearer abc"})
    assert malformed.status_code == 401
    assert malformed.json()["type"] == "urn:vitrine:problem:assertion-malformed"


async def test_purposes_lists_only_the_caller_s(client: httpx.AsyncClient, institution: tuple[str, object]) -> None:
    client_id, key = institution
    token = make_assertion(key, client_id=client_id, kid="k1")  # type: ignore[arg-type]
    response = await client.get("/api/v1/institution/purposes", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert [purpose["code"] for purpose in response.json()] == ["unemployment_benefit"]


@pytest.mark.xdist_group("embedded")
async def test_the_cli_token_is_accepted_once_then_refused(
    scratch_database_url: str, redis_url: str, settings: Settings, tmp_path: Path
) -> None:
    conn = await connect(scratch_database_url, as_app=False)
    await migrate(conn)
    await conn.close()
    environ = {
        "PATH": "/usr/bin:/bin",
        "VITRINE_ENV": "development",
        "DATABASE_URL": scratch_database_url,
        "REDIS_URL": redis_url,
        "VITRINE_LOCAL_DIR": str(tmp_path / "local"),
    }
    seeded = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "backend.cli", "seed"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert seeded.returncode == 0, seeded.stderr
    keys = list((tmp_path / "local" / "keys").glob("*.pem"))
    assert keys, "demo private keys live under the local folder"
    assert all(oct(path.stat().st_mode)[-3:] == "600" for path in keys)
    issued = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "backend.cli", "institution-token", "ONEM", "--purpose", "unemployment_benefit"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    app = create_app(msgspec.structs.replace(settings, database_url=scratch_database_url), configure_logs=False)
    async with app.lifespan(), in_process_client(app) as client:
        first = await client.get("/api/v1/institution/whoami", headers={"authorization": f"Bearer {token}"})
        second = await client.get("/api/v1/institution/whoami", headers={"authorization": f"Bearer {token}"})
    assert first.status_code == 200, first.text
    assert first.json()["client_id"] == "onem-demo"
    assert second.status_code == 401
