"""JSON API of the signed-in person's push devices: the VAPID public key, register, list, remove.

Called by the opt-in script of the notification settings page with the session cookie, so every change also
carries the page's CSRF token in the `X-CSRFToken` header (the /api/ prefix is outside the form CSRF check,
which machine clients with signed assertions do not need).
"""

from __future__ import annotations

from secrets import compare_digest
from typing import Any, Final
from uuid import UUID

import asyncpg
from litestar import Controller, Request, delete, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, generate_csrf_hash
from litestar.params import FromPath, JSONBody

from backend.core.auth.guards import requires_sign_in, signed_in_user
from backend.core.errors import Problem, problem_responses
from backend.core.settings import Settings
from notifications import push_subscriptions
from notifications.push_keys import application_server_key, vapid_private_key
from notifications.schemas import PushDevice, PushPublicKey, PushSubscriptionIn

CSRF_HEADER: Final = "x-csrftoken"


def _token_secret(token: str, secret: str) -> str | None:
    """The random part of a CSRF token whose signature is valid (the scheme of Litestar's CSRF middleware)."""
    if len(token) <= CSRF_SECRET_LENGTH:
        return None
    random_part, signature = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
    return random_part if compare_digest(signature, generate_csrf_hash(random_part, secret)) else None


def requires_csrf_header(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: the `X-CSRFToken` header matches the CSRF cookie (double submit, both signed with the secret)."""
    config = connection.app.csrf_config
    header = connection.headers.get(CSRF_HEADER)
    cookie = connection.cookies.get(config.cookie_name) if config is not None else None
    if config is None or header is None or cookie is None:
        raise Problem(403, "This change needs the page's CSRF token in the X-CSRFToken header.", kind="csrf")
    sent, expected = _token_secret(header, config.secret), _token_secret(cookie, config.secret)
    if sent is None or expected is None or not compare_digest(sent, expected):
        raise Problem(403, "The CSRF token does not match; reload the page and try again.", kind="csrf")


def _owner(request: Request[Any, Any, Any]) -> UUID:
    return signed_in_user(request).person.person_id


def _settings(request: Request[Any, Any, Any]) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


class PushSubscriptionController(Controller):
    """Your devices that show Vitrine's notifications (Web Push)."""

    path = "/api/v1/me/push-subscriptions"
    tags = ["notifications"]
    guards = [requires_sign_in]

    @get("/public-key", responses=problem_responses(401, 403))
    async def public_key(self, request: Request[Any, Any, Any]) -> PushPublicKey:
        """Vitrine's VAPID public key, for `pushManager.subscribe({applicationServerKey})`."""
        return PushPublicKey(public_key=application_server_key(vapid_private_key(_settings(request))))

    @get("", responses=problem_responses(401, 403))
    async def list_devices(
        self, request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]
    ) -> list[PushDevice]:
        """Your devices, active first (no endpoint or key is shown)."""
        return await push_subscriptions.devices(conn, _owner(request))

    @post("", guards=[requires_csrf_header], status_code=201, responses=problem_responses(400, 401, 403, 413, 422))
    async def register(
        self,
        request: Request[Any, Any, Any],
        conn: NamedDependency[asyncpg.Connection],
        data: JSONBody[PushSubscriptionIn],
    ) -> PushDevice:
        """Register this browser's push subscription (`PushSubscription.toJSON()`); registering again renews it.

        422 names the field: an endpoint that is not https, keys that are not base64url or of the wrong length.
        """
        return await push_subscriptions.register_subscription(
            conn,
            _owner(request),
            data,
            user_agent=request.headers.get("user-agent"),
            allow_loopback_http=not _settings(request).is_production,
        )

    @delete(
        "/{subscription_id:uuid}",
        guards=[requires_csrf_header],
        status_code=204,
        responses=problem_responses(400, 401, 403, 404, 422),
    )
    async def remove(
        self,
        request: Request[Any, Any, Any],
        conn: NamedDependency[asyncpg.Connection],
        subscription_id: FromPath[UUID],
    ) -> None:
        """Stop notifications on one of your devices."""
        if not await push_subscriptions.remove_device(conn, _owner(request), subscription_id):
            raise Problem(404, "There is no such device among yours.", kind="push-subscription-not-found")


# Registered by the composition root (backend/app.py).
ROUTES: Final[list[type[Controller]]] = [PushSubscriptionController]
