"""What is held about me: the read models of /my-data and their JSON twins under /api/v1/me/records.

Records are declared through the real ingest; the views are checked in the person's language, and reading one's
own records writes nothing to the access log.
"""

from __future__ import annotations

import json
from datetime import date

import asyncpg
import httpx
import msgspec
import pytest

from backend.access_log.views import speaking
from backend.core.i18n import Language
from backend.core.settings import Settings
from backend.records.categories.base import Category, Recipient, Texts
from backend.records.citizen import category_page, ceiling_view, records_overview
from backend.records.citizen_export import EXPORT_FORMAT, records_export
from backend.records.registry import REGISTRY, Registry
from backend.records.service import ingest_declarations
from tests.backend.records.citizen_data import (
    FLEXI_MONTHLY,
    MARCH_FIRST_DECLARED,
    NOW,
    access_events_of,
    at,
    limosa_file,
    make_citizen_file,
)
from tests.backend.records.cloud_events import event
from tests.backend.records.institutions import Institution
from tests.factories import create_person, new_insz, sign_in_client

API = "/api/v1/me/records"


@pytest.fixture(autouse=True, scope="module")
def catalogs() -> None:
    """The translations the app loads at start-up, so that a test without the app still reads French."""
    from backend.core import i18n
    from frontend.rendering import LOCALE_DIR

    i18n.load_catalogs(LOCALE_DIR)


async def test_the_overview_has_a_card_per_category_in_the_persons_language(
    conn: asyncpg.Connection, onss: Institution
) -> None:
    file = await make_citizen_file(conn, onss, language="fr")
    overview = await records_overview(conn, file.person.person_id, language="fr")

    assert [card.code for card in overview.categories] == [category.code for category in REGISTRY.all()]
    cards = {card.code: card for card in overview.categories}
    # The corrected March does not count: ten flexi months, not eleven.
    assert {code: card.record_count for code, card in cards.items()} == {
        "identity": 0, "dimona": 3, "dmfa": 2, "flexi_wages": 10, "limosa": 0, "a1": 1, "drs": 1,
    }  # fmt: skip
    assert overview.total_records == 17
    dimona = cards["dimona"]
    assert dimona.title == "Dimona (début et fin d'occupation)"
    assert dimona.explanation.startswith("Quand un employeur fait travailler quelqu'un")
    assert dimona.source == "Office national de sécurité sociale (ONSS)"
    assert dimona.url == "/my-data/dimona"
    assert (dimona.retention_confirmed, dimona.retention) == (
        False,
        "10 ans après la fin de l'année à laquelle les données se rapportent",
    )
    # The latest declaration of the category, written out in Brussels time.
    assert dimona.last_update == "24 juin 2026"
    assert cards["identity"].last_update is None

    recipients = {(r.institution_code, r.purpose_code): r for r in dimona.recipients}
    assert set(recipients) == {
        ("ONSS", "contribution_collection"), ("ONEM", "unemployment_benefit"), ("SFP", "pension_calculation"),
    }  # fmt: skip
    onem = recipients[("ONEM", "unemployment_benefit")]
    assert onem.institution == "Office national de l'emploi"
    assert onem.legal_basis == "AR du 25 novembre 1991 portant réglementation du chômage"
    assert (onem.in_effect, onem.authorisation_ref) == (True, "IVC/KSZG/TEST/001")
    assert onem.purpose == "Pour calculer votre allocation de chômage"
    # No registered purpose covers it: named by its code, and not in effect.
    sfp = recipients[("SFP", "pension_calculation")]
    assert (sfp.institution, sfp.legal_basis, sfp.in_effect) == ("SFP", None, False)


