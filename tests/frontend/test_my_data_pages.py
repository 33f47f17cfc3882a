"""The /my-data pages in process: overview, a page per category, the printable file, and "Report an error".

Records are declared through the real ingest (tests/backend/records/citizen_data.py); the person signs in with a
demo session. Texts are looked up in the catalogs, falling back to the English msgid until they are translated.
"""

from __future__ import annotations

import re
from functools import cache
from html import unescape

import asyncpg
import httpx
import pytest
from babel.messages.pofile import read_po

from backend.access_log.views import speaking
from backend.core.i18n import DOMAIN, Language
from backend.core.settings import Settings
from backend.records.citizen import ceiling_view
from tests.backend.records.citizen_data import CitizenFile, access_events_of, make_citizen_file
from tests.backend.records.institutions import Institution, make_institution
from tests.browser import ROOT
from tests.factories import create_person, csrf_token, sign_in_client

MESSAGE = "I stopped working for this employer on 31 March 2026."
_REPORT_LINK = re.compile(r'href="(/my-data/dimona/[0-9a-f-]{36}/report-error)"')


@cache
def _catalog(language: str) -> dict[str, str]:
    path = ROOT / "frontend" / "locale" / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    return {str(message.id): str(message.string) for message in catalog if message.id and message.string}


def _t(language: str, message: str) -> str:
    """What a page shows in a language for an English msgid (the msgid itself until it is translated)."""
    return message if language == "en" else _catalog(language).get(message, message)


def _text(response: httpx.Response) -> str:
    return unescape(response.text)


@pytest.fixture
async def onss(conn: asyncpg.Connection) -> Institution:
    """The ONSS: the source of the records."""
    return await make_institution(conn, "ONSS")


@pytest.fixture
async def file(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings, onss: Institution
) -> CitizenFile:
    """A Dutch-speaking person with records in every category, signed in."""
    made = await make_citizen_file(conn, onss, language="nl")
    await sign_in_client(client, conn, settings.secret_key, made.person)
    return made


async def test_the_overview_has_a_card_per_category(client: httpx.AsyncClient, file: CitizenFile) -> None:
    overview = await client.get("/my-data")
    assert overview.status_code == 200, overview.text
    text = _text(overview)
    assert text.count('class="category-card"') == 7
    for title in ("Dimona (begin en einde van tewerkstelling)", "Flexi-lonen", "Identiteit"):
        assert title in text
    assert 'href="/my-data/flexi_wages"' in text
    assert "Rijksdienst voor Sociale Zekerheid (RSZ)" in text
    assert _t("nl", "to be confirmed") in text
    assert _t("nl", "Nothing declared yet") in text, "identity has no records"
    # Who receives it and why: the institution, its purpose in words and the purpose's legal basis.
    assert "Rijksdienst voor Arbeidsvoorziening" in text
    assert "KB van 25 november 1991 houdende de werkloosheidsreglementering" in text
    for link in ("/my-data/print", "/api/v1/me/records/export.json", "/my-data/error-reports"):
        assert f'href="{link}"' in text


async def test_category_pages_show_records_in_their_shape(client: httpx.AsyncClient, file: CitizenFile) -> None:
    dimona = _text(await client.get("/my-data/dimona"))
    assert dimona.count('class="record"') == 3
    assert "Verzekeringen Schelde NV" in dimona
    assert _t("nl", "Ongoing") in dimona
    assert _t("nl", "Who can see this") in dimona
    assert 'href="/access-log"' in dimona

    dmfa = _text(await client.get("/my-data/dmfa"))
    assert dmfa.count('<table class="table"') == 2
    assert "2e kwartaal 2026" in dmfa
    assert "€\xa08.760,50" in dmfa

    flexi = await client.get("/my-data/flexi_wages")
    text = _text(flexi)
    with speaking("nl"):
        expected = ceiling_view(1_530_000, 2026, "nl")
    assert expected is not None
    assert expected.progress in text
    assert '<meter class="ceiling-meter__bar" min="0" max="1800000" value="1530000"' in text
    assert _t("nl", "Provisional") in text
    assert "10 november 2026" in text, "as of the latest declaration"
    assert text.count("<tbody>") == 1
    assert _t("nl", "Corrected by the employer") in text

    unknown = await client.get("/my-data/nothing")
    assert unknown.status_code == 404


