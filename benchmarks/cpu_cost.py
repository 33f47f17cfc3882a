"""What each row of an ingest benchmark cost in CPU (ours and the PostgreSQL backend's) and in WAL.

On a machine shared with other work the wall rate of a run moves by a factor of two or more; the CPU time the
client and the backend spend per row moves less, so it says better what the code costs, and 1 / (client +
server) the rate those costs allow when the two never overlap. The backend's CPU is read from /proc, so it is
only known when the server runs on this machine.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence

import asyncpg
import msgspec


class Cost(msgspec.Struct, frozen=True, kw_only=True):
    """One run of one side: the wall rate, and per row the CPU on each side and the WAL written."""

    per_second: float
    client_us: float
    server_us: float | None
    wal_bytes: float


def _process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a local process, or None when it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measured(conn: asyncpg.Connection, count: int, work: Callable[[], Awaitable[None]]) -> Cost:
    """Run `work` (which writes `count` rows through `conn`) and account for its time, CPU and WAL."""
    pid = int(await conn.fetchval("SELECT pg_backend_pid()"))
    lsn = await conn.fetchval("SELECT pg_current_wal_lsn()")
    server, client, started = _process_cpu_seconds(pid), time.process_time(), time.perf_counter()
    await work()
    wall, client = time.perf_counter() - started, time.process_time() - client
    server_after = _process_cpu_seconds(pid)
    wal = float(await conn.fetchval("SELECT pg_current_wal_lsn() - $1::pg_lsn", lsn))
    return Cost(
        per_second=count / wall,
        client_us=client / count * 1e6,
        server_us=None if server is None or server_after is None else (server_after - server) / count * 1e6,
        wal_bytes=wal / count,
    )


def cpu_medians(costs: Sequence[Cost]) -> dict[str, float | None]:
    """Medians over runs of the per-row CPU and WAL figures."""
    servers = [cost.server_us for cost in costs if cost.server_us is not None]
    return {
        "client_us": statistics.median(cost.client_us for cost in costs),
        "server_us": statistics.median(servers) if servers else None,
        "wal_bytes": statistics.median(cost.wal_bytes for cost in costs),
    }


def render_cpu(figures: dict[str, object], sides: Sequence[tuple[str, str]], unit: str, goal: float) -> list[str]:
    """Markdown lines for the CPU table: `sides` are (label, figures key) pairs, the first the one with the goal.

    Empty when the server's CPU could not be read.
    """
    costs = [(label, figures.get(key)) for label, key in sides]
    if not all(isinstance(cost, dict) and cost.get("server_us") is not None for _, cost in costs):
        return []
    load = figures.get("load_average_1min_at_end")
    lines = [
        "",
        f"The 1-minute load average was {load:.1f} at the end of the run (the machine is shared), so wall rates "
        "move a lot between runs. CPU time per row moves less, though it too grows with contention and with the "
        "full-page images written to WAL after each checkpoint:"
        if isinstance(load, float)
        else "CPU time per row:",
        "",
        "| Side | Client CPU per row | Server CPU per row | WAL per row |",
        "| --- | --: | --: | --: |",
    ]
    for label, cost in costs:
        assert isinstance(cost, dict)
        lines.append(
            f"| {label} | {cost['client_us']:.1f} µs | {cost['server_us']:.1f} µs | {cost['wal_bytes']:,.0f} B |"
        )
    first = costs[0][1]
    assert isinstance(first, dict)
    total = float(first["client_us"]) + float(first["server_us"])
    lines += [
        "",
        f"{costs[0][0]}: client and server together spend {total:.1f} µs of CPU per {unit}, that is "
        f"{1e6 / total:,.0f} per second at these costs with the two never overlapping (on two free cores they "
        f"partly do); goal {goal:,.0f} per second.",
    ]
    return lines


__all__ = ["Cost", "cpu_medians", "measured", "render_cpu"]
