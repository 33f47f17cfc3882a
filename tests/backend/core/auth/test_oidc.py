"""Tests for backend.core.auth.oidc against a real OpenID provider on loopback (tests/oidc_provider.py).

Every sign-in goes over real HTTP: the client fetches discovery, the test follows /authorize as a browser would
(without one), and the client exchanges the code and verifies the id_token with the provider's published keys.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import asyncpg
import httpx
import pytest

from backend.core.auth.oidc import (
    OidcClient,
    OidcConfig,
    OidcError,
    VerifiedLogin,
    local_next_path,
    pkce_pair,
)
from backend.core.auth.oidc_queries import delete_stale_login_attempts
from tests.oidc_provider import OidcProvider, subject_for

NATIONAL_NUMBER = "90020199774"


@pytest.fixture
def provider() -> Iterator[OidcProvider]:
    """A fresh provider per test: its keys, codes and hooks never leak from one test into another."""
    with OidcProvider.running() as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP client the relying party and the "browser" use."""
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture
def oidc(provider: OidcProvider, http: httpx.AsyncClient) -> OidcClient:
    """The relying party registered with the provider."""
    return OidcClient(provider.client_config(), http)


async def _visit_provider(
    oidc: OidcClient, conn: asyncpg.Connection, http: httpx.AsyncClient, *, next_path: str = "/", login_hint: str = ""
) -> tuple[str, str]:
    """Start a sign-in and follow the provider's redirect back; the callback's (code, state)."""
    url = await oidc.authorization_url(conn, next_path)
    if login_hint:
        url += "&" + urlencode({"login_hint": login_hint})  # what the browser's address would carry
    response = await http.get(url)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(oidc.config.redirect_uri + "?")
    params = parse_qs(urlsplit(location).query)
    return params["code"][0], params["state"][0]


async def _sign_in(
    oidc: OidcClient, conn: asyncpg.Connection, http: httpx.AsyncClient, *, login_hint: str = ""
) -> VerifiedLogin:
    code, state = await _visit_provider(oidc, conn, http, login_hint=login_hint)
    return await oidc.complete(conn, code=code, state=state)


async def _refused(
    oidc: OidcClient, conn: asyncpg.Connection, *, code: str, state: str, national_number: str = NATIONAL_NUMBER
) -> OidcError:
    """The OidcError a completion raises, checked to carry no national number."""
    with pytest.raises(OidcError) as caught:
        await oidc.complete(conn, code=code, state=state)
    assert national_number not in str(caught.value)
    assert national_number not in repr(caught.value)
    return caught.value


