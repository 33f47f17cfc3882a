"""The citizen's side of contesting an access, their access alerts, and the accesses a helper made themself.

"I don't recognise this / why?" on an entry of /access-log is a small POST form: pressing it opens the case at
once (one step). The case page that follows confirms it, gives the answer deadline in Brussels time and offers an
optional message. The access log page shows each entry's case (backend.access_log.companions), the opt-in for
alerts and the alerts still pending.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final
from urllib.parse import urlencode
from uuid import UUID

import asyncpg
import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from backend.access_log import contest_queries, view_queries
from backend.access_log.alerts import set_alerts_enabled
from backend.access_log.citizen_routes import own_log_subject
from backend.access_log.contest_schemas import MESSAGE_MAX
from backend.access_log.contest_views import describe_contest
from backend.access_log.contests import ContestAlreadyPending, add_message, open_contest, own_contest
from backend.access_log.own_actions import own_actions_page
from backend.access_log.receipt_routes import service_key_from_state
from backend.access_log.views import LogEntry, describe, speaking
from backend.core.auth.guards import requires_sign_in, signed_in_user
from backend.core.i18n import Language, _, current_language
from backend.core.identity import queries as identity_queries
from frontend.rendering import page

MADE_BY_ME_PATH: Final = "/access-log/made-by-me"
MADE_BY_ME_PAGE_SIZE: Final = 50


class MessageForm(msgspec.Struct, kw_only=True):
    """The optional message on the case page."""

    message: str = ""


class AlertsForm(msgspec.Struct, kw_only=True):
    """The alerts opt-in: a checkbox sends `alerts=on` when ticked and nothing when not."""

    alerts: str = ""


def case_path(contest_id: UUID) -> str:
    """The citizen's page of one case."""
    return f"/access-log/contests/{contest_id}"


async def event_entry(conn: asyncpg.Connection, citizen_id: UUID, seq: int, language: Language) -> LogEntry | None:
    """One event of the citizen's log in plain language, as the log page shows it."""
    rows = await view_queries.select_log_rows(
        conn,
        citizen_id,
        before_seq=seq + 1,
        org_id=None,
        category=None,
        period_from=None,
        period_to=None,
        outcome=None,
        actor_kind=None,
        limit=1,
    )
    if not rows or rows[0].event.seq != seq:
        return None
    with speaking(language):
        return describe(rows[0], language)


@post(
    "/access-log/events/{event_id:uuid}/contest",
    name="access-log-contest",
    guards=[requires_sign_in],
    include_in_schema=False,
    status_code=303,
)
async def contest_event_page(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], event_id: FromPath[UUID]
) -> Response[Any]:
    """Open a case about one access at once, then show it; a second "why?" while one waits says so."""
    user = own_log_subject(request)
    try:
        contest = await open_contest(
            conn, citizen_id=user.subject_id, event_id=event_id, key=service_key_from_state(request.app.state)
        )
    except ContestAlreadyPending as pending:
        language = current_language()
        return page(
            request,
            "pages/access-log/contest-already-open.html",
            status_code=409,
            contest=describe_contest(pending.contest, now=await contest_queries.select_now(conn), language=language),
            case_url=case_path(pending.contest.contest_id),
        )
    return Redirect(path=f"{case_path(contest.contest_id)}?{urlencode({'opened': '1'})}", status_code=303)


async def _case_page(
    request: Request[Any, Any, Any],
    conn: asyncpg.Connection,
    contest_id: UUID,
    *,
    message: str = "",
    error: str | None = None,
) -> Template:
    user = own_log_subject(request)
    language = current_language()
    contest = await own_contest(conn, user.subject_id, contest_id)
    organisation = None
    if contest.accessor_org_id is not None:
        organisation = await identity_queries.select_organisation(conn, contest.accessor_org_id)
    view = describe_contest(
        contest, now=await contest_queries.select_now(conn), language=language, organisation=organisation
    )
    return page(
        request,
        "pages/access-log/contest.html",
        status_code=422 if error else 200,
        contest=view,
        entry=await event_entry(conn, user.subject_id, contest.seq, language),
        opened=request.query_params.get("opened") == "1",
        can_add_message=contest.status == "open" and contest.message is None,
        message=message,
        message_max=MESSAGE_MAX,
        errors=[] if error is None else [{"field_id": "contest-message", "message": error}],
        message_error=error,
    )


