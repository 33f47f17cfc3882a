"""How desk pages answer a refusal: a page with the message and the right status, returned rather than raised.

Returning keeps the request's transaction alive, so the denied event the service wrote in the person's access
log is committed with the answer.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.response import Template

from backend.core.errors import Problem, problem_from_exception, problem_response, wants_json
from frontend.rendering import page


def field_errors(problem: Problem) -> list[dict[str, str]]:
    """The problem's errors as the error summary lists them (anchors to the fields)."""
    return [
        {"field_id": error.field.split("[")[0].split(".")[0], "message": error.message} for error in problem.errors
    ] or [{"field_id": "main", "message": problem.detail}]


def by_field(problem: Problem) -> dict[str, str]:
    """The first message for each field, for the field's own error line."""
    found: dict[str, str] = {}
    for error in problem.errors:
        found.setdefault(error.field.split("[")[0].split(".")[0], error.message)
    return found


def refused_page(
    request: Request[Any, Any, Any], problem: Problem, *, session_id: object = None
) -> Template | Response[bytes]:
    """The refusal, in words, with a way back to the desk console (problem+json for a client asking for JSON)."""
    if wants_json(request):
        return problem_response(problem_from_exception(request, problem))
    return page(
        request,
        "pages/desk/refused.html",
        status_code=problem.status,
        message=problem.detail,
        errors=field_errors(problem),
        session_id=session_id,
        logged=bool(getattr(problem, "logged", False)),
    )
