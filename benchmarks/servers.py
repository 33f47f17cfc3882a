"""The servers under test: a benchmark database, Vitrine's web process and the baseline, each a subprocess on a
free loopback port, stopped and dropped at the end whatever happens."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from redis.asyncio import Redis

from backend.core.db import connect
from backend.core.migrations import migrate
from benchmarks.harness import BenchmarkError, ensure_loopback

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
READY_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 15


def with_database(url: str, database: str) -> str:
    """The same server URL naming another database."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


def free_port() -> int:
    """A port nobody listens on right now on the loopback address."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


async def create_database(server_url: str, name: str) -> str:
    """A fresh database built by Vitrine's migrations; returns its URL."""
    admin = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = with_database(server_url, name)
    conn = await connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    return url


async def drop_database(server_url: str, name: str) -> None:
    """Drop the benchmark database (connections still open are ended)."""
    admin = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def service_versions(database_url: str, redis_url: str) -> tuple[str, str]:
    """PostgreSQL's and Redis's version strings, for the report."""
    conn = await asyncpg.connect(database_url)
    try:
        postgres = str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()
    redis = Redis.from_url(redis_url)
    try:
        info = await redis.info("server")
        redis_version = str(info.get("redis_version", "unknown"))
    finally:
        await redis.aclose()
    return postgres, redis_version


@dataclass(frozen=True)
class Answer:
    """One response, read whole."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of a header."""
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)

    def set_cookies(self) -> dict[str, str]:
        """Name and value of each cookie the response sets."""
        found: dict[str, str] = {}
        for key, value in self.headers:
            if key.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                found[name.strip()] = rest.split(";", 1)[0]
        return found


def fetch(port: int, path: str, *, method: str = "GET", headers: Mapping[str, str] | None = None) -> Answer:
    """One request on loopback, redirects not followed."""
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        connection.request(method, path, headers=dict(headers or {}))
        response = connection.getresponse()
        return Answer(response.status, tuple(response.getheaders()), response.read())
    finally:
        connection.close()


class Server:
    """A web server subprocess on a loopback port; output discarded while it runs (it logs every request)."""

    def __init__(self, name: str, command: Sequence[str], env: Mapping[str, str], port: int, ready_path: str) -> None:
        ensure_loopback(HOST)
        self.name = name
        self.port = port
        self._command = list(command)
        self._env = dict(env)
        self._ready_path = ready_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """The server process id."""
        assert self._process is not None
        return self._process.pid

    def __enter__(self) -> Server:
        self._process = subprocess.Popen(  # noqa: S603 (our own interpreter and modules)
            self._command, env=self._env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def _wait_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise BenchmarkError(f"{self.name} stopped during start-up:\n{self._start_up_output()}")
            try:
                if fetch(self.port, self._ready_path).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise BenchmarkError(f"{self.name} not ready after {READY_TIMEOUT_SECONDS} s")

    def _start_up_output(self) -> str:
        """Start the same command again, briefly, to show why it stopped (its output was discarded)."""
        try:
            again = subprocess.run(  # noqa: S603 (our own interpreter and modules)
                self._command, env=self._env, cwd=ROOT, capture_output=True, text=True, timeout=20, check=False
            )
        except subprocess.TimeoutExpired as timeout:
            output = timeout.stderr or timeout.stdout or b""
            text = output.decode(errors="replace") if isinstance(output, bytes) else output
            return text[-3000:]
        return (again.stderr or again.stdout)[-3000:]

    def peak_rss_mib(self) -> float | None:
        """The process's peak resident memory so far (VmHWM), in MiB; None where /proc is not available."""
        try:
            status = Path(f"/proc/{self.pid}/status").read_text(encoding="ascii")
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not stop in time."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def server_env(extra: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without sign-in provider settings, plus the given variables."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OIDC_")}
    env.update(extra)
    return env


def vitrine_command() -> list[str]:
    """`vitrine web` with this interpreter."""
    return [sys.executable, "-m", "backend.cli", "web"]


def baseline_command() -> list[str]:
    """The bare baseline app."""
    return [sys.executable, "-m", "benchmarks.baseline"]
