"""DmfA: the employer's quarterly declaration of wages and working time, per worker and occupation."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec

from backend.records.categories.base import (
    Category,
    Cents,
    EnterpriseNumber,
    Hundredths,
    JointCommittee,
    Recipient,
    Texts,
    check_period,
)
from backend.records.categories.common_texts import ONSS_NAME, TEN_YEARS_AFTER_THE_YEAR

_Code = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{3}$")]


class Service(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """Time worked or assimilated, under a DmfA service code."""

    code: _Code
    days: Hundredths  # hundredths of a day
    hours: Hundredths  # hundredths of an hour


class Remuneration(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """A wage amount under a DmfA remuneration code."""

    code: _Code
    amount_cents: Cents


class Occupation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """One occupation in the quarter: joint committee, working time, and what was worked and paid."""

    start: date
    end: date | None = None
    joint_committee: JointCommittee
    # Days per week of the working-time system, in hundredths (500 = five days a week).
    working_days_system: Annotated[int, msgspec.Meta(ge=0, le=700)]
    # Weekly hours of the worker and of a full-time reference person; part-time fraction = mean / reference.
    mean_hours: Hundredths
    reference_hours: Annotated[int, msgspec.Meta(gt=0, le=10_000)]
    services: Annotated[list[Service], msgspec.Meta(max_length=50)] = []
    remunerations: Annotated[list[Remuneration], msgspec.Meta(max_length=50)] = []

    def __post_init__(self) -> None:
        """An occupation cannot end before it starts."""
        check_period(self.start, self.end)


class DmfaPayload(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """One worker's lines in an employer's declaration for a quarter."""

    quarter: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{4}-[1-4]$")]  # "2026-1"
    employer_kbo: EnterpriseNumber
    worker_code: _Code
    occupations: Annotated[list[Occupation], msgspec.Meta(min_length=1, max_length=20)]

    @property
    def first_day(self) -> date:
        """The first day of the quarter."""
        year, number = self.quarter.split("-")
        return date(int(year), 3 * int(number) - 2, 1)

    @property
    def last_day(self) -> date:
        """The last day of the quarter."""
        start = self.first_day
        following = date(start.year + 1, 1, 1) if start.month == 10 else date(start.year, start.month + 3, 1)
        return date.fromordinal(following.toordinal() - 1)


def _period(payload: Any) -> tuple[date | None, date | None]:
    return payload.first_day, payload.last_day


CATEGORY = Category(
    code="dmfa",
    version=1,
    schema=DmfaPayload,
    source="ONSS",
    source_name=ONSS_NAME,
    title=Texts(
        nl="DmfA (lonen en arbeidstijd per kwartaal)",
        fr="DmfA (salaires et temps de travail par trimestre)",
        de="DmfA (Löhne und Arbeitszeit pro Quartal)",
        en="DmfA (quarterly wages and working time)",
    ),
    legal_basis=Texts(
        nl="Wet van 27 juni 1969 tot herziening van de besluitwet van 28 december 1944 betreffende de "
        "maatschappelijke zekerheid der arbeiders, en koninklijk besluit van 28 november 1969 tot uitvoering ervan",
        fr="Loi du 27 juin 1969 révisant l'arrêté-loi du 28 décembre 1944 concernant la sécurité sociale des "
        "travailleurs, et arrêté royal du 28 novembre 1969 pris en exécution de cette loi",
        de="Gesetz vom 27. Juni 1969 zur Revision des Gesetzeserlasses vom 28. Dezember 1944 über die soziale "
        "Sicherheit der Arbeitnehmer, und Königlicher Erlass vom 28. November 1969 zu seiner Ausführung",
        en="Law of 27 June 1969 revising the Decree-Law of 28 December 1944 on workers' social security, and the "
        "Royal Decree of 28 November 1969 implementing it",
    ),
    recipients=(
        Recipient(institution="ONSS", purposes=("contribution_collection",)),
        Recipient(institution="ONEM", purposes=("unemployment_benefit",)),
        Recipient(institution="INAMI", purposes=("incapacity_benefit",)),
        Recipient(institution="SFP", purposes=("pension_calculation",)),
    ),
    retention=TEN_YEARS_AFTER_THE_YEAR,
    explanation=Texts(
        nl="Elk kwartaal geeft uw werkgever aan de RSZ door hoeveel u hebt gewerkt en hoeveel u hebt verdiend: "
        "dat is de DmfA. Uw pensioen, uw vakantiegeld en uitkeringen bij ziekte of werkloosheid worden op deze "
        "gegevens berekend.",
        fr="Chaque trimestre, votre employeur communique à l'ONSS combien vous avez travaillé et combien vous avez "
        "gagné : c'est la DmfA. Votre pension, votre pécule de vacances et vos indemnités en cas de maladie ou de "
        "chômage sont calculés sur ces données.",
        de="Jedes Quartal teilt Ihr Arbeitgeber dem LSS mit, wie viel Sie gearbeitet und wie viel Sie verdient "
        "haben: das ist die DmfA. Ihre Pension, Ihr Urlaubsgeld und Ihre Leistungen bei Krankheit oder "
        "Arbeitslosigkeit werden auf der Grundlage dieser Daten berechnet.",
        en="Every quarter your employer tells the ONSS how much you worked and how much you earned: this is the "
        "DmfA. Your pension, your holiday pay and your benefits when you are ill or unemployed are calculated "
        "from these data.",
    ),
    period=_period,
    period_field="quarter",
)
