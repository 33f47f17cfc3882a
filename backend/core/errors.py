"""Errors as RFC 9457 problem+json for the API, and the hook that lets pages render HTML error pages.

Nothing a client receives carries a stack trace or personal data: a 500 says only that something went wrong
and gives the request id to quote to support.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from typing import Any, Final, TypeVar

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from backend.core.request_context import current_request_id
from backend.core.request_transaction import FAILED_KEY

T = TypeVar("T")

logger = logging.getLogger("vitrine.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"

_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Something went wrong on our side",
    503: "Temporarily unavailable",
}


# A back end that cannot be reached (PostgreSQL restarting, a connection cut, Redis down, a timeout) is a
# temporary condition: the client is told 503 with Retry-After, not 500, and tries again shortly.
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    RedisConnectionError,
    RedisTimeoutError,
)
RETRY_AFTER_SECONDS = 5
_LOST_CONNECTION_SIGNS = ("connection has been released back to the pool", "connection is closed")


def is_unavailable(exc: BaseException) -> bool:
    """Whether the exception says a back end cannot be reached right now (rather than a fault in our code)."""
    if isinstance(exc, asyncpg.InterfaceError):
        # When the server closes a connection (a restart), asyncpg gives it back to the pool and detaches it from
        # whoever borrowed it: their next call fails with one of these messages rather than a connection error.
        return any(sign in str(exc) for sign in _LOST_CONNECTION_SIGNS)
    if isinstance(exc, asyncpg.InternalClientError):
        # A connection the server terminated while it sat idle in the pool (its shutdown notice arrives before the
        # socket closes) refuses the next statement with this protocol-state error.
        return "another operation" in str(exc)
    # asyncio raises a bare OSError ("Multiple exceptions: ... Connect call failed") when every address of a
    # host refuses; its subclasses (a missing file, a permission) are faults and stay 500s.
    return isinstance(exc, UNAVAILABLE_ERRORS) or type(exc) is OSError


class FieldError(msgspec.Struct, frozen=True, kw_only=True):
    """One invalid input: which field (a JSON path like `items[2].amount`), where, and what is wrong."""

    field: str
    message: str
    location: str = "body"


class ProblemDetails(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """RFC 9457 problem details, with Vitrine's `errors` and `request_id` extension members."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] = msgspec.field(default_factory=list)


