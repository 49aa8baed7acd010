"""``Worker``: fetch jobs from one or more queues and run them until told to stop.

:meth:`Worker.run` is start, serve, stop. Each component started registers its own
teardown on one :class:`contextlib.AsyncExitStack`, so however the run ends (asked to
stop, a step of the start failing, cancelled from outside) everything started is torn
down, newest first, and the connection is closed last.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import nats.errors
from nats.aio.msg import Msg

from naq_core._advisories import MaxDeliveryMover
from naq_core._consumer import PullConsumer
from naq_core._dead import DeadLetterRouter
from naq_core._deps import DependencyTracker
from naq_core._execute import JobRunner
from naq_core._jetstream.connection import Connection, connect
from naq_core._jetstream.names import CANCEL_SUBJECT, JOBS_STREAM, RESULTS_BUCKET
from naq_core._log import get_logger
from naq_core._signals import install_stop_signals
from naq_core._stop_steps import cancel_task, close_connection, stop_mover, unsubscribe
from naq_core._sweeps import progress_loop
from naq_core._teardown import Teardown
from naq_core.config import Config, load_config, validate_queue_name
from naq_core.heartbeat import Heartbeat
from naq_core.plugins import Hooks, get_hooks
from naq_core.queue import warn_if_unsafe
from naq_core.registry import TaskRegistry, default_registry
from naq_core.results import ResultStore

if TYPE_CHECKING:
    from naq_core.shutdown import ShutdownPolicy

__all__ = ["Worker"]

#: Seconds cancelled jobs get to NAK their messages after the grace.
CANCEL_TIMEOUT = 5.0
#: Seconds the connection's drain may take at the end of a stop.
CLOSE_TIMEOUT = 3.0


class Worker:
    """Runs registered tasks from ``queues`` with bounded concurrency.

    Async functions run on the event loop, sync functions in a thread pool of
    ``concurrency`` threads. While it holds a message (running or waiting for a slot) the
    worker tells JetStream it is in progress within ``ack_wait / 3`` seconds of its delivery
    and of each previous sign, so no other worker gets it. SIGTERM/SIGINT stop
    fetching; running jobs get the shutdown policy's grace (``shutdown_timeout``), then are
    cancelled and NAKed for immediate redelivery. A run that fails to start, or that is
    cancelled, NAKs what it holds at once and leaves nothing running behind.
    """

    def __init__(
        self,
        queues: str | Sequence[str] | None = None,
        nats_url: str | Sequence[str] | None = None,
        *,
        concurrency: int | None = None,
        shutdown_timeout: float | None = None,
        tasks: Sequence[str] | None = None,
        registry: TaskRegistry | None = None,
        worker_name: str | None = None,
        config: Config | None = None,
        hooks: Hooks | None = None,
        install_signal_handlers: bool = True,
        **settings: Any,
    ) -> None:
        overrides = {
            "nats_url": nats_url,
            "concurrency": concurrency,
            "shutdown_timeout": shutdown_timeout,
            "tasks": tuple(tasks) if tasks is not None else None,
            **settings,
        }
        if config is None:
            config = load_config(overrides=overrides)
        else:
            config = attrs.evolve(config, **{k: v for k, v in overrides.items() if v is not None})
        self.config = config
        names = [queues] if isinstance(queues, str) else list(queues or [config.default_queue])
        self.queues = tuple(validate_queue_name(q) for q in names)
        self.hooks = hooks or get_hooks()
        self.registry = (registry or TaskRegistry()).merged(default_registry)
        self.registry.load_modules(config.tasks)
        host = socket.gethostname()
        self.worker_id = f"{worker_name or host}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.hostname = host
        self.install_signal_handlers = install_signal_handlers
        self.status = "starting"
        self.started_at = time.time()
        self._stop = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._conn: Connection | None = None
        self._runner: JobRunner | None = None
        self._heartbeat: Heartbeat | None = None
        self._consumers: dict[str, PullConsumer] = {}
        self._naks: set[asyncio.Task[None]] = set()
        self._teardown = Teardown(self.worker_id)
        self._announced = False  # naq_worker_started was called: naq_worker_stopped is due

    # --- public control --------------------------------------------------------------

    def request_stop(self) -> None:
        """Ask the worker to stop (safe from signal handlers and other threads)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        if threading.current_thread() is threading.main_thread() and _running_loop() is loop:
            self._stop.set()
        else:
            loop.call_soon_threadsafe(self._stop.set)

    def run_sync(self) -> None:
        """Run in a new event loop until stopped (what ``naq worker`` does)."""
        asyncio.run(self.run())

    @property
    def stop_steps(self) -> list[tuple[str, str]]:
        """The steps of the last stop so far, in order, each with how it ended: ``ok``,
        ``timeout`` (cut off by its bound), ``error`` or ``cancelled``."""
        return list(self._teardown.ran)

    @property
    def running_jobs(self) -> list[str]:
        return [job_id for _, job_id in self._runner.running] if self._runner else []

    @property
    def state(self) -> str:
        """``idle`` (no job running), ``busy`` (some running) or ``stopping`` (draining)."""
        if self.status in ("stopping", "stopped"):
            return "stopping"
        return "busy" if self._runner is not None and self._runner.running else "idle"

    @property
    def _executor(self) -> JobRunner | None:
        """The job runner under its former name (tests of plugins reach for its router)."""
        return self._runner

    def snapshot(self) -> dict[str, Any]:
        runner = self._runner
        return {
            "worker_id": self.worker_id,
            "hostname": self.hostname,
            "pid": os.getpid(),
            "queues": list(self.queues),
            "status": self.status,
            "state": self.state,
            "active_jobs": len(runner.running) if runner else 0,
            "concurrency": self.config.concurrency,
            "current_jobs": [job_id for _, job_id in runner.running][:50] if runner else [],
            "processed": runner.processed if runner else 0,
            "failed": runner.failed if runner else 0,
            "history": runner.history.to_dict() if runner else {},
            "started_at": self.started_at,
        }

    # --- start, serve, stop -----------------------------------------------------------

    async def run(self) -> None:
        """Start, serve until asked to stop (signal or :meth:`request_stop`), then stop."""
        self._loop = asyncio.get_running_loop()
        self._stop.clear()
        async with contextlib.AsyncExitStack() as stack:
            policy, heartbeat = await self._start(stack)
            await self._stop.wait()
            self.status = "stopping"
            self._teardown.begin(policy.grace)
            for consumer in self._consumers.values():
                consumer.stop_pulling()
            if self._runner is not None:
                self._runner.release_waiting()  # prefetched jobs go back to the queue now
            held = len(self._runner.held) if self._runner else 0
            get_logger(__name__).info(
                "worker_stopping", worker_id=self.worker_id, running=held, grace=policy.grace
            )
            # `naq workers` shows it draining now
            await self._teardown.run("announce_stopping", lambda: heartbeat.state_changed(force=True))
            # Leaving the block stops the components, newest first (see _start).

    async def _start(self, stack: contextlib.AsyncExitStack) -> tuple[ShutdownPolicy, Heartbeat]:
        """Start every component, each pushing its teardown on ``stack`` as it starts.

        A teardown is pushed before its start when the stop is safe on a half-started
        component, so a start that fails midway is undone too. On a clean stop the
        teardowns run as: stop fetching, drain the running jobs within the grace, stop the
        in-progress sweep, the heartbeat, the cancel subscription, the max-delivery mover,
        the thread pool, the dependency watch, remove the signal handlers, call
        ``naq_worker_stopped``, close the connection.
        """
        log = get_logger(__name__)
        self._consumers = {}
        self._announced = False
        td = self._teardown = Teardown(self.worker_id)
        self._conn = conn = await connect(
            self.config,
            name=f"naq-worker-{self.worker_id}",
            hooks=self.hooks,
            reconnected_cb=self._on_reconnect,
        )
        stack.push_async_exit(td.step("close_connection", lambda *_: close_connection(conn, CLOSE_TIMEOUT)))
        stack.push_async_exit(td.step("worker_stopped", self._stopped))
        self._install_signals(stack)
        warn_if_unsafe(conn, "worker start")
        await conn.ensure_stream()
        sinks = self.hooks.dead_letter_sinks(config=self.config, worker=self)
        if not sinks:
            log.warning(
                "no_dead_letter_sink",
                hint="install naq-dlq-stream: jobs that cannot run are terminated and only logged",
            )
        results = ResultStore(conn)
        await conn.bucket(RESULTS_BUCKET)
        deps = DependencyTracker(conn)
        stack.push_async_exit(td.step("dependency_watch", lambda *_: deps.stop()))
        await deps.start()
        runner = self._runner = JobRunner(
            conn=conn,
            registry=self.registry,
            results=results,
            dead=DeadLetterRouter(sinks, self.worker_id),
            deps=deps,
            worker_id=self.worker_id,
            concurrency=self.config.concurrency,
        )
        stack.callback(runner.shutdown)
        mover = MaxDeliveryMover(conn, runner.dead, deps=deps)
        stack.push_async_exit(td.step("max_delivery_mover", functools.partial(stop_mover, mover)))
        await mover.start()
        await self._subscribe_cancels(conn, stack, td)
        policy = self.hooks.shutdown_policy(worker=self, config=self.config)
        heartbeat = self._heartbeat = Heartbeat(
            conn, self.worker_id, self.config.heartbeat_interval, self.snapshot, state=lambda: self.state
        )
        for queue in self.queues:
            durable = await conn.ensure_consumer(queue)
            self._consumers[queue] = PullConsumer(
                conn.nc,
                JOBS_STREAM,
                durable,
                capacity=runner.capacity,
                deliver=functools.partial(self._dispatch, queue=queue),
            )
        self.status = "running"
        stack.push_async_exit(td.step("heartbeat", lambda *_: heartbeat.stop()))
        await heartbeat.start()
        self._announced = True
        await self.hooks.worker_started(worker=self)
        progress = asyncio.create_task(progress_loop(runner, heartbeat), name="naq-in-progress")
        stack.push_async_exit(td.step("in_progress_sweep", lambda *_: cancel_task(progress)))
        drain_bound = math.inf if policy.grace is None else policy.grace + CANCEL_TIMEOUT + 1
        stack.push_async_exit(
            td.step("running_jobs", functools.partial(self._drain, policy.grace), drain_bound)
        )
        for queue, consumer in self._consumers.items():
            stack.push_async_exit(td.step(f"pull_consumer:{queue}", lambda *_, c=consumer: c.stop()))
            await consumer.start()
        if not self.registry.names():
            log.warning(
                "no_tasks_registered",
                worker_id=self.worker_id,
                hint="this worker can run no job: name your tasks' module with "
                "`naq worker QUEUE -t myapp.tasks` (or the config's tasks)",
            )
        log.info(
            "worker_started",
            worker_id=self.worker_id,
            queues=list(self.queues),
            concurrency=self.config.concurrency,
            tasks=len(self.registry.names()),
            serializer=conn.serializer.name,
        )
        return policy, heartbeat

    async def _subscribe_cancels(
        self, conn: Connection, stack: contextlib.AsyncExitStack, td: Teardown
    ) -> None:
        """``naq job cancel`` requests, answered by :meth:`_on_cancel`."""
        sub = await conn.nc.subscribe(f"{CANCEL_SUBJECT}.*", cb=self._on_cancel)
        stack.push_async_exit(td.step("cancel_subscription", lambda *_: unsubscribe(sub)))

    async def _stopped(self, *exc_info: Any) -> bool:
        """Teardown: ``naq_worker_stopped`` for a worker that announced its start."""
        self.status = "stopped"
        if not self._announced:
            return False
        self._announced = False
        await self.hooks.worker_stopped(worker=self)
        runner = self._runner
        get_logger(__name__).info(
            "worker_stopped",
            worker_id=self.worker_id,
            processed=runner.processed if runner else 0,
            failed=runner.failed if runner else 0,
        )
        return False

    def _dispatch(self, msg: Msg, *, queue: str) -> None:
        runner = self._runner
        consumer = self._consumers[queue]
        if runner is None or self._stop.is_set():  # stopping: hand it back at once
            nak = asyncio.get_running_loop().create_task(_nak(msg, consumer.done))
            self._naks.add(nak)  # kept (and awaited by the stop), not left to the collector
            nak.add_done_callback(self._naks.discard)
            return
        runner.dispatch(msg, queue, consumer.done)

    async def _drain(self, grace: float | None, *exc_info: Any) -> bool:
        """Teardown of the running jobs. After a stop request they get up to ``grace``
        seconds, then are cancelled (they NAK themselves); after a failure or a
        cancellation they are cancelled at once. Messages waiting for a slot are NAKed."""
        if self._naks:  # messages that arrived after the stop request: their NAKs
            await asyncio.wait(set(self._naks), timeout=CANCEL_TIMEOUT)
        runner = self._runner
        if runner is None:
            return False
        runner.stopping = True  # prefetched jobs are NAKed, not started
        tasks = [r.task for r in runner.held if r.task is not None]
        if exc_info[0] is not None:
            await runner.cancel_all(CANCEL_TIMEOUT)
            return False
        if not tasks:
            return False
        _, pending = await asyncio.wait(tasks, timeout=grace)
        if pending:
            get_logger(__name__).warning("shutdown_grace_expired", cancelled=len(pending))
            await runner.cancel_all(CANCEL_TIMEOUT)
        return False

    async def _on_cancel(self, msg: Msg) -> None:
        """``naq job cancel``: answer only for jobs running here (others stay silent)."""
        if self._runner is None:
            return
        queue = msg.data.decode(errors="replace") or None  # the job's queue, if the caller named it
        answer = self._runner.request_cancel(msg.subject.rpartition(".")[2], queue)
        if answer != "unknown" and msg.reply:
            await msg.respond(answer.encode())

    async def _on_reconnect(self) -> None:
        runner = self._runner
        acked_again = 0
        if runner is not None:  # acks written to the broken connection may be lost
            try:
                acked_again = await runner.acks.again(runner.conn.nc)
            except Exception as exc:  # broken again: those jobs come back after ack_wait
                get_logger(__name__).warning("ack_again_failed", error=str(exc))
        get_logger(__name__).info("worker_reconnected", worker_id=self.worker_id, acked_again=acked_again)
        for consumer in self._consumers.values():
            consumer.reset()

    def _install_signals(self, stack: contextlib.AsyncExitStack) -> None:
        """SIGTERM/SIGINT stop the worker (removed again by ``stack``)."""
        if not self.install_signal_handlers or threading.current_thread() is not threading.main_thread():
            return
        install_stop_signals(stack, self._on_signal)

    def _on_signal(self, sig: int) -> None:
        get_logger(__name__).info("signal_received", signal=signal.Signals(sig).name)
        self._stop.set()


async def _nak(msg: Msg, done: Callable[[], None]) -> None:
    """NAK a message a stopping worker will not run, then give its pull credit back."""
    try:
        await msg.nak()
    except nats.errors.Error as exc:
        get_logger(__name__).warning("nak_failed", subject=msg.subject, error=str(exc))
    finally:
        done()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
