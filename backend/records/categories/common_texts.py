"""Texts several categories share: the institutions that are sources, and the usual retention rule."""

from __future__ import annotations

from typing import Final

from backend.records.categories.base import Texts

ONSS_NAME: Final = Texts(
    nl="Rijksdienst voor Sociale Zekerheid (RSZ)",
    fr="Office national de sécurité sociale (ONSS)",
    de="Landesamt für soziale Sicherheit (LSS)",
    en="National Social Security Office (ONSS)",
)

TEN_YEARS_AFTER_THE_YEAR: Final = Texts(
    nl="10 jaar na het einde van het jaar waarop de gegevens betrekking hebben",
    fr="10 ans après la fin de l'année à laquelle les données se rapportent",
    de="10 Jahre nach Ende des Jahres, auf das sich die Daten beziehen",
    en="10 years after the end of the year the data relate to",
)
