"""Problem details: validation errors name the field, faults never leak, services raise Problem."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Litestar, get, post
from litestar.params import JSONBody
from litestar.testing import AsyncTestClient  # a standalone app with no shared connection

from backend.core.errors import FieldError, Problem, make_exception_handler, validation_problem


class Amount(msgspec.Struct, forbid_unknown_fields=True):
    cents: Annotated[int, msgspec.Meta(ge=0)]


class Declaration(msgspec.Struct, forbid_unknown_fields=True):
    employer: str
    amounts: list[Amount]


@post("/api/declarations")
async def declare(data: JSONBody[Declaration]) -> dict[str, int]:
    return {"count": len(data.amounts)}


@get("/api/conflict")
async def conflict() -> None:
    raise validation_problem([FieldError(field="insz", message="INSZ check digits do not match")])


@get("/api/limited")
async def limited() -> None:
    raise Problem(429, "Try again in a minute.", kind="rate-limited", headers={"Retry-After": "60"})


@get("/api/boom")
async def boom() -> None:
    raise RuntimeError("secret detail 85073003328")


def _client() -> AsyncTestClient[Litestar]:
    app = Litestar(
        route_handlers=[declare, conflict, limited, boom],
        exception_handlers={Exception: make_exception_handler(None)},
        logging_config=None,
    )
    return AsyncTestClient(app=app)


async def test_a_wrong_type_deep_in_the_body_names_its_path() -> None:
    async with _client() as client:
        response = await client.post(
            "/api/declarations", json={"employer": "x", "amounts": [{"cents": 1}, {"cents": "ten"}]}
        )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == "urn:vitrine:problem:validation"
    assert body["errors"] == [{"field": "amounts[1].cents", "message": "Expected `int`, got `str`", "location": "body"}]


async def test_a_constraint_and_an_unknown_field_are_named() -> None:
    async with _client() as client:
        negative = await client.post("/api/declarations", json={"employer": "x", "amounts": [{"cents": -5}]})
        unknown = await client.post("/api/declarations", json={"employer": "x", "amounts": [], "extra": 1})
        missing = await client.post("/api/declarations", json={"amounts": []})
    assert negative.json()["errors"][0]["field"] == "amounts[0].cents"
    assert ">= 0" in negative.json()["errors"][0]["message"]
    assert "extra" in unknown.json()["errors"][0]["message"]
    assert "employer" in missing.json()["errors"][0]["message"]


async def test_malformed_json_is_a_clear_400() -> None:
    async with _client() as client:
        response = await client.post(
            "/api/declarations", content=b"{not json", headers={"content-type": "application/json"}
        )
    assert response.status_code in {400, 422}
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_services_raise_problems_with_fields_and_headers() -> None:
    async with _client() as client:
        conflict_response = await client.get("/api/conflict")
        limited_response = await client.get("/api/limited")
    assert conflict_response.status_code == 422
    assert conflict_response.json()["errors"][0]["field"] == "insz"
    assert limited_response.status_code == 429
    assert limited_response.headers["retry-after"] == "60"
    assert limited_response.json()["type"] == "urn:vitrine:problem:rate-limited"


async def test_a_fault_reveals_nothing() -> None:
    async with _client() as client:
        response = await client.get("/api/boom")
    assert response.status_code == 500
    text = response.text
    assert "secret detail" not in text
    assert "85073003328" not in text
    assert "Traceback" not in text
    assert response.json()["title"] == "Something went wrong on our side"
