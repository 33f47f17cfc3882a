"""Mandate receipts: what was agreed, in plain words on paper and as a signed, portable JWS.

The signed receipt is a compact JWS (ES256, `typ` "vitrine-mandate+jwt") made with Vitrine's service key, so it
verifies offline against the published keys (`/.well-known/vitrine-keys.json`), like the access-log receipts;
its `typ` keeps the two apart. It names both sides by display name only (never a national number), the themes
with their access, when the mandate runs, and the version and hash of the consent text.

The signature is deterministic (RFC 6979) and the claims are facts of the mandate (no "now"): the same mandate
in the same state always gives the same token, so the short verification code printed on paper matches the file
downloaded later. A change to the mandate (accepted, a theme ended, ended) gives a new receipt.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, Final
from uuid import UUID

import asyncpg
import jwt
import msgspec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from backend.access_log.receipts import service_key_id
from backend.core.auth.actors import SignedIn
from consent import mandate_queries, theme_queries
from consent.mandate_queries import MandateRow, MandateThemeRow
from consent.parties import mandate_of_party
from consent.schemas import Access, Duration, MandataryKind
from consent.views import organisation_name

__all__ = [
    "MANDATE_RECEIPT_TYPE",
    "MandateReceipt",
    "MandateReceiptInvalid",
    "ReceiptTheme",
    "issue_mandate_receipt",
    "receipt_for_party",
    "receipt_from_mandate",
    "verification_code",
    "verify_mandate_receipt",
]

ALGORITHM: Final = "ES256"
ISSUER: Final = "vitrine"
MANDATE_RECEIPT_TYPE: Final = "vitrine-mandate+jwt"
VERSION: Final = 1
MAX_LENGTH: Final = 8192
_COORDINATE_BYTES: Final = 32
_CODE_LENGTH: Final = 10
_CODE_GROUP: Final = 5


class MandateReceiptInvalid(Exception):
    """A mandate receipt that must not be trusted, with the reason."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ReceiptTheme(msgspec.Struct, frozen=True, kw_only=True):
    """A theme as the receipt states it: its code, version and name, the access given, and when it ended."""

    code: str
    version: int
    name: str
    access: Access
    ended_at: datetime | None = None


class MandateReceipt(msgspec.Struct, frozen=True, kw_only=True):
    """What a mandate receipt states (the claims of the signed JWS)."""

    mandate_id: UUID
    citizen: str
    mandatary: str
    mandatary_kind: MandataryKind
    themes: list[ReceiptTheme]
    duration: Duration
    until_date: date | None
    offered_at: datetime
    valid_from: datetime | None
    valid_until: datetime | None
    ended_at: datetime | None
    legal_text_version: int
    legal_text_language: str
    legal_text_sha256: str
    as_of: datetime


def _latest(*moments: datetime | None) -> datetime:
    return max(moment for moment in moments if moment is not None)


def _utc(moment: datetime | None) -> datetime | None:
    # One zone for every moment, so the same mandate always gives the same text (and signature).
    return None if moment is None else moment.astimezone(UTC)


def receipt_from_mandate(row: MandateRow, themes: Sequence[MandateThemeRow], legal_text_sha256: str) -> MandateReceipt:
    """The receipt of a mandate as it stands, names in the language of its consent text."""
    language = row.legal_text_language
    own = [theme for theme in themes if theme.mandate_id == row.mandate_id and theme.citizen_id == row.citizen_id]
    kind: MandataryKind = "person" if row.mandatary_person_id is not None else "organisation"
    mandatary = row.mandatary_person_name or "" if kind == "person" else organisation_name(row, language)
    ended_at = row.revoked_at or row.declined_at
    return MandateReceipt(
        mandate_id=row.mandate_id,
        citizen=row.citizen_name,
        mandatary=mandatary,
        mandatary_kind=kind,
        themes=[
            ReceiptTheme(
                code=theme.code,
                version=theme.version,
                name=theme.name(language),
                access=theme.access,
                ended_at=_utc(theme.revoked_at),
            )
            for theme in own
        ],
        duration=row.duration,
        until_date=row.until_date,
        offered_at=row.created_at.astimezone(UTC),
        valid_from=_utc(row.starts_at),
        valid_until=_utc(row.ends_at),
        ended_at=_utc(ended_at),
        legal_text_version=row.legal_text_version,
        legal_text_language=language,
        legal_text_sha256=legal_text_sha256,
        # The moment of the last fact it states, so that the same state always gives the same receipt.
        as_of=_latest(row.created_at, row.accepted_at, ended_at, *(theme.revoked_at for theme in own)).astimezone(UTC),
    )


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _claims(receipt: MandateReceipt) -> dict[str, Any]:
    # msgspec writes datetimes as RFC 3339 (UTC as "Z", see receipt_from_mandate) and dates as ISO 8601.
    body: dict[str, Any] = msgspec.to_builtins(receipt)
    return {
        "iss": ISSUER,
        "sub": str(receipt.mandate_id),
        "iat": int(receipt.as_of.timestamp()),
        "ver": VERSION,
        **body,
    }


