"""Numbers read from addresses, forms and headers: plain ASCII digits only."""

from __future__ import annotations

import pytest

from backend.core.digits import is_ascii_digits, positive_int


@pytest.mark.parametrize(
    ("text", "digits"),
    [("0", True), ("123", True), ("", False), ("²", False), ("٣", False), ("１", False), ("1.5", False), (" 1", False)],
)
def test_only_ascii_digits_are_digits(text: str, digits: bool) -> None:
    assert is_ascii_digits(text) is digits


@pytest.mark.parametrize(
    ("text", "number"),
    [("7", 7), ("1", 1), ("99", 99), ("100", None), ("0", None), ("-3", None), ("²", None), ("", None), (None, None)],
)
def test_a_positive_int_below_a_bound_or_none(text: str | None, number: int | None) -> None:
    assert positive_int(text, below=100) == number
