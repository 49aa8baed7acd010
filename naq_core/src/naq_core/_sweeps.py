"""A serving worker's sweeps: in_progress signs for every message it holds, and "running"
marks for jobs that last (with the heartbeat's idle/busy state). Per sweep, never per job.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from naq_core._log import get_logger

if TYPE_CHECKING:
    from naq_core._execute import JobRunner
    from naq_core.heartbeat import Heartbeat

__all__ = ["progress_loop"]


async def progress_loop(runner: JobRunner, heartbeat: Heartbeat | None) -> None:
    """Tell JetStream that held messages are still being worked on, and mark lasting
    jobs "running": per sweep, never per job. The in_progress signs run in a task of
    their own, so a slow record write or heartbeat never delays one; it ends with this
    one (a cancellation swallowed here is re-sent by the stop, see ``_teardown``)."""
    keep_alive = asyncio.create_task(_keep_alive_loop(runner), name="naq-in-progress-signs")
    try:
        await _mark_loop(runner, heartbeat)
    finally:
        keep_alive.cancel()


async def _keep_alive_loop(runner: JobRunner) -> None:
    """Every held message gets ``+WPI`` within ``ack_wait / 3`` (plus one tick) of its
    delivery and of its last one, each on its own clock (``_running.progress_due``)."""
    tick = min(0.1, runner.progress_every / 3)
    while True:
        await asyncio.sleep(tick)
        try:
            await runner.keep_in_progress()
        except Exception as exc:  # never end the signs: every held job depends on them
            get_logger(__name__).warning("in_progress_failed", error=repr(exc))


async def _mark_loop(runner: JobRunner, heartbeat: Heartbeat | None) -> None:
    """Record "running" for jobs that last (every 0.1 s), and the heartbeat's state; trim
    the heap when the worker has just gone idle (``_heap``)."""
    while True:
        await asyncio.sleep(0.1)
        try:
            runner.heap.tick(idle=not runner.held, work=runner.processed + runner.failed)
            await runner.mark_running()
            if heartbeat is not None:
                await heartbeat.state_changed()  # idle <-> busy, at most once a second
        except Exception as exc:  # a failed write must not end the in_progress signs
            get_logger(__name__).warning("running_mark_failed", error=repr(exc))
