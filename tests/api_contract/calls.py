"""How the contract tests call the app and judge its answers: credentials per call, and the checks."""

from __future__ import annotations

import base64
from typing import Any

from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.core.transport import Response
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api_contract.conftest import ContractWorld

AnyOperation = APIOperation[Any, Any, Any, Any]
AnyCase = Case[Any]

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


def is_institution_call(method: str, path: str) -> bool:
    """Whether the operation is one that institutions call (with an assertion) rather than people."""
    if path == "/api/v1/access-events":
        return method.upper() == "POST"
    return path.startswith(INSTITUTION_PATHS)


def authenticate(case: AnyCase, world: ContractWorld) -> None:
    """A fresh single-use assertion for institution calls; the citizen's session and CSRF token otherwise."""
    if is_institution_call(case.operation.method, case.operation.path):
        case.headers["Authorization"] = f"Bearer {world.assertion()}"
        return
    cookie_name, token = world.session_cookie
    csrf_name, csrf_token = world.csrf_cookie
    case.cookies = {**(case.cookies or {}), cookie_name: token, csrf_name: csrf_token}
    case.headers["X-CSRFToken"] = csrf_token


def success_is_json(operation: AnyOperation) -> bool:
    """Whether the operation's success answers are JSON (schemathesis reads every application/* body as JSON)."""
    responses = operation.definition.raw.get("responses", {})
    media = [
        media_type
        for status, answer in responses.items()
        if status.startswith("2")
        for media_type in answer.get("content", {})
    ]
    return not media or any(media_type.endswith("json") for media_type in media)


def _assert_compact_jws(token: str) -> None:
    """Receipts are compact JWS (RFC 7515): three base64url parts."""
    parts = token.split(".")
    assert len(parts) == 3, f"not a compact JWS: {token[:40]!r}"
    for part in parts:
        base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def check_answer(case: AnyCase, response: Response) -> None:
    """Every check; a receipt (application/jwt) is checked as a compact JWS instead of against a JSON schema."""
    if success_is_json(case.operation):
        case.validate_response(response, checks=CHECKS)
        return
    case.validate_response(response, checks=[check for check in CHECKS if check is not response_schema_conformance])
    if response.status_code == 200 and response.headers.get("content-type", [""])[0] == "application/jwt":
        _assert_compact_jws(response.text)
