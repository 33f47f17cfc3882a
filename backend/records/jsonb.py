"""A JSON value as PostgreSQL's jsonb gives it back: object keys in jsonb's order (shorter keys first, then byte
order), so a record built in memory equals, key order included, the one read back from the database."""

from __future__ import annotations

import functools
from typing import Any, Final

__all__ = ["as_read_from_jsonb"]

_CONTAINERS: Final = (dict, list)


def _byte_order(key: str) -> tuple[int, bytes]:
    encoded = key.encode()
    return len(encoded), encoded


# Remembered per set of keys: payloads of one category all have the same keys.
@functools.lru_cache(maxsize=1_000)
def _jsonb_order(keys: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(keys, key=_byte_order))


def as_read_from_jsonb(value: Any) -> Any:
    """`value` (JSON builtins: dicts, lists, strings, integers, booleans, None) with every object's keys in the
    order jsonb stores them (floats are not expected: jsonb would print 1e20 back as an integer)."""
    if isinstance(value, dict):
        ordered = {key: value[key] for key in _jsonb_order(tuple(value))}
        for key, item in ordered.items():
            if isinstance(item, _CONTAINERS):
                ordered[key] = as_read_from_jsonb(item)
        return ordered
    if isinstance(value, list):
        return [as_read_from_jsonb(item) if isinstance(item, _CONTAINERS) else item for item in value]
    return value
