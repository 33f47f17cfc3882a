"""The category registry: every built-in category is complete, and a new one is a Struct and an entry (no
migration): it can be declared and looked up at once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest

from backend.core.identity.demo import PURPOSES
from backend.core.identity.purposes import Purpose, upsert_purpose
from backend.records.categories.base import Category, EnterpriseNumber, Recipient, Texts, check_period
from backend.records.registry import REGISTRY, parse_event_type
from tests.backend.records.cloud_events import DECLARATIONS, LOOKUPS, errors_of, event
from tests.backend.records.institutions import LEGAL, make_institution
from tests.factories import create_person, new_insz, new_kbo

BUILT_IN = ["identity", "dimona", "dmfa", "flexi_wages", "limosa", "a1", "drs"]


def test_the_built_in_categories_are_registered_in_order() -> None:
    assert [category.code for category in REGISTRY.all()] == BUILT_IN
    assert REGISTRY.get("dimona") is not None
    assert REGISTRY.get("horoscope") is None


@pytest.mark.parametrize("code", BUILT_IN)
def test_every_category_says_everything_in_every_language(code: str) -> None:
    category = REGISTRY.get(code)
    assert category is not None
    for texts in (category.title, category.source_name, category.legal_basis, category.retention, category.explanation):
        values = [texts.nl, texts.fr, texts.de, texts.en]
        assert all(value.strip() for value in values)
        # Real text in each language, not one text copied four times (titles may share a proper name).
        if texts is category.explanation:
            assert len(set(values)) == 4
    assert category.event_type == f"be.socialsecurity.{code}.v1"


def test_recipients_only_use_purposes_that_exist() -> None:
    seeded = {(key.upper(), code) for key, code, *_ in PURPOSES}
    for category in REGISTRY.all():
        for recipient in category.recipients:
            for purpose in recipient.purposes:
                assert (recipient.institution, purpose) in seeded, (category.code, recipient)


def test_a_category_listed_by_a_purpose_names_that_institution_as_a_recipient() -> None:
    for key, code, categories, *_ in PURPOSES:
        for category_code in categories:
            category = REGISTRY.get(category_code)
            assert category is not None
            assert category.may_receive(key.upper(), code), (category_code, key, code)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("be.socialsecurity.dimona.v1", ("dimona", 1)),
        ("be.socialsecurity.flexi_wages.v12", ("flexi_wages", 12)),
        ("be.socialsecurity.dimona.v0", None),
        ("be.socialsecurity.Dimona.v1", None),
        ("be.socialsecurity.dimona", None),
        ("dimona", None),
    ],
)
def test_event_types(value: str, expected: tuple[str, int] | None) -> None:
    assert parse_event_type(value) == expected


def test_a_code_is_registered_once() -> None:
    existing = REGISTRY.get("dimona")
    assert existing is not None
    with pytest.raises(ValueError, match="already registered"):
        REGISTRY.register(existing)


class CareerBreakPayload(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A career break (time credit), invented here to show that a category needs no migration."""

    employer_kbo: EnterpriseNumber
    start: date
    end: date
    fraction_percent: int

    def __post_init__(self) -> None:
        check_period(self.start, self.end)


def _period(payload: Any) -> tuple[date | None, date | None]:
    return payload.start, payload.end


TEXT = Texts(nl="Loopbaanonderbreking", fr="Interruption de carrière", de="Laufbahnunterbrechung", en="Career break")
CAREER_BREAK = Category(
    code="career_break",
    version=1,
    schema=CareerBreakPayload,
    source="ONEM",
    source_name=TEXT,
    title=TEXT,
    legal_basis=TEXT,
    recipients=(Recipient(institution="SFP", purposes=("pension_calculation",)),),
    retention=TEXT,
    explanation=TEXT,
    period=_period,
    period_field="start",
)


@pytest.fixture
def career_break() -> Iterator[Category]:
    REGISTRY.register(CAREER_BREAK)
    try:
        yield CAREER_BREAK
    finally:
        REGISTRY.unregister(CAREER_BREAK.code)


async def test_a_category_added_at_run_time_is_declared_and_looked_up_without_a_migration(
    api: httpx.AsyncClient, conn: asyncpg.Connection, career_break: Category
) -> None:
    insz = new_insz()
    await create_person(conn, insz=insz)
    onem = await make_institution(conn, "ONEM")
    data = {"employer_kbo": new_kbo(), "start": "2026-09-01", "end": "2027-08-31", "fraction_percent": 20}
    items = [
        event(insz, "cb-1", "career_break", data, source="/onem/career-break"),
        event(insz, "cb-2", "career_break", {**data, "end": "2026-01-01"}, source="/onem/career-break"),
    ]
    answer = (await api.post(DECLARATIONS, json=items, headers=onem.headers())).json()
    assert [item["status"] for item in answer["items"]] == ["accepted", "rejected"]
    assert errors_of(answer["items"][1]) == {"items[1].data.end": "`end` must not be before `start`"}

    sfp = await make_institution(conn, "SFP")
    await upsert_purpose(
        conn,
        Purpose(
            org_id=sfp.organisation.org_id,
            code="pension_calculation",
            categories=("career_break",),
            authorisation_ref="IVC/TEST/CB",
            **LEGAL,
        ),
    )
    body = {"insz": insz, "categories": ["career_break"], "purpose": "pension_calculation"}
    response = await api.post(LOOKUPS, json=body, headers=sfp.headers())
    assert response.status_code == 200, response.text
    (record,) = response.json()["records"]["career_break"]
    assert record["payload"] == data
    assert record["valid_to"] == "2027-08-31"


async def test_once_removed_the_category_is_unknown_again(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    insz = new_insz()
    await create_person(conn, insz=insz)
    onem = await make_institution(conn, "ONEM")
    item = event(insz, "cb-9", "career_break", {"start": "2026-09-01"}, source="/onem/career-break")
    answer = (await api.post(DECLARATIONS, json=[item], headers=onem.headers())).json()
    assert "unknown category `career_break`" in errors_of(answer["items"][0])["items[0].type"]
