"""Mandates, their themes, invitations, decisions and checks as msgspec Structs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

Access = Literal["read", "act"]
Duration = Literal["1_day", "1_month", "6_months", "1_year", "until_date"]
MandateState = Literal["pending", "active", "declined", "revoked", "expired"]
Side = Literal["citizen", "mandatary"]
MandataryKind = Literal["person", "organisation"]
Language = Literal["nl", "fr", "de", "en"]
EventKind = Literal[
    "invited",
    "invitation_cancelled",
    "accepted",
    "declined",
    "revoked",
    "theme_revoked",
    "expired",
    "agent_assigned",
    "agent_unassigned",
    "expiry_reminded",
]

ThemeCode = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
# Identifiers as typed by people: digits with dots, dashes or spaces; their checks run in the service.
TypedIdentifier = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
Sha256Hex = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]


class ThemeVersion(msgspec.Struct, frozen=True, kw_only=True):
    """One published version of a theme: what it covers, in the four languages."""

    code: str
    version: int
    categories: tuple[str, ...]
    actions: tuple[str, ...]
    high_risk: bool
    name_nl: str
    name_fr: str
    name_de: str
    name_en: str
    description_nl: str
    description_fr: str
    description_de: str
    description_en: str

    def name(self, language: str) -> str:
        """The theme's name in a language (English when unknown)."""
        return {"nl": self.name_nl, "fr": self.name_fr, "de": self.name_de}.get(language, self.name_en)

    def description(self, language: str) -> str:
        """The theme's description in a language (English when unknown)."""
        return {"nl": self.description_nl, "fr": self.description_fr, "de": self.description_de}.get(
            language, self.description_en
        )

    @property
    def accesses(self) -> tuple[Access, ...]:
        """What may be granted: READ needs data categories to see, ACT needs actions to take."""
        found: list[Access] = []
        if self.categories:
            found.append("read")
        if self.actions:
            found.append("act")
        return tuple(found)


class ThemeOut(msgspec.Struct, frozen=True, kw_only=True):
    """A theme as offered to a citizen, in their language."""

    code: str
    version: int
    name: str
    description: str
    categories: list[str]
    actions: list[str]
    high_risk: bool
    accesses: list[Access]


class LegalText(msgspec.Struct, frozen=True, kw_only=True):
    """A consent text exactly as shown, with the hash the citizen's client sends back when consenting."""

    version: int
    language: Language
    text: str
    sha256: str


class ThemeChoice(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One theme the citizen grants, READ or ACT."""

    code: ThemeCode
    access: Access


class MandateInvite(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A citizen's invitation: to a person (national number and surname) or an organisation (KBO number)."""

    themes: Annotated[list[ThemeChoice], msgspec.Meta(min_length=1, max_length=20)]
    duration: Duration
    # The column is a PostgreSQL integer: a larger number is bad input (422), not a failed insert (500).
    legal_text_version: Annotated[int, msgspec.Meta(ge=1, le=2_147_483_647)]
    legal_text_language: Language
    # The hash of the text the citizen was shown: a text changed since is refused, never silently swapped.
    legal_text_sha256: Sha256Hex
    mandatary_insz: TypedIdentifier | None = None
    mandatary_family_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    mandatary_kbo: TypedIdentifier | None = None
    until: date | None = None
    acknowledge_high_risk: bool = False


class Party(msgspec.Struct, frozen=True, kw_only=True):
    """One side of a mandate as shown to the other: a name, never a national number."""

    kind: MandataryKind
    person_id: UUID | None = None
    org_id: UUID | None = None
    name: str


class MandateThemeOut(msgspec.Struct, frozen=True, kw_only=True):
    """A theme within a mandate."""

    code: str
    version: int
    name: str
    access: Access
    high_risk: bool
    active: bool
    revoked_at: datetime | None


class MandateOut(msgspec.Struct, frozen=True, kw_only=True):
    """A mandate as its citizen and its mandatary see it."""

    mandate_id: UUID
    citizen: Party
    mandatary: Party
    state: MandateState
    themes: list[MandateThemeOut]
    duration: Duration
    until: date | None
    created_at: datetime
    invitation_expires_at: datetime
    starts_at: datetime | None
    ends_at: datetime | None
    ended_at: datetime | None
    ended_by: Side | None
    end_reason: str | None
    legal_text_version: int
    legal_text_language: Language


class InvitationCreated(msgspec.Struct, frozen=True, kw_only=True):
    """The new pending mandate and its code, shown once (only a hash is kept)."""

    mandate: MandateOut
    code: str
    code_expires_at: datetime


class CodeEntry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An invitation code as typed: separators and case do not matter."""

    code: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class DeclineEntry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An invitation code, and why the helper declines (optional)."""

    code: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    reason: Reason | None = None


class EndRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Ending a mandate or one theme at once; the reason is kept in the history."""

    reason: Reason | None = None


class AgentAssignment(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A named agent of the organisation."""

    agent_id: UUID


class MandateCheck(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An institution asks: may this person or organisation act for this citizen on this theme, now?"""

    citizen_insz: TypedIdentifier
    theme: ThemeCode
    access: Access
    mandatary_insz: TypedIdentifier | None = None
    mandatary_kbo: TypedIdentifier | None = None


class CheckedTheme(msgspec.Struct, frozen=True, kw_only=True):
    """An active theme of the mandate found."""

    code: str
    version: int
    access: Access


class MandateCheckResult(msgspec.Struct, frozen=True, kw_only=True):
    """ALLOWED with the mandate that allows it, or DISALLOWED with nothing else."""

    result: Literal["ALLOWED", "DISALLOWED"]
    mandate_id: UUID | None
    themes: list[CheckedTheme]
    valid_until: datetime | None


class ExpiryReminder(msgspec.Struct, frozen=True, kw_only=True):
    """A mandate ending soon, to be announced to both sides (by the notifications area)."""

    citizen_id: UUID
    mandate_id: UUID
    mandatary_person_id: UUID | None
    mandatary_org_id: UUID | None
    ends_at: datetime


DecisionReason = Literal[
    "own_data",
    "mandate",
    "no_mandate",
    "not_acting_as_organisation",
    "agent_not_member",
    "agent_not_assigned",
    "theme_not_granted",
    "read_only",
    "theme_revoked",
    "mandate_pending",
    "mandate_declined",
    "mandate_revoked",
    "mandate_expired",
    "not_a_mandatary",
]


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    """May this actor do this now? With the mandate and themes that allow it, or why not."""

    allowed: bool
    reason: DecisionReason
    mandate_id: UUID | None = None
    themes: tuple[str, ...] = ()
