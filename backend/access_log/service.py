"""Recording accesses: the one write path every reader of someone else's data goes through.

`record_access` runs in the caller's transaction, so the access and its log row stand or fall together. The
citizen's chain head is locked for the append, which keeps sequence numbers gap-free and the chain linear.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg

from backend.access_log import queries
from backend.access_log.chain import GENESIS, event_hash
from backend.access_log.schemas import AccessEvent, Accessor, Action, Channel, Outcome
from backend.core.auth.actors import Actor


def accessor_for(actor: Actor, *, subject_id: UUID) -> Accessor:
    """How an actor appears in someone's log: a person acting for another is a helper."""
    if actor.kind == "institution":
        return Accessor(kind="institution", org_id=actor.org_id, client_id=actor.client_id)
    if actor.kind == "agent":
        return Accessor(kind="agent", org_id=actor.org_id, ref=actor.pseudonym, role="agent")
    if actor.kind == "staff":
        return Accessor(kind="staff", org_id=actor.org_id, ref=actor.pseudonym, role="support")
    if actor.person_id == subject_id:
        raise ValueError("a person reading their own data is not an access by others")
    return Accessor(kind="helper", ref=None if actor.person_id is None else str(actor.person_id))


async def record_access(
    conn: asyncpg.Connection,
    *,
    citizen_id: UUID,
    accessor: Accessor,
    action: Action,
    channel: Channel,
    outcome: Outcome = "granted",
    reason: str | None = None,
    categories: Sequence[str] = (),
    record_refs: Sequence[str] = (),
    purpose_code: str | None = None,
    legal_basis_ref: str | None = None,
    mandate_id: UUID | None = None,
    case_ref: str | None = None,
    occurred_at: datetime | None = None,
    source: str | None = None,
    source_event_id: str | None = None,
) -> AccessEvent:
    """Append one event to the citizen's log, in the caller's transaction, and return it."""
    if outcome != "granted" and not reason:
        raise ValueError("a denied or failed access needs a reason")
    last_seq, last_hash, now = await queries.lock_head(conn, citizen_id, GENESIS)
    fields = {
        "citizen_id": citizen_id,
        "seq": last_seq + 1,
        "event_id": uuid.uuid4(),
        "occurred_at": occurred_at or now,
        "logged_at": now,
        "actor_kind": accessor.kind,
        "actor_org_id": accessor.org_id,
        "actor_client_id": accessor.client_id,
        "actor_system": accessor.system,
        "actor_role": accessor.role,
        "actor_ref": accessor.ref,
        "mandate_id": mandate_id,
        "purpose_code": purpose_code,
        "legal_basis_ref": legal_basis_ref,
        "categories": sorted(set(categories)),
        "record_refs": list(record_refs),
        "case_ref": case_ref,
        "channel": channel,
        "action": action,
        "outcome": outcome,
        "reason": reason,
        "source": source,
        "source_event_id": source_event_id,
    }
    event = AccessEvent(**fields, prev_hash=last_hash, hash=event_hash(last_hash, fields))  # type: ignore[arg-type]
    await queries.append_event(conn, event)
    return event
