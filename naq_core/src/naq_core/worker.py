"""``Worker``: fetch jobs from one or more queues and run them until told to stop."""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any

import attrs
import nats.errors
from nats.aio.msg import Msg

from naq_core._advisories import MaxDeliveryMover
from naq_core._conn import JOBS_STREAM, RESULTS_BUCKET, Connection, connect
from naq_core._consumer import PullConsumer
from naq_core._dead import DeadLetterRouter
from naq_core._deps import DependencyTracker
from naq_core._execute import Executor
from naq_core._log import get_logger
from naq_core.config import Config, load_config, validate_queue_name
from naq_core.heartbeat import Heartbeat
from naq_core.jobcontrol import CANCEL_SUBJECT
from naq_core.plugins import Hooks, get_hooks
from naq_core.queue import warn_if_unsafe
from naq_core.registry import TaskRegistry, default_registry
from naq_core.results import ResultStore

__all__ = ["Worker"]


class Worker:
    """Runs registered tasks from ``queues`` with bounded concurrency.

    Async functions run on the event loop, sync functions in a thread pool of
    ``concurrency`` threads. While a job runs the worker tells JetStream it is in progress
    every ``ack_wait / 3`` seconds, so no other worker gets it. SIGTERM/SIGINT stop
    fetching; running jobs get the shutdown policy's grace (``shutdown_timeout``), then are
    cancelled and NAKed for immediate redelivery.
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
        self._executor: Executor | None = None
        self._mover: MaxDeliveryMover | None = None
        self._heartbeat: Heartbeat | None = None
        self._consumers: dict[str, PullConsumer] = {}
        self._tasks: dict[int, tuple[Msg, asyncio.Task[None], float]] = {}  # id(msg) ->

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
    def running_jobs(self) -> list[str]:
        return list(self._executor.current) if self._executor else []

    @property
    def state(self) -> str:
        """``idle`` (no job running), ``busy`` (some running) or ``stopping`` (draining)."""
        if self.status in ("stopping", "stopped"):
            return "stopping"
        return "busy" if self._executor is not None and self._executor.current else "idle"

    def snapshot(self) -> dict[str, Any]:
        ex = self._executor
        return {
            "worker_id": self.worker_id,
            "hostname": self.hostname,
            "pid": os.getpid(),
            "queues": list(self.queues),
            "status": self.status,
            "state": self.state,
            "active_jobs": len(ex.current) if ex else 0,
            "concurrency": self.config.concurrency,
            "current_jobs": list(ex.current)[:50] if ex else [],
            "processed": ex.processed if ex else 0,
            "failed": ex.failed if ex else 0,
            "started_at": self.started_at,
        }

    # --- the run loop -----------------------------------------------------------------

    async def run(self) -> None:
        log = get_logger(__name__)
        self._loop = asyncio.get_running_loop()
        self._stop.clear()
        self._conn = conn = await connect(
            self.config,
            name=f"naq-worker-{self.worker_id}",
            hooks=self.hooks,
            reconnected_cb=self._on_reconnect,
        )
        try:
            warn_if_unsafe(conn, "worker start")
            await conn.ensure_stream()
            sinks = self.hooks.dead_letter_sinks()
            if not sinks:
                log.warning(
                    "no_dead_letter_sink",
                    hint="install naq-dlq-stream: jobs that cannot run are terminated and only logged",
                )
            results = ResultStore(conn)
            await conn.bucket(RESULTS_BUCKET)
            deps = DependencyTracker(conn)
            await deps.start()
            self._executor = Executor(
                conn=conn,
                registry=self.registry,
                results=results,
                dead=DeadLetterRouter(sinks, self.worker_id),
                deps=deps,
                worker_id=self.worker_id,
                concurrency=self.config.concurrency,
            )
            mover = self._mover = MaxDeliveryMover(conn, self._executor.dead, deps=deps)
            await mover.start()
            cancels = await conn.nc.subscribe(f"{CANCEL_SUBJECT}.*", cb=self._on_cancel)
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
                    capacity=self._executor.capacity,
                    deliver=functools.partial(self._dispatch, queue=queue),
                )
            self.status = "running"
            await heartbeat.start()
            await self.hooks.worker_started(worker=self)
            for consumer in self._consumers.values():
                await consumer.start()
            signals = self._install_signals()
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
            progress = asyncio.create_task(self._progress_loop(), name="naq-in-progress")
            await self._stop.wait()
            self.status = "stopping"
            log.info(
                "worker_stopping", worker_id=self.worker_id, running=len(self._tasks), grace=policy.grace
            )
            await heartbeat.state_changed(force=True)  # `naq workers` shows it draining now
            for consumer in self._consumers.values():
                await consumer.stop()
            self._executor.stopping = True  # prefetched jobs are NAKed, not started
            await self._drain(policy.grace)
            await mover.stop()
            progress.cancel()
            await asyncio.gather(progress, return_exceptions=True)
            await cancels.unsubscribe()
            await deps.stop()
            await heartbeat.stop()
            self._remove_signals(signals)
            self.status = "stopped"
            await self.hooks.worker_stopped(worker=self)
            log.info(
                "worker_stopped",
                worker_id=self.worker_id,
                processed=self._executor.processed,
                failed=self._executor.failed,
            )
        finally:
            if self._mover is not None:  # stopped above, unless run() failed or was cancelled
                await self._mover.stop(timeout=2)
            if self._executor is not None:
                self._executor.shutdown()
            await conn.close()

    def _dispatch(self, msg: Msg, *, queue: str) -> None:
        executor = self._executor
        consumer = self._consumers[queue]
        if executor is None or self._stop.is_set():
            asyncio.get_running_loop().create_task(msg.nak())
            consumer.done()
            return

        def release() -> None:
            self._tasks.pop(id(msg), None)
            consumer.done()

        task = asyncio.get_running_loop().create_task(executor.handle(msg, queue, release))
        self._tasks[id(msg)] = (msg, task, time.monotonic())

    async def _drain(self, grace: float | None) -> None:
        """Wait up to ``grace`` for running jobs, then cancel them (they NAK themselves)."""
        tasks = [task for _, task, _ in self._tasks.values()]
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=grace)
        if pending:
            get_logger(__name__).warning("shutdown_grace_expired", cancelled=len(pending))
            for task in pending:
                task.cancel()
            await asyncio.wait(pending, timeout=5)

    async def _progress_loop(self) -> None:
        """Mark lasting jobs "running" (every 0.1 s) and tell JetStream that held messages
        are still being worked on (every ack_wait / 3): per sweep, never per job."""
        interval = max(0.5, self.config.ack_wait / 3)
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.1)
            if self._executor is not None:
                await self._executor.mark_running()
            if self._heartbeat is not None:
                await self._heartbeat.state_changed()  # idle <-> busy, at most once a second
            now = time.monotonic()
            if now - last < interval:
                continue
            last = now
            for msg, _, since in list(self._tasks.values()):
                if now - since >= interval and not msg._ackd:
                    try:
                        await msg.in_progress()
                    except nats.errors.Error:
                        pass

    async def _on_cancel(self, msg: Msg) -> None:
        """``naq job cancel``: answer only for jobs running here (others stay silent)."""
        if self._executor is None:
            return
        answer = self._executor.request_cancel(msg.subject.rpartition(".")[2])
        if answer != "unknown" and msg.reply:
            await msg.respond(answer.encode())

    async def _on_reconnect(self) -> None:
        get_logger(__name__).info("worker_reconnected", worker_id=self.worker_id)
        for consumer in self._consumers.values():
            consumer.reset()

    def _install_signals(self) -> list[signal.Signals]:
        if not self.install_signal_handlers or threading.current_thread() is not threading.main_thread():
            return []
        loop = asyncio.get_running_loop()
        installed: list[signal.Signals] = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, self._on_signal, sig)
                installed.append(sig)
            except (NotImplementedError, RuntimeError):
                pass
        return installed

    def _on_signal(self, sig: int) -> None:
        get_logger(__name__).info("signal_received", signal=signal.Signals(sig).name)
        self._stop.set()

    def _remove_signals(self, signals: list[signal.Signals]) -> None:
        loop = asyncio.get_running_loop()
        for sig in signals:
            loop.remove_signal_handler(sig)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
