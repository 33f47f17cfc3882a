"""The person's inbox: notices unread first, one notice with the action to take, and the notification choices.

Always the signed-in person's own inbox, also while acting for someone: notices are addressed to a person and
a helper never reads another person's inbox. Every change is a small POST form (works without JavaScript);
opening a notice marks it read, as any mail reader does.
"""

from __future__ import annotations

from typing import Any, Final
from uuid import UUID

import asyncpg
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from backend.access_log.written_time import brussels_datetime
from backend.core.auth.guards import requires_sign_in, signed_in_user
from backend.core.errors import Problem
from backend.core.i18n import _, current_language
from frontend.pages.push_devices import push_context, read_quiet_hours
from frontend.rendering import page
from notifications import inbox as inbox_service
from notifications.preferences import kind_label, preference_table, set_preference, set_quiet_hours
from notifications.schemas import KINDS, SWITCHABLE_CHANNELS, Notification

INBOX_PATH: Final = "/inbox"
PREFERENCES_PATH: Final = "/inbox/preferences"
QUIET_HOURS_PATH: Final = "/inbox/quiet-hours"


def notice_path(notification_id: UUID) -> str:
    """A notice's page (its internal id only)."""
    return f"{INBOX_PATH}/{notification_id}"


def _owner(request: Request[Any, Any, Any]) -> UUID:
    return signed_in_user(request).person.person_id


def _not_found() -> Problem:
    return Problem(404, _("There is no such message in your inbox."), kind="notification-not-found")


def _item(notice: Notification) -> dict[str, Any]:
    return {
        "notice": notice,
        "url": notice_path(notice.notification_id),
        "received": brussels_datetime(notice.created_at, current_language()),
    }


@get(INBOX_PATH, name="inbox", guards=[requires_sign_in], include_in_schema=False)
async def inbox_page(request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]) -> Template:
    """The person's messages, unread first, then newest; `?view=archived` for the archived ones."""
    owner = _owner(request)
    archived = request.query_params.get("view") == "archived"
    notices = await inbox_service.inbox(conn, owner, archived=archived)
    return page(
        request,
        "pages/inbox/index.html",
        items=[_item(notice) for notice in notices],
        archived=archived,
        unread=await inbox_service.unread_count(conn, owner),
        limit=inbox_service.INBOX_SIZE,
    )


async def _preferences_page(
    request: Request[Any, Any, Any], conn: asyncpg.Connection, *, status_code: int = 200, **override: Any
) -> Template:
    user = signed_in_user(request)
    table = await preference_table(conn, user.person.person_id)
    rows = [
        {
            "kind": kind,
            "label": kind_label(kind),
            "channels": {item.channel: item for item in table if item.kind == kind},
        }
        for kind in KINDS
    ]
    context = {
        "rows": rows,
        "has_email": bool(user.person.email),
        "saved": request.query_params.get("saved"),
        # The inbox's own links (shared with the list) show the unread count.
        "archived": False,
        "unread": await inbox_service.unread_count(conn, user.person.person_id),
        **await push_context(request, conn),
    }
    return page(request, "pages/inbox/preferences.html", status_code=status_code, **{**context, **override})


@get(PREFERENCES_PATH, name="inbox-preferences", guards=[requires_sign_in], include_in_schema=False)
async def preferences_page(request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]) -> Template:
    """Per kind of message, where it reaches the person: the inbox always, e-mail and devices as chosen; the
    quiet hours of the devices, and the devices that show notifications."""
    return await _preferences_page(request, conn)


@post(PREFERENCES_PATH, name="inbox-preferences-save", guards=[requires_sign_in], include_in_schema=False)
async def save_preferences_page(request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]) -> Redirect:
    """Save every switchable channel of every kind: a ticked box sends `<channel>-<kind>=on`, an unticked one
    nothing. Unknown fields are ignored; the inbox is not a choice and cannot be turned off."""
    owner = _owner(request)
    form = await request.form()
    for kind in KINDS:
        for channel in SWITCHABLE_CHANNELS:
            await set_preference(conn, owner, kind, channel, form.get(f"{channel}-{kind}") == "on")
    return Redirect(path=f"{PREFERENCES_PATH}?saved=1", status_code=303)


@post(QUIET_HOURS_PATH, name="inbox-quiet-hours-save", guards=[requires_sign_in], include_in_schema=False)
async def save_quiet_hours_page(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]
) -> Template | Redirect:
    """Set the daily period without notifications on devices (both times), or clear it (both empty); a mistake
    shows the page again with an error summary and changes nothing."""
    form = await request.form()
    raw_from, raw_to = str(form.get("quiet_from", "")).strip(), str(form.get("quiet_to", "")).strip()
    hours, errors = read_quiet_hours(raw_from, raw_to)
    if errors:
        return await _preferences_page(
            request, conn, status_code=422, quiet_errors=errors, quiet_from=raw_from, quiet_to=raw_to
        )
    await set_quiet_hours(conn, _owner(request), hours)
    return Redirect(path=f"{PREFERENCES_PATH}?saved=quiet", status_code=303)


@get(f"{INBOX_PATH}/{{notification_id:uuid}}", name="inbox-notice", guards=[requires_sign_in], include_in_schema=False)
async def notice_page(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], notification_id: FromPath[UUID]
) -> Template:
    """One message with the action to take; opening it marks it read."""
    notice = await inbox_service.open_notice(conn, _owner(request), notification_id)
    if notice is None:
        raise _not_found()
    return page(request, "pages/inbox/notice.html", item=_item(notice))


@post(
    f"{INBOX_PATH}/{{notification_id:uuid}}/read",
    name="inbox-notice-read",
    guards=[requires_sign_in],
    include_in_schema=False,
    status_code=303,
)
async def mark_read_page(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], notification_id: FromPath[UUID]
) -> Redirect:
    """Mark a message read, then back to the inbox."""
    if await inbox_service.mark_read(conn, _owner(request), notification_id) is None:
        raise _not_found()
    return Redirect(path=INBOX_PATH, status_code=303)


@post(
    f"{INBOX_PATH}/{{notification_id:uuid}}/archive",
    name="inbox-notice-archive",
    guards=[requires_sign_in],
    include_in_schema=False,
    status_code=303,
)
async def archive_page(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], notification_id: FromPath[UUID]
) -> Redirect:
    """Archive a message (it is kept, under "Archived"), then back to the inbox."""
    if await inbox_service.archive(conn, _owner(request), notification_id) is None:
        raise _not_found()
    return Redirect(path=INBOX_PATH, status_code=303)


async def header_unread_count(request: Request[Any, Any, Any], conn: asyncpg.Connection) -> int | None:
    """For the layout's header: the signed-in person's unread messages (None when nobody is signed in)."""
    user = request.scope.get("user")
    person = getattr(user, "person", None)
    if person is None:
        return None
    return await inbox_service.unread_count(conn, person.person_id)


# Registered by the composition root (backend/app.py).
ROUTES: Final[list[Any]] = [
    inbox_page,
    preferences_page,
    save_preferences_page,
    save_quiet_hours_page,
    notice_page,
    mark_read_page,
    archive_page,
]

__all__ = ["ROUTES", "header_unread_count", "notice_path"]
