"""Random uuids by the batch are version 4 uuids, each one different."""

from __future__ import annotations

import uuid

from backend.core.random_uuids import random_uuid_bytes, random_uuids, uuid_at


def test_a_batch_of_uuids_is_version_4_and_unique() -> None:
    made = random_uuids(1000)
    assert len(set(made)) == 1000
    assert all(value.version == 4 and value.variant == uuid.RFC_4122 for value in made)
    assert all(isinstance(value, uuid.UUID) for value in made)


def test_uuid_bytes_give_the_same_uuids_one_by_one() -> None:
    data = random_uuid_bytes(3)
    assert len(data) == 48
    assert [uuid_at(data, index) for index in range(3)] == [
        uuid.UUID(bytes=data[16 * i : 16 * i + 16]) for i in range(3)
    ]
    assert all(uuid_at(data, index).version == 4 for index in range(3))
