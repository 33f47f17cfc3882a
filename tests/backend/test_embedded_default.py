"""`make run` with no URLs: embedded PostgreSQL and Redis, web and worker up, e-mail caught in a folder, and Ctrl-C
leaves nothing."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("embedded")]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _processes_mentioning(text: str, *, where: str = "cmdline") -> list[str]:
    """Processes whose command line (or environment) contains text."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            content = (entry / where).read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in content:
            found.append(f"{entry.name}: {content[:200]}")
    return found


def _redis_server_pids() -> set[str]:
    return {line.split(":")[0] for line in _processes_mentioning("redis-server")}


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 (loopback)
        return answer.status, answer.read().decode()


def test_dev_boots_embedded_services_and_stops_cleanly(tmp_path: Path, environ_without_urls: dict[str, str]) -> None:
    local = tmp_path / "local"
    port = _free_port()
    environ = {
        **environ_without_urls,
        "VITRINE_ENV": "development",
        "VITRINE_LOCAL_DIR": str(local),
        "VITRINE_PORT": str(port),
    }
    redis_before = _redis_server_pids()
    log = (tmp_path / "dev.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "dev"], env=environ, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 120
        while "Vitrine is up at" not in Path(log.name).read_text():
            assert process.poll() is None, Path(log.name).read_text()[-3000:]
            assert time.monotonic() < deadline, "not up within 2 minutes"
            time.sleep(0.5)
        status, _ = _get(f"http://127.0.0.1:{port}/readyz")
        assert status == 200
        status, home = _get(f"http://127.0.0.1:{port}/")
        assert status == 200
        assert "Vitrine" in home
        assert (local / "postgres").is_dir()
        assert (local / "redis").is_dir()
        assert _processes_mentioning(str(local)), "the embedded PostgreSQL should be running from the local folder"
        assert _redis_server_pids() - redis_before, "an embedded Redis should be running"
        assert len(_processes_mentioning(f"VITRINE_LOCAL_DIR={local}", where="environ")) >= 3
        # No SMTP_URL: the demo's first e-mail (Sofie's new message) lands in the development mail sink's folder.
        caught = local / "dev-mail" / "new"
        assert f"E-mail: caught in {caught}" in Path(log.name).read_text()
        while not (caught.is_dir() and any("To: sofie.peeters@example.be" in m.read_text() for m in caught.iterdir())):
            assert time.monotonic() < deadline + 60, "no e-mail to Sofie caught within a minute of start-up"
            time.sleep(0.5)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    output = Path(log.name).read_text()
    assert "stopped web, worker and embedded services" in output
    time.sleep(1)
    assert _processes_mentioning(str(local)) == [], "Ctrl-C must leave no process behind"
    assert _processes_mentioning(f"VITRINE_LOCAL_DIR={local}", where="environ") == [], "web and worker stopped"
    assert _redis_server_pids() - redis_before == set(), "the embedded Redis stopped"
    assert os.path.isdir(local / "postgres"), "data is kept between runs"
