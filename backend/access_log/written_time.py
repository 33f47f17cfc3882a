"""Moments written out for people, in Brussels time and in the reader's language."""

from __future__ import annotations

from datetime import datetime

from babel import Locale
from babel.dates import format_date, format_time

from backend.access_log.views import BRUSSELS, babel_locale, date_label


def brussels_date(moment: datetime, language: str) -> str:
    """A day written out in Brussels time ("3 May 2026")."""
    return date_label(moment.astimezone(BRUSSELS).date(), "long", language)


def brussels_datetime(moment: datetime, language: str) -> str:
    """A day and time written out in Brussels time ("3 May 2026, 14:05"), in the language's own pattern."""
    local = moment.astimezone(BRUSSELS)
    locale = babel_locale(language)
    pattern = str(Locale.parse(locale).datetime_formats["long"])
    day = format_date(local, format="long", locale=locale)
    return pattern.replace("{1}", day).replace("{0}", format_time(local, format="short", locale=locale))


__all__ = ["brussels_date", "brussels_datetime"]
