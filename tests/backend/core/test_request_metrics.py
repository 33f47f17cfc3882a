"""Request metrics: the same series as Litestar's Prometheus middleware, counted and timed per route."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar, get
from litestar.params import FromPath, FromQuery
from litestar.plugins.prometheus import PrometheusConfig, PrometheusMiddleware
from litestar.testing import AsyncTestClient
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from backend.core.request_metrics import RequestMetrics


@get("/items/{item_id:int}", sync_to_thread=False)
def item(item_id: FromPath[int], limit: FromQuery[int] = 10) -> dict[str, int]:
    return {"item": item_id, "limit": limit}


@get("/broken", sync_to_thread=False)
def broken() -> None:
    raise RuntimeError("a fault inside the handler")


@get("/skipped", sync_to_thread=False)
def skipped() -> str:
    return "not counted"


def _app(middleware_class: type[PrometheusMiddleware], prefix: str) -> Litestar:
    config = PrometheusConfig(
        app_name="vitrine",
        prefix=prefix,
        group_path=True,
        exclude=[r"^/skipped$"],
        middleware_class=middleware_class,
    )
    return Litestar(route_handlers=[item, broken, skipped], middleware=[config.middleware], debug=False)


def _samples(prefix: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the metrics named with `prefix`, by name (without the prefix) and labels."""
    found = {}
    for family in text_string_to_metric_families(generate_latest(REGISTRY).decode()):
        for sample in family.samples:
            if sample.name.startswith(f"{prefix}_"):
                name = sample.name.removeprefix(f"{prefix}_")
                found[(name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def _traffic(app: Litestar) -> None:
    async with AsyncTestClient(app) as client:
        for path, status in [
            ("/items/1", 200),
            ("/items/2", 200),
            ("/items/3?limit=many", 400),
            ("/broken", 500),
            ("/skipped", 200),
            ("/nowhere", 404),
        ]:
            response: httpx.Response = await client.get(path)
            assert response.status_code == status, path


async def test_each_route_is_counted_and_timed_under_its_template_method_and_status() -> None:
    await _traffic(_app(RequestMetrics, "vitrine_metrics_test"))
    samples = _samples("vitrine_metrics_test")

    def labels(path: str, status: str) -> tuple[tuple[str, str], ...]:
        return (("app_name", "vitrine"), ("method", "GET"), ("path", path), ("status_code", status))

    assert samples[("requests_total", labels("/items/{item_id}", "200"))] == 2
    assert samples[("request_duration_seconds_count", labels("/items/{item_id}", "200"))] == 2
    assert samples[("request_duration_seconds_sum", labels("/items/{item_id}", "200"))] > 0
    assert samples[("requests_total", labels("/items/{item_id}", "400"))] == 1
    assert samples[("requests_total", labels("/broken", "500"))] == 1
    assert samples[("requests_error_total", labels("/broken", "500"))] == 1
    assert ("requests_error_total", labels("/items/{item_id}", "400")) not in samples, "a 4xx is no error"
    assert samples[("requests_in_progress", labels("/items/{item_id}", "200"))] == 0
    assert not [key for key in samples if ("path", "/skipped") in key[1]], "an excluded path is not counted"


async def test_the_series_are_those_of_litestars_own_middleware() -> None:
    await _traffic(_app(PrometheusMiddleware, "vitrine_library_reference"))
    await _traffic(_app(RequestMetrics, "vitrine_metrics_compared"))
    reference = _samples("vitrine_library_reference")
    ours = _samples("vitrine_metrics_compared")

    assert ours.keys() == reference.keys()
    # Counts are equal; durations are measured, so their sums, buckets and creation times may differ.
    for key, value in reference.items():
        if key[0].endswith(("_total", "_count", "_in_progress")):
            assert ours[key] == value, key


def test_extra_labels_are_refused_rather_than_silently_dropped() -> None:
    config = PrometheusConfig(prefix="vitrine_refused", labels={"team": "x"}, middleware_class=RequestMetrics)
    with pytest.raises(ValueError, match="extra labels"):
        RequestMetrics(Litestar(route_handlers=[item]), config)
