"""Institution API for the access log: reporting accesses made in the institution's own systems."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec
from litestar import Controller, Request, post
from litestar.di import NamedDependency, Provide
from litestar.status_codes import HTTP_200_OK

from backend.access_log.reported import BatchResult, ReportedAccess, ingest_reported
from backend.core.auth.guards import requires_institution_credentials
from backend.core.auth.institution import Institution, provide_institution
from backend.core.errors import FieldError, problem_responses, validation_problem
from backend.core.openapi_bodies import json_body_operation


class ReportedAccessController(Controller):
    """Accesses an institution reports so that they appear in the citizen's log."""

    path = "/api/v1/access-events"
    tags = ["access log"]
    guards = [requires_institution_credentials]
    dependencies = {"institution": Provide(provide_institution)}

    @post(
        "",
        status_code=HTTP_200_OK,
        responses=problem_responses(400, 401, 403, 413, 422),
        operation_class=json_body_operation(list[ReportedAccess], "A JSON array of at most 1000 accesses."),
    )
    async def report(
        self,
        request: Request[Any, Any, Any],
        institution: NamedDependency[Institution],
        conn: NamedDependency[asyncpg.Connection],
    ) -> BatchResult:
        """Report a batch of accesses made in your own systems (a JSON array of at most 1000 items).

        Each item is answered on its own in `items`, in the order sent: `accepted` (stored; `event_id` and `seq`
        name the event in the citizen's log), `duplicate` (this id was reported before for this citizen, in
        this or an earlier batch; the first event is named) or `rejected` (nothing stored; `errors` name each
        field as `items[i].field`). The answer is 200 whenever the batch itself could be read, even if every
        item was rejected: look at each item's status. Sending the same batch again is safe. A body that is
        not a JSON array is a 422 naming `body`; more than 1000 items is a 413.
        """
        # The raw body, not a typed `data`: one malformed item must be answered on its own, not fail the batch.
        try:
            body = msgspec.json.decode(await request.body())
        except msgspec.DecodeError:
            raise validation_problem([FieldError(field="body", message="is not valid JSON")]) from None
        if not isinstance(body, list):
            raise validation_problem([FieldError(field="body", message="must be a JSON array of accesses")])
        return await ingest_reported(conn, institution, body)


__all__ = ["ReportedAccessController"]
