"""Mandates in words for the pages: states, accesses, durations and moments in Belgian time, for either side.

Templates receive these finished views; nothing here touches the database.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Final, Literal

import msgspec
from babel.dates import format_date, format_time

from backend.access_log.views import BRUSSELS, babel_locale
from backend.core.i18n import N_, _, current_language, gettext
from consent.ending import ALL_THEMES_ENDED
from consent.schemas import MandateOut, Side

Viewer = Literal["citizen", "mandatary", "organisation"]

STATE_LABELS: Final[dict[str, str]] = {
    "pending": N_("Waiting for an answer"),
    "active": N_("Active"),
    "declined": N_("Declined"),
    "revoked": N_("Ended"),
    "expired": N_("Expired"),
}
ACCESS_LABELS: Final[dict[str, str]] = {"read": N_("See"), "act": N_("See and act")}
DURATION_LABELS: Final[dict[str, str]] = {
    "1_day": N_("1 day"),
    "1_month": N_("1 month"),
    "6_months": N_("6 months"),
    "1_year": N_("1 year"),
    "until_date": N_("Until a date you choose (at most 3 years)"),
}
DURATIONS: Final[tuple[str, ...]] = tuple(DURATION_LABELS)


class ThemeView(msgspec.Struct, frozen=True, kw_only=True):
    """A theme of a mandate in words."""

    code: str
    name: str
    access: str
    access_label: str
    high_risk: bool
    active: bool
    ended_on: str | None


class MandateView(msgspec.Struct, frozen=True, kw_only=True):
    """A mandate as a page shows it to one of its sides."""

    mandate: MandateOut
    state_label: str
    themes: list[ThemeView]
    active_themes: int
    duration_label: str
    offered_on: str
    offer_expires: str
    starts: str | None
    ends: str | None
    ended_on: str | None
    ended_by: str | None
    end_reason: str | None

    @property
    def open(self) -> bool:
        """Pending or active: it can still be ended."""
        return self.mandate.state in ("pending", "active")


def moment(value: datetime | None) -> str | None:
    """A moment in Belgian time to the minute, e.g. "12 May 2026, 10:00"."""
    if value is None:
        return None
    local = value.astimezone(BRUSSELS)
    locale = babel_locale(current_language())
    return f"{format_date(local, format='long', locale=locale)}, {format_time(local, format='short', locale=locale)}"


def day(value: date | None) -> str | None:
    """A date written out, e.g. "12 May 2026"."""
    return None if value is None else format_date(value, format="long", locale=babel_locale(current_language()))


def _ended_by(mandate: MandateOut, viewer: Viewer) -> str | None:
    side: Side | None = mandate.ended_by
    if mandate.state == "expired":
        return _("Its end date passed")
    if side is None:
        return None
    if side == "citizen":
        return _("You") if viewer == "citizen" else mandate.citizen.name
    return _("You") if viewer == "mandatary" else mandate.mandatary.name


def mandate_view(mandate: MandateOut, viewer: Viewer) -> MandateView:
    """A mandate in words, in the current language, for the citizen, the helper or the organisation."""
    reason = mandate.end_reason
    return MandateView(
        mandate=mandate,
        state_label=gettext(STATE_LABELS[mandate.state]),
        themes=[
            ThemeView(
                code=theme.code,
                name=theme.name,
                access=theme.access,
                access_label=gettext(ACCESS_LABELS[theme.access]),
                high_risk=theme.high_risk,
                active=theme.active,
                ended_on=moment(theme.revoked_at),
            )
            for theme in mandate.themes
        ],
        active_themes=sum(1 for theme in mandate.themes if theme.active),
        duration_label=(
            _("Until %(day)s") % {"day": day(mandate.until)}
            if mandate.until is not None
            else gettext(DURATION_LABELS[mandate.duration])
        ),
        offered_on=moment(mandate.created_at) or "",
        offer_expires=moment(mandate.invitation_expires_at) or "",
        starts=moment(mandate.starts_at),
        ends=moment(mandate.ends_at),
        ended_on=moment(mandate.ended_at),
        ended_by=_ended_by(mandate, viewer),
        # Stored in English by the service when the last theme's end ended the mandate.
        end_reason=_("All its themes were ended") if reason == ALL_THEMES_ENDED else reason,
    )


def grouped(views: list[MandateView]) -> dict[str, list[MandateView]]:
    """Active, pending and ended mandates, each newest first."""
    groups: dict[str, list[MandateView]] = {"active": [], "pending": [], "ended": []}
    for view in views:
        state = view.mandate.state
        groups[state if state in ("active", "pending") else "ended"].append(view)
    return groups
