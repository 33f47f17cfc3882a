"""The category registry: which kinds of record exist, and everything said about each.

A new category is a payload Struct plus a :class:`Category` given to :meth:`Registry.register`; records of all
categories share one table, so nothing in the database changes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Final

from backend.records.categories import a1, dimona, dmfa, drs, flexi_wages, identity, limosa
from backend.records.categories.base import Category

__all__ = ["REGISTRY", "Category", "Registry", "parse_event_type"]

# CloudEvents `type` of a declaration: be.socialsecurity.<category>.v<version>.
_EVENT_TYPE: Final = re.compile(r"^be\.socialsecurity\.(?P<code>[a-z][a-z0-9_]{1,40})\.v(?P<version>[1-9][0-9]{0,3})$")
_CODE: Final = re.compile(r"^[a-z][a-z0-9_]{1,40}$")


# Remembered: a producer sends the same few types over and over.
@functools.lru_cache(maxsize=256)
def parse_event_type(value: str) -> tuple[str, int] | None:
    """The category code and version named by an event type, or None when it does not have that shape."""
    match = _EVENT_TYPE.match(value)
    return None if match is None else (match["code"], int(match["version"]))


class Registry:
    """Categories by code, in the order they were registered."""

    def __init__(self, categories: Iterable[Category] = ()) -> None:
        self._categories: dict[str, Category] = {}
        for category in categories:
            self.register(category)

    def register(self, category: Category) -> None:
        """Add a category; its code must be new and fit the records table's check."""
        if not _CODE.match(category.code):
            raise ValueError(f"category code {category.code!r} must be lower-case letters, digits and _")
        if category.code in self._categories:
            raise ValueError(f"category {category.code!r} is already registered")
        self._categories[category.code] = category

    def unregister(self, code: str) -> None:
        """Remove a category (tests that add one at run time clean up with this)."""
        self._categories.pop(code, None)

    def get(self, code: str) -> Category | None:
        """A category by code, or None."""
        return self._categories.get(code)

    def all(self) -> list[Category]:
        """Every category, in registration order."""
        return list(self._categories.values())

    def __contains__(self, code: object) -> bool:
        return code in self._categories


REGISTRY: Final = Registry(module.CATEGORY for module in (identity, dimona, dmfa, flexi_wages, limosa, a1, drs))
