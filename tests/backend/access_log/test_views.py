"""The citizen's view of their log: plain-language sentences, Brussels days, filters, keyset paging, exports."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from backend.access_log import queries
from backend.access_log.chain import GENESIS, canonical_bytes
from backend.access_log.export import UTF8_BOM, csv_export, json_export
from backend.access_log.schemas import Accessor
from backend.access_log.service import record_access
from backend.access_log.views import LogFilters, LogPage, citizen_log_page
from backend.core import i18n
from backend.core.db import ConnectionSource
from backend.core.identity.purposes import Purpose, upsert_purpose
from backend.core.identity.schemas import Organisation
from frontend.rendering import LOCALE_DIR
from tests.factories import create_organisation, create_person

EVERYTHING = LogFilters()


@pytest.fixture(autouse=True, scope="module")
def catalogs() -> None:
    """The translations the app loads at start-up, so sentences come out in French and Dutch."""
    i18n.load_catalogs(LOCALE_DIR)


async def _onem(conn: asyncpg.Connection) -> Organisation:
    organisation = await create_organisation(
        conn,
        kind="institution",
        code="ONEMVIEW",
        name_nl="Rijksdienst voor Arbeidsvoorziening",
        name_fr="Office national de l'emploi",
        name_de="Landesamt für Arbeitsbeschaffung",
    )
    await upsert_purpose(
        conn,
        Purpose(
            org_id=organisation.org_id,
            code="unemployment_benefit",
            categories=("dimona", "dmfa", "drs"),
            legal_basis_nl="Koninklijk besluit van 25 november 1991 houdende de werkloosheidsreglementering",
            legal_basis_fr="Arrêté royal du 25 novembre 1991 portant réglementation du chômage",
            legal_basis_de="Königlicher Erlass vom 25. November 1991 zur Regelung der Arbeitslosigkeit",
            legal_basis_en="Royal Decree of 25 November 1991 on unemployment rules",
            authorisation_ref="IVC/KSZG/TEST/001",
        ),
    )
    return organisation


def _institution(organisation: Organisation) -> Accessor:
    return Accessor(kind="institution", org_id=organisation.org_id, client_id="onem-view-test")


def _source(conn: asyncpg.Connection) -> ConnectionSource:
    """A connection source that lends the test's connection (inside its rolled-back transaction)."""

    @asynccontextmanager
    async def lend() -> AsyncIterator[asyncpg.Connection]:
        yield conn

    def source() -> AbstractAsyncContextManager[asyncpg.Connection]:
        return lend()

    return source


async def _collect(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])


async def _everything(conn: asyncpg.Connection, citizen_id: UUID, *, filters: LogFilters = EVERYTHING) -> LogPage:
    return await citizen_log_page(conn, citizen_id, language="en", filters=filters, before_seq=None, limit=200)


