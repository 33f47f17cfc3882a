"""Tests for backend.core.identifiers (pure, no database)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest

from backend.core.identifiers import (
    IdentifierError,
    Insz,
    Kbo,
    insz_check_digits,
    insz_digits,
    is_valid_insz,
    is_valid_kbo,
    kbo_check_digits,
    make_insz,
    parse_insz,
    parse_kbo,
)

TODAY = date(2024, 6, 15)


def _with_check(first9: str, *, born_2000_or_later: bool = False) -> str:
    """Complete nine digits with their valid check digits."""
    return f"{first9}{insz_check_digits(first9, born_2000_or_later=born_2000_or_later):02d}"


def _error_code(value: str, *, today: date = TODAY) -> str:
    with pytest.raises(IdentifierError) as excinfo:
        parse_insz(value, today=today)
    return excinfo.value.code


# --------------------------------------------------------------------------------------------------
# INSZ
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "birth_date", "birth_year", "sex", "formatted"),
    [
        ("85073003328", date(1985, 7, 30), 1985, "M", "85.07.30-033.28"),
        ("17073003384", date(2017, 7, 30), 2017, "M", "17.07.30-033.84"),
    ],
)
def test_worked_examples_are_valid(value: str, birth_date: date, birth_year: int, sex: str, formatted: str) -> None:
    insz = parse_insz(value, today=TODAY)
    assert insz.digits == value
    assert insz.kind == "insz"
    assert insz.birth_date == birth_date
    assert insz.birth_year == birth_year
    assert insz.sex == sex
    assert insz.formatted == formatted
    assert is_valid_insz(value, today=TODAY)


@pytest.mark.parametrize(
    "value",
    ["85.07.30-033.28", "85 07 30 033 28", "850730-033-28", " 85.07.30-033.28 ", "17.07.30-033.84"],
)
def test_separators_are_ignored(value: str) -> None:
    assert parse_insz(value, today=TODAY).digits == value.replace(".", "").replace("-", "").replace(" ", "")


def _wrong_check_values() -> list[str]:
    """Every check value of the worked examples that matches neither century's form."""
    values = []
    for valid in ("85073003328", "17073003384"):
        first9 = valid[:9]
        right = {
            insz_check_digits(first9, born_2000_or_later=False),
            insz_check_digits(first9, born_2000_or_later=True),
        }
        values += [f"{first9}{check:02d}" for check in range(100) if check not in right]
    return values


@pytest.mark.parametrize("value", _wrong_check_values())
def test_every_wrong_check_value_is_refused(value: str) -> None:
    assert _error_code(value) == "checksum"
    assert not is_valid_insz(value, today=TODAY)


@pytest.mark.parametrize(
    ("value", "year_or_code"),
    [
        ("85073003328", 1985),
        ("85073003357", "future"),  # 2000s check digits for 85…: would be born in 2085
        ("17073003384", 2017),
        ("17073003355", 1917),  # 1900s check digits for 17…
    ],
)
def test_check_digits_decide_the_century(value: str, year_or_code: int | str) -> None:
    if isinstance(year_or_code, str):
        assert _error_code(value) == year_or_code
    else:
        assert parse_insz(value, today=TODAY).birth_year == year_or_code


def test_checksum_message() -> None:
    with pytest.raises(IdentifierError) as excinfo:
        parse_insz("85073003329", today=TODAY)
    assert excinfo.value.message == "INSZ check digits do not match"
    assert str(excinfo.value) == "INSZ check digits do not match"
    assert isinstance(excinfo.value, ValueError)


@pytest.mark.parametrize("value", ["", "8507300332", "850730033280", "8", "85.07.30-033.2", "...-"])
def test_wrong_length_is_refused(value: str) -> None:
    with pytest.raises(IdentifierError) as excinfo:
        parse_insz(value, today=TODAY)
    assert excinfo.value.code == "length"
    assert excinfo.value.message == "INSZ must have 11 digits"


@pytest.mark.parametrize(
    "value",
    [
        "8507300332A",
        "AB073003328",
        "85/07/30-033.28",
        "85_07_30_033_28",
        "85073003328\n",
        "８５０７３００３３２８",  # full-width digits
        "٨٥٠٧٣٠٠٣٣٢٨",  # Arabic-Indic digits
        "+85073003328",
    ],
)
def test_other_characters_are_refused(value: str) -> None:
    assert _error_code(value) == "format"


