"""The Web Push channel: a short "a message is waiting" line, encrypted for one device, signed with VAPID.

Like the e-mail (eBox pattern) the payload carries no personal detail: a title and one line in the person's
language, and the link to the notice in the inbox. pywebpush encrypts it (RFC 8291, aes128gcm) for the
browser's key and auth secret, and py-vapid signs the Authorization header (RFC 8292: ES256 JWT with the push
service's origin as audience, an expiry and our contact as subject). Answers are sorted for the caller:
201 accepted; 404/410 the subscription is gone; 429, 5xx and network trouble are worth a retry; any other
4xx is not.
"""

from __future__ import annotations

import time
from typing import Final
from urllib.parse import urlsplit

import aiohttp
import msgspec
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02
from pywebpush import WebPusher

from backend.core.digits import is_ascii_digits
from backend.core.i18n import Language
from notifications.channels.failures import PermanentFailure, TemporaryFailure
from notifications.push_templates import current_push_template
from notifications.schemas import PushSubscription

PUSH_TIMEOUT_SECONDS: Final = 30.0
# How long a push service keeps a message for a device that is offline (RFC 8030 TTL): two days.
PUSH_TTL_SECONDS: Final = 2 * 24 * 3600
# RFC 8292 allows at most 24 hours; twelve leaves room for clock differences.
VAPID_LIFETIME_SECONDS: Final = 12 * 3600
MAX_RETRY_AFTER_SECONDS: Final = 3600.0


class PushMessage(msgspec.Struct, frozen=True, kw_only=True):
    """The decrypted payload the service worker reads (frontend/static/sw.js)."""

    title: str
    body: str
    url: str
    tag: str
    lang: Language


class SubscriptionGone(PermanentFailure):
    """The push service no longer knows this subscription (404/410): stop pushing to the device."""


class PushTemporaryFailure(TemporaryFailure):
    """Worth trying again; `retry_after` when the push service said how long to wait (429 Retry-After)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def build_push_message(*, language: Language, notification_url: str, notification_id: str) -> PushMessage:
    """The push payload in the person's language: the same words for every notice."""
    texts = current_push_template().texts[language]
    return PushMessage(title=texts.title, body=texts.body, url=notification_url, tag=notification_id, lang=language)


def _origin(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


def vapid_headers(key: ec.EllipticCurvePrivateKey, *, endpoint: str, subject: str) -> dict[str, str]:
    """The Authorization header for one push service: `vapid t=<JWT>, k=<public key>`."""
    claims: dict[str, str | int] = {
        "aud": _origin(endpoint),
        "exp": int(time.time()) + VAPID_LIFETIME_SECONDS,
        "sub": subject,
    }
    signed: dict[str, str] = Vapid02(private_key=key).sign(claims)
    return signed


def _retry_after(value: str | None) -> float | None:
    if value is None or not is_ascii_digits(value.strip()):
        return None
    return min(float(value.strip()), MAX_RETRY_AFTER_SECONDS)


async def send_push(
    session: aiohttp.ClientSession,
    subscription: PushSubscription,
    message: PushMessage,
    *,
    key: ec.EllipticCurvePrivateKey,
    subject: str,
    urgency: str = "normal",
    timeout_seconds: float = PUSH_TIMEOUT_SECONDS,
) -> None:
    """Deliver one encrypted message to one device's push service.

    Raises SubscriptionGone, PushTemporaryFailure or PermanentFailure; the reasons name the push service's
    host and status, never the endpoint (a capability URL: whoever knows it can push to the device).
    """
    host = urlsplit(subscription.endpoint).hostname or "push service"
    headers = {**vapid_headers(key, endpoint=subscription.endpoint, subject=subject), "Urgency": urgency}
    info = {"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}}
    try:
        response = await WebPusher(info, aiohttp_session=session).send_async(
            msgspec.json.encode(message),
            headers,
            ttl=PUSH_TTL_SECONDS,
            content_encoding="aes128gcm",
            timeout=aiohttp.ClientTimeout(total=timeout_seconds),
        )
    except (aiohttp.ClientError, TimeoutError, OSError) as problem:
        raise PushTemporaryFailure(f"{host}: {type(problem).__name__}") from None
    status = response.status
    if 200 <= status < 300:
        return
    reason = f"{host} answered {status}"
    if status in (404, 410):
        raise SubscriptionGone(f"{reason}: subscription gone")
    if status == 429 or status >= 500:
        raise PushTemporaryFailure(reason, _retry_after(response.headers.get("Retry-After")))
    raise PermanentFailure(reason)
