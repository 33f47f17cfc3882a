"""The one transaction of a request, opened by the `conn` dependency and closed before the response starts.

Why not a yield dependency: Litestar drops the cleanup of already-resolved generator dependencies when a later
dependency raises (a refused assertion, say), leaving the transaction open and the connection held until garbage
collection finalises the generator at some arbitrary later moment. Here the dependency only opens the transaction
and records it in the ASGI scope; this middleware always closes it: commit when the handler produced a response,
roll back when anything raised (the exception handler marks the scope) or the request failed.

The session middleware borrows the same connection first (`request_connection`) for its one session statement,
so a signed-in request takes one connection from the pool, not two; the transaction starts when the handler asks
for `conn`. This middleware must therefore wrap the session middleware.
"""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg
from asyncpg.transaction import Transaction
from litestar import Request
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from backend.core.db import ConnectionSource

logger = logging.getLogger("vitrine.request_transaction")

_SCOPE_KEY = "vitrine_transaction"
# Set in the scope by the exception handler: whatever the request wrote must be rolled back.
FAILED_KEY = "vitrine_failed"


class RequestTransaction:
    """The request's borrowed connection and, once the handler asks for it, its transaction, until `close`."""

    def __init__(self, source: ConnectionSource) -> None:
        self._borrow: AbstractAsyncContextManager[asyncpg.Connection] = source()
        self._conn: asyncpg.Connection | None = None
        self._transaction: Transaction | None = None

    async def borrow(self) -> asyncpg.Connection:
        """The connection, borrowed from the source on first use (no transaction is started)."""
        if self._conn is None:
            self._conn = await self._borrow.__aenter__()
        return self._conn

    async def open(self) -> asyncpg.Connection:
        """The connection with the request's transaction started (a savepoint inside a test's transaction)."""
        conn = await self.borrow()
        if self._transaction is None:
            transaction = conn.transaction()
            await transaction.start()
            self._transaction = transaction
        return conn

    async def close(self, *, commit: bool) -> None:
        """Commit or roll back, then give the connection back, whatever happens.

        A failed commit is raised: the answer must not claim what was not stored. A failed rollback or give-back
        (the server closed the connection: a restart) is only logged: nothing was kept, and the pool replaces a
        connection whose reset fails.
        """
        if self._conn is None:
            return
        try:
            if self._transaction is not None:
                if commit:
                    await self._transaction.commit()
                else:
                    try:
                        await self._transaction.rollback()
                    except Exception:
                        logger.warning("could not roll back the request's transaction", exc_info=True)
        finally:
            self._conn = None
            try:
                await self._borrow.__aexit__(None, None, None)
            except Exception:
                logger.warning("could not give the request's connection back to the pool", exc_info=True)


def _holder(scope: Any, source: ConnectionSource) -> RequestTransaction:
    holder: RequestTransaction | None = scope.get(_SCOPE_KEY)
    if holder is None:
        holder = scope[_SCOPE_KEY] = RequestTransaction(source)
    return holder


async def request_connection(scope: Scope, source: ConnectionSource) -> asyncpg.Connection:
    """The request's connection outside any transaction, for the session middleware's one statement.

    The handler's `conn` later starts the request's transaction on this same connection.
    """
    return await _holder(scope, source).borrow()


async def provide_connection(request: Request[Any, Any, Any]) -> asyncpg.Connection:
    """The request's connection inside its one transaction (closed by TransactionMiddleware)."""
    return await _holder(request.scope, request.app.state.connection_source).open()


async def provide_read_connection(request: Request[Any, Any, Any]) -> asyncpg.Connection:
    """The request's connection without a transaction, for handlers that only read the person's own data.

    Why no transaction: under PostgreSQL's READ COMMITTED, the default, every statement takes its own snapshot
    inside a transaction as much as outside one, so for statements that only read, `BEGIN` and `COMMIT` add two
    round trips and guarantee nothing: there is nothing to commit together and nothing to roll back. The session
    read and the acting re-check happen before the handler as for any request. A handler that takes `read_conn`
    must never write, nor read someone else's data (that read is logged, and the log row must share the read's
    transaction): such a handler takes `conn`. See docs/decisions/0002.
    """
    return await _holder(request.scope, request.app.state.connection_source).borrow()


async def provide_subject_connection(request: Request[Any, Any, Any]) -> asyncpg.Connection:
    """The connection for reading the data of the person the signed-in user acts for.

    Their own data (nothing is logged): the connection without a transaction, as `read_conn`. Someone else's
    data, as a helper or an agent: the connection inside the request's transaction, as `conn`, because each such
    read is written to the person's access log and the log row must share the read's transaction. A handler that
    takes `subject_conn` writes nothing else. Signed-in people mostly read their own data; the two round trips
    of BEGIN and COMMIT were a tenth of the records overview's cost.
    """
    user = request.scope.get("user")
    if getattr(user, "acting_for_someone", True):
        return await provide_connection(request)
    return await provide_read_connection(request)


async def _answer_failed_commit(scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
    """Answer as the app answers any exception (a 503 page or problem+json when the connection was lost)."""
    request: Request[Any, Any, Any] = Request(scope, receive)
    handlers = request.app.exception_handlers
    handler = next((handlers[kind] for kind in type(exc).__mro__ if kind in handlers), None)
    if handler is None:
        raise exc
    response = handler(request, exc)
    await response.to_asgi_response(app=None, request=request)(scope, receive, send)


async def _finish(scope: Any, *, failed: bool) -> None:
    holder: RequestTransaction | None = scope.pop(_SCOPE_KEY, None)
    if holder is not None:
        await holder.close(commit=not failed)


class TransactionMiddleware(ASGIMiddleware):
    """Closes the request's transaction before the response starts (so a client never sees an answer whose
    writes are not yet committed), and in any case when the request ends."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        replaced = False

        async def send_after_closing(message: Message) -> None:
            nonlocal replaced
            if replaced:
                return  # the handler's answer was replaced: what it still sends is dropped
            if message["type"] == "http.response.start":
                try:
                    await _finish(scope, failed=bool(scope.get(FAILED_KEY)) or message["status"] >= 500)
                except Exception as exc:
                    # The commit failed (the connection was lost at that moment): the handler's answer would claim
                    # what was not stored, so the client gets a problem instead.
                    replaced = True
                    await _answer_failed_commit(scope, receive, send, exc)
                    return
            await send(message)

        try:
            await next_app(scope, receive, send_after_closing)
        finally:
            await _finish(scope, failed=True)
