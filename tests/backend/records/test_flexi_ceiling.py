"""The flexi ceiling table (DOMAIN.md): none before 2024, confirmed 2024, 2025 from a secondary source, 2026
provisional, later years carried forward as provisional."""

from __future__ import annotations

import pytest

from backend.records.flexi import Ceiling, flexi_ceiling_for_year


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2015, None),
        (2023, None),
        (2024, Ceiling(income_year=2024, amount_cents=1_200_000, status="confirmed")),
        (2025, Ceiling(income_year=2025, amount_cents=1_800_000, status="secondary_source")),
        (2026, Ceiling(income_year=2026, amount_cents=1_800_000, status="provisional")),
        (2027, Ceiling(income_year=2027, amount_cents=1_800_000, status="provisional")),
        (2040, Ceiling(income_year=2040, amount_cents=1_800_000, status="provisional")),
    ],
)
def test_ceiling_for_year(year: int, expected: Ceiling | None) -> None:
    assert flexi_ceiling_for_year(year) == expected


@pytest.mark.parametrize(("year", "provisional"), [(2024, False), (2025, False), (2026, True), (2031, True)])
def test_only_unconfirmed_amounts_are_provisional(year: int, provisional: bool) -> None:
    ceiling = flexi_ceiling_for_year(year)
    assert ceiling is not None
    assert ceiling.provisional is provisional
