"""Refuse state-changing requests that another site makes a signed-in person's browser send.

Forms carry CSRF tokens, but the citizen JSON API (`/api/v1/me/...`, `/api/v1/mandates/...`) is authenticated by
the same session cookie and takes no token, so that scripts and tools can call it. SameSite=Lax keeps the cookie
off most cross-site requests; this check closes the rest (a sibling subdomain, an older browser): a browser says
where a request comes from (`Sec-Fetch-Site`, `Origin`), and a request that carries the session cookie and comes
from anywhere but this site is refused with 403 before anything runs. Clients that are not browsers send
neither header and cannot ride a person's cookie anyway, so they are not affected.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlsplit

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from backend.core.auth import sessions
from backend.core.errors import Problem
from backend.core.settings import Settings

SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
# `same-origin` for the site's own pages, `none` for what the person typed or bookmarked.
_TRUSTED_FETCH_SITES: Final = frozenset({"same-origin", "none"})


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def is_cross_site(headers: dict[str, str], *, base_url: str, scheme: str) -> bool:
    """True when the browser says the request comes from another site (or from an opaque origin)."""
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site not in _TRUSTED_FETCH_SITES
    origin = headers.get("origin")
    if origin is None:
        return False
    # Our own origin is the public base URL, or the address the request was sent to (a development server).
    own = {_origin_of(base_url), f"{scheme}://{headers.get('host', '')}".lower()}
    return origin.lower() not in own


class CrossSiteGuard(ASGIMiddleware):
    """403 for a state-changing request that carries the session cookie and comes from another site."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope.get("method", "GET") not in SAFE_METHODS:
            settings: Settings = scope["litestar_app"].state.settings
            headers = _headers(scope)
            if _has_cookie(headers.get("cookie", ""), sessions.cookie_name(settings.secure_cookies)) and is_cross_site(
                headers, base_url=settings.base_url, scheme=str(scope.get("scheme", "http"))
            ):
                raise Problem(403, "This request came from another site and was refused.", kind="cross-site")
        await next_app(scope, receive, send)


def _headers(scope: Any) -> dict[str, str]:
    return {key.decode("latin-1"): value.decode("latin-1") for key, value in scope.get("headers", [])}


def _has_cookie(header: str, name: str) -> bool:
    return any(part.strip().partition("=")[0] == name for part in header.split(";"))


__all__ = ["CrossSiteGuard", "is_cross_site"]
