"""JSON logs on standard output, one object per line, each with the request id when there is one.

Personal data must never be logged; as a second line of defence, anything shaped like a national number
(11 digits, with or without separators) is masked before a line is written.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from datetime import UTC, datetime
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


# The attributes every LogRecord has; anything else on a record came as `extra=` (what ExtraAdder copies).
_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("name", 0, "pathname", 0, "msg", (), None).__dict__)


class JsonLineFormatter(structlog.stdlib.ProcessorFormatter):
    """structlog's ProcessorFormatter, with a direct path for the plain stdlib records most lines are.

    For a record that is not structlog's own, carries no exception, stack or arguments, the line is built here by
    the same steps, in the same order, as `configure_logging`'s chain (context variables, level, logger name,
    extras, UTC ISO timestamp, request id, masking, msgspec): the same bytes, without copying the record twice
    and walking the generic chain. One such line is written per request (the request log), and the generic
    path cost about 100 µs of it. Anything else goes through the generic path.
    """

    def format(self, record: logging.LogRecord) -> str:
        """The JSON line for a record."""
        if (
            hasattr(record, "_logger")
            or record.exc_info
            or record.stack_info
            or record.args
            or not isinstance(record.msg, str)
        ):
            return super().format(record)
        event: dict[str, Any] = {"event": record.msg}
        structlog.contextvars.merge_contextvars(None, "", event)
        event["level"] = record.levelname.lower()
        event["logger"] = record.name
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES:
                event[key] = value
        event["timestamp"] = datetime.now(tz=UTC).isoformat().replace("+00:00", "Z")
        _add_request_id(None, "", event)
        return _dumps(_mask(None, "", event))


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
    formatter = JsonLineFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _mask,
            structlog.processors.JSONRenderer(serializer=_dumps),
        ],
    )
    # No line shows the caller, thread or process: the stdlib's documented way not to work them out for every
    # record (the logging HOWTO, "Optimization"): about a fifth of the request line's 25 µs.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
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
