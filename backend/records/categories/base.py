"""What every category is made of: a payload Struct, its source, legal basis, recipients, retention and a
plain-language explanation in each language, and the identifier types payloads share.

Payload Structs are decoded with :func:`decode_hook` (enterprise numbers and country codes are checked while
decoding, so a bad one is reported at its exact path) and stored with :func:`encode_hook`. They are declared
with gc=False: they hold decoded values only, never a cycle, and an ingest makes them by the thousand (the
cyclic collector's passes over them were a good part of its Python time).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any

import msgspec

from backend.core.identifiers import IdentifierError, parse_kbo
from backend.records.categories.countries import ISO_COUNTRIES

# Amounts are integer euro cents; hours and days are hundredths (3800 = 38 h), as in DmfA (DOMAIN.md).
Cents = Annotated[int, msgspec.Meta(ge=0, le=10_000_000_000)]
Hundredths = Annotated[int, msgspec.Meta(ge=0, le=100_000_000)]
# A joint committee (paritair comité / commission paritaire): "302", "118.03", "149.01.02".
JointCommittee = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{3}(\.[0-9]{2}){0,2}$")]
ShortText = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
PostalCode = Annotated[str, msgspec.Meta(pattern=r"^[1-9][0-9]{3}$")]


class EnterpriseNumber(str):
    """A KBO/BCE enterprise number, checked (check digits included) and stored as its ten digits."""

    __slots__ = ()


class CountryCode(str):
    """An ISO 3166-1 alpha-2 country code in capitals."""

    __slots__ = ()


# Valid enterprise numbers as sent, checked once: a batch names the same few employers over and over. A bad one
# raises, which lru_cache does not remember: it is checked again each time.
@functools.lru_cache(maxsize=10_000)
def _enterprise_number(value: str) -> EnterpriseNumber:
    try:
        return EnterpriseNumber(parse_kbo(value).digits)
    except IdentifierError as exc:
        raise ValueError(f"Enterprise number is not valid: {exc.message} ({exc.code})") from None


def decode_hook(kind: type, value: Any) -> Any:
    """msgspec's hook for the shared identifier types; its errors become field errors at the value's path."""
    if kind is EnterpriseNumber:
        if not isinstance(value, str):
            raise TypeError("Expected `str` (an enterprise number)")
        return _enterprise_number(value)
    if kind is CountryCode:
        if not isinstance(value, str):
            raise TypeError("Expected `str` (an ISO 3166-1 alpha-2 country code)")
        if value not in ISO_COUNTRIES:
            raise ValueError("Expected an ISO 3166-1 alpha-2 country code in capitals, such as `PL`")
        return CountryCode(value)
    raise NotImplementedError(f"no decoder for {kind!r}")


def encode_hook(value: Any) -> Any:
    """msgspec's hook for encoding payloads (the identifier types are plain strings in JSON)."""
    if isinstance(value, str):
        return str(value)
    raise NotImplementedError(f"cannot encode {type(value)!r}")


def check_period(start: date, end: date | None) -> None:
    """Refuse an end before the start; the message names the field (the error path points at the object)."""
    if end is not None and end < start:
        raise ValueError("`end` must not be before `start`")


class Texts(msgspec.Struct, frozen=True, kw_only=True):
    """One text in the three official languages and English (a courtesy translation)."""

    nl: str
    fr: str
    de: str
    en: str

    def get(self, language: str) -> str:
        """The text in a language (English when the language is unknown)."""
        # Comparisons rather than a dictionary made per call: a records overview reads some 35 texts.
        if language == "nl":
            return self.nl
        if language == "fr":
            return self.fr
        if language == "de":
            return self.de
        return self.en


class Recipient(msgspec.Struct, frozen=True, kw_only=True):
    """An institution (by code) that may receive a category, and for which of its registered purposes."""

    institution: str
    purposes: tuple[str, ...]


def no_period(_payload: Any) -> tuple[date | None, date | None]:
    """For categories whose records are not about a period of time."""
    return None, None


@dataclass(frozen=True, kw_only=True)
class Category:
    """One kind of record: what the central data layer holds, where it comes from, who may read it.

    Adding a category is a payload Struct and one of these in the registry; records of every category share
    one table, so no migration is needed.
    """

    code: str
    version: int
    schema: type[msgspec.Struct]
    # The institution code (organisations.code) allowed to produce it: the caller's code must equal it.
    source: str
    source_name: Texts
    title: Texts
    legal_basis: Texts
    recipients: tuple[Recipient, ...]
    retention: Texts
    # Retention periods are demo values until each institution's retention rule is confirmed (DOMAIN.md).
    retention_confirmed: bool = False
    explanation: Texts
    # The period a record is about (stored as valid_from / valid_to), and the payload field it comes from.
    period: Callable[[Any], tuple[date | None, date | None]] = field(default=no_period)
    period_field: str | None = None

    @property
    def event_type(self) -> str:
        """The CloudEvents `type` of this category's declarations."""
        return f"be.socialsecurity.{self.code}.v{self.version}"

    def may_receive(self, institution: str | None, purpose: str) -> bool:
        """Whether an institution (by code) receives this category for a purpose."""
        return any(r.institution == institution and purpose in r.purposes for r in self.recipients)