class Problem(Exception):
    """Raised by services and handlers to answer with a specific problem (status, kind, fields)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        title: str | None = None,
        errors: Sequence[FieldError] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind
        self.title = title or _TITLES.get(status, "Error")
        self.errors = list(errors)
        self.headers = headers or {}


def validation_problem(errors: Sequence[FieldError], detail: str = "Some fields are not valid.") -> Problem:
    """A 422 naming each failing field."""
    return Problem(422, detail, kind="validation", errors=errors)


_UNKNOWN_FIELD: Final = re.compile(r"^Object contains unknown field `(?P<name>[^`]+)`")
_MISSING_FIELD: Final = re.compile(r"^Object missing required field `(?P<name>[^`]+)`")
# Checks across fields (in a Struct's __post_init__) start their message with the field they blame.
_BLAMED_FIELD: Final = re.compile(r"^`(?P<name>[a-z_][a-z0-9_]*)`")


def field_errors(error: msgspec.ValidationError, prefix: str) -> list[FieldError]:
    """Name the failing field as `prefix.path` from msgspec's message ("… - at `$.path`"); a field that is missing,
    unknown or blamed by a cross-field check is named from the message."""
    message, separator, path = str(error).partition(" - at `$")
    path = path.rstrip("`") if separator else ""
    for pattern in (_UNKNOWN_FIELD, _MISSING_FIELD, _BLAMED_FIELD):
        match = pattern.match(message)
        if match:
            return [FieldError(field=f"{prefix}{path}.{match['name']}", message=message)]
    return [FieldError(field=prefix + path, message=message)]


def decode_json_body(body: bytes, body_type: type[T]) -> T:
    """A JSON request body as `body_type`, or a 422 naming the failing field (`subject`, `answer`…) or `body`."""
    try:
        return msgspec.json.decode(body, type=body_type)
    except msgspec.ValidationError as exc:
        errors = [
            FieldError(field=error.field.removeprefix(".") or "body", message=error.message)
            for error in field_errors(exc, "")
        ]
        raise validation_problem(errors) from None
    except msgspec.DecodeError:
        raise validation_problem([FieldError(field="body", message="is not valid JSON")]) from None


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """The OpenAPI description of the problem+json answers a handler may give besides its success.

    Every JSON handler declares the statuses it can answer with (`responses=problem_responses(401, 404, 422)`),
    so that clients (and the contract tests) know each error's status, media type and body.
    """
    return {
        status: ResponseSpec(
            data_container=ProblemDetails,
            media_type=PROBLEM_MEDIA_TYPE,
            description=_TITLES.get(status) or _phrase(status),
            generate_examples=False,
        )
        for status in sorted(set(statuses))
    }


def _problem_type(kind: str | None) -> str:
    return f"urn:vitrine:problem:{kind}" if kind else "about:blank"


def _field_errors_from_validation(exc: ValidationException) -> list[FieldError]:
    """Litestar reports msgspec/parameter failures as dicts with message, key and source."""
    extra: Any = exc.extra
    items = extra if isinstance(extra, list) else [extra] if isinstance(extra, dict) else []
    errors: list[FieldError] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", "Invalid value"))
        field = str(item.get("key") or "")
        if " - at `$." in message:  # msgspec: "Expected `int`, got `str` - at `$.items[0].amount`"
            message, _, path = message.partition(" - at `$.")
            field = path.rstrip("`")
        elif " - at `$`" in message:
            message = message.partition(" - at `$`")[0]
        errors.append(FieldError(field=field or "body", message=message, location=str(item.get("source") or "body")))
    return errors


def problem_from_exception(request: Request[Any, Any, Any], exc: Exception) -> ProblemDetails:
    """Turn any exception into problem details that are safe to show."""
    request_id = current_request_id()
    instance = request.url.path
    if isinstance(exc, Problem):
        return ProblemDetails(
            type=_problem_type(exc.kind),
            title=exc.title,
            status=exc.status,
            detail=exc.detail,
            instance=instance,
            request_id=request_id,
            errors=exc.errors,
        )
    if isinstance(exc, ValidationException):
        errors = _field_errors_from_validation(exc)
        return ProblemDetails(
            type=_problem_type("validation"),
            title=_TITLES[422] if errors else _TITLES[400],
            status=422 if errors else 400,
            detail="Some fields are not valid." if errors else "The request could not be read.",
            instance=instance,
            request_id=request_id,
            errors=errors,
        )
    if isinstance(exc, HTTPException) and exc.status_code < 500:
        return ProblemDetails(
            type="about:blank",
            title=_TITLES.get(exc.status_code, _phrase(exc.status_code)),
            status=exc.status_code,
            detail=exc.detail if exc.detail and exc.detail != _phrase(exc.status_code) else None,
            instance=instance,
            request_id=request_id,
        )
    if isinstance(exc, HTTPException):
        status = exc.status_code
    elif is_unavailable(exc):
        status = HTTP_503_SERVICE_UNAVAILABLE
    else:
        status = HTTP_500_INTERNAL_SERVER_ERROR
    return ProblemDetails(
        type="about:blank",
        title=_TITLES.get(status, "Error"),
        status=status,
        detail="Please try again later. If it keeps happening, quote the request id to support.",
        instance=instance,
        request_id=request_id,
    )


def _phrase(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def wants_json(request: Request[Any, Any, Any]) -> bool:
    """API paths always answer JSON; elsewhere the Accept header decides (HTML by default)."""
    if request.url.path.startswith(("/api/", "/schema")):
        return True
    accept = request.headers.get("accept", "")
    return "json" in accept and "text/html" not in accept


HtmlErrorRenderer = Callable[[Request[Any, Any, Any], ProblemDetails], Response[Any]]


def problem_response(problem: ProblemDetails, headers: dict[str, str] | None = None) -> Response[bytes]:
    """A problem+json response."""
    return Response(
        content=msgspec.json.encode(problem),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def make_exception_handler(
    render_html: HtmlErrorRenderer | None,
) -> Callable[[Request[Any, Any, Any], Exception], Response[Any]]:
    """The app-wide exception handler: log faults, answer problem+json or an HTML page."""

    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        # Whatever the request wrote is rolled back (see backend.core.request_transaction).
        request.scope[FAILED_KEY] = True  # type: ignore[literal-required]
        problem = problem_from_exception(request, exc)
        if problem.status == HTTP_503_SERVICE_UNAVAILABLE and is_unavailable(exc):
            # Expected during an outage, once per request: one line each, not a stack trace each.
            logger.warning(
                "back end unavailable",
                extra={"error": type(exc).__name__, "path": request.scope.get("path_template", "")},
            )
        elif problem.status >= 500:
            logger.error(
                "request failed",
                exc_info=exc,
                extra={"status": problem.status, "path": request.scope.get("path_template", "")},
            )
        headers: dict[str, str] = {}
        if isinstance(exc, Problem):
            headers.update(exc.headers)
        if isinstance(exc, HTTPException) and exc.headers:
            headers.update(exc.headers)
        if isinstance(exc, NotAuthorizedException):
            headers.setdefault("WWW-Authenticate", "Bearer")
        if problem.status == HTTP_503_SERVICE_UNAVAILABLE:
            headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))
        if render_html is not None and not wants_json(request):
            response = render_html(request, problem)
            response.headers.update(headers)
            return response
        return problem_response(problem, headers)

    return handle


__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "FieldError",
    "Problem",
    "ProblemDetails",
    "make_exception_handler",
    "problem_from_exception",
    "problem_response",
    "problem_responses",
    "validation_problem",
    "wants_json",
]