@pytest.mark.parametrize(
    ("bis", "month_offset", "serial", "sex"),
    [
        ("unknown_sex", 20, 33, None),
        ("unknown_sex", 20, 34, None),
        ("known_sex", 40, 33, "M"),
        ("known_sex", 40, 34, "F"),
    ],
)
@pytest.mark.parametrize("birth", [date(1985, 7, 30), date(2017, 12, 1), date(1900, 1, 1), date(2000, 2, 29)])
def test_bis_numbers(bis: str, month_offset: int, serial: int, sex: str | None, birth: date) -> None:
    value = make_insz(birth, serial, bis=bis)  # type: ignore[arg-type]
    assert int(value[2:4]) == birth.month + month_offset
    insz = parse_insz(value, today=TODAY)
    assert insz.kind == "bis"
    assert insz.birth_date == birth
    assert insz.birth_year == birth.year
    assert insz.sex == sex


@pytest.mark.parametrize(("serial", "sex"), [(1, "M"), (2, "F"), (997, "M"), (998, "F")])
def test_sex_follows_serial_parity(serial: int, sex: str) -> None:
    assert parse_insz(make_insz(date(1985, 7, 30), serial), today=TODAY).sex == sex


@pytest.mark.parametrize("month_field", ["13", "19", "33", "39", "53", "99"])
def test_impossible_month_is_refused(month_field: str) -> None:
    value = _with_check(f"85{month_field}30033")
    assert _error_code(value) == "birth_date"


@pytest.mark.parametrize("first9", ["850732033", "850231033", "010229033", "850431033"])
def test_impossible_day_is_refused(first9: str) -> None:
    assert _error_code(_with_check(first9)) == "birth_date"


@pytest.mark.parametrize(
    "value",
    [
        "85.07.30-033.28",
        "17073003384",
        _with_check("852000033"),
        _with_check("850732033"),
        _with_check("010229033"),
        _with_check("300730033", born_2000_or_later=True),  # born in 2030: in the future
        "85073003329",
        "8507300332",
        "85O73003328",
    ],
)
def test_insz_digits_checks_like_parse_insz(value: str) -> None:
    def outcome(check: Callable[[], str]) -> tuple[str, str]:
        try:
            return "digits", check()
        except IdentifierError as error:
            return error.code, error.message

    assert outcome(lambda: insz_digits(value, today=TODAY)) == outcome(lambda: parse_insz(value, today=TODAY).digits)


def test_february_29_depends_on_century() -> None:
    # 2000 is a leap year, 1900 is not.
    assert parse_insz(_with_check("000229001", born_2000_or_later=True), today=TODAY).birth_date == date(2000, 2, 29)
    assert _error_code(_with_check("000229001", born_2000_or_later=False)) == "birth_date"


@pytest.mark.parametrize(
    ("first9", "born_2000_or_later", "kind", "year", "sex"),
    [
        ("850700033", False, "insz", 1985, "M"),
        ("850030033", False, "insz", 1985, "M"),
        ("850000034", False, "insz", 1985, "F"),
        ("170000033", True, "insz", 2017, "M"),
        ("852000033", False, "bis", 1985, None),
        ("854000034", False, "bis", 1985, "F"),
        ("852700033", False, "bis", 1985, None),
    ],
)
def test_unknown_month_or_day_gives_no_birth_date(
    first9: str, born_2000_or_later: bool, kind: str, year: int, sex: str | None
) -> None:
    insz = parse_insz(_with_check(first9, born_2000_or_later=born_2000_or_later), today=TODAY)
    assert insz.birth_date is None
    assert insz.kind == kind
    assert insz.birth_year == year
    assert insz.sex == sex


@pytest.mark.parametrize(
    ("first9", "today", "code_or_year"),
    [
        ("250101001", date(2024, 6, 15), "future"),  # 2025 would be in the future
        ("250101001", date(2025, 1, 1), 2025),  # same year: accepted
        ("240101001", date(2024, 6, 15), 2024),
        ("170730033", date(2016, 12, 31), "future"),
        ("000101001", date(1999, 12, 31), "future"),
    ],
)
def test_2000s_form_not_accepted_in_the_future(first9: str, today: date, code_or_year: str | int) -> None:
    value = _with_check(first9, born_2000_or_later=True)
    if isinstance(code_or_year, str):
        assert _error_code(value, today=today) == code_or_year
        assert not is_valid_insz(value, today=today)
    else:
        assert parse_insz(value, today=today).birth_year == code_or_year


