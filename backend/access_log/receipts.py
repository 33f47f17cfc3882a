"""Signed receipts for a citizen's access log: "as of T your log holds N events ending in hash H".

A receipt is a compact JWS (ES256) signed with Vitrine's service key. Because every event's hash covers the
previous one, a receipt pins the whole chain up to its head: if the event at seq N later has another hash, the
log was rewritten. Receipts verify offline against the published JWKS (`/.well-known/vitrine-keys.json`), and
a later receipt extends an earlier one when the earlier head is still in the chain the later one ends.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

import asyncpg
import jwt
import msgspec
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from backend.access_log import queries
from backend.access_log.chain import GENESIS, HASHED_FIELDS, event_hash
from backend.core.auth.institution_keys import load_or_create_private_key, public_jwk
from backend.core.auth.jwk import es256_public_key

__all__ = [
    "RECEIPT_ALGORITHM",
    "RECEIPT_ISSUER",
    "RECEIPT_TYPE",
    "RECEIPT_VERSION",
    "ExtensionReport",
    "Receipt",
    "ReceiptInvalid",
    "check_extends",
    "issue_receipt",
    "load_service_key",
    "service_jwks",
    "service_key_id",
    "service_key_path",
    "verify_receipt",
    "verify_receipt_file",
]

RECEIPT_ALGORITHM = "ES256"
RECEIPT_ISSUER = "vitrine"
# Explicit typing (RFC 8725 §3.11): another JWT signed with the same service key can never pass as a receipt.
RECEIPT_TYPE = "vitrine-receipt+jwt"
RECEIPT_VERSION = 1
_REQUIRED_CLAIMS = ["iss", "sub", "iat", "events", "head", "ver"]
_HEX_HASH = re.compile(r"[0-9a-f]{64}")
# A receipt is a few hundred bytes; refusing large input early keeps the offline command and the API cheap.
MAX_RECEIPT_LENGTH = 4096

ReceiptCode = Literal["malformed", "algorithm", "unknown_key", "signature", "claims"]
ExtensionCheck = Literal["citizen", "order", "fork", "earlier_vs_log", "later_vs_log"]


class ReceiptInvalid(Exception):
    """A receipt that must not be trusted: `code` says which check refused it, `message` says why."""

    def __init__(self, code: ReceiptCode, message: str) -> None:
        super().__init__(message)
        self.code: ReceiptCode = code
        self.message = message


class Receipt(msgspec.Struct, frozen=True, kw_only=True):
    """What a verified receipt states: the citizen's log held `events` events ending in `head_hash`."""

    citizen_id: UUID
    events: int
    head_hash: str
    as_of: datetime
    issuer: str = RECEIPT_ISSUER
    kid: str


class ExtensionReport(msgspec.Struct, frozen=True, kw_only=True):
    """Whether a receipt still agrees with the log (and with a later receipt); names the failed check if not.

    `expected` is what the receipt says and `found` what the log (or the other receipt) holds now.
    """

    consistent: bool
    check: ExtensionCheck | None = None
    seq: int | None = None
    expected: str | None = None
    found: str | None = None
    message: str


# --- The service key -------------------------------------------------------------------------------------------


def service_key_path(local_dir: Path) -> Path:
    """Where the development/test service key is kept under the local folder."""
    return local_dir / "keys" / "service-signing.pem"


def _require_p256(key: object, origin: str) -> ec.EllipticCurvePrivateKey:
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError(f"{origin}: the service signing key must be a P-256 (ES256) private key")
    return key


