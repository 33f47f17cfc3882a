"""JSON API of the signed-in person's own notices and notification choices.

Always the person's own inbox, also while acting for someone else: notices are addressed to a person, and a
helper never reads another person's inbox.
"""

from __future__ import annotations

from typing import Any, Final
from uuid import UUID

import asyncpg
from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from backend.core.auth.guards import requires_sign_in, signed_in_user
from backend.core.errors import Problem, problem_responses
from notifications import inbox as inbox_service
from notifications.preferences import preference_table, set_preference
from notifications.schemas import Notification, PreferenceOut, PreferenceUpdate, UnreadCount


def _not_found() -> Problem:
    return Problem(404, "There is no such notice in your inbox.", kind="notification-not-found")


def _owner(request: Request[Any, Any, Any]) -> UUID:
    return signed_in_user(request).person.person_id


class NotificationController(Controller):
    """The signed-in person's notices and notification preferences."""

    path = "/api/v1/me/notifications"
    tags = ["notifications"]
    guards = [requires_sign_in]

    @get("", responses=problem_responses(400, 401, 403, 422))
    async def list_notifications(
        self,
        request: Request[Any, Any, Any],
        conn: NamedDependency[asyncpg.Connection],
        archived: FromQuery[bool] = False,
    ) -> list[Notification]:
        """Your notices, unread first then newest (`archived=true` for the archived ones)."""
        return await inbox_service.inbox(conn, _owner(request), archived=archived)

    @get("/unread-count", responses=problem_responses(401, 403))
    async def unread(self, request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]) -> UnreadCount:
        """How many of your notices are unread."""
        return UnreadCount(unread=await inbox_service.unread_count(conn, _owner(request)))

    @get("/preferences", responses=problem_responses(401, 403))
    async def preferences(
        self, request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]
    ) -> list[PreferenceOut]:
        """Per kind and channel whether notices reach you there; the inbox is always on (locked)."""
        return await preference_table(conn, _owner(request))

    @put("/preferences", responses=problem_responses(400, 401, 403, 413, 422))
    async def update_preference(
        self,
        request: Request[Any, Any, Any],
        conn: NamedDependency[asyncpg.Connection],
        data: JSONBody[PreferenceUpdate],
    ) -> list[PreferenceOut]:
        """Turn an optional channel (e-mail or push) on or off for one kind; answers the whole table."""
        owner = _owner(request)
        await set_preference(conn, owner, data.kind, data.channel, data.enabled)
        return await preference_table(conn, owner)

    @get("/{notification_id:uuid}", responses=problem_responses(400, 401, 403, 404, 422))
    async def notification(
        self,
        request: Request[Any, Any, Any],
        conn: NamedDependency[asyncpg.Connection],
        notification_id: FromPath[UUID],
    ) -> Notification:
        """One of your notices (reading it through the API does not mark it read)."""
        found = await inbox_service.notice(conn, _owner(request), notification_id)
        if found is None:
            raise _not_found()
        return found

    @post("/{notification_id:uuid}/read", status_code=200, responses=problem_responses(400, 401, 403, 404, 422))
    async def read(
        self,
        request: Request[Any, Any, Any],
        conn: NamedDependency[asyncpg.Connection],
        notification_id: FromPath[UUID],
    ) -> Notification:
        """Mark one of your notices read."""
        found = await inbox_service.mark_read(conn, _owner(request), notification_id)
        if found is None:
            raise _not_found()
        return found

    @post("/{notification_id:uuid}/archive", status_code=200, responses=problem_responses(400, 401, 403, 404, 422))
    async def archive(
        self,
        request: Request[Any, Any, Any],
        conn: NamedDependency[asyncpg.Connection],
        notification_id: FromPath[UUID],
    ) -> Notification:
        """Archive one of your notices (it is kept, under the archived ones)."""
        found = await inbox_service.archive(conn, _owner(request), notification_id)
        if found is None:
            raise _not_found()
        return found


# Registered by the composition root (backend/app.py).
ROUTES: Final[list[type[Controller]]] = [NotificationController]
