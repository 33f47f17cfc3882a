"""Hand e-mails to the SMTP server over a few connections kept open between messages (one pool per worker).

A new connection per message cost a TCP handshake, the server's greeting, EHLO (and STARTTLS and AUTH where the
server asks for them) before every message. The pool keeps up to `size` connections and lends each to one
message at a time; a connection that the server closed, or that failed in any way that leaves its state unknown,
is closed and never lent again.

Failures are sorted for the caller as before: a 4xx answer, a refused or broken connection or a timeout is a
TemporaryFailure (worth a retry); a 5xx answer is a PermanentFailure. A message is never sent twice because of
the pool: the only attempt made again on a fresh connection is one whose reused connection was found closed
before the MAIL command was answered, that is before the server could have taken any message.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections import deque
from typing import Final
from urllib.parse import unquote, urlsplit

import aiosmtplib

from notifications.channels.email import OutgoingEmail, redact
from notifications.channels.failures import DeliveryFailure, PermanentFailure, TemporaryFailure

SMTP_TIMEOUT_SECONDS: Final = 30.0
# Up to this many connections per worker process: SMTP servers limit connections per client (Postfix: 50), and a
# few connections carry far more than one worker's messages a second on a nearby server.
POOL_SIZE: Final = 8
# A connection idle longer than this is checked with NOOP before it carries a message (servers drop idle ones).
CHECK_AFTER_IDLE_SECONDS: Final = 10.0
# Server answer meaning "closing the connection" (RFC 5321): the connection is not lent again.
_CLOSING: Final = 421


def _classify(code: int, text: str) -> DeliveryFailure:
    reason = redact(f"SMTP {code}: {text}")
    return PermanentFailure(reason) if 500 <= code < 600 else TemporaryFailure(reason)


class _Stale(Exception):
    """A reused connection turned out closed before the server answered MAIL: nothing was sent on it."""


class SmtpPool:
    """Connections to one SMTP server (`smtp://` or `smtps://`, optional `user:password@`), lent one at a time."""

    def __init__(self, smtp_url: str, *, size: int = POOL_SIZE, timeout_seconds: float = SMTP_TIMEOUT_SECONDS) -> None:
        parts = urlsplit(smtp_url)
        self._implicit_tls = parts.scheme == "smtps"
        self._hostname = parts.hostname or "localhost"
        self._port = parts.port or (465 if self._implicit_tls else 25)
        self._username = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._timeout = timeout_seconds
        self._slots = asyncio.Semaphore(size)
        self._idle: deque[tuple[aiosmtplib.SMTP, float]] = deque()
        self._local_hostname: str | None = None
        self._closed = False
        self.connections_opened = 0  # for tests and metrics: how many times the pool had to connect

    async def _connect(self) -> aiosmtplib.SMTP:
        if self._local_hostname is None:
            # socket.getfqdn may ask DNS: once per pool, off the event loop, rather than once per connection.
            self._local_hostname = await asyncio.get_running_loop().run_in_executor(None, socket.getfqdn)
        client = aiosmtplib.SMTP(
            hostname=self._hostname,
            port=self._port,
            username=self._username,
            password=self._password,
            use_tls=self._implicit_tls,
            timeout=self._timeout,
            local_hostname=self._local_hostname,
        )
        await client.connect()
        self.connections_opened += 1
        return client

    async def _checked_idle(self) -> aiosmtplib.SMTP | None:
        """An idle connection still open (checked with NOOP if it idled long), or None."""
        while self._idle:
            client, since = self._idle.pop()
            if not client.is_connected:
                client.close()
                continue
            if time.monotonic() - since > CHECK_AFTER_IDLE_SECONDS:
                try:
                    await client.noop()
                except (aiosmtplib.SMTPException, OSError):
                    client.close()
                    continue
            return client
        return None

    async def send(self, email: OutgoingEmail) -> None:
        """Hand one message to the server; TemporaryFailure or PermanentFailure when it is not taken."""
        if self._closed:
            raise TemporaryFailure("the SMTP pool is closed (worker stopping)")
        async with self._slots:
            client = await self._checked_idle()
            if client is not None:
                try:
                    await self._transaction(client, email, reused=True)
                    return
                except _Stale:
                    client.close()
            try:
                client = await self._connect()
            except aiosmtplib.SMTPResponseException as answer:
                raise _classify(answer.code, answer.message) from None
            except (aiosmtplib.SMTPException, OSError) as problem:
                raise TemporaryFailure(redact(f"{type(problem).__name__}: {problem}")) from None
            try:
                await self._transaction(client, email, reused=False)
            except _Stale as stale:  # not reachable for a fresh connection; kept sorted all the same
                raise TemporaryFailure("SMTP connection closed before MAIL was answered") from stale

    async def _transaction(self, client: aiosmtplib.SMTP, email: OutgoingEmail, *, reused: bool) -> None:
        """MAIL, RCPT, DATA on one connection; the connection goes back to the pool only in a known state."""
        keep = False
        mail_answered = False
        try:
            await client.mail(email.mail_from)
            mail_answered = True
            await client.rcpt(email.to)
            await client.data(email.content)
            keep = True
        except aiosmtplib.SMTPResponseException as answer:
            # The server refused at some step: reset the envelope so the connection can carry the next message.
            keep = answer.code != _CLOSING and await self._reset(client)
            raise _classify(answer.code, answer.message) from None
        except (aiosmtplib.SMTPServerDisconnected, ConnectionError) as problem:
            if reused and not mail_answered:
                raise _Stale from problem
            raise TemporaryFailure(redact(f"{type(problem).__name__}: {problem}")) from None
        except (aiosmtplib.SMTPException, OSError) as problem:
            # Timeouts and the like: the server may or may not have the message; the retry decides, later.
            raise TemporaryFailure(redact(f"{type(problem).__name__}: {problem}")) from None
        finally:
            # Also on cancellation (the job's timeout): a connection left mid-command is never lent again.
            if keep and not self._closed and client.is_connected:
                self._idle.append((client, time.monotonic()))
            else:
                client.close()

    async def _reset(self, client: aiosmtplib.SMTP) -> bool:
        try:
            await client.rset()
        except (aiosmtplib.SMTPException, OSError):
            return False
        return client.is_connected

    async def close(self) -> None:
        """Say QUIT on every idle connection and lend none again (worker shutdown)."""
        self._closed = True
        while self._idle:
            client, _ = self._idle.pop()
            try:
                await asyncio.wait_for(client.quit(), timeout=2.0)
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                pass
            finally:
                client.close()


async def send_once(email: OutgoingEmail, smtp_url: str, *, timeout_seconds: float = SMTP_TIMEOUT_SECONDS) -> None:
    """Send one message over a connection of its own (when no pool was set up, e.g. in a one-off job run)."""
    pool = SmtpPool(smtp_url, size=1, timeout_seconds=timeout_seconds)
    try:
        await pool.send(email)
    finally:
        await pool.close()
