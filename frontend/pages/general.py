"""Pages that belong to no single area: home, accessibility statement, the language switcher."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import URLEncodedBody
from litestar.response import Redirect, Template

from backend.core import i18n
from frontend.rendering import page, safe_next_path


class LanguageChoice(msgspec.Struct, kw_only=True):
    """The switcher form: which language, and where to go back to."""

    lang: str
    next: str = "/"


@get("/", name="home", include_in_schema=False)
async def home(request: Request[Any, Any, Any]) -> Template:
    """What Vitrine is and what a person can do here."""
    return page(request, "pages/home.html")


@get("/accessibility", name="accessibility-statement", include_in_schema=False)
async def accessibility_statement(request: Request[Any, Any, Any]) -> Template:
    """The accessibility statement required by the Law of 19 July 2018, with a feedback route."""
    return page(request, "pages/accessibility-statement.html")


@post("/language", name="choose-language", include_in_schema=False, status_code=303)
async def choose_language(
    request: Request[Any, Any, Any],
    data: URLEncodedBody[LanguageChoice],
) -> Response[Any]:
    """Remember the chosen language in a cookie and go back to the page the person was on."""
    language = i18n.parse_language(data.lang) or i18n.DEFAULT_LANGUAGE
    response: Response[Any] = Redirect(path=safe_next_path(data.next), status_code=303)
    response.set_cookie(
        i18n.LANGUAGE_COOKIE,
        language,
        max_age=365 * 24 * 3600,
        httponly=True,
        secure=request.app.state.settings.secure_cookies,
        samesite="lax",
        path="/",
    )
    return response