async def test_sentences_are_plain_language_in_the_person_s_language(conn: asyncpg.Connection) -> None:
    person = await create_person(conn, language="fr")
    onem = await _onem(conn)
    callers_language = i18n.current_language()
    await record_access(
        conn,
        citizen_id=person.person_id,
        accessor=_institution(onem),
        action="read",
        channel="api",
        categories=["dimona"],
        purpose_code="unemployment_benefit",
        case_ref="ONEM-2026-0042",
        occurred_at=datetime(2026, 3, 3, 9, 15, tzinfo=UTC),
    )

    french = await citizen_log_page(
        conn, person.person_id, language="fr", filters=EVERYTHING, before_seq=None, limit=50
    )
    [entry] = french.entries
    assert entry.sentence == (
        "Office national de l'emploi a consulté vos déclarations d'emploi (Dimona) le 3 mars 2026 "
        "pour calculer votre allocation de chômage."
    )
    assert entry.who.kind == "institution"
    assert entry.who.name == "Office national de l'emploi"
    assert entry.who.organisation_id == onem.org_id
    assert [(item.code, item.label) for item in entry.what] == [("dimona", "déclarations d'emploi (Dimona)")]
    assert entry.why is not None
    assert entry.why.purpose == "pour calculer votre allocation de chômage"
    assert entry.why.legal_basis == "Arrêté royal du 25 novembre 1991 portant réglementation du chômage"
    assert entry.why.authorisation_ref == "IVC/KSZG/TEST/001"
    assert (entry.outcome, entry.outcome_label) == ("granted", "Autorisé")
    assert (entry.channel, entry.channel_label) == ("api", "Système de l'institution (API)")
    assert entry.case_ref == "ONEM-2026-0042"
    assert entry.time == "10:15", "Brussels time (UTC+1 in March)"
    assert french.days[0].label == "mardi 3 mars 2026"

    dutch = await citizen_log_page(conn, person.person_id, language="nl", filters=EVERYTHING, before_seq=None, limit=50)
    [entry] = dutch.entries
    assert entry.sentence == (
        "Rijksdienst voor Arbeidsvoorziening heeft op 3 maart 2026 uw aangiften van tewerkstelling (Dimona) "
        "geraadpleegd om uw werkloosheidsuitkering te berekenen."
    )
    assert entry.why is not None
    assert entry.why.legal_basis == ("Koninklijk besluit van 25 november 1991 houdende de werkloosheidsreglementering")
    assert i18n.current_language() == callers_language, "the caller's language is restored"


