"""Notifications on one's devices (Web Push): the service worker, and the devices on the settings page.

The service worker is served at /sw.js so that its scope can be the whole site (a worker under /static/ could
only control /static/); it is a same-origin file, so the site's CSP (`worker-src 'self'`) allows it. Turning
notifications on needs JavaScript (the browser's push subscription exists only there); seeing and removing
one's devices does not.
"""

from __future__ import annotations

import re
from datetime import time
from typing import Any, Final
from uuid import UUID

import asyncpg
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect

from backend.access_log.written_time import brussels_datetime
from backend.core.auth.guards import requires_sign_in, signed_in_user
from backend.core.errors import Problem
from backend.core.i18n import _, current_language
from backend.core.settings import Settings
from frontend.assets import STATIC_DIR
from notifications import push_subscriptions
from notifications.preferences import quiet_hours
from notifications.push_keys import application_server_key, vapid_private_key
from notifications.push_routes import PushSubscriptionController
from notifications.push_subscriptions import UNKNOWN_DEVICE
from notifications.schemas import QuietHours

SERVICE_WORKER_PATH: Final = "/sw.js"
PREFERENCES_PATH: Final = "/inbox/preferences"
_WORKER_SOURCE: Final = (STATIC_DIR / "sw.js").read_bytes()


@get(SERVICE_WORKER_PATH, include_in_schema=False, sync_to_thread=False)
def service_worker() -> Response[bytes]:
    """The service worker that shows push messages; revalidated on every check so updates reach browsers."""
    return Response(
        _WORKER_SOURCE,
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )


_CLOCK: Final = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def read_quiet_hours(raw_from: str, raw_to: str) -> tuple[QuietHours | None, list[dict[str, str]]]:
    """Quiet hours from the form's two "HH:MM" fields (both empty: none), or the errors for the error summary."""
    if not raw_from and not raw_to:
        return None, []
    errors = [
        {"field_id": field_id, "message": message}
        for field_id, raw, message in (
            ("quiet_from", raw_from, _("Enter the time the quiet hours start, like 22:00")),
            ("quiet_to", raw_to, _("Enter the time the quiet hours end, like 07:00")),
        )
        if not _CLOCK.match(raw)
    ]
    if errors:
        return None, errors
    if raw_from == raw_to:
        return None, [
            {"field_id": "quiet_to", "message": _("The quiet hours must end at another time than they start")}
        ]
    return QuietHours(quiet_from=time.fromisoformat(raw_from), quiet_to=time.fromisoformat(raw_to)), []


async def push_context(request: Request[Any, Any, Any], conn: asyncpg.Connection) -> dict[str, Any]:
    """What the settings page shows about push: the person's devices and what the opt-in script needs."""
    settings: Settings = request.app.state.settings
    language = current_language()
    owner = signed_in_user(request).person.person_id
    devices = [
        {
            "id": item.subscription_id,
            "label": _("Unknown browser") if item.device_label == UNKNOWN_DEVICE else item.device_label,
            "added": brussels_datetime(item.created_at, language),
            "last_success": brussels_datetime(item.last_success_at, language) if item.last_success_at else None,
            "active": item.active,
        }
        for item in await push_subscriptions.devices(conn, owner)
    ]
    hours = await quiet_hours(conn, owner)
    return {
        "quiet_from": hours.quiet_from.strftime("%H:%M") if hours else "",
        "quiet_to": hours.quiet_to.strftime("%H:%M") if hours else "",
        "quiet_errors": [],
        "push_devices": devices,
        "push_public_key": application_server_key(vapid_private_key(settings)),
        "push_api": PushSubscriptionController.path,
        "device_notice": request.query_params.get("device"),
    }


@post(
    "/inbox/devices/{subscription_id:uuid}/remove",
    name="inbox-device-remove",
    guards=[requires_sign_in],
    include_in_schema=False,
    status_code=303,
)
async def remove_device_page(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], subscription_id: FromPath[UUID]
) -> Redirect:
    """Stop notifications on one of the person's devices, then back to the settings."""
    owner = signed_in_user(request).person.person_id
    if not await push_subscriptions.remove_device(conn, owner, subscription_id):
        raise Problem(404, _("There is no such device among yours."), kind="push-subscription-not-found")
    return Redirect(path=f"{PREFERENCES_PATH}?device=removed", status_code=303)


# Registered by the composition root (backend/app.py).
ROUTES: Final[list[Any]] = [service_worker, remove_device_page]
