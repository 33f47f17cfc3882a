"""An SMTP server for the fault tests, in process on the test's event loop, on a fixed loopback port that it can
leave (connection refused) and take again, and whose answers to DATA it can hold back.

Like a real mail server, it takes responsibility for a message only when its "250" reaches the client
(RFC 5321, 4.1.1.4): a message whose sender has vanished while the answer was held back is not kept.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

from aiosmtpd.smtp import SMTP, Envelope, Session


class FaultySmtp:
    """The server: its URL, the messages it kept, and switches for the faults."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[EmailMessage] = []
        self.waiting = 0  # DATA commands whose answer is being held back now
        self._open = asyncio.Event()
        self._open.set()
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        """The SMTP_URL that reaches this server."""
        return f"smtp://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Listen on the port (again)."""

        def protocol() -> Any:
            return SMTP(self, hostname="smtp.faults.test", ident="Vitrine fault-test SMTP")

        self._server = await asyncio.get_running_loop().create_server(protocol, host="127.0.0.1", port=self.port)

    async def stop(self) -> None:
        """Stop listening: new connections are refused."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def hold(self) -> None:
        """Hold back the answer to every DATA until `release`."""
        self._open.clear()

    def release(self) -> None:
        """Answer the DATA commands held back, and the next ones at once."""
        self._open.set()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 (aiosmtpd hook)
        """aiosmtpd hook: keep the message, unless its sender went away before it could be told "250"."""
        self.waiting += 1
        try:
            await self._open.wait()
        finally:
            self.waiting -= 1
        if server.transport is None or server.transport.is_closing():
            return "421 4.4.2 Sender went away"
        self.messages.append(message_from_bytes(cast("bytes", envelope.content), policy=policy.default))
        return "250 2.0.0 OK: kept"

    def per_recipient(self) -> Counter[str]:
        """How many messages each address received."""
        return Counter(str(message["To"]) for message in self.messages)
