"""Demo people, organisations and staff for `make run` (never loaded in production).

Names are realistic Belgian names; national and enterprise numbers have valid check digits but are made up
for the demo (they are not the institutions' real KBO numbers). Seeding is idempotent: a second run adds
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import asyncpg

from backend.core.i18n import N_
from backend.core.identifiers import kbo_check_digits, make_insz
from backend.core.identity import queries, service
from backend.core.identity.purposes import Purpose, upsert_purpose
from backend.core.identity.schemas import OrganisationCreate, OrganisationKind, PersonCreate, StaffRole


def demo_kbo(first8: str) -> str:
    """A ten-digit enterprise number with valid check digits."""
    return f"{first8}{kbo_check_digits(first8):02d}"


@dataclass(frozen=True)
class DemoOrganisation:
    """An organisation of the demo."""

    key: str
    kbo: str
    kind: OrganisationKind
    name_nl: str
    name_fr: str
    name_de: str
    code: str | None = None


@dataclass(frozen=True)
class DemoPersona:
    """Someone to sign in as, and what they show."""

    key: str
    insz: str
    given_name: str
    family_name: str
    birth_date: date
    language: Literal["nl", "fr", "de", "en"]
    summary: str  # English; translated on the demo sign-in page
    email: str | None = None
    memberships: tuple[tuple[str, Literal["access_manager", "agent"]], ...] = ()
    staff_office: str | None = None
    staff_roles: tuple[StaffRole, ...] = field(default_factory=tuple)
    # The organisation (its key) a member of staff works for; None: Vitrine itself.
    staff_org: str | None = None


INSTITUTIONS: tuple[DemoOrganisation, ...] = (
    DemoOrganisation(
        "onss",
        demo_kbo("02067316"),
        "institution",
        "Rijksdienst voor Sociale Zekerheid",
        "Office national de sécurité sociale",
        "Landesamt für soziale Sicherheit",
        "ONSS",
    ),
    DemoOrganisation(
        "onem",
        demo_kbo("02066960"),
        "institution",
        "Rijksdienst voor Arbeidsvoorziening",
        "Office national de l'emploi",
        "Landesamt für Arbeitsbeschaffung",
        "ONEM",
    ),
    DemoOrganisation(
        "capac",
        demo_kbo("02067185"),
        "institution",
        "Hulpkas voor Werkloosheidsuitkeringen",
        "Caisse auxiliaire de paiement des allocations de chômage",
        "Hilfskasse für die Zahlung der Arbeitslosenunterstützung",
        "CAPAC",
    ),
    DemoOrganisation(
        "inami",
        demo_kbo("02066535"),
        "institution",
        "Rijksinstituut voor ziekte- en invaliditeitsverzekering",
        "Institut national d'assurance maladie-invalidité",
        "Landesinstitut für Kranken- und Invalidenversicherung",
        "INAMI",
    ),
    DemoOrganisation(
        "caami",
        demo_kbo("02067354"),
        "institution",
        "Hulpkas voor Ziekte- en Invaliditeitsverzekering",
        "Caisse auxiliaire d'assurance maladie-invalidité",
        "Hilfskasse für Kranken- und Invalidenversicherung",
        "CAAMI",
    ),
    DemoOrganisation(
        "sfp",
        demo_kbo("08675931"),
        "institution",
        "Federale Pensioendienst",
        "Service fédéral des Pensions",
        "Föderaler Pensionsdienst",
        "SFP",
    ),
    DemoOrganisation(
        "fedris",
        demo_kbo("02066984"),
        "institution",
        "Federaal agentschap voor beroepsrisico's",
        "Agence fédérale des risques professionnels",
        "Föderalagentur für Berufsrisiken",
        "FEDRIS",
    ),
    DemoOrganisation(
        "onva",
        demo_kbo("02067398"),
        "institution",
        "Rijksdienst voor Jaarlijkse Vakantie",
        "Office national des vacances annuelles",
        "Landesamt für den Jahresurlaub",
        "ONVA",
    ),
    DemoOrganisation(
        "inasti",
        demo_kbo("02066633"),
        "institution",
        "Rijksinstituut voor de Sociale Verzekeringen der Zelfstandigen",
        "Institut national d'assurances sociales pour travailleurs indépendants",
        "Landesinstitut der Sozialversicherungen für Selbständige",
        "INASTI",
    ),
    DemoOrganisation(
        "bcss",
        demo_kbo("02677178"),
        "institution",
        "Kruispuntbank van de Sociale Zekerheid",
        "Banque Carrefour de la sécurité sociale",
        "Zentrale Datenbank der sozialen Sicherheit",
        "BCSS",
    ),
    DemoOrganisation(
        "spf_finances",
        demo_kbo("03085572"),
        "institution",
        "FOD Financiën",
        "SPF Finances",
        "FÖD Finanzen",
        "SPF_FINANCES",
    ),
    DemoOrganisation(
        "famiwal",
        demo_kbo("06993121"),
        "institution",
        "FAMIWAL (Waalse kinderbijslag)",
        "FAMIWAL",
        "FAMIWAL",
        "FAMIWAL",
    ),
)

ORGANISATIONS: tuple[DemoOrganisation, ...] = (
    DemoOrganisation("cpas_liege", demo_kbo("02074960"), "cpas", "OCMW Luik", "CPAS de Liège", "ÖSHZ Lüttich"),
    DemoOrganisation(
        "union",
        demo_kbo("04098211"),
        "union",
        "Algemene Vakbond Vlaanderen (demo)",
        "Syndicat général de Wallonie (démo)",
        "Allgemeine Gewerkschaft (Demo)",
    ),
    DemoOrganisation(
        "secretariat",
        demo_kbo("04221937"),
        "social_secretariat",
        "Sociaal Secretariaat Noord",
        "Secrétariat social Nord",
        "Sozialsekretariat Nord",
    ),
)

PERSONAS: tuple[DemoPersona, ...] = (
    DemoPersona(
        "sofie",
        make_insz(date(1991, 4, 12), 124),
        "Sofie",
        "Peeters",
        date(1991, 4, 12),
        "nl",
        N_("Citizen with two flexi jobs, close to this year's tax-free ceiling"),
        "sofie.peeters@example.be",
    ),
    DemoPersona(
        "jean",
        make_insz(date(1957, 9, 3), 37),
        "Jean",
        "Dubois",
        date(1957, 9, 3),
        "fr",
        N_("Pensioner with a flexi job (no ceiling applies)"),
        "jean.dubois@example.be",
    ),
    DemoPersona(
        "lena",
        make_insz(date(2005, 2, 21), 88),
        "Lena",
        "Schmitz",
        date(2005, 2, 21),
        "de",
        N_("Student working under a student contract"),
        "lena.schmitz@example.be",
    ),
    DemoPersona(
        "tomasz",
        make_insz(date(1986, 11, 5), 51, bis="known_sex"),
        "Tomasz",
        "Kowalski",
        date(1986, 11, 5),
        "en",
        N_("Worker posted to Belgium by a Polish employer (BIS number)"),
        "tomasz.kowalski@example.pl",
    ),
    DemoPersona(
        "pieter",
        make_insz(date(1979, 6, 30), 215),
        "Pieter",
        "Janssens",
        date(1979, 6, 30),
        "nl",
        N_("Family helper: helps his mother with her social-security questions"),
        "pieter.janssens@example.be",
    ),
    DemoPersona(
        "nathalie",
        make_insz(date(1983, 1, 17), 302),
        "Nathalie",
        "Lambert",
        date(1983, 1, 17),
        "fr",
        N_("Social worker (agent) at the CPAS of Liège"),
        "n.lambert@cpas-liege.example.be",
        memberships=(("cpas_liege", "agent"),),
    ),
    DemoPersona(
        "isabelle",
        make_insz(date(1975, 3, 8), 146),
        "Isabelle",
        "Renard",
        date(1975, 3, 8),
        "fr",
        N_("Access manager of the CPAS of Liège: assigns agents to clients"),
        "i.renard@cpas-liege.example.be",
        memberships=(("cpas_liege", "access_manager"),),
    ),
    DemoPersona(
        "koen",
        make_insz(date(1970, 12, 1), 77),
        "Koen",
        "De Smet",
        date(1970, 12, 1),
        "nl",
        N_("Union agent helping members with unemployment files"),
        "koen.desmet@vakbond.example.be",
        memberships=(("union", "agent"),),
    ),
    DemoPersona(
        "amira",
        make_insz(date(1988, 8, 14), 410),
        "Amira",
        "El Amrani",
        date(1988, 8, 14),
        "fr",
        N_("Desk agent helping people with low digital skills"),
        "a.elamrani@vitrine.example.be",
        staff_office="Brussels help desk",
        staff_roles=("support",),
    ),
    DemoPersona(
        "marc",
        make_insz(date(1968, 5, 22), 93),
        "Marc",
        "Willems",
        date(1968, 5, 22),
        "nl",
        N_("Data-protection reviewer handling contested accesses"),
        "m.willems@vitrine.example.be",
        staff_office="Data protection office",
        staff_roles=("reviewer",),
    ),
    DemoPersona(
        "lieve",
        make_insz(date(1977, 10, 9), 188),
        "Lieve",
        "Claes",
        date(1977, 10, 9),
        "nl",
        N_("Reviewer at ONEM answering questions about ONEM's own accesses"),
        "l.claes@onem.example.be",
        staff_office="ONEM data protection",
        staff_roles=("reviewer",),
        staff_org="onem",
    ),
)


_CBSS_LAW = (
    "Wet van 15 januari 1990 houdende oprichting en organisatie van een Kruispuntbank van de sociale zekerheid, art. 14",
    "Loi du 15 janvier 1990 relative à l'institution et à l'organisation d'une Banque-carrefour de la sécurité "
    "sociale, art. 14",
    "Gesetz vom 15. Januar 1990 über die Errichtung und Organisation einer Zentralen Datenbank der sozialen "
    "Sicherheit, Art. 14",
    "Law of 15 January 1990 on the Crossroads Bank for Social Security, art. 14",
)

# (institution key, purpose code, categories, extra legal text in nl/fr/de/en, authorisation reference).
# The authorisation references are demo values in the format of the information security committee.
PURPOSES: tuple[tuple[str, str, tuple[str, ...], tuple[str, str, str, str], str], ...] = (
    (
        "onem",
        "unemployment_benefit",
        ("dimona", "dmfa", "drs"),
        (
            "Koninklijk besluit van 25 november 1991 houdende de werkloosheidsreglementering",
            "Arrêté royal du 25 novembre 1991 portant réglementation du chômage",
            "Königlicher Erlass vom 25. November 1991 zur Regelung der Arbeitslosigkeit",
            "Royal Decree of 25 November 1991 on unemployment rules",
        ),
        "IVC/KSZG/DEMO/001",
    ),
    (
        "inami",
        "incapacity_benefit",
        ("drs", "dmfa"),
        (
            "Wet betreffende de verplichte verzekering voor geneeskundige verzorging en uitkeringen, gecoördineerd op "
            "14 juli 1994",
            "Loi relative à l'assurance obligatoire soins de santé et indemnités, coordonnée le 14 juillet 1994",
            "Gesetz über die Gesundheitspflege- und Entschädigungspflichtversicherung, koordiniert am 14. Juli 1994",
            "Law on compulsory health care and benefits insurance, coordinated on 14 July 1994",
        ),
        "IVC/KSZG/DEMO/002",
    ),
    (
        "sfp",
        "pension_calculation",
        ("dimona", "dmfa"),
        (
            "Koninklijk besluit nr. 50 van 24 oktober 1967 betreffende het rust- en overlevingspensioen voor werknemers",
            "Arrêté royal n° 50 du 24 octobre 1967 relatif à la pension de retraite et de survie des travailleurs salariés",
            "Königlicher Erlass Nr. 50 vom 24. Oktober 1967 über die Ruhestands- und Hinterbliebenenpension für "
            "Lohnempfänger",
            "Royal Decree No. 50 of 24 October 1967 on employees' retirement and survivor's pensions",
        ),
        "IVC/KSZG/DEMO/003",
    ),
    (
        "spf_finances",
        "flexi_income_tax",
        ("flexi_wages",),
        (
            "Wetboek van de inkomstenbelastingen 1992, art. 38, § 1, 34°",
            "Code des impôts sur les revenus 1992, art. 38, § 1er, 34°",
            "Einkommensteuergesetzbuch 1992, Art. 38 § 1 Nr. 34",
            "Income Tax Code 1992, art. 38, § 1, 34°",
        ),
        "IVC/KSZG/DEMO/004",
    ),
    (
        "onss",
        "contribution_collection",
        ("dimona", "dmfa", "flexi_wages", "limosa", "a1"),
        (
            "Wet van 27 juni 1969 tot herziening van de besluitwet van 28 december 1944 betreffende de maatschappelijke "
            "zekerheid der arbeiders",
            "Loi du 27 juin 1969 révisant l'arrêté-loi du 28 décembre 1944 concernant la "
            "sécurité sociale des travailleurs",
            "Gesetz vom 27. Juni 1969 zur Revision des Gesetzeserlasses vom "
            "28. Dezember 1944 über die soziale Sicherheit der Arbeitnehmer",
            "Law of 27 June 1969 revising the Decree-Law of 28 December 1944 on workers' social security",
        ),
        "IVC/KSZG/DEMO/005",
    ),
)


async def seed_identity(conn: asyncpg.Connection, *, secret: str) -> int:
    """Create the demo institutions, organisations, people, memberships and staff that are missing."""
    added = 0
    org_ids = {}
    for demo in (*INSTITUTIONS, *ORGANISATIONS):
        organisation = await queries.select_organisation_by_kbo(conn, demo.kbo)
        if organisation is None:
            organisation = await service.register_organisation(
                conn,
                OrganisationCreate(
                    kbo=demo.kbo,
                    kind=demo.kind,
                    code=demo.code,
                    name_nl=demo.name_nl,
                    name_fr=demo.name_fr,
                    name_de=demo.name_de,
                ),
            )
            added += 1
        org_ids[demo.key] = organisation.org_id
    for persona in PERSONAS:
        person = await queries.select_person_by_insz(conn, persona.insz)
        if person is None:
            person = await service.register_person(
                conn,
                PersonCreate(
                    insz=persona.insz,
                    given_name=persona.given_name,
                    family_name=persona.family_name,
                    birth_date=persona.birth_date,
                    language=persona.language,
                    email=persona.email,
                ),
            )
            added += 1
        for org_key, role in persona.memberships:
            await service.add_member(
                conn, org_id=org_ids[org_key], person_id=person.person_id, role=role, secret=secret
            )
        if persona.staff_office:
            await service.make_staff(
                conn,
                person_id=person.person_id,
                office=persona.staff_office,
                roles=list(persona.staff_roles),
                secret=secret,
                org_id=None if persona.staff_org is None else org_ids[persona.staff_org],
            )
    for org_key, code, categories, texts, reference in PURPOSES:
        new = await upsert_purpose(
            conn,
            Purpose(
                org_id=org_ids[org_key],
                code=code,
                categories=categories,
                legal_basis_nl=f"{_CBSS_LAW[0]}; {texts[0]}",
                legal_basis_fr=f"{_CBSS_LAW[1]}; {texts[1]}",
                legal_basis_de=f"{_CBSS_LAW[2]}; {texts[2]}",
                legal_basis_en=f"{_CBSS_LAW[3]}; {texts[3]}",
                authorisation_ref=reference,
            ),
        )
        added += int(new)
    return added
