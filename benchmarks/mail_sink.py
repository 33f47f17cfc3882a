"""What the notification benchmark runs beside Vitrine: an SMTP server in process that notes when it accepted
each message, and a Redis database of its own (claimed like the test processes claim theirs)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

from aiosmtpd.smtp import SMTP, Envelope, Session
from redis import Redis

from benchmarks.harness import BenchmarkError, ensure_loopback

# The same claim keys as tests/conftest.py: a benchmark and a test run on one Redis never take each other's jobs.
_CLAIM_KEY = "vitrine:test-redis-db:{number}"


class MailSink:
    """Accepts every message; keeps, per recipient, the wall-clock times of acceptance."""

    def __init__(self) -> None:
        self.port = 0
        self.accepted: dict[str, list[float]] = {}

    @property
    def url(self) -> str:
        """The SMTP_URL that reaches this server."""
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def count(self) -> int:
        """Messages accepted so far."""
        return sum(len(times) for times in self.accepted.values())

    def times(self) -> list[float]:
        """Every acceptance time, in order."""
        return sorted(moment for times in self.accepted.values() for moment in times)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 (aiosmtpd hook)
        """aiosmtpd hook: note the time and the recipients."""
        now = time.time()
        for recipient in envelope.rcpt_tos:
            self.accepted.setdefault(str(recipient).lower(), []).append(now)
        return "250 2.0.0 OK: queued"


@asynccontextmanager
async def running_mail_sink() -> AsyncIterator[MailSink]:
    """An SMTP server on a free loopback port, on the running event loop, for the duration of the block."""
    sink = MailSink()

    def protocol() -> Any:
        return SMTP(sink, hostname="bench.smtp", ident="Vitrine benchmark SMTP")

    server = await asyncio.get_running_loop().create_server(protocol, host="127.0.0.1", port=0)
    sink.port = server.sockets[0].getsockname()[1]
    try:
        yield sink
    finally:
        server.close()
        await server.wait_closed()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _with_database(url: str, number: int) -> str:
    """The same Redis server, another database number (`unix://` URLs carry it as `?db=`)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        # Written out: urlunsplit would drop the empty authority ("unix:/path"), which redis-py refuses.
        return f"unix://{parts.path}?db={number}"
    return urlunsplit((parts.scheme, parts.netloc, f"/{number}", "", ""))


@contextmanager
def claimed_redis_database(redis_url: str) -> Iterator[str]:
    """A Redis database number (1-15) used by nobody else while the block runs, emptied first; its URL."""
    if urlsplit(redis_url).scheme != "unix":  # a socket file is on this machine by nature
        ensure_loopback(urlsplit(redis_url).hostname or "")
    client = Redis.from_url(_with_database(redis_url, 0))
    claimed: int | None = None
    try:
        for number in range(1, 16):
            key = _CLAIM_KEY.format(number=number)
            holder = cast("bytes | None", client.get(key))
            if client.set(key, os.getpid(), nx=True) or (
                holder is not None and not _alive(int(holder)) and client.getset(key, os.getpid()) == holder
            ):
                claimed = number
                break
        if claimed is None:
            raise BenchmarkError("every Redis database 1-15 is claimed by a running test process")
        url = _with_database(redis_url, claimed)
        Redis.from_url(url).flushdb()
        yield url
    finally:
        if claimed is not None:
            key = _CLAIM_KEY.format(number=claimed)
            if client.get(key) == str(os.getpid()).encode():
                client.delete(key)
        client.close()
