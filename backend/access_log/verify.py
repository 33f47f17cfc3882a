"""Recompute hash chains and name the first broken link."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg
import msgspec

from backend.access_log import queries
from backend.access_log.chain import GENESIS, HASHED_FIELDS, event_hash
from backend.access_log.schemas import AccessEvent


class BrokenLink(msgspec.Struct, frozen=True, kw_only=True):
    """Where a chain stops adding up: which event, what was expected, what was found."""

    citizen_id: UUID
    seq: int
    event_id: UUID | None
    problem: str
    expected: str
    found: str


class ChainReport(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of checking one citizen's chain."""

    citizen_id: UUID
    events: int
    head_hash: str
    broken: BrokenLink | None


def check_chain(citizen_id: UUID, events: Sequence[AccessEvent], head: tuple[int, bytes] | None) -> ChainReport:
    """Walk the events in order: sequence without gaps, each prev_hash the previous hash, each hash recomputed."""
    previous = GENESIS
    for expected_seq, event in enumerate(events, start=1):
        broken = None
        if event.seq != expected_seq:
            broken = ("sequence gap", str(expected_seq), str(event.seq))
        elif event.prev_hash != previous:
            broken = ("previous hash", previous.hex(), event.prev_hash.hex())
        else:
            recomputed = event_hash(previous, {name: getattr(event, name) for name in HASHED_FIELDS})
            if recomputed != event.hash:
                broken = ("content hash", recomputed.hex(), event.hash.hex())
        if broken is not None:
            problem, expected, found = broken
            return ChainReport(
                citizen_id=citizen_id,
                events=len(events),
                head_hash=previous.hex(),
                broken=BrokenLink(
                    citizen_id=citizen_id,
                    seq=event.seq,
                    event_id=event.event_id,
                    problem=problem,
                    expected=expected,
                    found=found,
                ),
            )
        previous = event.hash
    last_seq = len(events)
    if head is not None and (head[0] != last_seq or head[1] != previous):
        return ChainReport(
            citizen_id=citizen_id,
            events=last_seq,
            head_hash=previous.hex(),
            broken=BrokenLink(
                citizen_id=citizen_id,
                seq=head[0],
                event_id=None,
                problem="head",
                expected=f"{last_seq}:{previous.hex()}",
                found=f"{head[0]}:{head[1].hex()}",
            ),
        )
    return ChainReport(citizen_id=citizen_id, events=last_seq, head_hash=previous.hex(), broken=None)


def logged_organisations_in_order(events: Sequence[AccessEvent]) -> list[UUID]:
    """The organisations of these events in order of first appearance, each once (what the head row keeps)."""
    return list(dict.fromkeys(event.actor_org_id for event in events if event.actor_org_id is not None))


def check_organisations(
    report: ChainReport, events: Sequence[AccessEvent], head_org_ids: Sequence[UUID]
) -> ChainReport:
    """A sound chain's report, or one naming the head row when the organisations it keeps are not the events'."""
    expected = logged_organisations_in_order(events)
    if report.broken is not None or list(head_org_ids) == expected:
        return report
    return msgspec.structs.replace(
        report,
        broken=BrokenLink(
            citizen_id=report.citizen_id,
            seq=report.events,
            event_id=None,
            problem="head organisations",
            expected=",".join(map(str, expected)),
            found=",".join(map(str, head_org_ids)),
        ),
    )


async def verify_citizen(conn: asyncpg.Connection, citizen_id: UUID) -> ChainReport:
    """Check one citizen's chain against their head row, and the organisations the head keeps against the events."""
    events = await queries.select_chain(conn, citizen_id)
    head = await queries.select_head_with_organisations(conn, citizen_id)
    report = check_chain(citizen_id, events, None if head is None else head[0])
    return check_organisations(report, events, [] if head is None else head[1])


async def verify_all(conn: asyncpg.Connection, *, page_size: int = 500) -> tuple[int, list[ChainReport]]:
    """Check every chain; returns how many were checked and the broken ones."""
    checked = 0
    broken: list[ChainReport] = []
    after: UUID | None = None
    while citizens := await queries.select_citizens_with_log(conn, after=after, limit=page_size):
        for citizen_id in citizens:
            report = await verify_citizen(conn, citizen_id)
            checked += 1
            if report.broken is not None:
                broken.append(report)
        after = citizens[-1]
    return checked, broken
