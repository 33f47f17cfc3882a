"""Request metrics of a web server with several worker processes, counted as one server.

Each uvicorn worker process keeps its own request counters, and a scrape of `/metrics` reaches whichever process
accepts it: with two workers, successive scrapes alternate between two sets of counters, and Prometheus reads each
switch to a smaller one as a counter reset. prometheus_client's multiprocess mode has every process write its
values to files in one directory (named by `PROMETHEUS_MULTIPROC_DIR`, read when prometheus_client is imported);
a scrape adds them up across processes, the dead ones' counters included.

`vitrine web` with more than one worker makes a fresh directory for each run, names it in the environment its
worker processes inherit, and removes it when the server stops. A worker that stops cleanly withdraws its share
of the in-progress gauge. With one worker nothing changes: its own registry is the whole truth, including the
process metrics (CPU, memory) that multiprocess mode cannot offer.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess

DIRECTORY_VARIABLE: Final = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def shared_metrics(workers: int) -> Iterator[str | None]:
    """Around serving with `workers` processes: the directory they share their metrics in, or None for one.

    The directory is new (so no count of an earlier run is added in) and removed at the end, however the server
    stopped. A value inherited from the environment is replaced, for the same reason.
    """
    inherited = os.environ.pop(DIRECTORY_VARIABLE, None)
    directory = tempfile.mkdtemp(prefix="vitrine-metrics-") if workers > 1 else None
    if directory is not None:
        os.environ[DIRECTORY_VARIABLE] = directory
    try:
        yield directory
    finally:
        os.environ.pop(DIRECTORY_VARIABLE, None)
        if inherited is not None:
            os.environ[DIRECTORY_VARIABLE] = inherited
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)


def shared_directory() -> str | None:
    """The directory this process shares its metrics in, or None when it counts alone."""
    return os.environ.get(DIRECTORY_VARIABLE) or None


def exposition() -> bytes:
    """The metrics of the whole server in Prometheus's text format: every process's, or this one's."""
    directory = shared_directory()
    if directory is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call] # untyped upstream
    return generate_latest(registry)


def withdraw_process() -> None:
    """At a worker process's clean stop: its live gauges (requests in progress) no longer count."""
    directory = shared_directory()
    if directory is not None:
        multiprocess.mark_process_dead(os.getpid(), directory)  # type: ignore[no-untyped-call] # untyped upstream
