"""Shared set-up for the mandate page tests: the app (backend/app.py wires the mandate pages), posting forms with
their CSRF token, and reading back hidden fields and the error summary."""

from __future__ import annotations

import re
from typing import Any

import asyncpg
import httpx

from backend.core.identity import queries as identity_queries
from backend.core.identity.schemas import Person
from tests.factories import csrf_token

CSRF = "_csrf_token"


async def current_insz(conn: asyncpg.Connection, person: Person) -> str:
    """The person's national number, as they would type it."""
    insz = await identity_queries.select_current_insz(conn, person.person_id)
    assert insz is not None
    return insz


async def post_form(
    client: httpx.AsyncClient,
    path: str,
    data: dict[str, Any],
    token_page: str = "/helpers",  # noqa: S107 (a page, not a password)
) -> httpx.Response:
    """Post a form with the CSRF token of a page the person can open."""
    token = await csrf_token(client, token_page)
    return await client.post(path, data={**data, CSRF: token})


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden fields of the page's forms, as the browser would post them back."""
    return dict(re.findall(r'<input type="hidden" name="([a-z0-9_]+)" value="([^"]*)">', html))


def summary_errors(html: str) -> list[tuple[str, str]]:
    """(field id, message) of each error in the error summary."""
    block = html.partition('class="error-summary__list"')[2].partition("</ul>")[0]
    return re.findall(r'<a href="#([^"]+)">([^<]+)</a>', block)
