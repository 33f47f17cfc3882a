"""The log-growth comparison: ratios and goal, alternation, options, the same citizen in both, the section."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks import log_growth
from benchmarks.harness import BenchmarkError, RunResult, summarize
from benchmarks.log_growth import (
    LARGE,
    SMALL,
    Growing,
    check_same_citizen,
    database_order,
    goal_met,
    growth,
    parse_options,
)
from benchmarks.log_growth_report import render


def _run(p50: float, p99: float, requests: int = 1_000) -> RunResult:
    return RunResult(requests=requests, duration_s=1.0, errors=0, p50_ms=p50, p90_ms=p50 * 2, p99_ms=p99, max_ms=p99)


def test_growth_is_large_over_small_of_the_medians_and_the_goal_is_under_one_and_a_half() -> None:
    small = summarize([_run(10, 40), _run(12, 50), _run(11, 900)])
    large = summarize([_run(13, 60), _run(14, 1), _run(15, 70, requests=800)])
    found = growth(small, large)
    assert found.p50_ratio == pytest.approx(14 / 11)
    assert found.p99_ratio == pytest.approx(60 / 50)
    assert found.rps_ratio == pytest.approx(1.0)
    assert found.goal_met
    assert not growth(small, summarize([_run(16.5, 60)])).goal_met, "1.5× is not under 1.5×"
    assert not growth(small, summarize([_run(12, 75)])).goal_met, "p99 alone can miss it"
    assert growth(small, large).as_json()["goal_met"] is True


def test_the_database_that_goes_first_switches_every_time() -> None:
    assert database_order(0, 0) == (SMALL, LARGE)
    assert database_order(0, 1) == (LARGE, SMALL)
    assert database_order(1, 0) == (LARGE, SMALL)
    assert database_order(1, 1) == (SMALL, LARGE)


def test_options() -> None:
    options = parse_options([])
    assert (options.repeat, options.duration_s, options.warmup_s, options.connections) == (5, 5, 1, 32)
    assert options.only == ["access_log_json", "access_log_html"]
    quick = parse_options(["--quick", "--repeat", "9"])
    assert (quick.repeat, quick.duration_s, quick.quick) == (1, 1, True)
    with pytest.raises(SystemExit):
        parse_options(["--repeat", "0"])


def _growing_with(people: list[str]) -> dict[str, Any]:
    growing = Growing(parse_options([]), [], generator=None)  # type: ignore[arg-type]
    for benchmark, person in zip(growing.benchmarks.values(), people, strict=True):
        benchmark.params["access_log_json"] = {"person_id": person, "session_id": "s"}
    return growing.benchmarks


def test_only_the_same_citizen_with_the_same_log_is_compared() -> None:
    same = {"citizen_events": 200, "citizen_log_md5": "ab"}
    check_same_citizen(_growing_with(["p", "p"]), {"1M": same, "50M": same})
    with pytest.raises(BenchmarkError):
        check_same_citizen(_growing_with(["p", "q"]), {"1M": same, "50M": same})
    with pytest.raises(BenchmarkError):
        check_same_citizen(_growing_with(["p", "p"]), {"1M": same, "50M": {**same, "citizen_log_md5": "cd"}})


def _figures(large_p99: float) -> dict[str, Any]:
    side = {"rps_median": 500.0, "p50_ms_median": 60.0, "p90_ms_median": 70.0, "p99_ms_median": 90.0, "errors": 0}
    big = {**side, "p99_ms_median": large_p99}
    grown = growth(summarize([_run(60, 90)]), summarize([_run(60, large_p99)])).as_json()
    case = {
        "path": "/access-log",
        "kind": "html",
        "databases": {"1M": {"vitrine": side, "baseline": side}, "50M": {"vitrine": big, "baseline": side}},
        "growth": {"vitrine": grown, "baseline": grown},
    }
    facts = {"people": 1_000_000, "size_bytes": 2 * 1024**3, "citizen_events": 201, "citizen_log_md5": "ab"}
    figures: dict[str, Any] = {
        "measured_at": "2026-12-02 12:00 UTC",
        "machine": {"cpu_model": "CPU", "cpu_count": 2, "postgres": "16", "generator_version": "wrk 4"},
        "settings": {
            "connections": 32,
            "duration_s": 5,
            "warmup_s": 1,
            "repeat": 3,
            "load_average_1min": {"start": 1.0, "end": 2.0},
        },
        "goal": {"max_ratio": 1.5},
        "databases": {
            "1M": {**facts, "name": SMALL.name, "events": 1_000_000},
            "50M": {**facts, "name": LARGE.name, "events": 50_000_000},
        },
        "cases": {"access_log_html": case},
    }
    figures["goal"]["met"] = goal_met(figures)
    return figures


def test_the_section_gives_the_ratios_and_the_verdict() -> None:
    met = render(_figures(large_p99=120.0))
    assert "| `GET /access-log` | **1.00×** | **1.33×** | 1.00× / 1.33× | met |" in met
    assert "Goal met" in met
    assert "50,000,000 access events, 2.0 GB on disk" in met
    assert "same 201 events" in met
    missed = render(_figures(large_p99=180.0))
    assert "**2.00×**" in missed
    assert "Goal **not met**" in missed


def test_the_section_is_added_once_then_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    document = tmp_path / "performance.md"
    document.write_text("# Performance\n\n## Soak\n\nkept\n", encoding="utf-8")
    monkeypatch.setattr(log_growth, "DOCUMENT", document)
    log_growth.write_document(_figures(large_p99=120.0))
    log_growth.write_document(_figures(large_p99=180.0))
    text = document.read_text(encoding="utf-8")
    assert text.count("## Access log growth") == 1
    assert text.count(log_growth.START) == 1
    assert "Goal **not met**" in text
    assert "kept" in text
