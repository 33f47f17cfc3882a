"""Liveness, readiness and metrics for operators: no personal data in any of them."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from redis.asyncio import Redis

from backend.core.db import ConnectionSource
from backend.core.process_metrics import exposition

READINESS_TIMEOUT_SECONDS = 2.0
ARQ_QUEUE = "arq:queue"

_QUEUE_DEPTH = ("vitrine_queue_depth", "Jobs waiting in the arq queue")
_WORKER_JOBS = ("vitrine_worker_jobs_done", "Jobs completed by each live worker")
_WORKER_HEARTBEAT_AGE = ("vitrine_worker_heartbeat_age_seconds", "Seconds since each worker last reported")


class Check(msgspec.Struct, frozen=True):
    """One dependency's state."""

    name: str
    ok: bool
    latency_ms: float
    error: str | None = None


class Readiness(msgspec.Struct, frozen=True):
    """Whether this process can serve requests now."""

    status: str
    checks: list[Check]


async def check_database(source: ConnectionSource) -> Check:
    """Round trip to PostgreSQL."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS), source() as conn:
            await conn.fetchval("SELECT 1")
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        return Check("database", False, _since(started), type(exc).__name__)
    return Check("database", True, _since(started))


async def check_redis(redis: Redis) -> Check:
    """Round trip to Redis (the job transport)."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
            await redis.ping()
    except (OSError, TimeoutError, ConnectionError) as exc:
        return Check("redis", False, _since(started), type(exc).__name__)
    except Exception as exc:  # redis-py raises its own hierarchy; any failure means not ready
        return Check("redis", False, _since(started), type(exc).__name__)
    return Check("redis", True, _since(started))


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


@get("/healthz", include_in_schema=True, tags=["operations"], sync_to_thread=False)
def healthz() -> dict[str, str]:
    """Liveness: the process is up and answering."""
    return {"status": "ok"}


@get("/readyz", include_in_schema=True, tags=["operations"])
async def readyz(request: Request[Any, Any, Any]) -> Response[Readiness]:
    """Readiness: PostgreSQL and Redis both answer; 503 otherwise."""
    state = request.app.state
    checks = list(await asyncio.gather(check_database(state.connection_source), check_redis(state.redis)))
    ready = all(check.ok for check in checks)
    return Response(
        Readiness(status="ready" if ready else "unavailable", checks=checks),
        status_code=200 if ready else 503,
    )


class _ReadNow:
    """A collector of metric families read for one scrape."""

    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> list[Metric]:
        return self._families


class MetricsController(Controller):
    """Prometheus metrics: request counts and latency, plus queue depth and worker liveness."""

    path = "/metrics"
    include_in_schema = False

    @get()
    async def metrics(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        """The text exposition format: the server's request metrics, then the jobs as they are at this scrape."""
        jobs = CollectorRegistry(auto_describe=False)
        jobs.register(_ReadNow(await self.job_families(request)))
        return Response(exposition() + generate_latest(jobs), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def job_families(self, request: Request[Any, Any, Any]) -> list[Metric]:
        """Queue depth and worker heartbeats, read from Redis and PostgreSQL for this scrape.

        Read at the scrape rather than kept in the process: whichever web process answers gives the same figures,
        and a worker that is gone is gone from the next scrape.
        """
        state = request.app.state
        depth = GaugeMetricFamily(*_QUEUE_DEPTH)
        try:
            depth.add_metric([], await state.redis.zcard(ARQ_QUEUE))
        except Exception:  # a scrape must still answer while Redis is down; readiness reports that
            depth.add_metric([], float("nan"))
        try:
            async with state.connection_source() as conn:
                rows = await conn.fetch(
                    "SELECT worker_name, jobs_done, extract(epoch FROM now() - beat_at) AS age FROM worker_heartbeats"
                )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return [depth]
        jobs = GaugeMetricFamily(*_WORKER_JOBS, labels=["worker"])
        age = GaugeMetricFamily(*_WORKER_HEARTBEAT_AGE, labels=["worker"])
        for row in rows:
            jobs.add_metric([row["worker_name"]], row["jobs_done"])
            age.add_metric([row["worker_name"]], float(row["age"]))
        return [depth, jobs, age]
