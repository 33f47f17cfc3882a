"""People, organisations, memberships and staff as msgspec Structs."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

import msgspec

Language = Literal["nl", "fr", "de", "en"]
OrganisationKind = Literal["institution", "cpas", "union", "social_secretariat", "accountant", "other"]
MemberRole = Literal["access_manager", "agent"]
StaffRole = Literal["support", "reviewer", "admin"]

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Email = Annotated[str, msgspec.Meta(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Phone = Annotated[str, msgspec.Meta(pattern=r"^\+[0-9]{8,15}$")]


class Person(msgspec.Struct, frozen=True, kw_only=True):
    """A natural person known to Vitrine; the national number is deliberately not a field."""

    person_id: UUID
    given_name: str
    family_name: str
    birth_date: date | None
    language: Language
    email: str | None
    phone: str | None

    @property
    def display_name(self) -> str:
        """Given name then family name."""
        return f"{self.given_name} {self.family_name}"


class PersonCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What is needed to register a person: the national number is validated by the service."""

    insz: str
    given_name: Name
    family_name: Name
    birth_date: date | None = None
    language: Language = "nl"
    email: Email | None = None
    phone: Phone | None = None


def organisation_name(language: str, name_nl: str, name_fr: str, name_de: str) -> str:
    """An organisation's name in a language: German falls back to French where no German name is published, and
    English uses the French name (institutions publish no English names)."""
    if language == "nl":
        return name_nl
    if language == "de":
        return name_de or name_fr
    return name_fr


class Organisation(msgspec.Struct, frozen=True, kw_only=True):
    """An organisation by KBO number, named in the three official languages."""

    org_id: UUID
    kbo: str
    kind: OrganisationKind
    code: str | None
    name_nl: str
    name_fr: str
    name_de: str

    def name(self, language: str) -> str:
        """The name in a language (`organisation_name`)."""
        return organisation_name(language, self.name_nl, self.name_fr, self.name_de)


class OrganisationCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A new organisation; the KBO number is validated by the service."""

    kbo: str
    kind: OrganisationKind
    name_nl: Name
    name_fr: Name
    name_de: Name
    code: str | None = None


class Membership(msgspec.Struct, frozen=True, kw_only=True):
    """A person's role in an organisation."""

    org_id: UUID
    org_name_nl: str
    org_name_fr: str
    org_name_de: str
    org_kind: OrganisationKind
    role: MemberRole
    pseudonym: str

    def name(self, language: str) -> str:
        """The organisation's name in a language (`organisation_name`)."""
        return organisation_name(language, self.org_name_nl, self.org_name_fr, self.org_name_de)


class StaffMember(msgspec.Struct, frozen=True, kw_only=True):
    """A member of staff: where they work and what they may do."""

    person_id: UUID
    office: str
    roles: tuple[StaffRole, ...]
    pseudonym: str
    org_id: UUID | None


class IdentifierRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One national number a person has had, with its validity."""

    insz: str
    kind: Literal["insz", "bis"]
    current: bool
