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


def random_uuids(count: int) -> list[UUID]:
    """`count` fresh random uuids, as `uuid.uuid4()` would make them."""
    raw = bytearray(os.urandom(16 * count))
    raw[6::16] = bytes(byte & 0x0F | 0x40 for byte in raw[6::16])
    raw[8::16] = bytes(byte & 0x3F | 0x80 for byte in raw[8::16])
    data = bytes(raw)
    return [pgproto.UUID(data[offset : offset + 16]) for offset in range(0, 16 * count, 16)]


__all__ = ["random_uuids"]
