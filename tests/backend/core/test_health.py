"""Liveness, readiness and metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from arq.connections import ArqRedis, RedisSettings

from backend.app import create_app
from backend.core.settings import Settings
from backend.core.worker_health import upsert_heartbeat
from tests.conftest import in_process_client, source_of


async def test_healthz_answers_without_dependencies(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_checks_database_and_redis(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert {check["name"]: check["ok"] for check in body["checks"]} == {"database": True, "redis": True}


@pytest.fixture
async def unreachable_redis() -> AsyncIterator[ArqRedis]:
    # Port 1 on loopback: nothing listens there, so every command fails at once.
    settings = RedisSettings(host="127.0.0.1", port=1, conn_retries=0, conn_timeout=1)
    redis = ArqRedis(host=settings.host, port=settings.port, socket_connect_timeout=1)
    yield redis
    await redis.aclose()


async def test_readyz_is_503_when_redis_is_down(
    settings: Settings, conn: asyncpg.Connection, unreachable_redis: ArqRedis
) -> None:

    source = source_of(conn)

    app = create_app(settings, connection_source=source, redis=unreachable_redis, configure_logs=False)
    async with in_process_client(app) as client:
        response = await client.get("/readyz")
        metrics = await client.get("/metrics")
    assert response.status_code == 503
    checks = {check["name"]: check for check in response.json()["checks"]}
    assert checks["database"]["ok"] is True
    assert checks["redis"]["ok"] is False
    assert checks["redis"]["error"]
    assert metrics.status_code == 200, "a scrape must still answer while Redis is down"


async def test_metrics_expose_requests_queue_and_workers(
    client: httpx.AsyncClient, conn: asyncpg.Connection, redis: ArqRedis
) -> None:
    from datetime import UTC, datetime

    await upsert_heartbeat(conn, name="test-host:4242", started_at=datetime.now(UTC), jobs_done=7)
    await redis.enqueue_job("nothing_to_run", _job_id="metrics-test")
    await client.get("/healthz")
    response = await client.get("/metrics")
    assert response.status_code == 200
    text = response.text
    assert "vitrine_requests_total" in text
    assert "vitrine_request_duration_seconds" in text
    assert "vitrine_queue_depth 1.0" in text
    assert 'vitrine_worker_jobs_done{worker="test-host:4242"} 7.0' in text
