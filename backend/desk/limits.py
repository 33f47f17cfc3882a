"""Presence-code guessing is limited per agent and per address, in PostgreSQL's fixed-window counters.

Six digits are few: these limits, with the code's ten minutes and single use, keep guessing hopeless.
"""

from __future__ import annotations

from typing import Final

from backend.core.auth.rate_limit import RateLimit

PRESENCE_CODE_PER_AGENT: Final = RateLimit("desk-code:agent", limit=10, window_seconds=600)
PRESENCE_CODE_PER_ADDRESS: Final = RateLimit("desk-code:address", limit=30, window_seconds=600)
