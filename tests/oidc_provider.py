"""A real OpenID provider on loopback, for tests of the relying party (FAS stands in the same place in production).

A small Litestar app served by uvicorn in a background thread on a free 127.0.0.1 port, so the client under test
talks real HTTP: discovery, /authorize (code flow, PKCE S256 only), /token (client_secret_basic, single-use codes,
PKCE check), /jwks and /end-session. Tests steer it through plain attributes and hooks:

- `next_subject` is who signs in next, unless /authorize gets a `login_hint` (taken as the national number);
- `rotate_keys()` signs from now on with a new key under a new kid;
- `issue_id_token(...)` mints tokens with any claim changed, removed, or signed the wrong way, and
  `tamper_next_id_token(...)` makes the next /token answer carry such a token;
- `advertised_issuer` makes discovery lie about the issuer; `hits` counts requests per endpoint.

Usage: `with OidcProvider.running() as provider: config = provider.client_config()`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote, urlencode

import jwt
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from litestar import Litestar, Request, Response, get, post

from backend.core.auth.oidc import OidcConfig

SigningAlg = Literal["RS256", "ES256"]
# How /token signs: properly, or one of the ways an attacker (or a broken provider) might.
Signing = Literal["current", "none", "hs256_public_key", "unknown_key", "foreign_key_same_kid", "malformed"]

_PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Subject:
    """Who signs in at the provider: FAS's `sub` and the national number it returns as `egovNRN`."""

    subject: str
    national_number: str | None


@dataclass(frozen=True)
class SigningKey:
    """One of the provider's key pairs and its public JWK."""

    kid: str
    alg: SigningAlg
    private_key: _PrivateKey

    @property
    def public_jwk(self) -> dict[str, Any]:
        """The public half as published in the JWKS."""
        public = self.private_key.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
        else:
            jwk = ECAlgorithm.to_jwk(public, as_dict=True)
        return {**jwk, "kid": self.kid, "alg": self.alg, "use": "sig"}

    @property
    def public_pem(self) -> bytes:
        """The public key as PEM, the "secret" of the classic HS256 key-confusion attack."""
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@dataclass
class _Grant:
    """An authorization code and what it was issued for."""

    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str | None
    subject: Subject
    used: bool = False


@dataclass
class _Tamper:
    """How the next /token answer's id_token is to be spoiled (keyword arguments for issue_id_token)."""

    arguments: dict[str, Any] = field(default_factory=dict)


def new_signing_key(alg: SigningAlg = "RS256") -> SigningKey:
    """A fresh key pair with a random kid."""
    private_key: _PrivateKey = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if alg == "RS256"
        else ec.generate_private_key(ec.SECP256R1())
    )
    return SigningKey(kid=f"{alg.lower()}-{secrets.token_hex(6)}", alg=alg, private_key=private_key)


