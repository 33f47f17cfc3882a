"""A JSON value put in jsonb's key order equals, key order included, what the database gives back."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import pytest

from backend.records.jsonb import as_read_from_jsonb

VALUES: list[Any] = [
    {"employer_kbo": "0123456749", "month": "2026-03", "amount_cents": 48_000, "corrects": None},
    {"b": [{"zz": 1, "a": [{"bb": True, "a": None}]}], "a": {"cc": 1, "b": "x"}, "é": 1, "z": 2, "ab": 3},
    [{"longer": 1, "short": 2}, "text", 7, None, []],
    {},
    "plain",
]


def test_keys_are_ordered_shorter_first_then_by_bytes() -> None:
    assert list(as_read_from_jsonb({"bb": 1, "a": 2, "ab": 3, "c": 4})) == ["a", "c", "ab", "bb"]


@pytest.mark.parametrize("value", VALUES)
async def test_the_order_is_the_one_jsonb_gives_back(conn: asyncpg.Connection, value: Any) -> None:
    stored = await conn.fetchval("SELECT $1::jsonb", value)
    ordered = as_read_from_jsonb(value)
    assert ordered == value
    assert json.dumps(ordered) == json.dumps(stored)
