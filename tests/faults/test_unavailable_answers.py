"""Which failures answer 503 (a back end cannot be reached: try again) and which stay 500 (a fault of ours), in
process, without stopping any server: the connection source itself fails the way a restarting PostgreSQL does."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest
from arq.connections import ArqRedis

from backend.app import create_app
from backend.core.auth import sessions
from backend.core.db import ConnectionSource
from backend.core.errors import is_unavailable
from backend.core.settings import Settings
from tests.conftest import in_process_client


def _failing_source(error: Exception) -> ConnectionSource:
    @asynccontextmanager
    async def lend() -> AsyncIterator[asyncpg.Connection]:
        raise error
        yield  # pragma: no cover (a generator that fails before lending)

    return lend


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (ConnectionRefusedError(111, "Connection refused"), True),
        (OSError("Multiple exceptions: [Errno 111] Connect call failed"), True),
        (TimeoutError(), True),
        (asyncpg.CannotConnectNowError("the database system is starting up"), True),
        (asyncpg.AdminShutdownError("terminating connection due to administrator command"), True),
        (asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"), True),
        (asyncpg.InterfaceError("cannot call Connection.fetch(): connection has been released back to the pool"), True),
        (asyncpg.InternalClientError("cannot switch to state 12; another operation (2) is in progress"), True),
        (asyncpg.InterfaceError("cannot perform operation: another operation is in progress"), False),
        (FileNotFoundError("no such file"), False),
        (PermissionError("not allowed"), False),
        (asyncpg.UniqueViolationError("duplicate key"), False),
        (ValueError("a bug"), False),
    ],
)
def test_what_counts_as_a_back_end_away(error: Exception, unavailable: bool) -> None:
    assert is_unavailable(error) is unavailable


@pytest.mark.parametrize(
    ("path", "media_type"), [("/api/v1/me/notifications", "application/problem+json"), ("/inbox", "text/html")]
)
async def test_a_database_that_refuses_connections_answers_503_with_retry_after(
    settings: Settings, redis: ArqRedis, path: str, media_type: str
) -> None:
    app = create_app(
        settings,
        connection_source=_failing_source(ConnectionRefusedError(111, "Connection refused")),
        redis=redis,
        configure_logs=False,
    )
    async with in_process_client(app) as client:
        # A well-signed session token: its row is then looked up in the database, which cannot be reached.
        token = sessions.issue_token(settings.secret_key, session_id=uuid.uuid4(), person_id=uuid.uuid4())
        client.cookies.set(sessions.cookie_name(False), token)
        answer = await client.get(path)
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"].startswith(media_type)
    assert answer.headers["retry-after"] == "5"
