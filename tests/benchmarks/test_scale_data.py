"""The national-scale generator writes real chains, valid records, and the same data every time."""

from __future__ import annotations

import uuid
from collections import defaultdict

import msgspec

from backend.access_log.schemas import EVENT_COLUMNS, AccessEvent
from backend.access_log.verify import check_chain, check_organisations
from backend.records.categories.base import decode_hook
from backend.records.categories.dimona import DimonaPayload
from benchmarks.scale_data import WINDOW_END, WINDOW_START, Purpose, block_events, block_records

CITIZENS = [uuid.UUID(int=number, version=4) for number in range(1, 201)]
PURPOSES = [
    Purpose(uuid.UUID(int=7001, version=4), "ONEM", "unemployment_benefit", ("dimona", "dmfa", "drs"), "IVC/1"),
    Purpose(uuid.UUID(int=7002, version=4), "SFP", "pension_calculation", ("dmfa",), "IVC/2"),
]


def test_every_generated_chain_verifies_and_ends_at_its_head() -> None:
    rows, heads = block_events(CITIZENS, PURPOSES, seed=3, mean=20)
    events: dict[uuid.UUID, list[AccessEvent]] = defaultdict(list)
    for row in rows:
        event = AccessEvent(**dict(zip(EVENT_COLUMNS, row, strict=True)))
        events[event.citizen_id].append(event)
    assert len(heads) == len(events) > 150, "most people have at least one access"
    for citizen, last_seq, last_hash, org_ids in heads:
        report = check_chain(citizen, events[citizen], (last_seq, last_hash))
        assert check_organisations(report, events[citizen], org_ids).broken is None
        assert report.broken is None
        assert report.events == last_seq
        assert events[citizen][-1].hash == last_hash
        assert all(WINDOW_START <= event.occurred_at < WINDOW_END for event in events[citizen])


def test_mix_and_spread_of_accesses() -> None:
    rows, heads = block_events(CITIZENS * 5, PURPOSES, seed=4, mean=20)
    kinds = [row[EVENT_COLUMNS.index("actor_kind")] for row in rows]
    assert 15 < len(rows) / len(heads) < 30, "about twenty accesses a year on average"
    assert kinds.count("institution") / len(kinds) > 0.85
    assert {"helper", "staff"} <= set(kinds)
    assert max(head[1] for head in heads) > 100, "a long tail of busy people"


def test_same_seed_same_data() -> None:
    first, _ = block_events(CITIZENS[:20], PURPOSES, seed=9, mean=20)
    again, _ = block_events(CITIZENS[:20], PURPOSES, seed=9, mean=20)
    assert first == again


def test_records_are_valid_dimona_declarations() -> None:
    onss = uuid.UUID(int=9, version=4)
    rows = block_records(CITIZENS, ["0206731645"], onss, seed=1)
    assert len(rows) > len(CITIZENS)
    keys = set()
    for row in rows:
        payload = msgspec.convert(msgspec.to_builtins(row[12]), DimonaPayload, dec_hook=decode_hook)
        assert row[10] == payload.start
        assert row[11] == payload.end
        keys.add((row[0], row[7], row[8]))
    assert len(keys) == len(rows), "(citizen, source, source event id) is unique"


def test_the_reference_citizen_has_the_same_busy_log_whatever_the_mean() -> None:
    reference = CITIZENS[0]
    quiet, quiet_heads = block_events(CITIZENS[:20], PURPOSES, seed=0, mean=1, reference=reference)
    busy, busy_heads = block_events(CITIZENS[:20], PURPOSES, seed=0, mean=50, reference=reference)
    citizen_id = EVENT_COLUMNS.index("citizen_id")
    assert [row for row in quiet if row[citizen_id] == reference] == [
        row for row in busy if row[citizen_id] == reference
    ]
    assert quiet_heads[0] == busy_heads[0]
    assert 150 <= quiet_heads[0][1] <= 250
    assert sum(head[1] for head in quiet_heads[1:]) < sum(head[1] for head in busy_heads[1:]), "the others differ"
