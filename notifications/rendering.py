"""Render a notice from its template and the outbox payload, in one language; and sample notices for staff.

Values are written out for the language before they reach the template: amounts in euro, dates in Brussels
time, percentages with the language's own spacing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, Final
from uuid import UUID
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_skeleton
from babel.numbers import format_currency, format_percent

from backend.core.digits import is_ascii_digits
from backend.core.i18n import Language
from notifications.schemas import Rendered
from notifications.templates import NoticeTemplate, current_template

BRUSSELS: Final = ZoneInfo("Europe/Brussels")
LOCALES: Final[dict[Language, str]] = {"nl": "nl_BE", "fr": "fr_BE", "de": "de_BE", "en": "en_BE"}


class RenderError(ValueError):
    """A payload the template cannot be filled from (unknown kind, missing or malformed value)."""


def money(cents: int, language: Language) -> str:
    """An amount in euro cents, written for the language ("€ 13.500,00", "13 500,00 €")."""
    return format_currency(cents / 100, "EUR", locale=LOCALES[language])


def long_date(day: date, language: Language) -> str:
    """A day written out ("14 oktober 2026", "14. Oktober 2026")."""
    return format_date(day, format="long", locale=LOCALES[language])


def day_and_month(day: date, language: Language) -> str:
    """A day of the year without the year ("14 October", "14. Oktober")."""
    return format_skeleton("MMMMd", day, locale=LOCALES[language])


def percent(numerator: int, denominator: int, language: Language) -> str:
    """A whole percentage, rounded down so that 99.9 % never reads as 100 %."""
    whole = numerator * 100 // denominator if denominator else 0
    return format_percent(whole / 100, locale=LOCALES[language])


def _brussels_day(value: str) -> date:
    moment = datetime.fromisoformat(value)
    return moment.astimezone(BRUSSELS).date() if moment.tzinfo else moment.date()


def _flexi(template: NoticeTemplate, payload: Mapping[str, Any], language: Language) -> tuple[str, dict[str, str]]:
    threshold = int(payload["threshold"])
    total, limit = int(payload["total_cents"]), int(payload["limit_cents"])
    year = str(payload["year"])
    provisional = template.fragments["provisional"][language].format(year=year) if payload["provisional"] else ""
    forecast = ""
    if payload.get("forecast"):
        when = day_and_month(date.fromisoformat(str(payload["forecast"])), language)
        forecast = template.fragments["forecast"][language].format(forecast=when)
    return ("passed" if threshold >= 100 else "near"), {
        "year": year,
        "threshold": format_percent(threshold / 100, locale=LOCALES[language]),
        "percent": percent(total, limit, language),
        "total": money(total, language),
        "limit": money(limit, language),
        "as_of": long_date(date.fromisoformat(str(payload["as_of"])), language),
        "provisional": provisional,
        "forecast": forecast,
    }


def _mandate(template: NoticeTemplate, payload: Mapping[str, Any], language: Language) -> tuple[str, dict[str, str]]:
    side = str(payload["side"])
    if side not in template.variants:
        raise RenderError(f"unknown side {side!r}")
    return side, {"ends_on": long_date(_brussels_day(str(payload["ends_at"])), language)}


def _access_alert(
    template: NoticeTemplate, payload: Mapping[str, Any], language: Language
) -> tuple[str, dict[str, str]]:
    flag = str(payload["flag"])
    if flag not in template.fragments:
        raise RenderError(f"unknown flag {flag!r}")
    return "default", {
        "flag": template.fragments[flag][language],
        "occurred_on": long_date(_brussels_day(str(payload["occurred_at"])), language),
    }


def _contest(template: NoticeTemplate, payload: Mapping[str, Any], language: Language) -> tuple[str, dict[str, str]]:
    return "default", {"contest_id": str(UUID(str(payload["contest_id"])))}


def _report(template: NoticeTemplate, payload: Mapping[str, Any], language: Language) -> tuple[str, dict[str, str]]:
    return "default", {"report_id": str(UUID(str(payload["report_id"])))}


def _clock(moment: datetime, language: Language) -> str:
    """A Brussels time of day on the 24-hour clock, as the language writes it ("14:05")."""
    return format_skeleton("Hm", moment.astimezone(BRUSSELS), locale=LOCALES[language])


def _desk_session(
    template: NoticeTemplate, payload: Mapping[str, Any], language: Language
) -> tuple[str, dict[str, str]]:
    opened = datetime.fromisoformat(str(payload["opened_at"]))
    return "default", {
        "office": str(payload["office"]),
        "reason": str(payload["reason"]),
        "agent_ref": str(payload["agent_ref"]),
        "opened_on": long_date(_brussels_day(str(payload["opened_at"])), language),
        "opened_time": _clock(opened, language),
    }


def _desk_code(template: NoticeTemplate, payload: Mapping[str, Any], language: Language) -> tuple[str, dict[str, str]]:
    code = str(payload["code"])
    if len(code) != 6 or not is_ascii_digits(code):
        raise RenderError("a desk code has six digits")
    expires = datetime.fromisoformat(str(payload["expires_at"]))
    return "default", {
        "office": str(payload["office"]),
        "code": f"{code[:3]} {code[3:]}",
        "expires_on": long_date(_brussels_day(str(payload["expires_at"])), language),
        "expires_time": _clock(expires, language),
    }


_VALUES: Final[dict[str, Callable[[NoticeTemplate, Mapping[str, Any], Language], tuple[str, dict[str, str]]]]] = {
    "flexi_ceiling": _flexi,
    "flexi_pension_limit": _flexi,
    "mandate_expiring": _mandate,
    "access_alert": _access_alert,
    "contest_answered": _contest,
    "error_report_answered": _report,
    "desk_session_opened": _desk_session,
    "desk_mandate_code": _desk_code,
}


def render_notice(kind: str, payload: Mapping[str, Any], language: Language) -> Rendered:
    """The notice's subject, body and action in the language, from the template version in force."""
    try:
        template = current_template(kind)
        variant_name, values = _VALUES[kind](template, payload, language)
        variant = template.variants[variant_name]
        texts = variant.texts[language]
        return Rendered(
            kind=kind,
            template_version=template.version,
            language=language,
            subject=texts.subject.format_map(values),
            body=texts.body.format_map(values),
            action_url=template.action_path.format_map(values),
            action_label=texts.action,
            critical=variant.critical,
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise RenderError(f"cannot render a {kind!r} notice: {exc!r}") from exc


# Sample payloads per kind and variant, for the staff preview (made-up figures, no one's data).
SAMPLES: Final[dict[str, dict[str, dict[str, Any]]]] = {
    "flexi_ceiling": {
        "near": {
            "year": 2026,
            "threshold": 75,
            "total_cents": 1_377_000,
            "limit_cents": 1_800_000,
            "provisional": True,
            "as_of": "2026-09-10",
            "forecast": "2026-11-14",
        },
        "passed": {
            "year": 2025,
            "threshold": 100,
            "total_cents": 1_812_500,
            "limit_cents": 1_800_000,
            "provisional": False,
            "as_of": "2025-12-10",
            "forecast": None,
        },
    },
    "flexi_pension_limit": {
        "near": {
            "year": 2025,
            "threshold": 90,
            "total_cents": 720_000,
            "limit_cents": 787_600,
            "provisional": False,
            "as_of": "2025-10-10",
            "forecast": "2025-11-20",
        },
        "passed": {
            "year": 2026,
            "threshold": 100,
            "total_cents": 801_000,
            "limit_cents": 787_600,
            "provisional": True,
            "as_of": "2026-11-10",
            "forecast": None,
        },
    },
    "mandate_expiring": {
        "citizen": {
            "mandate_id": "00000000-0000-4000-8000-000000000001",
            "ends_at": "2026-12-08T10:00:00+00:00",
            "side": "citizen",
        },
        "mandatary": {
            "mandate_id": "00000000-0000-4000-8000-000000000001",
            "ends_at": "2026-12-08T10:00:00+00:00",
            "side": "mandatary",
        },
    },
    "access_alert": {"default": {"seq": 12, "flag": "first_institution", "occurred_at": "2026-11-20T14:05:00+00:00"}},
    "contest_answered": {"default": {"contest_id": "00000000-0000-4000-8000-000000000002"}},
    "error_report_answered": {"default": {"report_id": "00000000-0000-4000-8000-000000000003"}},
    "desk_session_opened": {
        "default": {
            "office": "Brussels help desk",
            "reason": "Help to read the flexi counter",
            "agent_ref": "STA-0123456789",
            "opened_at": "2026-11-20T09:15:00+00:00",
        }
    },
    "desk_mandate_code": {
        "default": {"office": "Brussels help desk", "code": "482913", "expires_at": "2026-11-20T09:45:00+00:00"}
    },
}


def sample_notices(language: Language) -> list[tuple[str, str, Rendered]]:
    """Every kind and variant rendered from its sample payload: (kind, variant, notice)."""
    return [
        (kind, variant, render_notice(kind, payload, language))
        for kind, variants in SAMPLES.items()
        for variant, payload in variants.items()
    ]
