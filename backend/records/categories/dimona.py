"""Dimona: the immediate declaration of employment, by which an employer reports that someone starts (and
stops) working for it."""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, Any, Literal

import msgspec

from backend.records.categories.base import (
    Category,
    EnterpriseNumber,
    Hundredths,
    JointCommittee,
    Recipient,
    Texts,
    check_period,
)
from backend.records.categories.common_texts import ONSS_NAME, TEN_YEARS_AFTER_THE_YEAR

# The worker types of the ONSS Dimona schemas (DOMAIN.md). Confirmed meanings: FLX flexi-job, STU student,
# EXT occasional worker, DWD declared without DmfA, A17 article-17 worker, BCW construction worker, IVT training
# contract, TRI entry internship, STG non-subject trainee, OTH ordinary worker; the others are unconfirmed.
WorkerType = Literal[
    "A17", "BCW", "DWD", "EXT", "FLX", "IVT", "O17", "PMP", "QUA", "RTA", "S17", "STU", "T17", "TEA", "TRI", "STG",
    "OTH",
]  # fmt: skip


class DimonaPayload(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """One employment relation: employer, kind of worker, period, joint committee and planned work."""

    employer_kbo: EnterpriseNumber
    worker_type: WorkerType
    start: date
    end: date | None = None
    # Hours are declared for day-by-day work (flexi-jobs, students, occasional workers).
    start_time: time | None = None
    end_time: time | None = None
    joint_committee: JointCommittee | None = None
    planned_days: Annotated[int, msgspec.Meta(ge=0, le=366)] | None = None
    planned_hours: Hundredths | None = None  # hundredths of an hour (3800 = 38 h)

    def __post_init__(self) -> None:
        """An employment cannot end before it starts."""
        check_period(self.start, self.end)


def _period(payload: Any) -> tuple[date | None, date | None]:
    return payload.start, payload.end


CATEGORY = Category(
    code="dimona",
    version=1,
    schema=DimonaPayload,
    source="ONSS",
    source_name=ONSS_NAME,
    title=Texts(
        nl="Dimona (begin en einde van tewerkstelling)",
        fr="Dimona (début et fin d'occupation)",
        de="Dimona (Beginn und Ende der Beschäftigung)",
        en="Dimona (start and end of employment)",
    ),
    legal_basis=Texts(
        nl="Koninklijk besluit van 5 november 2002 tot invoering van een onmiddellijke aangifte van tewerkstelling, "
        "met toepassing van artikel 38 van de wet van 26 juli 1996 tot modernisering van de sociale zekerheid",
        fr="Arrêté royal du 5 novembre 2002 instaurant une déclaration immédiate de l'emploi, en application de "
        "l'article 38 de la loi du 26 juillet 1996 portant modernisation de la sécurité sociale",
        de="Königlicher Erlass vom 5. November 2002 zur Einführung einer sofortigen Beschäftigungsmeldung, in "
        "Anwendung von Artikel 38 des Gesetzes vom 26. Juli 1996 zur Modernisierung der sozialen Sicherheit",
        en="Royal Decree of 5 November 2002 introducing an immediate declaration of employment, under article 38 "
        "of the Law of 26 July 1996 modernising social security",
    ),
    recipients=(
        Recipient(institution="ONSS", purposes=("contribution_collection",)),
        Recipient(institution="ONEM", purposes=("unemployment_benefit",)),
        Recipient(institution="SFP", purposes=("pension_calculation",)),
    ),
    retention=TEN_YEARS_AFTER_THE_YEAR,
    explanation=Texts(
        nl="Wanneer een werkgever iemand laat werken, meldt hij dat vóór het werk begint aan de RSZ: dat is de "
        "Dimona-aangifte. Ze zegt voor wie u werkt, van wanneer tot wanneer, en als welk soort werknemer "
        "(bijvoorbeeld als student of in een flexi-job). Instellingen gebruiken ze om uw rechten na te gaan, "
        "zoals een werkloosheidsuitkering of uw pensioen.",
        fr="Quand un employeur fait travailler quelqu'un, il le déclare à l'ONSS avant le début du travail : c'est "
        "la déclaration Dimona. Elle indique pour qui vous travaillez, de quand à quand, et comme quel type de "
        "travailleur (par exemple comme étudiant ou en flexi-job). Les institutions l'utilisent pour vérifier vos "
        "droits, comme les allocations de chômage ou votre pension.",
        de="Wenn ein Arbeitgeber jemanden arbeiten lässt, meldet er dies vor Arbeitsbeginn dem LSS: das ist die "
        "Dimona-Meldung. Sie gibt an, für wen Sie arbeiten, von wann bis wann und als welche Art von Arbeitnehmer "
        "(zum Beispiel als Student oder im Flexi-Job). Die Einrichtungen nutzen sie, um Ihre Rechte zu prüfen, "
        "etwa auf Arbeitslosengeld oder Ihre Pension.",
        en="When an employer has someone work for it, it tells the ONSS before the work starts: this is the Dimona "
        "declaration. It says whom you work for, from when until when, and as what kind of worker (for example as "
        "a student or in a flexi-job). Institutions use it to check your rights, such as unemployment benefit or "
        "your pension.",
    ),
    period=_period,
    period_field="start",
)
