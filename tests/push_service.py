"""A Web Push service the tests run on loopback (aiohttp), standing in for FCM or Mozilla's autopush.

It is a real HTTP server, not a mock: each request is checked as a push service would check it (RFC 8292 VAPID:
an ES256 JWT whose audience is this server's origin, with an expiry at most a day ahead and a contact as
subject, signed by the key the header names), and its body is DECRYPTED (RFC 8291 aes128gcm) with the private
key and auth secret of a subscription the test made the way a browser does. What arrived, decrypted, is kept for
the test; the next answers can be planned (`answer_next(token, 429, 201)`).
"""

from __future__ import annotations

import base64
import json
import os
import socket
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import http_ece
import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from notifications.schemas import PushKeys, PushSubscriptionIn


def b64url(raw: bytes) -> str:
    """base64url without padding, as browsers encode subscription keys."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class BrowserSubscription:
    """What a browser holds for one push subscription: the endpoint, its key pair and its auth secret."""

    token: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes

    def as_json(self) -> PushSubscriptionIn:
        """`PushSubscription.toJSON()`: what the browser sends to Vitrine."""
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return PushSubscriptionIn(
            endpoint=self.endpoint, keys=PushKeys(p256dh=b64url(point), auth=b64url(self.auth_secret))
        )


@dataclass(frozen=True)
class Received:
    """One message the push service accepted, decrypted."""

    token: str
    payload: dict[str, Any]
    claims: dict[str, Any]
    headers: dict[str, str]  # names in lower case
    at: datetime


@dataclass
class PushService:
    """The running push service: its origin, the subscriptions it knows, what arrived and what was refused."""

    port: int
    vapid_public_key: str
    subscriptions: dict[str, BrowserSubscription] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    _answers: dict[str, deque[int]] = field(default_factory=lambda: defaultdict(deque))

    @property
    def origin(self) -> str:
        """The audience a VAPID token for this service must name."""
        return f"http://127.0.0.1:{self.port}"

    def new_subscription(self) -> BrowserSubscription:
        """Subscribe as a browser would: a fresh P-256 key pair and a 16-byte auth secret."""
        token = b64url(os.urandom(12))
        subscription = BrowserSubscription(
            token=token,
            endpoint=f"{self.origin}/push/{token}",
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth_secret=os.urandom(16),
        )
        self.subscriptions[token] = subscription
        return subscription

    def answer_next(self, token: str, *statuses: int) -> None:
        """Answer the next pushes to this subscription with these statuses (then 201 again)."""
        self._answers[token].extend(statuses)

    def to(self, subscription: BrowserSubscription) -> list[Received]:
        """The messages accepted for one subscription."""
        return [item for item in self.received if item.token == subscription.token]

    def _check_vapid(self, authorization: str) -> dict[str, Any]:
        scheme, _, params = authorization.partition(" ")
        if scheme != "vapid":
            raise ValueError(f"Authorization scheme {scheme!r}, expected vapid")
        parts = dict(part.strip().split("=", 1) for part in params.split(","))
        if parts.get("k") != self.vapid_public_key:
            raise ValueError("the VAPID key is not the application server key the subscription was made with")
        point = _unb64url(parts["k"])
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        claims: dict[str, Any] = jwt.decode(
            parts["t"], key=public, algorithms=["ES256"], audience=self.origin, options={"require": ["exp", "aud"]}
        )
        if not claims["exp"] <= time.time() + 24 * 3600:
            raise ValueError("exp more than 24 hours ahead")
        if not str(claims.get("sub", "")).startswith(("mailto:", "https://")):
            raise ValueError("sub is not a mailto: or https: contact")
        return claims

    async def handle(self, request: web.Request) -> web.Response:
        """POST /push/{token}: check, decrypt, record; or answer as planned."""
        token = request.match_info["token"]
        subscription = self.subscriptions.get(token)
        if subscription is None:
            return web.Response(status=404)
        planned = self._answers[token]
        if planned and planned[0] != 201:
            status = planned.popleft()
            headers = {"Retry-After": "0"} if status == 429 else {}
            return web.Response(status=status, headers=headers)
        if planned:
            planned.popleft()
        try:
            claims = self._check_vapid(request.headers.get("Authorization", ""))
            if request.headers.get("Content-Encoding") != "aes128gcm":
                raise ValueError("Content-Encoding is not aes128gcm")
            if not request.headers.get("TTL", "").isdigit():
                raise ValueError("no TTL header")
            plain = http_ece.decrypt(
                await request.read(),
                private_key=subscription.private_key,
                auth_secret=subscription.auth_secret,
                version="aes128gcm",
            )
            payload = json.loads(plain)
        except (ValueError, KeyError, jwt.PyJWTError) as problem:
            self.refused.append(f"{type(problem).__name__}: {problem}")
            return web.Response(status=400, text=str(problem))
        headers = {name.lower(): value for name, value in request.headers.items()}
        self.received.append(Received(token, payload, claims, headers, datetime.now(UTC)))
        return web.Response(status=201, headers={"Location": f"{self.origin}/message/{len(self.received)}"})


@asynccontextmanager
async def running_push_service(vapid_public_key: str) -> AsyncIterator[PushService]:
    """Start a push service on a free loopback port for the duration of the block."""
    service = PushService(port=0, vapid_public_key=vapid_public_key)
    app = web.Application()
    app.router.add_post("/push/{token}", service.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    listening = socket.create_server(("127.0.0.1", 0))
    service.port = listening.getsockname()[1]
    await web.SockSite(runner, listening).start()
    try:
        yield service
    finally:
        await runner.cleanup()
        listening.close()
