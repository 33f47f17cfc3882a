"""Load generation and statistics.

Two load generators, both bounded in time and aimed at loopback addresses only:

- ``wrk`` (Debian's package), used whenever it is installed: written in C, it is never the bottleneck;
- a pure-Python HTTP/1.1 keep-alive client on raw asyncio streams (uvloop when available), the fallback when
  wrk is absent. It records every latency; it costs more CPU than wrk, so figures from the two generators are
  not comparable with each other (the report names the generator used), but a ratio measured with one of them
  still compares Vitrine with the baseline under the same load.

Statistics are plain: the median over repetitions of requests per second, of p50 and of p99 latency, and the
ratio Vitrine/baseline taken per repetition (the two runs of a pair are measured back to back) and then its
median, so that drift of a noisy machine hits both sides of each ratio alike.
"""

from __future__ import annotations

import asyncio
import importlib
import ipaddress
import json
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

GeneratorChoice = Literal["auto", "wrk", "python"]

# The Python client stops after this many requests per run whatever the duration: load is bounded in count too.
MAX_REQUESTS_PER_RUN = 2_000_000
_WRK_MARKER = "BENCH_RESULT "


class BenchmarkError(Exception):
    """The benchmark cannot run or produced no usable result; the message says why."""


# ----------------------------------------------------------------------------------------------------------------
# What to send, and what one run measured
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadRequest:
    """One HTTP request, sent over and over by every connection."""

    path: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    expect_status: int = 200


@dataclass(frozen=True)
class LoadSpec:
    """Where to send the load, how hard and for how long."""

    host: str
    port: int
    connections: int
    duration_s: int
    warmup_s: int
    max_requests: int = MAX_REQUESTS_PER_RUN

    def __post_init__(self) -> None:
        ensure_loopback(self.host)
        if self.connections < 1 or self.duration_s < 1 or self.warmup_s < 0:
            raise BenchmarkError("connections and duration must be at least 1, warm-up at least 0")


