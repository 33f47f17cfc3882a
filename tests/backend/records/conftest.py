"""Fixtures for the records tests: the ONSS as a test institution, and the record routes on the test app."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from tests.backend.records.institutions import Institution, make_institution


@pytest.fixture
async def onss(conn: asyncpg.Connection) -> Institution:
    """The ONSS: the source of most categories."""
    return await make_institution(conn, "ONSS")


@pytest.fixture
def api(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """The test client of the real app, which serves the record routes."""
    return client
