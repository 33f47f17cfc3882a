"""The web process's garbage collector, set once the process has started.

A started web process holds some hundred thousand long-lived objects (the app, its routes and schemas, the
catalogues, the pools) that the cyclic collector would otherwise walk on every full collection: about 100 ms, in
which the process answers nobody, once every few hundred page requests. Requests themselves make few reference
cycles; almost everything they allocate is freed by reference counting when the response is sent.

- `gc.freeze()` moves everything alive at start-up into the permanent generation, which collections skip.
- A higher first threshold lets a collection happen every few requests instead of during almost every one, so
  objects of a request in flight are rarely promoted to the older generations only to die there.

See docs/decisions/0012-web-process-garbage-collector.md.
"""

from __future__ import annotations

import gc
from typing import Final

# Allocations (net of deallocations) between two young collections; CPython's default is 700, less than what
# one page request allocates. Garbage in cycles waits at most this many allocations: a few megabytes at worst.
YOUNG_THRESHOLD: Final = 10_000


def settle_heap() -> None:
    """Collect what start-up left behind, freeze the survivors, and collect the young generation less often.

    Called once per web process, after its start-up (`vitrine web`); tests and commands keep CPython's defaults.
    """
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