def test_1900s_form_is_always_available() -> None:
    value = _with_check("250101001", born_2000_or_later=False)
    assert parse_insz(value, today=date(2024, 6, 15)).birth_year == 1925


def test_today_defaults_to_current_date() -> None:
    assert parse_insz("17073003384").birth_year == 2017


def _dates() -> list[date]:
    fixed = [
        date(1900, 1, 1),
        date(1999, 12, 31),
        date(2000, 1, 1),
        date(2000, 2, 29),
        date(1904, 2, 29),
        date(2024, 6, 15),
    ]
    start = date(1998, 11, 1)
    return fixed + [start + timedelta(days=n) for n in range(0, 800, 7)]


@pytest.mark.parametrize("birth", _dates(), ids=str)
@pytest.mark.parametrize("serial", [1, 2, 500, 998])
@pytest.mark.parametrize("bis", [None, "unknown_sex", "known_sex"])
def test_make_insz_round_trip(birth: date, serial: int, bis: str | None) -> None:
    value = make_insz(birth, serial, bis=bis)  # type: ignore[arg-type]
    assert len(value) == 11
    assert value.isdigit()
    insz = parse_insz(value, today=TODAY)
    assert insz.digits == value
    assert insz.birth_date == birth
    assert insz.birth_year == birth.year
    assert insz.kind == ("insz" if bis is None else "bis")
    expected_sex = None if bis == "unknown_sex" else ("M" if serial % 2 else "F")
    assert insz.sex == expected_sex


@pytest.mark.parametrize("serial", [0, 999, -1])
def test_make_insz_refuses_bad_serial(serial: int) -> None:
    with pytest.raises(ValueError, match="serial"):
        make_insz(date(1985, 7, 30), serial)


@pytest.mark.parametrize("birth", [date(1899, 12, 31), date(2100, 1, 1)])
def test_make_insz_refuses_out_of_range_year(birth: date) -> None:
    with pytest.raises(ValueError, match="year"):
        make_insz(birth, 1)


@pytest.mark.parametrize(
    ("first9", "born_2000_or_later", "expected"),
    [("850730033", False, 28), ("170730033", True, 84), ("000000097", False, 97)],
)
def test_insz_check_digits(first9: str, born_2000_or_later: bool, expected: int) -> None:
    assert insz_check_digits(first9, born_2000_or_later=born_2000_or_later) == expected


def test_insz_check_value_97_is_valid() -> None:
    first9 = f"{850730000 + (97 - 850730000 % 97) % 97:09d}"  # multiple of 97 → check value 97
    assert insz_check_digits(first9, born_2000_or_later=False) == 97
    assert parse_insz(f"{first9}97", today=TODAY).birth_year == 1985


@pytest.mark.parametrize("first9", ["85073003", "8507300333", "85073003A", "８５０７３００３３"])
def test_insz_check_digits_refuses_bad_input(first9: str) -> None:
    with pytest.raises(ValueError, match="9 digits"):
        insz_check_digits(first9, born_2000_or_later=False)


@pytest.mark.parametrize("value", ["85073003328", "17073003384"])
def test_str_and_repr_do_not_reveal_the_number(value: str) -> None:
    insz = parse_insz(value, today=TODAY)
    for text in (str(insz), repr(insz), f"{insz}", f"{insz!r}", str([insz]), str({"k": insz})):
        assert value not in text
        assert insz.formatted not in text
        assert value[:6] not in text
    assert str(insz) == "Insz(***)"
    assert repr(insz) == "Insz(***)"


@pytest.mark.parametrize("value", ["85073003329", "8507300332", "85O73003328", "85133003328"])
def test_error_messages_do_not_reveal_the_value(value: str) -> None:
    with pytest.raises(IdentifierError) as excinfo:
        parse_insz(value, today=TODAY)
    assert value not in str(excinfo.value)
    assert value not in repr(excinfo.value)
    assert excinfo.value.message.startswith("INSZ")


