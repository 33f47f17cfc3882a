"""Random (version 4) uuids by the thousand, for the bulk write paths.

`uuid.uuid4()` reads the OS random source and validates its argument once per call; on the ingest paths that
cost more than hashing an access event or checking a declaration. `random_uuids` reads the random source once
for a whole batch, sets the version and variant bits as RFC 9562 says, and builds asyncpg's own uuid type: a
subclass of `uuid.UUID` (equal to, hashing like and encoding like one), the type of every uuid read from the
database already.
"""

from __future__ import annotations

import os
from uuid import UUID

from asyncpg.pgproto import pgproto


def random_uuid_bytes(count: int) -> bytes:
    """The 16 bytes of `count` fresh random uuids, one after the other.

    For a caller that makes each uuid object only when it needs it: a list of thousands of them, alive for a
    whole batch, is that many more objects for Python's garbage collector to walk.
    """
    raw = bytearray(os.urandom(16 * count))
    raw[6::16] = bytes(byte & 0x0F | 0x40 for byte in raw[6::16])
    raw[8::16] = bytes(byte & 0x3F | 0x80 for byte in raw[8::16])
    return bytes(raw)


def uuid_at(data: bytes, index: int) -> UUID:
    """The `index`th uuid of `random_uuid_bytes`' result."""
    return pgproto.UUID(data[16 * index : 16 * index + 16])


def random_uuids(count: int) -> list[UUID]:
    """`count` fresh random uuids, as `uuid.uuid4()` would make them."""
    data = random_uuid_bytes(count)
    return [uuid_at(data, index) for index in range(count)]


__all__ = ["random_uuid_bytes", "random_uuids", "uuid_at"]
