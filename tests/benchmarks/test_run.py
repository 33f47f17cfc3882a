"""The page benchmark's command line: both servers run the same number of uvicorn workers."""

from __future__ import annotations

import os

import pytest

from benchmarks import log_growth
from benchmarks.run import parse_options


def test_both_servers_run_one_worker_per_core_unless_told_otherwise() -> None:
    options = parse_options([])
    assert options is not None
    assert options.workers == (os.cpu_count() or 1)
    one = parse_options(["--workers", "1", "--quick"])
    assert one is not None
    assert (one.workers, one.repeat, one.duration_s) == (1, 1, 1)


def test_a_server_without_workers_is_refused() -> None:
    with pytest.raises(SystemExit, match="--workers must be at least 1"):
        parse_options(["--workers", "0"])


def test_the_growth_benchmark_compares_one_worker_with_itself() -> None:
    assert log_growth.parse_options([]).workers == 1