async def test_who_receives_a_category_follows_the_registered_purposes_as_they_change(
    conn: asyncpg.Connection, onss: Institution
) -> None:
    """The recipients' views are made once per version of the reference data: a withdrawn purpose or a new name
    shows on the very next read, and going back shows the first answer again."""
    file = await make_citizen_file(conn, onss, language="fr")

    async def onem() -> tuple[str, bool, str | None]:
        overview = await records_overview(conn, file.person.person_id, language="fr")
        dimona = next(card for card in overview.categories if card.code == "dimona")
        found = next(r for r in dimona.recipients if r.institution_code == "ONEM")
        return found.institution, found.in_effect, found.legal_basis

    before = await onem()
    assert before[1] is True
    await conn.execute(
        "UPDATE purposes SET active = false WHERE code = 'unemployment_benefit'"
        " AND org_id = (SELECT org_id FROM organisations WHERE code = 'ONEM')"
    )
    assert await onem() == (before[0], False, None)
    await conn.execute("UPDATE organisations SET name_fr = 'Office renommé' WHERE code = 'ONEM'")
    assert await onem() == ("Office renommé", False, None)
    await conn.execute("UPDATE organisations SET name_fr = $1 WHERE code = 'ONEM'", before[0])
    await conn.execute("UPDATE purposes SET active = true WHERE code = 'unemployment_benefit'")
    assert await onem() == before


async def test_dimona_is_a_timeline_newest_first_with_employers_and_worker_types(
    conn: asyncpg.Connection, onss: Institution
) -> None:
    file = await make_citizen_file(conn, onss, language="en")
    page = await category_page(conn, file.person.person_id, "dimona", language="en")
    assert page is not None
    assert (page.dmfa, page.flexi_wages, page.other) == ([], [], [])
    summer, brasserie, insurer = page.dimona
    assert [entry.period.start for entry in page.dimona] == [date(2026, 7, 1), date(2026, 1, 2), date(2019, 9, 2)]
    assert (insurer.employer.label, insurer.worker_type_label) == ("Assurances Escaut SA", "Employee")
    assert (insurer.period.ongoing, insurer.period.end_label) == (True, "Ongoing")
    assert brasserie.worker_type_label == "Flexi-job"
    assert brasserie.joint_committee == "302"
    # An employer Vitrine does not know is named by its enterprise number.
    number = f"{file.unknown_employer[:4]}.{file.unknown_employer[4:7]}.{file.unknown_employer[7:]}"
    assert (summer.employer.name, summer.employer.label) == (None, f"Enterprise number {number}")
    assert (summer.period.start_label, summer.period.end_label) == ("1 July 2026", "30 September 2026")
    assert summer.planned_hours == "180.5"
    assert summer.summary == f"Enterprise number {number}, Student, from 1 July 2026 to 30 September 2026"
    assert insurer.summary == "Assurances Escaut SA, Employee, since 2 September 2019"
    assert insurer.report is None
    assert insurer.report_url == f"/my-data/dimona/{insurer.record_id}/report-error"


async def test_dmfa_is_a_table_per_quarter_with_amounts_in_the_persons_language(
    conn: asyncpg.Connection, onss: Institution
) -> None:
    file = await make_citizen_file(conn, onss, language="nl")
    page = await category_page(conn, file.person.person_id, "dmfa", language="nl")
    assert page is not None
    assert [quarter.label for quarter in page.dmfa] == ["2e kwartaal 2026", "1e kwartaal 2026"]
    (line,) = page.dmfa[0].declarations
    assert line.employer.label == "Verzekeringen Schelde NV"
    assert (line.days, line.hours, line.working_time) == ("52", "395,2", "80%")
    assert (line.pay_cents, line.pay) == (876_050, "€\xa08.760,50")
    assert [(amount.code, amount.amount) for amount in line.remunerations] == [
        ("001", "€\xa08.640,00"),
        ("010", "€\xa0120,50"),
    ]
    assert line.joint_committees == ["306"]