@get(
    "/access-log/contests/{contest_id:uuid}", name="access-log-case", guards=[requires_sign_in], include_in_schema=False
)
async def contest_case_page(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], contest_id: FromPath[UUID]
) -> Template:
    """The citizen's case: which access, its status, the answer deadline in Brussels time, and the answer."""
    return await _case_page(request, conn, contest_id)


@post(
    "/access-log/contests/{contest_id:uuid}/message",
    name="access-log-case-message",
    guards=[requires_sign_in],
    include_in_schema=False,
    status_code=303,
)
async def contest_message_page(
    request: Request[Any, Any, Any],
    conn: NamedDependency[asyncpg.Connection],
    contest_id: FromPath[UUID],
    data: URLEncodedBody[MessageForm],
) -> Response[Any]:
    """Add the optional message to an open case; an empty or too long message is explained on the page."""
    user = own_log_subject(request)
    text = data.message.strip()
    if not text:
        return await _case_page(request, conn, contest_id, error=_("Write your message, or go back to your access log"))
    if len(text) > MESSAGE_MAX:
        return await _case_page(
            request,
            conn,
            contest_id,
            message=data.message,
            error=_("Your message can be at most %(count)s characters long") % {"count": MESSAGE_MAX},
        )
    await add_message(conn, citizen_id=user.subject_id, contest_id=contest_id, message=text)
    return Redirect(path=case_path(contest_id), status_code=303)


@post(
    "/access-log/alerts", name="access-log-alerts", guards=[requires_sign_in], include_in_schema=False, status_code=303
)
async def alerts_preference_page(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], data: URLEncodedBody[AlertsForm]
) -> Response[Any]:
    """Turn the access alerts on (box ticked) or off, then go back to the log."""
    user = own_log_subject(request)
    await set_alerts_enabled(conn, user.subject_id, data.alerts == "on")
    return Redirect(path="/access-log#access-alerts", status_code=303)


def _made_by_me_cursor(value: str | None) -> tuple[datetime, UUID] | None:
    """The older-page cursor `<occurred_at ISO>~<event id>`; anything unreadable means the first page."""
    if not value or "~" not in value:
        return None
    moment, _, event_id = value.partition("~")
    try:
        parsed = datetime.fromisoformat(moment)
        return (parsed, UUID(event_id)) if parsed.tzinfo is not None else None
    except ValueError:
        return None


@get(MADE_BY_ME_PATH, name="access-log-made-by-me", guards=[requires_sign_in], include_in_schema=False)
async def made_by_me_page(request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]) -> Template:
    """The accesses the signed-in person made themself, as a helper, an agent or staff, and whose data it was.

    These are the person's own actions, not an access by anyone to their data, so showing them is not logged.
    """
    user = signed_in_user(request)
    before = _made_by_me_cursor(request.query_params.get("before"))
    actions = await own_actions_page(
        conn, user.person.person_id, language=current_language(), before=before, limit=MADE_BY_ME_PAGE_SIZE
    )
    older_url = None
    if actions.next_before is not None:
        moment, event_id = actions.next_before
        older_url = f"{MADE_BY_ME_PATH}?{urlencode({'before': f'{moment.isoformat()}~{event_id}'})}"
    return page(
        request,
        "pages/access-log/made-by-me.html",
        actions=actions,
        paged=before is not None,
        older_url=older_url,
        newest_url=MADE_BY_ME_PATH,
    )


# Registered by the composition root (backend/app.py).
ROUTES: Final[list[Any]] = [
    contest_event_page,
    contest_case_page,
    contest_message_page,
    alerts_preference_page,
    made_by_me_page,
]

__all__ = [
    "ROUTES",
    "alerts_preference_page",
    "case_path",
    "contest_case_page",
    "contest_event_page",
    "contest_message_page",
    "event_entry",
    "made_by_me_page",
]
