"""Cancelling tasks until they end, even when one cancellation is lost."""

from __future__ import annotations

import asyncio

from backend.core.cancellation import cancel_until_done


async def _loses_one_cancellation(cancellations: list[int]) -> None:
    # What asyncio.wait_for does on Python 3.11 when a cancellation meets a completing operation: the task goes on.
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        cancellations.append(1)
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        cancellations.append(2)
        raise


async def test_a_task_that_loses_a_cancellation_is_cancelled_again_and_ends() -> None:
    cancellations: list[int] = []
    task = asyncio.create_task(_loses_one_cancellation(cancellations))
    await asyncio.sleep(0)
    late = await cancel_until_done([task], within=5, every=0.05)
    assert late == set()
    assert task.cancelled()
    assert cancellations == [1, 2]


async def test_a_task_that_ignores_cancellation_is_given_up_on_in_time() -> None:
    stop = asyncio.Event()

    async def stubborn() -> None:
        while not stop.is_set():
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    late = await cancel_until_done([task], within=0.3, every=0.05)
    assert late == {task}
    stop.set()
    task.cancel()
    await asyncio.wait({task})


async def test_tasks_that_end_on_the_first_cancellation_and_finished_ones_are_left_alone() -> None:
    done = asyncio.create_task(asyncio.sleep(0))
    await done
    sleeping = asyncio.create_task(asyncio.sleep(30))
    await asyncio.sleep(0)
    assert await cancel_until_done([done, sleeping], within=5) == set()
    assert sleeping.cancelled()
    assert not done.cancelled()
