"""A worker's stop steps are bounded even when a step ignores cancellation.

``asyncio.wait_for`` (Python 3.11, used by nats-py for every request) can drop a
cancellation that lands as its future completes; a loop around such a call then runs on
after one ``cancel()``. These tests stand in for that with tasks that swallow cancellation.
"""

from __future__ import annotations

import asyncio

import pytest

from naq_core import Worker
from naq_core._teardown import Teardown, cancel_and_wait
from naq_core.heartbeat import Heartbeat
from naq_core.testing.worker import wait_until


async def _swallows(times: int, ended: list[bool], until: asyncio.Event | None = None) -> None:
    """Loops like the in-progress sweep, shrugging off the first ``times`` cancellations
    (every one while ``until`` is not set)."""
    left = times
    while True:
        try:
            await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            if left == 0 or (until is not None and until.is_set()):
                ended.append(True)
                raise
            left -= 1


async def test_a_loop_that_swallows_a_cancellation_still_ends() -> None:
    ended: list[bool] = []
    task = asyncio.create_task(_swallows(2, ended))
    await asyncio.sleep(0.05)
    assert await cancel_and_wait(task, patience=5)
    assert task.cancelled()
    assert ended == [True]


async def test_a_step_that_never_ends_is_cut_off_and_the_stop_goes_on() -> None:
    teardown = Teardown("w-1")
    ended: list[bool] = []
    release = asyncio.Event()
    stuck = asyncio.create_task(_swallows(10**9, ended, release))  # ignores cancellations
    teardown.begin(grace=0)

    async def wait_for_stuck() -> None:
        await asyncio.shield(stuck)

    async def fine() -> None:
        await asyncio.sleep(0)

    await teardown.run("stuck", wait_for_stuck, timeout=0.2)
    await teardown.run("next", fine)
    assert teardown.ran == [("stuck", "timeout"), ("next", "ok")]
    assert not stuck.done()  # left behind, with a warning, instead of hanging the stop
    assert not await cancel_and_wait(stuck, patience=0.1)
    release.set()  # the stand-in gives in now
    assert await cancel_and_wait(stuck, patience=5)
    assert ended == [True]


async def test_a_failing_step_is_logged_and_the_stop_goes_on() -> None:
    teardown = Teardown("w-1")

    async def fails() -> None:
        raise RuntimeError("boom")

    exit_ = teardown.step("fails", lambda *_: fails())
    assert await exit_(None, None, None) is False
    assert teardown.ran == [("fails", "error")]


async def test_a_stop_ends_when_the_in_progress_sweep_swallows_a_cancellation(
    nats_url: str, queue_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    swallowed: list[bool] = []
    original = Heartbeat.state_changed

    async def state_changed(self: Heartbeat, *, force: bool = False) -> None:
        if force:
            await original(self, force=force)
            return
        try:
            await asyncio.sleep(30)  # the sweep waits here, where its cancellation lands
        except asyncio.CancelledError:
            if swallowed:
                raise
            swallowed.append(True)  # as wait_for does when its future completes meanwhile

    monkeypatch.setattr(Heartbeat, "state_changed", state_changed)
    worker = Worker(queue_name, nats_url, install_signal_handlers=False)
    run = asyncio.create_task(worker.run())
    await wait_until(lambda: worker.status == "running" or run.done(), timeout=15)
    assert worker.status == "running", run
    await asyncio.sleep(0.3)  # the sweep waits in state_changed now
    worker.request_stop()
    await wait_until(run.done, timeout=30)
    assert run.result() is None
    assert swallowed == [True]
    assert ("in_progress_sweep", "ok") in worker.stop_steps
