"""Appending many access events at once: the same chains as `record_access`, a few round trips per batch.

Per batch: lock every affected citizen's head in one statement (sorted, so concurrent batches cannot
deadlock), compute the chains in Python, COPY the events, move the heads with one UPDATE. The result is
identical to calling `record_access` once per event, which the tests check by verifying the chains.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from backend.access_log.chain import GENESIS, event_hash
from backend.access_log.schemas import EVENT_COLUMNS, AccessEvent, Accessor, Action, Channel, Outcome


class NewAccess(msgspec.Struct, frozen=True, kw_only=True):
    """One access to append in a batch (what `record_access` takes as arguments)."""

    citizen_id: UUID
    accessor: Accessor
    action: Action
    channel: Channel
    outcome: Outcome = "granted"
    reason: str | None = None
    categories: tuple[str, ...] = ()
    record_refs: tuple[str, ...] = ()
    purpose_code: str | None = None
    legal_basis_ref: str | None = None
    mandate_id: UUID | None = None
    case_ref: str | None = None
    occurred_at: datetime | None = None
    source: str | None = None
    source_event_id: str | None = None


async def _lock_heads(conn: asyncpg.Connection, citizens: list[UUID]) -> tuple[dict[UUID, tuple[int, bytes]], datetime]:
    rows = await conn.fetch(
        """
        INSERT INTO access_log_heads AS h (citizen_id, last_seq, last_hash)
        SELECT id, 0, $2 FROM unnest($1::uuid[]) AS id ORDER BY id
        ON CONFLICT (citizen_id) DO UPDATE SET citizen_id = h.citizen_id
        RETURNING citizen_id, last_seq, last_hash, now() AS now
        """,
        citizens,
        GENESIS,
    )
    heads = {row["citizen_id"]: (int(row["last_seq"]), bytes(row["last_hash"])) for row in rows}
    return heads, rows[0]["now"]


async def record_accesses(conn: asyncpg.Connection, accesses: Sequence[NewAccess]) -> list[AccessEvent]:
    """Append a batch of events in the caller's transaction; events of one citizen keep the batch's order."""
    if not accesses:
        return []
    for access in accesses:
        if access.outcome != "granted" and not access.reason:
            raise ValueError("a denied or failed access needs a reason")
    heads, now = await _lock_heads(conn, sorted({access.citizen_id for access in accesses}))
    events: list[AccessEvent] = []
    for access in accesses:
        last_seq, last_hash = heads[access.citizen_id]
        fields = {
            "citizen_id": access.citizen_id,
            "seq": last_seq + 1,
            "event_id": uuid.uuid4(),
            "occurred_at": access.occurred_at or now,
            "logged_at": now,
            "actor_kind": access.accessor.kind,
            "actor_org_id": access.accessor.org_id,
            "actor_client_id": access.accessor.client_id,
            "actor_system": access.accessor.system,
            "actor_role": access.accessor.role,
            "actor_ref": access.accessor.ref,
            "mandate_id": access.mandate_id,
            "purpose_code": access.purpose_code,
            "legal_basis_ref": access.legal_basis_ref,
            "categories": sorted(set(access.categories)),
            "record_refs": list(access.record_refs),
            "case_ref": access.case_ref,
            "channel": access.channel,
            "action": access.action,
            "outcome": access.outcome,
            "reason": access.reason,
            "source": access.source,
            "source_event_id": access.source_event_id,
        }
        digest = event_hash(last_hash, fields)
        events.append(AccessEvent(**fields, prev_hash=last_hash, hash=digest))  # type: ignore[arg-type]
        heads[access.citizen_id] = (last_seq + 1, digest)
    await conn.copy_records_to_table(
        "access_events",
        records=[tuple(getattr(event, column) for column in EVENT_COLUMNS) for event in events],
        columns=list(EVENT_COLUMNS),
    )
    citizens = list(heads)
    await conn.execute(
        """
        UPDATE access_log_heads AS h SET last_seq = n.seq, last_hash = n.hash, updated_at = now()
        FROM unnest($1::uuid[], $2::bigint[], $3::bytea[]) AS n (citizen_id, seq, hash)
        WHERE h.citizen_id = n.citizen_id
        """,
        citizens,
        [heads[citizen][0] for citizen in citizens],
        [heads[citizen][1] for citizen in citizens],
    )
    return events
