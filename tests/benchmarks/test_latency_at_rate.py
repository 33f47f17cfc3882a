"""The open-loop latency benchmark: its client against a real loopback server, its figures and its options."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from benchmarks.harness import BenchmarkError, LoadRequest, OpenLoopTally, encode_request, open_loop
from benchmarks.latency_at_rate import (
    OpenLoopRun,
    RateOptions,
    open_loop_run,
    parse_options,
    render,
    run_summary,
    summary,
)
from benchmarks.servers import HOST

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


class _Server:
    """A keep-alive HTTP/1.1 server on loopback that answers every request after `delay` seconds."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.requests = 0
        self.peers: set[object] = set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.peers.add(writer.get_extra_info("peername"))
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                self.requests += 1
                await asyncio.sleep(self.delay)
                writer.write(ANSWER)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def slow_server() -> AsyncIterator[tuple[_Server, int]]:
    server = _Server(delay=0.01)
    listening = await asyncio.start_server(server.handle, HOST, 0)
    port = listening.sockets[0].getsockname()[1]
    async with listening:
        yield server, port


def _raw(port: int) -> bytes:
    return encode_request(LoadRequest(path="/"), HOST, port)


async def test_open_loop_sends_every_request_due_and_measures_from_due_time(slow_server: tuple[_Server, int]) -> None:
    server, port = slow_server
    run = await open_loop_run(port, _raw(port), expect_status=200, rate=100, seconds=1, connections=4)
    assert server.requests == run.sent == 100
    assert run.errors == 0
    assert len(server.peers) == 4, "the load is spread over the pool's keep-alive connections"
    # Each answer takes 10 ms; a request is never answered faster than the server can.
    assert run.p50_ms >= 10
    assert run.p50_ms <= run.p90_ms <= run.p99_ms <= run.max_ms


async def test_a_request_waiting_for_a_connection_counts_its_wait(slow_server: tuple[_Server, int]) -> None:
    # One connection, 10 ms per answer, 200 due a second: the queue grows, and latency from due time shows it.
    _, port = slow_server
    run = await open_loop_run(port, _raw(port), expect_status=200, rate=200, seconds=1, connections=1)
    assert run.sent == 200
    assert run.p99_ms > 500, "a closed-loop client would have reported about 10 ms"
    assert run.elapsed_s > 1.5


async def test_an_unexpected_status_is_an_error(slow_server: tuple[_Server, int]) -> None:
    _, port = slow_server
    run = await open_loop_run(port, _raw(port), expect_status=204, rate=50, seconds=1, connections=2)
    assert run.errors == run.sent == 50


async def test_open_loop_refuses_a_rate_of_zero() -> None:
    with pytest.raises(BenchmarkError):
        await open_loop_run(1, b"", expect_status=200, rate=0, seconds=1, connections=1)


async def test_an_answer_that_closes_the_connection_is_an_error_and_the_pool_reconnects() -> None:
    closing = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
    connections = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.write(closing)
        await writer.drain()
        writer.close()

    listening = await asyncio.start_server(handle, HOST, 0)
    port = listening.sockets[0].getsockname()[1]
    heads: list[int] = []
    async with listening:
        tally = OpenLoopTally()
        await open_loop(
            HOST,
            port,
            request=lambda _index: _raw(port),
            expect_status=200,
            rate=20,
            seconds=1,
            connections=2,
            tally=tally,
            on_head=lambda head: heads.append(head.status),
        )
    assert (tally.errors, tally.latencies_ms) == (20, [])
    assert heads == [200] * 20, "the caller still sees each answer (the soak takes renewed cookies from it)"
    assert connections == 2 + 20


def test_run_summary_counts_errors_and_statuses_and_refuses_no_answer() -> None:
    tally = OpenLoopTally(
        latencies_ms=[float(index + 1) for index in range(100)], errors=2, unexpected={"503": 1}, elapsed_s=1.0
    )
    run = run_summary(tally, rate=100)
    assert (run.sent, run.errors, run.p50_ms, run.p99_ms, run.max_ms) == (102, 3, 50.0, 99.0, 100.0)
    with pytest.raises(BenchmarkError):
        run_summary(OpenLoopTally(errors=1), rate=1)


def _run(latencies_ms: list[float], errors: int) -> OpenLoopRun:
    return run_summary(OpenLoopTally(latencies_ms=latencies_ms, errors=errors, elapsed_s=1.0), rate=300)


def test_summary_and_table_say_whether_the_p99_is_under_25_ms() -> None:
    fast = _run([2.0] * 90 + [20.0] * 10, errors=0)
    slow = _run([2.0] * 90 + [40.0] * 10, errors=1)
    figures: dict[str, object] = {
        "generated_at": "2026-12-03 09:30 UTC",
        "commit": "abc1234",
        "settings": {"connections": 32, "seconds": 15, "repeat": 1},
        "cases": [
            {
                "path": "/api/v1/me/records",
                "fraction": 0.5,
                "rate": 800.0,
                "vitrine": summary([fast]),
                "baseline": summary([fast]),
            },
            {
                "path": "/access-log",
                "fraction": 0.7,
                "rate": 250.0,
                "vitrine": summary([slow]),
                "baseline": summary([fast]),
            },
        ],
    }
    text = render(figures)
    assert "| `GET /api/v1/me/records` | 50% | 800/s | 2.0 / 2.0 / 20.0 | 2.0 / 2.0 / 20.0 | **met** |" in text
    assert "| `GET /access-log` | 70% | 250/s | 2.0 / 2.0 / 40.0 | 2.0 / 2.0 / 20.0 | not met (1 errors) |" in text
    assert "commit abc1234" in text


def test_options_default_and_refusals(capsys: pytest.CaptureFixture[str]) -> None:
    assert parse_options([]) == RateOptions()
    assert parse_options(["--fractions", "0.5", "--seconds", "5", "--repeat", "1"]).fractions == (0.5,)
    for bad in (["--fractions", "0"], ["--fractions", "1.5"], ["--seconds", "0"], ["--connections", "0"]):
        with pytest.raises(SystemExit):
            parse_options(bad)
    assert "--fractions must be above 0" in capsys.readouterr().err
