"""The benchmark harness's statistics, parsing and report writing (no load is generated, nothing is timed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.cases import select_cases
from benchmarks.harness import (
    BenchmarkError,
    LoadRequest,
    LoadSpec,
    RunResult,
    encode_request,
    ensure_loopback,
    lua_string,
    median,
    pair_ratios,
    parse_response_head,
    parse_wrk_output,
    percentile,
    run_from_latencies,
    summarize,
    wrk_script,
)
from benchmarks.report import (
    MEASURED_END,
    MEASURED_START,
    CaseResult,
    Report,
    render_measured,
    render_table,
    replace_measured,
    write_results,
)
from benchmarks.run import merge_cookies


def _run(rps: float, *, p50: float = 1.0, p99: float = 5.0, errors: int = 0) -> RunResult:
    return RunResult(
        requests=int(rps * 2), duration_s=2.0, errors=errors, p50_ms=p50, p90_ms=p50 * 2, p99_ms=p99, max_ms=p99 * 2
    )


def _case(vitrine: list[RunResult], baseline: list[RunResult], *, kind: str = "json") -> CaseResult:
    assert kind in ("json", "html")
    return CaseResult(
        name="healthz",
        method="GET",
        path="/healthz",
        kind="json" if kind == "json" else "html",
        description="liveness",
        vitrine=summarize(vitrine),
        baseline=summarize(baseline),
        ratios=tuple(pair_ratios(vitrine, baseline)),
    )


def _report(cases: tuple[CaseResult, ...]) -> Report:
    return Report(
        generated_at="2025-01-01 12:00 UTC",
        machine={"cpu_model": "Test CPU", "cpu_count": 2, "python": "3.11.7", "postgres": "16.4", "redis": "7.2"},
        settings={
            "generator": "wrk",
            "generator_version": "wrk 4.1.0",
            "connections": 32,
            "repeat": 5,
            "load_average_1min": {"start": 0.5, "end": 2.5},
        },
        cases=cases,
        peak_rss_mib={"vitrine": 81.4, "baseline": 60.2},
        complete=True,
    )


# -- statistics --------------------------------------------------------------------------------------------------


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    assert percentile([], 50) == 0.0


@pytest.mark.parametrize("q", [0, -1, 100.5])
def test_percentile_refuses_out_of_range(q: float) -> None:
    with pytest.raises(ValueError, match="q must be"):
        percentile([1.0], q)


def test_median_of_odd_even_and_empty() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([1.0, 2.0, 3.0, 10.0]) == 2.5
    assert median([]) == 0.0


def test_run_from_latencies_converts_nanoseconds_to_milliseconds() -> None:
    latencies = [i * 1_000_000 for i in range(1, 101)]  # 1 ms .. 100 ms, unsorted order does not matter
    run = run_from_latencies(list(reversed(latencies)), duration_s=2.0, errors=3)
    assert run.requests == 100
    assert run.rps == 50.0
    assert (run.p50_ms, run.p90_ms, run.p99_ms, run.max_ms) == (50.0, 90.0, 99.0, 100.0)
    assert run.errors == 3


def test_run_without_requests_has_zero_figures() -> None:
    run = run_from_latencies([], duration_s=1.0, errors=0)
    assert (run.requests, run.rps, run.p99_ms, run.max_ms) == (0, 0.0, 0.0, 0.0)


def test_summarize_takes_medians_and_adds_errors() -> None:
    summary = summarize([_run(100, p99=9), _run(300, p99=1, errors=2), _run(200, p99=5, errors=1)])
    assert summary.rps_median == 200.0
    assert (summary.rps_min, summary.rps_max) == (100.0, 300.0)
    assert summary.p99_ms == 5.0
    assert summary.p90_ms == 2.0
    assert summary.errors == 3
    stored = summary.as_json()
    assert stored["rps_median"] == 200.0
    assert len(stored["runs"]) == 3


def test_summarize_refuses_no_runs() -> None:
    with pytest.raises(BenchmarkError):
        summarize([])


def test_pair_ratios_divide_each_repetition() -> None:
    assert pair_ratios([_run(50), _run(60)], [_run(100), _run(120)]) == [0.5, 0.5]
    assert pair_ratios([_run(50)], [_run(0)]) == [0.0]
    with pytest.raises(BenchmarkError):
        pair_ratios([_run(1)], [])


def test_ratio_is_median_of_pair_ratios_not_ratio_of_medians() -> None:
    # A drift that slows both servers in run 2 must not distort the ratio.
    case = _case([_run(100), _run(40), _run(110)], [_run(200), _run(80), _run(200)])
    assert case.ratios == (0.5, 0.5, 0.55)
    assert case.ratio == 0.5


def test_goal_needs_ratio_and_p99() -> None:
    assert _case([_run(60, p99=10)], [_run(100)]).goal_met
    assert not _case([_run(40, p99=10)], [_run(100)]).goal_met
    assert not _case([_run(60, p99=30)], [_run(100)]).goal_met
    assert _case([_run(36, p99=10)], [_run(100)], kind="html").goal_met


# -- load generator plumbing -------------------------------------------------------------------------------------


def test_only_loopback_is_a_target() -> None:
    ensure_loopback("127.0.0.1")
    ensure_loopback("127.0.0.2")
    ensure_loopback("::1")
    for host in ("10.0.0.1", "192.168.1.1", "8.8.8.8", "localhost.example", ""):
        with pytest.raises(BenchmarkError, match="loopback"):
            ensure_loopback(host)
    with pytest.raises(BenchmarkError):
        LoadSpec(host="10.1.2.3", port=80, connections=1, duration_s=1, warmup_s=0)


def test_parse_wrk_output_reads_the_result_line() -> None:
    stdout = (
        "Running 5s test @ http://127.0.0.1:8000/healthz\n  1 threads and 32 connections\n"
        'BENCH_RESULT {"requests": 15000, "duration_us": 5000000, "p50_us": 2100.5, "p90_us": 3000.0, '
        '"p99_us": 9000.0, "max_us": 20000.0, "connect": 0, "read": 1, "write": 0, "status": 2, "timeout": 0}\n'
    )
    run = parse_wrk_output(stdout)
    assert run.rps == 3000.0
    assert run.p50_ms == pytest.approx(2.1005)
    assert run.p99_ms == 9.0
    assert run.errors == 3


def test_parse_wrk_output_without_result_line_fails() -> None:
    with pytest.raises(BenchmarkError, match="no result line"):
        parse_wrk_output("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_lua_string_escapes_everything_unusual() -> None:
    assert lua_string("plain") == '"plain"'
    assert lua_string('a"b\\c') == '"a\\034b\\092c"'
    assert lua_string("é\n") == '"\\195\\169\\010"'


def test_wrk_script_sets_method_headers_body_and_reporter() -> None:
    script = wrk_script(
        LoadRequest(path="/x", method="POST", headers=(("Cookie", 'a="1"'),), body=b"k=v", expect_status=303)
    )
    assert 'wrk.method = "POST"' in script
    assert 'wrk.headers["Cookie"] = "a=\\0341\\034"' in script
    assert 'wrk.body = "k=v"' in script
    assert "BENCH_RESULT " in script
    assert "latency:percentile(99)" in script


def test_encode_request_is_http11_keep_alive() -> None:
    raw = encode_request(LoadRequest(path="/my", headers=(("Cookie", "s=1"),)), "127.0.0.1", 8000)
    assert raw == b"GET /my HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nCookie: s=1\r\n\r\n"
    post = encode_request(LoadRequest(path="/f", method="POST", body=b"a=1"), "127.0.0.1", 8000)
    assert post.endswith(b"Content-Length: 3\r\n\r\na=1")


def test_parse_response_head_framing_and_persistence() -> None:
    head = parse_response_head(b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\nContent-Length: 42\r\n\r\n")
    assert (head.status, head.content_length, head.chunked, head.keep_alive) == (200, 42, False, True)
    chunked = parse_response_head(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    assert chunked.chunked
    assert not chunked.keep_alive
    old = parse_response_head(b"HTTP/1.0 303 See Other\r\ncontent-length: 0\r\n\r\n")
    assert (old.status, old.keep_alive) == (303, False)
    assert parse_response_head(b"HTTP/1.1 204 No Content\r\n\r\n").content_length == 0
    with pytest.raises(BenchmarkError):
        parse_response_head(b"SSH-2.0-OpenSSH\r\n\r\n")


def test_merge_cookies_keeps_existing_values() -> None:
    assert merge_cookies("vitrine_session=t", {"vitrine_csrf": "c"}) == "vitrine_session=t; vitrine_csrf=c"
    assert merge_cookies("a=1", {"a": "2"}) == "a=1"
    assert merge_cookies(None, {}) is None


# -- cases and report --------------------------------------------------------------------------------------------


def test_case_registry_holds_the_first_cases() -> None:
    names = [case.name for case in select_cases(None)]
    assert names[:4] == ["healthz", "readyz", "home", "my"]
    assert [case.name for case in select_cases(["my"])] == ["my"]
    with pytest.raises(ValueError, match="unknown case"):
        select_cases(["nope"])


def test_table_shows_medians_ratio_range_and_goal() -> None:
    case = _case([_run(4000, p50=2, p99=12), _run(5000, p50=3, p99=14)], [_run(8000), _run(9000)])
    table = render_table([case])
    assert "| Case |" in table
    assert "`GET /healthz`" in table
    assert "4 500" in table  # median req/s, thousands separated by a space
    assert "8 500" in table
    assert "**53 %** (50 %–56 %)" in table
    assert "2.5 / 5.0 / 13.0" in table
    assert "≥ 50%, p99 < 25 ms: met" in table


def test_measured_text_names_machine_generator_and_memory() -> None:
    text = render_measured(_report((_case([_run(10)], [_run(20)]),)), "benchmarks/results/latest.json")
    assert "Test CPU" in text
    assert "wrk 4.1.0" in text
    assert "81 MiB" in text
    assert "before / after the run: 0.5 / 2.5" in text
    assert "Errors: none." in text
    assert "benchmarks/results/latest.json" in text


def test_measured_text_lists_errors() -> None:
    text = render_measured(_report((_case([_run(10, errors=4)], [_run(20)]),)), "x.json")
    assert "healthz 4" in text


def test_replace_measured_keeps_the_hand_written_text() -> None:
    document = f"# Performance\n\nIntro.\n\n## Measured\n\n{MEASURED_START}\nold table\n{MEASURED_END}\n\n## After\n"
    updated = replace_measured(document, "new table")
    assert "old table" not in updated
    assert "new table" in updated
    assert updated.startswith("# Performance\n\nIntro.\n\n## Measured\n\n")
    assert updated.endswith(f"{MEASURED_END}\n\n## After\n")
    assert replace_measured(updated, "new table") == updated


def test_replace_measured_appends_a_missing_section() -> None:
    updated = replace_measured("# Performance\n\nIntro.\n", "table")
    assert updated == f"# Performance\n\nIntro.\n\n## Measured\n\n{MEASURED_START}\ntable\n{MEASURED_END}\n"


def test_results_file_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "results" / "latest.json"
    write_results(_report((_case([_run(60), _run(50)], [_run(100), _run(100)]),)), path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["complete"] is True
    assert data["machine"]["cpu_count"] == 2
    assert data["peak_rss_mib"] == {"vitrine": 81.4, "baseline": 60.2}
    case = data["cases"][0]
    assert case["ratio_median"] == 0.55
    assert case["ratios"] == [0.6, 0.5]
    assert case["goal"] == {"min_ratio": 0.5, "max_p99_ms": 25.0, "met": True}
    assert case["vitrine"]["rps_median"] == 55.0
    assert case["baseline"]["runs"][0]["rps"] == 100.0


def test_parse_response_head_keeps_set_cookie_values_as_sent() -> None:
    head = parse_response_head(
        b"HTTP/1.1 200 OK\r\nSet-Cookie: vitrine_session=eyJAbC.dEf; Path=/; HttpOnly\r\n"
        b"set-cookie: csrftoken=XyZ; Path=/\r\ncontent-length: 0\r\n\r\n"
    )
    assert head.set_cookies == (b"vitrine_session=eyJAbC.dEf; Path=/; HttpOnly", b"csrftoken=XyZ; Path=/")
