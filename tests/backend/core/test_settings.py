"""Settings: one line naming the bad variable; production refuses development defaults."""

from __future__ import annotations

import subprocess
import sys

import pytest

from backend.core.settings import DEVELOPMENT_SECRET, SettingsError, load_settings

PRODUCTION_OK = {
    "VITRINE_ENV": "production",
    "SECRET_KEY": "p" * 48,
    "BASE_URL": "https://vitrine.example",
    "DATABASE_URL": "postgresql://vitrine@db.internal/vitrine",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "OIDC_ISSUER": "https://idp.example",
    "OIDC_CLIENT_ID": "vitrine",
    "OIDC_CLIENT_SECRET": "s" * 40,
    "SERVICE_SIGNING_KEY": "-----BEGIN PRIVATE KEY-----\n(parsed when the app starts)\n-----END PRIVATE KEY-----",
    "VAPID_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\n(parsed when the worker starts)\n-----END PRIVATE KEY-----",
    "VAPID_SUBJECT": "mailto:operations@vitrine.example",
}


def test_defaults_are_for_development() -> None:
    settings = load_settings({})
    assert settings.env == "development"
    assert settings.is_development
    assert not settings.secure_cookies
    assert settings.database_url is None


def test_values_are_converted_from_strings() -> None:
    settings = load_settings({"VITRINE_PORT": "8123", "DB_POOL_MAX": "20", "LOG_LEVEL": "DEBUG"})
    assert (settings.port, settings.db_pool_max, settings.log_level) == (8123, 20, "DEBUG")


def test_a_complete_production_configuration_is_accepted() -> None:
    settings = load_settings(PRODUCTION_OK)
    assert settings.is_production
    assert settings.secure_cookies


@pytest.mark.parametrize(
    ("environ", "variable", "words"),
    [
        ({"VITRINE_PORT": "eighty"}, "VITRINE_PORT", "int"),
        ({"VITRINE_PORT": "70000"}, "VITRINE_PORT", "<= 65535"),
        ({"VITRINE_ENV": "prod"}, "VITRINE_ENV", "development, test, production"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL", "DEBUG"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY", "32 characters"),
        ({"DB_POOL_MIN": "5", "DB_POOL_MAX": "2"}, "DB_POOL_MIN", "DB_POOL_MAX"),
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL", "postgresql://"),
        ({"REDIS_URL": "http://x"}, "REDIS_URL", "redis://"),
        ({"BASE_URL": "vitrine.example"}, "BASE_URL", "https://"),
        ({"SMTP_URL": "smtp://"}, "SMTP_URL", "no host"),
    ],
)
def test_a_bad_value_names_the_variable(environ: dict[str, str], variable: str, words: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(environ)
    message = str(caught.value)
    assert message.startswith(f"{variable}:")
    assert words in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("override", "variable"),
    [
        ({"SECRET_KEY": DEVELOPMENT_SECRET}, "SECRET_KEY"),
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"BASE_URL": "http://vitrine.example"}, "BASE_URL"),
        ({"DATABASE_URL": ""}, "DATABASE_URL"),
        ({"REDIS_URL": ""}, "REDIS_URL"),
        ({"OIDC_ISSUER": ""}, "OIDC_ISSUER"),
        ({"OIDC_ISSUER": "http://idp.example"}, "OIDC_ISSUER"),
        ({"OIDC_CLIENT_SECRET": ""}, "OIDC_CLIENT_SECRET"),
        ({"SERVICE_SIGNING_KEY": ""}, "SERVICE_SIGNING_KEY"),
        ({"VAPID_PRIVATE_KEY": ""}, "VAPID_PRIVATE_KEY"),
        ({"VAPID_SUBJECT": ""}, "VAPID_SUBJECT"),
        ({"VAPID_SUBJECT": "operations@vitrine.example"}, "VAPID_SUBJECT"),
        ({"VAPID_SUBJECT": "http://vitrine.example/contact"}, "VAPID_SUBJECT"),
    ],
)
def test_production_refuses_development_defaults(override: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=f"^{variable}:"):
        load_settings({**PRODUCTION_OK, **override})


def test_the_command_refuses_to_start_in_production_without_secrets(environ_without_urls: dict[str, str]) -> None:
    environ = {key: value for key, value in environ_without_urls.items() if key != "SECRET_KEY"}
    environ["VITRINE_ENV"] = "production"
    result = subprocess.run(
        [sys.executable, "-m", "backend.cli", "web"], env=environ, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "SECRET_KEY" in lines[0]