async def test_report_an_error_from_the_record_to_the_list(
    client: httpx.AsyncClient, conn: asyncpg.Connection, file: CitizenFile
) -> None:
    page = await client.get("/my-data/dimona")
    form_path = _REPORT_LINK.findall(page.text)[-1]  # the main job since 2019, listed last
    token = await csrf_token(client, form_path)
    form = await client.get(form_path)
    assert _t("nl", "Describe the error") in _text(form)

    short = await client.post(form_path, data={"_csrf_token": token, "message": "Fout."})
    assert short.status_code == 422
    text = _text(short)
    assert 'class="error-summary"' in text
    assert 'href="#report-message"' in text
    assert 'aria-invalid="true"' in text
    assert "Fout.</textarea>" in text, "the message is kept"
    assert await conn.fetchval("SELECT count(*) FROM record_error_reports") == 0

    sent = await client.post(form_path, data={"_csrf_token": token, "message": MESSAGE})
    assert sent.status_code == 303
    location = sent.headers["location"]
    assert re.fullmatch(r"/my-data/error-reports/[0-9a-f-]{36}\?sent=1", location)
    report = _text(await client.get(location))
    assert _t("nl", "Your report has been sent") in report
    assert MESSAGE in report
    assert _t("nl", "Waiting for an answer") in report

    # The record now shows its report, and offers no second one while it waits.
    record = _text(await client.get("/my-data/dimona"))
    assert _t("nl", "See your report") in record
    assert form_path not in record
    again = await client.post(form_path, data={"_csrf_token": token, "message": MESSAGE})
    assert again.status_code == 409
    assert _t("nl", "You already reported an error in this record") in _text(again)
    listed = _text(await client.get("/my-data/error-reports"))
    assert location.split("?")[0] in listed
    assert await access_events_of(conn, file.person) == 0


async def test_the_printable_page_holds_everything_without_links(client: httpx.AsyncClient, file: CitizenFile) -> None:
    printed = await client.get("/my-data/print")
    assert printed.status_code == 200
    text = _text(printed)
    assert text.count('class="print-category"') == 7
    assert "/report-error" not in text
    assert "Verzekeringen Schelde NV" in text
    assert "2e kwartaal 2026" in text
    assert 'class="ceiling-meter' in text


async def test_pages_need_sign_in(client: httpx.AsyncClient) -> None:
    anonymous = await client.get("/my-data")
    assert (anonymous.status_code, anonymous.headers["location"]) == (303, "/sign-in?next=/my-data")


async def test_another_persons_record_cannot_be_reported(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings, file: CitizenFile
) -> None:
    form_path = _REPORT_LINK.findall((await client.get("/my-data/dimona")).text)[0]
    stranger = await create_person(conn)
    await sign_in_client(client, conn, settings.secret_key, stranger)
    assert (await client.get(form_path)).status_code == 404
    wrong_category = form_path.replace("/dimona/", "/dmfa/")
    await sign_in_client(client, conn, settings.secret_key, file.person)
    assert (await client.get(wrong_category)).status_code == 404


@pytest.mark.parametrize("language", ["nl", "fr"])
async def test_the_overview_links_to_my_data(
    client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings, language: Language
) -> None:
    await sign_in_client(client, conn, settings.secret_key, await create_person(conn, language=language))
    overview = _text(await client.get("/my"))
    assert 'href="/my-data"' in overview
    assert _t(language, "What is held about you") in overview