async def test_refusals_helpers_agents_and_desk_agents_are_described(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    onem = await _onem(conn)
    cpas = await create_organisation(conn, name_fr="CPAS de Testville", name_nl="OCMW Teststad")
    day = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
    await record_access(
        conn,
        citizen_id=person.person_id,
        accessor=_institution(onem),
        action="read",
        channel="api",
        outcome="denied",
        reason="purpose does not cover flexi_wages",
        categories=["flexi_wages"],
        purpose_code="unemployment_benefit",
        occurred_at=day,
    )
    await record_access(
        conn,
        citizen_id=person.person_id,
        accessor=Accessor(kind="helper", ref="helper-ref"),
        action="read",
        channel="web",
        categories=["identity", "dmfa"],
        occurred_at=day,
    )
    await record_access(
        conn,
        citizen_id=person.person_id,
        accessor=Accessor(kind="agent", org_id=cpas.org_id, ref="AG-7Q2", role="agent"),
        action="check",
        channel="web",
        occurred_at=day,
    )
    await record_access(
        conn,
        citizen_id=person.person_id,
        accessor=Accessor(kind="staff", ref="ST-91X", role="support"),
        action="read",
        channel="desk",
        outcome="error",
        reason="upstream timeout",
        categories=["a1"],
        occurred_at=day,
    )

    page = await citizen_log_page(conn, person.person_id, language="nl", filters=EVERYTHING, before_seq=None)
    staff, agent, helper, refused = page.entries
    assert refused.sentence == (
        "Rijksdienst voor Arbeidsvoorziening heeft op 4 mei 2026 uw flexilonen opgevraagd; dit werd geweigerd."
    )
    assert (refused.outcome_label, refused.reason) == ("Geweigerd", "purpose does not cover flexi_wages")
    assert helper.sentence == (
        "Iemand die u helpt heeft op 4 mei 2026 uw kwartaallonen en arbeidstijd (DmfA) en identiteitsgegevens "
        "geraadpleegd."
    )
    assert helper.why is None
    assert agent.sentence == "Een medewerker van OCMW Teststad heeft op 4 mei 2026 uw gegevens gecontroleerd."
    assert (agent.who.kind, agent.who.reference, agent.who.organisation) == ("agent", "AG-7Q2", "OCMW Teststad")
    assert staff.sentence == (
        "Een loketmedewerker van Vitrine heeft op 4 mei 2026 uw detacheringen naar het buitenland (A1) "
        "opgevraagd; dit is mislukt door een technische fout."
    )
    assert staff.who.reference == "ST-91X"

    french = await citizen_log_page(conn, person.person_id, language="fr", filters=EVERYTHING, before_seq=None)
    assert (
        french.entries[1].sentence == "Un agent de l'organisme CPAS de Testville a vérifié vos données le 4 mai 2026."
    )


async def test_a_desk_agent_is_named_with_the_office_stored_with_the_event(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    day = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
    desk = Accessor(kind="staff", system="Brussels help desk", ref="ST-4KD", role="support")
    await record_access(
        conn,
        citizen_id=person.person_id,
        accessor=desk,
        action="read",
        channel="desk",
        categories=["a1"],
        occurred_at=day,
    )

    page = await citizen_log_page(conn, person.person_id, language="en", filters=EVERYTHING, before_seq=None)
    [entry] = page.entries
    assert entry.sentence == "A desk agent at Brussels help desk read your posting abroad (A1) on 4 May 2026."
    assert (entry.who.kind, entry.who.reference) == ("staff", "ST-4KD")
    dutch = await citizen_log_page(conn, person.person_id, language="nl", filters=EVERYTHING, before_seq=None)
    assert dutch.entries[0].who.name == "een loketmedewerker bij Brussels help desk"


async def test_days_are_brussels_days(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    onem = await _onem(conn)
    for occurred in (
        datetime(2026, 3, 31, 21, 30, tzinfo=UTC),  # 23:30 in Brussels (summer time): still 31 March
        datetime(2026, 3, 31, 23, 30, tzinfo=UTC),  # 01:30 on 1 April in Brussels
        datetime(2026, 4, 1, 8, 0, tzinfo=UTC),
    ):
        await record_access(
            conn,
            citizen_id=person.person_id,
            accessor=_institution(onem),
            action="read",
            channel="api",
            categories=["dimona"],
            occurred_at=occurred,
        )

    page = await citizen_log_page(conn, person.person_id, language="en", filters=EVERYTHING, before_seq=None)
    assert [(day.day, len(day.entries)) for day in page.days] == [(date(2026, 4, 1), 2), (date(2026, 3, 31), 1)]
    assert page.days[0].label == "Wednesday, 1 April 2026"
    assert [entry.time for entry in page.days[0].entries] == ["10:00", "01:30"]
    assert "on 1 April 2026" in page.days[0].entries[1].sentence

    # The period filter uses Brussels days too: 1 April holds the 23:30 UTC access of 31 March.
    april = await _everything(
        conn, person.person_id, filters=LogFilters(period_from=date(2026, 4, 1), period_to=date(2026, 4, 1))
    )
    assert [entry.seq for entry in april.entries] == [3, 2]
    march = await _everything(conn, person.person_id, filters=LogFilters(period_to=date(2026, 3, 31)))
    assert [entry.seq for entry in march.entries] == [1]


async def test_each_filter_narrows_the_log(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    onem = await _onem(conn)
    other = await create_organisation(conn, kind="institution", code="SFPVIEW", name_fr="Service fédéral des Pensions")
    cpas = await create_organisation(conn)
    when = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)
    records: list[dict[str, Any]] = [
        {"accessor": _institution(onem), "categories": ["dimona"]},  # seq 1
        {"accessor": _institution(onem), "categories": ["dmfa", "drs"], "occurred_at": when + timedelta(days=5)},
        {"accessor": Accessor(kind="institution", org_id=other.org_id), "categories": ["dmfa"]},  # seq 3
        {"accessor": _institution(onem), "categories": ["limosa"], "outcome": "denied", "reason": "no purpose"},
        {"accessor": Accessor(kind="helper", ref="h"), "categories": ["identity"]},  # seq 5
        {"accessor": Accessor(kind="agent", org_id=cpas.org_id, ref="AG"), "categories": ["dmfa"]},  # seq 6
        {"accessor": Accessor(kind="staff", ref="ST"), "categories": ["a1"], "outcome": "error", "reason": "x"},
    ]
    for record in records:
        await record_access(
            conn,
            citizen_id=person.person_id,
            action="read",
            channel="api",
            **{"occurred_at": when, **record},
        )

    async def seqs(filters: LogFilters) -> list[int]:
        return [entry.seq for entry in (await _everything(conn, person.person_id, filters=filters)).entries]

    assert await seqs(EVERYTHING) == [7, 6, 5, 4, 3, 2, 1], "log order (seq), whatever the days"
    days = (await _everything(conn, person.person_id)).days
    assert [(day.day, [entry.seq for entry in day.entries]) for day in days] == [
        (date(2026, 6, 15), [2]),
        (date(2026, 6, 10), [7, 6, 5, 4, 3, 1]),
    ], "newest day first, one heading per day"
    assert await seqs(LogFilters(institution=onem.org_id)) == [4, 2, 1]
    assert await seqs(LogFilters(institution=cpas.org_id)) == [6]
    assert await seqs(LogFilters(category="dmfa")) == [6, 3, 2]
    assert await seqs(LogFilters(period_from=date(2026, 6, 11))) == [2]
    assert await seqs(LogFilters(period_to=date(2026, 6, 10))) == [7, 6, 5, 4, 3, 1]
    assert await seqs(LogFilters(outcome="denied")) == [4]
    assert await seqs(LogFilters(outcome="error")) == [7]
    assert await seqs(LogFilters(outcome="granted")) == [6, 5, 3, 2, 1]
    assert await seqs(LogFilters(actor="institution")) == [4, 3, 2, 1]
    assert await seqs(LogFilters(actor="helper")) == [5]
    assert await seqs(LogFilters(actor="agent")) == [6]
    assert await seqs(LogFilters(actor="staff")) == [7]
    assert await seqs(LogFilters(institution=onem.org_id, category="dmfa", outcome="granted")) == [2]
    assert await seqs(LogFilters(actor="helper", category="dmfa")) == []


async def test_keyset_paging_has_no_duplicates_or_gaps(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    other = await create_person(conn)
    onem = await _onem(conn)
    start = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
    for number in range(120):
        for citizen in (person, other):
            await record_access(
                conn,
                citizen_id=citizen.person_id,
                accessor=_institution(onem),
                action="read",
                channel="api",
                categories=["dimona"],
                occurred_at=start + timedelta(hours=7 * number),
            )

    seen: list[int] = []
    cursor: int | None = None
    pages = 0
    while True:
        page = await citizen_log_page(
            conn, person.person_id, language="nl", filters=EVERYTHING, before_seq=cursor, limit=50
        )
        pages += 1
        seen.extend(entry.seq for entry in page.entries)
        if page.next_before_seq is None:
            break
        assert page.next_before_seq == page.entries[-1].seq
        cursor = page.next_before_seq
    assert pages == 3
    assert seen == list(range(120, 0, -1)), "every event once, newest first, none of the other citizen's"

    # A page that ends exactly at the oldest event offers no empty "older" page.
    exact = await citizen_log_page(conn, person.person_id, language="nl", filters=EVERYTHING, before_seq=41, limit=40)
    assert [entry.seq for entry in exact.entries] == list(range(40, 0, -1))
    assert exact.next_before_seq is None

    # Filtered pages page the same way.
    filtered = LogFilters(period_from=date(2026, 1, 10))
    first = await citizen_log_page(conn, person.person_id, language="nl", filters=filtered, before_seq=None, limit=30)
    assert first.next_before_seq is not None
    second = await citizen_log_page(
        conn, person.person_id, language="nl", filters=filtered, before_seq=first.next_before_seq, limit=500
    )
    both = [entry.seq for entry in (*first.entries, *second.entries)]
    brussels_midnight = datetime(2026, 1, 9, 23, 0, tzinfo=UTC)  # 10 January 00:00 in Brussels (UTC+1)
    expected = [n + 1 for n in range(120) if start + timedelta(hours=7 * n) >= brussels_midnight]
    assert both == expected[::-1]


async def _three_for_export(conn: asyncpg.Connection, citizen_id: UUID) -> None:
    onem = await _onem(conn)
    await record_access(
        conn,
        citizen_id=citizen_id,
        accessor=_institution(onem),
        action="read",
        channel="api",
        categories=["dimona", "dmfa"],
        purpose_code="unemployment_benefit",
        occurred_at=datetime(2026, 3, 31, 23, 30, tzinfo=UTC),
    )
    await record_access(
        conn,
        citizen_id=citizen_id,
        accessor=_institution(onem),
        action="read",
        channel="api",
        outcome="denied",
        reason='not covered, "flexi_wages"\nsee purpose',
        categories=["flexi_wages"],
        case_ref='=HYPERLINK("http://example.invalid")',
    )
    await record_access(
        conn,
        citizen_id=citizen_id,
        accessor=Accessor(kind="helper", ref="helper-ref"),
        action="check",
        channel="web",
        mandate_id=UUID(int=7),
    )


async def test_csv_export_parses_back(conn: asyncpg.Connection) -> None:
    person = await create_person(conn, language="fr")
    await _three_for_export(conn, person.person_id)

    body = await _collect(csv_export(_source(conn), person.person_id, language="fr", page_size=2))
    assert body.startswith(UTF8_BOM), "spreadsheets need the BOM to read UTF-8"
    text = body[len(UTF8_BOM) :].decode("utf-8")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, *lines = rows
    assert header[:3] == ["Numéro", "Date et heure", "Qui"]
    assert [line[0] for line in lines] == ["1", "2", "3"], "oldest first, in chain order"
    first, refused, helper = (dict(zip(header, line, strict=True)) for line in lines)
    assert first["Date et heure"] == "2026-04-01T01:30:00+02:00"
    assert first["Qui"] == "Office national de l'emploi"
    assert first["Données"] == "déclarations d'emploi (Dimona); salaires et temps de travail trimestriels (DmfA)"
    assert first["Finalité"] == "pour calculer votre allocation de chômage"
    assert first["Autorisation"] == "IVC/KSZG/TEST/001"
    assert refused["Résultat"] == "Refusé"
    assert refused["Motif"] == 'not covered, "flexi_wages"\nsee purpose', "quotes, commas and line breaks survive"
    assert refused["Référence du dossier"].startswith("'="), "a formula is neutralised"
    assert helper["Qui"] == "une personne qui vous aide"
    chain = await queries.select_chain(conn, person.person_id)
    assert [line[-1] for line in lines] == [event.hash.hex() for event in chain]


async def test_json_export_recomputes_to_the_chain(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    await _three_for_export(conn, person.person_id)
    for _ in range(4):
        await record_access(
            conn,
            citizen_id=person.person_id,
            accessor=Accessor(kind="institution", client_id="bare-client"),
            action="read",
            channel="batch",
        )

    body = await _collect(json_export(_source(conn), person.person_id, page_size=3))
    events = json.loads(body)
    chain = await queries.select_chain(conn, person.person_id)
    assert [event["seq"] for event in events] == list(range(1, 8))
    previous = GENESIS
    for exported, stored in zip(events, chain, strict=True):
        assert exported["prev_hash"] == previous.hex()
        fields = {name: value for name, value in exported.items() if name not in {"chain_version", "prev_hash", "hash"}}
        # A verifier reads the exported timestamps back into instants; the chain hashes them as microseconds.
        for name in ("occurred_at", "logged_at"):
            fields[name] = datetime.fromisoformat(fields[name].replace("Z", "+00:00"))
        recomputed = hashlib.sha256(previous + canonical_bytes(fields)).hexdigest()
        assert recomputed == exported["hash"] == stored.hash.hex()
        previous = bytes.fromhex(exported["hash"])
    assert events[2]["mandate_id"] == str(UUID(int=7))


async def test_exports_of_an_empty_log(conn: asyncpg.Connection) -> None:
    person = await create_person(conn)
    assert json.loads(await _collect(json_export(_source(conn), person.person_id))) == []
    body = await _collect(csv_export(_source(conn), person.person_id, language="nl"))
    assert len(list(csv.reader(io.StringIO(body[len(UTF8_BOM) :].decode(), newline="")))) == 1, "only the header"
    empty = await _everything(conn, person.person_id)
    assert (empty.days, empty.next_before_seq) == ([], None)
