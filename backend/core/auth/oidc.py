"""OpenID Connect relying party: authorization code flow with PKCE, state and nonce, against FAS or any provider.

The flow: `authorization_url` stores a fresh state, nonce and PKCE verifier and sends the browser to the provider;
the provider sends it back with a code; `complete` claims the state once, exchanges the code at the token endpoint
and verifies the id_token (signature with the provider's published key, algorithm allow-list, issuer, audience,
expiry, nonce) before anyone is signed in.

The id_token carries the national number (`egovNRN`): nothing here logs claims, and no error message names a
claim value, a token or a code, so an OidcError can be logged as it is.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Mapping
from typing import Any, Final, Literal
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import asyncpg
import httpx
import jwt
import msgspec

from backend.core.auth.oidc_queries import claim_login_attempt, insert_login_attempt

OidcErrorCode = Literal["discovery", "state", "token_exchange", "jwks", "id_token", "nonce"]

# Only public-key algorithms: "none" would accept unsigned tokens, and HS* would make the client secret (which the
# provider also knows) a signing key, or worse, let a public key be used as an HMAC secret.
ASYMMETRIC_ALGORITHMS: Final = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
_KEY_TYPE_FOR: Final = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}

# A cached JWKS is refetched after this long even when its keys still match, so that a key the provider withdrew
# (compromised, retired) stops being trusted within the hour rather than at the next restart.
_JWKS_MAX_AGE_SECONDS: Final = 3600.0

# RFC 7636 section 4.1: 43 to 128 characters from the unreserved set.
_CODE_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_OAUTH_ERROR_CODE = re.compile(r"[a-z_]{1,40}")


class OidcError(Exception):
    """A sign-in that cannot go on. `code` is stable for callers and metrics; the message carries no personal data."""

    def __init__(self, code: OidcErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code: OidcErrorCode = code
        self.message = message


class OidcConfig(msgspec.Struct, frozen=True, kw_only=True):
    """How Vitrine is registered with the provider. `issuer` is compared exactly, trailing slash included."""

    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    scopes: str = "openid profile"
    allowed_algs: tuple[str, ...] = ("RS256", "ES256", "PS256")
    clock_skew_seconds: int = 60

    def __post_init__(self) -> None:
        """Refuse configurations that would weaken verification, at start-up rather than at the first sign-in."""
        refused = [alg for alg in self.allowed_algs if alg not in ASYMMETRIC_ALGORITHMS]
        if refused or not self.allowed_algs:
            raise ValueError(f"allowed_algs: only public-key algorithms are accepted, not {refused or 'none'}")
        if "openid" not in self.scopes.split():
            raise ValueError("scopes: must include 'openid'")
        if not 0 <= self.clock_skew_seconds <= 300:
            raise ValueError("clock_skew_seconds: must be between 0 and 300")
        if urlsplit(self.issuer).scheme not in {"http", "https"}:
            raise ValueError("issuer: expected an http(s) URL")

    def __repr__(self) -> str:
        """Everything but the client secret, so a logged config leaks nothing."""
        return f"OidcConfig(issuer={self.issuer!r}, client_id={self.client_id!r}, client_secret=<hidden>)"

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        """Same redaction for rich-style pretty printers."""
        return [("issuer", self.issuer), ("client_id", self.client_id)]


class ProviderMetadata(msgspec.Struct, frozen=True, kw_only=True):
    """The parts of the provider's discovery document that the relying party uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None = None


class VerifiedLogin(msgspec.Struct, frozen=True, kw_only=True):
    """A person the provider vouched for, after every check passed.

    `id_token` is kept for `end_session_url(id_token_hint=...)`; like `claims` it contains the national number.
    """

    subject: str
    national_number: str | None
    claims: dict[str, Any]
    next_path: str
    id_token: str

    def __repr__(self) -> str:
        """Only the harmless field, so a login that reaches a log or a traceback leaks no national number."""
        return f"VerifiedLogin(next_path={self.next_path!r}, <identity hidden>)"

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        """Same redaction for rich-style pretty printers."""
        return [("next_path", self.next_path)]


