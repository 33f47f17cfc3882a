"""Request metrics of `vitrine web` with several worker processes: every scrape counts the whole server."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from backend.core.process_metrics import DIRECTORY_VARIABLE, shared_metrics
from tests.faults.servers import free_port

ROOT = Path(__file__).resolve().parents[3]
READY_SECONDS = 60
HEALTHZ_SERIES = re.compile(
    r'^vitrine_requests_total\{app_name="vitrine",method="GET",path="/healthz",status_code="200"\} (\S+)$', re.M
)


def test_one_worker_keeps_its_own_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DIRECTORY_VARIABLE, "/somewhere/else")
    with shared_metrics(1) as directory:
        assert directory is None
        assert DIRECTORY_VARIABLE not in os.environ
    assert os.environ[DIRECTORY_VARIABLE] == "/somewhere/else", "the inherited value is given back"


def test_several_workers_share_a_fresh_directory_removed_at_the_end(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DIRECTORY_VARIABLE, raising=False)
    with shared_metrics(2) as directory:
        assert directory is not None
        assert os.environ[DIRECTORY_VARIABLE] == directory
        assert os.listdir(directory) == []
    assert not os.path.exists(directory)
    assert DIRECTORY_VARIABLE not in os.environ


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 (our own loopback URL)
        body: bytes = answer.read()
    return body.decode()


def _counting_pids(tmp: Path) -> set[str]:
    return {path.name.split("_")[1] for path in tmp.glob("vitrine-metrics-*/counter_*.db")}


def test_every_scrape_counts_the_requests_of_every_worker_process(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "VITRINE_ENV": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "VITRINE_HOST": "127.0.0.1",
        "VITRINE_PORT": str(port),
        "VITRINE_WEB_WORKERS": "2",
        "BASE_URL": base,
        "TMPDIR": str(tmp_path),  # where the server makes its metrics directory
    }
    log = tmp_path / "web.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "backend.cli", "web"], cwd=ROOT, env=environment, stdout=output, stderr=output
        )
    try:
        deadline = time.monotonic() + READY_SECONDS
        while True:
            try:
                _get(f"{base}/healthz")
                break
            except OSError:
                assert server.poll() is None, log.read_text(errors="replace")
                assert time.monotonic() < deadline, log.read_text(errors="replace")
                time.sleep(0.2)
        # Each request on a connection of its own, many at once, until both processes have answered some.
        sent = 1
        with ThreadPoolExecutor(max_workers=16) as pool:
            while len(_counting_pids(tmp_path)) < 2 and sent < 2_000:
                list(pool.map(_get, [f"{base}/healthz"] * 16))
                sent += 16
        assert len(_counting_pids(tmp_path)) == 2, "both worker processes answered requests"

        counted = []
        for _ in range(8):  # each scrape may reach either process
            match = HEALTHZ_SERIES.search(_get(f"{base}/metrics"))
            assert match is not None
            counted.append(float(match.group(1)))
        assert counted == [sent] * 8
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert server.returncode == 0
    assert list(tmp_path.glob("vitrine-metrics-*")) == [], "the metrics directory goes with the server"
