"""Numbers, money, days, months and quarters written for people, in their language (babel, Belgian locales).

Money is integer euro cents until it is written here; hours and days are hundredths, as DmfA declares them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Final

from babel import Locale
from babel.dates import format_date, format_skeleton
from babel.numbers import format_currency, format_decimal, format_percent

from backend.access_log.views import babel_locale, capitalised, date_label
from backend.access_log.written_time import brussels_date
from backend.core.i18n import _
from backend.core.identifiers import IdentifierError, parse_kbo

CURRENCY: Final = "EUR"


def euro(cents: int, language: str, *, whole: bool = False) -> str:
    """An amount of euro cents in the language's currency format ("€ 1.020,00"); with `whole`, a round amount
    drops its cents ("€ 15.300"), as on the flexi ceiling."""
    locale = babel_locale(language)
    amount = Decimal(cents) / 100
    if whole and cents % 100 == 0:
        pattern = Locale.parse(locale).currency_formats["standard"].pattern.replace(".00", "")
        return format_currency(amount, CURRENCY, format=pattern, locale=locale, currency_digits=False)
    return format_currency(amount, CURRENCY, locale=locale)


def share(part: int, whole: int) -> int:
    """Part of whole in whole percent, rounded down (99.6% is not yet 100%)."""
    return part * 100 // whole


def percent(value: int, language: str) -> str:
    """A whole percentage in the language's format ("85%", "85 %")."""
    return format_percent(Decimal(value) / 100, locale=babel_locale(language))


def hundredths(value: int, language: str) -> str:
    """A number declared in hundredths (days, hours), without trailing zeros ("395,2")."""
    return format_decimal(Decimal(value) / 100, locale=babel_locale(language))


def day(value: date, language: str) -> str:
    """A business date written out ("2 January 2026")."""
    return date_label(value, "long", language)


def moment_day(value: datetime, language: str) -> str:
    """The Brussels day of a moment, written out."""
    return brussels_date(value, language)


def month(value: str, language: str) -> str:
    """A month "2026-03" written out ("March 2026"), with a capital for the start of a cell."""
    first = date(int(value[:4]), int(value[5:7]), 1)
    return capitalised(format_skeleton("yMMMM", first, locale=babel_locale(language)))


def quarter(value: str, language: str) -> str:
    """A quarter "2026-1" written out ("1st quarter 2026")."""
    year, number = value.split("-")
    first = date(int(year), 3 * int(number) - 2, 1)
    return capitalised(format_date(first, format="QQQQ y", locale=babel_locale(language)))


def country(code: str, language: str) -> str:
    """A country's name from its ISO code (the code itself when babel does not know it)."""
    name = Locale.parse(babel_locale(language)).territories.get(code)
    return code if name is None else str(name)


def language_label(code: str, language: str) -> str:
    """A language's name in the reader's language ("Dutch", "néerlandais")."""
    name = Locale.parse(babel_locale(language)).languages.get(code)
    return code if name is None else capitalised(str(name))


def enterprise_number(kbo: str) -> str:
    """An enterprise number in its printed form 0XXX.XXX.XXX (as stored when it cannot be read)."""
    try:
        return parse_kbo(kbo).formatted
    except IdentifierError:
        return kbo


def period_end(end: date | None, language: str) -> str:
    """The end of a period, or "Ongoing" while it has none."""
    return _("Ongoing") if end is None else day(end, language)


__all__ = [
    "country",
    "day",
    "enterprise_number",
    "euro",
    "hundredths",
    "language_label",
    "moment_day",
    "month",
    "percent",
    "period_end",
    "quarter",
    "share",
]
