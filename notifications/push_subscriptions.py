"""The person's devices for Web Push: register, list, remove; what a valid subscription looks like.

Always the signed-in person's own devices (a helper never receives someone else's notices). A registration
takes the endpoint away from anyone else who held it: an endpoint is one browser profile, and whoever signed in
there last is the one its notifications are for.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from typing import Final
from urllib.parse import urlsplit
from uuid import UUID

import asyncpg

from backend.core.errors import FieldError, validation_problem
from notifications import push_queries
from notifications.schemas import PushDevice, PushSubscription, PushSubscriptionIn

MAX_ENDPOINT_LENGTH: Final = 2000
MAX_DEVICES: Final = 20
# RFC 8291: the browser's public key is an uncompressed P-256 point, the auth secret 16 random bytes.
P256DH_BYTES: Final = 65
AUTH_BYTES: Final = 16
_BASE64URL: Final = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")
_LOOPBACK_NAMES: Final = {"localhost", "127.0.0.1", "::1"}


def _decoded(value: str) -> bytes | None:
    if not _BASE64URL.match(value):
        return None
    try:
        return base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        return None


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _endpoint_error(endpoint: str, *, allow_loopback_http: bool) -> str | None:
    if len(endpoint) > MAX_ENDPOINT_LENGTH:
        return f"The endpoint is longer than {MAX_ENDPOINT_LENGTH} characters."
    try:
        parts = urlsplit(endpoint)
        host = parts.hostname or ""
    except ValueError:
        return "The endpoint is not a URL."
    if not host or parts.username or parts.password or parts.fragment:
        return "The endpoint must be a plain https URL of a push service."
    # Push services are reached over https only. Plain http is accepted for a push endpoint on this machine's
    # loopback outside production, for the test and development push endpoints that run there.
    if parts.scheme == "http" and allow_loopback_http and _is_loopback(host):
        return None
    if parts.scheme != "https":
        return "The endpoint must start with https://."
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "The endpoint must name a push service, not this machine." if host == "localhost" else None
    # The worker calls this URL: never let it point into a private network.
    if not address.is_global:
        return "The endpoint must be a public push service address."
    return None


def subscription_errors(data: PushSubscriptionIn, *, allow_loopback_http: bool) -> list[FieldError]:
    """Every problem with a subscription from the browser, naming its field; empty when it is valid."""
    errors: list[FieldError] = []
    problem = _endpoint_error(data.endpoint, allow_loopback_http=allow_loopback_http)
    if problem:
        errors.append(FieldError(field="endpoint", message=problem))
    for field, value, size in (("p256dh", data.keys.p256dh, P256DH_BYTES), ("auth", data.keys.auth, AUTH_BYTES)):
        raw = _decoded(value)
        if raw is None:
            errors.append(FieldError(field=f"keys.{field}", message="Expected base64url (RFC 4648 section 5)."))
        elif len(raw) != size:
            errors.append(FieldError(field=f"keys.{field}", message=f"Expected {size} bytes, got {len(raw)}."))
        elif field == "p256dh" and raw[0] != 0x04:
            errors.append(FieldError(field="keys.p256dh", message="Expected an uncompressed P-256 point."))
    return errors


def _canonical(value: str) -> str:
    """base64url without padding, the form stored."""
    raw = _decoded(value)
    assert raw is not None
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


_BROWSERS: Final = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"))
_SYSTEMS: Final = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


# Stored when the User-Agent names no known browser or system; pages show it in words.
UNKNOWN_DEVICE: Final = "?"


def device_label(user_agent: str | None) -> str:
    """Names to recognise a device by ("Firefox · Android"), the same in every language, from the User-Agent."""
    agent = user_agent or ""
    browser = next((name for token, name in _BROWSERS if token in agent), None)
    if browser is None and "Safari/" in agent:
        browser = "Safari"
    system = next((name for token, name in _SYSTEMS if token in agent), None)
    if browser and system:
        return f"{browser} · {system}"
    return browser or system or UNKNOWN_DEVICE


def device(subscription: PushSubscription) -> PushDevice:
    """A subscription as its owner sees it."""
    return PushDevice(
        subscription_id=subscription.subscription_id,
        device_label=subscription.device_label,
        created_at=subscription.created_at,
        last_success_at=subscription.last_success_at,
        active=subscription.disabled_at is None,
    )


async def register_subscription(
    conn: asyncpg.Connection,
    citizen_id: UUID,
    data: PushSubscriptionIn,
    *,
    user_agent: str | None,
    allow_loopback_http: bool,
) -> PushDevice:
    """Register (or renew) one of the person's devices; a 422 problem naming the field for bad input."""
    errors = subscription_errors(data, allow_loopback_http=allow_loopback_http)
    if errors:
        raise validation_problem(errors, "This push subscription cannot be used.")
    await push_queries.lock_endpoint(conn, data.endpoint)
    known = {item.endpoint for item in await push_queries.select_subscriptions(conn, citizen_id)}
    if data.endpoint not in known and len(known) >= MAX_DEVICES:
        raise validation_problem(
            [FieldError(field="endpoint", message=f"At most {MAX_DEVICES} devices; remove one first.")],
            "Too many devices.",
        )
    await push_queries.disable_endpoint_elsewhere(conn, data.endpoint, citizen_id)
    stored = await push_queries.upsert_subscription(
        conn,
        citizen_id,
        endpoint=data.endpoint,
        p256dh=_canonical(data.keys.p256dh),
        auth=_canonical(data.keys.auth),
        device_label=device_label(user_agent)[:100],
    )
    return device(stored)


async def devices(conn: asyncpg.Connection, citizen_id: UUID) -> list[PushDevice]:
    """The person's devices, active first."""
    return [device(item) for item in await push_queries.select_subscriptions(conn, citizen_id)]


async def remove_device(conn: asyncpg.Connection, citizen_id: UUID, subscription_id: UUID) -> bool:
    """Forget one of the person's devices; False when it is not theirs."""
    return await push_queries.delete_subscription(conn, citizen_id, subscription_id)
