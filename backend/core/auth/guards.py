"""Coarse guards per area: they read only who is signed in and in which roles.

Finer rights (a mandate's themes, an institution's purposes, a desk session's scope) are decided inside
services, which also write the access log.

The guards are coroutines although they never wait: Litestar runs a plain-function guard in its thread pool,
a thread hop on every request for a check of a few attribute reads.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from backend.core.auth.actors import SignedIn


def signed_in_user(connection: ASGIConnection[Any, Any, Any, Any]) -> SignedIn:
    """The signed-in person, or 401."""
    user = connection.scope.get("user")
    if not isinstance(user, SignedIn):
        raise NotAuthorizedException("Sign in to continue.")
    return user


async def requires_sign_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Any signed-in person (citizen area)."""
    signed_in_user(connection)


async def requires_agent(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """People who work for an organisation (organisation area)."""
    if not signed_in_user(connection).is_agent:
        raise PermissionDeniedException("Only an organisation's agents may use this.")


async def requires_access_manager(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """An organisation's access managers (clients and agents)."""
    user = signed_in_user(connection)
    if not any(m.role == "access_manager" for m in user.memberships):
        raise PermissionDeniedException("Only an organisation's access manager may use this.")


async def requires_desk(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Desk support staff (assisted sessions)."""
    if not signed_in_user(connection).has_staff_role("support"):
        raise PermissionDeniedException("Only desk staff may use this.")


async def requires_reviewer(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Data-protection reviewers (contested accesses)."""
    if not signed_in_user(connection).has_staff_role("reviewer"):
        raise PermissionDeniedException("Only reviewers may use this.")


async def requires_institution_credentials(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Institution API: a bearer assertion must be present (it is verified, and its jti spent, in the handler's
    transaction by the `institution` dependency)."""
    header = connection.headers.get("authorization", "")
    if not header.lower().startswith("bearer ") or not header[7:].strip():
        raise NotAuthorizedException("A signed assertion is required (Authorization: Bearer …).")
