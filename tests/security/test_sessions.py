"""Session cookies and tokens: the flags every cookie carries, the attacks on the session token, and the rate
limits of sign-in and code entry.

Already covered elsewhere, and not repeated here: expired, tampered, wrong-key and garbage session tokens
(`tests/frontend/test_sign_in.py::test_a_bad_session_token_means_anonymous`), a copied cookie after sign-out
and revocation (`test_sign_out_takes_effect_on_the_next_request`, `test_revocation_is_felt_by_the_very_next_request`),
and every attack on institution assertions: alg none, wrong key, expired, replayed jti, wrong audience, foreign
kid … (`tests/backend/core/auth/test_assertions.py::test_attack_is_refused`, `test_institution_api.py`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from http.cookies import SimpleCookie
from uuid import UUID, uuid4

import asyncpg
import httpx
import jwt
import msgspec
import pytest
from arq.connections import ArqRedis

from backend.app import create_app
from backend.core.auth import sessions
from backend.core.identity.demo import seed_identity
from backend.core.identity.schemas import Person
from backend.core.settings import Settings
from tests.conftest import in_process_client, source_of
from tests.factories import TEST_SECRET, create_person, csrf_token


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _cookies(response: httpx.Response) -> dict[str, SimpleCookie]:
    found: dict[str, SimpleCookie] = {}
    for header in response.headers.get_list("set-cookie"):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        for name in cookie:
            found[name] = cookie
    return found


def _assert_flags(cookie: SimpleCookie, name: str, *, https: bool) -> None:
    morsel = cookie[name]
    assert morsel["httponly"], f"{name} is not HttpOnly"
    assert morsel["samesite"].lower() in ("lax", "strict"), f"{name} has no SameSite"
    assert morsel["path"] == "/", f"{name} is not for the whole site"
    assert not morsel["domain"], f"{name} names a domain"
    assert bool(morsel["secure"]) == https, f"{name}: Secure must be set exactly over https"


@pytest.fixture(params=[False, True], ids=["http", "https"])
async def dev_app(
    request: pytest.FixtureRequest, settings: Settings, conn: asyncpg.Connection, redis: ArqRedis
) -> AsyncIterator[tuple[httpx.AsyncClient, bool]]:
    """The development app (its demo sign-in sets real session cookies), served over http or https."""
    https: bool = request.param
    base_url = "https://vitrine.example" if https else settings.base_url
    development = msgspec.structs.replace(settings, env="development", base_url=base_url)
    app = create_app(development, connection_source=source_of(conn), redis=redis, configure_logs=False)
    client = in_process_client(app)
    # A browser keeps Secure cookies for https pages only: call the app at its https address.
    client.base_url = httpx.URL(base_url)
    async with client:
        yield client, https


async def test_every_cookie_carries_its_flags(
    dev_app: tuple[httpx.AsyncClient, bool], conn: asyncpg.Connection
) -> None:
    client, https = dev_app
    await seed_identity(conn, secret=TEST_SECRET)
    session_name = sessions.cookie_name(https)
    csrf_name = "__Host-vitrine_csrf" if https else "vitrine_csrf"
    page = await client.get("/dev/sign-in")
    token = await csrf_token(client, "/dev/sign-in")
    _assert_flags(_cookies(page)[csrf_name], csrf_name, https=https)
    signed_in = await client.post("/dev/sign-in", data={"persona": "lena", "next": "/my", "_csrf_token": token})
    assert signed_in.status_code == 303
    _assert_flags(_cookies(signed_in)[session_name], session_name, https=https)
    language = await client.post("/language", data={"lang": "fr", "next": "/my", "_csrf_token": token})
    _assert_flags(_cookies(language)["vitrine_lang"], "vitrine_lang", https=https)
    signed_out = await client.post("/sign-out", data={"_csrf_token": token})
    cleared = _cookies(signed_out)[session_name]
    _assert_flags(cleared, session_name, https=https)
    assert cleared[session_name]["max-age"] == "0"
    if https:
        # The prefix makes the browser refuse the cookie unless it is Secure, host-only and for the whole site.
        assert session_name.startswith("__Host-")
        assert csrf_name.startswith("__Host-")


async def _signed_in(conn: asyncpg.Connection) -> tuple[Person, UUID]:
    person = await create_person(conn, given_name="Marthe", family_name="Tokenvictim")
    session_id = await sessions.insert_session(conn, person_id=person.person_id, method="demo")
    return person, session_id


# The HS512 forgery uses the real key: its length warning is the point, not a problem.
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("attack", ["alg-none", "alg-none-upper", "hs512", "sid-of-another", "unknown-sid", "no-exp"])
async def test_a_forged_session_token_is_anonymous(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings, attack: str
) -> None:
    victim, victim_session = await _signed_in(conn)
    attacker = await create_person(conn)
    attacker_session = await sessions.insert_session(conn, person_id=attacker.person_id, method="demo")
    claims = {"sid": str(victim_session), "sub": str(victim.person_id), "aud": "vitrine-session"}
    valid = jwt.decode(
        sessions.issue_token(settings.secret_key, session_id=victim_session, person_id=victim.person_id),
        options={"verify_signature": False},
    )
    token = {
        "alg-none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(valid)}.",
        "alg-none-upper": f"{_b64({'alg': 'None', 'typ': 'JWT'})}.{_b64(valid)}.",
        "hs512": jwt.encode(valid, settings.secret_key, algorithm="HS512"),
        # The attacker's own valid session, claimed for the victim: the row belongs to someone else.
        "sid-of-another": jwt.encode({**valid, "sid": str(attacker_session)}, settings.secret_key, algorithm="HS256"),
        "unknown-sid": jwt.encode({**valid, "sid": str(uuid4())}, settings.secret_key, algorithm="HS256"),
        "no-exp": jwt.encode({**claims, "iat": valid["iat"]}, settings.secret_key, algorithm="HS256"),
    }[attack]
    client.cookies.set(sessions.cookie_name(False), token)
    page = await client.get("/my")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/sign-in")
    api = await client.get("/api/v1/me/records")
    assert api.status_code == 401
    assert "Tokenvictim" not in api.text


async def test_sign_in_answers_429_with_retry_after(
    client: httpx.AsyncClient, settings: Settings, redis: ArqRedis, conn: asyncpg.Connection
) -> None:
    development = msgspec.structs.replace(settings, env="development")
    app = create_app(development, connection_source=source_of(conn), redis=redis, configure_logs=False)
    await seed_identity(conn, secret=TEST_SECRET)
    async with in_process_client(app) as dev:
        token = await csrf_token(dev, "/dev/sign-in")
        answers = [await dev.post("/dev/sign-in", data={"persona": "marc", "_csrf_token": token}) for _ in range(11)]
    refused = answers[-1]
    assert [a.status_code for a in answers[:10]] == [303] * 10
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0


async def test_code_entry_answers_429_with_retry_after(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings
) -> None:
    helper = await create_person(conn)
    session_id = await sessions.insert_session(conn, person_id=helper.person_id, method="demo")
    client.cookies.set(
        sessions.cookie_name(False),
        sessions.issue_token(settings.secret_key, session_id=session_id, person_id=helper.person_id),
    )
    token = await csrf_token(client, "/helping/accept")
    pages = [
        await client.post("/helping/accept", data={"code": "WRONG-CODE-1", "_csrf_token": token}) for _ in range(6)
    ]
    assert pages[-1].status_code == 429, [p.status_code for p in pages]
    assert int(pages[-1].headers["retry-after"]) > 0
    api = await client.post("/api/v1/mandates/invitations/accept", json={"code": "WRONG-CODE-2"})
    assert api.status_code == 429
    assert int(api.headers["retry-after"]) > 0
    assert api.headers["content-type"].startswith("application/problem+json")
