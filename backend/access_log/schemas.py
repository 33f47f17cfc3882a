"""Access events and what callers say when they record one."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec

ActorKind = Literal["institution", "helper", "agent", "staff", "system"]
Channel = Literal["web", "api", "desk", "batch", "reported"]
Action = Literal["read", "change", "check", "export"]
Outcome = Literal["granted", "denied", "error"]


class Accessor(msgspec.Struct, frozen=True, kw_only=True):
    """Who accessed: kind, organisation, system, role and a pseudonymous reference (never a name)."""

    kind: ActorKind
    org_id: UUID | None = None
    client_id: str | None = None
    system: str | None = None
    role: str | None = None
    ref: str | None = None


class AccessEvent(msgspec.Struct, frozen=True, gc=False):
    """One logged access, as stored (the hash covers every field but `hash` itself).

    Fields are in column order (EVENT_COLUMNS), and every field is required, so a row can be passed positionally:
    the bulk path builds thousands per batch, and keyword matching over 25 fields cost ten times more.
    """

    citizen_id: UUID
    seq: int
    event_id: UUID
    occurred_at: datetime
    logged_at: datetime
    actor_kind: ActorKind
    actor_org_id: UUID | None
    actor_client_id: str | None
    actor_system: str | None
    actor_role: str | None
    actor_ref: str | None
    mandate_id: UUID | None
    purpose_code: str | None
    legal_basis_ref: str | None
    categories: list[str]
    record_refs: list[str]
    case_ref: str | None
    channel: Channel
    action: Action
    outcome: Outcome
    reason: str | None
    source: str | None
    source_event_id: str | None
    prev_hash: bytes
    hash: bytes


EVENT_COLUMNS = tuple(field.name for field in msgspec.structs.fields(AccessEvent))