def subject_for(national_number: str) -> Subject:
    """The account FAS would return for this national number (a stable pseudonymous `sub`)."""
    digest = hashlib.sha256(f"fas-test:{national_number}".encode()).hexdigest()[:24]
    return Subject(subject=f"fas-{digest}", national_number=national_number)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64_json(value: Mapping[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def _json(content: Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None) -> Response[bytes]:
    return Response(
        content=json.dumps(content).encode(),
        status_code=status,
        media_type="application/json",
        headers=dict(headers or {}),
    )


class OidcProvider:
    """An OpenID provider for tests; start it with `running()` (or `start()`/`stop()`)."""

    def __init__(
        self,
        *,
        client_id: str = "vitrine-test",
        client_secret: str = "test-client-secret-with:odd/characters",  # noqa: S107
        redirect_uri: str = "http://127.0.0.1:8000/auth/callback",
        alg: SigningAlg = "RS256",
    ) -> None:
        """Configure the one registered client and make the first signing key."""
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.issuer = ""
        self.keys: list[SigningKey] = [new_signing_key(alg)]
        self.next_subject = subject_for("85073003328")
        self.advertised_issuer: str | None = None
        self.offer_end_session = True
        self.hits: Counter[str] = Counter()
        self.last_authorization: dict[str, str] = {}
        self.end_sessions: list[dict[str, str]] = []
        self._grants: dict[str, _Grant] = {}
        self._tamper = _Tamper()
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------------

    @classmethod
    @contextmanager
    def running(cls, **options: Any) -> Iterator[OidcProvider]:
        """A started provider, stopped when the block ends."""
        provider = cls(**options)
        provider.start()
        try:
            yield provider
        finally:
            provider.stop()

    def start(self) -> None:
        """Serve on a free loopback port in a daemon thread; return once it accepts connections."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.issuer = f"http://127.0.0.1:{sock.getsockname()[1]}"
        # No log config and the plain asyncio loop: the server must not touch the test process's logging or
        # event-loop policy.
        config = uvicorn.Config(
            self._app(), log_config=None, access_log=False, lifespan="off", loop="asyncio", http="h11", ws="none"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="oidc-provider", daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test OpenID provider did not start")
            time.sleep(0.01)
        self._server, self._thread = server, thread
        self._socket = sock

    def stop(self) -> None:
        """Shut the server down and wait for its thread."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server, self._thread, self._socket = None, None, None

    def client_config(self, **overrides: Any) -> OidcConfig:
        """The relying-party configuration registered with this provider."""
        values: dict[str, Any] = {
            "issuer": self.issuer,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "redirect_uri": self.redirect_uri,
        }
        return OidcConfig(**(values | overrides))

    # -- test hooks ----------------------------------------------------------------------------------------------

    @property
    def current_key(self) -> SigningKey:
        """The key new tokens are signed with."""
        with self._lock:
            return self.keys[-1]

    def rotate_keys(self, *, alg: SigningAlg = "RS256", keep_old: bool = False) -> SigningKey:
        """Sign from now on with a new key (new kid); the old one leaves the JWKS unless `keep_old`."""
        key = new_signing_key(alg)
        with self._lock:
            self.keys = [*self.keys, key] if keep_old else [key]
        return key

    def jwks(self) -> dict[str, Any]:
        """The published key set."""
        with self._lock:
            return {"keys": [key.public_jwk for key in self.keys]}

    def tamper_next_id_token(self, **arguments: Any) -> None:
        """Make the next /token answer carry `issue_id_token(subject=..., nonce=..., **arguments)`."""
        with self._lock:
            self._tamper = _Tamper(arguments)

    def issue_id_token(
        self,
        *,
        subject: Subject | None = None,
        nonce: str | None = None,
        signing: Signing = "current",
        issued_at_offset: int = 0,
        expires_in: int = 300,
        remove: Iterable[str] = (),
        alter_payload: Mapping[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        """An id_token for `subject` (default `next_subject`), with `claims` added or replaced and `remove` dropped.

        `issued_at_offset` moves iat from now, `expires_in` sets exp from iat; `signing` picks a proper or a broken
        signature; `alter_payload` changes claims after signing, as a man in the middle would.
        """
        who = subject or self.next_subject
        now = int(time.time()) + issued_at_offset
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "sub": who.subject,
            "aud": self.client_id,
            "iat": now,
            "exp": now + expires_in,
            "auth_time": now,
            "nonce": nonce,
            "egovNRN": who.national_number,
        }
        payload = {name: value for name, value in (payload | claims).items() if value is not None}
        for name in remove:
            payload.pop(name, None)
        key = self.current_key
        token = self._sign(payload, key, signing)
        if alter_payload is not None:
            header, _, signature = token.split(".")
            token = f"{header}.{_b64_json(payload | dict(alter_payload))}.{signature}"
        return token

    def _sign(self, payload: dict[str, Any], key: SigningKey, signing: Signing) -> str:
        if signing == "current":
            return jwt.encode(payload, key.private_key, algorithm=key.alg, headers={"kid": key.kid})
        if signing == "unknown_key":
            stranger = new_signing_key(key.alg)
            return jwt.encode(payload, stranger.private_key, algorithm=key.alg, headers={"kid": stranger.kid})
        if signing == "foreign_key_same_kid":
            stranger = new_signing_key(key.alg)
            return jwt.encode(payload, stranger.private_key, algorithm=key.alg, headers={"kid": key.kid})
        if signing == "malformed":
            return "not-a-jwt"
        if signing == "none":
            return f"{_b64_json({'alg': 'none', 'typ': 'JWT', 'kid': key.kid})}.{_b64_json(payload)}."
        # Built by hand: pyjwt rightly refuses to use a PEM key as an HMAC secret.
        signing_input = f"{_b64_json({'alg': 'HS256', 'typ': 'JWT', 'kid': key.kid})}.{_b64_json(payload)}"
        signature = hmac.new(key.public_pem, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(signature)}"

    # -- the HTTP side -----------------------------------------------------------------------------------------------

    def _discovery(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "issuer": self.advertised_issuer or self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "scopes_supported": ["openid", "profile", "egovNRN"],
        }
        if self.offer_end_session:
            document["end_session_endpoint"] = f"{self.issuer}/end-session"
        return document

    def _authorize(self, params: Mapping[str, str]) -> Response[bytes]:
        self.last_authorization = dict(params)
        # Errors are answered here rather than redirected: RFC 6749 4.1.2.1 forbids redirecting to an unverified URI.
        if params.get("client_id") != self.client_id:
            return _json({"error": "unauthorized_client"}, 400)
        if params.get("redirect_uri") != self.redirect_uri:
            return _json({"error": "invalid_request", "error_description": "redirect_uri"}, 400)
        if params.get("response_type") != "code" or "openid" not in params.get("scope", "").split():
            return _json({"error": "unsupported_response_type"}, 400)
        challenge = params.get("code_challenge", "")
        if params.get("code_challenge_method") != "S256" or len(challenge) != 43:
            return _json({"error": "invalid_request", "error_description": "PKCE S256 required"}, 400)
        hint = params.get("login_hint")
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._grants[code] = _Grant(
                client_id=self.client_id,
                redirect_uri=self.redirect_uri,
                code_challenge=challenge,
                nonce=params.get("nonce"),
                subject=subject_for(hint) if hint else self.next_subject,
            )
        location = f"{self.redirect_uri}?{urlencode({'code': code, 'state': params.get('state', '')})}"
        return Response(content=b"", status_code=302, headers={"Location": location})

    def _client_authenticated(self, authorization: str | None) -> bool:
        if authorization is None or not authorization.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(authorization.removeprefix("Basic "), validate=True).decode()
        except ValueError:
            return False
        client_id, _, secret = decoded.partition(":")
        # RFC 6749 2.3.1: both halves are form-encoded by the client.
        return hmac.compare_digest(unquote(client_id), self.client_id) and hmac.compare_digest(
            unquote(secret), self.client_secret
        )

    def _token(self, authorization: str | None, form: Mapping[str, str]) -> Response[bytes]:
        if not self._client_authenticated(authorization):
            return _json({"error": "invalid_client"}, 401, {"WWW-Authenticate": 'Basic realm="token"'})
        if form.get("grant_type") != "authorization_code":
            return _json({"error": "unsupported_grant_type"}, 400)
        with self._lock:
            grant = self._grants.get(form.get("code", ""))
            if grant is None or grant.used:
                return _json({"error": "invalid_grant"}, 400)
            grant.used = True
            tamper, self._tamper = self._tamper, _Tamper()
        if grant.redirect_uri != form.get("redirect_uri"):
            return _json({"error": "invalid_grant", "error_description": "redirect_uri"}, 400)
        verifier = form.get("code_verifier", "")
        challenge = _b64(hashlib.sha256(verifier.encode()).digest())
        if not 43 <= len(verifier) <= 128 or not hmac.compare_digest(challenge, grant.code_challenge):
            return _json({"error": "invalid_grant", "error_description": "PKCE verification failed"}, 400)
        id_token = self.issue_id_token(**({"subject": grant.subject, "nonce": grant.nonce} | tamper.arguments))
        return _json(
            {
                "access_token": secrets.token_urlsafe(32),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            },
            headers={"Cache-Control": "no-store"},
        )

    def _end_session(self, params: Mapping[str, str]) -> Response[bytes]:
        self.end_sessions.append(dict(params))
        target = params.get("post_logout_redirect_uri")
        if target:
            return Response(content=b"", status_code=302, headers={"Location": target})
        return Response(content=b"signed out", status_code=200, media_type="text/plain")

    def _app(self) -> Litestar:
        provider = self

        @get("/.well-known/openid-configuration", sync_to_thread=False)
        def discovery() -> Response[bytes]:
            provider.hits["discovery"] += 1
            return _json(provider._discovery())

        @get("/authorize", sync_to_thread=False)
        def authorize(request: Request[Any, Any, Any]) -> Response[bytes]:
            provider.hits["authorize"] += 1
            return provider._authorize(dict(request.query_params.items()))

        @post("/token", status_code=200)
        async def token(request: Request[Any, Any, Any]) -> Response[bytes]:
            provider.hits["token"] += 1
            form = await request.form()
            fields = {name: value for name, value in form.items() if isinstance(value, str)}
            return provider._token(request.headers.get("authorization"), fields)

        @get("/jwks", sync_to_thread=False)
        def jwks() -> Response[bytes]:
            provider.hits["jwks"] += 1
            return _json(provider.jwks())

        @get("/end-session", sync_to_thread=False)
        def end_session(request: Request[Any, Any, Any]) -> Response[bytes]:
            provider.hits["end_session"] += 1
            return provider._end_session(dict(request.query_params.items()))

        return Litestar(
            route_handlers=[discovery, authorize, token, jwks, end_session], openapi_config=None, logging_config=None
        )
