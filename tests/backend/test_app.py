"""The assembled web app: pages answer, errors are problem+json or friendly HTML, headers are set."""

from __future__ import annotations

import re

import httpx
import pytest

from backend.core.http_middleware import CONTENT_SECURITY_POLICY

Client = httpx.AsyncClient


@pytest.mark.parametrize(
    ("accept_language", "lang", "title"),
    [
        ("nl-BE,nl;q=0.9", "nl", "Uw socialezekerheidsgegevens"),
        ("fr-BE,fr;q=0.9,en;q=0.5", "fr", "Vos données de sécurité sociale"),
        ("de-BE", "de", "Ihre Sozialversicherungsdaten"),
        ("en-GB,en;q=0.8", "en", "Your social security data"),
        ("es-ES", "nl", "Uw socialezekerheidsgegevens"),
    ],
)
async def test_home_page_speaks_the_browser_language(
    client: Client, accept_language: str, lang: str, title: str
) -> None:
    response = await client.get("/", headers={"Accept-Language": accept_language})
    assert response.status_code == 200
    assert f'<html lang="{lang}">' in response.text
    assert title in response.text
    assert response.text.count("<h1") == 1


async def test_every_response_carries_security_headers(client: Client) -> None:
    for path in ["/", "/healthz", "/does-not-exist", "/api/v1/does-not-exist"]:
        response = await client.get(path)
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert "camera=()" in response.headers["permissions-policy"]
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"]), path
        # Served over plain http in tests: HSTS would be wrong here (production requires https).
        assert "strict-transport-security" not in response.headers


async def test_a_valid_incoming_request_id_is_kept(client: Client) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "edge-1234abcd"})
    assert response.headers["x-request-id"] == "edge-1234abcd"
    response = await client.get("/healthz", headers={"X-Request-ID": "bad id with spaces\n"})
    assert response.headers["x-request-id"] != "bad id with spaces\n"


async def test_unknown_api_path_is_problem_json(client: Client) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 404
    assert body["title"] == "Not found"
    assert body["instance"] == "/api/v1/nothing-here"
    assert body["request_id"] == response.headers["x-request-id"]


@pytest.mark.parametrize(
    ("lang", "heading"),
    [
        ("nl", "Pagina niet gevonden"),
        ("fr", "Page introuvable"),
        ("de", "Seite nicht gefunden"),
        ("en", "Page not found"),
    ],
)
async def test_unknown_page_is_friendly_html_in_the_person_s_language(client: Client, lang: str, heading: str) -> None:
    client.cookies.set("vitrine_lang", lang)
    response = await client.get("/no/such/page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert heading in response.text
    assert response.headers["x-request-id"] in response.text
    assert "Traceback" not in response.text


async def test_static_files_have_hashed_names_and_long_cache(client: Client) -> None:
    page = await client.get("/")
    match = re.search(r'href="(/static/css/app\.[0-9a-f]{10}\.css)"', page.text)
    assert match, "the stylesheet link must carry a content hash"
    asset = await client.get(match.group(1))
    assert asset.status_code == 200
    assert asset.headers["content-type"].startswith("text/css")
    assert "immutable" in asset.headers["cache-control"]
    assert (await client.get("/static/css/app.css")).status_code == 404
    assert (await client.get("/static/../../pyproject.toml")).status_code == 404


async def test_pages_are_not_cached(client: Client) -> None:
    response = await client.get("/")
    assert response.headers["cache-control"] == "no-store"


async def test_openapi_schema_is_published(client: Client) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Vitrine API"
    assert "/readyz" in schema["paths"]
