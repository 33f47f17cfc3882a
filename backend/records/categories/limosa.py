"""Limosa: the prior declaration of a worker posted to Belgium by a foreign employer."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec

from backend.records.categories.base import (
    Category,
    CountryCode,
    EnterpriseNumber,
    PostalCode,
    Recipient,
    ShortText,
    Texts,
)
from backend.records.categories.common_texts import ONSS_NAME


class Workplace(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """Where in Belgium the posted work is done."""

    name: ShortText | None = None
    street: ShortText
    postal_code: PostalCode
    municipality: ShortText


class LimosaPayload(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """A posting to Belgium: the foreign employer, the Belgian user, the period, the workplace and the receipt."""

    foreign_employer_name: ShortText
    foreign_employer_country: CountryCode
    belgian_user_kbo: EnterpriseNumber
    start: date
    end: date
    workplace: Workplace
    sector: ShortText
    # The L-1 receipt the employer gets from the declaration and must be able to show on site.
    l1_receipt_number: Annotated[str, msgspec.Meta(pattern=r"^[A-Z0-9][A-Z0-9/-]{3,39}$")]

    def __post_init__(self) -> None:
        """A posting ends after it starts, and comes from abroad."""
        if self.end < self.start:
            raise ValueError("`end` must not be before `start`")
        if self.foreign_employer_country == "BE":
            raise ValueError("`foreign_employer_country` cannot be Belgium for a posting to Belgium")


def _period(payload: Any) -> tuple[date | None, date | None]:
    return payload.start, payload.end


CATEGORY = Category(
    code="limosa",
    version=1,
    schema=LimosaPayload,
    source="ONSS",
    source_name=ONSS_NAME,
    title=Texts(
        nl="Limosa (detachering naar België)",
        fr="Limosa (détachement en Belgique)",
        de="Limosa (Entsendung nach Belgien)",
        en="Limosa (posted to Belgium)",
    ),
    legal_basis=Texts(
        nl="Programmawet (I) van 27 december 2006, titel IV, hoofdstuk 8 (voorafgaande melding voor "
        "gedetacheerde werknemers en zelfstandigen)",
        fr="Loi-programme (I) du 27 décembre 2006, titre IV, chapitre 8 (déclaration préalable pour les "
        "travailleurs salariés et indépendants détachés)",
        de="Programmgesetz (I) vom 27. Dezember 2006, Titel IV, Kapitel 8 (vorherige Meldung für entsandte "
        "Arbeitnehmer und Selbständige)",
        en="Programme Law (I) of 27 December 2006, title IV, chapter 8 (prior declaration for posted employees "
        "and self-employed workers)",
    ),
    recipients=(Recipient(institution="ONSS", purposes=("contribution_collection",)),),
    retention=Texts(
        nl="5 jaar na het einde van de detachering",
        fr="5 ans après la fin du détachement",
        de="5 Jahre nach Ende der Entsendung",
        en="5 years after the end of the posting",
    ),
    explanation=Texts(
        nl="Een buitenlandse werkgever die u in België laat werken, moet dat vooraf melden: dat is de "
        "Limosa-melding. Ze zegt wie u stuurt, voor wie u in België werkt, waar en hoelang. Het L1-bewijs is de "
        "ontvangstbevestiging die uw werkgever op de werkplek moet kunnen tonen.",
        fr="Un employeur étranger qui vous fait travailler en Belgique doit le déclarer à l'avance : c'est la "
        "déclaration Limosa. Elle indique qui vous envoie, pour qui vous travaillez en Belgique, où et combien de "
        "temps. Le L1 est l'accusé de réception que votre employeur doit pouvoir montrer sur le lieu de travail.",
        de="Ein ausländischer Arbeitgeber, der Sie in Belgien arbeiten lässt, muss dies vorher melden: das ist die "
        "Limosa-Meldung. Sie gibt an, wer Sie entsendet, für wen Sie in Belgien arbeiten, wo und wie lange. Die "
        "L1-Bescheinigung ist die Empfangsbestätigung, die Ihr Arbeitgeber am Arbeitsort vorzeigen können muss.",
        en="A foreign employer who has you work in Belgium must declare it beforehand: this is the Limosa "
        "declaration. It says who sends you, whom you work for in Belgium, where and for how long. The L1 is the "
        "receipt your employer must be able to show at the workplace.",
    ),
    period=_period,
    period_field="start",
)
