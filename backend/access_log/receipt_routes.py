"""Public endpoints for log receipts: the service's public keys, and checking a receipt against the log.

Neither needs a sign-in: a receipt is only as useful as anyone's ability to check it. Wiring (in backend.app):
add `RECEIPT_ROUTES` to the route handlers and set `app.state.service_key` at start-up (see
`service_key_from_state`). The verify path is under /api/, so it is already exempt from CSRF.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import asyncpg
import msgspec
from cryptography.hazmat.primitives.asymmetric import ec
from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import JSONBody

from backend.access_log.receipts import (
    MAX_RECEIPT_LENGTH,
    Receipt,
    ReceiptInvalid,
    check_extends,
    issue_receipt,
    service_jwks,
    verify_receipt,
)
from backend.core.auth.guards import requires_sign_in, signed_in_user
from backend.core.errors import FieldError, Problem, problem_responses, validation_problem

__all__ = [
    "KEYS_CACHE_CONTROL",
    "RECEIPT_ROUTES",
    "ReceiptCheck",
    "VerifyReceiptRequest",
    "my_receipt",
    "service_key_from_state",
    "verify_receipt_endpoint",
    "vitrine_keys",
]

# Verifiers may cache the keys for an hour; a rotation publishes the new key before signing with it.
KEYS_CACHE_CONTROL = "public, max-age=3600"

_Token = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_RECEIPT_LENGTH)]


class VerifyReceiptRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A receipt to check and, optionally, an earlier one it should extend."""

    receipt: _Token
    earlier: _Token | None = None


class ReceiptCheck(msgspec.Struct, frozen=True, kw_only=True):
    """A valid receipt: what it states, whether the log still agrees, and whether it extends `earlier`.

    `extends_earlier` is null when no earlier receipt was sent. The `*_problem` fields explain a false answer.
    """

    valid: bool
    citizen_id: UUID
    events: int
    head: str
    as_of: datetime
    kid: str
    matches_log: bool
    log_problem: str | None
    extends_earlier: bool | None
    extension_problem: str | None


def service_key_from_state(state: State) -> ec.EllipticCurvePrivateKey:
    """The service signing key the app holds at `state.service_key`.

    The composition root sets it once at start-up, e.g.
    `state.service_key = load_service_key(settings.local_path, <PEM from configuration or None>)`. A missing key
    is a wiring fault, so it fails loudly (a logged 500) rather than answering as if receipts were invalid.
    """
    key = getattr(state, "service_key", None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise RuntimeError("app.state.service_key is not set to the service's EC private key")
    return key


def _verified(token: str, jwks: dict[str, Any], field: str) -> Receipt:
    try:
        return verify_receipt(token, jwks)
    except ReceiptInvalid as exc:
        raise validation_problem(
            [FieldError(field=field, message=exc.message)],
            detail=f"The receipt in `{field}` was refused ({exc.code}).",
        ) from exc


@get(
    "/.well-known/vitrine-keys.json",
    tags=["access-log"],
    summary="Vitrine's public signing keys (JWKS)",
    sync_to_thread=False,
)
def vitrine_keys(state: State) -> Response[dict[str, Any]]:
    """The public JWKS that receipts verify against; cacheable for an hour."""
    return Response(
        content=service_jwks(service_key_from_state(state)),
        media_type="application/json",
        headers={"Cache-Control": KEYS_CACHE_CONTROL},
    )


@post(
    "/api/v1/access-log/receipts/verify",
    tags=["access-log"],
    status_code=200,
    summary="Check a log receipt",
    responses=problem_responses(400, 413, 422),
)
async def verify_receipt_endpoint(
    data: JSONBody[VerifyReceiptRequest], state: State, conn: NamedDependency[asyncpg.Connection]
) -> ReceiptCheck:
    """Verify a receipt's signature and claims (422 naming `receipt` or `earlier` if refused), then check it
    against the current log and, when `earlier` is given, that it extends the earlier receipt.
    """
    jwks = service_jwks(service_key_from_state(state))
    receipt = _verified(data.receipt, jwks, "receipt")
    earlier = None if data.earlier is None else _verified(data.earlier, jwks, "earlier")
    in_log = await check_extends(conn, receipt)
    extension = None if earlier is None else await check_extends(conn, earlier, receipt)
    return ReceiptCheck(
        valid=True,
        citizen_id=receipt.citizen_id,
        events=receipt.events,
        head=receipt.head_hash,
        as_of=receipt.as_of,
        kid=receipt.kid,
        matches_log=in_log.consistent,
        log_problem=None if in_log.consistent else in_log.message,
        extends_earlier=None if extension is None else extension.consistent,
        extension_problem=None if extension is None or extension.consistent else extension.message,
    )


@get(
    "/api/v1/me/access-log/receipt",
    tags=["access-log"],
    guards=[requires_sign_in],
    summary="Download a signed receipt of my access log",
    media_type="application/jwt",
    responses=problem_responses(401, 403),
)
async def my_receipt(request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]) -> Response[bytes]:
    """A JWS saying how many events your log holds and the hash it ends in; keep it to check the log later."""
    user = signed_in_user(request)
    if user.acting_for_someone:
        raise Problem(403, "A receipt is issued only to the person whose log it is.")
    token = await issue_receipt(conn, service_key_from_state(request.app.state), user.person.person_id)
    return Response(
        token.encode(),
        media_type="application/jwt",
        headers={"Content-Disposition": 'attachment; filename="vitrine-access-log-receipt.jwt"'},
    )


RECEIPT_ROUTES = [vitrine_keys, verify_receipt_endpoint, my_receipt]
