"""Cancelling tasks so that they end, even when a library loses a cancellation.

On Python 3.11, `asyncio.wait_for` swallows a cancellation that arrives just as the operation it waits for
completes (CPython issue 86296, fixed in 3.12): the task carries on as if nothing happened. Libraries under our
jobs use it (arq around every job, aiosmtplib around each SMTP step), so a worker stopped by SIGTERM could see a
cancelled delivery carry on into its next SMTP command and wait there for the server's answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any, Final

# Long enough for a cancelled task's own clean-up (a rollback, closing a socket) to finish undisturbed.
RECANCEL_SECONDS: Final = 0.5


async def cancel_until_done(
    tasks: Iterable[asyncio.Task[Any]], *, within: float, every: float = RECANCEL_SECONDS
) -> set[asyncio.Task[Any]]:
    """Cancel the tasks, and again every `every` seconds those still running, for at most `within` seconds.

    Returns the tasks still running at the end (none, unless one ignores cancellation altogether).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        _, pending = await asyncio.wait(pending, timeout=min(every, remaining))
    return pending
