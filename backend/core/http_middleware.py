"""ASGI middleware on every response: request id, one JSON log line, security headers.

Paths never contain personal data (internal ids only), so logging the path is safe.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Final

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from backend.core import i18n
from backend.core.request_context import set_request_id

logger = logging.getLogger("vitrine.http")

_INCOMING_ID: Final = re.compile(r"^[A-Za-z0-9-]{8,64}$")

CONTENT_SECURITY_POLICY: Final = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

PERMISSIONS_POLICY: Final = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=(), interest-cohort=()"
)


def security_headers(*, hsts: bool) -> dict[str, str]:
    """Headers every response carries; HSTS only when the site is served over https."""
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Permissions-Policy": PERMISSIONS_POLICY,
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    if hsts:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    return headers


class RequestContext:
    """Outermost ASGI wrapper: binds a request id and language, adds security headers, logs one line.

    It wraps the whole application rather than being route middleware, so that answers for unknown paths
    (404) and other router-level errors carry the same headers, request id and language as any page.
    """

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self._app = app
        # Encoded once: every response gets those it does not set itself (names in lower case, as ASGI sends them).
        self._headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in {**security_headers(hsts=hsts), "Cache-Control": "no-store"}.items()
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self._app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _INCOMING_ID.match(incoming) else uuid.uuid4().hex
        set_request_id(request_id)
        # The person's own setting, once signed in, overrides this (see the session middleware).
        i18n.set_language(
            i18n.choose_language(
                person_setting=None,
                cookie=_cookie(scope, i18n.LANGUAGE_COOKIE),
                accept_language=_header(scope, b"accept-language"),
            )
        )
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # One pass over the response's own headers instead of a search per added header (every response).
                headers: list[tuple[bytes, bytes]] = []
                present: set[bytes] = set()
                for name, value in message.get("headers", ()):
                    lowered = name.lower()
                    if lowered != b"x-request-id":
                        headers.append((name, value))
                        present.add(lowered)
                # Pages and API answers may hold personal data: never cached unless a handler says so (no-store
                # is among the defaults).
                headers += [(name, value) for name, value in self._headers if name not in present]
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self._app(scope, receive, send_with_headers)
        finally:
            logger.info(
                "request",
                extra={
                    "method": scope.get("method", ""),
                    "path": scope.get("path", ""),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            set_request_id(None)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _cookie(scope: Scope, name: str) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    for part in raw.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None
