"""Institution API for records: declaring what is held about people, and looking it up for a purpose."""

from __future__ import annotations

from typing import Any, Final

import asyncpg
import msgspec
from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency, Provide
from litestar.status_codes import HTTP_200_OK

from backend.core.auth.guards import requires_institution_credentials
from backend.core.auth.institution import Institution, provide_institution, provide_institution_for_lookup
from backend.core.digits import is_ascii_digits
from backend.core.errors import (
    FieldError,
    Problem,
    ProblemDetails,
    decode_json_body,
    problem_response,
    problem_responses,
    validation_problem,
)
from backend.core.openapi_bodies import json_body_operation
from backend.core.request_context import current_request_id
from backend.records.lookups import LookupRefused, look_up_records
from backend.records.schemas import BatchAnswer, CloudEvent, LookupRequest
from backend.records.service import MAX_BATCH_ITEMS, MalformedItem, ingest_declarations

__all__ = ["MAX_BODY_BYTES", "ROUTES", "DeclarationController", "LookupController", "read_batch"]

MAX_BODY_BYTES: Final = 1024 * 1024
NDJSON: Final = "application/x-ndjson"
# A JSON array of structured events; the CloudEvents batch format is the same array under its own media type.
JSON_TYPES: Final = frozenset({"application/json", "application/cloudevents-batch+json"})


def _too_large() -> Problem:
    return Problem(
        413,
        f"A batch holds at most {MAX_BATCH_ITEMS} events and {MAX_BODY_BYTES} bytes; send the rest in another request.",
        kind="batch-too-large",
    )


async def _body(request: Request[Any, Any, Any]) -> bytes:
    """The body, refused as soon as it passes the size limit (a huge body is never read in full)."""
    declared = request.headers.get("content-length", "")
    if is_ascii_digits(declared) and int(declared) > MAX_BODY_BYTES:
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


async def read_batch(request: Request[Any, Any, Any]) -> list[object]:
    """The items of a batch: a JSON array, or one JSON object per line (NDJSON) where a bad line is one bad item."""
    media_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if media_type != NDJSON and media_type not in JSON_TYPES:
        raise Problem(415, f"Send a JSON array (application/json) or NDJSON ({NDJSON}).", kind="media-type")
    body = await _body(request)
    if media_type == NDJSON:
        items: list[object] = []
        for line in body.splitlines():
            if not line.strip():
                continue
            try:
                items.append(msgspec.json.decode(line))
            except msgspec.DecodeError:
                items.append(MalformedItem())
        return items
    try:
        decoded = msgspec.json.decode(body)
    except msgspec.DecodeError:
        raise validation_problem([FieldError(field="body", message="is not valid JSON")]) from None
    if not isinstance(decoded, list):
        raise validation_problem([FieldError(field="body", message="must be a JSON array of CloudEvents")])
    return decoded


async def read_lookup(request: Request[Any, Any, Any]) -> LookupRequest:
    """The look-up asked for; a 422 names each bad field (`categories[1]`, an unknown `why`)."""
    return decode_json_body(await _body(request), LookupRequest)


class DeclarationController(Controller):
    """Institutions declare what they hold about people (CloudEvents 1.0, structured mode)."""

    path = "/api/v1/declarations"
    tags = ["records"]
    guards = [requires_institution_credentials]
    dependencies = {"institution": Provide(provide_institution)}

    @post(
        "",
        status_code=HTTP_200_OK,
        responses=problem_responses(400, 401, 403, 413, 422),
        operation_class=json_body_operation(
            list[CloudEvent], "A JSON array of at most 1000 CloudEvents (or the same events as NDJSON)."
        ),
    )
    async def declare(
        self,
        request: Request[Any, Any, Any],
        institution: NamedDependency[Institution],
        conn: NamedDependency[asyncpg.Connection],
    ) -> BatchAnswer:
        """Declare a batch of records: a JSON array, or NDJSON (`application/x-ndjson`), of at most 1000 events
        and 1 MiB (else 413).

        Each event is a CloudEvent 1.0: `specversion` "1.0", `id`, `source`, `type`
        `be.socialsecurity.<category>.v<version>`, `subject` (the national number), `time` and `data`. The
        extension attribute `corrects` or `cancels` names the id (same source) of the event it corrects or cancels.
        Your institution must be the category's source. Each item is answered in `items`, in the order sent:
        `accepted` (with its `record_id`), `duplicate` (this source and id were received before; the first record
        is named) or `rejected` (nothing stored; `errors` name each field as `items[i].data.field`). A bad item
        never stops the others, and sending the same batch again is safe.
        """
        items = await read_batch(request)
        outcome = await ingest_declarations(conn, institution.caller, items)
        return outcome.answer


class LookupController(Controller):
    """Institutions read a person's records for one of their registered purposes."""

    path = "/api/v1/lookups"
    tags = ["records"]
    guards = [requires_institution_credentials]
    # An unregistered stated purpose is refused by the look-up itself, so the refusal reaches the person's log.
    dependencies = {"institution": Provide(provide_institution_for_lookup)}

    @post(
        "",
        status_code=HTTP_200_OK,
        responses=problem_responses(400, 401, 403, 404, 413, 422),
        operation_class=json_body_operation(LookupRequest, "Whose records, which categories, for which purpose."),
    )
    async def look_up(
        self,
        request: Request[Any, Any, Any],
        institution: NamedDependency[Institution],
        conn: NamedDependency[asyncpg.Connection],
    ) -> Response[Any]:
        """Read a person's current records of some categories, for a purpose registered for your institution.

        The body is a JSON object: `insz` (the national number), `categories` (a list of category codes),
        `purpose` (one of your registered purposes) and an optional `case_ref`. Every look-up appears in the
        person's access log with its purpose, legal basis and case reference. A category your purpose does not
        cover, or that is not provided to your institution for it, refuses the whole look-up with a 403 naming
        each refused category (the refusal is logged too). An unknown national number is a 404; a bad field a 422.
        """
        result = await look_up_records(conn, institution, await read_lookup(request))
        if isinstance(result, LookupRefused):
            # Answered, not raised: raising would roll back the request's transaction and the denied event with it.
            return problem_response(
                ProblemDetails(
                    type="urn:vitrine:problem:not-allowed",
                    title="Not allowed",
                    status=403,
                    detail=result.detail,
                    instance=request.url.path,
                    request_id=current_request_id(),
                    errors=result.errors,
                )
            )
        return Response(content=result, status_code=HTTP_200_OK)


ROUTES: Final[list[type[Controller]]] = [DeclarationController, LookupController]
