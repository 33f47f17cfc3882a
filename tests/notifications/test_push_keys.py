"""The VAPID key: from VAPID_PRIVATE_KEY in production, kept under the local folder in development, refused with
the variable's name when it is not a P-256 private key."""

from __future__ import annotations

import base64
from pathlib import Path

import msgspec
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from backend.core.settings import Settings, load_settings
from notifications.push_keys import application_server_key, vapid_key_path, vapid_private_key


def _pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def test_development_keeps_one_key_in_the_local_folder(tmp_path: Path) -> None:
    settings = load_settings({"VITRINE_LOCAL_DIR": str(tmp_path)})
    key = vapid_private_key(settings)
    path = vapid_key_path(settings.local_path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert application_server_key(key) == application_server_key(vapid_private_key(settings))
    point = base64.urlsafe_b64decode(application_server_key(key) + "=")
    assert len(point) == 65
    assert point[0] == 4


def test_the_configured_key_is_used_and_nothing_is_written(tmp_path: Path) -> None:
    configured = ec.generate_private_key(ec.SECP256R1())
    settings = load_settings({"VITRINE_LOCAL_DIR": str(tmp_path), "VAPID_PRIVATE_KEY": _pem(configured)})
    assert application_server_key(vapid_private_key(settings)) == application_server_key(configured)
    assert not vapid_key_path(settings.local_path).exists()


@pytest.mark.parametrize(
    "pem",
    [
        "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----",
        _pem(ec.generate_private_key(ec.SECP384R1())),
    ],
)
def test_a_bad_key_is_refused_naming_the_variable(settings: Settings, pem: str) -> None:
    with pytest.raises(ValueError, match=r"^VAPID_PRIVATE_KEY: "):
        vapid_private_key(msgspec.structs.replace(settings, vapid_private_key=pem))
