"""Payload rules of the built-in categories, checked without a database: each bad value is named at its path."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
import pytest

from backend.records.categories.a1 import last_day_of_posting
from backend.records.events import CheckedPayload, check_payload
from backend.records.registry import REGISTRY
from backend.records.schemas import CloudEvent
from tests.factories import new_kbo

TODAY = date(2026, 11, 25)
KBO = new_kbo()


def _check(category: str, data: Any, **extra: Any) -> CheckedPayload | dict[str, str]:
    found = REGISTRY.get(category)
    assert found is not None
    envelope = {
        "specversion": "1.0",
        "id": "e-1",
        "source": "/test",
        "type": found.event_type,
        "subject": "85073003328",
        "time": "2026-11-01T10:00:00Z",
        "data": data,
        **extra,
    }
    result = check_payload(msgspec.convert(envelope, CloudEvent), found, "items[0]", TODAY)
    if isinstance(result, list):
        return {error.field.removeprefix("items[0].data."): error.message for error in result}
    return result


def _errors(category: str, data: Any) -> dict[str, str]:
    result = _check(category, data)
    assert isinstance(result, dict), result
    return result


A1 = {"destination_country": "NL", "start": "2026-02-02", "end": "2026-11-27", "employer_kbo": KBO}
DMFA_OCCUPATION = {
    "start": "2019-09-02",
    "joint_committee": "306",
    "working_days_system": 400,
    "mean_hours": 3040,
    "reference_hours": 3800,
    "services": [{"code": "001", "days": 5200, "hours": 39520}],
    "remunerations": [{"code": "001", "amount_cents": 864_000}],
}
DMFA = {"quarter": "2026-3", "employer_kbo": KBO, "worker_code": "495", "occupations": [DMFA_OCCUPATION]}
WORKPLACE = {"street": "Ledeganckkaai 30", "postal_code": "2000", "municipality": "Antwerpen"}
LIMOSA: dict[str, Any] = {
    "foreign_employer_name": "Budmax Sp. z o.o.",
    "foreign_employer_country": "PL",
    "belgian_user_kbo": KBO,
    "start": "2026-03-02",
    "end": "2026-09-30",
    "workplace": WORKPLACE,
    "sector": "Construction",
    "l1_receipt_number": "L1-2026-0417385",
}


def test_a_dotted_enterprise_number_is_stored_as_ten_digits() -> None:
    dotted = f"{KBO[:4]}.{KBO[4:7]}.{KBO[7:]}"
    result = _check("flexi_wages", {"employer_kbo": dotted, "month": "2026-03", "amount_cents": 1})
    assert isinstance(result, CheckedPayload)
    assert msgspec.to_builtins(result.payload, enc_hook=str)["employer_kbo"] == KBO
    assert (result.valid_from, result.valid_to) == (date(2026, 3, 1), date(2026, 3, 31))


def test_a_dmfa_quarter_is_its_period_and_nested_errors_are_named() -> None:
    result = _check("dmfa", DMFA)
    assert isinstance(result, CheckedPayload)
    assert (result.valid_from, result.valid_to) == (date(2026, 7, 1), date(2026, 9, 30))
    bad_amount = {**DMFA_OCCUPATION, "remunerations": [{"code": "001", "amount_cents": -1}]}
    assert _errors("dmfa", {**DMFA, "occupations": [bad_amount]}) == {
        "occupations[0].remunerations[0].amount_cents": "Expected `int` >= 0"
    }
    ended_early = {**DMFA_OCCUPATION, "end": "2019-01-01"}
    assert _errors("dmfa", {**DMFA, "occupations": [ended_early]}) == {
        "occupations[0].end": "`end` must not be before `start`"
    }
    assert "quarter" in _errors("dmfa", {**DMFA, "quarter": "2026-5"})
    assert _errors("dmfa", {**DMFA, "quarter": "2029-1"}) == {"quarter": "is more than 2 years ahead"}


@pytest.mark.parametrize(
    ("country", "end", "allowed"),
    [
        ("NL", "2028-02-01", True),  # 24 months to the day before
        ("NL", "2028-02-02", False),
        ("CH", "2028-06-01", False),
        ("NO", "2028-02-01", True),
        ("US", "2028-06-01", True),  # outside the EEA, bilateral agreements set their own limits
    ],
)
def test_an_a1_posting_to_the_eea_or_switzerland_lasts_at_most_24_months(country: str, end: str, allowed: bool) -> None:
    result = _check("a1", {**A1, "destination_country": country, "end": end})
    if allowed:
        assert isinstance(result, CheckedPayload), result
    else:
        assert result == {"end": "`end`: a posting within the EEA or to Switzerland lasts at most 24 months"}


@pytest.mark.parametrize(
    ("start", "months", "last"),
    [
        (date(2026, 2, 2), 24, date(2028, 2, 1)),
        (date(2026, 1, 31), 1, date(2026, 2, 27)),
        (date(2026, 3, 1), 24, date(2028, 2, 29)),
    ],
)
def test_last_day_of_posting(start: date, months: int, last: date) -> None:
    assert last_day_of_posting(start, months) == last


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"destination_country": "nl"}, "destination_country"),
        ({"destination_country": "XX"}, "destination_country"),
        ({"destination_country": "BE"}, "destination_country"),
        ({"employer_kbo": "0403019262"}, "employer_kbo"),
        ({"employer_kbo": 403019261}, "employer_kbo"),
    ],
)
def test_a1_fields(change: dict[str, Any], field: str) -> None:
    assert field in _errors("a1", {**A1, **change})


def test_limosa() -> None:
    assert isinstance(_check("limosa", LIMOSA), CheckedPayload)
    assert "foreign_employer_country" in _errors("limosa", {**LIMOSA, "foreign_employer_country": "BE"})
    assert "workplace.postal_code" in _errors("limosa", {**LIMOSA, "workplace": {**WORKPLACE, "postal_code": "20"}})
    assert "belgian_user_kbo" in _errors("limosa", {**LIMOSA, "belgian_user_kbo": "123"})


@pytest.mark.parametrize("worker_type", ["FLX", "STU", "EXT", "OTH", "A17"])
def test_dimona_worker_types(worker_type: str) -> None:
    data = {"employer_kbo": KBO, "worker_type": worker_type, "start": "2026-05-01", "planned_hours": 3800}
    assert isinstance(_check("dimona", data), CheckedPayload)


def test_drs_scenarios() -> None:
    data = {"scenario": "work_accident", "employer_kbo": KBO, "start": "2026-05-01"}
    assert isinstance(_check("drs", data), CheckedPayload)
    assert "scenario" in _errors("drs", {**data, "scenario": "holiday"})


def test_identity() -> None:
    data = {"given_name": "Sofie", "family_name": "Peeters", "birth_date": "1991-04-12", "language": "nl"}
    assert isinstance(_check("identity", data), CheckedPayload)
    assert _errors("identity", {**data, "birth_date": "1850-01-01"}) == {"birth_date": "is before 1900-01-01"}
