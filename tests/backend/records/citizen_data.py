"""A person with records in every category, declared through the real ingest, for the tests of their own view.

The flexi wages add up to EUR 15,300 in 2026 (85% of that year's provisional EUR 18,000 ceiling), March being
first declared too high and then corrected, as for the demo persona Sofie.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from backend.core.identity.purposes import Purpose, upsert_purpose
from backend.core.identity.schemas import Organisation, Person
from backend.records.service import ingest_declarations
from tests.backend.records.cloud_events import event, flexi
from tests.backend.records.institutions import Institution
from tests.factories import create_organisation, create_person, new_insz, new_kbo

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
FLEXI_MONTHLY = 153_000  # ten months: 1,530,000 cents
MARCH_FIRST_DECLARED = 200_000


@dataclass(frozen=True)
class CitizenFile:
    """The person, the employers named in their records, and the institutions involved."""

    person: Person
    insz: str
    insurer: Organisation  # main job since 2019 (named: it is a known organisation)
    brasserie: Organisation  # flexi-job
    unknown_employer: str  # an enterprise number Vitrine knows no organisation for
    onem: Organisation


def at(day: str, hour: int = 9) -> str:
    """A declaration time on a Brussels day (winter time)."""
    return f"{day}T{hour:02d}:00:00+01:00"


async def make_onem(conn: asyncpg.Connection) -> Organisation:
    """ONEM with its registered purpose (Dimona, DmfA and DRS for unemployment benefit)."""
    onem = await create_organisation(
        conn,
        kind="institution",
        code="ONEM",
        name_nl="Rijksdienst voor Arbeidsvoorziening",
        name_fr="Office national de l'emploi",
        name_de="Landesamt für Arbeitsbeschaffung",
    )
    await upsert_purpose(
        conn,
        Purpose(
            org_id=onem.org_id,
            code="unemployment_benefit",
            categories=("dimona", "dmfa", "drs"),
            legal_basis_nl="KB van 25 november 1991 houdende de werkloosheidsreglementering",
            legal_basis_fr="AR du 25 novembre 1991 portant réglementation du chômage",
            legal_basis_de="KE vom 25. November 1991 zur Regelung der Arbeitslosigkeit",
            legal_basis_en="RD of 25 November 1991 on unemployment rules",
            authorisation_ref="IVC/KSZG/TEST/001",
        ),
    )
    return onem


def _dmfa(quarter: str, employer: str) -> dict[str, Any]:
    return {
        "quarter": quarter,
        "employer_kbo": employer,
        "worker_code": "495",
        "occupations": [
            {
                "start": "2019-09-02",
                "joint_committee": "306",
                "working_days_system": 400,
                "mean_hours": 3040,
                "reference_hours": 3800,
                "services": [{"code": "001", "days": 5200, "hours": 39520}],
                "remunerations": [{"code": "001", "amount_cents": 864_000}, {"code": "010", "amount_cents": 12_050}],
            }
        ],
    }


def declarations(insz: str, insurer: str, brasserie: str, unknown: str) -> list[dict[str, Any]]:
    """Every declaration of the file, originals before the corrections that refer to them."""
    flexi_months = [
        event(
            insz,
            f"flexi-{month:02d}",
            data=flexi(brasserie, f"2026-{month:02d}", FLEXI_MONTHLY),
            time=at(f"2026-{month + 1:02d}-10"),
        )
        for month in range(1, 11)
    ]
    first_march = event(
        insz, "flexi-03-first", data=flexi(brasserie, "2026-03", MARCH_FIRST_DECLARED), time=at("2026-04-03")
    )
    flexi_months[2] = {**flexi_months[2], "corrects": "flexi-03-first"}
    main_job = {"employer_kbo": insurer, "worker_type": "OTH", "start": "2019-09-02"}
    flexi_job = {"employer_kbo": brasserie, "worker_type": "FLX", "start": "2026-01-02", "joint_committee": "302"}
    summer_job = {
        "employer_kbo": unknown,
        "worker_type": "STU",
        "start": "2026-07-01",
        "end": "2026-09-30",
        "planned_hours": 18050,
    }
    weather = {"scenario": "unemployment", "employer_kbo": insurer, "start": "2026-01-12", "end": "2026-01-16"}
    posting = {"destination_country": "NL", "start": "2026-02-02", "end": "2026-11-27", "employer_kbo": insurer}
    return [
        event(insz, "dimona-insurer", "dimona", main_job, time=at("2019-09-02", 7)),
        event(insz, "dimona-brasserie", "dimona", flexi_job, time=at("2026-01-02", 7)),
        event(insz, "dimona-summer", "dimona", summer_job, time=at("2026-06-24")),
        event(insz, "dmfa-2026-1", "dmfa", _dmfa("2026-1", insurer), time=at("2026-04-28")),
        event(insz, "dmfa-2026-2", "dmfa", _dmfa("2026-2", insurer), time=at("2026-07-29")),
        first_march,
        *flexi_months,
        event(insz, "drs-1", "drs", weather, time=at("2026-01-19")),
        event(insz, "a1-1", "a1", posting, time=at("2026-01-21")),
    ]


async def make_citizen_file(conn: asyncpg.Connection, onss: Institution, **person: Any) -> CitizenFile:
    """A person with the declarations above ingested as the ONSS, and ONEM as a registered recipient."""
    insz = new_insz()
    citizen = await create_person(conn, insz=insz, **person)
    insurer = await create_organisation(
        conn, kind="other", name_nl="Verzekeringen Schelde NV", name_fr="Assurances Escaut SA", name_de="Schelde AG"
    )
    brasserie = await create_organisation(
        conn, kind="other", name_nl="Brasserie De Leeuw", name_fr="Brasserie Le Lion", name_de="Brasserie Löwe"
    )
    onem = await make_onem(conn)
    unknown = new_kbo()
    outcome = await ingest_declarations(
        conn, onss.caller, declarations(insz, insurer.kbo, brasserie.kbo, unknown), now=NOW
    )
    assert outcome.answer.rejected == 0, outcome.answer
    return CitizenFile(
        person=citizen, insz=insz, insurer=insurer, brasserie=brasserie, unknown_employer=unknown, onem=onem
    )


async def limosa_file(conn: asyncpg.Connection, onss: Institution) -> tuple[Person, Organisation]:
    """A worker posted to Belgium, and the Belgian user company."""
    insz = new_insz()
    citizen = await create_person(conn, insz=insz, language="en")
    user = await create_organisation(
        conn, kind="other", name_nl="Bouwgroep Kaai NV", name_fr="Groupe Quai SA", name_de="Kai Gruppe AG"
    )
    data = {
        "foreign_employer_name": "Budmax Sp. z o.o.",
        "foreign_employer_country": "PL",
        "belgian_user_kbo": user.kbo,
        "start": "2026-03-02",
        "end": "2026-09-30",
        "workplace": {"name": "Werf Zuid", "street": "Kaai 30", "postal_code": "2000", "municipality": "Antwerpen"},
        "sector": "Construction",
        "l1_receipt_number": "L1-2026-0417385",
    }
    outcome = await ingest_declarations(
        conn, onss.caller, [event(insz, "limosa-1", "limosa", data, time=at("2026-02-20"))], now=NOW
    )
    assert outcome.answer.accepted == 1, outcome.answer
    return citizen, user


async def access_events_of(conn: asyncpg.Connection, person: Person) -> int:
    """How many access-log events the person has (reading one's own records adds none)."""
    value: int = await conn.fetchval("SELECT count(*) FROM access_events WHERE citizen_id = $1", person.person_id)
    return value
