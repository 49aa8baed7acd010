"""Running sync tasks in a worker's thread pool, their results handed back in batches.

``loop.run_in_executor`` wakes the event loop once per call (a write to its self-pipe
from the thread) and chains a ``concurrent.futures.Future`` (a lock, a condition, its
callbacks) to an asyncio one. Here the thread appends its outcome to a deque and wakes the
loop only when no wake-up is pending, and the loop sets every outcome that arrived since
in one callback: fewer wake-ups and GIL hand-overs when many short sync jobs run.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future as ThreadFuture
from concurrent.futures import ThreadPoolExecutor
from typing import Any

__all__ = ["SyncRunner"]

_Outcome = tuple["asyncio.Future[Any]", bool, Any]


class SyncRunner:
    """Calls sync functions in ``threads`` for code on one event loop."""

    def __init__(self, threads: ThreadPoolExecutor) -> None:
        self.threads = threads
        self._outcomes: deque[_Outcome] = deque()
        self._lock = threading.Lock()
        self._wake_pending = False

    def call(self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: Any) -> asyncio.Future[Any]:
        """A future of ``func(*args, **kwargs)`` run in a thread. Cancelling it before the
        thread starts the call means the call never runs (as with ``run_in_executor``)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()

        def work() -> None:
            if future.cancelled():  # a timeout or a stop before a thread was free
                return
            try:
                outcome: _Outcome = (future, True, func(*args, **kwargs))
            except BaseException as exc:  # handed to the awaiting task, as run_in_executor does
                outcome = (future, False, exc)
            self._outcomes.append(outcome)
            with self._lock:
                if self._wake_pending:
                    return
                self._wake_pending = True
            try:
                loop.call_soon_threadsafe(self._deliver)
            except RuntimeError:  # the loop is closed: nobody awaits the outcome any more
                pass

        submitted = self.threads.submit(work)
        submitted.add_done_callback(lambda done: _never_ran(loop, future, done))
        future.add_done_callback(lambda fut: submitted.cancel() if fut.cancelled() else None)
        return future

    def _deliver(self) -> None:
        with self._lock:
            self._wake_pending = False  # an outcome appended from now on wakes the loop again
        outcomes = self._outcomes
        while outcomes:
            future, ok, value = outcomes.popleft()
            if future.done():  # cancelled while its call ran (a timeout)
                continue
            if ok:
                future.set_result(value)
            elif isinstance(value, StopIteration):  # a future cannot hold StopIteration
                future.set_exception(RuntimeError(f"task raised StopIteration: {value}"))
            else:
                future.set_exception(value)


def _never_ran(
    loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any], done: ThreadFuture[None]
) -> None:
    """The pool dropped the call without running it (``shutdown(cancel_futures=True)``):
    cancel the asyncio future, so whoever awaits it does not wait for ever."""
    if done.cancelled() and not loop.is_closed():
        try:
            loop.call_soon_threadsafe(_cancel, future)
        except RuntimeError:  # closed meanwhile
            pass


def _cancel(future: asyncio.Future[Any]) -> None:
    future.cancel()
