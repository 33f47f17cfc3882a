"""A1: a worker posted from Belgium to another country stays insured in Belgium (posting abroad)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any, Final

import msgspec

from backend.records.categories.base import Category, CountryCode, EnterpriseNumber, Recipient, Texts
from backend.records.categories.common_texts import ONSS_NAME
from backend.records.categories.countries import EEA_AND_SWITZERLAND

# Regulation (EC) No 883/2004, art. 12: a posting within the EEA or to Switzerland lasts at most 24 months.
MAX_EEA_POSTING_MONTHS: Final = 24


def last_day_of_posting(start: date, months: int) -> date:
    """The last day a posting of `months` months that starts on `start` may last."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day) - timedelta(days=1)


class A1Payload(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """A posting abroad: where to, when, and for which Belgian employer."""

    destination_country: CountryCode
    start: date
    end: date
    employer_kbo: EnterpriseNumber

    def __post_init__(self) -> None:
        """The period is in order, abroad, and within the EEA/Swiss maximum."""
        if self.end < self.start:
            raise ValueError("`end` must not be before `start`")
        if self.destination_country == "BE":
            raise ValueError("`destination_country` must be another country than Belgium")
        if self.destination_country in EEA_AND_SWITZERLAND and self.end > last_day_of_posting(
            self.start, MAX_EEA_POSTING_MONTHS
        ):
            raise ValueError(
                f"`end`: a posting within the EEA or to Switzerland lasts at most {MAX_EEA_POSTING_MONTHS} months"
            )


def _period(payload: Any) -> tuple[date | None, date | None]:
    return payload.start, payload.end


CATEGORY = Category(
    code="a1",
    version=1,
    schema=A1Payload,
    source="ONSS",
    source_name=ONSS_NAME,
    title=Texts(
        nl="Detachering naar het buitenland (A1)",
        fr="Détachement à l'étranger (A1)",
        de="Entsendung ins Ausland (A1)",
        en="Posting abroad (A1)",
    ),
    legal_basis=Texts(
        nl="Verordening (EG) nr. 883/2004, artikel 12, en Verordening (EG) nr. 987/2009, artikelen 15 en 19",
        fr="Règlement (CE) n° 883/2004, article 12, et règlement (CE) n° 987/2009, articles 15 et 19",
        de="Verordnung (EG) Nr. 883/2004, Artikel 12, und Verordnung (EG) Nr. 987/2009, Artikel 15 und 19",
        en="Regulation (EC) No 883/2004, article 12, and Regulation (EC) No 987/2009, articles 15 and 19",
    ),
    recipients=(Recipient(institution="ONSS", purposes=("contribution_collection",)),),
    retention=Texts(
        nl="5 jaar na het einde van de detachering",
        fr="5 ans après la fin du détachement",
        de="5 Jahre nach Ende der Entsendung",
        en="5 years after the end of the posting",
    ),
    explanation=Texts(
        nl="Als uw Belgische werkgever u tijdelijk naar het buitenland stuurt, blijft u in België verzekerd. Het "
        "A1-document bewijst dat aan het andere land. Binnen de Europese Economische Ruimte en naar Zwitserland "
        "duurt zo'n detachering hoogstens 24 maanden.",
        fr="Si votre employeur belge vous envoie temporairement à l'étranger, vous restez assuré en Belgique. Le "
        "document A1 le prouve à l'autre pays. Au sein de l'Espace économique européen et vers la Suisse, un tel "
        "détachement dure au plus 24 mois.",
        de="Wenn Ihr belgischer Arbeitgeber Sie vorübergehend ins Ausland schickt, bleiben Sie in Belgien "
        "versichert. Das A1-Dokument weist dies dem anderen Land nach. Innerhalb des Europäischen "
        "Wirtschaftsraums und in die Schweiz dauert eine solche Entsendung höchstens 24 Monate.",
        en="If your Belgian employer sends you abroad for a while, you stay insured in Belgium. The A1 document "
        "proves this to the other country. Within the European Economic Area and to Switzerland, such a posting "
        "lasts at most 24 months.",
    ),
    period=_period,
    period_field="start",
)
