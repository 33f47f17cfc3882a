"""The web process freezes its start-up objects and collects young objects less often; nothing else does."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

from litestar import Litestar

from backend.core.heap import YOUNG_THRESHOLD, settle_heap

ROOT = Path(__file__).resolve().parents[3]

# A web process as uvicorn makes it: the factory's app, through its whole start-up (pools open), then asked for
# the collector's state. Run apart: settle_heap changes the interpreter's collector for good.
_WEB_PROCESS = """
import asyncio, gc, json
from backend.cli import web_app_factory

async def main():
    app = web_app_factory()
    before = {"frozen": gc.get_freeze_count(), "threshold": gc.get_threshold()[0]}
    async with app.lifespan():
        after = {"frozen": gc.get_freeze_count(), "threshold": gc.get_threshold()[0], "young": len(gc.get_objects(0))}
    print(json.dumps({"before": before, "after": after}))

asyncio.run(main())
"""


def test_web_process_freezes_its_start_up_objects(database_url: str, redis_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "VITRINE_ENV": "test"}
    done = subprocess.run(
        [sys.executable, "-c", _WEB_PROCESS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert state["before"] == {"frozen": 0, "threshold": 700}
    # The app, its routes and its pools: far more than a request's worth of objects, all out of the collector's way.
    assert state["after"]["frozen"] > 50_000
    assert state["after"]["threshold"] == YOUNG_THRESHOLD


async def test_apps_built_elsewhere_keep_the_default_collector(app: Litestar) -> None:
    # Tests and commands build the app with create_app and run its start-up: only `vitrine web` settles the heap.
    async with app.lifespan():
        pass
    assert settle_heap not in app.on_startup
    assert gc.get_freeze_count() == 0
