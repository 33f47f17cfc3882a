"""The institution behind an API call: its verified assertion, and the purpose it states.

Verification runs inside the request's transaction, so the assertion id is spent together with whatever the
call does.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec
from litestar import Request
from litestar.di import NamedDependency

from backend.core.auth.assertions import AssertionRejected, InstitutionCaller, verify_assertion
from backend.core.errors import Problem
from backend.core.identity.purposes import Purpose, select_purpose

PURPOSE_HEADER = "Vitrine-Purpose"


class Institution(msgspec.Struct, frozen=True, kw_only=True):
    """A verified caller, its registered purpose when it stated one, and the purpose code it stated."""

    caller: InstitutionCaller
    purpose: Purpose | None
    # Set even when the stated purpose is not registered (only `provide_institution_for_lookup` lets that through).
    stated_purpose: str | None = None


async def provide_institution(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]
) -> Institution:
    """Verify the bearer assertion (401 if bad) and the stated purpose (403 if not registered)."""
    return await _institution(request, conn, refuse_unregistered_purpose=True)


async def provide_institution_for_lookup(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]
) -> Institution:
    """Like `provide_institution`, but a stated purpose that is not registered is left for the look-up to refuse.

    A look-up names a person: refused here, before the person is known, the attempt would never reach their
    access log. The look-up refuses it with the same 403 and writes the denied event in the same transaction.
    """
    return await _institution(request, conn, refuse_unregistered_purpose=False)


async def _institution(
    request: Request[Any, Any, Any], conn: asyncpg.Connection, *, refuse_unregistered_purpose: bool
) -> Institution:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        raise Problem(
            401, "A signed assertion is required (Authorization: Bearer …).", headers={"WWW-Authenticate": "Bearer"}
        )
    try:
        caller = await verify_assertion(conn, header[7:].strip())
    except AssertionRejected as rejected:
        raise rejected.to_problem() from None
    stated = request.headers.get(PURPOSE_HEADER) or caller.purpose
    if caller.purpose is not None and stated != caller.purpose:
        raise Problem(403, "The purpose header differs from the purpose signed in the assertion.", kind="purpose")
    purpose = None
    if stated is not None:
        purpose = await select_purpose(conn, caller.org_id, stated)
        if purpose is None and refuse_unregistered_purpose:
            raise Problem(403, "This purpose is not registered for your institution.", kind="unknown-purpose")
    return Institution(caller=caller, purpose=purpose, stated_purpose=stated)
