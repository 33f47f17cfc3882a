"""The run's single JSON report gathers each benchmark's own file and names what is missing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import summary
from benchmarks.summary import PARTS, gather


def test_parts_are_gathered_and_missing_ones_named(tmp_path: Path) -> None:
    (tmp_path / "soak.json").write_text(json.dumps({"passed": True}), encoding="utf-8")
    (tmp_path / "access-ingest.json").write_text(json.dumps({"chained_per_second": 1}), encoding="utf-8")
    report = gather(tmp_path)
    assert report["parts"] == {"soak": {"passed": True}, "access_event_ingest": {"chained_per_second": 1}}
    assert report["missing"] == [name for name in PARTS if name not in {"soak", "access_event_ingest"}]


def test_a_part_that_did_not_pass_fails_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for file_name in PARTS.values():
        (tmp_path / file_name).write_text(json.dumps({"passed": True}), encoding="utf-8")
    monkeypatch.setattr(summary, "RESULTS", tmp_path)
    assert summary.main() == 0
    (tmp_path / "soak.json").write_text(json.dumps({"passed": False}), encoding="utf-8")
    assert summary.main() == 1
    assert json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["parts"]["soak"] == {"passed": False}
