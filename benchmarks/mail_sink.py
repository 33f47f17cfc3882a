"""What the notification benchmark runs beside Vitrine: an SMTP server in process that notes when it accepted
each message, and a Redis database of its own (claimed like the test processes claim theirs)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TextIO, cast
from urllib.parse import urlsplit, urlunsplit

from aiosmtpd.smtp import SMTP, Envelope, Session
from redis import Redis

from benchmarks.harness import BenchmarkError, ensure_loopback
from benchmarks.servers import free_port

# The same claim keys as tests/conftest.py: a benchmark and a test run on one Redis never take each other's jobs.
_CLAIM_KEY = "vitrine:test-redis-db:{number}"


class _Recorder:
    """The server side: notes each accepted message's recipients and wall-clock time, one line each, flushed."""

    def __init__(self, log: TextIO) -> None:
        self.log = log

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 (aiosmtpd hook)
        """aiosmtpd hook: note the time and the recipients."""
        now = time.time()
        for recipient in envelope.rcpt_tos:
            self.log.write(f"{str(recipient).lower()}\t{now!r}\n")
        self.log.flush()
        return "250 2.0.0 OK: queued"


async def _serve(port: int, log_path: Path) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    with log_path.open("a", encoding="utf-8") as log:
        recorder = _Recorder(log)
        server = await loop.create_server(
            lambda: SMTP(recorder, hostname="bench.smtp", ident="Vitrine benchmark SMTP"), host="127.0.0.1", port=port
        )
        await stop.wait()
        server.close()
        await server.wait_closed()


class MailSink:
    """The benchmark's view of the SMTP server: what it accepted, read from the server's log."""

    def __init__(self, port: int, log_path: Path) -> None:
        self.port = port
        self.log_path = log_path

    @property
    def url(self) -> str:
        """The SMTP_URL that reaches this server."""
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def accepted(self) -> dict[str, list[float]]:
        """Per recipient, the times its messages were accepted."""
        found: dict[str, list[float]] = {}
        for line in self.log_path.read_text(encoding="utf-8").splitlines():
            recipient, _, moment = line.partition("\t")
            found.setdefault(recipient, []).append(float(moment))
        return found

    @property
    def count(self) -> int:
        """Messages accepted so far."""
        return sum(len(times) for times in self.accepted.values())

    def times(self) -> list[float]:
        """Every acceptance time, in order."""
        return sorted(moment for times in self.accepted.values() for moment in times)


@asynccontextmanager
async def running_mail_sink(workdir: Path) -> AsyncIterator[MailSink]:
    """An SMTP server in a process of its own (so the load this process generates never delays its answers) on a
    free loopback port, for the duration of the block."""
    sink = MailSink(free_port(), workdir / "accepted.tsv")
    sink.log_path.touch()
    command = [sys.executable, "-m", "benchmarks.mail_sink", str(sink.port), str(sink.log_path)]
    process = await asyncio.create_subprocess_exec(*command)
    try:
        for _ in range(100):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", sink.port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            writer.close()
            break
        else:
            raise BenchmarkError("the benchmark's SMTP server did not start")
        yield sink
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()


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


if __name__ == "__main__":
    # `python -m benchmarks.mail_sink PORT LOG`: the SMTP server process started by running_mail_sink.
    asyncio.run(_serve(int(sys.argv[1]), Path(sys.argv[2])))
