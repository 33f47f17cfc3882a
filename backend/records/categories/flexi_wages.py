"""Flexi wages: what an employer paid for flexi-job work in a month ("Flexi At Work" declaration, the pilot of
the salary-data transfer), the input of the flexi counter."""

from __future__ import annotations

import calendar
from datetime import date
from typing import Annotated, Any

import msgspec

from backend.records.categories.base import Category, Cents, EnterpriseNumber, Recipient, Texts
from backend.records.categories.common_texts import ONSS_NAME, TEN_YEARS_AFTER_THE_YEAR

EventId = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class FlexiWagesPayload(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """One employer's flexi wage for one month."""

    employer_kbo: EnterpriseNumber
    month: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]  # "2026-03"
    amount_cents: Cents
    # The declaration format names the event it corrects in its own data; it must agree with the envelope's
    # `corrects` attribute when both are given.
    corrects: EventId | None = None

    @property
    def income_year(self) -> int:
        """The income year the wage counts for."""
        return int(self.month[:4])

    @property
    def first_day(self) -> date:
        """The first day of the month."""
        return date(self.income_year, int(self.month[5:7]), 1)

    @property
    def last_day(self) -> date:
        """The last day of the month."""
        year, month = self.income_year, int(self.month[5:7])
        return date(year, month, calendar.monthrange(year, month)[1])


def _period(payload: Any) -> tuple[date | None, date | None]:
    return payload.first_day, payload.last_day


CATEGORY = Category(
    code="flexi_wages",
    version=1,
    schema=FlexiWagesPayload,
    source="ONSS",
    source_name=ONSS_NAME,
    title=Texts(nl="Flexi-lonen", fr="Flexi-salaires", de="Flexi-Löhne", en="Flexi-job wages"),
    legal_basis=Texts(
        nl="Wet van 16 november 2015 houdende diverse bepalingen inzake sociale zaken (flexi-jobs)",
        fr="Loi du 16 novembre 2015 portant des dispositions diverses en matière sociale (flexi-jobs)",
        de="Gesetz vom 16. November 2015 zur Festlegung verschiedener Bestimmungen im Sozialbereich (Flexi-Jobs)",
        en="Law of 16 November 2015 laying down various social provisions (flexi-jobs)",
    ),
    recipients=(
        Recipient(institution="ONSS", purposes=("contribution_collection",)),
        Recipient(institution="SPF_FINANCES", purposes=("flexi_income_tax",)),
    ),
    retention=TEN_YEARS_AFTER_THE_YEAR,
    explanation=Texts(
        nl="Elke maand meldt elke werkgever bij wie u een flexi-job hebt hoeveel flexiloon hij u betaalde. Samen "
        "vormen ze uw flexiteller. Boven het belastingvrije plafond wordt het meerdere belast als gewoon loon, en "
        "omdat geen enkele werkgever uw totaal kent, bent u de enige die het op tijd kan zien.",
        fr="Chaque mois, chaque employeur chez qui vous avez un flexi-job déclare le flexi-salaire qu'il vous a "
        "payé. Ensemble, ils forment votre compteur flexi. Au-delà du plafond exonéré, le surplus est imposé comme "
        "un salaire ordinaire, et comme aucun employeur ne connaît votre total, vous êtes le seul à pouvoir le "
        "voir à temps.",
        de="Jeden Monat meldet jeder Arbeitgeber, bei dem Sie einen Flexi-Job haben, wie viel Flexi-Lohn er Ihnen "
        "gezahlt hat. Zusammen ergeben sie Ihren Flexi-Zähler. Über der steuerfreien Obergrenze wird der "
        "Mehrbetrag wie gewöhnlicher Lohn besteuert, und da kein Arbeitgeber Ihre Summe kennt, können nur Sie sie "
        "rechtzeitig sehen.",
        en="Every month, each employer you have a flexi-job with declares the flexi wage it paid you. Together they "
        "make up your flexi counter. Above the tax-free ceiling the excess is taxed as ordinary pay, and since no "
        "employer knows your total, you are the only one who can see it in time.",
    ),
    period=_period,
    period_field="month",
)
