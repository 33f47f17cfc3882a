"""What the /my-data pages show a helper acting for someone: whose data, until when, which categories, and the
403 page that names why a category (or reporting an error) is not theirs to see (or do)."""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar import Request
from litestar.response import Template

from backend.core.auth.actors import SignedIn
from backend.core.i18n import current_language
from backend.records.helper_reads import giver_name, helper_view, refusal_reason
from backend.records.registry import REGISTRY
from consent.schemas import Decision
from frontend.rendering import page


async def reader_context(conn: asyncpg.Connection, user: SignedIn) -> dict[str, Any]:
    """What every /my-data page says about whose data it shows: `helper` (None for one's own data) and whether
    "Report an error" is offered (`may_report`)."""
    helper = await helper_view(conn, user, language=current_language())
    return {"helper": helper, "may_report": helper is None or helper.may_report}


def refused_page(request: Request[Any, Any, Any], decision: Decision, category: str | None = None) -> Template:
    """The friendly 403 page naming why: to be returned, not raised, so that the refusal logged in the person's
    access log is committed with the request."""
    found = None if category is None else REGISTRY.get(category)
    return page(
        request,
        "pages/my-data/refused.html",
        status_code=403,
        category_title=None if found is None else found.title.get(current_language()),
        reason=refusal_reason(decision),
    )


__all__ = ["giver_name", "reader_context", "refused_page"]
