"""Per-request values that code deep in a call may need without passing them through every signature.

Only values that are safe to log live here (a random request id, a language code): never personal data.
"""

from __future__ import annotations

from contextvars import ContextVar

_request_id: ContextVar[str | None] = ContextVar("vitrine_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being served, if any."""
    return _request_id.get()


def set_request_id(value: str | None) -> None:
    """Bind the request id for the rest of this task."""
    _request_id.set(value)
