"""Configuration, read once from environment variables and validated at start-up.

Every setting is an environment variable; a bad value stops start-up with one line naming the variable.
Production refuses development defaults (demo sign-in, the development secret, plain-http cookies).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal, get_args, get_origin
from urllib.parse import urlsplit

import msgspec

Environment = Literal["development", "test", "production"]

# Known only so that production can refuse it; long enough to satisfy the length rule in development.
DEVELOPMENT_SECRET = "development-only-secret-never-use-in-production-0000"  # noqa: S105

# The VAPID contact used in development and tests; production must name its own (VAPID_SUBJECT).
DEVELOPMENT_PUSH_CONTACT = "mailto:no-reply@vitrine.example"

_PositiveInt = Annotated[int, msgspec.Meta(ge=1)]
_Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]


class SettingsError(Exception):
    """A setting is missing or invalid; the message names the variable and what was expected."""


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=False):
    """All of Vitrine's configuration. Field names are the environment variable names."""

    env: Environment = msgspec.field(default="development", name="VITRINE_ENV")
    database_url: str | None = msgspec.field(default=None, name="DATABASE_URL")
    redis_url: str | None = msgspec.field(default=None, name="REDIS_URL")
    base_url: str = msgspec.field(default="http://127.0.0.1:8000", name="BASE_URL")
    host: str = msgspec.field(default="127.0.0.1", name="VITRINE_HOST")
    port: _Port = msgspec.field(default=8000, name="VITRINE_PORT")
    web_workers: _PositiveInt = msgspec.field(default=1, name="VITRINE_WEB_WORKERS")
    secret_key: str = msgspec.field(default=DEVELOPMENT_SECRET, name="SECRET_KEY")
    smtp_url: str = msgspec.field(default="smtp://127.0.0.1:1025", name="SMTP_URL")
    mail_from: str = msgspec.field(default="Vitrine <no-reply@vitrine.example>", name="MAIL_FROM")
    db_pool_min: _PositiveInt = msgspec.field(default=1, name="DB_POOL_MIN")
    db_pool_max: _PositiveInt = msgspec.field(default=10, name="DB_POOL_MAX")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = msgspec.field(default="INFO", name="LOG_LEVEL")
    local_dir: str = msgspec.field(default=".local", name="VITRINE_LOCAL_DIR")
    oidc_issuer: str | None = msgspec.field(default=None, name="OIDC_ISSUER")
    oidc_client_id: str | None = msgspec.field(default=None, name="OIDC_CLIENT_ID")
    oidc_client_secret: str | None = msgspec.field(default=None, name="OIDC_CLIENT_SECRET")
    service_signing_key: str | None = msgspec.field(default=None, name="SERVICE_SIGNING_KEY")
    vapid_private_key: str | None = msgspec.field(default=None, name="VAPID_PRIVATE_KEY")
    vapid_subject: str | None = msgspec.field(default=None, name="VAPID_SUBJECT")
    worker_metrics_port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = msgspec.field(
        default=0, name="WORKER_METRICS_PORT"
    )
    # How long a running worker retries a Redis command before it stops taking jobs until Redis answers again.
    worker_redis_retry_seconds: _PositiveInt = msgspec.field(default=60, name="WORKER_REDIS_RETRY_SECONDS")

    @property
    def is_production(self) -> bool:
        """True when running for real people."""
        return self.env == "production"

    @property
    def is_development(self) -> bool:
        """True on a developer's machine (`make run`): the only place demo sign-in may exist."""
        return self.env == "development"

    @property
    def oidc_enabled(self) -> bool:
        """True when sign-in through the federal authentication service is configured."""
        return bool(self.oidc_issuer and self.oidc_client_id and self.oidc_client_secret)

    @property
    def secure_cookies(self) -> bool:
        """Cookies carry the Secure flag whenever the site is served over https."""
        return self.base_url.startswith("https://")

    @property
    def push_contact(self) -> str:
        """The VAPID `sub` claim: how a push service reaches the operator (a development address when unset)."""
        return self.vapid_subject or DEVELOPMENT_PUSH_CONTACT

    @property
    def local_path(self) -> Path:
        """Folder for embedded services' data and demo keys (git-ignored)."""
        return Path(self.local_dir).resolve()