def issue_mandate_receipt(key: ec.EllipticCurvePrivateKey, receipt: MandateReceipt) -> str:
    """The signed receipt: a compact JWS, ES256 with a deterministic signature (same receipt, same token)."""
    header = {"alg": ALGORITHM, "kid": service_key_id(key), "typ": MANDATE_RECEIPT_TYPE}
    signing_input = f"{_b64url(_json(header))}.{_b64url(_json(_claims(receipt)))}".encode("ascii")
    der = key.sign(signing_input, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    r, s = decode_dss_signature(der)
    signature = r.to_bytes(_COORDINATE_BYTES, "big") + s.to_bytes(_COORDINATE_BYTES, "big")
    return f"{signing_input.decode('ascii')}.{_b64url(signature)}"


async def receipt_for_party(
    conn: asyncpg.Connection,
    user: SignedIn,
    mandate_id: UUID,
    key: ec.EllipticCurvePrivateKey,
    *,
    now: datetime | None = None,
) -> tuple[MandateReceipt, str]:
    """The receipt of a mandate the signed-in person is a party to, and its signed token; 404 otherwise."""
    at = now or datetime.now(UTC)
    row, _side = await mandate_of_party(conn, user, mandate_id, at)
    themes = await mandate_queries.select_mandate_themes(conn, [(row.citizen_id, row.mandate_id)], at)
    # The mandate's foreign key guarantees this text exists with the hash the mandate stores.
    text = await theme_queries.select_legal_text(conn, row.legal_text_version, row.legal_text_language)
    assert text is not None
    receipt = receipt_from_mandate(row, themes, text.sha256)
    return receipt, issue_mandate_receipt(key, receipt)


def verification_code(token: str) -> str:
    """The short code printed on paper: the first 10 base32 symbols of SHA-256 over the token, as XXXXX-XXXXX."""
    digest = base64.b32encode(hashlib.sha256(token.strip().encode("ascii")).digest()).decode("ascii")
    code = digest[:_CODE_LENGTH]
    return f"{code[:_CODE_GROUP]}-{code[_CODE_GROUP:]}"


def _public_key(jwks: dict[str, Any], kid: object) -> ec.EllipticCurvePublicKey:
    """The published P-256 key named by kid; nothing else (no symmetric or RSA key, no private half) is used."""
    keys = jwks.get("keys")
    matching = [k for k in keys if isinstance(k, dict) and k.get("kid") == kid] if isinstance(keys, list) else []
    if not isinstance(kid, str) or len(matching) != 1:
        raise MandateReceiptInvalid("The receipt names a key that is not published.")
    jwk = matching[0]
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or "d" in jwk or jwk.get("alg", ALGORITHM) != ALGORITHM:
        raise MandateReceiptInvalid("The key named by the receipt is not an ES256 public key.")
    try:
        key = jwt.PyJWK(jwk, algorithm=ALGORITHM).key
    except (jwt.PyJWKError, ValueError, TypeError) as exc:
        raise MandateReceiptInvalid("The key named by the receipt is not an ES256 public key.") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise MandateReceiptInvalid("The key named by the receipt is not an ES256 public key.")
    return key


def verify_mandate_receipt(token: str, jwks: dict[str, Any]) -> MandateReceipt:
    """Check a mandate receipt offline against a JWKS and return what it states; MandateReceiptInvalid if not.

    The algorithm is fixed before any key is touched (ES256 only), the key comes from `jwks` by kid, then the
    signature, the type and the claims are checked.
    """
    if not isinstance(token, str) or len(token) > MAX_LENGTH:
        raise MandateReceiptInvalid("The receipt is not a compact JWS of reasonable size.")
    token = token.strip()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise MandateReceiptInvalid("The receipt is not a compact JWS.") from exc
    if header.get("alg") != ALGORITHM:
        raise MandateReceiptInvalid("Mandate receipts are signed with ES256 only.")
    key = _public_key(jwks, header.get("kid"))
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["iss", "sub", "iat", "ver"], "verify_iat": False, "verify_aud": False},
        )
    except jwt.InvalidSignatureError as exc:
        raise MandateReceiptInvalid("The receipt's signature does not verify.") from exc
    except jwt.InvalidTokenError as exc:
        raise MandateReceiptInvalid("The receipt could not be read.") from exc
    if header.get("typ") != MANDATE_RECEIPT_TYPE:
        raise MandateReceiptInvalid(f"The token is not a Vitrine mandate receipt (typ must be {MANDATE_RECEIPT_TYPE}).")
    if claims.get("ver") != VERSION or claims.get("sub") != claims.get("mandate_id"):
        raise MandateReceiptInvalid("The receipt's claims are not those of a version 1 mandate receipt.")
    fields = {name: claims[name] for name in MandateReceipt.__struct_fields__ if name in claims}
    try:
        return msgspec.convert(fields, MandateReceipt, strict=False)
    except msgspec.ValidationError as exc:
        raise MandateReceiptInvalid(f"The receipt's claims are not valid: {exc}.") from exc
