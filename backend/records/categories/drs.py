"""DRS: a social-risk declaration, by which an employer tells the benefit institutions about unemployment,
sickness or maternity, or a work accident."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import msgspec

from backend.records.categories.base import Category, EnterpriseNumber, Recipient, Texts, check_period
from backend.records.categories.common_texts import ONSS_NAME, TEN_YEARS_AFTER_THE_YEAR

Scenario = Literal["unemployment", "sickness_maternity", "work_accident"]


class DrsPayload(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """Which social risk, declared by which employer, from when (and until when, once known)."""

    scenario: Scenario
    employer_kbo: EnterpriseNumber
    start: date
    end: date | None = None

    def __post_init__(self) -> None:
        """A risk cannot end before it starts."""
        check_period(self.start, self.end)


def _period(payload: Any) -> tuple[date | None, date | None]:
    return payload.start, payload.end


CATEGORY = Category(
    code="drs",
    version=1,
    schema=DrsPayload,
    # Employers declare through the ONSS portal; ONEM, INAMI (through the mutualities) and FEDRIS receive it.
    source="ONSS",
    source_name=ONSS_NAME,
    title=Texts(
        nl="Aangifte sociaal risico (ASR)",
        fr="Déclaration de risque social (DRS)",
        de="Meldung eines sozialen Risikos (DRS)",
        en="Social risk declaration (DRS)",
    ),
    legal_basis=Texts(
        nl="Wet van 24 februari 2003 betreffende de modernisering van het beheer van de sociale zekerheid en "
        "betreffende de elektronische communicatie tussen ondernemingen en de federale overheid",
        fr="Loi du 24 février 2003 concernant la modernisation de la gestion de la sécurité sociale et concernant "
        "la communication électronique entre des entreprises et l'autorité fédérale",
        de="Gesetz vom 24. Februar 2003 über die Modernisierung der Verwaltung der sozialen Sicherheit und über "
        "die elektronische Kommunikation zwischen Unternehmen und der Föderalbehörde",
        en="Law of 24 February 2003 on modernising the management of social security and on electronic "
        "communication between enterprises and the federal authority",
    ),
    recipients=(
        Recipient(institution="ONEM", purposes=("unemployment_benefit",)),
        Recipient(institution="INAMI", purposes=("incapacity_benefit",)),
    ),
    retention=TEN_YEARS_AFTER_THE_YEAR,
    explanation=Texts(
        nl="Wanneer u werkloos wordt, ziek valt, moederschapsrust neemt of een arbeidsongeval hebt, geeft uw "
        "werkgever de gegevens die nodig zijn voor uw uitkering elektronisch door: dat is de aangifte sociaal "
        "risico. Zo hoeft u geen papieren formulieren meer rond te dragen.",
        fr="Quand vous perdez votre emploi, tombez malade, prenez un repos de maternité ou avez un accident du "
        "travail, votre employeur transmet par voie électronique les données nécessaires à votre indemnisation : "
        "c'est la déclaration de risque social. Vous n'avez plus à porter de formulaires papier.",
        de="Wenn Sie arbeitslos werden, krank werden, Mutterschaftsurlaub nehmen oder einen Arbeitsunfall haben, "
        "übermittelt Ihr Arbeitgeber die für Ihre Leistungen nötigen Daten elektronisch: das ist die Meldung eines "
        "sozialen Risikos. So müssen Sie keine Papierformulare mehr überbringen.",
        en="When you become unemployed, fall ill, take maternity leave or have an accident at work, your employer "
        "sends the data needed for your benefit electronically: this is the social risk declaration. You no "
        "longer have to carry paper forms around.",
    ),
    period=_period,
    period_field="start",
)