class _TokenResponse(msgspec.Struct, frozen=True):
    id_token: str
    access_token: str | None = None
    token_type: str | None = None


class _TokenError(msgspec.Struct, frozen=True):
    error: str = ""


class _Jwks(msgspec.Struct, frozen=True):
    keys: list[dict[str, Any]]


def pkce_pair(verifier: str | None = None) -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge (RFC 7636); a fresh random verifier unless one is given."""
    if verifier is None:
        # 64 random bytes give 86 URL-safe characters: inside 43..128 and well over the 256 bits RFC 7636 asks.
        verifier = secrets.token_urlsafe(64)
    elif not _CODE_VERIFIER.fullmatch(verifier):
        raise ValueError("a PKCE code verifier is 43 to 128 unreserved characters")
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def local_next_path(next_path: str) -> str:
    """The path to return to after sign-in if it stays on this site, else "/" (no open redirect via sign-in)."""
    if (
        not next_path.startswith("/")
        or next_path.startswith("//")
        or "\\" in next_path
        or len(next_path) > 2000
        or any(ord(char) < 0x20 or ord(char) == 0x7F for char in next_path)
    ):
        return "/"
    return next_path


def _with_query(url: str, params: Mapping[str, str]) -> str:
    """Add parameters to a URL that may already carry a query (some providers put the tenant there)."""
    parts = urlsplit(url)
    query = urlencode(params)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, f"{parts.query}&{query}" if parts.query else query, ""))


class OidcClient:
    """The relying party for one provider. Share one per process: it caches discovery and the provider's keys.

    The httpx client belongs to the caller (its timeouts, proxies and lifetime); this class never closes it.
    """

    def __init__(self, config: OidcConfig, http: httpx.AsyncClient) -> None:
        """Keep the configuration and the HTTP client; nothing is fetched until first needed."""
        self._config = config
        self._http = http
        self._metadata: ProviderMetadata | None = None
        self._jwks: list[dict[str, Any]] | None = None
        self._jwks_fetched_at = 0.0

    @property
    def config(self) -> OidcConfig:
        """The configuration this client was built with."""
        return self._config

    async def discover(self) -> ProviderMetadata:
        """The provider's discovery document, fetched once then cached; its issuer must equal ours exactly."""
        if self._metadata is not None:
            return self._metadata
        # OpenID Connect Discovery 1.0 section 4.1: drop a trailing slash, then append the well-known path.
        url = self._config.issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            response = await self._http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise OidcError("discovery", "the provider's discovery document could not be fetched") from exc
        if response.status_code != 200:
            raise OidcError("discovery", f"the discovery document answered HTTP {response.status_code}")
        try:
            metadata = msgspec.json.decode(response.content, type=ProviderMetadata)
        except msgspec.DecodeError as exc:
            raise OidcError("discovery", f"the discovery document is not usable ({exc})") from None
        # Section 4.3: a document naming another issuer could come from anyone able to answer at this URL, and
        # would make the id_token's iss check meaningless.
        if metadata.issuer != self._config.issuer:
            raise OidcError("discovery", "the discovery document names a different issuer")
        for endpoint in (metadata.authorization_endpoint, metadata.token_endpoint, metadata.jwks_uri):
            self._check_endpoint(endpoint)
        if metadata.end_session_endpoint is not None:
            self._check_endpoint(metadata.end_session_endpoint)
        self._metadata = metadata
        return metadata

    def _check_endpoint(self, url: str) -> None:
        """An https issuer must not send codes, secrets or key fetches over plain http."""
        scheme = urlsplit(url).scheme
        if scheme not in {"http", "https"} or (urlsplit(self._config.issuer).scheme == "https" and scheme != "https"):
            raise OidcError("discovery", "an endpoint in the discovery document is not https")

    async def authorization_url(self, conn: asyncpg.Connection, next_path: str) -> str:
        """Start a sign-in: store state, nonce and PKCE verifier, and return the provider's URL to send the browser to.

        `next_path` is where to go afterwards; anything but a local path is replaced by "/".
        """
        metadata = await self.discover()
        state = secrets.token_urlsafe(32)
        nonce = secrets.token_urlsafe(32)
        verifier, challenge = pkce_pair()
        await insert_login_attempt(
            conn, state=state, nonce=nonce, code_verifier=verifier, next_path=local_next_path(next_path)
        )
        return _with_query(
            metadata.authorization_endpoint,
            {
                "response_type": "code",
                "client_id": self._config.client_id,
                "redirect_uri": self._config.redirect_uri,
                "scope": self._config.scopes,
                "state": state,
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            },
        )

    async def complete(self, conn: asyncpg.Connection, *, code: str, state: str) -> VerifiedLogin:
        """Finish a sign-in from the callback's `code` and `state`; raise OidcError unless every check passes.

        The state is claimed before anything else, so it is spent even when a later step fails: a callback URL
        can never be replayed.
        """
        attempt = await claim_login_attempt(conn, state)
        if attempt is None:
            raise OidcError("state", "unknown, already used or expired sign-in state")
        metadata = await self.discover()
        tokens = await self._exchange_code(metadata, code=code, code_verifier=attempt.code_verifier)
        claims = await self._verify_id_token(metadata, tokens.id_token)
        # Compared after the signature check, so only a token the provider really signed reaches this point.
        nonce = claims.get("nonce")
        if not isinstance(nonce, str) or not hmac.compare_digest(nonce.encode(), attempt.nonce.encode()):
            raise OidcError("nonce", "the id_token's nonce does not match this sign-in")
        national_number = claims.get("egovNRN")
        if national_number is not None and not isinstance(national_number, str):
            raise OidcError("id_token", "the egovNRN claim is not a string")
        return VerifiedLogin(
            subject=claims["sub"],
            national_number=national_number,
            claims=claims,
            next_path=attempt.next_path,
            id_token=tokens.id_token,
        )

    def end_session_url(self, id_token_hint: str | None, *, post_logout_redirect_uri: str | None = None) -> str | None:
        """The provider's sign-out URL (RP-initiated logout), or None when the provider offers none.

        Needs discovery to have run (any `authorization_url` or `complete` call does it; `discover()` at start-up
        is simplest).
        """
        if self._metadata is None:
            raise OidcError("discovery", "discover() must run before end_session_url()")
        if self._metadata.end_session_endpoint is None:
            return None
        params = {"client_id": self._config.client_id}
        if id_token_hint is not None:
            params["id_token_hint"] = id_token_hint
        if post_logout_redirect_uri is not None:
            params["post_logout_redirect_uri"] = post_logout_redirect_uri
        return _with_query(self._metadata.end_session_endpoint, params)

    async def _exchange_code(self, metadata: ProviderMetadata, *, code: str, code_verifier: str) -> _TokenResponse:
        # RFC 6749 section 2.3.1: id and secret are form-encoded before going into the Basic header.
        auth = (quote(self._config.client_id, safe=""), quote(self._config.client_secret, safe=""))
        try:
            response = await self._http.post(
                metadata.token_endpoint,
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": self._config.redirect_uri,
                    "code_verifier": code_verifier,
                },
                auth=auth,
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise OidcError("token_exchange", "the token endpoint could not be reached") from exc
        if response.status_code != 200:
            # The OAuth error code is a fixed vocabulary (invalid_grant, ...) and says why; anything else is dropped.
            try:
                error = msgspec.json.decode(response.content, type=_TokenError).error
            except msgspec.DecodeError:
                error = ""
            reason = f" ({error})" if _OAUTH_ERROR_CODE.fullmatch(error) else ""
            raise OidcError("token_exchange", f"the token endpoint answered HTTP {response.status_code}{reason}")
        try:
            return msgspec.json.decode(response.content, type=_TokenResponse)
        except msgspec.DecodeError:
            raise OidcError("token_exchange", "the token response has no usable id_token") from None

    async def _verify_id_token(self, metadata: ProviderMetadata, id_token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError:
            raise OidcError("id_token", "the id_token is not a well-formed JWT") from None
        alg = header.get("alg")
        # Checked before any key is looked up: the header is attacker-shaped until the signature is verified.
        if not isinstance(alg, str) or alg not in self._config.allowed_algs:
            raise OidcError("id_token", "the id_token's signing algorithm is not allowed")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise OidcError("id_token", "the id_token's key id is not a string")
        key = await self._signing_key(metadata, kid=kid, alg=alg)
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key=key,
                algorithms=[alg],
                audience=self._config.client_id,
                issuer=self._config.issuer,
                leeway=self._config.clock_skew_seconds,
                options={"require": ["iss", "sub", "aud", "exp", "iat"]},
            )
        except jwt.PyJWTError as exc:
            # The class name says what failed (ExpiredSignatureError, InvalidAudienceError, ...); pyjwt's own
            # message is not passed on because some quote parts of the token.
            raise OidcError("id_token", f"the id_token was refused ({type(exc).__name__})") from None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        azp = claims.get("azp")
        # OpenID Connect Core 3.1.3.7: with several audiences the token must say it was issued to us.
        if (len(audiences) > 1 or azp is not None) and azp != self._config.client_id:
            raise OidcError("id_token", "the id_token was issued to another party (azp)")
        if not isinstance(claims["sub"], str) or not claims["sub"]:
            raise OidcError("id_token", "the id_token has no usable subject")
        return claims

    async def _signing_key(self, metadata: ProviderMetadata, *, kid: str | None, alg: str) -> jwt.PyJWK:
        """The provider's key for this token, refetching the JWKS once when the key is not cached (rotation).

        One refetch per sign-in is safe: id_tokens come straight from the token endpoint, so an unknown key id
        cannot be sent by a stranger to make us hammer the provider.
        """
        keys, fresh = await self._jwks_keys(metadata, refresh=False)
        jwk = _pick_key(keys, kid=kid, alg=alg)
        if jwk is None and not fresh:
            keys, _ = await self._jwks_keys(metadata, refresh=True)
            jwk = _pick_key(keys, kid=kid, alg=alg)
        if jwk is None:
            raise OidcError("id_token", "no key published by the provider matches the id_token")
        try:
            # Binding the algorithm to the key stops a token from choosing how its own key is interpreted.
            return jwt.PyJWK(jwk, algorithm=alg)
        except jwt.PyJWTError:
            raise OidcError("id_token", "the provider's key cannot verify this algorithm") from None

    async def _jwks_keys(self, metadata: ProviderMetadata, *, refresh: bool) -> tuple[list[dict[str, Any]], bool]:
        """The provider's public keys and whether they were fetched just now."""
        stale = time.monotonic() - self._jwks_fetched_at > _JWKS_MAX_AGE_SECONDS
        if self._jwks is not None and not refresh and not stale:
            return self._jwks, False
        try:
            response = await self._http.get(metadata.jwks_uri, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise OidcError("jwks", "the provider's keys could not be fetched") from exc
        if response.status_code != 200:
            raise OidcError("jwks", f"the provider's key set answered HTTP {response.status_code}")
        try:
            keys = msgspec.json.decode(response.content, type=_Jwks).keys
        except msgspec.DecodeError:
            raise OidcError("jwks", "the provider's key set is not a JWKS") from None
        self._jwks = keys
        self._jwks_fetched_at = time.monotonic()
        return keys, True


def _pick_key(keys: list[dict[str, Any]], *, kid: str | None, alg: str) -> dict[str, Any] | None:
    """The signing key of the right type with this key id (or the only one, when the token names none)."""
    key_type = _KEY_TYPE_FOR.get(alg[:2])
    candidates = [
        key
        for key in keys
        if key.get("kty") == key_type and key.get("use", "sig") == "sig" and key.get("alg", alg) == alg
    ]
    if kid is not None:
        candidates = [key for key in candidates if key.get("kid") == kid]
    # Core 10.1 lets a provider omit kid only when the choice is unambiguous; with several candidates, refuse.
    return candidates[0] if len(candidates) == 1 else None
