"""The request log's direct path writes exactly the line structlog's generic path writes."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
import pytest
import structlog

from backend.core.log_setup import JsonLineFormatter, configure_logging
from backend.core.request_context import set_request_id


def _record(extra: dict[str, Any] | None = None, **fields: Any) -> logging.LogRecord:
    logger = logging.getLogger("vitrine.http")
    return logger.makeRecord(
        "vitrine.http",
        fields.get("level", logging.INFO),
        __file__,
        1,
        fields.get("msg", "request"),
        fields.get("args", ()),
        None,
        extra=extra,
    )


def _both(record: logging.LogRecord) -> tuple[dict[str, Any], dict[str, Any]]:
    configure_logging("INFO")
    formatter = logging.getLogger().handlers[0].formatter
    assert isinstance(formatter, JsonLineFormatter)
    direct = msgspec.json.decode(formatter.format(record))
    generic = msgspec.json.decode(structlog.stdlib.ProcessorFormatter.format(formatter, record))
    return direct, generic


@pytest.mark.parametrize("request_id", [None, "abcdef0123456789"])
def test_request_line_is_the_same_through_both_paths(request_id: str | None) -> None:
    set_request_id(request_id)
    try:
        record = _record(
            {"method": "GET", "path": "/api/v1/me/access-events", "status": 200, "duration_ms": 1.25},
            level=logging.WARNING,
        )
        direct, generic = _both(record)
    finally:
        set_request_id(None)
    assert direct.pop("timestamp").endswith("Z")
    generic.pop("timestamp")
    assert list(direct) == list(generic), "same keys in the same order"
    assert direct == generic
    assert direct["level"] == "warning"
    assert ("request_id" in direct) == (request_id is not None)


def test_national_numbers_are_masked_on_the_direct_path() -> None:
    direct, generic = _both(_record({"path": "/x/85.07.30-033.61"}, msg="lookup 85073003361"))
    assert direct["path"] == generic["path"] == "/x/***********"
    assert direct["event"] == "lookup ***********"


def test_records_with_arguments_take_the_generic_path() -> None:
    direct, generic = _both(_record(msg="%s done", args=("job",)))
    assert direct["event"] == generic["event"] == "job done"
