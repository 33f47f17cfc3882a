"""How hard deliveries try, and when a delivery counts as stuck: shared by the jobs and the sweeper."""

from __future__ import annotations

from typing import Final

# Attempts in all (the first one included), counted in PostgreSQL so that a re-queued job continues the count.
MAX_ATTEMPTS: Final = 5
# Exponential backoff after a temporary failure: 30 s, 1 min, 2 min, 4 min.
RETRY_BASE_SECONDS: Final = 30.0
# arq cancels an attempt after this long; past the lease (a little longer), another job may take the delivery.
DELIVERY_TIMEOUT_SECONDS: Final = 120
LEASE_SECONDS: Final = 150.0
# A pending delivery normally has its job queued within a second of the relay's commit.
PENDING_AFTER_SECONDS: Final = 60.0


def retry_delay(attempts: int, base: float = RETRY_BASE_SECONDS) -> float:
    """Seconds to wait after the n-th failed attempt: base, 2 x base, 4 x base, ..."""
    return float(base * 2 ** max(attempts - 1, 0))
