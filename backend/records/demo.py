"""Demo records for the personas, declared through the real ingest as the demo ONSS (never in production).

Every event has a fixed source and id, so a second run is answered "duplicate" throughout and adds nothing.
Employers' enterprise numbers have valid check digits but are made up; names are invented.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, Final
from zoneinfo import ZoneInfo

import asyncpg

from backend.core.auth.assertions import InstitutionCaller
from backend.core.auth.demo_clients import demo_client_id
from backend.core.identity.demo import PERSONAS, demo_kbo
from backend.core.identity.queries import select_organisation_by_code
from backend.records.service import ingest_declarations

BRUSSELS: Final = ZoneInfo("Europe/Brussels")

# Made-up employers (8-digit prefixes not used elsewhere in the demo).
SCHELDELAND_INSURANCE: Final = demo_kbo("07534412")  # Verzekeringen Scheldeland NV, Gent (Sofie's main job)
GOUDEN_LEEUW: Final = demo_kbo("07628805")  # Brasserie De Gouden Leeuw, Gent (flexi)
BAKKERIJ_VAN_DAMME: Final = demo_kbo("07711963")  # Bakkerij Van Damme, Merelbeke (flexi)
BRASSERIE_LE_PERRON: Final = demo_kbo("08203447")  # Brasserie Le Perron, Liège (Jean's flexi job)
SUPERMARKT_EUPEN: Final = demo_kbo("08346259")  # Supermarkt Schröder, Eupen (Lena's student job)
BOUWBEDRIJF_VERHAEGEN: Final = demo_kbo("04587730")  # Bouwbedrijf Verhaegen NV, Mechelen (Pieter)
BOUWGROEP_SCHELDEKAAI: Final = demo_kbo("06620184")  # Bouwgroep Scheldekaai NV, Antwerpen (Tomasz's user)

YEAR: Final = 2026
# Sofie's flexi wages per month (euro cents): with the March correction, 1,530,000 cents by October, 85% of the
# provisional 2026 ceiling of EUR 18,000.
SOFIE_BRASSERIE: Final = (95_000, 88_000, 102_000, 97_500, 110_000, 118_000, 125_000, 121_000, 99_500, 104_000)
SOFIE_BAKERY: Final = (52_000, 55_000, 58_000, 60_000, 62_500, 61_000, 57_000, 64_500)  # March to October
SOFIE_MARCH_FIRST_DECLARED: Final = 112_000
JEAN_BRASSERIE: Final = (138_000, 126_000, 142_500, 151_000, 149_000, 163_000, 171_500, 168_000, 147_000, 139_500)


def _insz(key: str) -> str:
    return next(persona.insz for persona in PERSONAS if persona.key == key)


def _at(day: date, hour: int = 9) -> str:
    return datetime.combine(day, time(hour), tzinfo=BRUSSELS).isoformat()


def _event(event_id: str, category: str, person: str, when: str, data: Any = None, **extra: str) -> dict[str, Any]:
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": event_id,
        "source": f"/onss/{category.replace('_', '-')}",
        "type": f"be.socialsecurity.{category}.v1",
        "subject": _insz(person),
        "time": when,
        "datacontenttype": "application/json",
        **extra,
    }
    if data is not None:
        event["data"] = data
    return event


def _declared(month: int) -> str:
    """Flexi wages are declared by the 14th of the following month (salary-data transfer rule)."""
    return _at(date(YEAR + month // 12, month % 12 + 1, 10))


def _flexi(prefix: str, person: str, employer: str, first_month: int, amounts: tuple[int, ...]) -> list[dict[str, Any]]:
    return [
        _event(
            f"{prefix}-{YEAR}-{month:02d}",
            "flexi_wages",
            person,
            _declared(month),
            {"employer_kbo": employer, "month": f"{YEAR}-{month:02d}", "amount_cents": amount},
        )
        for month, amount in enumerate(amounts, start=first_month)
    ]


def _sofie() -> list[dict[str, Any]]:
    def dimona(event_id: str, employer: str, worker_type: str, start: date, committee: str) -> dict[str, Any]:
        data = {
            "employer_kbo": employer,
            "worker_type": worker_type,
            "start": start.isoformat(),
            "joint_committee": committee,
        }
        return _event(event_id, "dimona", "sofie", _at(start, 7), data)

    def dmfa(quarter: int, declared: date) -> dict[str, Any]:
        first = date(YEAR, 3 * quarter - 2, 1)
        occupation = {
            "start": "2019-09-02",
            "joint_committee": "306",
            "working_days_system": 400,
            "mean_hours": 3040,
            "reference_hours": 3800,
            "services": [{"code": "001", "days": 5200, "hours": 39520}],
            "remunerations": [{"code": "001", "amount_cents": 864_000}],
        }
        data = {
            "quarter": f"{YEAR}-{quarter}",
            "employer_kbo": SCHELDELAND_INSURANCE,
            "worker_code": "495",
            "occupations": [occupation],
        }
        return _event(f"demo-sofie-dmfa-{first:%Y}-q{quarter}", "dmfa", "sofie", _at(declared), data)

    brasserie = _flexi("demo-sofie-flexi-gouden-leeuw", "sofie", GOUDEN_LEEUW, 1, SOFIE_BRASSERIE)
    # March was first declared too high, then corrected the week after.
    march = brasserie[2]
    first_march = {**march, "id": f"{march['id']}-first", "time": _at(date(YEAR, 4, 3))}
    first_march["data"] = {**march["data"], "amount_cents": SOFIE_MARCH_FIRST_DECLARED}
    brasserie[2] = {**march, "corrects": first_march["id"]}
    return [
        dimona("demo-sofie-dimona-scheldeland", SCHELDELAND_INSURANCE, "OTH", date(2019, 9, 2), "306"),
        dimona("demo-sofie-dimona-gouden-leeuw", GOUDEN_LEEUW, "FLX", date(YEAR, 1, 2), "302"),
        dimona("demo-sofie-dimona-van-damme", BAKKERIJ_VAN_DAMME, "FLX", date(YEAR, 3, 1), "118.03"),
        dmfa(1, date(YEAR, 4, 28)),
        dmfa(2, date(YEAR, 7, 29)),
        dmfa(3, date(YEAR, 10, 28)),
        first_march,
        *brasserie,
        *_flexi("demo-sofie-flexi-van-damme", "sofie", BAKKERIJ_VAN_DAMME, 3, SOFIE_BAKERY),
    ]


def _others() -> list[dict[str, Any]]:
    jean_dimona = {
        "employer_kbo": BRASSERIE_LE_PERRON,
        "worker_type": "FLX",
        "start": "2025-05-01",
        "joint_committee": "302",
    }
    lena_summer = {
        "employer_kbo": SUPERMARKT_EUPEN,
        "worker_type": "STU",
        "start": f"{YEAR}-07-01",
        "end": f"{YEAR}-09-30",
        "joint_committee": "202",
        "planned_hours": 18000,
    }
    lena_autumn = {**lena_summer, "start": f"{YEAR}-10-01", "end": f"{YEAR}-12-31", "planned_hours": 9600}
    limosa = {
        "foreign_employer_name": "Budmax Sp. z o.o. (Kraków)",
        "foreign_employer_country": "PL",
        "belgian_user_kbo": BOUWGROEP_SCHELDEKAAI,
        "start": f"{YEAR}-03-02",
        "end": f"{YEAR}-09-30",
        "workplace": {
            "name": "Werf Nieuw Zuid",
            "street": "Ledeganckkaai 30",
            "postal_code": "2000",
            "municipality": "Antwerpen",
        },
        "sector": "Construction",
        "l1_receipt_number": "L1-2026-0417385",
    }
    pieter_dimona = {
        "employer_kbo": BOUWBEDRIJF_VERHAEGEN,
        "worker_type": "OTH",
        "start": "2011-04-04",
        "joint_committee": "124",
    }
    a1 = {
        "destination_country": "NL",
        "start": f"{YEAR}-02-02",
        "end": f"{YEAR}-11-27",
        "employer_kbo": BOUWBEDRIJF_VERHAEGEN,
    }
    # Temporary unemployment because of bad weather, common in construction.
    drs = {
        "scenario": "unemployment",
        "employer_kbo": BOUWBEDRIJF_VERHAEGEN,
        "start": f"{YEAR}-01-12",
        "end": f"{YEAR}-01-16",
    }
    return [
        _event("demo-jean-dimona-le-perron", "dimona", "jean", _at(date(2025, 5, 1), 7), jean_dimona),
        *_flexi("demo-jean-flexi-le-perron", "jean", BRASSERIE_LE_PERRON, 1, JEAN_BRASSERIE),
        _event("demo-lena-dimona-schroder-q3", "dimona", "lena", _at(date(YEAR, 6, 24)), lena_summer),
        _event("demo-lena-dimona-schroder-q4", "dimona", "lena", _at(date(YEAR, 9, 25)), lena_autumn),
        _event("demo-tomasz-limosa-scheldekaai", "limosa", "tomasz", _at(date(YEAR, 2, 20)), limosa),
        _event("demo-pieter-dimona-verhaegen", "dimona", "pieter", _at(date(2011, 4, 4), 6), pieter_dimona),
        _event("demo-pieter-a1-nl", "a1", "pieter", _at(date(YEAR, 1, 21)), a1),
        _event("demo-pieter-drs-weather", "drs", "pieter", _at(date(YEAR, 1, 19)), drs),
    ]


def demo_events() -> list[dict[str, Any]]:
    """Every demo declaration, originals before the corrections that refer to them."""
    return [*_sofie(), *_others()]


async def seed_records(conn: asyncpg.Connection) -> int:
    """Declare the demo records as the demo ONSS; returns how many were new (0 on a second run).

    Needs the demo identity (people and institutions); does nothing without it.
    """
    onss = await select_organisation_by_code(conn, "ONSS")
    if onss is None:
        return 0
    caller = InstitutionCaller(client_id=demo_client_id("ONSS"), org_id=onss.org_id, org_code="ONSS", jti="demo-seed")
    outcome = await ingest_declarations(conn, caller, demo_events())
    rejected = [item for item in outcome.answer.items if item.status == "rejected"]
    if rejected:
        raise RuntimeError(f"demo records rejected: {[(item.id, item.errors) for item in rejected]}")
    return outcome.answer.accepted
