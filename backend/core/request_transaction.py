"""The one transaction of a request, opened by the `conn` dependency and closed before the response starts.

Why not a yield dependency: Litestar drops the cleanup of already-resolved generator dependencies when a later
dependency raises (a refused assertion, say), leaving the transaction open and the connection held until garbage
collection finalises the generator at some arbitrary later moment. Here the dependency only opens the transaction
and records it in the ASGI scope; this middleware always closes it: commit when the handler produced a response,
roll back when anything raised (the exception handler marks the scope) or the request failed.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg
from asyncpg.transaction import Transaction
from litestar import Request
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from backend.core.db import ConnectionSource

_SCOPE_KEY = "vitrine_transaction"
# Set in the scope by the exception handler: whatever the request wrote must be rolled back.
FAILED_KEY = "vitrine_failed"


class RequestTransaction:
    """A borrowed connection with a started transaction, until `close`."""

    def __init__(self, source: ConnectionSource) -> None:
        self._borrow: AbstractAsyncContextManager[asyncpg.Connection] = source()
        self._transaction: Transaction | None = None

    async def open(self) -> asyncpg.Connection:
        """Borrow the connection and start the transaction (a savepoint inside a test's transaction)."""
        conn = await self._borrow.__aenter__()
        try:
            self._transaction = conn.transaction()
            await self._transaction.start()
        except BaseException:
            await self._borrow.__aexit__(None, None, None)
            raise
        return conn

    async def close(self, *, commit: bool) -> None:
        """Commit or roll back, then give the connection back, whatever happens."""
        try:
            if self._transaction is not None:
                if commit:
                    await self._transaction.commit()
                else:
                    await self._transaction.rollback()
        finally:
            await self._borrow.__aexit__(None, None, None)


async def provide_connection(request: Request[Any, Any, Any]) -> asyncpg.Connection:
    """The request's connection inside its one transaction (closed by TransactionMiddleware)."""
    holder = RequestTransaction(request.app.state.connection_source)
    conn = await holder.open()
    request.scope[_SCOPE_KEY] = holder  # type: ignore[literal-required]
    return conn


async def _finish(scope: Any, *, failed: bool) -> None:
    holder: RequestTransaction | None = scope.pop(_SCOPE_KEY, None)
    if holder is not None:
        await holder.close(commit=not failed)


class TransactionMiddleware(ASGIMiddleware):
    """Closes the request's transaction before the response starts (so a client never sees an answer whose
    writes are not yet committed), and in any case when the request ends."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        async def send_after_closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                await _finish(scope, failed=bool(scope.get(FAILED_KEY)) or message["status"] >= 500)
            await send(message)

        try:
            await next_app(scope, receive, send_after_closing)
        finally:
            await _finish(scope, failed=True)