async def test_flexi_wages_per_month_and_the_years_total_against_its_ceiling(
    conn: asyncpg.Connection, onss: Institution
) -> None:
    file = await make_citizen_file(conn, onss, language="en")
    page = await category_page(conn, file.person.person_id, "flexi_wages", language="en")
    assert page is not None
    (year,) = page.flexi_wages
    assert year.year == 2026
    assert [month.month for month in year.months] == [f"2026-{m:02d}" for m in range(1, 11)]
    march = year.months[2]
    assert (march.kind, march.amount_cents, march.month_label) == ("correction", FLEXI_MONTHLY, "March 2026")
    assert march.amount_cents != MARCH_FIRST_DECLARED
    assert (year.total_cents, year.total) == (1_530_000, "€15,300.00")
    assert year.ceiling is not None
    assert year.ceiling.progress == "€15,300 of €18,000 (85%)"
    assert (year.ceiling.percent, year.ceiling.provisional, year.ceiling.over) == (85, True, False)
    # As of the latest declaration for that year: October's wage, declared on 10 November.
    assert year.as_of == "10 November 2026"


@pytest.mark.parametrize(
    ("total", "year", "language", "written", "provisional", "excess"),
    [
        (1_530_000, 2026, "en", ("€15,300", "€18,000", "85%"), True, None),
        (1_530_000, 2026, "nl", ("€\xa015.300", "€\xa018.000", "85%"), True, None),
        (1_530_000, 2026, "fr", ("15\u202f300\xa0€", "18\u202f000\xa0€", "85\xa0%"), True, None),
        (1_199_999, 2024, "en", ("€11,999.99", "€12,000", "99%"), False, None),
        (1_950_050, 2025, "en", ("€19,500.50", "€18,000", "108%"), False, "€1,500.50"),
    ],
)
def test_the_ceiling_is_written_out_rounded_down_and_marked_provisional(
    total: int, year: int, language: Language, written: tuple[str, str, str], provisional: bool, excess: str | None
) -> None:
    with speaking(language):
        view = ceiling_view(total, year, language)
    assert view is not None
    # The sentence's words come from the catalog; the amounts and the percentage from babel, for the language.
    total_text, ceiling_text, percent_text = written
    assert view.amount == ceiling_text
    if language == "en":
        assert view.progress == f"{total_text} of {ceiling_text} ({percent_text})"
    assert all(part in view.progress for part in written)
    assert (view.provisional, view.excess) == (provisional, excess)
    assert ceiling_view(500_000, 2023, "en") is None, "no ceiling before 2024"


async def test_postings_and_social_risks_show_their_periods(conn: asyncpg.Connection, onss: Institution) -> None:
    file = await make_citizen_file(conn, onss, language="de")
    a1 = await category_page(conn, file.person.person_id, "a1", language="de")
    assert a1 is not None
    (posting,) = a1.a1
    assert (posting.destination, posting.period.start_label, posting.period.end_label) == (
        "Niederlande",
        "2. Februar 2026",
        "27. November 2026",
    )
    drs = await category_page(conn, file.person.person_id, "drs", language="en")
    assert drs is not None
    assert drs.drs[0].scenario_label == "Unemployment"

    worker, user = await limosa_file(conn, onss)
    limosa = await category_page(conn, worker.person_id, "limosa", language="en")
    assert limosa is not None
    (posted,) = limosa.limosa
    assert (posted.foreign_employer, posted.foreign_employer_country) == ("Budmax Sp. z o.o.", "Poland")
    assert posted.belgian_user.label == user.name_fr
    assert posted.workplace == "Werf Zuid, Kaai 30, 2000 Antwerpen"
    assert posted.l1_receipt_number == "L1-2026-0417385"


