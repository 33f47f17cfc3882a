"""The soak's verdict: no failed request and flat memory; its report section."""

from __future__ import annotations

from benchmarks.soak import (
    END,
    PATHS,
    START,
    CookieJar,
    Options,
    Sample,
    SoakTally,
    render,
    slow_windows,
    summarise,
)

OPTIONS = Options(minutes=4, fraction=0.7, capacity_seconds=5, connections=32, sample_seconds=30)
# Two samples a minute over four minutes: the first minute is warm-up, the second is where memory settles.
FLAT_WEB = [80.0, 85.0, 90.0, 90.0, 91.0, 91.0, 92.0, 92.0]
FLAT_WORKER = [60.0, 61.0, 61.0, 61.0, 61.0, 62.0, 62.0, 62.0]


def _tally(web: list[float], worker: list[float], *, errors: int = 0) -> SoakTally:
    samples = [
        Sample(at_s=30.0 * i, web_rss_mib=w, worker_rss_mib=k, answered=100 * i)
        for i, (w, k) in enumerate(zip(web, worker, strict=True))
    ]
    return SoakTally(latencies_ms=[float(n) for n in range(1, 101)], errors=errors, samples=samples)


def test_flat_memory_and_no_error_pass() -> None:
    figures = summarise(OPTIONS, 100.0, 70.0, _tally(FLAT_WEB, FLAT_WORKER), (95.0, 63.0))
    assert figures["passed"] is True
    assert figures["latency_ms"] == {"p50": 50.0, "p99": 99.0}
    assert figures["web_rss_mib"] == {"settled": 90.0, "end": 92.0, "peak": 95.0}


def test_growing_memory_fails() -> None:
    figures = summarise(OPTIONS, 100.0, 70.0, _tally([80, 85, 90, 90, 110, 130, 150, 160], FLAT_WORKER), (150.0, 63.0))
    assert figures["memory_flat"] is False
    assert figures["passed"] is False


def test_a_server_that_falls_behind_fails() -> None:
    tally = _tally(FLAT_WEB, FLAT_WORKER)
    tally.latencies_ms = [float(n) for n in range(1, 100)] + [5_000.0]
    tally.latencies_ms.sort()
    figures = summarise(OPTIONS, 100.0, 70.0, tally, (95.0, 63.0))
    assert figures["kept_up"] is True, "one slow request in a hundred is within p99"
    tally.latencies_ms = [1_500.0] * 100
    figures = summarise(OPTIONS, 100.0, 70.0, tally, (95.0, 63.0))
    assert figures["kept_up"] is False
    assert figures["passed"] is False
    assert "fell behind the offered rate" in render(figures)


def test_an_error_fails_even_with_flat_memory() -> None:
    figures = summarise(OPTIONS, 100.0, 70.0, _tally(FLAT_WEB, FLAT_WORKER, errors=1), (95.0, 63.0))
    assert figures["passed"] is False


def test_the_section_names_the_goal_and_the_verdict() -> None:
    figures = summarise(OPTIONS, 100.0, 70.0, _tally(FLAT_WEB, FLAT_WORKER), (95.0, 63.0))
    section = render(figures)
    assert START not in section, "the markers are written around it by write_section"
    assert END not in section
    assert "| Web process RSS, MiB | 90.0 | 92.0 | 95.0 | under 150, flat |" in section
    assert "Soak passed." in section


def test_slow_windows_say_what_the_server_was_doing() -> None:
    samples = [
        Sample(at_s=0.0, web_rss_mib=90, worker_rss_mib=60, answered=0, checkpoints=3, autovacuums=10),
        Sample(5.0, 90, 60, 350, window_p99_ms=20.0, load_1m=1.5, checkpoints=3, autovacuums=10),
        Sample(10.0, 90, 60, 500, window_p99_ms=2_400.0, load_1m=2.9, checkpoints=4, autovacuums=12),
        Sample(15.0, 90, 60, 900, window_p99_ms=900.0, load_1m=2.1, checkpoints=4, autovacuums=12),
    ]
    assert slow_windows(samples) == [
        {
            "from_s": 5.0,
            "to_s": 10.0,
            "p99_ms": 2_400.0,
            "answered": 150,
            "load_1m": 2.9,
            "checkpoints": 1,
            "autovacuums": 2,
        }
    ]
    tally = _tally(FLAT_WEB, FLAT_WORKER)
    tally.samples = samples
    section = render(summarise(OPTIONS, 100.0, 70.0, tally, (95.0, 63.0)))
    assert "| 5–10 s | 2400.0 ms | 150 | 2.9 | 1 | 2 |" in section


def test_the_cookie_jar_sends_a_renewed_session_cookie_back_like_a_browser() -> None:
    jar = CookieJar(8000, {"vitrine_session": "first", "csrftoken": "c"})
    before = list(jar.raws)
    assert len(before) == len(PATHS)
    assert all(b"Cookie: vitrine_session=first; csrftoken=c\r\n" in raw for raw in before)
    jar.update([b"other=ignored; Path=/", b"vitrine_session=first; Path=/"])
    assert (jar.raws, jar.renewals) == (before, 0), "an unknown cookie or the same value changes nothing"
    jar.update([b"vitrine_session=second; Path=/; HttpOnly; SameSite=Lax"])
    assert jar.renewals == 1
    assert all(b"Cookie: vitrine_session=second; csrftoken=c\r\n" in raw for raw in jar.raws)
