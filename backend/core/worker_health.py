"""Worker liveness: each worker records a heartbeat row that `/metrics` turns into gauges."""

from __future__ import annotations

import os
import socket
from datetime import datetime

import asyncpg


def worker_name() -> str:
    """A name unique to this worker process (host and pid; no personal data)."""
    return f"{socket.gethostname()}:{os.getpid()}"


async def upsert_heartbeat(conn: asyncpg.Connection, *, name: str, started_at: datetime, jobs_done: int) -> None:
    """Record that this worker is alive now and how many jobs it has finished."""
    await conn.execute(
        """
        INSERT INTO worker_heartbeats (worker_name, hostname, pid, started_at, beat_at, jobs_done)
        VALUES ($1, $2, $3, $4, now(), $5)
        ON CONFLICT (worker_name) DO UPDATE
            SET beat_at = now(), jobs_done = EXCLUDED.jobs_done
        """,
        name,
        socket.gethostname(),
        os.getpid(),
        started_at,
        jobs_done,
    )


async def delete_heartbeat(conn: asyncpg.Connection, *, name: str) -> None:
    """Remove this worker's row when it stops cleanly."""
    await conn.execute("DELETE FROM worker_heartbeats WHERE worker_name = $1", name)


async def delete_stale_heartbeats(conn: asyncpg.Connection, *, older_than_seconds: int) -> int:
    """Forget workers that stopped reporting long ago (killed, host gone); returns how many."""
    result = await conn.execute(
        "DELETE FROM worker_heartbeats WHERE beat_at < now() - make_interval(secs => $1)",
        older_than_seconds,
    )
    return int(result.split()[-1])
