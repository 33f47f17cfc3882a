"""The flexi warning rule, table by table: thresholds, one warning per threshold, pensioners, early retirees, the
forecast from the year-to-date pace."""

from __future__ import annotations

from datetime import date

import pytest

from notifications.flexi_rule import (
    FlexiWarning,
    WarningKind,
    dedup_key,
    flexi_warnings,
    forecast_crossing,
    pension_limit_for_year,
    reached_threshold,
)
from notifications.schemas import PersonStatus

CEILING_2026 = 1_800_000
AS_OF = date(2026, 11, 10)
ORDINARY = PersonStatus()
PENSIONER = PersonStatus(pensioner=True)
EARLY_RETIREE = PersonStatus(early_retiree=True)


@pytest.mark.parametrize(
    ("total", "expected"),
    [
        (0, None),
        (1_349_999, None),
        (1_350_000, 75),  # exactly 75 %: reached
        (1_619_999, 75),
        (1_620_000, 90),
        (1_800_000, 90),  # exactly at the ceiling: nothing is taxed yet, so not "passed"
        (1_800_001, 100),
        (5_000_000, 100),
    ],
)
def test_the_highest_threshold_reached(total: int, expected: int | None) -> None:
    assert reached_threshold(total, CEILING_2026) == expected


def _warnings(
    total: int,
    *,
    year: int = 2026,
    status: PersonStatus = ORDINARY,
    warned: dict[WarningKind, set[int]] | None = None,
    months: tuple[int, int] = (1, 10),
) -> list[tuple[str, int]]:
    found = flexi_warnings(
        year=year,
        total_cents=total,
        as_of=AS_OF,
        first_month=months[0],
        last_month=months[1],
        status=status,
        warned=warned or {},
    )
    return [(warning.kind, warning.threshold) for warning in found]


@pytest.mark.parametrize(
    ("total", "warned", "expected"),
    [
        (1_000_000, set(), []),
        (1_400_000, set(), [("flexi_ceiling", 75)]),
        (1_400_000, {75}, []),  # once per threshold per year
        (1_700_000, {75}, [("flexi_ceiling", 90)]),
        (1_900_000, set(), [("flexi_ceiling", 100)]),  # a jump says "passed" once, not three messages
        (1_900_000, {75, 90}, [("flexi_ceiling", 100)]),
        (1_500_000, {90}, []),  # a correction lowered the total: no 75 % after the 90 %
        (1_900_000, {100}, []),  # lowered and raised again: no repeat
        (1_700_000, {100}, []),
    ],
)
def test_one_warning_per_threshold_per_year(total: int, warned: set[int], expected: list[tuple[str, int]]) -> None:
    assert _warnings(total, warned={"flexi_ceiling": warned}) == expected


@pytest.mark.parametrize(
    ("year", "total", "status", "expected"),
    [
        (2023, 5_000_000, ORDINARY, []),  # no ceiling before 2024
        (2024, 1_000_000, ORDINARY, [("flexi_ceiling", 75)]),  # EUR 12,000 in 2024
        (2024, 1_200_001, ORDINARY, [("flexi_ceiling", 100)]),
        (2026, 5_000_000, PENSIONER, []),  # pensioners have no ceiling
        (2025, 700_000, EARLY_RETIREE, [("flexi_pension_limit", 75)]),  # 88.9 % of EUR 7,876
        (2025, 710_000, EARLY_RETIREE, [("flexi_pension_limit", 90)]),
        (2025, 787_601, EARLY_RETIREE, [("flexi_pension_limit", 100)]),
        (2025, 1_900_000, EARLY_RETIREE, [("flexi_pension_limit", 100)]),  # the pension rule, not the tax one
        (2024, 1_900_000, EARLY_RETIREE, []),  # the pension limit exists from 2025
        (
            2026,
            1_900_000,
            PersonStatus(pensioner=True, early_retiree=True),
            [("flexi_pension_limit", 100)],
        ),
    ],
)
def test_who_gets_which_warning(year: int, total: int, status: PersonStatus, expected: list[tuple[str, int]]) -> None:
    assert _warnings(total, year=year, status=status) == expected


def test_the_two_kinds_are_counted_apart() -> None:
    warned: dict[WarningKind, set[int]] = {"flexi_ceiling": {100}}
    assert _warnings(780_000, year=2025, status=EARLY_RETIREE, warned=warned) == [("flexi_pension_limit", 90)]


def test_a_warning_carries_its_figures_and_its_key() -> None:
    (warning,) = flexi_warnings(
        year=2026,
        total_cents=1_530_000,
        as_of=AS_OF,
        first_month=1,
        last_month=10,
        status=ORDINARY,
        warned={},
    )
    assert warning == FlexiWarning(
        kind="flexi_ceiling",
        year=2026,
        threshold=75,
        total_cents=1_530_000,
        limit_cents=1_800_000,
        provisional=True,
        as_of=AS_OF,
        forecast=date(2026, 12, 24),
    )
    assert warning.dedup_key == "flexi:2026:75"
    assert warning.payload() == {
        "year": 2026,
        "threshold": 75,
        "total_cents": 1_530_000,
        "limit_cents": 1_800_000,
        "provisional": True,
        "as_of": "2026-11-10",
        "forecast": "2026-12-24",
    }


def test_dedup_keys_and_the_configurable_thresholds() -> None:
    assert dedup_key("flexi_ceiling", 2026, 90) == "flexi:2026:90"
    assert dedup_key("flexi_pension_limit", 2025, 100) == "flexi-pension:2025:100"
    found = flexi_warnings(
        year=2026,
        total_cents=950_000,
        as_of=AS_OF,
        first_month=1,
        last_month=6,
        status=ORDINARY,
        warned={},
        thresholds=(50, 100),
    )
    assert [(w.threshold, w.dedup_key) for w in found] == [(50, "flexi:2026:50")]


@pytest.mark.parametrize(
    ("year", "amount", "status"),
    [(2024, None, None), (2025, 787_600, "secondary_source"), (2026, 787_600, "provisional")],
)
def test_pension_limits_per_year(year: int, amount: int | None, status: str | None) -> None:
    limit = pension_limit_for_year(year)
    assert (None if limit is None else (limit.amount_cents, limit.status)) == (
        None if amount is None else (amount, status)
    )


@pytest.mark.parametrize(
    ("total", "months", "expected"),
    [
        # Sofie's demo: EUR 15,300 over January-October, pace EUR 1,530 a month: about 24 December.
        (1_530_000, (1, 10), date(2026, 12, 24)),
        # Four months from May at EUR 3,000: the ceiling at exactly six months later, 1 November.
        (1_200_000, (5, 8), date(2026, 11, 1)),
        # EUR 1,000 a month over nine months: 18 months needed, not this year.
        (900_000, (1, 9), None),
        (1_800_001, (1, 10), None),  # already passed
        (0, (1, 10), None),
        # EUR 12,705 over seven months: 9.917 months, so late October.
        (1_270_500, (1, 7), date(2026, 10, 29)),
    ],
)
def test_the_forecast_is_linear_on_the_months_declared(
    total: int, months: tuple[int, int], expected: date | None
) -> None:
    found = forecast_crossing(
        year=2026, total_cents=total, limit_cents=CEILING_2026, first_month=months[0], last_month=months[1]
    )
    assert found == expected
