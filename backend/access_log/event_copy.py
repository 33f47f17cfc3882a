"""Access events as PostgreSQL binary COPY rows, from bytes encoded once per batch where values repeat.

`copy_records_to_table` encodes the 25 values of every row through a codec each (arrays through abstract-base-class
checks). Most columns of an event repeat across a batch (the accessor, the purpose, the channel…), so the bulk
path encodes each such group once and an event's row is a few packed numbers and a join of ready bytes.

The format is PostgreSQL's binary COPY: a signature, then per row the field count and each field as a 32-bit
length (-1 for NULL) and its binary value, the bytes the server's own `*_recv` functions read: uuid 16 bytes,
bigint 8, timestamptz microseconds since 2000-01-01 UTC in 8, text UTF-8, text[] its dimensions, element type
and elements; a -1 field count ends the data.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Final
from uuid import UUID

from backend.access_log.schemas import EVENT_COLUMNS

# The chain counts microseconds from 1970, PostgreSQL from 2000 (both UTC).
_POSTGRES_EPOCH_US: Final = 946_684_800_000_000
_TEXT_OID: Final = 25

_INT16: Final = struct.Struct(">h")
_INT32: Final = struct.Struct(">i")
# Field count, citizen_id, seq, event_id, occurred_at, logged_at: the fixed-width start of every row.
_ROW_START: Final = struct.Struct(">hi16siqi16siqiq")
_ARRAY_HEADER: Final = struct.Struct(">iiiii")
_HASHES: Final = struct.Struct(">i32si32s")

HEADER: Final = b"PGCOPY\n\xff\r\n\x00" + _INT32.pack(0) + _INT32.pack(0)
TRAILER: Final = _INT16.pack(-1)
NULL: Final = _INT32.pack(-1)


def pg_timestamp(us_since_1970: int) -> int:
    """Microseconds since 1970 (the chain's timestamps) as PostgreSQL's timestamptz value."""
    return us_since_1970 - _POSTGRES_EPOCH_US


def row_start(citizen_id: UUID, seq: int, event_id: UUID, occurred_pg: int, logged_pg: int) -> bytes:
    """The field count and the first five columns of a row (timestamps as `pg_timestamp` gives them)."""
    return _ROW_START.pack(
        len(EVENT_COLUMNS), 16, citizen_id.bytes, 8, seq, 16, event_id.bytes, 8, occurred_pg, 8, logged_pg
    )


def uuid_field(value: UUID | None) -> bytes:
    """A uuid column (or NULL)."""
    return NULL if value is None else _INT32.pack(16) + value.bytes


def text_field(value: str | None) -> bytes:
    """A text column (or NULL)."""
    if value is None:
        return NULL
    data = value.encode()
    return _INT32.pack(len(data)) + data


def text_array_field(values: Sequence[str]) -> bytes:
    """A one-dimensional text[] column without NULL elements (an empty one has one dimension of length 0)."""
    elements = b"".join(_INT32.pack(len(data)) + data for data in (value.encode() for value in values))
    # Dimensions, no NULLs, the element type; the dimension's length and lower bound.
    body = _ARRAY_HEADER.pack(1, 0, _TEXT_OID, len(values), 1) + elements
    return _INT32.pack(len(body)) + body


def hash_fields(prev_hash: bytes, digest: bytes) -> bytes:
    """The last two columns, `prev_hash` and `hash` (32 bytes each)."""
    if len(prev_hash) != 32 or len(digest) != 32:
        raise ValueError("access log hashes are 32 bytes")
    return _HASHES.pack(32, prev_hash, 32, digest)


__all__ = [
    "HEADER",
    "NULL",
    "TRAILER",
    "hash_fields",
    "pg_timestamp",
    "row_start",
    "text_array_field",
    "text_field",
    "uuid_field",
]
