"""The notification benchmark's report: its figures in words, the goal judged on both p99s, and its section of
docs/performance.md replaced in place; the Redis database it claims is its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from redis.connection import parse_url

from benchmarks import notification_latency
from benchmarks.mail_sink import _with_database

FIGURES: dict[str, Any] = {
    "measured_at": "2026-12-02T06:00:00+00:00",
    "postgres": "15.20",
    "cpus": 2,
    "load_average_1min": 3.5,
    "offered_per_second": 500,
    "achieved_per_second": 497.2,
    "batch": 10,
    "seconds": 20,
    "warnings": 400,
    "inbox_seconds": {"p50": 0.031, "p99": 0.41, "max": 0.52},
    "email_seconds": {"p50": 0.12, "p99": 0.93, "max": 1.2},
    "bulk_notices": 2000,
    "deliveries_per_second": 84.4,
    "bulk_seconds_from_start": 25.1,
    "bulk_relay_seconds": 3.2,
    "peak_rss_mib": {"web": 101.4, "worker": 80.2, "bulk_worker": 83.9},
}


def test_the_report_gives_percentiles_in_milliseconds_and_judges_both_p99s() -> None:
    text = notification_latency.render(FIGURES)
    assert "| the notice in the inbox | 31 ms | 410 ms | 520 ms |" in text
    assert "| the e-mail accepted by the SMTP server | 120 ms | 930 ms | 1,200 ms |" in text
    assert "Goal met." in text
    assert "84 deliveries per second" in text
    assert "noisy" in text
    slow = {**FIGURES, "email_seconds": {"p50": 0.5, "p99": 1.5, "max": 2.0}}
    assert "Goal NOT met." in notification_latency.render(slow)


def test_the_report_judges_peak_memory_of_web_and_worker() -> None:
    text = notification_latency.render(FIGURES)
    assert "web process 101 MiB and worker 80 MiB under the ingest load, worker 84 MiB delivering" in text
    assert "under 150 MiB each; met." in text
    heavy = {**FIGURES, "peak_rss_mib": {"web": 101.4, "worker": 160.0, "bulk_worker": None}}
    assert "worker not known delivering" in notification_latency.render(heavy)
    assert "each; NOT met." in notification_latency.render(heavy)


def test_the_section_is_added_once_then_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    document = tmp_path / "performance.md"
    document.write_text("# Performance\n\nOther figures.\n", encoding="utf-8")
    monkeypatch.setattr(notification_latency, "DOCUMENT", document)
    notification_latency.write_document(FIGURES)
    notification_latency.write_document({**FIGURES, "warnings": 399})
    text = document.read_text(encoding="utf-8")
    assert text.count("## Notification latency") == 1
    assert text.count(notification_latency.START) == 1
    assert "399 of them" in text
    assert "400 of them" not in text
    assert text.startswith("# Performance\n\nOther figures.\n")


@pytest.mark.parametrize(
    ("url", "server"),
    [
        ("redis://127.0.0.1:6379/0", {"host": "127.0.0.1", "port": 6379}),
        ("unix:///tmp/vitrine/redis.sock", {"path": "/tmp/vitrine/redis.sock"}),
    ],
)
def test_the_claimed_database_keeps_the_server(url: str, server: dict[str, Any]) -> None:
    parsed: dict[str, Any] = parse_url(_with_database(url, 7))  # type: ignore[no-untyped-call]
    assert parsed["db"] == 7
    assert {key: parsed[key] for key in server} == server