async def test_a_category_added_later_is_shown_field_by_field(conn: asyncpg.Connection, onss: Institution) -> None:
    class Pension(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
        scheme: str
        monthly_cents: int

    texts = Texts(nl="Pensioen", fr="Pension", de="Pension", en="Pension")
    registry = Registry([*REGISTRY.all()])
    registry.register(
        Category(
            code="pension_test",
            version=1,
            schema=Pension,
            source="ONSS",
            source_name=texts,
            title=texts,
            legal_basis=texts,
            recipients=(Recipient(institution="SFP", purposes=("pension_calculation",)),),
            retention=texts,
            explanation=texts,
        )
    )
    subject = new_insz()
    person = await create_person(conn, insz=subject, language="en")
    item = event(
        subject, "pension-1", "pension_test", {"scheme": "employees", "monthly_cents": 150_000}, time=at("2026-05-01")
    )
    outcome = await ingest_declarations(conn, onss.caller, [item], registry=registry, now=NOW)
    assert outcome.answer.accepted == 1, outcome.answer
    page = await category_page(conn, person.person_id, "pension_test", language="en", registry=registry)
    assert page is not None
    (entry,) = page.other
    assert [(field.name, field.value) for field in entry.fields] == [
        ("scheme", "employees"),
        ("monthly_cents", "150000"),
    ]
    assert entry.summary == "Declared on 1 May 2026"
    assert await category_page(conn, person.person_id, "nothing", language="en") is None


async def test_the_export_holds_every_record_as_stored(conn: asyncpg.Connection, onss: Institution) -> None:
    file = await make_citizen_file(conn, onss, language="nl")
    document = await records_export(conn, file.person.person_id, language="nl")
    assert document.format == EXPORT_FORMAT
    categories = {category.code: category for category in document.categories}
    flexi = categories["flexi_wages"]
    assert len(flexi.records) == 11, "the corrected first March declaration is exported too"
    statuses = sorted(record.status for record in flexi.records)
    assert statuses.count("corrected") == 1
    assert {record.declared_by for record in flexi.records} == {onss.organisation.org_id}
    assert categories["dimona"].retention_confirmed is False
    (counter,) = document.flexi_counters
    assert (counter.income_year, counter.total_cents, counter.ceiling_cents, counter.ceiling_status) == (
        2026,
        1_530_000,
        1_800_000,
        "provisional",
    )
    # It encodes to JSON with dates as dates and amounts in cents.
    encoded = json.loads(msgspec.json.encode(document))
    march = next(r for r in encoded["categories"][3]["records"] if r["status"] == "corrected")
    assert (march["valid_from"], march["payload"]["amount_cents"]) == ("2026-03-01", MARCH_FIRST_DECLARED)


async def test_the_json_twins_in_the_persons_language_and_nothing_is_logged(
    client: httpx.AsyncClient, conn: asyncpg.Connection, onss: Institution, settings: Settings
) -> None:
    file = await make_citizen_file(conn, onss, language="fr")
    await sign_in_client(client, conn, settings.secret_key, file.person)

    overview = await client.get(API)
    assert overview.status_code == 200, overview.text
    body = overview.json()
    assert body["total_records"] == 17
    assert body["categories"][1]["title"] == "Dimona (début et fin d'occupation)"

    flexi = await client.get(f"{API}/flexi_wages")
    assert flexi.status_code == 200
    data = flexi.json()
    assert set(data) == {"card", "flexi_wages"}, "only the category's own list"
    assert data["flexi_wages"][0]["ceiling"]["percent"] == 85
    assert data["flexi_wages"][0]["total_cents"] == 1_530_000

    missing = await client.get(f"{API}/nothing")
    assert (missing.status_code, missing.json()["type"]) == (404, "urn:vitrine:problem:no-such-category")

    exported = await client.get(f"{API}/export.json")
    assert exported.status_code == 200
    assert exported.headers["content-disposition"].startswith('attachment; filename="vitrine-records-')
    assert exported.headers["cache-control"] == "no-store"
    assert exported.json()["format"] == EXPORT_FORMAT

    assert await access_events_of(conn, file.person) == 0, "reading one's own records is not logged"


async def test_the_json_twins_need_sign_in(client: httpx.AsyncClient) -> None:
    for path in (API, f"{API}/dimona", f"{API}/export.json", "/api/v1/me/record-error-reports"):
        assert (await client.get(path)).status_code == 401, path
