"""A worker's stop as named steps, each bounded in time and logged with its duration.

A step that outlives its bound is cancelled and the stop goes on with the next one (logged
as ``worker_stop_step_timed_out``); a step that raises is logged (``worker_stop_step_failed``)
and the stop goes on too. Every step also shares one deadline, set when the stop begins:
``grace`` (what running jobs may take) plus :data:`STOP_MARGIN`, so however many steps are
slow the whole stop is bounded by about ``grace + STOP_MARGIN`` (each step still gets at
least :data:`MIN_STEP` seconds, so a late step can cancel its tasks and release what it holds).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from naq_core._log import get_logger

__all__ = ["MIN_STEP", "STEP_TIMEOUT", "STOP_MARGIN", "Teardown", "cancel_and_wait"]

#: Seconds one step may take unless it names its own bound.
STEP_TIMEOUT = 5.0
#: Seconds the steps may take together, beyond the running jobs' grace.
STOP_MARGIN = 10.0
#: Seconds every step gets even once the shared deadline has passed.
MIN_STEP = 0.5


class Teardown:
    """Wraps teardown callables for an :class:`contextlib.AsyncExitStack` (see :meth:`step`).

    ``ran`` lists the steps that ran, in order, with how they ended (``ok``, ``timeout``,
    ``error``): what a test looks at to know every step of a stop ran.
    """

    def __init__(self, worker_id: str) -> None:
        self.worker_id = worker_id
        self.ran: list[tuple[str, str]] = []
        self._deadline = math.inf

    def begin(self, grace: float | None) -> None:
        """The stop starts now: every step from here on shares ``grace + STOP_MARGIN``."""
        if self._deadline == math.inf and grace is not None:
            self._deadline = time.monotonic() + grace + STOP_MARGIN

    def bound(self, timeout: float) -> float:
        """What a step bounded by ``timeout`` may take now (the shared deadline applies)."""
        left = self._deadline - time.monotonic()
        return max(MIN_STEP, min(timeout, left))

    def step(
        self, name: str, run: Callable[..., Awaitable[Any]], timeout: float = STEP_TIMEOUT
    ) -> Callable[..., Awaitable[bool]]:
        """``run`` as an exit callback (``stack.push_async_exit``): bounded, logged, never raising.

        ``run`` is called with the exception info the stack unwinds with when it takes
        arguments of that shape; wrap one that takes none with a lambda.
        """

        async def exit_(*exc_info: Any) -> bool:
            await self.run(name, lambda: run(*exc_info), timeout)
            return False

        return exit_

    async def run(self, name: str, run: Callable[[], Awaitable[Any]], timeout: float = STEP_TIMEOUT) -> None:
        """Run one step now, bounded by :meth:`bound` ``(timeout)``; log how it went.

        The step runs as a task of its own: one that outlives its bound is cancelled (again
        and again, see :func:`cancel_and_wait`) and, should it still not end, left behind
        with a warning, so the stop goes on whatever the step does.
        """
        log = get_logger(__name__)
        limit = self.bound(timeout)
        started = time.monotonic()
        outcome = "ok"
        task = asyncio.ensure_future(run())
        try:
            done, _ = await asyncio.wait({task}, timeout=limit)
            if not done:
                outcome = "timeout"
                log.warning("worker_stop_step_timed_out", worker_id=self.worker_id, step=name, timeout=limit)
                if not await cancel_and_wait(task, patience=MIN_STEP):
                    log.warning("worker_stop_step_abandoned", worker_id=self.worker_id, step=name)
            elif not task.cancelled() and task.exception() is not None:
                outcome = "error"
                exc = task.exception()
                log.warning(
                    "worker_stop_step_failed",
                    worker_id=self.worker_id,
                    step=name,
                    error=f"{type(exc).__name__}: {exc}",
                )
        except asyncio.CancelledError:
            outcome = "cancelled"
            await cancel_and_wait(task, patience=MIN_STEP)
            raise
        finally:
            self.ran.append((name, outcome))
            log.debug(
                "worker_stop_step",
                worker_id=self.worker_id,
                step=name,
                outcome=outcome,
                duration=round(time.monotonic() - started, 3),
            )


async def cancel_and_wait(task: asyncio.Future[Any], *, patience: float = 1.0) -> bool:
    """Cancel ``task`` and wait for it to end, cancelling it again every 50 ms.

    One cancellation is not always enough: ``asyncio.wait_for`` (Python 3.11, and
    nats-py uses it for every request) drops a cancellation that lands as the future it
    waits for completes, and a loop around such a call then runs on. True once the task
    ended; False if it still runs after ``patience`` seconds.
    """
    deadline = time.monotonic() + patience
    while not task.done():
        if time.monotonic() >= deadline:
            return False
        task.cancel()
        await asyncio.wait({task}, timeout=0.05)
    if not task.cancelled():
        task.exception()  # retrieved: a failure while stopping is not "never retrieved"
    return True
