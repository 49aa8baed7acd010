"""``NaqClient``: the synchronous API, one persistent NATS connection for a whole program.

The client runs a private event loop in a daemon thread and submits every call to it with
:func:`asyncio.run_coroutine_threadsafe`, so the connection, its JetStream objects and the
per-queue :class:`~naq_core.queue.Queue` objects all live on one loop for the client's
lifetime. Any number of threads may call one client at once; errors raised on the loop
(``NaqConnectionError``, ``JobFailedError``, ...) reach the caller unchanged.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from concurrent.futures import CancelledError, Future
from types import TracebackType
from typing import Any, ParamSpec, TypeVar

import attrs

from naq_core import shortcuts
from naq_core._client_cache import QueuePool, close_client, run_in
from naq_core._client_cache import client as cached_client
from naq_core._log import get_logger
from naq_core._resultwait import check_timeout
from naq_core.config import Config, load_config
from naq_core.errors import NaqConnectionError
from naq_core.heartbeat import WorkerInfo
from naq_core.job import Job, JobStatus
from naq_core.queue import Queue
from naq_core.results import JobRecord
from naq_core.schedules.record import Schedule

__all__ = ["NaqClient", "close_default_client", "get_default_client"]

T = TypeVar("T")
P = ParamSpec("P")

#: How long :meth:`NaqClient.close` waits for the connection to drain and the thread to end.
CLOSE_TIMEOUT = 10.0


class NaqClient:
    """A synchronous client holding one NATS connection for its lifetime.

    ::

        with NaqClient(nats_url="nats://127.0.0.1:4222") as client:
            job = client.enqueue("myapp.tasks:send_mail", "bob@example.com", queue_name="emails")
            print(client.fetch_job_result(job.job_id, timeout=30))

    ``config`` is a ready :class:`~naq_core.config.Config`; otherwise the effective
    configuration is loaded (files, ``NAQ_*``) with ``nats_url`` and ``settings`` on top.
    The connection opens on the first call, and opens again on the next call if it could
    not be opened or was closed. Safe to share between threads; do not call it from inside
    a task submitted to its own loop.
    """

    def __init__(
        self, nats_url: str | Sequence[str] | None = None, *, config: Config | None = None, **settings: Any
    ) -> None:
        overrides = {"nats_url": nats_url, **settings}
        if config is None:
            config = load_config(overrides=overrides)
        elif any(v is not None for v in overrides.values()):
            config = attrs.evolve(config, **{k: v for k, v in overrides.items() if v is not None})
        self.config = config
        self._lock = threading.Lock()
        self._closed = False
        self._pid = os.getpid()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pending: set[Future[Any]] = set()
        self._pool = QueuePool(config, name="naq-client")  # used on the client's loop only

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("connected" if self._pool.conn is not None else "idle")
        return f"<NaqClient {', '.join(self.config.nats_url)} {state}>"

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> NaqClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def connect(self) -> NaqClient:
        """Open the connection now instead of on the first call (fail fast at start-up)."""
        self._call(self._pool.connection())
        return self

    def close(self) -> None:
        """Drain the connection, stop the loop thread and join it. Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None or self._pid != os.getpid():
            return
        if thread is threading.current_thread():
            raise RuntimeError("NaqClient.close() cannot be called from the client's own loop")
        for future in self._pending.copy():  # calls in flight (a result wait, say) end with an error
            future.cancel()
        try:
            asyncio.run_coroutine_threadsafe(self._pool.close(timeout=CLOSE_TIMEOUT / 2), loop).result(
                CLOSE_TIMEOUT
            )
        except Exception as exc:  # closing must not fail; say what happened and carry on
            get_logger(__name__).warning("client_close_failed", error=str(exc), error_type=type(exc).__name__)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(CLOSE_TIMEOUT)
        if not thread.is_alive():
            loop.close()

    # --- the loop thread ------------------------------------------------------------------

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:
                raise NaqConnectionError(f"{self!r} is closed; create a new NaqClient")
            if self._pid != os.getpid():  # forked: the parent's thread does not exist here
                self._pid = os.getpid()
                self._loop = self._thread = None
                self._pool = QueuePool(self.config, name="naq-client")
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()
                thread = threading.Thread(
                    target=self._run_loop, args=(loop, ready), name="naq-client-loop", daemon=True
                )
                thread.start()
                ready.wait()
                self._loop, self._thread = loop, thread
            return self._loop

    @staticmethod
    def _run_loop(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        loop.run_forever()

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        try:
            loop = self._ensure_loop()
        except BaseException:
            coro.close()
            raise
        if self._thread is threading.current_thread():
            coro.close()
            raise RuntimeError("NaqClient methods block; inside the client's own loop use Queue instead")
        try:
            future: Future[T] = asyncio.run_coroutine_threadsafe(coro, loop)
        except RuntimeError:  # the loop closed under us: close() ran in another thread
            coro.close()
            raise NaqConnectionError(f"{self!r} is closed; create a new NaqClient") from None
        self._pending.add(future)
        if self._closed:  # close() ran since _ensure_loop and may not have seen this call
            future.cancel()
        try:
            return future.result()
        except CancelledError:
            if self._closed:
                raise NaqConnectionError(f"{self!r} was closed while this call was waiting") from None
            raise
        except BaseException:
            future.cancel()  # e.g. KeyboardInterrupt while waiting for a result
            raise
        finally:
            self._pending.discard(future)

    def _run(self, call: Callable[[QueuePool], Awaitable[T]]) -> T:
        """``await call(pool)`` on the client's loop, with its connection and queues.

        Every method comes down to this, through :meth:`_shortcut` for most (as the ``*_sync``
        shortcuts do: ``naq_core._client_cache.run_in``).
        """

        async def run() -> T:
            return await call(self._pool)

        return self._call(run())

    def _on_queue(self, queue_name: str | None, call: Callable[[Queue], Awaitable[T]]) -> T:
        """``await call(queue)`` on the client's loop; ``queue_name=None``: the default queue."""

        async def run(pool: QueuePool) -> T:
            return await call(await pool.queue(queue_name))

        return self._run(run)

    def _shortcut(self, func: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """The async shortcut ``func`` of :mod:`naq_core.shortcuts`, run with this client's queues."""
        return run_in(self, func, *args, **kwargs)

    # --- the API: the shortcuts of naq_core.shortcuts, on this client's connection -------------

    def enqueue(
        self, func: Callable[..., Any] | str, *args: Any, queue_name: str | None = None, **options: Any
    ) -> Job:
        """Publish one job; see :meth:`Queue.enqueue <naq_core.queue.Queue.enqueue>` for options."""
        return self._shortcut(shortcuts.enqueue, func, *args, queue_name=queue_name, **options)

    def enqueue_many(
        self, calls: Iterable[Job | tuple[Any, ...]], queue_name: str | None = None, **options: Any
    ) -> list[Job]:
        """Publish many jobs pipelined; items are ``(func, args)``, ``(func, args, kwargs)`` or Jobs."""
        items = list(calls)  # consumed in the calling thread
        return self._shortcut(shortcuts.enqueue_many, items, queue_name, **options)

    def job_record(self, job_id: str | Job) -> JobRecord:
        """Everything known about a job; raises ``JobNotFoundError`` if nothing is."""
        return self._on_queue(None, lambda queue: queue.job_record(_job_id(job_id)))

    def job_status(self, job_id: str | Job) -> JobStatus:
        return self._shortcut(shortcuts.job_status, job_id)

    def fetch_job_result(self, job_id: str | Job, timeout: float | None = None) -> Any:
        """The job's return value, waiting up to ``timeout`` seconds (``None``: for ever).

        Raises ``JobFailedError`` (with the remote traceback) if the job failed and
        ``naq_core.errors.NaqTimeoutError`` if it did not finish in time; ``JobNotFoundError``
        at once if the id is unknown (or its record expired).
        """
        return self._shortcut(shortcuts.fetch_job_result, job_id, check_timeout(timeout))

    def count(self, queue_name: str | None = None) -> int:
        """Jobs waiting in the queue (default: the configured default queue)."""
        return self._on_queue(queue_name, lambda queue: queue.count())

    def purge(self, queue_name: str | None = None) -> int:
        """Delete every job waiting in the queue; returns how many were removed."""
        return self._shortcut(shortcuts.purge_queue, queue_name)

    def list_workers(self) -> list[WorkerInfo]:
        """Every live worker (from the heartbeat bucket)."""
        return self._shortcut(shortcuts.list_workers)

    # --- scheduled jobs ---------------------------------------------------------------------

    def enqueue_at(
        self,
        when: dt.datetime | None = None,
        func: Callable[..., Any] | str | None = None,
        *args: Any,
        queue_name: str | None = None,
        **options: Any,
    ) -> Job:
        """Run ``func`` once at ``when`` (naive datetimes are UTC); every ``enqueue`` option.

        The job's id is also its schedule's id (for :meth:`cancel_scheduled_job`). ``dt=``
        (the original naq's name for ``when``) works until naq 1.0, with a warning.
        """
        when, func = shortcuts.first_arguments("enqueue_at", when, func, options)
        return self._shortcut(shortcuts.enqueue_at, when, func, *args, queue_name=queue_name, **options)

    def enqueue_in(
        self,
        delay: float | dt.timedelta | None = None,
        func: Callable[..., Any] | str | None = None,
        *args: Any,
        queue_name: str | None = None,
        **options: Any,
    ) -> Job:
        """Run ``func`` once after ``delay`` (seconds or a ``timedelta``).

        ``delta=`` (the original naq's name for ``delay``) works until naq 1.0, with a warning.
        """
        delay, func = shortcuts.first_arguments("enqueue_in", delay, func, options)
        return self._shortcut(shortcuts.enqueue_in, delay, func, *args, queue_name=queue_name, **options)

    def schedule(
        self,
        func: Callable[..., Any] | str,
        *args: Any,
        cron: str | None = None,
        interval: float | dt.timedelta | None = None,
        repeat: int | None = None,
        tz: str | None = None,
        name: str | None = None,
        queue_name: str | None = None,
        **options: Any,
    ) -> Schedule:
        """A recurring job on ``cron`` (5 or 6 fields, ``tz``) or every ``interval`` seconds.

        See :meth:`Queue.schedule <naq_core.queue.Queue.schedule>`: ``repeat`` stops after
        that many firings, ``name`` is the schedule's id (registering it again replaces it).
        """
        spec: dict[str, Any] = {"cron": cron, "interval": interval, "repeat": repeat, "tz": tz, "name": name}
        return self._shortcut(shortcuts.schedule, func, *args, queue_name=queue_name, **spec, **options)

    def list_schedules(self, queue_name: str | None = None) -> list[Schedule]:
        """Every schedule of every queue (or of ``queue_name``), soonest next run first."""
        return self._shortcut(shortcuts.list_schedules, queue_name)

    # Schedule ids are unique across queues: no queue_name needed.

    def get_schedule(self, schedule_id: str) -> Schedule:
        """One schedule by id; raises ``JobNotFoundError`` (``no schedule 'x'``) if unknown."""
        return self._shortcut(shortcuts.get_schedule, schedule_id)

    def cancel_scheduled_job(self, schedule_id: str) -> Schedule:
        """Stop a schedule for good; firings still waiting in the queue are skipped.

        A one-off that has not fired is recorded ``cancelled``.
        """
        return self._shortcut(shortcuts.cancel_scheduled_job, schedule_id)

    def pause_scheduled_job(self, schedule_id: str) -> Schedule:
        """Stop firing until :meth:`resume_scheduled_job` (firings already queued still run)."""
        return self._shortcut(shortcuts.pause_scheduled_job, schedule_id)

    def resume_scheduled_job(self, schedule_id: str) -> Schedule:
        """Fire again from the next due time (runs missed while paused are skipped)."""
        return self._shortcut(shortcuts.resume_scheduled_job, schedule_id)

    def modify_scheduled_job(
        self,
        schedule_id: str,
        *,
        cron: str | None = None,
        interval: float | dt.timedelta | None = None,
        next_run: dt.datetime | None = None,
        repeat: int | None = None,
        tz: str | None = None,
    ) -> Schedule:
        """Give a schedule a new cron, interval or (one-off) next run, or a new ``repeat``."""
        return self._shortcut(
            shortcuts.modify_scheduled_job,
            schedule_id,
            cron=cron,
            interval=interval,
            next_run=next_run,
            repeat=repeat,
            tz=tz,
        )

    def run_scheduled_job_now(self, schedule_id: str) -> Job:
        """Enqueue one run now, as a job of its own; the schedule itself is unchanged."""
        return self._shortcut(shortcuts.run_scheduled_job_now, schedule_id)


def _job_id(job_id: str | Job) -> str:
    """A Job as ``<queue>.<job id>`` (exact: ids are per queue), a string as given."""
    return f"{job_id.queue_name}.{job_id.job_id}" if isinstance(job_id, Job) else job_id


# --- the process-wide default client (one entry of naq_core._client_cache) ---------------------


def get_default_client() -> NaqClient:
    """The shared client of this process (effective configuration), made on first use.

    It is made again if it was closed, and closed when the interpreter exits.
    """
    return cached_client(None)


def close_default_client() -> None:
    """Close the shared client, if there is one (the next use makes a new one)."""
    close_client(None)