_VARIABLES = {f.encode_name for f in msgspec.structs.fields(Settings)}
_CHOICES = {
    field.encode_name: [str(choice) for choice in get_args(field.type)]
    for field in msgspec.structs.fields(Settings)
    if get_origin(field.type) is Literal
}
_FIELD_AT = re.compile(r"at `\$\.(?P<name>[A-Z_]+)`")


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate settings from the environment (or the mapping given), or raise SettingsError."""
    source = os.environ if environ is None else environ
    raw = {name: value for name, value in source.items() if name in _VARIABLES and value != ""}
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        message = str(exc)
        match = _FIELD_AT.search(message)
        name = match.group("name") if match else "configuration"
        detail = _FIELD_AT.sub("", message).strip(" -")
        if name in _CHOICES:
            detail = f"expected one of {', '.join(_CHOICES[name])}"
        raise SettingsError(f"{name}: {detail} (got {raw.get(name, '')!r})") from None
    _check_consistency(settings)
    return settings


def _check_consistency(settings: Settings) -> None:
    """Rules that involve more than one value, or that production adds."""
    if len(settings.secret_key) < 32:
        raise SettingsError("SECRET_KEY: must be at least 32 characters long")
    if settings.db_pool_min > settings.db_pool_max:
        raise SettingsError("DB_POOL_MIN: must not exceed DB_POOL_MAX")
    _check_url("BASE_URL", settings.base_url, {"http", "https"})
    _check_url("SMTP_URL", settings.smtp_url, {"smtp", "smtps"})
    if settings.database_url is not None:
        _check_url("DATABASE_URL", settings.database_url, {"postgresql", "postgres"})
    if settings.redis_url is not None:
        _check_url("REDIS_URL", settings.redis_url, {"redis", "rediss", "unix"})
    if settings.vapid_subject is not None:
        _check_vapid_subject(settings.vapid_subject)
    if settings.oidc_issuer is not None:
        _check_url("OIDC_ISSUER", settings.oidc_issuer, {"http", "https"} if not settings.is_production else {"https"})
        for name, value in (
            ("OIDC_CLIENT_ID", settings.oidc_client_id),
            ("OIDC_CLIENT_SECRET", settings.oidc_client_secret),
        ):
            if not value:
                raise SettingsError(f"{name}: required when OIDC_ISSUER is set")
    if settings.is_production:
        if settings.secret_key == DEVELOPMENT_SECRET:
            raise SettingsError("SECRET_KEY: production needs its own secret, not the development default")
        if not settings.secure_cookies:
            raise SettingsError("BASE_URL: production must be served over https (cookies are Secure-only)")
        if settings.database_url is None:
            raise SettingsError("DATABASE_URL: required in production (no embedded database)")
        if settings.redis_url is None:
            raise SettingsError("REDIS_URL: required in production (no embedded Redis)")
        if settings.oidc_issuer is None:
            raise SettingsError("OIDC_ISSUER: required in production (the only way to sign in there)")
        if settings.service_signing_key is None:
            raise SettingsError("SERVICE_SIGNING_KEY: required in production (PEM of the P-256 key signing receipts)")
        if settings.vapid_private_key is None:
            raise SettingsError("VAPID_PRIVATE_KEY: required in production (PEM of the P-256 key signing Web Push)")
        if settings.vapid_subject is None:
            raise SettingsError("VAPID_SUBJECT: required in production (mailto: or https: contact for push services)")


def _check_vapid_subject(value: str) -> None:
    """RFC 8292: the subject is a mailto: address or an https: URL where the operator can be reached."""
    parts = urlsplit(value)
    if parts.scheme == "mailto" and "@" in parts.path:
        return
    if parts.scheme == "https" and parts.netloc:
        return
    raise SettingsError("VAPID_SUBJECT: expected mailto:address@domain or an https:// URL")


def _check_url(name: str, value: str, schemes: set[str]) -> None:
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        expected = " or ".join(sorted(f"{scheme}://" for scheme in schemes))
        raise SettingsError(f"{name}: expected a URL starting with {expected}")
    if parts.scheme != "unix" and not parts.netloc and "host=" not in parts.query:
        raise SettingsError(f"{name}: the URL names no host")
