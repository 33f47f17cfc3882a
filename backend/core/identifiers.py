"""Validation of Belgian identifiers: INSZ/NISS (national number), BIS number and KBO/BCE number.

This module is pure: no I/O, no database, no global state. The only "clock" it uses is the
``today`` argument of :func:`parse_insz` (defaulting to :func:`datetime.date.today`), which decides
whether a number may belong to someone born in the 2000s.

INSZ and BIS numbers
    Eleven digits ``YYMMDDSSSCC``: birth date (month and/or day may be ``00`` when unknown), a
    three-digit serial (odd for men, even for women) and two check digits, printed
    ``YY.MM.DD-SSS.CC``. The check digits are ``97 - (first nine digits mod 97)``; for people born in
    2000 or later a ``2`` is put in front of the nine digits first. BIS numbers use the same layout
    and check, with 20 added to the month when the sex is unknown and 40 when it is known.

KBO/BCE enterprise numbers
    Ten digits printed ``0XXX.XXX.XXX``, first digit ``0`` or ``1``; the last two digits are
    ``97 - (first eight digits mod 97)``. The old nine-digit form gets a leading ``0``; the VAT
    number is ``BE`` followed by the ten digits.

Errors are reported as :class:`IdentifierError` with a stable machine ``code`` (callers translate
it) and a plain English ``message``. Messages never repeat the offending value, so they are safe
to log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from backend.core.digits import is_ascii_digits

__all__ = [
    "ErrorCode",
    "IdentifierError",
    "Insz",
    "Kbo",
    "insz_check_digits",
    "insz_digits",
    "is_valid_insz",
    "is_valid_kbo",
    "kbo_check_digits",
    "make_insz",
    "parse_insz",
    "parse_kbo",
]

ErrorCode = Literal["format", "length", "checksum", "birth_date", "future"]
"""Stable machine codes carried by :class:`IdentifierError`."""

_INSZ_SEPARATORS: Final = str.maketrans("", "", ".- ")
_KBO_SEPARATORS: Final = str.maketrans("", "", ". ")
_BIS_UNKNOWN_SEX_OFFSET: Final = 20
_BIS_KNOWN_SEX_OFFSET: Final = 40
_MILLENNIUM_PREFIX: Final = 2_000_000_000


class IdentifierError(ValueError):
    """An identifier failed validation.

    Attributes:
        code: stable machine code, one of ``"format"``, ``"length"``, ``"checksum"``,
            ``"birth_date"`` or ``"future"``; meant for translation by callers.
        message: plain English description of the check that failed. It never contains the
            value that was checked.
    """

    code: ErrorCode
    message: str

    def __init__(self, code: ErrorCode, message: str) -> None:
        """Create the error from its machine ``code`` and English ``message``."""
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        """Show code and message (never the checked value)."""
        return f"IdentifierError(code={self.code!r}, message={self.message!r})"


# --------------------------------------------------------------------------------------------------
# INSZ / NISS and BIS
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, repr=False)
class Insz:
    """A validated INSZ/NISS or BIS number; build it with :func:`parse_insz`.

    ``str()`` and ``repr()`` are masked (``Insz(***)``) so the number never leaks into logs by
    accident; use :attr:`digits` or :attr:`formatted` explicitly when the number must be shown.

    Attributes:
        digits: the eleven digits, without separators.
        kind: ``"insz"`` for a national number, ``"bis"`` for a BIS number.
        birth_date: the birth date, or None when the month or day is ``00`` (unknown).
        birth_year: the full birth year (the century is derived from the check digits).
        sex: ``"M"`` (odd serial) or ``"F"`` (even serial); None for a BIS number whose sex is
            unknown (month + 20).
    """

    digits: str
    kind: Literal["insz", "bis"]
    birth_date: date | None
    birth_year: int
    sex: Literal["M", "F"] | None

    def __post_init__(self) -> None:
        """Refuse a ``digits`` value that is not eleven ASCII digits."""
        if len(self.digits) != 11 or not is_ascii_digits(self.digits):
            raise IdentifierError("length", "INSZ must have 11 digits")

    @property
    def formatted(self) -> str:
        """The number in its printed form ``YY.MM.DD-SSS.CC``."""
        d = self.digits
        return f"{d[0:2]}.{d[2:4]}.{d[4:6]}-{d[6:9]}.{d[9:11]}"

    def __str__(self) -> str:
        """Masked text, so the number cannot end up in logs by accident."""
        return "Insz(***)"

    def __repr__(self) -> str:
        """Masked representation, so the number cannot end up in logs by accident."""
        return "Insz(***)"


def insz_check_digits(first9: str, *, born_2000_or_later: bool) -> int:
    """Return the INSZ/BIS check value (1..97) for the first nine digits.

    Args:
        first9: the nine digits ``YYMMDDSSS``.
        born_2000_or_later: use the 2000s form (``2`` put in front of the nine digits).

    Raises:
        ValueError: when ``first9`` is not nine ASCII digits.
    """
    if len(first9) != 9 or not is_ascii_digits(first9):
        raise ValueError("first9 must be exactly 9 digits")
    return _check_value(int(first9), born_2000_or_later=born_2000_or_later)


def _check_value(first9: int, *, born_2000_or_later: bool) -> int:
    return 97 - (first9 + _MILLENNIUM_PREFIX if born_2000_or_later else first9) % 97


def parse_insz(value: str, *, today: date | None = None) -> Insz:
    """Parse and validate an INSZ/NISS or BIS number.

    Dots, dashes and spaces are ignored; any other non-digit character is refused. The century is
    found from the check digits: the 1900s form is tried first, then the 2000s form, which is only
    accepted when that birth year is not after ``today``'s year.

    Args:
        value: the number as typed, e.g. ``"85.07.30-033.28"``.
        today: reference date for the "not in the future" rule; defaults to ``date.today()``.

    Returns:
        The validated :class:`Insz`.

    Raises:
        IdentifierError: ``format`` (unexpected character), ``length`` (not 11 digits),
            ``birth_date`` (impossible month or day), ``checksum`` (check digits do not match) or
            ``future`` (only the 2000s form matches and that birth year is in the future).
    """
    digits, kind, birth_date, year, sex = _checked_insz(value, today)
    return Insz(digits=digits, kind=kind, birth_date=birth_date, birth_year=year, sex=sex)


def insz_digits(value: str, *, today: date | None = None) -> str:
    """The eleven digits of a valid INSZ/NISS or BIS number: :func:`parse_insz` without building an
    :class:`Insz` (for bulk checks, where only the number is kept); the same checks, the same errors."""
    return _checked_insz(value, today)[0]


def _checked_insz(
    value: str, today: date | None
) -> tuple[str, Literal["insz", "bis"], date | None, int, Literal["M", "F"] | None]:
    """Every check of :func:`parse_insz`; the digits, kind, birth date, birth year and sex."""
    if not isinstance(value, str):
        raise IdentifierError("format", "INSZ must be text")
    digits = value.translate(_INSZ_SEPARATORS)
    if digits and not is_ascii_digits(digits):
        raise IdentifierError("format", "INSZ may only contain digits, dots, dashes and spaces")
    if len(digits) != 11:
        raise IdentifierError("length", "INSZ must have 11 digits")

    yy = int(digits[0:2])
    month_field = int(digits[2:4])
    day = int(digits[4:6])
    serial = int(digits[6:9])
    check = int(digits[9:11])

    kind: Literal["insz", "bis"]
    sex_known = True
    if month_field <= 12:
        kind, month = "insz", month_field
    elif _BIS_UNKNOWN_SEX_OFFSET <= month_field <= _BIS_UNKNOWN_SEX_OFFSET + 12:
        kind, month, sex_known = "bis", month_field - _BIS_UNKNOWN_SEX_OFFSET, False
    elif _BIS_KNOWN_SEX_OFFSET <= month_field <= _BIS_KNOWN_SEX_OFFSET + 12:
        kind, month = "bis", month_field - _BIS_KNOWN_SEX_OFFSET
    else:
        raise IdentifierError("birth_date", "INSZ birth month is not valid")
    if day > 31:
        raise IdentifierError("birth_date", "INSZ birth day is not valid")

    # The nine digits are known to be digits already: no need for insz_check_digits' own check of them.
    first9 = int(digits[0:9])
    if check == _check_value(first9, born_2000_or_later=False):
        year = 1900 + yy
    elif check == _check_value(first9, born_2000_or_later=True):
        year = 2000 + yy
        reference = today if today is not None else date.today()  # noqa: DTZ011 - a calendar date
        if year > reference.year:
            raise IdentifierError("future", "INSZ birth year would be in the future")
    else:
        raise IdentifierError("checksum", "INSZ check digits do not match")

    birth_date: date | None = None
    if month != 0 and day != 0:
        try:  # the month is 1-12 and the day 1-31 here: only a day past the month's end is refused
            birth_date = date(year, month, day)
        except ValueError:
            raise IdentifierError("birth_date", "INSZ birth date does not exist") from None

    sex: Literal["M", "F"] | None = None
    if sex_known:
        sex = "M" if serial % 2 == 1 else "F"
    return digits, kind, birth_date, year, sex


def is_valid_insz(value: str, *, today: date | None = None) -> bool:
    """Return True when ``value`` is a valid INSZ/NISS or BIS number (see :func:`parse_insz`)."""
    try:
        parse_insz(value, today=today)
    except IdentifierError:
        return False
    return True


def make_insz(
    birth: date,
    serial: int,
    *,
    bis: Literal[None, "unknown_sex", "known_sex"] = None,
) -> str:
    """Build a valid 11-digit INSZ (or BIS) number, e.g. for demo data.

    Args:
        birth: the birth date; its year must be between 1900 and 2099.
        serial: the daily serial, 1..998 (odd for men, even for women).
        bis: None for a national number, ``"unknown_sex"`` for a BIS number with month + 20,
            ``"known_sex"`` for a BIS number with month + 40.

    Returns:
        The eleven digits, without separators.

    Raises:
        ValueError: when ``serial`` or the birth year is out of range.
    """
    if not 1 <= serial <= 998:
        raise ValueError("serial must be between 1 and 998")
    if not 1900 <= birth.year <= 2099:
        raise ValueError("birth year must be between 1900 and 2099")
    offset = {None: 0, "unknown_sex": _BIS_UNKNOWN_SEX_OFFSET, "known_sex": _BIS_KNOWN_SEX_OFFSET}[bis]
    first9 = f"{birth.year % 100:02d}{birth.month + offset:02d}{birth.day:02d}{serial:03d}"
    check = insz_check_digits(first9, born_2000_or_later=birth.year >= 2000)
    return f"{first9}{check:02d}"


# --------------------------------------------------------------------------------------------------
# KBO / BCE enterprise number
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Kbo:
    """A validated KBO/BCE enterprise number; build it with :func:`parse_kbo`.

    Attributes:
        digits: the ten digits, without separators (first digit 0 or 1).
    """

    digits: str

    def __post_init__(self) -> None:
        """Refuse a ``digits`` value that is not ten ASCII digits."""
        if len(self.digits) != 10 or not is_ascii_digits(self.digits):
            raise IdentifierError("length", "KBO number must have 10 digits")

    @property
    def formatted(self) -> str:
        """The number in its printed form ``0XXX.XXX.XXX``."""
        d = self.digits
        return f"{d[0:4]}.{d[4:7]}.{d[7:10]}"

    @property
    def vat(self) -> str:
        """The VAT number: ``BE`` followed by the ten digits."""
        return f"BE{self.digits}"


def kbo_check_digits(first8: str) -> int:
    """Return the KBO/BCE check value (1..97) for the first eight digits.

    Raises:
        ValueError: when ``first8`` is not eight ASCII digits.
    """
    if len(first8) != 8 or not is_ascii_digits(first8):
        raise ValueError("first8 must be exactly 8 digits")
    return 97 - int(first8) % 97


def parse_kbo(value: str) -> Kbo:
    """Parse and validate a KBO/BCE enterprise number.

    Dots and spaces are ignored, as is a leading ``BE`` (VAT form, any case). The old nine-digit
    form is accepted and gets a leading ``0``.

    Raises:
        IdentifierError: ``format`` (unexpected character, or first digit not 0 or 1),
            ``length`` (not 9 or 10 digits) or ``checksum`` (check digits do not match).
    """
    if not isinstance(value, str):
        raise IdentifierError("format", "KBO number must be text")
    text = value.strip()
    if text[:2].upper() == "BE":
        text = text[2:]
    digits = text.translate(_KBO_SEPARATORS)
    if digits and not is_ascii_digits(digits):
        raise IdentifierError("format", "KBO number may only contain digits, dots and spaces")
    if len(digits) == 9:
        digits = "0" + digits
    if len(digits) != 10:
        raise IdentifierError("length", "KBO number must have 10 digits")
    if digits[0] not in "01":
        raise IdentifierError("format", "KBO number must start with 0 or 1")
    if int(digits[8:10]) != kbo_check_digits(digits[0:8]):
        raise IdentifierError("checksum", "KBO check digits do not match")
    return Kbo(digits=digits)


def is_valid_kbo(value: str) -> bool:
    """Return True when ``value`` is a valid KBO/BCE enterprise number (see :func:`parse_kbo`)."""
    try:
        parse_kbo(value)
    except IdentifierError:
        return False
    return True
