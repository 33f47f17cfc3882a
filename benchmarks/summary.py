"""One JSON file for a whole `make bench` run: every benchmark's own results file gathered under one roof.

Each benchmark writes its figures to `benchmarks/results/<name>.json` and its section of docs/performance.md; this
gathers the files of the run into `benchmarks/results/report.json`, with the commit and the time, so the report
is one document and one machine-readable file. A benchmark that did not run is listed as missing, never invented,
and `make bench` fails when a part is missing or did not pass.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, TypedDict

from benchmarks.run import _commit

RESULTS: Final = Path(__file__).resolve().parent / "results"
PARTS: Final = {
    "http_pages": "latest.json",
    "log_growth": "log-growth.json",
    "access_event_ingest": "access-ingest.json",
    "declaration_ingest": "declaration-ingest.json",
    "notification_latency": "notification-latency.json",
    "soak": "soak.json",
    "latency_at_rate": "latency.json",
}


class Report(TypedDict):
    """The run's report: when, at which commit, each part's figures, and what did not run."""

    written_at: str
    commit: str | None
    parts: dict[str, object]
    missing: list[str]


def gather(results: Path | None = None) -> Report:
    """Every part's figures, read from its file; the names of the parts whose file is absent."""
    results = RESULTS if results is None else results
    parts: dict[str, object] = {}
    missing: list[str] = []
    for name, file_name in PARTS.items():
        path = results / file_name
        if path.is_file():
            parts[name] = json.loads(path.read_text(encoding="utf-8"))
        else:
            missing.append(name)
    return {
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "parts": parts,
        "missing": missing,
    }


def main() -> int:
    """Write benchmarks/results/report.json; exit 1 if a part is missing or says it did not pass (the soak)."""
    report = gather()
    (RESULTS / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    missing = report["missing"]
    print(
        f"benchmarks/results/report.json: {len(report['parts'])} parts"
        + (f", missing: {', '.join(missing)}" if missing else "")
    )
    failed = [
        name
        for name, figures in report["parts"].items()
        if isinstance(figures, dict) and figures.get("passed") is False
    ]
    if failed:
        print(f"did not pass: {', '.join(failed)}")
    return 1 if missing or failed else 0


if __name__ == "__main__":
    sys.exit(main())