def test_insz_is_frozen_and_checks_digits() -> None:
    insz = parse_insz("85073003328", today=TODAY)
    with pytest.raises(AttributeError):
        insz.digits = "17073003384"  # type: ignore[misc]
    with pytest.raises(IdentifierError):
        Insz(digits="123", kind="insz", birth_date=None, birth_year=1985, sex=None)
    assert insz == parse_insz("85.07.30-033.28", today=TODAY)


# --------------------------------------------------------------------------------------------------
# KBO / BCE
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "digits"),
    [
        ("0428759497", "0428759497"),
        ("0403019261", "0403019261"),
        ("0428.759.497", "0428759497"),
        ("0403 019 261", "0403019261"),
        ("428759497", "0428759497"),  # old nine-digit form
        ("403.019.261", "0403019261"),
        ("BE0428759497", "0428759497"),  # VAT form
        ("BE 0428.759.497", "0428759497"),
        ("be0403019261", "0403019261"),
        ("BE428759497", "0428759497"),
        (" 0428.759.497 ", "0428759497"),
    ],
)
def test_kbo_valid(value: str, digits: str) -> None:
    kbo = parse_kbo(value)
    assert kbo.digits == digits
    assert kbo.formatted == f"{digits[0:4]}.{digits[4:7]}.{digits[7:10]}"
    assert kbo.vat == f"BE{digits}"
    assert is_valid_kbo(value)


def test_kbo_formatted_and_vat() -> None:
    kbo = parse_kbo("0403019261")
    assert kbo.formatted == "0403.019.261"
    assert kbo.vat == "BE0403019261"


def test_kbo_first_digit_one_valid() -> None:
    first8 = "10000000"
    value = f"{first8}{kbo_check_digits(first8):02d}"
    assert parse_kbo(value).formatted == f"1000.000.0{value[8:]}"


@pytest.mark.parametrize("first8", ["20000000", "24287594", "90000000"])
def test_kbo_first_digit_other_than_0_or_1_refused(first8: str) -> None:
    value = f"{first8}{kbo_check_digits(first8):02d}"
    with pytest.raises(IdentifierError) as excinfo:
        parse_kbo(value)
    assert excinfo.value.code == "format"
    assert not is_valid_kbo(value)


@pytest.mark.parametrize("value", ["0428759496", "0428759498", "0403019262", "0403019260", "0428759400"])
def test_kbo_wrong_checksum_refused(value: str) -> None:
    with pytest.raises(IdentifierError) as excinfo:
        parse_kbo(value)
    assert excinfo.value.code == "checksum"
    assert excinfo.value.message == "KBO check digits do not match"


@pytest.mark.parametrize(("value", "code"), [("", "length"), ("04287594", "length"), ("04287594970", "length")])
def test_kbo_wrong_length_refused(value: str, code: str) -> None:
    with pytest.raises(IdentifierError) as excinfo:
        parse_kbo(value)
    assert excinfo.value.code == code


@pytest.mark.parametrize("value", ["0428-759-497", "0428/759/497", "FR0428759497", "042875949A", "BEBE0428759497"])
def test_kbo_other_characters_refused(value: str) -> None:
    with pytest.raises(IdentifierError) as excinfo:
        parse_kbo(value)
    assert excinfo.value.code == "format"


@pytest.mark.parametrize("first8", ["04287594", "09700000", "00000000"])
def test_kbo_check_value_97_valid(first8: str) -> None:
    assert int(first8) % 97 == 0
    assert kbo_check_digits(first8) == 97
    assert is_valid_kbo(f"{first8}97")


@pytest.mark.parametrize(("first8", "expected"), [("04287594", 97), ("04030192", 61)])
def test_kbo_check_digits(first8: str, expected: int) -> None:
    assert kbo_check_digits(first8) == expected


@pytest.mark.parametrize("first8", ["0428759", "042875949", "0428759A"])
def test_kbo_check_digits_refuses_bad_input(first8: str) -> None:
    with pytest.raises(ValueError, match="8 digits"):
        kbo_check_digits(first8)


def test_kbo_dataclass_checks_digits() -> None:
    with pytest.raises(IdentifierError):
        Kbo(digits="123")
