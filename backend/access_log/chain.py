"""The hash chain: each event's hash covers its content and the previous event's hash.

The encoding is canonical (fixed field order, UTC timestamps with microseconds, lowercase uuids) so anyone can
recompute a chain from an export, in any language, and get the same bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import msgspec

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
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def canonical_bytes(fields: dict[str, Any]) -> bytes:
    """The bytes that are hashed for one event.

    A JSON array: the chain version, then each hashed field in order. Timestamps are whole microseconds since
    1970-01-01 UTC (an integer: no time-zone or formatting ambiguity); uuids are lowercase canonical strings;
    absent values are null. This runs for every event written, so it stays a single msgspec encode.
    """
    values: list[Any] = [CHAIN_VERSION]
    for name in HASHED_FIELDS:
        value = fields[name]
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValueError(f"naive timestamp in the access log field {name}")
            value = (value - _EPOCH) // _MICROSECOND
        values.append(value)
    return _encoder.encode(values)


def event_hash(prev_hash: bytes, fields: dict[str, Any]) -> bytes:
    """SHA-256 over the previous hash and the event's canonical bytes."""
    return hashlib.sha256(prev_hash + canonical_bytes(fields)).digest()


# Where the timestamps sit among HASHED_FIELDS, for the positional form below.
_OCCURRED_AT: Final = HASHED_FIELDS.index("occurred_at")
_LOGGED_AT: Final = HASHED_FIELDS.index("logged_at")


def row_hash(prev_hash: bytes, values: Sequence[Any], occurred_us: int, logged_us: int) -> bytes:
    """`event_hash` for values given in HASHED_FIELDS order, timestamps already in microseconds since 1970.

    The bulk path hashes thousands of events per batch and has the values in column order already; building a
    dict per event and converting the same `logged_at` again for each of them cost more than the hash itself.
    The bytes are the same as `canonical_bytes` makes (the tests compare the two).
    """
    encoded = list(values)
    encoded[_OCCURRED_AT] = occurred_us
    encoded[_LOGGED_AT] = logged_us
    return versioned_hash(prev_hash, [CHAIN_VERSION, *encoded])


def versioned_hash(prev_hash: bytes, versioned: list[Any]) -> bytes:
    """`event_hash` for the list that is encoded: CHAIN_VERSION, then the values in HASHED_FIELDS order with the
    timestamps already in microseconds since 1970.

    For a caller that builds that list once per event itself (the bulk path, from values it shares between
    events), instead of building the values and having them copied twice.
    """
    return hashlib.sha256(prev_hash + _encoder.encode(versioned)).digest()


def timestamp_us(value: datetime) -> int:
    """A timezone-aware timestamp as whole microseconds since 1970-01-01 UTC, as the chain encodes it."""
    if value.tzinfo is None:
        raise ValueError("naive timestamp in the access log")
    return (value - _EPOCH) // _MICROSECOND
