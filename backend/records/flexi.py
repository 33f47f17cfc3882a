"""The tax-exempt flexi income ceiling per income year (non-pensioners; pensioners have no ceiling).

Pure: no I/O, no clock. The table below is the one place to change when an amount is confirmed or a new year is
published; see DOMAIN.md, "Flexi-job income ceiling", for the sources.
"""

from __future__ import annotations

from typing import Final, Literal

import msgspec

CeilingStatus = Literal["confirmed", "secondary_source", "provisional"]


class Ceiling(msgspec.Struct, frozen=True, kw_only=True):
    """The ceiling of one income year, and how sure we are of it."""

    income_year: int
    amount_cents: int
    status: CeilingStatus

    @property
    def provisional(self) -> bool:
        """True when the amount is not confirmed and must be shown as provisional."""
        return self.status == "provisional"


# DOMAIN.md: no ceiling up to 2023; 2024 EUR 12,000 all employers together (confirmed, FPS Finance); 2025
# EUR 18,000, indexed yearly from then on (Law of 18 Dec 2025, arts. 19-21; amount from a secondary source);
# 2026 EUR 18,000 indexed: unconfirmed, shown as provisional until the indexed amount is published.
CEILINGS: Final[dict[int, tuple[int, CeilingStatus]]] = {
    2024: (1_200_000, "confirmed"),
    2025: (1_800_000, "secondary_source"),
    2026: (1_800_000, "provisional"),
}
FIRST_CEILING_YEAR: Final = min(CEILINGS)


def flexi_ceiling_for_year(year: int) -> Ceiling | None:
    """The ceiling for an income year; None before the ceiling existed.

    A year after the last one in the table gets the latest known amount, marked provisional, because the
    ceiling is indexed and the new amount is not known yet.
    """
    if year < FIRST_CEILING_YEAR:
        return None
    if year in CEILINGS:
        amount, status = CEILINGS[year]
        return Ceiling(income_year=year, amount_cents=amount, status=status)
    latest = max(known for known in CEILINGS if known < year)
    return Ceiling(income_year=year, amount_cents=CEILINGS[latest][0], status="provisional")