@dataclass(frozen=True)
class RunResult:
    """One measured run (warm-up excluded)."""

    requests: int
    duration_s: float
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        """Requests per second over the measured window."""
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    def as_json(self) -> dict[str, Any]:
        """The run as stored in the results file."""
        return {
            "rps": round(self.rps, 1),
            "requests": self.requests,
            "duration_s": round(self.duration_s, 3),
            "errors": self.errors,
            "p50_ms": round(self.p50_ms, 3),
            "p90_ms": round(self.p90_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "max_ms": round(self.max_ms, 3),
        }


def ensure_loopback(host: str) -> None:
    """Refuse any target that is not on this machine's loopback range."""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise BenchmarkError(f"load is only ever sent to a loopback address, not {host!r}")


# ----------------------------------------------------------------------------------------------------------------
# Statistics
# ----------------------------------------------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The nearest-rank q-th percentile (0 < q <= 100) of values already sorted ascending; 0.0 when empty."""
    if not 0 < q <= 100:
        raise ValueError("q must be in (0, 100]")
    if not sorted_values:
        return 0.0
    rank = max(1, -(-len(sorted_values) * q // 100))  # ceil(n * q / 100), at least 1
    return float(sorted_values[int(rank) - 1])


def median(values: Sequence[float]) -> float:
    """The median; 0.0 for no values."""
    return float(statistics.median(values)) if values else 0.0


def run_from_latencies(latencies_ns: Sequence[int], *, duration_s: float, errors: int) -> RunResult:
    """A run's figures from every request's latency (nanoseconds)."""
    ordered = sorted(latencies_ns)
    return RunResult(
        requests=len(ordered),
        duration_s=duration_s,
        errors=errors,
        p50_ms=percentile(ordered, 50) / 1e6,
        p90_ms=percentile(ordered, 90) / 1e6,
        p99_ms=percentile(ordered, 99) / 1e6,
        max_ms=(ordered[-1] / 1e6) if ordered else 0.0,
    )


@dataclass(frozen=True)
class SideSummary:
    """One server's runs of one case, summarised by medians."""

    runs: tuple[RunResult, ...]
    rps_median: float
    rps_min: float
    rps_max: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    errors: int

    def as_json(self) -> dict[str, Any]:
        """The summary as stored in the results file."""
        return {
            "rps_median": round(self.rps_median, 1),
            "rps_min": round(self.rps_min, 1),
            "rps_max": round(self.rps_max, 1),
            "p50_ms_median": round(self.p50_ms, 3),
            "p90_ms_median": round(self.p90_ms, 3),
            "p99_ms_median": round(self.p99_ms, 3),
            "errors": self.errors,
            "runs": [run.as_json() for run in self.runs],
        }


def summarize(runs: Sequence[RunResult]) -> SideSummary:
    """Medians over repeated runs (rps, p50, p90, p99), the rps range, and all errors added up."""
    if not runs:
        raise BenchmarkError("no runs to summarise")
    rates = [run.rps for run in runs]
    return SideSummary(
        runs=tuple(runs),
        rps_median=median(rates),
        rps_min=min(rates),
        rps_max=max(rates),
        p50_ms=median([run.p50_ms for run in runs]),
        p90_ms=median([run.p90_ms for run in runs]),
        p99_ms=median([run.p99_ms for run in runs]),
        errors=sum(run.errors for run in runs),
    )


def pair_ratios(subject: Sequence[RunResult], baseline: Sequence[RunResult]) -> list[float]:
    """Subject rps over baseline rps for each repetition (runs measured back to back)."""
    if len(subject) != len(baseline):
        raise BenchmarkError("subject and baseline need the same number of runs")
    return [s.rps / b.rps if b.rps > 0 else 0.0 for s, b in zip(subject, baseline, strict=True)]


# ----------------------------------------------------------------------------------------------------------------
# Load generators
# ----------------------------------------------------------------------------------------------------------------


class LoadGenerator(Protocol):
    """Sends one request over and over on a fixed number of connections for a fixed time."""

    name: str

    def version(self) -> str:
        """What to print in the report about this generator."""
        ...

    def run(self, spec: LoadSpec, request: LoadRequest) -> RunResult:
        """Warm up (discarded), then measure."""
        ...


def choose_generator(choice: GeneratorChoice, workdir: Path) -> LoadGenerator:
    """wrk when installed (or demanded), otherwise the Python client."""
    wrk = shutil.which("wrk")
    if choice == "wrk" and wrk is None:
        raise BenchmarkError("wrk is not installed (Debian: apt-get install wrk), or use --generator python")
    if choice != "python" and wrk is not None:
        return Wrk(wrk, workdir)
    return PythonClient()


def lua_string(text: str) -> str:
    """A Lua string literal for any text (UTF-8), escaping everything that is not plain printable ASCII."""
    out = []
    for byte in text.encode("utf-8"):
        char = chr(byte)
        out.append(char if 32 <= byte < 127 and char not in '"\\' else f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def wrk_script(request: LoadRequest) -> str:
    """The Lua script that sets the request and prints the summary as one JSON line."""
    lines = [f"wrk.method = {lua_string(request.method)}"]
    lines += [f"wrk.headers[{lua_string(name)}] = {lua_string(value)}" for name, value in request.headers]
    if request.body:
        lines.append(f"wrk.body = {lua_string(request.body.decode('utf-8'))}")
    lines.append(
        """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests": %d, "duration_us": %d, "p50_us": %.1f, "p90_us": %.1f, "p99_us": %.1f, "max_us": %.1f, '
    .. '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
""".replace("%s", _WRK_MARKER, 1)
    )
    return "\n".join(lines)


def parse_wrk_output(stdout: str) -> RunResult:
    """The run from the JSON line our Lua `done` hook prints."""
    for line in stdout.splitlines():
        if line.startswith(_WRK_MARKER):
            data = json.loads(line.removeprefix(_WRK_MARKER))
            return RunResult(
                requests=int(data["requests"]),
                duration_s=int(data["duration_us"]) / 1e6,
                errors=sum(int(data[key]) for key in ("connect", "read", "write", "status", "timeout")),
                p50_ms=float(data["p50_us"]) / 1000,
                p90_ms=float(data["p90_us"]) / 1000,
                p99_ms=float(data["p99_us"]) / 1000,
                max_ms=float(data["max_us"]) / 1000,
            )
    raise BenchmarkError(f"wrk printed no result line:\n{stdout[-2000:]}")


class Wrk:
    """Debian's wrk: one thread (the server under test needs the other core), our Lua script, a time limit."""

    name = "wrk"

    def __init__(self, executable: str, workdir: Path) -> None:
        self._executable = executable
        self._workdir = workdir

    def version(self) -> str:
        """The first line of `wrk -v`."""
        answer = subprocess.run(  # noqa: S603 (a fixed local executable)
            [self._executable, "-v"], capture_output=True, text=True, timeout=10, check=False
        )
        first = (answer.stdout or answer.stderr).strip().splitlines()
        return first[0].split(" [")[0] if first else "wrk"

    def run(self, spec: LoadSpec, request: LoadRequest) -> RunResult:
        """Warm-up run (output discarded), then the measured run."""
        script = self._workdir / "request.lua"
        script.write_text(wrk_script(request), encoding="utf-8")
        url = f"http://{spec.host}:{spec.port}{request.path}"
        if spec.warmup_s > 0:
            self._wrk(spec.connections, spec.warmup_s, script, url)
        return parse_wrk_output(self._wrk(spec.connections, spec.duration_s, script, url))

    def _wrk(self, connections: int, seconds: int, script: Path, url: str) -> str:
        command = [
            self._executable,
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
        ]
        answer = subprocess.run(  # noqa: S603 (a fixed local executable, a loopback URL)
            command, capture_output=True, text=True, timeout=seconds + 60, check=False
        )
        if answer.returncode != 0:
            raise BenchmarkError(f"wrk failed ({answer.returncode}): {answer.stderr.strip() or answer.stdout}")
        return answer.stdout


@dataclass(frozen=True)
class ResponseHead:
    """What the client needs from a response's status line and headers."""

    status: int
    content_length: int | None
    chunked: bool
    keep_alive: bool
    # The raw values of the Set-Cookie headers (a client that plays a browser sends renewed cookies back).
    set_cookies: tuple[bytes, ...] = ()


def parse_response_head(head: bytes) -> ResponseHead:
    """Status, body framing and connection persistence from an HTTP/1.1 response head."""
    lines = head.split(b"\r\n")
    status_line = lines[0].split(b" ", 2)
    if len(status_line) < 2 or not status_line[0].startswith(b"HTTP/1."):
        raise BenchmarkError(f"not an HTTP/1.x response: {lines[0][:80]!r}")
    status = int(status_line[1])
    keep_alive = status_line[0] == b"HTTP/1.1"
    length: int | None = None
    chunked = False
    cookies: list[bytes] = []
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"set-cookie":
            cookies.append(value.strip())
            continue
        value = value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value
        elif name == b"connection":
            keep_alive = b"close" not in value if keep_alive else b"keep-alive" in value
    if status in (204, 304) or 100 <= status < 200:
        length = 0
    return ResponseHead(
        status=status, content_length=length, chunked=chunked, keep_alive=keep_alive, set_cookies=tuple(cookies)
    )


def encode_request(request: LoadRequest, host: str, port: int) -> bytes:
    """The request's bytes on the wire (HTTP/1.1, keep-alive)."""
    head = [f"{request.method} {request.path} HTTP/1.1", f"Host: {host}:{port}"]
    head += [f"{name}: {value}" for name, value in request.headers]
    if request.body or request.method not in {"GET", "HEAD"}:
        head.append(f"Content-Length: {len(request.body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + request.body


async def read_response(reader: asyncio.StreamReader) -> ResponseHead:
    """Read one response off a keep-alive connection (its body is read and dropped); its head."""
    head = parse_response_head(await reader.readuntil(b"\r\n\r\n"))
    if head.chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)  # the chunk and its CRLF (the last chunk: just the CRLF)
            if size == 0:
                break
    elif head.content_length is None:
        await reader.read()  # body until the server closes
        return ResponseHead(head.status, None, False, keep_alive=False, set_cookies=head.set_cookies)
    elif head.content_length:
        await reader.readexactly(head.content_length)
    return head


@dataclass
class _Tally:
    latencies_ns: list[int] = field(default_factory=list)
    errors: int = 0
    issued: int = 0


class PythonClient:
    """HTTP/1.1 keep-alive on raw asyncio streams: the fallback when wrk is not installed."""

    name = "python-asyncio"

    def version(self) -> str:
        """Python and the event loop used."""
        loop = "uvloop" if uvloop_factory() is not None else "asyncio"
        return f"python-asyncio ({loop})"

    def run(self, spec: LoadSpec, request: LoadRequest) -> RunResult:
        """One warm-up plus measured window on the same connections; only requests inside the window count."""
        factory = uvloop_factory()
        with asyncio.Runner(loop_factory=factory) as runner:
            return runner.run(self._load(spec, request))

    async def _load(self, spec: LoadSpec, request: LoadRequest) -> RunResult:
        raw = encode_request(request, spec.host, spec.port)
        tally = _Tally()
        start = time.perf_counter_ns()
        measure_from = start + spec.warmup_s * 1_000_000_000
        deadline = measure_from + spec.duration_s * 1_000_000_000
        await asyncio.gather(
            *(
                self._connection(spec, raw, request.expect_status, measure_from, deadline, tally)
                for _ in range(spec.connections)
            )
        )
        window = (min(time.perf_counter_ns(), deadline) - measure_from) / 1e9
        return run_from_latencies(tally.latencies_ns, duration_s=max(window, 1e-9), errors=tally.errors)

    async def _connection(
        self, spec: LoadSpec, raw: bytes, expect: int, measure_from: int, deadline: int, tally: _Tally
    ) -> None:
        reader, writer = await asyncio.open_connection(spec.host, spec.port)
        try:
            while tally.issued < spec.max_requests:
                started = time.perf_counter_ns()
                if started >= deadline:
                    break
                tally.issued += 1
                writer.write(raw)
                try:
                    head = await read_response(reader)
                except (asyncio.IncompleteReadError, ConnectionError, BenchmarkError, ValueError):
                    tally.errors += started >= measure_from
                    writer.close()
                    reader, writer = await asyncio.open_connection(spec.host, spec.port)
                    continue
                ended = time.perf_counter_ns()
                if started >= measure_from and ended <= deadline:
                    tally.latencies_ns.append(ended - started)
                    if head.status != expect:
                        tally.errors += 1
                if not head.keep_alive:
                    writer.close()
                    reader, writer = await asyncio.open_connection(spec.host, spec.port)
        finally:
            writer.close()


@dataclass
class OpenLoopTally:
    """What an open-loop run has seen so far; it may be read while the run goes on (the soak samples it)."""

    # From each answered request's due time, in the order the answers came.
    latencies_ms: list[float] = field(default_factory=list)
    # Requests that got no answer, or an answer that closed the connection.
    errors: int = 0
    # Answers whose status was not the expected one, by status.
    unexpected: dict[str, int] = field(default_factory=dict)
    # From the first due time to the last answer: beyond the planned duration when the server fell behind.
    elapsed_s: float = 0.0


async def open_loop(
    host: str,
    port: int,
    *,
    request: Callable[[int], bytes],
    expect_status: int,
    rate: float,
    seconds: float,
    connections: int,
    tally: OpenLoopTally,
    on_head: Callable[[ResponseHead], None] | None = None,
    max_requests: int = MAX_REQUESTS_PER_RUN,
) -> None:
    """Send request(i) when it is due, at `start + i / rate`, for `seconds`, over a pool of keep-alive connections.

    A request waits for a free connection if none is, and its latency counts from when it was due, whatever
    happened before: a stall shows up as latency instead of silently lowering the load (open loop).
    """
    ensure_loopback(host)
    if rate <= 0 or seconds <= 0 or connections < 1:
        raise BenchmarkError("the rate and the duration must be positive, the connections at least 1")
    total = min(int(rate * seconds), max_requests)
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await asyncio.open_connection(host, port))

    async def one(index: int, due: float) -> None:
        reader, writer = await pool.get()
        try:
            writer.write(request(index))
            head = await read_response(reader)
            if on_head is not None:
                on_head(head)
            if not head.keep_alive:
                raise ConnectionError("the server closed the connection")
        except (asyncio.IncompleteReadError, ConnectionError, BenchmarkError, ValueError):
            tally.errors += 1
            writer.close()
            pool.put_nowait(await asyncio.open_connection(host, port))
            return
        tally.latencies_ms.append((time.perf_counter() - due) * 1000)
        if head.status != expect_status:
            tally.unexpected[str(head.status)] = tally.unexpected.get(str(head.status), 0) + 1
        pool.put_nowait((reader, writer))

    in_flight: set[asyncio.Task[None]] = set()
    started = time.perf_counter()
    for index in range(total):
        due = started + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(index, due))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    await asyncio.gather(*in_flight)
    tally.elapsed_s = time.perf_counter() - started
    while not pool.empty():
        pool.get_nowait()[1].close()


def uvloop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event-loop factory when it is installed (as uvicorn uses it), else None for asyncio's own."""
    try:
        module = importlib.import_module("uvloop")
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = module.new_event_loop
    return factory
