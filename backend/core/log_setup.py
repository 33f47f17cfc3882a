"""JSON logs on standard output, one object per line, each with the request id when there is one.

Personal data must never be logged; as a second line of defence, anything shaped like a national number
(11 digits, with or without separators) is masked before a line is written.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import msgspec
import structlog

from backend.core.request_context import current_request_id

_NATIONAL_NUMBER = re.compile(r"(?<!\d)\d{2}[.\s]?\d{2}[.\s]?\d{2}[-.\s]?\d{3}[.\s]?\d{2}(?!\d)")


def mask_national_numbers(text: str) -> str:
    """Replace anything shaped like an INSZ/BIS number with a mask."""
    return _NATIONAL_NUMBER.sub("***********", text)


_encoder = msgspec.json.Encoder()


def _dumps(event: Any, **_: Any) -> str:
    # msgspec encodes a log line several times faster than the json module; str() keeps odd values loggable.
    try:
        return _encoder.encode(event).decode()
    except TypeError:
        return _encoder.encode({key: str(value) for key, value in event.items()}).decode()


def _add_request_id(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    request_id = current_request_id()
    if request_id is not None:
        event.setdefault("request_id", request_id)
    return event


def _mask(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        if isinstance(value, str):
            event[key] = mask_national_numbers(value)
    return event


def configure_logging(level: str = "INFO") -> None:
    """Route stdlib and structlog records through one JSON renderer on stdout."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_request_id,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _mask,
            structlog.processors.JSONRenderer(serializer=_dumps),
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "arq", "arq.worker"):
        named = logging.getLogger(name)
        named.handlers[:] = []
        named.propagate = True
    # Uvicorn's access line would repeat our own request line without the request id.
    logging.getLogger("uvicorn.access").disabled = True
