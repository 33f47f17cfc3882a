"""The signed mandate receipt as a file: `GET /api/v1/mandates/<mandate_id>/receipt.jwt`.

Either side of the mandate may download it; it verifies offline with Vitrine's public keys at
`/.well-known/vitrine-keys.json`. Wiring (in backend.app): add `MANDATE_RECEIPT_ROUTES` to the route handlers
(`app.state.service_key` is already set for the access-log receipts).
"""

from __future__ import annotations

from typing import Any, Final
from uuid import UUID

import asyncpg
from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from backend.access_log.receipt_routes import service_key_from_state
from backend.core.auth.guards import requires_sign_in, signed_in_user
from backend.core.errors import problem_responses
from consent.receipts import receipt_for_party

__all__ = ["MANDATE_RECEIPT_ROUTES", "mandate_receipt_file"]


@get(
    "/api/v1/mandates/{mandate_id:uuid}/receipt.jwt",
    tags=["mandates"],
    guards=[requires_sign_in],
    summary="Download the signed receipt of a mandate",
    media_type="application/jwt",
    responses=problem_responses(400, 401, 403, 404, 422),
)
async def mandate_receipt_file(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], mandate_id: FromPath[UUID]
) -> Response[bytes]:
    """A JWS (ES256, typ vitrine-mandate+jwt) stating who gave whom which themes, for how long, under which
    consent text; verify it with the keys at /.well-known/vitrine-keys.json. 404 for a mandate that is not yours.
    """
    key = service_key_from_state(request.app.state)
    _receipt, token = await receipt_for_party(conn, signed_in_user(request), mandate_id, key)
    return Response(
        token.encode("ascii"),
        media_type="application/jwt",
        headers={"Content-Disposition": f'attachment; filename="vitrine-mandate-{mandate_id}.jwt"'},
    )


MANDATE_RECEIPT_ROUTES: Final[list[Any]] = [mandate_receipt_file]
