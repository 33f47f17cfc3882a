"""Identity: who the person is, as the National Register knows them (minimal in the demo)."""

from __future__ import annotations

from datetime import date
from typing import Literal

import msgspec

from backend.records.categories.base import Category, CountryCode, PostalCode, Recipient, ShortText, Texts


class Address(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """A main residence."""

    street: ShortText
    postal_code: PostalCode
    municipality: ShortText
    country: CountryCode = CountryCode("BE")


class IdentityPayload(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """Name, birth date, language and address."""

    given_name: ShortText
    family_name: ShortText
    birth_date: date
    language: Literal["nl", "fr", "de"]
    address: Address | None = None


CATEGORY = Category(
    code="identity",
    version=1,
    schema=IdentityPayload,
    # The National Register: no demo institution has this code, so identity is not ingested in the demo.
    source="RN",
    source_name=Texts(nl="Rijksregister", fr="Registre national", de="Nationalregister", en="National Register"),
    title=Texts(nl="Identiteit", fr="Identité", de="Identität", en="Identity"),
    legal_basis=Texts(
        nl="Wet van 8 augustus 1983 tot regeling van een Rijksregister van de natuurlijke personen",
        fr="Loi du 8 août 1983 organisant un registre national des personnes physiques",
        de="Gesetz vom 8. August 1983 zur Organisation eines Nationalregisters der natürlichen Personen",
        en="Law of 8 August 1983 organising a National Register of natural persons",
    ),
    recipients=(
        Recipient(institution="ONEM", purposes=("unemployment_benefit",)),
        Recipient(institution="INAMI", purposes=("incapacity_benefit",)),
        Recipient(institution="SFP", purposes=("pension_calculation",)),
    ),
    retention=Texts(
        nl="Zolang u in het Rijksregister bent ingeschreven",
        fr="Aussi longtemps que vous êtes inscrit au Registre national",
        de="Solange Sie im Nationalregister eingetragen sind",
        en="As long as you are registered in the National Register",
    ),
    explanation=Texts(
        nl="Uw naam, geboortedatum, taal en adres zoals het Rijksregister ze kent. De instellingen gebruiken ze "
        "om zeker te zijn dat de gegevens over u echt over u gaan. Klopt er iets niet, dan past uw gemeente het "
        "aan in het Rijksregister.",
        fr="Votre nom, votre date de naissance, votre langue et votre adresse tels que le Registre national les "
        "connaît. Les institutions les utilisent pour être sûres que les données vous concernent bien. Si "
        "quelque chose est inexact, c'est votre commune qui le corrige au Registre national.",
        de="Ihr Name, Ihr Geburtsdatum, Ihre Sprache und Ihre Adresse, wie das Nationalregister sie kennt. Die "
        "Einrichtungen nutzen sie, um sicher zu sein, dass die Daten wirklich Sie betreffen. Stimmt etwas nicht, "
        "berichtigt Ihre Gemeinde es im Nationalregister.",
        en="Your name, date of birth, language and address as the National Register knows them. Institutions use "
        "them to be sure that the data really are about you. If something is wrong, your municipality corrects "
        "it in the National Register.",
    ),
)