def test_pkce_pair_matches_rfc_7636_appendix_b() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce_pair(verifier) == (verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")


def test_pkce_pair_makes_fresh_valid_verifiers() -> None:
    first, second = pkce_pair(), pkce_pair()
    assert first[0] != second[0]
    assert 43 <= len(first[0]) <= 128
    assert pkce_pair(first[0]) == first


@pytest.mark.parametrize("verifier", ["too-short", "x" * 129, "a" * 42 + "!"])
def test_pkce_pair_refuses_invalid_verifiers(verifier: str) -> None:
    with pytest.raises(ValueError, match="PKCE"):
        pkce_pair(verifier)


@pytest.mark.parametrize(
    ("asked", "kept"),
    [
        ("/records?year=2024", "/records?year=2024"),
        ("/", "/"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("records", "/"),
        ("/a\nb", "/"),
    ],
)
def test_next_path_stays_on_the_site(asked: str, kept: str) -> None:
    assert local_next_path(asked) == kept


@pytest.mark.parametrize("algs", [("HS256",), ("none",), ("RS256", "HS512"), ()])
def test_config_refuses_symmetric_and_unsigned_algorithms(algs: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="allowed_algs"):
        OidcConfig(
            issuer="https://idp.example",
            client_id="c",
            client_secret="s",
            redirect_uri="https://v/cb",
            allowed_algs=algs,
        )


def test_config_repr_hides_the_secret() -> None:
    config = OidcConfig(issuer="https://idp.example", client_id="c", client_secret="hunter2", redirect_uri="https://v")
    assert "hunter2" not in repr(config)


async def test_full_sign_in(
    oidc: OidcClient, provider: OidcProvider, conn: asyncpg.Connection, http: httpx.AsyncClient
) -> None:
    code, state = await _visit_provider(oidc, conn, http, next_path="/records?year=2024", login_hint=NATIONAL_NUMBER)
    asked = provider.last_authorization
    assert asked["response_type"] == "code"
    assert asked["client_id"] == provider.client_id
    assert asked["scope"] == "openid profile"
    assert asked["code_challenge_method"] == "S256"
    assert asked["state"] == state

    login = await oidc.complete(conn, code=code, state=state)

    assert login.national_number == NATIONAL_NUMBER
    assert login.subject == subject_for(NATIONAL_NUMBER).subject
    assert login.next_path == "/records?year=2024"
    assert login.claims["iss"] == provider.issuer
    assert NATIONAL_NUMBER not in repr(login)
    used_at = await conn.fetchval("SELECT used_at FROM oidc_login_attempts WHERE state = $1", state)
    assert used_at is not None
    assert provider.hits["discovery"] == 1
    assert provider.hits["jwks"] == 1


async def test_sign_in_as_the_providers_next_subject_with_an_es256_key(
    oidc: OidcClient, provider: OidcProvider, conn: asyncpg.Connection, http: httpx.AsyncClient
) -> None:
    provider.rotate_keys(alg="ES256")
    provider.next_subject = subject_for("01010112345")
    login = await _sign_in(oidc, conn, http)
    assert login.national_number == "01010112345"


async def test_attempt_stores_a_fresh_state_nonce_and_verifier(
    oidc: OidcClient, provider: OidcProvider, conn: asyncpg.Connection
) -> None:
    first = parse_qs(urlsplit(await oidc.authorization_url(conn, "/")).query)
    second = parse_qs(urlsplit(await oidc.authorization_url(conn, "//evil.example")).query)
    assert first["state"] != second["state"]
    assert first["nonce"] != second["nonce"]
    row = await conn.fetchrow(
        "SELECT nonce, code_verifier, next_path FROM oidc_login_attempts WHERE state = $1", second["state"][0]
    )
    assert row is not None
    assert row["nonce"] == second["nonce"][0]
    assert pkce_pair(row["code_verifier"])[1] == second["code_challenge"][0]
    assert row["next_path"] == "/"
    assert provider.hits["discovery"] == 1  # cached


async def test_state_used_twice_is_refused(oidc: OidcClient, conn: asyncpg.Connection, http: httpx.AsyncClient) -> None:
    code, state = await _visit_provider(oidc, conn, http, login_hint=NATIONAL_NUMBER)
    await oidc.complete(conn, code=code, state=state)
    error = await _refused(oidc, conn, code=code, state=state)
    assert error.code == "state"


async def test_unknown_state_is_refused(oidc: OidcClient, conn: asyncpg.Connection, http: httpx.AsyncClient) -> None:
    code, _ = await _visit_provider(oidc, conn, http)
    error = await _refused(oidc, conn, code=code, state="made-up-state")
    assert error.code == "state"


async def test_expired_attempt_is_refused(oidc: OidcClient, conn: asyncpg.Connection, http: httpx.AsyncClient) -> None:
    code, state = await _visit_provider(oidc, conn, http)
    await conn.execute(
        "UPDATE oidc_login_attempts SET created_at = now() - interval '11 minutes' WHERE state = $1", state
    )
    error = await _refused(oidc, conn, code=code, state=state)
    assert error.code == "state"


async def test_pkce_mismatch_is_a_token_exchange_error_and_spends_the_state(
    oidc: OidcClient, conn: asyncpg.Connection, http: httpx.AsyncClient
) -> None:
    code, state = await _visit_provider(oidc, conn, http)
    other_verifier, _ = pkce_pair()
    await conn.execute("UPDATE oidc_login_attempts SET code_verifier = $2 WHERE state = $1", state, other_verifier)
    error = await _refused(oidc, conn, code=code, state=state)
    assert error.code == "token_exchange"
    assert "invalid_grant" in str(error)
    assert (await _refused(oidc, conn, code=code, state=state)).code == "state"


async def test_wrong_client_secret_is_a_token_exchange_error(
    provider: OidcProvider, conn: asyncpg.Connection, http: httpx.AsyncClient
) -> None:
    oidc = OidcClient(provider.client_config(client_secret="not-the-secret"), http)
    code, state = await _visit_provider(oidc, conn, http)
    error = await _refused(oidc, conn, code=code, state=state)
    assert error.code == "token_exchange"
    assert "invalid_client" in str(error)


# Each way an id_token can be wrong, as keyword arguments for OidcProvider.issue_id_token, and the expected code.
ATTACKS = [
    pytest.param({"iss": "https://evil.example"}, "id_token", id="wrong-issuer"),
    pytest.param({"aud": "someone-else"}, "id_token", id="wrong-audience"),
    pytest.param({"aud": ["vitrine-test", "someone-else"]}, "id_token", id="several-audiences-without-azp"),
    pytest.param(
        {"aud": ["vitrine-test", "someone-else"], "azp": "someone-else"}, "id_token", id="issued-to-another-party"
    ),
    pytest.param({"issued_at_offset": -7200, "expires_in": 3600}, "id_token", id="expired"),
    pytest.param({"issued_at_offset": 3600}, "id_token", id="issued-in-the-future"),
    pytest.param({"remove": ("exp",)}, "id_token", id="missing-exp"),
    pytest.param({"remove": ("iat",)}, "id_token", id="missing-iat"),
    pytest.param({"remove": ("sub",)}, "id_token", id="missing-sub"),
    pytest.param({"sub": ""}, "id_token", id="empty-sub"),
    pytest.param({"egovNRN": 90020199774}, "id_token", id="national-number-not-a-string"),
    pytest.param({"nonce": "not-the-nonce"}, "nonce", id="wrong-nonce"),
    pytest.param({"remove": ("nonce",)}, "nonce", id="missing-nonce"),
    pytest.param({"signing": "none"}, "id_token", id="alg-none"),
    pytest.param({"signing": "hs256_public_key"}, "id_token", id="hs256-with-the-public-key"),
    pytest.param({"signing": "unknown_key"}, "id_token", id="unknown-key"),
    pytest.param({"signing": "foreign_key_same_kid"}, "id_token", id="foreign-key-under-a-known-kid"),
    pytest.param({"signing": "malformed"}, "id_token", id="not-a-jwt"),
    pytest.param({"alter_payload": {"egovNRN": "85073003328"}}, "id_token", id="tampered-payload"),
]


@pytest.mark.parametrize(("tamper", "expected_code"), ATTACKS)
async def test_bad_id_tokens_are_refused(
    oidc: OidcClient,
    provider: OidcProvider,
    conn: asyncpg.Connection,
    http: httpx.AsyncClient,
    tamper: dict[str, Any],
    expected_code: str,
) -> None:
    code, state = await _visit_provider(oidc, conn, http, login_hint=NATIONAL_NUMBER)
    provider.tamper_next_id_token(**tamper)
    error = await _refused(oidc, conn, code=code, state=state)
    assert error.code == expected_code
    assert provider.hits["token"] == 1


async def test_an_unknown_key_makes_one_jwks_refetch_only(
    oidc: OidcClient, provider: OidcProvider, conn: asyncpg.Connection, http: httpx.AsyncClient
) -> None:
    await _sign_in(oidc, conn, http)
    code, state = await _visit_provider(oidc, conn, http)
    provider.tamper_next_id_token(signing="unknown_key")
    assert (await _refused(oidc, conn, code=code, state=state)).code == "id_token"
    assert provider.hits["jwks"] == 2


async def test_clock_skew_within_the_allowance_is_accepted(
    oidc: OidcClient, provider: OidcProvider, conn: asyncpg.Connection, http: httpx.AsyncClient
) -> None:
    code, state = await _visit_provider(oidc, conn, http)
    provider.tamper_next_id_token(issued_at_offset=30, expires_in=-40)  # iat 30 s ahead, exp 10 s ago
    await oidc.complete(conn, code=code, state=state)


async def test_sign_in_after_key_rotation_refetches_the_keys_once(
    oidc: OidcClient, provider: OidcProvider, conn: asyncpg.Connection, http: httpx.AsyncClient
) -> None:
    old_kid = provider.current_key.kid
    await _sign_in(oidc, conn, http)
    assert provider.hits["jwks"] == 1

    new_key = provider.rotate_keys()
    assert new_key.kid != old_kid
    login = await _sign_in(oidc, conn, http, login_hint=NATIONAL_NUMBER)
    assert login.national_number == NATIONAL_NUMBER
    assert provider.hits["jwks"] == 2

    await _sign_in(oidc, conn, http)
    assert provider.hits["jwks"] == 2  # the new key is cached now


async def test_discovery_naming_another_issuer_is_refused(
    oidc: OidcClient, provider: OidcProvider, conn: asyncpg.Connection
) -> None:
    provider.advertised_issuer = provider.issuer + "/"
    with pytest.raises(OidcError) as caught:
        await oidc.authorization_url(conn, "/")
    assert caught.value.code == "discovery"
    assert await conn.fetchval("SELECT count(*) FROM oidc_login_attempts") == 0


async def test_unreachable_provider_is_a_discovery_error(provider: OidcProvider, http: httpx.AsyncClient) -> None:
    issuer = provider.issuer
    provider.stop()
    oidc = OidcClient(provider.client_config(issuer=issuer), http)
    with pytest.raises(OidcError) as caught:
        await oidc.discover()
    assert caught.value.code == "discovery"


async def test_end_session_url(oidc: OidcClient, provider: OidcProvider, http: httpx.AsyncClient) -> None:
    with pytest.raises(OidcError):
        oidc.end_session_url(None)
    await oidc.discover()
    url = oidc.end_session_url("the-id-token", post_logout_redirect_uri="http://127.0.0.1:8000/signed-out")
    assert url is not None
    response = await http.get(url)
    assert response.status_code == 302
    assert response.headers["location"] == "http://127.0.0.1:8000/signed-out"
    assert provider.end_sessions == [
        {
            "client_id": provider.client_id,
            "id_token_hint": "the-id-token",
            "post_logout_redirect_uri": "http://127.0.0.1:8000/signed-out",
        }
    ]


async def test_no_end_session_url_when_the_provider_offers_none(
    provider: OidcProvider, http: httpx.AsyncClient
) -> None:
    provider.offer_end_session = False
    oidc = OidcClient(provider.client_config(), http)
    await oidc.discover()
    assert oidc.end_session_url("the-id-token") is None


async def test_delete_stale_login_attempts(oidc: OidcClient, conn: asyncpg.Connection) -> None:
    await oidc.authorization_url(conn, "/")
    url = await oidc.authorization_url(conn, "/")
    state = parse_qs(urlsplit(url).query)["state"][0]
    await conn.execute("UPDATE oidc_login_attempts SET created_at = now() - interval '2 hours' WHERE state = $1", state)
    assert await delete_stale_login_attempts(conn) == 1
    assert await conn.fetchval("SELECT count(*) FROM oidc_login_attempts") == 1
