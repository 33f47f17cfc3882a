"""An SMTP server the tests run in process, on loopback, on the test's own event loop (aiosmtpd).

It records every message it accepts and can be told to answer the next messages with an error instead
(`answer_next("451 4.3.0 Try again later")`) or to drop its connections (at once, or on the next MAIL or DATA
command), so the e-mail channel is tested against a real SMTP exchange rather than a mock.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

from aiosmtpd.smtp import SMTP, Envelope, Session


class SmtpServer:
    """The running server: its URL, the messages it accepted, and the answers it will give next."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._answers: deque[str] = deque()
        self._drop_at: set[str] = set()
        self.sessions: list[SMTP] = []  # every connection accepted, open or closed
        self.mail_commands = 0

    @property
    def url(self) -> str:
        """The SMTP_URL that reaches this server."""
        return f"smtp://127.0.0.1:{self.port}"

    def answer_next(self, *answers: str) -> None:
        """Answer the next DATA commands with these replies (e.g. "451 ...", "554 ..."), then accept again."""
        self._answers.extend(answers)

    def drop_connections(self) -> None:
        """Close every open connection from the server's side (as a server does with idle ones)."""
        for session in self.sessions:
            if session.transport is not None:
                session.transport.close()

    def drop_at_next(self, command: str) -> None:
        """Close the connection, without answering, when the next "MAIL" or "DATA" command arrives (once)."""
        self._drop_at.add(command)

    def _dropping(self, server: SMTP, command: str) -> bool:
        if command not in self._drop_at:
            return False
        self._drop_at.discard(command)
        if isinstance(server.transport, asyncio.WriteTransport):
            server.transport.abort()
        return True

    async def handle_MAIL(  # noqa: N802 (aiosmtpd hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        """aiosmtpd hook: count the transaction started, or drop the connection if told to."""
        self.mail_commands += 1
        if self._dropping(server, "MAIL"):
            return "421 4.4.2 Closing"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 (aiosmtpd hook name)
        """aiosmtpd hook: refuse with the next planned answer, or record the message."""
        if self._answers:
            return self._answers.popleft()
        content = cast("bytes", envelope.content)
        self.messages.append(message_from_bytes(content, policy=policy.default))
        self.envelopes.append((str(envelope.mail_from), [str(rcpt) for rcpt in envelope.rcpt_tos]))
        if self._dropping(server, "DATA"):
            # The server has the message, but its "250" never reaches the client.
            return "421 4.4.2 Closing"
        return "250 2.0.0 OK: queued"

    def to(self, address: str) -> list[EmailMessage]:
        """The accepted messages addressed to one recipient."""
        return [message for message in self.messages if str(message["To"]) == address]


@asynccontextmanager
async def running_smtp_server() -> AsyncIterator[SmtpServer]:
    """Start a server on a free loopback port for the duration of the block."""
    loop = asyncio.get_running_loop()
    recorder = SmtpServer(0)

    def protocol() -> Any:
        session = SMTP(recorder, hostname="smtp.test", ident="Vitrine test SMTP")
        recorder.sessions.append(session)
        return session

    server = await loop.create_server(protocol, host="127.0.0.1", port=0)
    recorder.port = server.sockets[0].getsockname()[1]
    try:
        yield recorder
    finally:
        server.close()
        await server.wait_closed()
