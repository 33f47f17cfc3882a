"""The citizen's joined timeline `/helpers/timeline`: their mandates' history, what their helpers did, and what
institutions accessed, in one list newest first. The stream filter is a GET form (works without JavaScript, and
each view has its own address); next to a helper's action, a link ends the mandate it was done under."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final
from urllib.parse import urlencode
from uuid import UUID

import asyncpg
from litestar import Request, get
from litestar.di import NamedDependency
from litestar.response import Template

from backend.core.auth.guards import requires_sign_in, signed_in_user
from backend.core.i18n import _, current_language, gettext
from consent.parties import acting_for_self
from consent.timeline import STREAM_LABELS, STREAMS, Stream, citizen_timeline
from consent.timeline_queries import Cursor
from frontend.rendering import page

TIMELINE_PATH: Final = "/helpers/timeline"
PAGE_SIZE: Final = 50


def read_cursor(value: str | None) -> Cursor | None:
    """The older-page cursor `<occurred_at>~<recorded>~<event id>`; anything unreadable means the first page."""
    parts = (value or "").split("~")
    if len(parts) != 3:
        return None
    try:
        occurred, recorded = datetime.fromisoformat(parts[0]), datetime.fromisoformat(parts[1])
        event_id = UUID(parts[2])
    except ValueError:
        return None
    return (occurred, recorded, event_id) if occurred.tzinfo and recorded.tzinfo else None


def write_cursor(cursor: Cursor) -> str:
    """The cursor as read_cursor reads it."""
    occurred, recorded, event_id = cursor
    return f"{occurred.isoformat()}~{recorded.isoformat()}~{event_id}"


@get(TIMELINE_PATH, name="helpers-timeline", guards=[requires_sign_in], include_in_schema=False)
async def timeline_page(request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]) -> Template:
    """Everything about who may act for you and who looked at your data, newest first, one stream or all."""
    user = acting_for_self(signed_in_user(request))
    raw = request.query_params.get("stream", "")
    stream: Stream | None = next((code for code in STREAMS if code == raw), None)
    before = read_cursor(request.query_params.get("before"))
    timeline = await citizen_timeline(
        conn, user, language=current_language(), stream=stream, before=before, limit=PAGE_SIZE
    )
    kept = {"stream": stream} if stream else {}
    older_url = None
    if timeline.next_before is not None:
        older_url = f"{TIMELINE_PATH}?{urlencode({**kept, 'before': write_cursor(timeline.next_before)})}"
    return page(
        request,
        "pages/helpers/timeline.html",
        timeline=timeline,
        streams=[{"value": "", "label": _("Everything"), "selected": stream is None}]
        + [{"value": code, "label": gettext(STREAM_LABELS[code]), "selected": code == stream} for code in STREAMS],
        filtered=stream is not None,
        paged=before is not None,
        newest_url=f"{TIMELINE_PATH}?{urlencode(kept)}" if kept else TIMELINE_PATH,
        older_url=older_url,
    )


# Registered through frontend.pages.helpers.ROUTES.
ROUTES: Final[list[Any]] = [timeline_page]
