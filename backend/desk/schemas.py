"""Assisted sessions, presence codes and desk-prepared mandates as msgspec Structs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final, Literal, get_args
from uuid import UUID

import msgspec

Scope = Literal["view_data", "mandates", "contact", "error_report"]
SCOPES: Final[tuple[Scope, ...]] = get_args(Scope)
Verification = Literal["presence_code", "identity_check"]
DocumentType = Literal["be_eid", "be_residence_card", "passport", "foreign_eid"]
DOCUMENT_TYPES: Final[tuple[DocumentType, ...]] = get_args(DocumentType)
EndReason = Literal["ended", "expired"]
ActionKind = Literal[
    "opened",
    "viewed",
    "summary_printed",
    "mandate_prepared",
    "mandate_confirmed",
    "contact_updated",
    "error_reported",
    "extended",
    "ended",
    "expired",
    "refused",
]
ConfirmedVia = Literal["own_phone", "signed_form"]

SESSION_LENGTH: Final = timedelta(minutes=30)
EXTENSION: Final = timedelta(minutes=30)
PRESENCE_CODE_VALIDITY: Final = timedelta(minutes=10)
MANDATE_CODE_VALIDITY: Final = timedelta(minutes=30)
REASON_MIN: Final = 3
REASON_MAX: Final = 300


class PresenceCode(msgspec.Struct, frozen=True, kw_only=True):
    """A fresh presence code as shown once to the person: six digits and when they stop working."""

    code: str
    expires_at: datetime


class DeskSession(msgspec.Struct, frozen=True, kw_only=True):
    """An assisted session as stored."""

    citizen_id: UUID
    session_id: UUID
    agent_person_id: UUID
    agent_ref: str
    office: str
    verification: Verification
    document_type: DocumentType | None
    document_last4: str | None
    reason: str
    scopes: tuple[Scope, ...]
    opened_at: datetime
    expires_at: datetime
    extended_at: datetime | None
    ended_at: datetime | None
    end_reason: EndReason | None

    def is_open(self, at: datetime) -> bool:
        """Not ended and not past its time."""
        return self.ended_at is None and at < self.expires_at

    @property
    def case_ref(self) -> str:
        """How the session is named in the person's access log."""
        return f"desk-session:{self.session_id}"


class SessionAction(msgspec.Struct, frozen=True, kw_only=True):
    """One thing that happened in a session."""

    citizen_id: UUID
    session_id: UUID
    occurred_at: datetime
    kind: ActionKind
    detail: str | None


class OpenRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What the agent enters to open a session (the national number travels only in the form body)."""

    insz: str
    verification: Verification
    reason: str
    scopes: tuple[str, ...]
    presence_code: str = ""
    document_type: str = ""
    document_last4: str = ""


class MandateDraft(msgspec.Struct, frozen=True, kw_only=True):
    """A mandate prepared at the desk, waiting for the person's own confirmation."""

    citizen_id: UUID
    draft_id: UUID
    session_id: UUID
    mandatary_person_id: UUID | None
    mandatary_org_id: UUID | None
    mandatary_label: str
    themes: list[dict[str, str]]
    duration: str
    legal_text_version: int
    legal_text_language: str
    legal_text_sha256: str
    created_at: datetime
    code_expires_at: datetime
    confirmed_at: datetime | None
    confirmed_via: ConfirmedVia | None
    form_reference: str | None
    mandate_id: UUID | None
