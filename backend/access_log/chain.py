"""The hash chain: each event's hash covers its content and the previous event's hash.

The encoding is canonical (fixed field order, UTC timestamps with microseconds, lowercase uuids) so anyone can
recompute a chain from an export, in any language, and get the same bytes.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec

from backend.core.errors import Problem

GENESIS = bytes(32)
CHAIN_VERSION = "v1"

# Every field that is hashed, in order. Adding a field is a new CHAIN_VERSION, never a silent change.
HASHED_FIELDS = (
    "citizen_id",
    "seq",
    "event_id",
    "occurred_at",
    "logged_at",
    "actor_kind",
    "actor_org_id",
    "actor_client_id",
    "actor_system",
    "actor_role",
    "actor_ref",
    "mandate_id",
    "purpose_code",
    "legal_basis_ref",
    "categories",
    "record_refs",
    "case_ref",
    "channel",
    "action",
    "outcome",
    "reason",
    "source",
    "source_event_id",
)

_encoder = msgspec.json.Encoder()


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise Problem(500, "naive timestamp in the access log")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    return value


def canonical_bytes(fields: dict[str, Any]) -> bytes:
    """The bytes that are hashed for one event."""
    return _encoder.encode([CHAIN_VERSION, *(_canonical(fields[name]) for name in HASHED_FIELDS)])


def event_hash(prev_hash: bytes, fields: dict[str, Any]) -> bytes:
    """SHA-256 over the previous hash and the event's canonical bytes."""
    return hashlib.sha256(prev_hash + canonical_bytes(fields)).digest()
