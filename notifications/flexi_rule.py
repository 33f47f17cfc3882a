"""When to warn about flexi income: the tax-free ceiling, and the early retirees' pension limit. Pure: no I/O.

- Thresholds 75 %, 90 % and 100 % by default; "100 %" means strictly above the amount (at exactly the ceiling
  nothing is taxed yet).
- One warning per threshold per year and kind. Only the highest threshold reached is announced, and only when it
  is above every threshold already announced: a jump from 70 % to 101 % says "passed" once instead of three
  messages, and a correction that lowers the total and raises it again repeats nothing. The outbox's unique
  deduplication key (`dedup_key`) makes the same guarantee under concurrency.
- Pensioners have no ceiling. An early retiree draws a pension too, so reads the same way for the ceiling (no
  tax warning), but gets the separate pension-limit warning. See DOMAIN.md, "Flexi-job income ceiling".
- The forecast is linear on the months declared so far: the pace from the first to the last declared month.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection, Mapping, Sequence
from datetime import date
from fractions import Fraction
from typing import Any, Final, Literal

import msgspec

from backend.records.flexi import Ceiling, CeilingStatus, flexi_ceiling_for_year
from notifications.schemas import PersonStatus

WarningKind = Literal["flexi_ceiling", "flexi_pension_limit"]
THRESHOLDS: Final[tuple[int, ...]] = (75, 90, 100)

# Early retirees' flexi income above this amount reduces the pension (from 2025, indexed yearly). Configurable:
# change this table when an amount is published; a later year gets the latest amount, marked provisional.
PENSION_LIMITS: Final[dict[int, tuple[int, CeilingStatus]]] = {
    2025: (787_600, "secondary_source"),
}
FIRST_PENSION_LIMIT_YEAR: Final = min(PENSION_LIMITS)


class FlexiWarning(msgspec.Struct, frozen=True, kw_only=True):
    """A warning to send: which kind, which threshold of which year, and the figures it quotes."""

    kind: WarningKind
    year: int
    threshold: int
    total_cents: int
    limit_cents: int
    provisional: bool
    as_of: date
    forecast: date | None

    @property
    def dedup_key(self) -> str:
        """The outbox key that makes this warning unique per person."""
        return dedup_key(self.kind, self.year, self.threshold)

    def payload(self) -> dict[str, Any]:
        """What the outbox keeps for rendering (plain JSON values)."""
        return {
            "year": self.year,
            "threshold": self.threshold,
            "total_cents": self.total_cents,
            "limit_cents": self.limit_cents,
            "provisional": self.provisional,
            "as_of": self.as_of.isoformat(),
            "forecast": None if self.forecast is None else self.forecast.isoformat(),
        }


def dedup_key(kind: WarningKind, year: int, threshold: int) -> str:
    """`flexi:{year}:{threshold}` for the ceiling, `flexi-pension:{year}:{threshold}` for the pension limit."""
    prefix = "flexi" if kind == "flexi_ceiling" else "flexi-pension"
    return f"{prefix}:{year}:{threshold}"


def pension_limit_for_year(year: int) -> Ceiling | None:
    """The early retirees' flexi limit for an income year; None before the rule existed (2025)."""
    if year < FIRST_PENSION_LIMIT_YEAR:
        return None
    if year in PENSION_LIMITS:
        amount, status = PENSION_LIMITS[year]
        return Ceiling(income_year=year, amount_cents=amount, status=status)
    latest = max(known for known in PENSION_LIMITS if known < year)
    return Ceiling(income_year=year, amount_cents=PENSION_LIMITS[latest][0], status="provisional")


def reached_threshold(total_cents: int, limit_cents: int, thresholds: Sequence[int] = THRESHOLDS) -> int | None:
    """The highest threshold the total has reached (below 100: at least; 100 and above: strictly above)."""
    reached = [
        threshold
        for threshold in thresholds
        if (
            total_cents * 100 > threshold * limit_cents
            if threshold >= 100
            else total_cents * 100 >= threshold * limit_cents
        )
    ]
    return max(reached, default=None)


def forecast_crossing(
    *, year: int, total_cents: int, limit_cents: int, first_month: int, last_month: int
) -> date | None:
    """The day the total would pass the limit at the pace of the months declared so far, if within the year.

    None when it has already passed, when nothing was earned, or when the pace does not reach it this year.
    """
    months = last_month - first_month + 1
    if total_cents <= 0 or limit_cents <= 0 or total_cents > limit_cents or months <= 0:
        return None
    # Months from the first day of the first declared month until the crossing, exactly (no float drift).
    offset = Fraction(limit_cents * months, total_cents)
    whole = offset.numerator // offset.denominator
    month_index = first_month - 1 + whole
    if month_index >= 12:
        return None
    month = month_index + 1
    days = calendar.monthrange(year, month)[1]
    day = min(days, 1 + int((offset - whole) * days))
    return date(year, month, day)


def _warning(
    kind: WarningKind,
    limit: Ceiling | None,
    *,
    total_cents: int,
    as_of: date,
    first_month: int,
    last_month: int,
    warned: Collection[int],
    thresholds: Sequence[int],
) -> FlexiWarning | None:
    if limit is None:
        return None
    threshold = reached_threshold(total_cents, limit.amount_cents, thresholds)
    if threshold is None or any(done >= threshold for done in warned):
        return None
    return FlexiWarning(
        kind=kind,
        year=limit.income_year,
        threshold=threshold,
        total_cents=total_cents,
        limit_cents=limit.amount_cents,
        provisional=limit.provisional,
        as_of=as_of,
        forecast=forecast_crossing(
            year=limit.income_year,
            total_cents=total_cents,
            limit_cents=limit.amount_cents,
            first_month=first_month,
            last_month=last_month,
        ),
    )


def flexi_warnings(
    *,
    year: int,
    total_cents: int,
    as_of: date,
    first_month: int,
    last_month: int,
    status: PersonStatus,
    warned: Mapping[WarningKind, Collection[int]],
    thresholds: Sequence[int] = THRESHOLDS,
) -> list[FlexiWarning]:
    """The warnings owed now for one person's flexi total of one income year.

    `warned` holds, per kind, the thresholds already announced this year; `first_month` and `last_month` (1-12)
    are the first and last months with a declared flexi wage, for the forecast.
    """
    common: dict[str, Any] = {
        "total_cents": total_cents,
        "as_of": as_of,
        "first_month": first_month,
        "last_month": last_month,
        "thresholds": thresholds,
    }
    found: list[FlexiWarning | None] = []
    if not status.pensioner and not status.early_retiree:
        found.append(
            _warning("flexi_ceiling", flexi_ceiling_for_year(year), warned=warned.get("flexi_ceiling", ()), **common)
        )
    if status.early_retiree:
        found.append(
            _warning(
                "flexi_pension_limit",
                pension_limit_for_year(year),
                warned=warned.get("flexi_pension_limit", ()),
                **common,
            )
        )
    return [warning for warning in found if warning is not None]
