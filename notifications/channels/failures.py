"""How a delivery attempt on any channel failed, sorted for the caller: try again later, or give up."""

from __future__ import annotations


class DeliveryFailure(Exception):
    """A delivery attempt failed; `reason` is safe to store (no address, no push endpoint in it)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TemporaryFailure(DeliveryFailure):
    """Worth trying again later: a 4xx SMTP answer, HTTP 429 or 5xx, a refused or broken connection, a timeout."""


class PermanentFailure(DeliveryFailure):
    """Not worth trying again: the server refused for good (SMTP 5xx, most HTTP 4xx)."""