def load_service_key(local_dir: Path, pem: str | None) -> ec.EllipticCurvePrivateKey:
    """Vitrine's P-256 signing key for receipts.

    With `pem` (the production configuration) the key is read from it and nothing is written to disk.
    Without it, the key at `<local_dir>/keys/service-signing.pem` is loaded, or created with mode 0600 — for
    development and tests only: a key made on the fly would differ per machine and invalidate published keys.
    """
    if pem is not None:
        try:
            loaded = serialization.load_pem_private_key(pem.encode("utf-8"), password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            # The cryptography message may quote key material; only say what is wrong.
            raise ValueError("service signing key: not a readable unencrypted PEM private key") from exc
        return _require_p256(loaded, "service signing key")
    path = service_key_path(local_dir)
    return _require_p256(load_or_create_private_key(path), str(path))


def service_key_id(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> str:
    """The key id: the first 16 hex digits of SHA-256 over the public key (DER), so a new key gets a new kid."""
    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()[:16]


def service_jwks(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> dict[str, Any]:
    """The public JWKS to publish: the key's public half only, with its kid, alg ES256 and use sig."""
    jwk = {**public_jwk(key, service_key_id(key)), "alg": RECEIPT_ALGORITHM, "use": "sig"}
    return {"keys": [jwk]}


# --- Issuing ---------------------------------------------------------------------------------------------------


async def issue_receipt(
    conn: asyncpg.Connection,
    key: ec.EllipticCurvePrivateKey,
    citizen_id: UUID,
    *,
    now: datetime | None = None,
) -> str:
    """A signed receipt for the citizen's current chain head (events=0 and the genesis hash without a log).

    The head row is read without locking: it is moved in the same statement that appends an event, so any
    committed head names an event that exists with that hash.
    """
    issued = now or datetime.now(UTC)
    if issued.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    head = await queries.select_head(conn, citizen_id)
    events, head_hash = head if head is not None else (0, GENESIS)
    claims: dict[str, Any] = {
        "iss": RECEIPT_ISSUER,
        "sub": str(citizen_id),
        "iat": int(issued.timestamp()),
        "events": events,
        "head": head_hash.hex(),
        "ver": RECEIPT_VERSION,
    }
    headers = {"kid": service_key_id(key), "typ": RECEIPT_TYPE}
    return jwt.encode(claims, key, algorithm=RECEIPT_ALGORITHM, headers=headers)


# --- Verifying (offline) ---------------------------------------------------------------------------------------


def _public_key_from_jwk(jwk: object) -> ec.EllipticCurvePublicKey:
    key = es256_public_key(jwk)
    if key is None:
        raise ReceiptInvalid("unknown_key", "The key named by the receipt is not an ES256 public key.")
    return key


def _select_key(jwks: dict[str, Any], kid: object) -> ec.EllipticCurvePublicKey:
    if not isinstance(kid, str):
        raise ReceiptInvalid("unknown_key", "The receipt names no signing key (kid).")
    keys = jwks.get("keys")
    matching = (
        [jwk for jwk in keys if isinstance(jwk, dict) and jwk.get("kid") == kid] if isinstance(keys, list) else []
    )
    if len(matching) != 1:
        raise ReceiptInvalid("unknown_key", f"The receipt names key {kid[:64]!r}, which is not a published key.")
    return _public_key_from_jwk(matching[0])


def _decode(token: str, key: ec.EllipticCurvePublicKey) -> dict[str, Any]:
    try:
        return jwt.decode(
            token,
            key,
            algorithms=[RECEIPT_ALGORITHM],
            issuer=RECEIPT_ISSUER,
            options={
                "require": _REQUIRED_CLAIMS,
                # A receipt is a dated statement, not a credential: it never expires, and an iat slightly ahead
                # of the verifier's clock (a machine a few seconds behind) does not make it false.
                "verify_iat": False,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_aud": False,
            },
        )
    except jwt.InvalidSignatureError as exc:
        raise ReceiptInvalid("signature", "The receipt's signature does not verify.") from exc
    except jwt.InvalidAlgorithmError as exc:
        raise ReceiptInvalid("algorithm", "Receipts are signed with ES256 only.") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise ReceiptInvalid("claims", f"The receipt lacks the {exc.claim!r} claim.") from exc
    except jwt.InvalidIssuerError as exc:
        raise ReceiptInvalid("claims", f"The receipt's issuer must be {RECEIPT_ISSUER!r}.") from exc
    except jwt.InvalidTokenError as exc:
        raise ReceiptInvalid("malformed", "The receipt could not be read.") from exc


def _is_int(value: object) -> bool:
    # bool is an int in Python; `"events": true` is not a count.
    return isinstance(value, int) and not isinstance(value, bool)


def _receipt_from_claims(claims: dict[str, Any], kid: str) -> Receipt:
    sub, events, head, iat = claims["sub"], claims["events"], claims["head"], claims["iat"]
    if claims["ver"] != RECEIPT_VERSION or not _is_int(claims["ver"]):
        raise ReceiptInvalid("claims", f"Only receipt version {RECEIPT_VERSION} is understood.")
    try:
        citizen_id = UUID(sub) if isinstance(sub, str) else None
    except ValueError:
        citizen_id = None
    if citizen_id is None:
        raise ReceiptInvalid("claims", "The receipt's subject is not a citizen id.")
    if not _is_int(events) or events < 0:
        raise ReceiptInvalid("claims", "The receipt's event count is not a whole number.")
    if not isinstance(head, str) or not _HEX_HASH.fullmatch(head):
        raise ReceiptInvalid("claims", "The receipt's head is not a SHA-256 hash in lowercase hex.")
    if events == 0 and head != GENESIS.hex():
        raise ReceiptInvalid("claims", "A receipt for an empty log must end in the genesis hash.")
    if not _is_int(iat) or iat < 0:
        raise ReceiptInvalid("claims", "The receipt's issue time is not a number of seconds.")
    try:
        as_of = datetime.fromtimestamp(iat, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ReceiptInvalid("claims", "The receipt's issue time is out of range.") from exc
    return Receipt(citizen_id=citizen_id, events=events, head_hash=head, as_of=as_of, kid=kid)


def verify_receipt(token: str, jwks: dict[str, Any]) -> Receipt:
    """Check a receipt offline against a JWKS and return what it states; ReceiptInvalid(code, message) if not.

    The algorithm is decided from the header before any key is touched (exactly ES256: never "none", never an
    HMAC keyed with the public key), the key comes only from `jwks` by kid (jku/jwk/x5u headers are ignored),
    then the signature, the type and the claims are checked.
    """
    if not isinstance(token, str) or len(token) > MAX_RECEIPT_LENGTH:
        raise ReceiptInvalid("malformed", "The receipt is not a compact JWS of reasonable size.")
    token = token.strip()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise ReceiptInvalid("malformed", "The receipt is not a compact JWS.") from exc
    if header.get("alg") != RECEIPT_ALGORITHM:
        raise ReceiptInvalid("algorithm", "Receipts are signed with ES256 only.")
    kid = header.get("kid")
    key = _select_key(jwks, kid)
    assert isinstance(kid, str)  # _select_key refuses anything else
    claims = _decode(token, key)
    # Checked once the signature holds, since only then is the header Vitrine's own statement.
    if header.get("typ") != RECEIPT_TYPE:
        raise ReceiptInvalid("claims", f"The token is not a Vitrine receipt (typ must be {RECEIPT_TYPE!r}).")
    return _receipt_from_claims(claims, kid)


# --- Checking receipts against the log ---------------------------------------------------------------------------


async def _check_in_log(
    conn: asyncpg.Connection, receipt: Receipt, check: Literal["earlier_vs_log", "later_vs_log"]
) -> ExtensionReport | None:
    """None when the chain's event at seq=receipt.events has the receipt's head hash; the failure otherwise."""
    if receipt.events == 0:
        if receipt.head_hash != GENESIS.hex():
            return ExtensionReport(
                consistent=False,
                check=check,
                seq=0,
                expected=receipt.head_hash,
                found=GENESIS.hex(),
                message=f"the receipt covers no events but ends in {receipt.head_hash}, not the genesis hash",
            )
        return None  # the empty chain is a prefix of every chain
    # The newest event at or below the receipt's seq: exactly that event unless it is gone.
    page = await queries.select_events_page(conn, receipt.citizen_id, before_seq=receipt.events + 1, limit=1)
    event = page[0] if page else None
    if event is None or event.seq != receipt.events:
        return ExtensionReport(
            consistent=False,
            check=check,
            seq=receipt.events,
            expected=receipt.head_hash,
            found=None,
            message=(
                f"the log was rewritten: it no longer holds event {receipt.events}, "
                f"which the receipt says has hash {receipt.head_hash}"
            ),
        )
    if event.hash.hex() != receipt.head_hash:
        return ExtensionReport(
            consistent=False,
            check=check,
            seq=receipt.events,
            expected=receipt.head_hash,
            found=event.hash.hex(),
            message=(
                f"the log was rewritten: event {receipt.events} now has hash {event.hash.hex()}, "
                f"the receipt says {receipt.head_hash}"
            ),
        )
    # The stored hash matches, but an edit that kept it would leave the event disagreeing with its own hash.
    # Recomputing this one event is cheap; earlier events are covered by the chain verifier (`verify-log`).
    recomputed = event_hash(event.prev_hash, {name: getattr(event, name) for name in HASHED_FIELDS})
    if recomputed != event.hash:
        return ExtensionReport(
            consistent=False,
            check=check,
            seq=receipt.events,
            expected=receipt.head_hash,
            found=recomputed.hex(),
            message=(
                f"the log was altered: event {receipt.events} still claims hash {receipt.head_hash} "
                f"but its content now hashes to {recomputed.hex()}"
            ),
        )
    return None


async def check_extends(conn: asyncpg.Connection, earlier: Receipt, later: Receipt | None = None) -> ExtensionReport:
    """Is the earlier receipt's head still in the citizen's chain (and, given a later receipt, extended by it)?

    Alone: the current chain's event at seq=earlier.events must have hash earlier.head_hash. With `later`: the
    same citizen, later.events ≥ earlier.events (same head when equal), and both heads in the current chain —
    then, the chain being hash-linked, the earlier head is a prefix of the chain the later one ends.
    Only verified receipts should be passed in; this checks consistency, not signatures.
    """
    if later is not None:
        if later.citizen_id != earlier.citizen_id:
            return ExtensionReport(
                consistent=False,
                check="citizen",
                expected=str(earlier.citizen_id),
                found=str(later.citizen_id),
                message="the receipts are for different citizens",
            )
        if later.events < earlier.events:
            return ExtensionReport(
                consistent=False,
                check="order",
                seq=earlier.events,
                expected=f">= {earlier.events}",
                found=str(later.events),
                message=(
                    f"the later receipt covers {later.events} event(s), "
                    f"fewer than the earlier receipt's {earlier.events}"
                ),
            )
        if later.events == earlier.events and later.head_hash != earlier.head_hash:
            return ExtensionReport(
                consistent=False,
                check="fork",
                seq=earlier.events,
                expected=earlier.head_hash,
                found=later.head_hash,
                message=(
                    f"the log was rewritten: both receipts cover {earlier.events} event(s) but end in different "
                    f"hashes ({earlier.head_hash} then {later.head_hash})"
                ),
            )
    failure = await _check_in_log(conn, earlier, "earlier_vs_log")
    if failure is None and later is not None:
        failure = await _check_in_log(conn, later, "later_vs_log")
    if failure is not None:
        return failure
    if later is None:
        message = f"the log still holds the receipt's {earlier.events} event(s) ending in {earlier.head_hash}"
    else:
        message = (
            f"the later receipt ({later.events} event(s)) extends the earlier one ({earlier.events} event(s)), "
            "and both match the log"
        )
    return ExtensionReport(consistent=True, message=message)


# --- The offline command -----------------------------------------------------------------------------------------


def _read_jwks(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise ValueError("not a JWKS (a JSON object with a 'keys' list)")
    return data


def verify_receipt_file(path: Path, jwks_path: Path | None, local_dir: Path) -> tuple[int, str]:
    """`vitrine verify-receipt FILE [--jwks FILE]`: (exit code, message) — 0 valid, 1 refused, 2 unusable input.

    Offline: with `jwks_path` that JWKS is trusted; otherwise the local service key's. The local key is only
    read, never created, since a freshly made key could not have signed anything.
    """
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        return 2, f"vitrine: cannot read the receipt {path}: {type(exc).__name__}"
    if jwks_path is not None:
        try:
            jwks = _read_jwks(jwks_path)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            detail = exc if isinstance(exc, ValueError) else type(exc).__name__
            return 2, f"vitrine: cannot use the JWKS {jwks_path}: {detail}"
    else:
        key_file = service_key_path(local_dir)
        if not key_file.is_file():
            return 2, f"vitrine: no local service key at {key_file}; pass --jwks with the published keys"
        try:
            jwks = service_jwks(load_service_key(local_dir, None))
        except (OSError, ValueError) as exc:
            return 2, f"vitrine: cannot use the local service key {key_file}: {exc}"
    try:
        receipt = verify_receipt(token, jwks)
    except ReceiptInvalid as exc:
        return 1, f"receipt refused ({exc.code}): {exc.message}"
    return 0, (
        f"receipt valid: citizen {receipt.citizen_id}, {receipt.events} event(s) ending in {receipt.head_hash}, "
        f"as of {receipt.as_of.isoformat()} (key {receipt.kid})"
    )
