"""Every JSON API operation, fuzzed by schemathesis from the app's own OpenAPI description: no server error, and
every answer as declared (status code documented, content type, body schema, headers).

Citizen operations run signed in as a seeded citizen; institution operations carry a fresh single-use assertion
per request. Path parameters are sometimes replaced by ids that exist in the seeded database, so the answers
past "not found" are checked as well. Valid and invalid inputs are both generated.
"""

from __future__ import annotations

import base64
from typing import Any

import hypothesis
import pytest
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema

from backend.app import create_app
from backend.core.settings import load_settings
from tests.api_contract.conftest import ContractWorld

AnyOperation = APIOperation[Any, Any, Any, Any]
AnyCase = Case[Any]

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("api_contract")]

# Calls authenticated by an institution's signed assertion rather than a citizen's session.
INSTITUTION_PATHS = (
    "/api/v1/institution/",
    "/api/v1/declarations",
    "/api/v1/lookups",
    "/api/v1/mandates/check",
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Bounded so that the whole run stays well under a minute and a half on two cores.
EXAMPLES_PER_OPERATION = 25


def _assert_compact_jws(token: str) -> None:
    """Receipts are compact JWS (RFC 7515): three base64url parts."""
    parts = token.split(".")
    assert len(parts) == 3, f"not a compact JWS: {token[:40]!r}"
    for part in parts:
        base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _success_is_json(operation: AnyOperation) -> bool:
    """Whether the operation's success answers are JSON (schemathesis reads every application/* body as JSON)."""
    responses = operation.definition.raw.get("responses", {})
    media = [
        media_type
        for status, answer in responses.items()
        if status.startswith("2")
        for media_type in answer.get("content", {})
    ]
    return not media or any(media_type.endswith("json") for media_type in media)


def _documented_operations() -> list[tuple[str, str]]:
    """(method, path) of every JSON API operation the app describes; read from the app itself at collection."""
    settings = load_settings(
        {"VITRINE_ENV": "test", "DATABASE_URL": "postgresql://unused", "REDIS_URL": "redis://unused"}
    )
    document = create_app(settings, configure_logs=False).openapi_schema.to_schema()
    return sorted(
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if path.startswith("/api/") and method in {"get", "post", "put", "patch", "delete"}
    )


def _is_institution_call(method: str, path: str) -> bool:
    if path == "/api/v1/access-events":
        return method == "POST"
    return path.startswith(INSTITUTION_PATHS)


def _cases(operation: AnyOperation) -> st.SearchStrategy[AnyCase]:
    positive = operation.as_strategy(GenerationMode.POSITIVE)
    has_input = bool(operation.path_parameters or operation.query or operation.headers or operation.body)
    return st.one_of(positive, operation.as_strategy(GenerationMode.NEGATIVE)) if has_input else positive


@pytest.mark.parametrize(("method", "path"), _documented_operations(), ids=lambda value: str(value))
def test_api_operation_keeps_its_contract(
    method: str, path: str, api_schema: OpenApiSchema, contract_world: ContractWorld
) -> None:
    operation = api_schema[path][method]
    json_answers = _success_is_json(operation)

    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        derandomize=True,
        database=None,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    @hypothesis.given(case=_cases(operation), data=st.data())
    def call(case: AnyCase, data: st.DataObject) -> None:
        for name, known in contract_world.known_ids.items():
            if case.path_parameters and name in case.path_parameters and known:
                choices = [case.path_parameters[name], *known]
                case.path_parameters[name] = data.draw(st.sampled_from(choices), label=name)
        if _is_institution_call(method, path):
            case.headers["Authorization"] = f"Bearer {contract_world.assertion()}"
        else:
            cookie_name, token = contract_world.session_cookie
            csrf_name, csrf_token = contract_world.csrf_cookie
            case.cookies = {**(case.cookies or {}), cookie_name: token, csrf_name: csrf_token}
            case.headers["X-CSRFToken"] = csrf_token
        if json_answers:
            case.call_and_validate(checks=CHECKS)
            return
        response = case.call()
        case.validate_response(response, checks=[check for check in CHECKS if check is not response_schema_conformance])
        if response.status_code == 200 and response.headers.get("content-type", [""])[0] == "application/jwt":
            _assert_compact_jws(response.text)

    call()
